#!/usr/bin/env python3
"""Read a Chat, Drive or Voice export with Python's standard library only, written from the
format (docs/export-contract.md, ../shared/spec/vault-export-facts.md §5-7, §19), never from the
exporter's code. Checks what a reviewer's tool would rely on and prints a JSON description for
the Rust test to compare with what it asked for.

usage: read_export.py EXPORT_DIR NAME CORPUS
"""
import csv
import email
import email.policy
import hashlib
import io
import json
import mailbox
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser

folder, name, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []


def md5(b):
    return hashlib.md5(b).hexdigest()


# metadata.xml: Root/Batch/Documents/Document with Tags and one ExternalFile.
root = ET.parse(os.path.join(folder, f"{name}-metadata.xml")).getroot()
docs = {}
for d in root.find("Batch").find("Documents").findall("Document"):
    tags = {t.get("TagName"): t.get("TagValue") for t in d.find("Tags").findall("Tag")}
    ext = d.find("Files").find("File").find("ExternalFile")
    if ext.get("Hash") in (None, ""):
        problems.append(f"Document {d.get('DocID')} has no Hash")
    docs[ext.get("FileName")] = {
        "doc_id": d.get("DocID"),
        "tags": tags,
        "size": int(ext.get("FileSize")),
        "hash": ext.get("Hash"),
    }

files = sorted(os.listdir(folder))
if corpus == "drive":
    zips = sorted((f for f in files if f.startswith(name + "_") and f.endswith(".zip")),
                  key=lambda f: int(f[len(name) + 1:-4]))
else:
    zips = sorted((f for f in files if f.startswith(name + "-") and f.endswith(".zip")
                   and f[len(name) + 1:-4].isdigit()), key=lambda f: int(f[len(name) + 1:-4]))


class DataIds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "data-id":
                self.ids.append(v)


out = {"zips": zips, "documents": [], "files": [], "csv": {}}
for z in zips:
    with zipfile.ZipFile(os.path.join(folder, z)) as zf:
        if zf.testzip() is not None:
            problems.append(f"{z}: bad CRC")
        for info in zf.infolist():
            data = zf.read(info)
            if corpus == "drive":
                meta = docs.get(info.filename)
                if meta is None:
                    problems.append(f"{z}/{info.filename}: no Document")
                elif meta["hash"] != md5(data) or meta["size"] != len(data):
                    problems.append(f"{z}/{info.filename}: Hash/FileSize differ")
                out["files"].append({"zip": z, "name": info.filename, "md5": md5(data),
                                     "tags": meta["tags"] if meta else {}})
                continue
            with tempfile.NamedTemporaryFile(delete=False) as t:
                t.write(data)
            try:
                box = mailbox.mbox(t.name)
                keys = list(box.keys())
                raw_messages = [box.get_bytes(k) for k in keys]
                from_lines = [box.get_message(k).get_from() for k in keys]
            finally:
                os.unlink(t.name)
            for raw, from_line in zip(raw_messages, from_lines):
                # Every line of the message ends in CRLF.
                lines = raw.split(b"\n")
                crlf = all(l.endswith(b"\r") for l in lines[:-1]) and lines[-1] == b""
                msg = email.message_from_bytes(raw, policy=email.policy.compat32)
                file_name = from_line.split("@")[0]
                meta = docs.get(file_name)
                if meta is None:
                    problems.append(f"{z}/{info.filename}: message {file_name} has no Document")
                    continue
                # mailbox keeps the bytes as framed; Hash is over the message as exported.
                if meta["hash"] != md5(raw) or meta["size"] != len(raw):
                    problems.append(f"{file_name}: Hash/FileSize differ")
                html_parts, attachments = [], []
                for part in msg.walk():
                    if part.is_multipart():
                        continue
                    disp = part.get("Content-Disposition", "")
                    if disp.startswith("attachment"):
                        payload = part.get_payload(decode=True)
                        attachments.append({"name": part.get_filename(), "md5": md5(payload),
                                            "type": part.get_content_type()})
                    elif part.get_content_type() == "text/html":
                        html_parts.append(part.get_payload(decode=True).decode("utf-8"))
                    elif part.get_content_type() == "text/plain":
                        html_parts.append(part.get_payload(decode=True).decode("utf-8"))
                entry = {
                    "zip": z, "entry": info.filename, "file_name": file_name, "crlf": crlf,
                    "message_id": msg["Message-ID"], "subject": msg["Subject"],
                    "from": msg["From"], "to": msg["To"], "date": msg["Date"],
                    "received": msg["Received"], "attachments": attachments,
                    "tags": meta["tags"], "doc_id": meta["doc_id"],
                }
                if corpus == "chat":
                    if len(html_parts) != 1:
                        problems.append(f"{file_name}: {len(html_parts)} text/html parts")
                    p = DataIds()
                    p.feed(html_parts[0] if html_parts else "")
                    entry["data_ids"] = p.ids
                    entry["html"] = html_parts[0] if html_parts else ""
                    if msg["Message-ID"] != f"<{file_name}>":
                        problems.append(f"{file_name}: Message-ID {msg['Message-ID']}")
                else:
                    entry["body"] = html_parts[0] if html_parts else ""
                    if msg["Subject"] != file_name:
                        problems.append(f"{file_name}: Subject {msg['Subject']} is not the FileName")
                out["documents"].append(entry)

for f in files:
    if f.endswith(".csv"):
        with open(os.path.join(folder, f), newline="", encoding="utf-8") as fh:
            out["csv"][f[len(name) + 1:]] = list(csv.reader(fh))
out["problems"] = problems
json.dump(out, sys.stdout)
