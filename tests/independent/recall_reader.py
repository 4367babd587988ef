#!/usr/bin/env python3
"""An independent reading of every message's text, date and Message-ID over the SpamAssassin
corpus, with Python's standard library only (no code shared with the Rust crate).

usage: recall_reader.py CORPUS_DIR PHRASE...  > answers.json

Prints one JSON object:
  "phrases": {phrase: [key, ...]}   messages in which the phrase occurs
  "dates":   {key: [seconds or null, zone_read, date_header_count]}
  "ids":     {key: Message-ID}  for messages with a Message-ID header (the first, as msg_id reads it)
where a key is "account#mbox_index" from manifest.tsv. Messages are read from their Maildir files,
which hold the exact message bytes.

What counts as a message's text (the places a Vault search for a bare phrase looks):
- every text/* part, wherever it sits: every alternative of multipart/alternative, text
  attachments, the text parts of attached messages (message/rfc822), a part with no Content-Type
  (text/plain by RFC 2045). Each is transfer-decoded and then decoded with its charset
  (us-ascii when none is given, RFC 2046 §4.1.2; an unknown charset as UTF-8), undecodable bytes
  replaced;
- text/html is rendered to its text with html.parser: character references decoded, tags
  removed, block-level tags (p, div, td, li, br, ...) separating words as a browser does, inline
  tags (b, a, span, ...) not, nothing from head (which ends where HTML ends it: at </head>, or at
  the first tag or text that cannot stand in a head), script, style or comments;
- the Subject, the display names and addresses of From/To/Cc/Bcc (RFC 2047 decoded) and the file
  names of attachments.
A phrase occurs when its words appear consecutively in one of those texts, a word being a run of
letters and digits (everything else separates words), compared case-folded.

Dates are email.utils.parsedate_to_datetime of the (last) Date header; a date without a zone it
can read is reported with zone_read false and taken as UTC (-0000 is UTC, RFC 5322 §3.3).
"""
import email
import email.header
import email.policy
import datetime
import email.utils
import html.parser
import json
import re
import sys

WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Elements a browser lays out as blocks or line breaks: their tags separate words.
BLOCK = {
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "iframe", "img", "input", "li",
    "main", "menu", "nav", "noscript", "ol", "option", "p", "pre", "section", "select", "table",
    "tbody", "td", "textarea", "tfoot", "th", "thead", "title", "tr", "ul",
}
# Elements whose content is not rendered text.
HIDDEN = {"head", "script", "style", "template"}
# What may stand in head; any other tag, or text, ends it (HTML "in head" insertion mode), as
# does </head> or <body>: many messages never close their head.
IN_HEAD = {"base", "basefont", "bgsound", "link", "meta", "title", "noscript", "noframes",
           "style", "script", "template", "head"}


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.hidden = [], []

    def end_head(self):
        if self.hidden == ["head"]:
            self.hidden = []

    def handle_starttag(self, tag, attrs):
        if tag not in IN_HEAD:
            self.end_head()
        if tag in HIDDEN:
            self.hidden.append(tag)
        if tag in BLOCK:
            self.out.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag not in IN_HEAD:
            self.end_head()
        if tag in BLOCK:
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag in HIDDEN and tag in self.hidden:
            while self.hidden and self.hidden.pop() != tag:
                pass
        if tag in BLOCK:
            self.out.append(" ")

    def handle_data(self, data):
        if data.strip():
            self.end_head()
        if not self.hidden:
            self.out.append(data)


def html_text(s):
    p = Text()
    try:
        p.feed(s)
        p.close()
    except Exception:
        pass
    return "".join(p.out)


def words(s):
    return WORD.findall(" ".join((s or "").split()).casefold())


def part_text(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
    charset = part.get_content_charset() or "us-ascii"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:
        text = payload.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text = html_text(text)
    return text


def decoded(msg, name):
    out = []
    for v in msg.get_all(name) or []:
        try:
            out.append(str(email.header.make_header(email.header.decode_header(str(v)))))
        except Exception:
            out.append(str(v))
    return out


def texts(msg):
    """Every text of the message, each a list of words."""
    out = [words(s) for s in decoded(msg, "Subject")]
    for n in ("From", "To", "Cc", "Bcc"):
        for name, addr in email.utils.getaddresses(decoded(msg, n)):
            out.append(words(name))
            out.append(words(addr))
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name:
            out.append(words(str(email.header.make_header(email.header.decode_header(name)))))
        if part.get_content_maintype() == "text":
            out.append(words(part_text(part)))
    return out


def has_phrase(texts, phrase):
    n = words(phrase)
    return any(t[i:i + len(n)] == n for t in texts for i in range(len(t) - len(n) + 1))


def msg_id(value):
    """RFC 5322 §3.6.4: the msg-id is what lies between "<" and ">"; white space inside comes from
    folding (CFWS), not from the id. Without brackets, the whole value."""
    m = re.search(r"<([^>]*)>?", value)
    return "".join((m.group(1) if m else value).split())


def date_of(msg):
    dates = msg.get_all("Date") or []
    if not dates:
        return [None, False, 0]
    try:
        d = email.utils.parsedate_to_datetime(str(dates[-1]))
    except Exception:
        return [None, False, len(dates)]
    # -0000 is UTC with no word on the sender's zone (RFC 5322 §3.3); Python returns it naive.
    if d.tzinfo is None and not re.search(r"-0000\b", str(dates[-1])):
        return [int(d.replace(tzinfo=datetime.timezone.utc).timestamp()), False,
                len(dates)]
    return [int(d.timestamp()), True, len(dates)]


def main():
    corpus, phrases = sys.argv[1], sys.argv[2:]
    out = {"phrases": {p: [] for p in phrases}, "dates": {}, "ids": {}}
    with open(f"{corpus}/manifest.tsv") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            key = f"{r['account']}#{r['mbox_index']}"
            with open(f"{corpus}/{r['maildir_path']}", "rb") as m:
                msg = email.message_from_bytes(m.read(), policy=email.policy.compat32)
            t = texts(msg)
            for p in phrases:
                if has_phrase(t, p):
                    out["phrases"][p].append(key)
            out["dates"][key] = date_of(msg)
            mid = msg.get("Message-ID")
            if mid is not None:
                out["ids"][key] = msg_id(str(mid))
    json.dump(out, sys.stdout, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
