"""Recompute an ediscovery audit log's hash chain with nothing but the standard library.

Each line is a JSON object; its "prev" must be the SHA-256 (hex) of the previous line's bytes
(64 zeros for the first), its "seq" its position from 0; the last line must end with a newline.
Prints {"ok", "entries", "head", "problems"} as JSON: "head" is the SHA-256 of the last complete
line, the number `ediscovery audit verify` prints.
"""

import hashlib
import json
import sys


def check(data):
    problems = []
    prev = "0" * 64
    lines = data.split(b"\n")
    if lines[-1] != b"":
        problems.append("line %d: torn (no newline)" % len(lines))
    entries = 0
    for i, line in enumerate(lines[:-1]):
        try:
            e = json.loads(line)
            if e.get("prev") != prev:
                problems.append("line %d: prev does not chain" % (i + 1))
            if e.get("seq") != i:
                problems.append("line %d: seq %r" % (i + 1, e.get("seq")))
            for key in ("time", "actor", "action", "matter", "parameters", "outcome"):
                if key not in e:
                    problems.append("line %d: no %s" % (i + 1, key))
        except ValueError as err:
            problems.append("line %d: not JSON: %s" % (i + 1, err))
        prev = hashlib.sha256(line).hexdigest()
        entries += 1
    return {"ok": not problems, "entries": entries, "head": prev, "problems": problems}


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        print(json.dumps(check(f.read())))
