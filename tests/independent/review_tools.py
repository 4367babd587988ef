#!/usr/bin/env python3
"""Read an ediscovery export the way open-source tools written against REAL Google Vault exports
read it, applying their rules exactly (written from those tools, not from our writer):

- Nuix "Associate Google Vault Data" (Ruby): links an mbox message to its metadata through the
  mbox From_ line, matched per line with
  ^From ([0-9]+-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\\.mbox).*$
  against ExternalFile/@FileName; parses every TagDataType='DateTime' value with the Joda pattern
  yyyy-MM-dd'T'HH:mm:ss.SSSZ (an empty value aborts its whole run).
- got-your-back (gyb.py restore-mbox with --vault metadata): reads mbox files with its own fmbox
  reader (a message starts at every line beginning with b'From '); with metadata.xml present it
  maps ExternalFile/@FileName -> Labels and finds a message's labels through
  get_from().split('@')[0]; with only the CSV it maps Rfc822MessageId -> Labels and keys a
  message by its Message-ID header value [1:-2] (which assumes CRLF: strips '<' and '>\\r').
  Labels are split with re.split("(,|\\".*?\\"|'.*?')", s), each piece stripped of white space
  and '"', empty pieces and bare commas dropped.
- Cortex XSOAR GoogleVault: needs exactly one File/ExternalFile and at least two Tags per
  Document, and takes the document type from the FileName's extension.

usage: review_tools.py EXPORT_DIR NAME EXPECTED.json > report.json
EXPECTED.json: {"labels": {DocID: [label, ...]}, "crlf": bool}
Prints {"documents": n, "nuix_linked": n, "datetimes": n, "gyb_xml_labels_ok": n,
"gyb_csv_labels_ok": n, "gyb_csv_header_unusable": n, "problems": [...]}.
"""
import csv
import datetime
import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile

NUIX_FROM = re.compile(
    rb"^From ([0-9]+-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\.mbox).*$", re.M
)
JODA = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{4})$")
GYB_SPLIT = re.compile("(,|\\\".*?\\\"|'.*?')")


def gyb_labels(labels_str):
    import string

    return [p.strip(string.whitespace + '"') for p in GYB_SPLIT.split(labels_str) if p and p.strip(",")]


def fmbox_messages(data):
    """got-your-back's fmbox: (from_line_without_'From ', message bytes) for each message."""
    lines = data.splitlines(keepends=True)
    out = []
    if not lines:
        return out
    last_from = lines[0].replace(b"\n", b"")
    body = bytearray()
    for line in lines[1:]:
        if line.startswith(b"From "):
            out.append((last_from[5:].decode(), bytes(body)))
            last_from = line.replace(b"\n", b"")
            body = bytearray()
        else:
            body.extend(line)
    out.append((last_from[5:].decode(), bytes(body)))
    return out


def fmsg_get_header(msg_bytes, header):
    """fmbox.fmsg.get_header(header, case_insensitive=True), as written."""
    header = header.lower()
    value = b""
    folded = False
    for line in msg_bytes.split(b"\n"):
        search = line.lower()
        if folded:
            if line.startswith(b" ") or line.startswith(b"\t"):
                value += line.lstrip()
            else:
                return value.decode(errors="replace")
        elif search.startswith(header + b": "):
            value = line[len(header) + 2 :]
            folded = True
    return value.decode(errors="replace")


def main():
    d, name, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
    expected = json.load(open(expected_path))
    want_labels = expected["labels"]
    problems = []
    rep = {"problems": problems}

    # XSOAR and Nuix: the XML.
    root = ET.parse(os.path.join(d, f"{name}-metadata.xml")).getroot()
    by_fname = {}
    datetimes = 0
    xml_labels = {}
    for doc in root.iter("Document"):
        doc_id = doc.get("DocID")
        files = doc.findall("Files/File")
        exts = doc.findall("Files/File/ExternalFile")
        tags = doc.findall("Tags/Tag")
        if len(files) != 1 or len(exts) != 1 or len(tags) < 2:
            problems.append(f"xsoar: Document {doc_id} has {len(files)} File, {len(exts)} ExternalFile, {len(tags)} Tags")
            continue
        fname = exts[0].get("FileName")
        if os.path.splitext(fname)[1] != ".mbox":
            problems.append(f"xsoar: {fname} has no .mbox extension")
        by_fname[fname] = doc_id
        for t in tags:
            if t.get("TagDataType") == "DateTime":
                v = t.get("TagValue")
                if not v:
                    problems.append(f"nuix: Document {doc_id} {t.get('TagName')} is empty (aborts the run)")
                    continue
                if not JODA.match(v):
                    problems.append(f"nuix: {t.get('TagName')}={v!r} does not parse as yyyy-MM-dd'T'HH:mm:ss.SSSZ")
                    continue
                datetime.datetime.strptime(v.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
                datetimes += 1
            if t.get("TagName") == "Labels" and t.get("TagValue"):
                xml_labels[fname] = t.get("TagValue")
    rep["documents"] = len(by_fname)
    rep["datetimes"] = datetimes

    # GYB's CSV map (used when no XML is present).
    csv_labels = {}
    csv_path = os.path.join(d, f"{name}-metadata.csv")
    if os.path.exists(csv_path):
        with open(csv_path, "r", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("Rfc822MessageId"):
                    csv_labels[row["Rfc822MessageId"]] = row.get("Labels", "")

    linked = set()
    xml_ok = csv_ok = csv_unusable = 0
    unusable_ids = []
    for z in sorted(f for f in os.listdir(d) if f.endswith(".zip")):
        with zipfile.ZipFile(os.path.join(d, z)) as zf:
            for n in zf.namelist():
                data = zf.read(n)
                # Nuix: every line that matches links a message.
                for m in NUIX_FROM.finditer(data):
                    fname = m.group(1).decode()
                    if fname not in by_fname:
                        problems.append(f"nuix: {z}/{n}: From_ line names {fname}, which no Document has")
                    elif fname in linked:
                        problems.append(f"nuix: {fname} linked twice")
                    linked.add(fname)
                for from_line, msg in fmbox_messages(data):
                    fname = from_line.split("@")[0]
                    doc_id = by_fname.get(fname)
                    if doc_id is None:
                        problems.append(f"gyb: {z}/{n}: message {fname!r} has no Document")
                        continue
                    want = sorted(want_labels.get(doc_id, []))
                    got = sorted(gyb_labels(xml_labels.get(fname, "")))
                    if got == want:
                        xml_ok += 1
                    else:
                        problems.append(f"gyb (xml): {doc_id}: labels {got} != {want}")
                    if expected.get("crlf"):
                        if re.search(rb"(?<!\r)\n", msg[:-1] if msg.endswith(b"\n\n") else msg):
                            problems.append(f"{doc_id}: a bare LF in a crlf export")
                        key = fmsg_get_header(msg, b"message-id")[1:-2]
                        if key not in csv_labels:
                            csv_unusable += 1
                            unusable_ids.append(doc_id)
                            continue
                        got = sorted(gyb_labels(csv_labels[key]))
                        if got == want:
                            csv_ok += 1
                        else:
                            problems.append(f"gyb (csv): {doc_id}: labels {got} != {want}")
    missing = set(by_fname) - linked
    for f in sorted(missing)[:20]:
        problems.append(f"nuix: Document with FileName {f} is linked to no mbox message")
    rep["nuix_linked"] = len(linked & set(by_fname))
    rep["gyb_xml_labels_ok"] = xml_ok
    rep["gyb_csv_labels_ok"] = csv_ok
    rep["gyb_csv_header_unusable"] = csv_unusable
    rep["gyb_csv_header_unusable_ids"] = unusable_ids
    json.dump(rep, sys.stdout)


if __name__ == "__main__":
    main()
