//! Word, Excel and PowerPoint files (Office Open XML: a zip of XML parts), read part by part
//! as Vault searches them:
//!
//! - DOCX: the paragraphs of the main document, then headers, footers, footnotes, endnotes
//!   and comments. Deleted revisions (`w:delText`) and field codes are not text; the VML copy
//!   of a text box (`mc:Fallback`) is skipped so its words are not indexed twice. Pages are
//!   counted as Word last laid them out (`w:lastRenderedPageBreak`), the only page breaks a
//!   file records, so the page cap applies where Word saved them.
//! - XLSX: the shared-string table (every distinct string of every sheet), then per sheet in
//!   workbook order its name, inline strings and the values of number, date, and formula cells
//!   as stored (`3.5`, a date as its serial number: the display format is not applied).
//! - PPTX: each slide in presentation order, then its speaker notes; slides count as pages.

use super::parts::{Zip, ZipRead};
use super::sink::Sink;
use super::xml::{Flow, Node};
use super::{ExtractError, Extracted, FileKind, Properties, finish, props};
use crate::Limits;

/// The OOXML kind of a zip, from its main part: the `officeDocument` relationship of
/// `_rels/.rels` where one can be read, else the conventional part names. `None`: not OOXML.
pub(super) fn kind(zip: &mut Zip<'_>, limits: &Limits) -> Option<(FileKind, String)> {
    if !zip.contains("[Content_Types].xml") {
        return None;
    }
    let mut parts = ZipRead::new(zip, limits);
    let main = rels(&mut parts, "_rels/.rels")
        .into_iter()
        .find(|r| r.kind.ends_with("/officeDocument"))
        .map(|r| resolve("", &r.target));
    let by_folder = |p: &str| match p.split('/').next() {
        Some("word") => Some(FileKind::Docx),
        Some("xl") => Some(FileKind::Xlsx),
        Some("ppt") => Some(FileKind::Pptx),
        _ => None,
    };
    if let Some(main) = main
        && let Some(kind) = by_folder(&main)
    {
        return Some((kind, main));
    }
    [
        ("word/document.xml", FileKind::Docx),
        ("xl/workbook.xml", FileKind::Xlsx),
        ("ppt/presentation.xml", FileKind::Pptx),
    ]
    .into_iter()
    .find(|(p, _)| zip.contains(p))
    .map(|(p, k)| (k, p.to_owned()))
}

/// The text of an OOXML file whose main part is `main`.
pub(super) fn extract(zip: &mut Zip<'_>, kind: FileKind, main: &str, limits: &Limits) -> Extracted {
    let mut parts = ZipRead::new(zip, limits);
    let mut sink = Sink::new(limits.extract_text_bytes);
    let mut pages = None;
    let mut page_cut = None;
    let result = match kind {
        FileKind::Docx => docx(&mut parts, main, &mut sink, limits, &mut pages, &mut page_cut),
        FileKind::Xlsx => xlsx(&mut parts, main, &mut sink),
        _ => pptx(&mut parts, main, &mut sink, limits, &mut pages, &mut page_cut),
    };
    let core = rels(&mut parts, "_rels/.rels")
        .into_iter()
        .find(|r| r.kind.ends_with("/core-properties"))
        .map_or_else(|| "docProps/core.xml".to_owned(), |r| resolve("", &r.target));
    let properties: Properties = props::read(&mut parts, &core, false);
    finish(kind, sink, pages, page_cut, result.err(), properties)
}

/// One relationship of a `.rels` part.
struct Rel {
    id: String,
    kind: String,
    target: String,
}

/// The relationships in `entry` (none when it is missing or broken: callers fall back to the
/// conventional part names). External targets (hyperlinks) are left out.
fn rels(parts: &mut ZipRead<'_, '_>, entry: &str) -> Vec<Rel> {
    let mut out = Vec::new();
    let _ = parts.walk(entry, |node| {
        if let Node::Open(e) = node
            && e.local() == "Relationship"
            && e.attr("TargetMode").is_none_or(|m| m != "External")
            && out.len() < 100_000
        {
            out.push(Rel {
                id: e.attr("Id").unwrap_or_default(),
                kind: e.attr("Type").unwrap_or_default(),
                target: e.attr("Target").unwrap_or_default(),
            });
        }
        Flow::Continue
    });
    out
}

/// A relationship target as a zip entry name: relative to `base` (the folder of the part
/// whose relationships they are), or to the root when it starts with `/`.
fn resolve(base: &str, target: &str) -> String {
    let mut path: Vec<&str> = match target.strip_prefix('/') {
        Some(_) => Vec::new(),
        None => base.split('/').filter(|s| !s.is_empty()).collect(),
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            s => path.push(s),
        }
    }
    path.join("/")
}

/// The folder of a part (`word` for `word/document.xml`).
fn folder(part: &str) -> &str {
    part.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The relationships part of `part`: `word/_rels/document.xml.rels`.
fn rels_of(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((d, f)) => format!("{d}/_rels/{f}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Entry names in `folder` starting with `prefix` and ending `.xml`, in natural order
/// (`header2` before `header10`).
fn numbered(parts: &ZipRead<'_, '_>, folder: &str, prefix: &str) -> Vec<String> {
    let mut names: Vec<(u64, String)> = parts
        .names()
        .into_iter()
        .filter_map(|n| {
            let stem = n.strip_prefix(folder)?.strip_prefix('/')?.strip_prefix(prefix)?;
            let num = stem.strip_suffix(".xml")?;
            if num.contains('/') {
                return None;
            }
            Some((num.parse().unwrap_or(0), n))
        })
        .collect();
    names.sort();
    names.into_iter().map(|(_, n)| n).collect()
}

/// Text runs as Word and DrawingML write them: `t` elements hold text, `tab`, `br` and `cr`
/// inside a run are white space, a paragraph (`p`) ends with a line break, and everything in
/// `mc:Fallback` is skipped (the same content again, for older readers).
#[derive(Default)]
struct Runs {
    in_text: u32,
    in_run: u32,
    skip: u32,
}

impl Runs {
    fn node(&mut self, node: &Node<'_, '_>, sink: &mut Sink) -> Flow {
        let more = match node {
            Node::Open(e) => match e.local() {
                "Fallback" => {
                    self.skip += 1;
                    true
                }
                _ if self.skip > 0 => true,
                "t" => {
                    self.in_text += 1;
                    true
                }
                "r" => {
                    self.in_run += 1;
                    true
                }
                "tab" if self.in_run > 0 => sink.push_char('\t'),
                "br" | "cr" => sink.newline(),
                _ => true,
            },
            Node::Close(name) => match *name {
                "Fallback" => {
                    self.skip = self.skip.saturating_sub(1);
                    true
                }
                _ if self.skip > 0 => true,
                "t" => {
                    self.in_text = self.in_text.saturating_sub(1);
                    true
                }
                "r" => {
                    self.in_run = self.in_run.saturating_sub(1);
                    true
                }
                "p" => sink.newline(),
                _ => true,
            },
            Node::Text(t) if self.in_text > 0 && self.skip == 0 => sink.push(t),
            Node::Text(_) => true,
        };
        if more { Flow::Continue } else { Flow::Stop }
    }
}

fn docx(
    parts: &mut ZipRead<'_, '_>,
    main: &str,
    sink: &mut Sink,
    limits: &Limits,
    pages: &mut Option<u32>,
    page_cut: &mut Option<u32>,
) -> Result<(), ExtractError> {
    let mut runs = Runs::default();
    let mut page = 1u32;
    let mut breaks = false;
    let found = parts.walk(main, |node| {
        if let Node::Open(e) = &node
            && e.local() == "lastRenderedPageBreak"
            && runs.skip == 0
        {
            breaks = true;
            page += 1;
            if page > limits.extract_pages {
                *page_cut = Some(limits.extract_pages);
                return Flow::Stop;
            }
        }
        runs.node(&node, sink)
    })?;
    if !found {
        return Err(ExtractError::MissingPart { entry: main.to_owned() });
    }
    // Word's own count of the last layout, else the breaks it recorded.
    *pages = app_pages(parts).or((breaks && page_cut.is_none()).then_some(page));
    if page_cut.is_some() {
        return Ok(());
    }
    let dir = folder(main);
    let mut extra = numbered(parts, dir, "header");
    extra.extend(numbered(parts, dir, "footer"));
    for name in ["footnotes", "endnotes", "comments"] {
        extra.push(format!("{dir}/{name}.xml"));
    }
    for part in extra {
        if sink.is_full() {
            break;
        }
        sink.newline();
        let mut runs = Runs::default();
        parts.walk(&part, |node| runs.node(&node, sink))?;
    }
    Ok(())
}

/// `<Pages>` of `docProps/app.xml`: the page count Word saved.
fn app_pages(parts: &mut ZipRead<'_, '_>) -> Option<u32> {
    let (mut inside, mut value) = (false, String::new());
    let _ = parts.walk("docProps/app.xml", |node| {
        match node {
            Node::Open(e) => inside = e.local() == "Pages",
            Node::Text(t) if inside && value.len() < 16 => value.push_str(t),
            Node::Text(_) => {}
            Node::Close(_) => inside = false,
        }
        Flow::Continue
    });
    value.trim().parse().ok()
}

fn xlsx(parts: &mut ZipRead<'_, '_>, main: &str, sink: &mut Sink) -> Result<(), ExtractError> {
    let dir = folder(main).to_owned();
    // Sheets in workbook order, with their names.
    let mut sheets: Vec<(String, String)> = Vec::new();
    let found = parts.walk(main, |node| {
        if let Node::Open(e) = node
            && e.local() == "sheet"
            && sheets.len() < 100_000
        {
            sheets.push((e.attr("name").unwrap_or_default(), e.rel_id().unwrap_or_default()));
        }
        Flow::Continue
    })?;
    if !found {
        return Err(ExtractError::MissingPart { entry: main.to_owned() });
    }
    let targets = rels(parts, &rels_of(main));
    let rels_of_kind = |suffix: &str| -> Vec<String> {
        targets
            .iter()
            .filter(|r| r.kind.ends_with(suffix))
            .map(|r| resolve(&dir, &r.target))
            .collect()
    };
    let shared = rels_of_kind("/sharedStrings")
        .into_iter()
        .next()
        .unwrap_or_else(|| format!("{dir}/sharedStrings.xml"));
    // Shared strings: `si` items, each a line; phonetic guides (`rPh`) are not the text.
    let (mut in_t, mut in_phonetic) = (0u32, 0u32);
    parts.walk(&shared, |node| {
        let more = match node {
            Node::Open(e) => {
                match e.local() {
                    "t" => in_t += 1,
                    "rPh" => in_phonetic += 1,
                    _ => {}
                }
                true
            }
            Node::Close("t") => {
                in_t = in_t.saturating_sub(1);
                true
            }
            Node::Close("rPh") => {
                in_phonetic = in_phonetic.saturating_sub(1);
                true
            }
            Node::Close("si") => sink.newline(),
            Node::Close(_) => true,
            Node::Text(t) if in_t > 0 && in_phonetic == 0 => sink.push(t),
            Node::Text(_) => true,
        };
        if more { Flow::Continue } else { Flow::Stop }
    })?;
    let mut order: Vec<(String, String)> = sheets
        .into_iter()
        .filter_map(|(name, id)| {
            let r = targets.iter().find(|r| r.id == id)?;
            Some((name, resolve(&dir, &r.target)))
        })
        .collect();
    if order.is_empty() {
        order = numbered(parts, &format!("{dir}/worksheets"), "sheet")
            .into_iter()
            .map(|p| (String::new(), p))
            .collect();
    }
    for (name, part) in order {
        if sink.is_full() {
            break;
        }
        sink.newline();
        sink.push(&name);
        sink.newline();
        sheet(parts, &part, sink)?;
    }
    Ok(())
}

/// One worksheet: inline strings and stored values of cells that do not point into the
/// shared-string table (already read) and are not booleans or errors.
fn sheet(parts: &mut ZipRead<'_, '_>, part: &str, sink: &mut Sink) -> Result<(), ExtractError> {
    let mut cell_type: Option<String> = None;
    let (mut in_v, mut in_t, mut in_phonetic) = (false, 0u32, 0u32);
    parts.walk(part, |node| {
        let more = match node {
            Node::Open(e) => {
                match e.local() {
                    "c" => cell_type = e.attr("t"),
                    "v" => in_v = true,
                    "t" => in_t += 1,
                    "rPh" => in_phonetic += 1,
                    _ => {}
                }
                true
            }
            Node::Close(name) => {
                match name {
                    "v" => in_v = false,
                    "t" => in_t = in_t.saturating_sub(1),
                    "rPh" => in_phonetic = in_phonetic.saturating_sub(1),
                    _ => {}
                }
                if matches!(name, "c" | "row") { sink.newline() } else { true }
            }
            Node::Text(t) => {
                let value_shown =
                    in_v && !matches!(cell_type.as_deref(), Some("s" | "b" | "e" | "inlineStr"));
                let inline = in_t > 0 && in_phonetic == 0;
                if value_shown || inline { sink.push(t) } else { true }
            }
        };
        if more { Flow::Continue } else { Flow::Stop }
    })?;
    Ok(())
}

fn pptx(
    parts: &mut ZipRead<'_, '_>,
    main: &str,
    sink: &mut Sink,
    limits: &Limits,
    pages: &mut Option<u32>,
    page_cut: &mut Option<u32>,
) -> Result<(), ExtractError> {
    let dir = folder(main).to_owned();
    let mut ids: Vec<String> = Vec::new();
    let found = parts.walk(main, |node| {
        if let Node::Open(e) = node
            && e.local() == "sldId"
            && ids.len() < 100_000
        {
            ids.push(e.rel_id().unwrap_or_default());
        }
        Flow::Continue
    })?;
    if !found {
        return Err(ExtractError::MissingPart { entry: main.to_owned() });
    }
    let targets = rels(parts, &rels_of(main));
    let mut slides: Vec<String> = ids
        .iter()
        .filter_map(|id| targets.iter().find(|r| &r.id == id).map(|r| resolve(&dir, &r.target)))
        .collect();
    if slides.is_empty() {
        slides = numbered(parts, &format!("{dir}/slides"), "slide");
    }
    *pages = u32::try_from(slides.len()).ok();
    let max = usize::try_from(limits.extract_pages).unwrap_or(usize::MAX);
    if slides.len() > max {
        *page_cut = Some(limits.extract_pages);
        slides.truncate(max);
    }
    for slide in slides {
        if sink.is_full() {
            break;
        }
        sink.newline();
        let mut runs = Runs::default();
        parts.walk(&slide, |node| runs.node(&node, sink))?;
        let notes = rels(parts, &rels_of(&slide))
            .into_iter()
            .find(|r| r.kind.ends_with("/notesSlide"))
            .map(|r| resolve(folder(&slide), &r.target));
        if let Some(notes) = notes {
            sink.newline();
            let mut runs = Runs::default();
            parts.walk(&notes, |node| runs.node(&node, sink))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_like_paths() {
        assert_eq!(resolve("", "word/document.xml"), "word/document.xml");
        assert_eq!(resolve("", "/word/document.xml"), "word/document.xml");
        assert_eq!(resolve("ppt", "slides/slide1.xml"), "ppt/slides/slide1.xml");
        assert_eq!(
            resolve("ppt/slides", "../notesSlides/notesSlide1.xml"),
            "ppt/notesSlides/notesSlide1.xml"
        );
        assert_eq!(resolve("xl", "/xl/worksheets/./sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(rels_of("word/document.xml"), "word/_rels/document.xml.rels");
    }
}
