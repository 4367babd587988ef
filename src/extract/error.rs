//! Why the text of a file could not be read, or not all of it.

/// What went wrong while extracting one file's text. Each names the part of the file (a zip
/// entry, a PDF page or object) and, for XML, the byte offset inside the inflated part, so a
/// reviewer can find the spot; the text read before the problem is kept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExtractError {
    /// The file is larger than `Limits::extract_file_bytes`, so its reader was not started.
    #[error("file of {size} bytes is larger than {limit} bytes (limit extract_file_bytes)")]
    FileTooLarge {
        /// The file's size.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The zip container could not be opened (cut short, or not a zip after all).
    #[error("zip container unreadable: {message}")]
    Zip {
        /// The zip reader's words.
        message: String,
    },
    /// One entry of the zip could not be read (encrypted, unsupported compression, bad CRC).
    #[error("zip entry {entry:?} unreadable: {message}")]
    ZipEntry {
        /// The entry name.
        entry: String,
        /// The zip reader's words.
        message: String,
    },
    /// An entry inflates past `Limits::extract_part_bytes`: a zip bomb, or a part too large to
    /// index.
    #[error("zip entry {entry:?} inflates past {limit} bytes (limit extract_part_bytes)")]
    PartTooLarge {
        /// The entry name.
        entry: String,
        /// The limit in force.
        limit: u64,
    },
    /// The parts read so far inflate past `Limits::extract_inflated_bytes` together.
    #[error(
        "zip entries inflate past {limit} bytes together at {entry:?} (limit extract_inflated_bytes)"
    )]
    InflatedTooLarge {
        /// The entry being read when the total passed the limit.
        entry: String,
        /// The limit in force.
        limit: u64,
    },
    /// A part the format requires is missing (a DOCX without its document part).
    #[error("required part {entry:?} is missing")]
    MissingPart {
        /// The part's name.
        entry: String,
    },
    /// A part is not well-formed XML.
    #[error("XML error in {entry:?} at byte {at}: {message}")]
    Xml {
        /// The entry name.
        entry: String,
        /// Byte offset in the inflated entry.
        at: u64,
        /// The XML reader's words.
        message: String,
    },
    /// A part nests deeper than `Limits::extract_xml_depth`.
    #[error(
        "XML in {entry:?} nests deeper than {limit} levels at byte {at} (limit extract_xml_depth)"
    )]
    XmlTooDeep {
        /// The entry name.
        entry: String,
        /// Byte offset in the inflated entry.
        at: u64,
        /// The limit in force.
        limit: usize,
    },
    /// The content is encrypted: Vault does not search encrypted content, and neither does
    /// this engine (no password is tried beyond what opens without one).
    #[error("encrypted {what}: content not searchable")]
    Encrypted {
        /// What kind of file (`PDF`, `Office document`, `OpenDocument`).
        what: &'static str,
    },
    /// lopdf could not read the PDF's structure (broken cross-reference table, no trailer, …).
    #[error("PDF unreadable: {message}")]
    Pdf {
        /// lopdf's words.
        message: String,
    },
    /// One page could not be read; the other pages were.
    #[error("PDF page {page} unreadable: {message}")]
    PdfPage {
        /// The page number, from 1.
        page: u32,
        /// What failed.
        message: String,
    },
    /// The PDF reader panicked on a page (caught; the other pages were read).
    #[error("PDF reader failed on page {page}: {message}")]
    PdfPanicked {
        /// The page number, from 1.
        page: u32,
        /// The panic message.
        message: String,
    },
    /// A PDF stream inflates past `Limits::extract_part_bytes`; it was left out (read as
    /// empty) and the rest of the file was read.
    #[error(
        "PDF object {object} {generation} inflates past {limit} bytes (limit extract_part_bytes)"
    )]
    PdfStreamTooLarge {
        /// Object number.
        object: u32,
        /// Generation number.
        generation: u16,
        /// The limit in force.
        limit: u64,
    },
    /// A page draws a form that draws itself (directly or through others): reading it would
    /// never end, so the page was left out.
    #[error("PDF page {page} draws a form that draws itself")]
    PdfFormLoop {
        /// The page number, from 1.
        page: u32,
    },
    /// The PDF has pages but no text on them: scanned or image-only. Vault runs OCR on the
    /// first 10 pages of such files; this engine does not, so their text is not searchable.
    #[error("PDF with {pages} page(s) has no text layer (scanned or image-only; no OCR)")]
    NoTextLayer {
        /// How many pages the PDF has.
        pages: u32,
    },
}
