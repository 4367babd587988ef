#!/usr/bin/env python3
"""Independent reader of office-file text for the extract tests: Python's zipfile and
xml.etree only, written from the formats' specs, sharing no code with the crate.

    office_text.py FILE   -> the text on stdout (UTF-8)

DOCX: w:p paragraphs of the main document, headers, footers, footnotes, endnotes, comments;
w:t text, w:tab a tab, w:br/w:cr a line break; w:delText is not text; mc:Fallback skipped.
XLSX: shared strings (si, without rPh phonetic runs), then per worksheet the sheet name,
inline strings and v values of cells whose type is not s, b or e.
PPTX: a:p paragraphs of every slide and notes slide.
ODF: content.xml body paragraphs/headings with text:s, text:tab, text:line-break; sheet
names; text:tracked-changes skipped.
"""
import re
import sys
import zipfile
import xml.etree.ElementTree as ET


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def para_text(p):
    out = []

    def walk(e):
        name = local(e.tag)
        if name == "Fallback":  # mc:Fallback: the same content again, for older readers
            return
        if name == "t" and e.text:
            out.append(e.text)
        elif name == "tab":
            out.append("\t")
        elif name in ("br", "cr"):
            out.append("\n")
        for c in e:
            walk(c)

    walk(p)
    return "".join(out)


def ooxml_paragraphs(z, names):
    lines = []
    for n in names:
        root = ET.fromstring(z.read(n))
        for p in root.iter():
            if local(p.tag) == "p":
                lines.append(para_text(p))
    return lines


def docx(z):
    names = [n for n in z.namelist() if re.fullmatch(
        r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml", n)]
    return ooxml_paragraphs(z, names)


def pptx(z):
    names = [n for n in z.namelist() if re.fullmatch(
        r"ppt/(slides/slide|notesSlides/notesSlide)\d+\.xml", n)]
    return ooxml_paragraphs(z, names)


def without_phonetic(e):
    """The t text of a string item, without its rPh phonetic runs."""
    ph = set()
    for r in e.iter():
        if local(r.tag) == "rPh":
            for t in r.iter():
                if local(t.tag) == "t" and t.text:
                    ph.add(id(t))
    return "".join(c.text for c in e.iter()
                   if local(c.tag) == "t" and c.text and id(c) not in ph)


def xlsx(z):
    lines = []
    if "xl/sharedStrings.xml" in z.namelist():
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
        for si in root.iter():
            if local(si.tag) == "si":
                lines.append(without_phonetic(si))
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    lines += [s.get("name", "") for s in wb.iter() if local(s.tag) == "sheet"]
    for n in z.namelist():
        if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", n):
            continue
        for c in ET.fromstring(z.read(n)).iter():
            if local(c.tag) != "c":
                continue
            t = c.get("t")
            if t == "inlineStr":
                for i in c:
                    if local(i.tag) == "is":
                        lines.append(without_phonetic(i))
            elif t not in ("s", "b", "e"):
                for v in c:
                    if local(v.tag) == "v" and v.text:
                        lines.append(v.text)
    return lines


def odf(z):
    root = ET.fromstring(z.read("content.xml"))
    lines = []

    def walk(e, out):
        name = local(e.tag)
        if name == "tracked-changes":
            return
        if name == "table":
            lines.append(e.get("{urn:oasis:names:tc:opendocument:xmlns:table:1.0}name", ""))
        if name in ("p", "h"):
            lines.append(inline(e))
            return
        for c in e:
            walk(c, out)

    def inline(e):
        out = [e.text or ""]
        for c in e:
            name = local(c.tag)
            if name == "s":
                out.append(" ")
            elif name == "tab":
                out.append("\t")
            elif name == "line-break":
                out.append("\n")
            elif name != "tracked-changes":
                out.append(inline(c))
            out.append(c.tail or "")
        return "".join(out)

    for body in root.iter():
        if local(body.tag) == "body":
            walk(body, lines)
    return lines


def main():
    z = zipfile.ZipFile(sys.argv[1])
    names = set(z.namelist())
    if "mimetype" in names:
        lines = odf(z)
    elif "word/document.xml" in names:
        lines = docx(z)
    elif "xl/workbook.xml" in names:
        lines = xlsx(z)
    elif "ppt/presentation.xml" in names:
        lines = pptx(z)
    else:
        sys.exit("not an office file")
    sys.stdout.buffer.write("\n".join(lines).encode("utf-8"))


main()
