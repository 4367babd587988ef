"""Read an ediscovery backup zip with Python's zipfile and csv only: every CSV's header and rows,
cells unguarded (one leading ' stripped), as JSON {"files": {name: {"header": [...], "rows": [...]}}}.
Usage: read_backup.py FILE.zip"""
import csv, io, json, sys, zipfile

out = {}
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None, "a member fails its CRC"
    for info in z.infolist():
        text = z.read(info).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        header, body = rows[0], rows[1:]
        assert all(len(r) == len(header) for r in body), info.filename
        out[info.filename] = {
            "header": header,
            "raw": body,
            "rows": [[c[1:] if c.startswith("'") else c for c in r] for r in body],
        }
json.dump({"files": out}, sys.stdout)
