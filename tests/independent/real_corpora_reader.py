#!/usr/bin/env python3
"""Independent reader of the RAW real corpora (the files fetch-real-corpora.sh writes), not of our
converter's output: counts per corpus and custodian, and the items a literal phrase search should
find, for the Rust acceptance test to compare with what the collection holds.

It applies the placement rules of docs/formats/real-corpora.md on its own (it imports nothing of
the project):
  bucket(key) = int.from_bytes(md5(key)[:8], "big") % N, custodian = "custodian-<bucket+1>@real.example"
  chat:  key = the conversation id, every message of a conversation to its custodian;
         the first M conversations in the file's order when --conversations M is given
  drive: key = "sotu/<stem>" for each speech, "docs/<file name>" for each office file or image
  voice: key = "voice/<stem>" for each .wav; a transcript only when exactly one transcripts.txt
         line has the .wav's name as its last path segment

usage: real_corpora_reader.py RAW_DIR N M|all [chat|drive|voice PHRASE]...  -> JSON on stdout

Phrase hits are keys that do not depend on our ids: chat "custodian|sender|timestamp", drive
"custodian|title" (title as documented; PDFs left out: the Rust side asks with -type:pdf, as no
stdlib reader reads PDF text), voice "custodian|<wav stem>".
"""
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def words(text):
    # Words as a literal search sees them: runs of letters and digits, lower case.
    return re.findall(r"[^\W_]+", text.lower())


def has_phrase(text, phrase):
    w, p = words(text), words(phrase)
    return any(w[i:i + len(p)] == p for i in range(len(w) - len(p) + 1))


def custodian(key, n):
    b = int.from_bytes(hashlib.md5(key.encode("utf-8")).digest()[:8], "big") % n
    return "custodian-%d@real.example" % (b + 1)


def decode(b):
    # Text files: a UTF-8 BOM or valid UTF-8, else windows-1252.
    if b.startswith(b"\xef\xbb\xbf"):
        b = b[3:]
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("cp1252", errors="replace")


def chat(raw, n, limit, phrases):
    with open(os.path.join(raw, "chitchat", "dataset.json"), encoding="utf-8") as f:
        data = json.load(f)  # the reader may hold it whole: it is the reference, not the product
    out = {"conversations": 0, "messages": 0, "senders": set(), "per_custodian": {},
           "phrases": {p: [] for p in phrases}}
    for cid, conv in data.items():
        if limit is not None and out["conversations"] >= limit:
            break
        out["conversations"] += 1
        who = custodian(cid, n)
        for turn in conv["messages"]:
            for m in turn:
                out["messages"] += 1
                out["senders"].add(m["sender"])
                out["per_custodian"][who] = out["per_custodian"].get(who, 0) + 1
                sender = "u-%s@real.example" % m["sender"][:8]
                for p in phrases:
                    if has_phrase(m["text"], p):
                        out["phrases"][p].append("%s|%s|%s" % (who, sender, m["timestamp"]))
    out["senders"] = len(out["senders"])
    return out


def office_text(path):
    r = subprocess.run([sys.executable, os.path.join(HERE, "office_text.py"), path],
                       capture_output=True, check=False)
    return r.stdout.decode("utf-8") if r.returncode == 0 else ""


def drive(raw, n, phrases):
    out = {"speeches": 0, "docs": 0, "per_custodian": {}, "phrases": {p: [] for p in phrases}}
    items = []  # (custodian, title, searchable texts)
    sotu = os.path.join(raw, "sotu")
    for name in sorted(os.listdir(sotu)):
        if not name.endswith(".json"):
            continue
        stem = name[:-5]
        with open(os.path.join(sotu, name), encoding="utf-8") as f:
            meta = json.load(f)
        with open(os.path.join(sotu, stem + ".txt"), "rb") as f:
            text = decode(f.read())
        title = "%d State of the Union (%s, %s)" % (meta["year"], meta["name"], meta["party"])
        items.append((custodian("sotu/" + stem, n), title, [title, text]))
        out["speeches"] += 1
    docs = os.path.join(raw, "docs")
    for name in sorted(os.listdir(docs)):
        ext = name.rsplit(".", 1)[-1].lower()
        if ext not in ("docx", "xlsx", "pptx", "xls", "pdf", "png", "jpg", "jpeg", "txt"):
            continue
        out["docs"] += 1
        who = custodian("docs/" + name, n)
        if ext == "pdf":
            out["per_custodian"][who] = out["per_custodian"].get(who, 0) + 1
            continue
        texts = [name]
        if ext in ("docx", "xlsx", "pptx"):
            texts.append(office_text(os.path.join(docs, name)))
        elif ext == "txt":
            with open(os.path.join(docs, name), "rb") as f:
                texts.append(decode(f.read()))
        items.append((who, name, texts))
    for who, title, texts in items:
        out["per_custodian"][who] = out["per_custodian"].get(who, 0) + 1
        for p in phrases:
            # Title and content are separate fields: a phrase does not run from one into the other.
            if any(has_phrase(t, p) for t in texts):
                out["phrases"][p].append("%s|%s" % (who, title))
    return out


def voice(raw, n, phrases):
    d = os.path.join(raw, "voice-sounds")
    said = {}
    with open(os.path.join(d, "transcripts.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(";") or not line.strip() or ":" not in line:
                continue
            name, text = line.split(":", 1)
            said.setdefault(name.strip().rsplit("/", 1)[-1], []).append(text.strip())
    out = {"items": 0, "transcribed": 0, "per_custodian": {}, "phrases": {p: [] for p in phrases}}
    for name in sorted(os.listdir(d)):
        if not name.endswith(".wav"):
            continue
        stem = name[:-4]
        who = custodian("voice/" + stem, n)
        out["items"] += 1
        out["per_custodian"][who] = out["per_custodian"].get(who, 0) + 1
        lines = said.get(stem, [])
        if len(lines) != 1:
            continue
        out["transcribed"] += 1
        for p in phrases:
            if has_phrase(lines[0], p):
                out["phrases"][p].append("%s|%s" % (who, stem))
    return out


def main():
    raw, n, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    limit = None if limit == "all" else int(limit)
    asked = {"chat": [], "drive": [], "voice": []}
    rest = sys.argv[4:]
    for corpus, phrase in zip(rest[::2], rest[1::2]):
        asked[corpus].append(phrase)
    result = {
        "chat": chat(raw, n, limit, asked["chat"]),
        "drive": drive(raw, n, asked["drive"]),
        "voice": voice(raw, n, asked["voice"]),
    }
    for c in result.values():
        for p in c["phrases"]:
            c["phrases"][p].sort()
    print(json.dumps(result, sort_keys=True))


main()
