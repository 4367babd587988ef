//! The searchable text of a Drive file, as Vault searches it: text files, HTML, DOCX, XLSX,
//! PPTX, ODT, ODS, ODP and PDF text, the first 100 pages of each, at most
//! [`Limits::extract_text_bytes`] of text. Vault does not search images, audio, video,
//! archives, binary files or encrypted content, and neither does this (`vault-export-facts.md`
//! §6.6).
//!
//! Pure functions over bytes: no store, no index. [`extract`] never fails and never panics:
//! whatever text could be read is in [`Extracted::text`], and what could not is said in
//! [`Extracted::problem`] and [`Extracted::truncated`], which [`Extracted::defects`] turns into
//! the record's defects. A file is never skipped without saying so.
//!
//! The kind is read from the content (`%PDF-`, a zip holding `[Content_Types].xml` and
//! `word/document.xml`, an ODF `mimetype` entry, …); the name and MIME type only decide
//! between plain text and HTML and name a file whose container cannot be opened, because a
//! custodian's file names and a server's MIME types are often wrong.
//!
//! Memory is bounded by the limits, not by the file: text and HTML are decoded only as far as
//! the text cap (HTML at most [`Limits::extract_part_bytes`] of markup), office parts are
//! streamed through the XML reader with their inflated bytes counted, PDFs and zips larger than
//! [`Limits::extract_file_bytes`] are not opened. Callers pass the file as a slice, typically a
//! memory map of the stored blob, so the input itself is never copied.
//!
//! ```
//! let html = b"<html><script>x()</script><p>Quarterly &amp; annual</p></html>";
//! let out = ediscovery::extract::extract(html, "r.html", None, &ediscovery::Limits::default());
//! assert_eq!(out.kind, ediscovery::extract::FileKind::Html);
//! assert_eq!(out.text.trim(), "Quarterly & annual");
//! assert!(out.defects().is_empty());
//! ```

mod detect;
mod error;
pub(crate) mod html;
mod odf;
mod ooxml;
mod parts;
mod pdf;
mod props;
mod sink;
mod text;
mod xml;

pub use error::ExtractError;
pub use props::Properties;

use crate::Limits;
use crate::model::Defect;
use detect::Sniffed;
use serde::Serialize;
use sink::Sink;

/// What a file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FileKind {
    /// Plain text in any encoding (UTF-8, UTF-16 with a BOM, otherwise windows-1252).
    Text,
    /// HTML or XHTML.
    Html,
    /// Word (OOXML).
    Docx,
    /// Excel (OOXML).
    Xlsx,
    /// PowerPoint (OOXML).
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
    /// PDF.
    Pdf,
    /// Content Vault does not search.
    Unsupported(Unsupported),
}

/// Content whose text is not searched, as Vault does not search it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unsupported {
    /// PNG, JPEG, GIF, TIFF, WebP, BMP.
    Image,
    /// MP3 with an ID3 tag, WAV, FLAC, Ogg (a bare MPEG frame has too weak a signature: it is
    /// caught as binary).
    Audio,
    /// MP4/QuickTime, AVI, Matroska/WebM.
    Video,
    /// A zip (other than an office file), gzip, 7z, RAR: Vault does not search inside.
    Archive,
    /// Word, Excel or PowerPoint 97–2003 (OLE2 compound files), not read here.
    LegacyOffice,
    /// Anything else with NUL bytes in its first 8 KiB.
    Binary,
}

impl Unsupported {
    /// Why its text is not searchable, for reports and defects.
    pub fn reason(self) -> &'static str {
        match self {
            Unsupported::Image => "image: Vault does not search image content",
            Unsupported::Audio => "audio: Vault does not search audio content",
            Unsupported::Video => "video: Vault does not search video content",
            Unsupported::Archive => "archive: Vault does not search inside archives",
            Unsupported::LegacyOffice => {
                "Office 97-2003 binary document (OLE2): its text is not extracted"
            }
            Unsupported::Binary => "binary content: Vault does not search it",
        }
    }
}

/// A cap that cut the text short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "cap", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Truncation {
    /// [`Limits::extract_text_bytes`] of text were reached.
    TextBytes {
        /// The limit in force.
        limit: u64,
    },
    /// The file has more pages than [`Limits::extract_pages`]; the rest were not read.
    Pages {
        /// The limit in force.
        limit: u32,
    },
    /// An HTML file is longer than [`Limits::extract_part_bytes`]; the rest was not read.
    PartBytes {
        /// The limit in force.
        limit: u64,
    },
}

impl Truncation {
    /// The name of the [`Limits`] field, and its value.
    pub fn cap(&self) -> (&'static str, u64) {
        match *self {
            Truncation::TextBytes { limit } => ("extract_text_bytes", limit),
            Truncation::Pages { limit } => ("extract_pages", u64::from(limit)),
            Truncation::PartBytes { limit } => ("extract_part_bytes", limit),
        }
    }
}

/// The text of one file and how it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Extracted {
    /// The searchable text: paragraphs, cells and pages separated by line breaks, at most
    /// [`Limits::extract_text_bytes`] bytes.
    pub text: String,
    /// What the file was read as.
    pub kind: FileKind,
    /// Pages in the file, where the format counts them (PDF pages, slides, ODP pages, DOCX
    /// pages as Word last laid them out), all of them, not only those read.
    pub pages: Option<u32>,
    /// The cap that cut the text short, if one did.
    pub truncated: Option<Truncation>,
    /// Why some or all of the text could not be read; the text before it is kept.
    pub problem: Option<ExtractError>,
    /// Author, title and dates the file states about itself.
    pub properties: Properties,
}

impl Extracted {
    fn new(kind: FileKind) -> Self {
        Extracted {
            text: String::new(),
            kind,
            pages: None,
            truncated: None,
            problem: None,
            properties: Properties::default(),
        }
    }

    /// The record's defects for this extraction: `text_not_extracted` when the content is not
    /// searchable or a problem stopped the reading, `text_truncated` when a cap did. Unsupported
    /// kinds count too, so a report can list every file whose content no search reaches.
    pub fn defects(&self) -> Vec<Defect> {
        let mut out = Vec::new();
        if let FileKind::Unsupported(u) = self.kind {
            out.push(Defect::TextNotExtracted { reason: u.reason().to_owned() });
        }
        if let Some(p) = &self.problem {
            out.push(Defect::TextNotExtracted { reason: p.to_string() });
        }
        if let Some(t) = self.truncated {
            let (cap, limit) = t.cap();
            out.push(Defect::TextTruncated { cap: cap.to_owned(), limit });
        }
        out
    }
}

/// The searchable text of a file: `bytes` its content, `name` its file name and `mime` its
/// declared type (both hints only, see the module docs). Never fails: see [`Extracted`].
pub fn extract(bytes: &[u8], name: &str, mime: Option<&str>, limits: &Limits) -> Extracted {
    let sniffed = detect::sniff(bytes, name, mime);
    let too_large = || ExtractError::FileTooLarge {
        size: bytes.len() as u64,
        limit: limits.extract_file_bytes,
    };
    match sniffed {
        Sniffed::Text => text::extract_text(bytes, limits),
        Sniffed::Html => html::extract_html(bytes, limits),
        Sniffed::Unsupported(u) => Extracted::new(FileKind::Unsupported(u)),
        Sniffed::EncryptedOffice => {
            let mut out = Extracted::new(detect::hinted(name, mime).unwrap_or(FileKind::Docx));
            out.problem = Some(ExtractError::Encrypted { what: "Office document" });
            out
        }
        Sniffed::Pdf | Sniffed::Zip if bytes.len() as u64 > limits.extract_file_bytes => {
            let kind = match sniffed {
                Sniffed::Pdf => FileKind::Pdf,
                _ => detect::hinted(name, mime)
                    .unwrap_or(FileKind::Unsupported(Unsupported::Archive)),
            };
            let mut out = Extracted::new(kind);
            out.problem = Some(too_large());
            out
        }
        Sniffed::Pdf => pdf::extract_pdf(bytes, limits),
        Sniffed::Zip => extract_zip(bytes, name, mime, limits),
    }
}

/// How many bytes of a file of `size` bytes [`extract_prefix`] needs, judged from its first
/// bytes `head` (8 KiB or the whole file): a text file's first `4 × extract_text_bytes` (enough
/// for the text cap in any encoding), an HTML file's first `extract_part_bytes + 1`, a PDF,
/// office or OLE2 file whole when it is within `extract_file_bytes` and nothing more otherwise
/// (it will not be opened), and nothing past `head` for content that is not searched. So a
/// caller streaming a file (ingest hashes it as it reads) keeps at most this much of it.
pub fn prefix_needed(
    head: &[u8],
    size: u64,
    name: &str,
    mime: Option<&str>,
    limits: &Limits,
) -> u64 {
    let whole_if_small = if size > limits.extract_file_bytes { head.len() as u64 } else { size };
    let want = match detect::sniff(head, name, mime) {
        Sniffed::Text => (limits.extract_text_bytes as u64).saturating_mul(4).saturating_add(4),
        Sniffed::Html => limits.extract_part_bytes.saturating_add(1),
        Sniffed::Pdf | Sniffed::Zip | Sniffed::EncryptedOffice => whole_if_small,
        Sniffed::Unsupported(_) if head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") => {
            whole_if_small
        }
        Sniffed::Unsupported(_) => head.len() as u64,
    };
    want.max(head.len() as u64).min(size.max(head.len() as u64))
}

/// [`extract`] of the first bytes of a file of `size` bytes (`prefix` as [`prefix_needed`]
/// asked for, or the whole file): the same result as over the whole file, without holding it.
/// A PDF or office file larger than [`Limits::extract_file_bytes`] is said to be too large with
/// its real size; a text file cut short is marked truncated at the text cap.
pub fn extract_prefix(
    prefix: &[u8],
    size: u64,
    name: &str,
    mime: Option<&str>,
    limits: &Limits,
) -> Extracted {
    let cut = (prefix.len() as u64) < size;
    let sniffed = detect::sniff(prefix, name, mime);
    if cut && size > limits.extract_file_bytes && matches!(sniffed, Sniffed::Pdf | Sniffed::Zip) {
        let kind = match sniffed {
            Sniffed::Pdf => FileKind::Pdf,
            _ => detect::hinted(name, mime).unwrap_or(FileKind::Unsupported(Unsupported::Archive)),
        };
        let mut out = Extracted::new(kind);
        out.problem = Some(ExtractError::FileTooLarge { size, limit: limits.extract_file_bytes });
        return out;
    }
    let mut out = extract(prefix, name, mime, limits);
    if cut && out.truncated.is_none() && out.problem.is_none() && out.kind == FileKind::Text {
        out.truncated = Some(Truncation::TextBytes { limit: limits.extract_text_bytes as u64 });
    }
    out
}

/// A zip: an OOXML or ODF file by its parts, any other zip an archive.
fn extract_zip(bytes: &[u8], name: &str, mime: Option<&str>, limits: &Limits) -> Extracted {
    let mut zip: parts::Zip<'_> = match crate::format::zip::ZipIn::new(std::io::Cursor::new(bytes))
    {
        Ok(z) => z,
        Err(e) => {
            let kind =
                detect::hinted(name, mime).unwrap_or(FileKind::Unsupported(Unsupported::Archive));
            let mut out = Extracted::new(kind);
            out.problem = Some(ExtractError::Zip { message: e.to_string() });
            return out;
        }
    };
    if let Some((kind, main)) = ooxml::kind(&mut zip, limits) {
        return ooxml::extract(&mut zip, kind, &main, limits);
    }
    match odf::kind(&mut zip) {
        Some(kind) => odf::extract(&mut zip, kind, limits),
        None => Extracted::new(FileKind::Unsupported(Unsupported::Archive)),
    }
}

/// Text gathered into a [`Sink`] plus what stopped it, turned into an [`Extracted`].
fn finish(
    kind: FileKind,
    sink: Sink,
    pages: Option<u32>,
    page_cut: Option<u32>,
    problem: Option<ExtractError>,
    properties: Properties,
) -> Extracted {
    let truncated = if sink.is_full() {
        Some(Truncation::TextBytes { limit: sink.max() as u64 })
    } else {
        page_cut.map(|limit| Truncation::Pages { limit })
    };
    Extracted { text: sink.into_text(), kind, pages, truncated, problem, properties }
}
