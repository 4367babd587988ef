//! The little MIME the Chat and Voice exports write: base64 and quoted-printable bodies, quoted
//! header parameters, CRLF line endings throughout (Gmail's canonical form, which real Chat
//! exports have). Base64 is the `base64` crate's (already a dependency), cut into MIME lines; the
//! quoted-printable encoder is written here because the exact soft-break rules Gmail's exports
//! show are ours to keep, and the only MIME crate we depend on (mail-parser) reads, not writes.

use base64::Engine as _;

/// Append `bytes` as base64 in lines of 76 characters, each ending in CRLF.
pub fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    let mut line = String::with_capacity(76);
    // 57 bytes are 76 base64 characters: every line but the last is full.
    for chunk in bytes.chunks(57) {
        line.clear();
        base64::engine::general_purpose::STANDARD.encode_string(chunk, &mut line);
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Append `text` as quoted-printable (RFC 2045): lines at most 76 characters with soft breaks,
/// CR and LF of the text written as the hard line break CRLF, `=`, non-ASCII and control bytes
/// escaped, white space before a line break escaped. Ends with CRLF.
pub fn quoted_printable(text: &[u8], out: &mut Vec<u8>) {
    let mut line = 0usize;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'\r' || b == b'\n' {
            out.extend_from_slice(b"\r\n");
            line = 0;
            i += if b == b'\r' && text.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            continue;
        }
        let at_eol = matches!(text.get(i + 1), None | Some(b'\r' | b'\n'));
        // A line starting `From ` would be quoted by the mbox framing (and left quoted by
        // mboxo readers): its `F` is escaped instead.
        let from_line = line == 0 && text[i..].starts_with(b"From ");
        let plain = !from_line
            && ((b == b' ' || b == b'\t') && !at_eol || (33..=126).contains(&b) && b != b'=');
        let width = if plain { 1 } else { 3 };
        if line + width > 75 {
            out.extend_from_slice(b"=\r\n");
            line = 0;
        }
        if plain {
            out.push(b);
        } else {
            out.extend_from_slice(format!("={b:02X}").as_bytes());
        }
        line += width;
        i += 1;
    }
    out.extend_from_slice(b"\r\n");
}

/// A header parameter value in double quotes, with `"` and `\` escaped and line breaks and
/// other control characters replaced by a space, so a hostile file name can neither end the
/// header nor the quotes.
pub fn quoted(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            c if c.is_control() => s.push(' '),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A header value on one line: control characters (CR, LF…) become spaces.
pub fn one_line(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `text` escaped for HTML text and attribute values.
pub fn html_escape(text: &str, out: &mut String) {
    crate::format::html::escape_into(text, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg==\r\n"),
            ("fo", "Zm8=\r\n"),
            ("foo", "Zm9v\r\n"),
            ("foob", "Zm9vYg==\r\n"),
            ("fooba", "Zm9vYmE=\r\n"),
            ("foobar", "Zm9vYmFy\r\n"),
        ] {
            let mut out = Vec::new();
            base64(plain.as_bytes(), &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), enc, "{plain}");
        }
        let mut out = Vec::new();
        base64(&[0u8; 120], &mut out);
        assert!(out.split(|b| *b == b'\n').all(|l| l.len() <= 77));
    }

    #[test]
    fn quoted_printable_escapes_and_wraps() {
        let mut out = Vec::new();
        quoted_printable("a=b é \nx".as_bytes(), &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "a=3Db =C3=A9=20\r\nx\r\n");
        let mut out = Vec::new();
        quoted_printable(&[b'x'; 200], &mut out);
        assert!(String::from_utf8(out).unwrap().lines().all(|l| l.len() <= 76));
        let mut out = Vec::new();
        quoted_printable(b"From me\nFrom you", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "=46rom me\r\n=46rom you\r\n");
    }
}
