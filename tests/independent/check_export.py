#!/usr/bin/env python3
"""Check an ediscovery export folder with Python's own readers only: zipfile, mailbox, csv,
xml.etree, hashlib, and coreutils md5sum.

usage: check_export.py EXPORT_DIR NAME  > report.json

Prints {"messages": {DocID: md5-of-exported-bytes}, "docs": n, "csv_rows": n, "zips": [...],
"problems": [...]}. An mbox message is linked to its metadata Document through the FileName on its
From_ line (`From <FileName>@xxx …`), as review tools do. mboxrd quoting is undone here (Python's mailbox reads mboxo and leaves '>From'
as is) and the line feed an mbox writer adds to a message without one is dropped when the
metadata says the original was one byte shorter.
"""
import csv
import hashlib
import json
import mailbox
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

QUOTE = re.compile(rb"^>(>*From )", re.M)


def main():
    d, name = sys.argv[1], sys.argv[2]
    problems = []
    out = {"messages": {}, "zips": [], "problems": problems}
    files = sorted(os.listdir(d))
    for f in files:
        if not f.startswith(name + "-"):
            problems.append(f"unexpected file {f}")
    r = subprocess.run(["md5sum", "--quiet", "-c", f"{name}-checksums.md5"], cwd=d, capture_output=True, text=True)
    if r.returncode != 0:
        problems.append("md5sum -c failed: " + r.stdout + r.stderr)
    listed = [l.split("  ", 1)[1] for l in open(os.path.join(d, f"{name}-checksums.md5")).read().splitlines()]
    if sorted(listed) != listed or set(listed) != set(files) - {f"{name}-checksums.md5"}:
        problems.append("checksum file does not list every other file, sorted")

    root = ET.parse(os.path.join(d, f"{name}-metadata.xml")).getroot()
    docs = {}
    for doc in root.iter("Document"):
        ext = doc.find("Files/File/ExternalFile")
        tags = {t.get("TagName"): t.get("TagValue") for t in doc.find("Tags")}
        docs[doc.get("DocID")] = (int(ext.get("FileSize")), ext.get("Hash"), ext.get("FileName"), tags)
    by_fname = {v[2]: k for k, v in docs.items()}
    if len(by_fname) != len(docs):
        problems.append("two Documents share a FileName")
    summary = json.load(open(os.path.join(d, f"{name}-summary.json")))
    guarded = summary["request"]["ediscovery"].get("csvFormulaGuard", True)
    batch = {t.get("TagName"): t.get("TagValue") for t in root.find("Batch/Tags")}
    out["batch_tags"] = batch
    out["docs"] = len(docs)
    out["doc_tags"] = {k: v[3] for k, v in docs.items()}

    with tempfile.TemporaryDirectory() as tmp:
        for z in [f for f in files if f.endswith(".zip")]:
            with zipfile.ZipFile(os.path.join(d, z)) as zf:
                bad = zf.testzip()
                if bad:
                    problems.append(f"{z}: CRC error in {bad}")
                names = zf.namelist()
                out["zips"].append({"zip": z, "entries": names})
                for n in names:
                    if "/" in n or "\\" in n or n.startswith(".") or ".." in n:
                        problems.append(f"{z}: unsafe entry name {n!r}")
                    path = os.path.join(tmp, z + "." + str(len(out["zips"])))
                    with open(path, "wb") as fh:
                        fh.write(zf.read(n))
                    mb = mailbox.mbox(path, create=False)
                    for key in mb.keys():
                        from_line = mb.get_message(key).get_from()
                        fname = from_line.split("@", 1)[0]
                        # mailbox already leaves out the From_ line and the blank separator line.
                        raw = QUOTE.sub(rb"\1", mb.get_bytes(key, from_=False))
                        if fname not in by_fname:
                            problems.append(f"{z}: message {fname} has no metadata document")
                            continue
                        doc_id = by_fname[fname]
                        size, md5, fname, _ = docs[doc_id]
                        if len(raw) == size + 1 and raw.endswith(b"\n"):
                            raw = raw[:-1]
                        got = hashlib.md5(raw).hexdigest()
                        if got != md5 or len(raw) != size:
                            problems.append(f"{z}: message {doc_id} bytes do not match Hash/FileSize")
                        if doc_id in out["messages"]:
                            problems.append(f"{doc_id} appears twice")
                        out["messages"][doc_id] = got
                    mb.close()
    if set(out["messages"]) != set(docs):
        problems.append("mbox messages and metadata documents differ")

    csv_path = os.path.join(d, f"{name}-metadata.csv")
    if os.path.exists(csv_path):
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        out["csv_rows"] = len(rows)
        out["csv_header"] = list(rows[0].keys()) if rows else []
        for row in rows:
            for k, v in row.items():
                if guarded and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    problems.append(f"csv cell {k}={v!r} would run as a formula")
            doc = docs.get(row["DocID"])
            if not doc or str(doc[0]) != row["FileSize"] or doc[1] != row["Hash"] or doc[2] != row["FileName"]:
                problems.append(f"csv row {row['DocID']} does not match the XML")
        if len(rows) != len(docs):
            problems.append("csv rows and XML documents differ in number")
    with open(os.path.join(d, f"{name}-results-count.csv"), newline="") as fh:
        out["results_count"] = {r["Account"]: int(r["Count"]) for r in csv.DictReader(fh)}
    err = os.path.join(d, f"{name}-error.csv")
    if os.path.exists(err):
        with open(err, newline="", encoding="utf-8") as fh:
            out["errors"] = list(csv.DictReader(fh))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
