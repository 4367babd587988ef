//! Text files: the only user of `encoding_rs`.
//!
//! The encoding is decided once per file, in this order: a byte-order mark (UTF-8, UTF-16LE,
//! UTF-16BE) is believed; then a label the caller found (an HTML `charset`); then the first
//! MiB is checked as UTF-8. Bytes that are not UTF-8 are taken as windows-1252 (what browsers
//! do for "Latin-1", with the curly quotes of 0x80–0x9F) when they outnumber the valid
//! non-ASCII UTF-8 characters: such a file was written in a legacy 8-bit encoding, and reading
//! it as UTF-8 would replace every accented letter and split the words around it. A UTF-8 file
//! with a few damaged bytes stays UTF-8, each bad sequence becoming U+FFFD. UTF-16 without a
//! BOM is not recognised (its NUL bytes make it binary, see `detect.rs`).
//!
//! Decoding writes into a buffer of at most the text cap, so a 5 GB file costs no more than a
//! 1 MB one.

use super::{Extracted, FileKind, Truncation};
use crate::Limits;
pub(super) use encoding_rs::Encoding;
use encoding_rs::{CoderResult, UTF_8, WINDOWS_1252};

/// How much of a file the UTF-8 check reads.
const SAMPLE: usize = 1 << 20;

/// A plain text file.
pub(super) fn extract_text(bytes: &[u8], limits: &Limits) -> Extracted {
    // Decoded straight into the result: `decode` already stops at the cap.
    let (text, full) = decode(bytes, None, limits.extract_text_bytes);
    let mut out = Extracted::new(FileKind::Text);
    out.text = text;
    if full {
        out.truncated = Some(Truncation::TextBytes { limit: limits.extract_text_bytes as u64 });
    }
    out
}

/// The encoding an HTML `charset` label names (WHATWG labels: `latin1` is windows-1252).
pub(super) fn label(name: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_label(name)
}

/// Decode `bytes` into at most `max` bytes of UTF-8; `true` when the output filled up before
/// the input ended.
pub(super) fn decode(bytes: &[u8], label: Option<&'static Encoding>, max: usize) -> (String, bool) {
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((enc, bom)) => (enc, &bytes[bom..]),
        // A UTF-16 label in a file without a BOM lies (the label was found by reading the file
        // as ASCII); WHATWG reads such a file as UTF-8, which `output_encoding` gives.
        None => (label.map_or_else(|| guess(bytes), Encoding::output_encoding), bytes),
    };
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let need = decoder.max_utf8_buffer_length(body.len()).unwrap_or(usize::MAX);
    let mut out = String::with_capacity(need.min(max));
    let (result, _read, _replaced) = decoder.decode_to_string(body, &mut out, true);
    let mut full = result == CoderResult::OutputFull;
    if out.len() > max {
        out.truncate(out.floor_char_boundary(max));
        full = true;
    }
    (out, full)
}

/// UTF-8 unless invalid sequences outnumber valid non-ASCII characters in the first MiB.
fn guess(bytes: &[u8]) -> &'static Encoding {
    let sample = &bytes[..bytes.len().min(SAMPLE)];
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut chunks = sample.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        // A character cut by the end of the sample is not an error.
        let cut_short = chunks.peek().is_none() && sample.len() < bytes.len();
        if !chunk.invalid().is_empty() && !cut_short {
            invalid += 1;
        }
    }
    if invalid > valid { WINDOWS_1252 } else { UTF_8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        decode(bytes, None, 1 << 20).0
    }

    #[test]
    fn encodings_are_decided_as_documented() {
        assert_eq!(text("café".as_bytes()), "café");
        assert_eq!(text(b"\xEF\xBB\xBFcaf\xC3\xA9"), "café");
        assert_eq!(text(b"\xFF\xFEc\0a\0f\0\xE9\0"), "café");
        assert_eq!(text(b"\xFE\xFF\0c\0a\0f\0\xE9"), "café");
        // Legacy 8-bit: windows-1252, curly quotes included.
        assert_eq!(text(b"caf\xE9 \x93quoted\x94"), "café \u{201C}quoted\u{201D}");
        // Mostly UTF-8 with one damaged byte: stays UTF-8.
        assert_eq!(text(b"\xC3\xA9 \xC3\xA8 \xFF"), "é è \u{FFFD}");
        // An HTML label is used when there is no BOM.
        assert_eq!(decode(b"caf\xE9", label(b"iso-8859-1"), 100).0, "café");
    }

    #[test]
    fn output_is_capped_not_the_input_read() {
        let big = "word ".repeat(1000);
        let (s, full) = decode(big.as_bytes(), None, 12);
        assert_eq!((s.as_str(), full), ("word word wo", true));
        let (s, full) = decode("ééé".as_bytes(), None, 5);
        assert_eq!((s.as_str(), full), ("éé", true));
        let (s, full) = decode(b"abc", None, 3);
        assert_eq!((s.as_str(), full), ("abc", false));
    }
}
