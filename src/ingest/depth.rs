//! How deep a message's MIME structure nests, read from the bytes before mail-parser sees them.
//!
//! mail-parser parses nested parts with a heap stack, but a `message/rfc822` part becomes a
//! `Message` inside its parent's `Message`, and dropping (or `into_owned`-ing) that chain recurses
//! once per level: 40,000 levels overflowed the stack and aborted the whole ingest. So before
//! parsing, [`too_deep_at`] follows the same structure mail-parser follows (multipart boundaries,
//! `message/rfc822` bodies, the implicit `message/rfc822` children of `multipart/digest`, and the
//! base64 or quoted-printable encoded messages mail-parser decodes and parses up to three levels
//! down) and says where the nesting first passes the limit. The caller parses only the bytes
//! before that point; the stored bytes are never cut.
//!
//! Depth counts containers: a part inside `multipart/mixed` inside a forwarded message is at
//! depth 2. Every container needs a `Content-Type` header of its own (a digest child at most
//! every second level), so ordinary mail, which nests a handful of levels, can never be flagged.
//! The scan is iterative and linear in the message size.

use memchr::memmem;

/// How many times mail-parser decodes an encoded `message/rfc822` part and parses what is inside
/// (its `MAX_NESTED_ENCODED`); deeper encoded messages stay binary and are not parsed.
const ENCODED_LEVELS: u8 = 3;

/// The byte offset of the header of the first part that nests deeper than `limit`, or `None`
/// when the whole message is within it.
pub fn too_deep_at(bytes: &[u8], limit: usize) -> Option<usize> {
    scan(bytes, 0, limit, ENCODED_LEVELS)
}

/// A container that is open at the current position.
enum Frame {
    /// A multipart with its boundary; `digest` makes untyped children `message/rfc822`.
    Multipart { boundary: Vec<u8>, digest: bool },
    /// A `message/rfc822` part: it ends where its enclosing multipart's next boundary is.
    Message,
}

/// What a part is, as far as nesting goes.
enum Kind {
    Multipart { boundary: Vec<u8>, digest: bool },
    Message { encoded: bool },
    Leaf,
}

fn scan(bytes: &[u8], base: usize, limit: usize, decodes_left: u8) -> Option<usize> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = 0;
    loop {
        let header_start = pos;
        let (headers, body) = header_fields(bytes, pos);
        let in_digest = matches!(stack.last(), Some(Frame::Multipart { digest: true, .. }));
        pos = body;
        match kind(&headers, in_digest) {
            Kind::Multipart { boundary, digest } => {
                if let Some(after) =
                    find_boundary(bytes, body, &boundary).map(|b| line_end(bytes, b.end))
                {
                    stack.push(Frame::Multipart { boundary, digest });
                    if base + stack.len() > limit {
                        return Some(header_start);
                    }
                    pos = after;
                    continue;
                }
                // A multipart whose boundary never comes is read as one leaf, as mail-parser does.
            }
            Kind::Message { encoded: false } => {
                stack.push(Frame::Message);
                if base + stack.len() > limit {
                    return Some(header_start);
                }
                continue;
            }
            Kind::Message { encoded: true } if decodes_left > 0 => {
                let end = innermost_boundary(&stack)
                    .and_then(|b| find_boundary(bytes, body, b))
                    .map_or(bytes.len(), |b| b.start);
                let inner = decode(&headers, &bytes[body..end]);
                let depth = base + stack.len() + 1;
                if depth > limit || scan(&inner, depth, limit, decodes_left - 1).is_some() {
                    return Some(header_start);
                }
            }
            Kind::Message { .. } | Kind::Leaf => {}
        }
        pos = next_part(bytes, pos, &mut stack)?;
    }
}

/// After a leaf: the start of the next part's headers, closing every container that ends on the
/// way; `None` when the message ends first.
fn next_part(bytes: &[u8], from: usize, stack: &mut Vec<Frame>) -> Option<usize> {
    let mut pos = from;
    loop {
        let found = find_boundary(bytes, pos, innermost_boundary(stack)?)?;
        // Messages inside the multipart end at its boundary.
        while matches!(stack.last(), Some(Frame::Message)) {
            stack.pop();
        }
        let closing = bytes[found.end..].starts_with(b"--");
        pos = line_end(bytes, found.end);
        if !closing {
            return Some(pos);
        }
        stack.pop();
    }
}

fn innermost_boundary(stack: &[Frame]) -> Option<&[u8]> {
    stack.iter().rev().find_map(|f| match f {
        Frame::Multipart { boundary, .. } => Some(boundary.as_slice()),
        Frame::Message => None,
    })
}

/// The next `--boundary` at or after `from` (anywhere, as mail-parser looks for it).
fn find_boundary(bytes: &[u8], from: usize, boundary: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut needle = Vec::with_capacity(boundary.len() + 2);
    needle.extend_from_slice(b"--");
    needle.extend_from_slice(boundary);
    let at = from + memmem::find(bytes.get(from..)?, &needle)?;
    Some(at..at + needle.len())
}

/// The offset just past the line feed that ends the line holding `at`.
fn line_end(bytes: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &bytes[at.min(bytes.len())..]).map_or(bytes.len(), |i| at + i + 1)
}

/// The Content-Type and Content-Transfer-Encoding values of the header block at `from` (the last
/// of each, as mail-parser reads them), and where the body starts.
fn header_fields(bytes: &[u8], from: usize) -> (Headers, usize) {
    let mut h = Headers::default();
    let mut pos = from;
    let mut current: Option<&mut Vec<u8>> = None;
    while pos < bytes.len() {
        let end = line_end(bytes, pos);
        let line = &bytes[pos..end];
        pos = end;
        if line == b"\n" || line == b"\r\n" {
            break;
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            if let Some(v) = current.as_mut() {
                v.extend_from_slice(line);
            }
            continue;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        current = if name.trim_ascii().eq_ignore_ascii_case(b"content-type") {
            h.content_type = value.to_vec();
            Some(&mut h.content_type)
        } else if name.trim_ascii().eq_ignore_ascii_case(b"content-transfer-encoding") {
            h.encoding = value.to_vec();
            Some(&mut h.encoding)
        } else {
            None
        };
    }
    (h, pos)
}

#[derive(Default)]
struct Headers {
    content_type: Vec<u8>,
    encoding: Vec<u8>,
}

impl Headers {
    fn encoding_is(&self, name: &[u8]) -> bool {
        self.encoding.trim_ascii().eq_ignore_ascii_case(name)
    }
}

fn kind(h: &Headers, in_digest: bool) -> Kind {
    let value = h.content_type.trim_ascii();
    let encoded = h.encoding_is(b"base64") || h.encoding_is(b"quoted-printable");
    if value.is_empty() {
        return if in_digest { Kind::Message { encoded } } else { Kind::Leaf };
    }
    let (mime, params) = value.split_at(memchr::memchr(b';', value).unwrap_or(value.len()));
    let mime = mime.trim_ascii().to_ascii_lowercase();
    if let Some(sub) = mime.strip_prefix(b"multipart/") {
        return match parameter(params, b"boundary") {
            Some(boundary) => Kind::Multipart { boundary, digest: sub == b"digest" },
            None => Kind::Leaf,
        };
    }
    match mime.as_slice() {
        b"message/rfc822" | b"message/global" => Kind::Message { encoded },
        _ => Kind::Leaf,
    }
}

/// A `name=value` or `name="value"` parameter of a header value's `;`-separated list.
fn parameter(params: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    params.split(|&b| b == b';').find_map(|p| {
        let eq = memchr::memchr(b'=', p)?;
        if !p[..eq].trim_ascii().eq_ignore_ascii_case(name) {
            return None;
        }
        let v = p[eq + 1..].trim_ascii();
        let v = match v.strip_prefix(b"\"") {
            Some(rest) => &rest[..memchr::memchr(b'"', rest).unwrap_or(rest.len())],
            None => v,
        };
        (!v.is_empty()).then(|| v.to_vec())
    })
}

/// The body of an encoded message part, decoded as mail-parser decodes it. When the decoder
/// refuses it, the raw body is scanned instead: that can only count more levels, never fewer.
fn decode(h: &Headers, body: &[u8]) -> Vec<u8> {
    super::mime::decode_transfer(h.encoding_is(b"base64"), body).unwrap_or_else(|| body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize, ct: &str) -> Vec<u8> {
        let mut m = Vec::new();
        for i in 0..levels {
            m.extend_from_slice(format!("Subject: {i}\nContent-Type: {ct}\n\n").as_bytes());
        }
        m.extend_from_slice(b"Subject: leaf\n\nbottom\n");
        m
    }

    #[test]
    fn counts_rfc822_levels_and_cuts_at_the_first_too_deep_header() {
        let m = nested(5, "message/rfc822");
        assert_eq!(too_deep_at(&m, 5), None);
        let at = too_deep_at(&m, 4).unwrap();
        assert!(m[at..].starts_with(b"Subject: 4\n"), "{}", String::from_utf8_lossy(&m[at..]));
    }

    #[test]
    fn ordinary_structures_are_shallow() {
        let m = b"Content-Type: multipart/mixed; boundary=\"a\"\n\npreamble\n--a\n\
Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n\
Content-Type: text/html\n\n<p>hi</p>\n--b--\n--a\nContent-Type: message/rfc822\n\n\
Subject: fwd\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\nfwd text\n--c--\n\n--a\n\
Content-Type: application/pdf\n\n%PDF\n--a--\n";
        // mixed > alternative > text is 2; mixed > rfc822 > mixed > text is 3.
        assert_eq!(too_deep_at(m, 3), None);
        let at = too_deep_at(m, 2).unwrap();
        assert!(m[at..].starts_with(b"Subject: fwd\n"), "{}", String::from_utf8_lossy(&m[at..]));
        // Siblings close their containers: a thousand parts side by side are depth 1.
        let mut wide = b"Content-Type: multipart/mixed; boundary=w\n\n".to_vec();
        for _ in 0..1000 {
            wide.extend_from_slice(b"--w\nContent-Type: message/rfc822\n\nSubject: x\n\nx\n");
        }
        wide.extend_from_slice(b"--w--\n");
        assert_eq!(too_deep_at(&wide, 2), None);
    }

    #[test]
    fn untyped_children_of_a_digest_are_messages() {
        // Untyped children of a digest are messages: digest > message > digest > message > leaf.
        let d = b"Content-Type: multipart/digest; boundary=d1\n\n--d1\n\n\
Content-Type: multipart/digest; boundary=d2\n\n--d2\n\nSubject: leaf\n\nx\n--d2--\n--d1--\n";
        assert_eq!(too_deep_at(d, 4), None);
        assert!(too_deep_at(d, 3).is_some());
    }
}
