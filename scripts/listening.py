#!/usr/bin/env python3
"""The TCP sockets listening in the process trees of the given PIDs, and a check that none
listens on every interface (issue 14: "everything binds to 127.0.0.1 in tests").

    listening.py [--allow NAME=WHY ...] PID...

Reads /proc (Linux) only: /proc/net/tcp and tcp6 for listening sockets (state 0A) and their
inodes, /proc/PID/fd for which process holds each inode, /proc/PID/stat for the process tree.
Prints each socket beyond loopback (address, port, PID, command), then one line a process with
its loopback sockets. Exit 0 when every socket is on a
loopback address (127.0.0.0/8, ::1, or ::ffff:127.x.y.z), 1 when one listens anywhere else
(0.0.0.0, ::, or an interface's address: named, with its process) unless its command matches
an --allow NAME (a substring of the command line), whose reason is printed.
"""

import ipaddress
import os
import sys


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command may hold spaces and parentheses: the fields follow the last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    kids, seen, todo = children_map(), set(), list(roots)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(kids.get(p, []))
    return seen


def listening():
    """(inode, address, port) of every listening TCP socket."""
    out = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] != "0A":  # TCP_LISTEN
                continue
            hexaddr, hexport = f[1].split(":")
            raw = bytes.fromhex(hexaddr)
            # /proc prints the address as 32-bit words in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            addr = ipaddress.ip_address(raw)
            out.append((int(f[9]), addr, int(hexport, 16)))
    return out


def owners(pids):
    """inode -> pid for the sockets the processes hold."""
    own = {}
    for p in pids:
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{p}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                own.setdefault(int(link[8:-1]), p)
    return own


def command(p):
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def short(cmd, n=110):
    """The command line, cut to n characters, the program's folder left out."""
    first, _, rest = cmd.partition(" ")
    cmd = (os.path.basename(first) + " " + rest).strip()
    return cmd if len(cmd) <= n else cmd[:n - 3] + "..."


def main(argv):
    allow = {}
    args = list(argv)
    while args and args[0] == "--allow":
        name, _, why = args[1].partition("=")
        allow[name] = why
        args = args[2:]
    roots = [int(a) for a in args]
    own = owners(tree(roots))
    bad = 0
    ok = {}  # pid -> [(address, port)] on loopback, printed one line a process
    for inode, addr, port in sorted(listening(), key=lambda s: s[2]):
        if inode not in own:
            continue
        p = own[inode]
        mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
        if addr.is_loopback or (mapped is not None and mapped.is_loopback):
            ok.setdefault(p, []).append(f"{mapped or addr}:{port}")
            continue
        cmd = command(p)
        why = next((w for n, w in allow.items() if n in cmd), None)
        if why is None:
            verdict = "NOT LOOPBACK"
            bad += 1
        else:
            verdict = f"NOT LOOPBACK (allowed: {why})"
        print(f"  {verdict}: {addr} port {port}, pid {p}: {short(cmd)}")
    for p, socks in sorted(ok.items()):
        print(f"  loopback only: pid {p} {short(command(p), 60)}: {' '.join(socks)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
