//! What a file is, read from its first bytes; the name and MIME type are hints only.

use super::{FileKind, Unsupported};

/// What the content says the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sniffed {
    Pdf,
    /// A zip: an office file or an archive, told apart by its entries.
    Zip,
    /// An OLE2 compound file holding an `EncryptedPackage`: how Office stores a
    /// password-protected DOCX, XLSX or PPTX.
    EncryptedOffice,
    Html,
    Text,
    Unsupported(Unsupported),
}

/// Bytes looked at for a NUL (as git and ripgrep decide "binary").
const BINARY_WINDOW: usize = 8 << 10;

pub(super) fn sniff(bytes: &[u8], name: &str, mime: Option<&str>) -> Sniffed {
    let head = &bytes[..bytes.len().min(BINARY_WINDOW)];
    // Acrobat accepts the header anywhere in the first 1024 bytes.
    if memchr::memmem::find(&head[..head.len().min(1024)], b"%PDF-").is_some() {
        return Sniffed::Pdf;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if head.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        // The stream name is stored in UTF-16LE in the compound file's directory.
        let package: Vec<u8> =
            "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
        return match memchr::memmem::find(bytes, &package) {
            Some(_) => Sniffed::EncryptedOffice,
            None => Sniffed::Unsupported(Unsupported::LegacyOffice),
        };
    }
    let bom = head.starts_with(b"\xEF\xBB\xBF")
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF");
    if !bom && let Some(u) = magic(head) {
        return Sniffed::Unsupported(u);
    }
    if !bom && memchr::memchr(0, head).is_some() {
        return Sniffed::Unsupported(Unsupported::Binary);
    }
    if looks_like_html(head) || html_hint(name, mime) { Sniffed::Html } else { Sniffed::Text }
}

/// Signatures of content Vault does not search.
fn magic(h: &[u8]) -> Option<Unsupported> {
    let at = |offset: usize, sig: &[u8]| h.get(offset..offset + sig.len()) == Some(sig);
    let kind = if at(0, b"\x89PNG\r\n\x1a\n")
        || at(0, b"\xFF\xD8\xFF")
        || at(0, b"GIF87a")
        || at(0, b"GIF89a")
        || at(0, b"II*\0")
        || at(0, b"MM\0*")
        || at(0, b"BM") && h.len() > 14 && h.get(6..10) == Some(&[0, 0, 0, 0])
        || at(0, b"RIFF") && at(8, b"WEBP")
    {
        Unsupported::Image
    } else if at(0, b"ID3") || at(0, b"fLaC") || at(0, b"OggS") || at(0, b"RIFF") && at(8, b"WAVE")
    {
        Unsupported::Audio
    } else if at(4, b"ftyp") || at(0, b"RIFF") && at(8, b"AVI ") || at(0, b"\x1A\x45\xDF\xA3") {
        Unsupported::Video
    } else if at(0, b"\x1F\x8B") || at(0, b"7z\xBC\xAF\x27\x1C") || at(0, b"Rar!\x1A\x07") {
        Unsupported::Archive
    } else {
        return None;
    };
    Some(kind)
}

/// Starts (after a BOM and white space) with `<!DOCTYPE html` or `<html`, case-insensitively.
fn looks_like_html(head: &[u8]) -> bool {
    let h = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let h = &h[h.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let starts = |p: &[u8]| h.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
    starts(b"<!doctype html") || starts(b"<html")
}

fn html_hint(name: &str, mime: Option<&str>) -> bool {
    let ext = extension(name);
    matches!(ext.as_str(), "html" | "htm" | "xhtml")
        || mime.is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m.starts_with("text/html") || m.starts_with("application/xhtml+xml")
        })
}

fn extension(name: &str) -> String {
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// The office kind a name or MIME type claims, for a file whose container could not be opened
/// (so the record still says what it was meant to be).
pub(super) fn hinted(name: &str, mime: Option<&str>) -> Option<FileKind> {
    let by_ext = match extension(name).as_str() {
        "docx" | "docm" => Some(FileKind::Docx),
        "xlsx" | "xlsm" => Some(FileKind::Xlsx),
        "pptx" | "pptm" => Some(FileKind::Pptx),
        "odt" => Some(FileKind::Odt),
        "ods" => Some(FileKind::Ods),
        "odp" => Some(FileKind::Odp),
        _ => None,
    };
    by_ext.or_else(|| {
        let m = mime?.trim().to_ascii_lowercase();
        [
            ("wordprocessingml", FileKind::Docx),
            ("spreadsheetml", FileKind::Xlsx),
            ("presentationml", FileKind::Pptx),
            ("opendocument.text", FileKind::Odt),
            ("opendocument.spreadsheet", FileKind::Ods),
            ("opendocument.presentation", FileKind::Odp),
        ]
        .into_iter()
        .find(|(needle, _)| m.contains(needle))
        .map(|(_, k)| k)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_over_the_name() {
        assert_eq!(sniff(b"%PDF-1.4\n", "notes.txt", Some("text/plain")), Sniffed::Pdf);
        assert_eq!(sniff(b"PK\x03\x04rest", "a.txt", None), Sniffed::Zip);
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0", "a.docx", None),
            Sniffed::Unsupported(Unsupported::Image)
        );
        assert_eq!(sniff(b"plain words", "a.docx", None), Sniffed::Text);
        assert_eq!(sniff(b"a\0b", "a.txt", None), Sniffed::Unsupported(Unsupported::Binary));
        assert_eq!(sniff(b"\xFF\xFEa\0b\0", "a.txt", None), Sniffed::Text);
        assert_eq!(sniff(b"  <!DOCTYPE HTML><p>x", "a.txt", None), Sniffed::Html);
        assert_eq!(sniff(b"<p>x</p>", "page.HTM", None), Sniffed::Html);
        assert_eq!(sniff(b"<p>x</p>", "blob", Some("Text/HTML; charset=utf-8")), Sniffed::Html);
        assert_eq!(sniff(b"", "empty", None), Sniffed::Text);
        assert_eq!(
            sniff(b"\x1F\x8B\x08\0", "a.txt", None),
            Sniffed::Unsupported(Unsupported::Archive)
        );
    }

    #[test]
    fn hints_name_a_broken_container() {
        assert_eq!(hinted("Report.DOCX", None), Some(FileKind::Docx));
        assert_eq!(
            hinted("blob", Some("application/vnd.oasis.opendocument.spreadsheet")),
            Some(FileKind::Ods)
        );
        assert_eq!(hinted("x.zip", Some("application/zip")), None);
    }
}
