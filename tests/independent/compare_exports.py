#!/usr/bin/env python3
"""Compare two Vault-shaped mail exports of the same collection made by two versions.

Usage: compare_exports.py OLD_DIR NEW_DIR NAME_OLD NAME_NEW

Written from the export format, not from our code: files by name (NAME prefix replaced),
zips by their entries (name and bytes, via zipfile), metadata.csv row by row keyed by DocID
(every column), metadata.xml Document by Document keyed by DocID (every tag and the external
file's name, size and hash), every other file byte for byte (the summary and checksum files
are reported, not compared: they carry timings and the zips' container bytes).
Prints JSON: identical files, differing columns/tags with counts and up to 3 examples each.
"""
import csv, json, os, re, sys, zipfile
import xml.etree.ElementTree as ET

old, new, n_old, n_new = sys.argv[1:5]
csv.field_size_limit(1 << 30)


def files(d, name):
    return {f.replace(name, "NAME", 1): os.path.join(d, f) for f in sorted(os.listdir(d))}


fo, fn = files(old, n_old), files(new, n_new)
out = {"only_old": sorted(set(fo) - set(fn)), "only_new": sorted(set(fn) - set(fo)),
       "identical": [], "zip_entries_identical": [], "differs": {}}


def rows(p):
    with open(p, newline="", encoding="utf-8") as f:
        r = list(csv.DictReader(f))
    return {row["DocID"]: row for row in r}


def docs(p):
    res = {}
    for d in ET.parse(p).getroot().iter("Document"):
        tags = {t.get("TagName"): t.get("TagValue") for t in d.iter("Tag")}
        ef = d.find(".//ExternalFile")
        if ef is not None:
            for k in ("FileName", "FileSize", "Hash"):
                tags["ExternalFile." + k] = ef.get(k)
        res[d.get("DocID")] = tags
    return res


def compare_maps(a, b):
    diff, examples = {}, {}
    for k in sorted(set(a) | set(b)):
        ra, rb = a.get(k, {}), b.get(k, {})
        for col in sorted(set(ra) | set(rb)):
            if ra.get(col) != rb.get(col):
                diff[col] = diff.get(col, 0) + 1
                ex = examples.setdefault(col, [])
                if len(ex) < 3:
                    ex.append({"doc": k, "old": ra.get(col), "new": rb.get(col)})
    return {"records_old": len(a), "records_new": len(b), "columns": diff, "examples": examples}


for name in sorted(set(fo) & set(fn)):
    a, b = fo[name], fn[name]
    if name.endswith(("summary.json", "checksums.md5")):
        continue
    if open(a, "rb").read() == open(b, "rb").read():
        out["identical"].append(name)
    elif name.endswith(".zip"):
        za, zb = zipfile.ZipFile(a), zipfile.ZipFile(b)
        ea = [(i.filename.replace(n_old, "NAME", 1), za.read(i)) for i in za.infolist()]
        eb = [(i.filename.replace(n_new, "NAME", 1), zb.read(i)) for i in zb.infolist()]
        if ea == eb:
            out["zip_entries_identical"].append(name)
        elif [n for n, _ in ea] != [n for n, _ in eb]:
            out["differs"][name] = "zip entry names differ"
        else:
            # The mbox From_ line carries the FileName (which carries the date), and messages
            # are ordered by date: compare each entry's messages without their From_ lines, as
            # multisets (mboxrd quotes body lines starting "From ", so a line-start "From " is a
            # boundary), and count From_ lines and positions that changed.
            changed = other = moved = 0
            for (_, x), (_, y) in zip(ea, eb):
                mx, my = re.split(rb"\n(?=From )", x), re.split(rb"\n(?=From )", y)
                # The blank line that ends each message belongs to the separator: strip it, so
                # a message that moved to or from the end of the file compares equal.
                body = lambda m: (m.split(b"\n", 1)[1] if b"\n" in m else b"").rstrip(b"\n")
                bx, by = [body(m) for m in mx], [body(m) for m in my]
                if sorted(bx) != sorted(by):
                    other += 1
                moved += sum(1 for u, v in zip(bx, by) if u != v)
                fx = {body(m): m.split(b"\n", 1)[0] for m in mx}
                changed += sum(1 for m in my if fx.get(body(m)) != m.split(b"\n", 1)[0])
            out["differs"][name] = {"from_lines_changed": changed, "positions_changed": moved,
                                    "entries_with_other_messages": other}
    elif name.endswith("metadata.csv"):
        out["differs"][name] = compare_maps(rows(a), rows(b))
    elif name.endswith("metadata.xml"):
        out["differs"][name] = compare_maps(docs(a), docs(b))
    else:
        out["differs"][name] = "bytes differ"
json.dump(out, sys.stdout, indent=1)
