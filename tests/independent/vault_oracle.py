#!/usr/bin/env python3
"""An independent answer to Vault queries over the SpamAssassin corpus, with Python's `email`
package only (no code shared with the Rust crate).

usage: vault_oracle.py CORPUS_DIR  < queries.txt  > answers.json

Reads one query per line (the subset of operators below), prints {query: [keys]} where a key is
"account#mbox_index" from manifest.tsv. Messages are read from their Maildir files, which hold the
exact message bytes.

Operators: from: to: cc: subject: (word or "phrase"), rfc822msgid:, has:attachment,
filename:EXT, after:/before: (YYYY/MM/DD, UTC), larger:/smaller: (bytes), list:, deliveredto:.
Word matching: split on anything not alphanumeric, lower case, consecutive words (as the index).
"""
import email
import email.policy
import email.utils
import json
import re
import sys
import datetime

WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(s):
    return [w.lower() for w in WORD.findall(s or "")]


def contains(hay, needle):
    h, n = words(hay), words(needle)
    return bool(n) and any(h[i:i + len(n)] == n for i in range(len(h) - len(n) + 1))


def load(corpus):
    rows = []
    with open(f"{corpus}/manifest.tsv") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            raw = open(f"{corpus}/{r['maildir_path']}", "rb").read()
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            rows.append((f"{r['account']}#{r['mbox_index']}", int(r["msg_size"]), msg))
    return rows


def decoded(msg, name):
    out = []
    for v in msg.get_all(name) or []:
        try:
            out.append(str(email.header.make_header(email.header.decode_header(str(v)))))
        except Exception:
            out.append(str(v))
    return " ".join(out)


def addresses(msg, names):
    text = []
    for n in names:
        for name, addr in email.utils.getaddresses([decoded(msg, n)]):
            text.append(f"{addr} {name}")
    return " ; ".join(text)


def date_of(msg):
    try:
        d = email.utils.parsedate_to_datetime(str(msg.get("Date", "")))
        if d.tzinfo is None:
            d = d.replace(tzinfo=datetime.timezone.utc)
        return d.timestamp()
    except Exception:
        return None


def attachments(msg):
    names = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disp = (part.get("Content-Disposition") or "").lower()
        if disp.startswith("attachment") or part.get_filename():
            names.append(part.get_filename() or "")
    return names


def day(v):
    y, m, d = (int(x) for x in re.split("[/-]", v))
    return datetime.datetime(y, m, d, tzinfo=datetime.timezone.utc).timestamp()


def matches(q, size, msg):
    op, _, v = q.partition(":")
    v = v.strip('"')
    if op == "from":
        return contains(addresses(msg, ["From"]), v) or any(a.lower() == v.lower() for _, a in email.utils.getaddresses([decoded(msg, "From")]))
    if op == "to":
        return contains(addresses(msg, ["To", "Cc", "Bcc"]), v)
    if op == "cc":
        return contains(addresses(msg, ["Cc"]), v)
    if op == "subject":
        return contains(decoded(msg, "Subject"), v)
    if op == "rfc822msgid":
        mid = str(msg.get("Message-ID", "")).strip().strip("<>").strip()
        return mid.lower() == v.strip("<>").lower()
    if op == "has":
        return bool(attachments(msg))
    if op == "filename":
        return any(n.lower().endswith("." + v.lower()) for n in attachments(msg))
    if op in ("after", "before"):
        t = date_of(msg)
        return t is not None and (t >= day(v) if op == "after" else t < day(v))
    if op == "larger":
        return size > int(v)
    if op == "smaller":
        return size < int(v)
    if op == "list":
        lid = str(msg.get("List-Id", ""))
        m = re.search(r"<([^>]*)>", lid)
        return (m.group(1) if m else lid).strip().lower() == v.lower().replace("@", ".")
    if op == "deliveredto":
        return any(str(x).strip().lower() == v.lower() for x in msg.get_all("Delivered-To") or [])
    raise SystemExit(f"oracle does not know {q}")


def main():
    rows = load(sys.argv[1])
    out = {}
    for q in (l.strip() for l in sys.stdin):
        if q:
            out[q] = sorted(k for k, size, msg in rows if matches(q, size, msg))
    json.dump(out, sys.stdout, indent=0)


if __name__ == "__main__":
    main()
