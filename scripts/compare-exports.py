#!/usr/bin/env python3
"""Compare two export folders of the same request, from the export's definition (Python stdlib
only, nothing of ours): the same file names; every file byte for byte (hashlib MD5) except the
summary, which must be equal as JSON once the fields describing the run (seconds, threads) are
dropped, and the checksum file, whose lines must be equal except the summary's; `md5sum -c`
passes in the second folder; every zip of the second tests clean (zipfile) and its mbox entries
parse (mailbox). Prints the number of messages read (with --count files, the number of files
instead); exits non-zero on any difference.

    compare-exports.py [--count messages|files] ONE OTHER NAME
"""

import hashlib
import json
import mailbox
import os
import subprocess
import sys
import tempfile
import zipfile


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(one, other, name, count="messages"):
    a, b = sorted(os.listdir(one)), sorted(os.listdir(other))
    if a != b:
        sys.exit(f"file sets differ: {a} vs {b}")
    summary, checksums = f"{name}-summary.json", f"{name}-checksums.md5"
    for f in a:
        if f not in (summary, checksums) and md5(os.path.join(one, f)) != md5(os.path.join(other, f)):
            sys.exit(f"{f} differs")
    s1, s2 = (json.load(open(os.path.join(d, summary))) for d in (one, other))
    for s in (s1, s2):
        for k in ("seconds", "threads"):
            s.pop(k, None)
    if s1 != s2:
        sys.exit("summaries differ beyond timings")

    def sums(d):
        with open(os.path.join(d, checksums)) as f:
            return [l for l in f if not l.rstrip().endswith(summary)]

    if sums(one) != sums(other):
        sys.exit("checksum files differ beyond the summary's line")
    if subprocess.run(["md5sum", "-c", "--quiet", checksums], cwd=other).returncode != 0:
        sys.exit("md5sum -c failed")
    messages = 0
    with tempfile.TemporaryDirectory() as t:
        for f in b:
            if not f.endswith(".zip"):
                continue
            with zipfile.ZipFile(os.path.join(other, f)) as z:
                if z.testzip() is not None:
                    sys.exit(f"{f}: a damaged entry")
                for e in z.namelist():
                    p = os.path.join(t, "m.mbox")
                    with z.open(e) as src, open(p, "wb") as dst:
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
                    messages += len(mailbox.mbox(p).keys())
    print(len(b) if count == "files" else messages)


if __name__ == "__main__":
    args = sys.argv[1:]
    count = "messages"
    if args[:1] == ["--count"] and len(args) >= 2 and args[1] in ("messages", "files"):
        count, args = args[1], args[2:]
    if len(args) != 3:
        sys.exit(__doc__)
    main(*args, count=count)
