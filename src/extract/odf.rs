//! OpenDocument files (ODT, ODS, ODP: a zip with a `mimetype` entry and `content.xml`), read
//! as Vault searches them: every paragraph and heading of the body in order (spreadsheet cells
//! and presentation pages included, with sheet names), comments included; text of tracked
//! deletions (`text:tracked-changes`) is not the document's text and is skipped. Presentation
//! pages (`draw:page`) count as pages; an ODT's page count is the one its `meta.xml` states.

use super::parts::{Zip, ZipRead};
use super::sink::Sink;
use super::xml::{Flow, Node};
use super::{ExtractError, Extracted, FileKind, finish, props};
use crate::Limits;
use std::io::Read;

/// The ODF kind a zip's `mimetype` entry names, or its manifest's root media type.
pub(super) fn kind(zip: &mut Zip<'_>) -> Option<FileKind> {
    let mut mime = String::new();
    let _ = zip.read("mimetype", |r| r.take(128).read_to_string(&mut mime));
    if mime.is_empty() {
        let _ = zip.read("META-INF/manifest.xml", |r| {
            let mut head = Vec::new();
            let _ = r.take(64 << 10).read_to_end(&mut head);
            let head = String::from_utf8_lossy(&head);
            if let Some(at) = head.find("application/vnd.oasis.opendocument.") {
                mime = head[at..].chars().take_while(|c| *c != '"' && *c != '\'').collect();
            }
        });
    }
    let sub = mime.trim().strip_prefix("application/vnd.oasis.opendocument.")?;
    let sub = sub.strip_suffix("-template").unwrap_or(sub);
    match sub {
        "text" => Some(FileKind::Odt),
        "spreadsheet" => Some(FileKind::Ods),
        "presentation" => Some(FileKind::Odp),
        _ => None,
    }
}

/// The text of an ODF file.
pub(super) fn extract(zip: &mut Zip<'_>, kind: FileKind, limits: &Limits) -> Extracted {
    let mut parts = ZipRead::new(zip, limits);
    let mut sink = Sink::new(limits.extract_text_bytes);
    let properties = props::read(&mut parts, "meta.xml", true);
    let mut page_cut = None;
    let mut pages = None;
    let result = if encrypted(&mut parts) {
        Err(ExtractError::Encrypted { what: "OpenDocument" })
    } else {
        content(&mut parts, kind, &mut sink, limits, &mut pages, &mut page_cut)
    };
    if kind == FileKind::Odt {
        pages = page_count(&mut parts);
    }
    finish(kind, sink, pages, page_cut, result.err(), properties)
}

/// Does the manifest say `content.xml` is encrypted (a password-protected document)?
fn encrypted(parts: &mut ZipRead<'_, '_>) -> bool {
    let mut found = false;
    let _ = parts.walk("META-INF/manifest.xml", |node| match node {
        Node::Open(e) if e.local() == "encryption-data" => {
            found = true;
            Flow::Stop
        }
        _ => Flow::Continue,
    });
    found
}

fn content(
    parts: &mut ZipRead<'_, '_>,
    kind: FileKind,
    sink: &mut Sink,
    limits: &Limits,
    pages: &mut Option<u32>,
    page_cut: &mut Option<u32>,
) -> Result<(), ExtractError> {
    let (mut in_body, mut skip, mut page, mut past_cap) = (0u32, 0u32, 0u32, false);
    let found = parts.walk("content.xml", |node| {
        let more = match node {
            Node::Open(e) => match e.local() {
                "body" => {
                    in_body += 1;
                    true
                }
                "tracked-changes" => {
                    skip += 1;
                    true
                }
                "page" if kind == FileKind::Odp => {
                    page += 1;
                    if page > limits.extract_pages {
                        // Keep counting the pages; read no more of them.
                        *page_cut = Some(limits.extract_pages);
                        past_cap = true;
                    }
                    past_cap || sink.newline()
                }
                _ if past_cap => true,
                "table" if skip == 0 && in_body > 0 => {
                    let name = e.attr("name").unwrap_or_default();
                    sink.newline() && sink.push(&name) && sink.newline()
                }
                "s" if skip == 0 => sink.push_char(' '),
                "tab" if skip == 0 => sink.push_char('\t'),
                "line-break" if skip == 0 => sink.newline(),
                _ => true,
            },
            Node::Close(_) if past_cap => true,
            Node::Close(name) => match name {
                "body" => {
                    in_body = in_body.saturating_sub(1);
                    true
                }
                "tracked-changes" => {
                    skip = skip.saturating_sub(1);
                    true
                }
                "p" | "h" | "table-cell" if skip == 0 => sink.newline(),
                _ => true,
            },
            Node::Text(t) if in_body > 0 && skip == 0 && !past_cap => sink.push(t),
            Node::Text(_) => true,
        };
        if more { Flow::Continue } else { Flow::Stop }
    })?;
    if kind == FileKind::Odp {
        *pages = Some(page);
    }
    if found { Ok(()) } else { Err(ExtractError::MissingPart { entry: "content.xml".into() }) }
}

/// `meta:page-count` of `meta:document-statistic` in `meta.xml`.
fn page_count(parts: &mut ZipRead<'_, '_>) -> Option<u32> {
    let mut count = None;
    let _ = parts.walk("meta.xml", |node| match node {
        Node::Open(e) if e.local() == "document-statistic" => {
            count = e.attr("page-count").and_then(|c| c.trim().parse().ok());
            Flow::Stop
        }
        _ => Flow::Continue,
    });
    count
}
