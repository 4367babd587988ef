#!/usr/bin/env python3
"""Independent reader of Google Takeout Chat and Voice exports, written from the formats (not
from the Rust code): counts and hit sets the Rust tests compare against.

usage: takeout_counts.py TAKEOUT_DIR PHRASE...  -> JSON on stdout
"""
import html.parser
import json
import os
import re
import sys


def words(text):
    # Words as a literal search sees them: runs of letters and digits, lower case.
    return re.findall(r"[^\W_]+", text.lower())


def has_phrase(text, phrase):
    w, p = words(text), words(phrase)
    return any(w[i:i + len(p)] == p for i in range(len(w) - len(p) + 1))


def chat(root, phrases):
    groups = os.path.join(root, "Google Chat", "Groups")
    out = {"messages": 0, "with_attachments": 0, "by_sender": {}, "phrases": {p: [] for p in phrases}}
    for space in sorted(os.listdir(groups)):
        with open(os.path.join(groups, space, "messages.json"), encoding="utf-8") as f:
            msgs = json.load(f)["messages"]
        for m in msgs:
            out["messages"] += 1
            if m.get("attached_files"):
                out["with_attachments"] += 1
            sender = m["creator"]["email"]
            out["by_sender"][sender] = out["by_sender"].get(sender, 0) + 1
            for p in phrases:
                if has_phrase(m.get("text", ""), p):
                    out["phrases"][p].append(m["message_id"])
    return out


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.title, self.tels, self.messages = [], "", [], 0
        self.text, self.transcript = [], []
        self.me, self.last_tel = set(), None  # the owner's numbers: senders shown as "Me"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "div" and "message" in cls:
            self.messages += 1
        if tag == "a" and "tel" in cls:
            t = a.get("href", "")[4:]
            self.last_tel = t
            if t:
                self.tels.append(t)
        if tag not in ("br", "img", "meta", "link"):
            self.stack.append((tag, cls))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        classes = [c for _, cs in self.stack for c in cs]
        if tags and tags[-1] == "title":
            self.title += data
        elif "cite" in tags and "fn" in classes and data.strip() == "Me" and self.last_tel:
            self.me.add(self.last_tel)
        elif "q" in tags:
            self.text.append(data)
        elif "full-text" in classes:
            self.transcript.append(data)


def voice(root, phrases):
    calls = os.path.join(root, "Voice", "Calls")
    out = {"items": 0, "messages": 0, "by_kind": {}, "phone": {}, "phrases": {p: [] for p in phrases}}
    pages = {}
    for name in sorted(os.listdir(calls)):
        if name.endswith(".html"):
            p = Page()
            with open(os.path.join(calls, name), encoding="utf-8") as f:
                p.feed(f.read())
            pages[name[:-5]] = p
    # The export is one account's: its number is what its conversations show as "Me"; pages that
    # do not show it (calls, voicemails) are the same owner's.
    owner = set().union(*(p.me for p in pages.values()))
    for stem, p in pages.items():
        title = " ".join(p.title.split())
        kind = ("OUTGOING_CALL" if title.startswith("Placed") else
                "INCOMING_CALL" if title.startswith(("Received", "Recorded")) else
                "MISSED_CALL" if title.startswith("Missed") else
                "VOICEMAIL" if title.startswith("Voicemail") else "TEXT_MESSAGE")
        out["items"] += 1
        out["messages"] += p.messages
        out["by_kind"][kind] = out["by_kind"].get(kind, 0) + 1
        numbers = set(p.tels) | (set() if p.me else owner)
        for t in sorted(numbers):
            out["phone"].setdefault(t, []).append(stem)
        body = " ".join(p.text + p.transcript)
        for ph in phrases:
            if has_phrase(body, ph):
                out["phrases"][ph].append(stem)
    return out


if __name__ == "__main__":
    root, phrases = sys.argv[1], sys.argv[2:]
    print(json.dumps({"chat": chat(root, phrases), "voice": voice(root, phrases)}, sort_keys=True))
