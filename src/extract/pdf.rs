//! PDF text: the only user of `pdf-extract` (and of the `lopdf` it re-exports) and of
//! `flate2`.
//!
//! pdf-extract was chosen over lopdf's own `extract_text` and the `pdf` crate because it
//! places words by glyph position: on the Ghostscript-made PDFs of the test corpus lopdf glued
//! whole lines into one word (225 of pdftotext's 716 distinct words found, against 695).
//!
//! What guards what:
//! - **Panics.** pdf-extract unwraps freely (about a hundred `unwrap`/`expect` on hostile
//!   input), so loading and every page run under `catch_unwind`; a panic becomes
//!   [`ExtractError::PdfPanicked`] and the other pages are still read. The process-wide panic
//!   hook still prints the panic to standard error, as it does for the mail parser.
//! - **Inflation bombs.** lopdf inflates whatever a stream declares. Each object passes through
//!   a load filter first: image streams are emptied (no text is read from images, and they are
//!   most of a scanned file's bytes), and any other stream whose decoded size could pass
//!   [`Limits::extract_part_bytes`] is decoded here with a bound and emptied when it does pass
//!   ([`ExtractError::PdfStreamTooLarge`]). The bound per filter: Flate is measured exactly;
//!   ASCII85 (at most 4 bytes out per byte in) is decoded when its bound fits; LZW (at most about
//!   1,300 out per byte in) is refused when its bound does not fit, so an old LZW stream larger
//!   than the cap / 1,300 (about 50 KiB) is left out rather than risked. Cross-reference
//!   streams are inflated by lopdf before any filter sees them (they hold only offsets).
//! - **Forms that draw themselves.** pdf-extract follows `Do` into form XObjects by recursion
//!   with no depth limit; a page whose forms loop (or nest past 64 levels) is left out
//!   ([`ExtractError::PdfFormLoop`]) instead of overflowing the stack.
//! - **Size.** lopdf holds every object of the file, so files past
//!   [`Limits::extract_file_bytes`] are not opened (checked by the caller).
//! - **Encryption.** Vault does not search encrypted content: a file whose trailer names an
//!   `/Encrypt` dictionary is not decrypted, even where an empty password would open it.

use super::sink::Sink;
use super::{ExtractError, Extracted, FileKind, Properties, Truncation, props};
use crate::Limits;
use pdf_extract::{
    ConvertToFmt, Dictionary, Document, LoadOptions, Object, ObjectId, OutputError,
    PlainTextOutput, Stream, output_doc_page,
};
use std::cell::Cell;
use std::collections::HashSet;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Marks a stream emptied by the load filter because it decodes past the cap.
const CAPPED: &[u8] = b"EdiscoveryCapped";
/// Deepest nesting of form XObjects followed.
const FORM_DEPTH: usize = 64;

thread_local! {
    /// The part cap for the load filter, which lopdf takes as a plain `fn` (no state). lopdf
    /// is built without its `rayon` feature, so the filter runs on the thread that set this.
    static PART_CAP: Cell<u64> = Cell::new(Limits::default().extract_part_bytes);
}

pub(super) fn extract_pdf(bytes: &[u8], limits: &Limits) -> Extracted {
    let mut out = Extracted::new(FileKind::Pdf);
    if names_encrypt(bytes) {
        out.problem = Some(ExtractError::Encrypted { what: "PDF" });
        return out;
    }
    PART_CAP.with(|c| c.set(limits.extract_part_bytes));
    let options = LoadOptions { filter: Some(guard), ..LoadOptions::default() };
    let doc = match catch_unwind(|| Document::load_mem_with_options(bytes, options)) {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            out.problem = Some(ExtractError::Pdf { message: e.to_string() });
            return out;
        }
        Err(panic) => {
            out.problem = Some(ExtractError::PdfPanicked { page: 0, message: message(&*panic) });
            return out;
        }
    };
    if doc.was_encrypted() || doc.is_encrypted() {
        out.problem = Some(ExtractError::Encrypted { what: "PDF" });
        return out;
    }
    out.properties = catch_unwind(AssertUnwindSafe(|| properties(&doc))).unwrap_or_default();
    let mut problem = capped_stream(&doc, limits);
    let pages: Vec<(u32, ObjectId)> = match catch_unwind(AssertUnwindSafe(|| doc.get_pages())) {
        Ok(p) => p.into_iter().collect(),
        Err(panic) => {
            out.problem = Some(ExtractError::PdfPanicked { page: 0, message: message(&*panic) });
            return out;
        }
    };
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    out.pages = Some(count);
    if count == 0 {
        out.problem = problem.or(Some(ExtractError::Pdf {
            message: "no pages found (page tree missing or broken)".to_owned(),
        }));
        return out;
    }
    let mut sink = Sink::new(limits.extract_text_bytes);
    for &(page, id) in pages.iter().take(limits.extract_pages as usize) {
        let looped = catch_unwind(AssertUnwindSafe(|| form_loop(&doc, id))).unwrap_or(true);
        if looped {
            problem.get_or_insert(ExtractError::PdfFormLoop { page });
            continue;
        }
        let mut text = Capped {
            text: String::new(),
            max: limits.extract_text_bytes.saturating_sub(sink.len()),
            full: false,
        };
        let res = catch_unwind(AssertUnwindSafe(|| {
            let mut output = PlainTextOutput::new(&mut text);
            output_doc_page(&doc, &mut output, page)
        }));
        match res {
            Ok(Ok(())) => {}
            Ok(Err(_)) if text.full => {}
            Ok(Err(e)) => {
                problem.get_or_insert(ExtractError::PdfPage { page, message: describe(&e) });
            }
            Err(panic) => {
                problem
                    .get_or_insert(ExtractError::PdfPanicked { page, message: message(&*panic) });
            }
        }
        sink.push(&expand_ligatures(&text.text));
        sink.newline();
        if text.full || sink.is_full() {
            break;
        }
    }
    let truncated = if sink.is_full() || sink.len() >= limits.extract_text_bytes {
        Some(Truncation::TextBytes { limit: limits.extract_text_bytes as u64 })
    } else if count > limits.extract_pages {
        Some(Truncation::Pages { limit: limits.extract_pages })
    } else {
        None
    };
    out.text = sink.into_text();
    if out.text.trim().is_empty() && count > 0 && problem.is_none() {
        problem = Some(ExtractError::NoTextLayer { pages: count });
    }
    out.truncated = truncated;
    out.problem = problem;
    out
}

/// Does the file name an `/Encrypt` dictionary? Read from the raw bytes so that an encrypted
/// file is never handed to lopdf's decryption path (which skips the load filter).
fn names_encrypt(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"/Encrypt").any(|at| {
        let next = bytes.get(at + 8).copied().unwrap_or(b' ');
        !next.is_ascii_alphanumeric()
    })
}

/// The load filter: empties image streams and streams that decode past the cap.
fn guard(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    if let Object::Stream(stream) = object {
        let image =
            stream.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Image");
        let cap = PART_CAP.with(Cell::get);
        if image || decodes_past(stream, cap) {
            stream.content = Vec::new();
            stream.dict.remove(b"Filter");
            stream.dict.remove(b"DecodeParms");
            if !image {
                stream.dict.set(CAPPED, Object::Boolean(true));
            }
        }
    }
    // lopdf keeps `object` for top-level objects and the returned value for those inside
    // object streams (which are never streams themselves, so the copy is small there).
    Some((id, object.clone()))
}

/// Could decoding `stream` produce more than `cap` bytes? Decides without ever holding more
/// than `cap` bytes (see the module docs for each filter).
fn decodes_past(stream: &Stream, cap: u64) -> bool {
    let Ok(filters) = stream.filters() else {
        return false;
    };
    let mut data: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(&stream.content);
    let last = filters.len().saturating_sub(1);
    for (i, filter) in filters.iter().enumerate() {
        let len = data.len() as u64;
        match *filter {
            b"FlateDecode" => {
                let (out, past) = inflate(&data, cap, i < last);
                if past {
                    return true;
                }
                match out {
                    Some(out) => data = std::borrow::Cow::Owned(out),
                    None => return false,
                }
            }
            b"ASCII85Decode" | b"LZWDecode" => {
                let ratio = if *filter == b"LZWDecode" { 1300 } else { 4 };
                if len.saturating_mul(ratio) > cap {
                    return true;
                }
                if i < last {
                    let mut dict = Dictionary::new();
                    dict.set("Filter", Object::Name(filter.to_vec()));
                    match Stream::new(dict, data.into_owned()).decompressed_content() {
                        Ok(out) => data = std::borrow::Cow::Owned(out),
                        Err(_) => return false,
                    }
                }
            }
            // lopdf decodes no other filter, so nothing else can grow.
            _ => return false,
        }
    }
    false
}

/// Inflate `data` (zlib, else raw deflate as lopdf falls back to), counting at most `cap + 1`
/// bytes: whether it passes the cap, and the bytes when `keep` (for a later filter).
fn inflate(data: &[u8], cap: u64, keep: bool) -> (Option<Vec<u8>>, bool) {
    let run = |r: &mut dyn Read| -> (Vec<u8>, u64) {
        let mut limited = r.take(cap + 1);
        if keep {
            let mut out = Vec::new();
            let _ = limited.read_to_end(&mut out);
            let n = out.len() as u64;
            (out, n)
        } else {
            (Vec::new(), std::io::copy(&mut limited, &mut std::io::sink()).unwrap_or(0))
        }
    };
    let (mut out, mut n) = run(&mut flate2::read::ZlibDecoder::new(data));
    if n == 0 && data.len() > 2 {
        (out, n) = run(&mut flate2::read::DeflateDecoder::new(&data[2..]));
    }
    if n > cap {
        return (None, true);
    }
    (keep.then_some(out), false)
}

/// The first stream the load filter emptied for passing the cap.
fn capped_stream(doc: &Document, limits: &Limits) -> Option<ExtractError> {
    doc.objects.iter().find_map(|(&(object, generation), o)| match o {
        Object::Stream(s) if s.dict.has(CAPPED) => Some(ExtractError::PdfStreamTooLarge {
            object,
            generation,
            limit: limits.extract_part_bytes,
        }),
        _ => None,
    })
}

/// Does page `page` draw a form that draws itself, or forms nested past [`FORM_DEPTH`]?
/// Mirrors pdf-extract: a form's `Do` names are looked up in its own resources, else in those
/// it was drawn with; the names a form draws are read from its content.
fn form_loop(doc: &Document, page: ObjectId) -> bool {
    let Some(resources) = page_resources(doc, page) else {
        return false;
    };
    let mut path = Vec::new();
    let mut done = HashSet::new();
    xobjects(doc, resources, None)
        .into_iter()
        .any(|id| visit(doc, id, resources, &mut path, &mut done))
}

type Key = (ObjectId, usize);

fn visit(
    doc: &Document,
    id: ObjectId,
    inherited: &Dictionary,
    path: &mut Vec<Key>,
    done: &mut HashSet<Key>,
) -> bool {
    // The resources a form was drawn with change what its names mean, so they are part of
    // the key (by address: the same dictionary object).
    let key = (id, std::ptr::from_ref(inherited) as usize);
    if path.contains(&key) || path.len() >= FORM_DEPTH {
        return true;
    }
    if done.contains(&key) {
        return false;
    }
    let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
        return false;
    };
    if stream.dict.get(b"Subtype").and_then(Object::as_name).map_or(true, |n| n != b"Form") {
        done.insert(key);
        return false;
    }
    let own = stream.dict.get(b"Resources").ok().and_then(|r| deref_dict(doc, r));
    let resources = own.unwrap_or(inherited);
    let names = drawn_names(stream);
    path.push(key);
    let looped = xobjects(doc, resources, Some(&names))
        .into_iter()
        .any(|child| visit(doc, child, resources, path, done));
    path.pop();
    done.insert(key);
    looped
}

/// The names a content stream draws with `Do`.
fn drawn_names(stream: &Stream) -> HashSet<Vec<u8>> {
    let Ok(content) = stream.decompressed_content() else {
        return HashSet::new();
    };
    let Ok(ops) = pdf_extract::content::Content::decode(&content) else {
        return HashSet::new();
    };
    ops.operations
        .iter()
        .filter(|op| op.operator == "Do")
        .filter_map(|op| op.operands.first()?.as_name().ok().map(<[u8]>::to_vec))
        .collect()
}

/// The XObjects in `resources` (only those named in `names`, when given).
fn xobjects(
    doc: &Document,
    resources: &Dictionary,
    names: Option<&HashSet<Vec<u8>>>,
) -> Vec<ObjectId> {
    let Some(dict) = resources.get(b"XObject").ok().and_then(|x| deref_dict(doc, x)) else {
        return Vec::new();
    };
    dict.iter()
        .filter(|(name, _)| names.is_none_or(|n| n.contains(name.as_slice())))
        .filter_map(|(_, v)| v.as_reference().ok())
        .collect()
}

fn deref_dict<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Dictionary> {
    doc.dereference(o).ok()?.1.as_dict().ok()
}

/// A page's resources, inherited through its parents as pdf-extract finds them.
fn page_resources(doc: &Document, page: ObjectId) -> Option<&Dictionary> {
    let mut dict = doc.get_dictionary(page).ok()?;
    for _ in 0..64 {
        if let Some(r) = dict.get(b"Resources").ok().and_then(|r| deref_dict(doc, r)) {
            return Some(r);
        }
        dict = doc.get_dictionary(dict.get(b"Parent").ok()?.as_reference().ok()?).ok()?;
    }
    None
}

/// Title, author and dates of the `Info` dictionary.
fn properties(doc: &Document) -> Properties {
    let Some(info) = doc.trailer.get(b"Info").ok().and_then(|i| deref_dict(doc, i)) else {
        return Properties::default();
    };
    let text = |key: &[u8]| -> Option<String> {
        let o = doc.dereference(info.get(key).ok()?).ok()?.1;
        let s = pdf_extract::decode_text_string(o).ok()?;
        let s = s.trim().trim_matches('\0');
        (!s.is_empty()).then(|| s.chars().take(4096).collect())
    };
    Properties {
        title: text(b"Title"),
        creator: text(b"Author"),
        created: text(b"CreationDate").and_then(|d| props::pdf_date(&d)),
        modified: text(b"ModDate").and_then(|d| props::pdf_date(&d)),
        ..Properties::default()
    }
}

/// Typographic ligatures (U+FB00–U+FB06) as their letters: PDF fonts draw "fi" as one glyph,
/// and a search for "file" must find it. Only these: full NFKC would also rewrite superscripts,
/// fractions and full-width forms, which pdftotext keeps.
fn expand_ligatures(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One page's text, refusing more than the room left under the text cap: writing fails once
/// full, which stops pdf-extract mid-page.
struct Capped {
    text: String,
    max: usize,
    full: bool,
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = self.max.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        self.text.push_str(&s[..s.floor_char_boundary(room)]);
        self.full = true;
        Err(std::fmt::Error)
    }
}

impl<'a> ConvertToFmt for &'a mut Capped {
    type Writer = &'a mut Capped;
    fn convert(self) -> Self::Writer {
        self
    }
}

fn describe(e: &OutputError) -> String {
    match e {
        OutputError::PdfError(e) => e.to_string(),
        OutputError::IoError(e) => e.to_string(),
        OutputError::FormatError(e) => e.to_string(),
    }
}

/// A panic's message, when it has one.
fn message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic without a message".to_owned())
}
