"""Check an organisation export archive with Python's standard library only: report.html parsed
by html.parser (every tag closed, in order; the error table's rows; links; failed-file lists),
report.json, zipfile (every zip tests clean, entries under Takeout/<product>/, messages counted).
Prints JSON {"problems": [...], "error_rows": [...], "all_rows": [...], "links": [...],
"failed_items": {...}, "messages": {...}, "text": "..."}.
Usage: check_org_archive.py ARCHIVE_DIR"""
import html.parser, json, os, re, sys, zipfile
from urllib.parse import unquote

VOID = {"meta", "br", "hr", "img", "input", "link"}
root = sys.argv[1]
problems = []


class Report(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.table = None
        self.rows = {"error-accounts": [], "all-accounts": [], "left-out-accounts": []}
        self.cell = None
        self.links = []
        self.failed = {}
        self.current_row = None
        self.scripts = 0
        self.text = []
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "script":
            self.scripts += 1
        if tag in ("img", "link", "iframe", "object", "embed"):
            problems.append(f"external or embedded resource <{tag}>")
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self.table = a.get("id")
        if tag == "th" and a.get("scope") == "row":
            self.cell = ""
        if tag == "a" and self.table == "error-accounts":
            self.links.append(a.get("href", ""))
        if tag == "ul" and a.get("class") == "failed":
            self.failed.setdefault(self.current_row, [])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            if tag in self.stack:
                while self.stack and self.stack[-1] != tag:
                    self.stack.pop()
        if self.stack:
            self.stack.pop()
        if tag == "th" and self.cell is not None:
            if self.table in self.rows:
                self.rows[self.table].append(self.cell)
            self.current_row = self.cell
            self.cell = None
        if tag == "table":
            self.table = None

    def handle_data(self, data):
        self.text.append(data)
        if self.cell is not None:
            self.cell += data
        if self.stack and self.stack[-1] == "code" and self.table == "error-accounts":
            self.failed.setdefault(self.current_row, []).append(data)


with open(os.path.join(root, "report.html"), encoding="utf-8") as f:
    raw = f.read()
p = Report()
p.feed(raw)
p.close()
if p.stack:
    problems.append(f"unclosed tags at the end: {p.stack}")
if p.scripts:
    problems.append("the report has scripts")
if p.lang != "en":
    problems.append(f"lang is {p.lang!r}")
for h in p.links:
    target = os.path.normpath(os.path.join(root, unquote(h)))
    if not target.startswith(os.path.abspath(root) + os.sep):
        problems.append(f"link {h} leaves the archive")
    if not os.path.isfile(target):
        problems.append(f"link {h} resolves to no file")
if p.rows["error-accounts"] != sorted(p.rows["error-accounts"]):
    problems.append("error rows are not in alphabetical order")

report = json.load(open(os.path.join(root, "report.json"), encoding="utf-8"))
want = [a["id"] for a in report["accounts"] if a["notExported"] > 0]
if p.rows["error-accounts"] != want:
    problems.append(f"error rows {p.rows['error-accounts']} != report.json {want}")
for a in report["accounts"]:
    if a["notExported"] > 0:
        got = p.failed.get(a["id"], [])
        files = [f["file"] for f in a["failures"]]
        if got != files:
            problems.append(f"{a['id']}: failed files in the HTML {got} != {files}")

messages = {}
# A space's messages continued in a later zip are in messages-2.json, messages-3.json, … beside
# messages.json (docs/export-contract.md): every copy is counted, and no name may be in two zips
# of one account (unpacking them into one folder would keep one copy).
MESSAGES = re.compile(r"messages(-[1-9][0-9]*)?\.json")
for a in report["accounts"]:
    n = {}
    names = set()
    for z in a["archives"]:
        path = os.path.join(root, z["path"])
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad:
                problems.append(f"{z['path']}: {bad} fails its CRC")
            for info in zf.infolist():
                parts = info.filename.split("/")
                if parts[0] != "Takeout" or len(parts) < 3 or ".." in parts:
                    problems.append(f"{z['path']}: entry {info.filename}")
                if info.filename.lower() in names:
                    problems.append(f"{z['path']}: {info.filename} is in another zip of {a['id']} too")
                names.add(info.filename.lower())
                data = zf.read(info)
                # Chat, Drive and Voice are folders of files: a record is a message of a
                # space's messages.json, a Drive file, a Voice page.
                if parts[1] == "Google Chat":
                    if MESSAGES.fullmatch(parts[-1]):
                        n["Chat"] = n.get("Chat", 0) + len(json.loads(data)["messages"])
                    elif parts[-1] == "group_info.json":
                        json.loads(data)
                    continue
                if parts[1] == "Drive":
                    n["Drive"] = n.get("Drive", 0) + 1
                    continue
                if parts[1] == "Voice":
                    n["Voice"] = n.get("Voice", 0) + (1 if parts[-1].endswith(".html") else 0)
                    continue
                # mboxrd: a message starts at a line "From "; its header block ends at the
                # first empty line and must hold exactly one X-Gmail-Labels field.
                count, in_header, labels = 0, False, 0
                for line in data.split(b"\n"):
                    if line.startswith(b"From "):
                        if count and labels != 1:
                            problems.append(f"{z['path']}: message {count}: {labels} X-Gmail-Labels fields")
                        count, in_header, labels = count + 1, True, 0
                    elif in_header:
                        if line.rstrip(b"\r") == b"":
                            in_header = False
                        elif line.lower().startswith(b"x-gmail-labels:"):
                            labels += 1
                if count and labels != 1:
                    problems.append(f"{z['path']}: message {count}: {labels} X-Gmail-Labels fields")
                n[parts[1]] = n.get(parts[1], 0) + count
    messages[a["id"]] = n
    for prod, c in a["products"].items():
        if n.get(prod, 0) != c["exported"]:
            problems.append(f"{a['id']}: {prod}: zips hold {n.get(prod, 0)}, report says {c['exported']}")

json.dump({
    "problems": problems,
    "error_rows": p.rows["error-accounts"],
    "all_rows": p.rows["all-accounts"],
    "left_out_rows": p.rows["left-out-accounts"],
    "links": p.links,
    "failed_items": p.failed,
    "messages": messages,
    "raw_has_script_tag": "<script>" in raw,
}, sys.stdout)
