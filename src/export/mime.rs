//! The little MIME the Chat and Voice exports write: base64 and quoted-printable bodies, quoted
//! header parameters, CRLF line endings throughout (Gmail's canonical form, which real Chat
//! exports have). Written here rather than taken from a crate: the encoders are a few lines, and
//! the only MIME crate we depend on (mail-parser) reads, not writes.

/// Append `bytes` as base64 in lines of 76 characters, each ending in CRLF.
pub fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut col = 0;
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sym = |i: u32| ABC[((n >> (18 - 6 * i)) & 63) as usize];
        out.push(sym(0));
        out.push(sym(1));
        out.push(if chunk.len() > 1 { sym(2) } else { b'=' });
        out.push(if chunk.len() > 2 { sym(3) } else { b'=' });
        col += 4;
        if col == 76 {
            out.extend_from_slice(b"\r\n");
            col = 0;
        }
    }
    if col > 0 {
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
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
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
