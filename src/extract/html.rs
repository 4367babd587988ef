//! HTML as the text a reader sees: tags, comments, scripts and styles removed, character
//! references decoded. One converter for every HTML the crate indexes: mail parts
//! (`ingest/mime.rs`) and Drive files alike.

use super::sink::Sink;
use super::{Extracted, FileKind, Truncation};
use crate::Limits;

/// An HTML file: its charset (a BOM, else a `charset` in its first 1024 bytes, else the text
/// guess of `text.rs`), then its first [`Limits::extract_part_bytes`] of markup as text.
pub(super) fn extract_html(bytes: &[u8], limits: &Limits) -> Extracted {
    let part = usize::try_from(limits.extract_part_bytes).unwrap_or(usize::MAX);
    let cut = bytes.len() > part;
    let mut markup = &bytes[..bytes.len().min(part)];
    if cut {
        // A tag cut in half by the cap is not text.
        if let Some(lt) = memchr::memrchr(b'<', markup)
            && memchr::memchr(b'>', &markup[lt..]).is_none()
        {
            markup = &markup[..lt];
        }
    }
    let (html, _) = super::text::decode(markup, charset(markup), part);
    let mut sink = Sink::new(limits.extract_text_bytes);
    sink.push(html_text(&html).trim_start());
    let mut out = Extracted::new(FileKind::Html);
    out.truncated = if sink.is_full() {
        Some(Truncation::TextBytes { limit: limits.extract_text_bytes as u64 })
    } else if cut {
        Some(Truncation::PartBytes { limit: limits.extract_part_bytes })
    } else {
        None
    };
    out.text = sink.into_text();
    out
}

/// The encoding a `<meta charset=…>` or `<meta … content="…; charset=…">` in the first 1024
/// bytes names (the HTML standard's prescan looks that far).
fn charset(markup: &[u8]) -> Option<&'static super::text::Encoding> {
    let head = &markup[..markup.len().min(1024)];
    let lower = head.to_ascii_lowercase();
    let at = memchr::memmem::find(&lower, b"charset=")? + b"charset=".len();
    let rest = &head[at..];
    let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
    let len = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || b"-_:.".contains(c)).count();
    super::text::label(&rest[..len])
}

/// A decoded character reference.
enum Decoded {
    Char(char),
    Str(&'static str),
}

/// The text `&name;` or `&#nnn;` / `&#xhh;` stands for (`name` without `&` and `;`): a number
/// that is no character is U+FFFD, an unknown name `None`.
fn decode_reference(name: &str) -> Option<Decoded> {
    if let Some(num) = name.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        let code = u32::from_str_radix(digits, radix).ok()?;
        return Some(Decoded::Char(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)));
    }
    super::xml::html_entity(name).map(Decoded::Str)
}

/// Elements a browser lays out as blocks or line breaks (HTML Living Standard, "Rendering"): their
/// tags separate words (`<td>click</td><td>here</td>` is two words, `cl<b>ick</b>` one).
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "iframe",
    "img",
    "input",
    "li",
    "main",
    "menu",
    "nav",
    "noscript",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "select",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// What may stand in `head`; any other start tag, or text, ends it (HTML's "in head" insertion
/// mode), as do `</head>` and `<body>`: many messages never close their head.
const HEAD_TAGS: &[&str] = &[
    "base", "basefont", "bgsound", "head", "link", "meta", "noframes", "noscript", "script",
    "style", "template", "title",
];

/// Elements whose content is never rendered as text: skipped up to their end tag.
const HIDDEN_TAGS: &[&str] = &["script", "style", "template", "title"];

/// The text an HTML part shows, for the index: tags removed (block-level ones leaving a line
/// break), comments (`<!-- … -->`, closed by any `-->` as HTML parses them, including the
/// `<!------- x ------->` rulers mail-parser's own converter never closes), declarations and
/// processing instructions removed, `head` (up to where HTML ends it, see [`HEAD_TAGS`]),
/// `script`, `style`, `template` and `title` content dropped, character references decoded (HTML5's entity table); a `<` that starts no tag
/// is text. Attribute values in quotes may hold `>`. Written here rather than using
/// `html_to_text` because that one glues words across block tags and loses the rest of a
/// message after a comment ending in `--->`.
pub(crate) fn html_text(html: &str) -> String {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let (mut i, mut in_head) = (0, false);
    while i < b.len() {
        let at = memchr::memchr2(b'<', b'&', &b[i..]).map_or(b.len(), |n| i + n);
        let text = &html[i..at];
        in_head &= text.trim().is_empty();
        if !in_head {
            out.push_str(text);
        }
        if at == b.len() {
            break;
        }
        if b[at] == b'&' {
            i = reference(html, at, &mut out, in_head);
            continue;
        }
        let rest = &b[at + 1..];
        if rest.starts_with(b"!--") {
            // A comment ends at the first `-->` after `<!`, so `<!-->` is one too. One that never
            // ends (`<!--#rotate>` and then text) ends at its first `>`: HTML would hide the rest
            // of the message, but its sender plainly did not mean to.
            i = match memchr::memmem::find(&b[at + 2..], b"-->") {
                Some(n) => at + 2 + n + 3,
                None => memchr::memchr(b'>', &b[at..]).map_or(b.len(), |n| at + n + 1),
            };
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_at = at + 1 + usize::from(closing);
        let name_len = b[name_at..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        let declaration = matches!(rest.first(), Some(b'!' | b'?'));
        if !declaration && (name_len == 0 || !b[name_at].is_ascii_alphabetic()) {
            if !in_head {
                out.push('<');
            }
            i = at + 1;
            continue;
        }
        let end = tag_end(b, name_at + name_len);
        i = end;
        if declaration {
            continue;
        }
        let name = html[name_at..name_at + name_len].to_ascii_lowercase();
        match name.as_str() {
            "head" => in_head = !closing,
            "body" => in_head = false,
            n if !closing && !HEAD_TAGS.contains(&n) => in_head = false,
            n if !closing && HIDDEN_TAGS.contains(&n) => {
                i = end_tag(b, end, n.as_bytes()).unwrap_or(end);
                continue;
            }
            _ => {}
        }
        if BLOCK_TAGS.contains(&name.as_str()) && !in_head {
            out.push('\n');
        }
    }
    out
}

/// Where a tag whose name ends at `from` ends: after its `>`, or the end of the input when there
/// is none. A quote opens a quoted attribute value only where a value starts (after `=`), as
/// HTML tokenizes it: in `<font face="Arial"size=-1">` the last `"` is part of the value `-1"`.
fn tag_end(b: &[u8], from: usize) -> usize {
    let (mut quote, mut after_equals) = (None, false);
    for (n, &c) in b.iter().enumerate().skip(from) {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') if after_equals => quote = Some(c),
            (None, b'>') => return n + 1,
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            after_equals = quote.is_none() && c == b'=';
        }
    }
    b.len()
}

/// Where the end tag `</name …>` after `from` ends (ASCII case-insensitive), if there is one.
fn end_tag(b: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(n) = memchr::memmem::find(&b[at..], b"</") {
        let start = at + n + 2;
        let candidate = b.get(start..start + name.len())?;
        let after = b.get(start + name.len()).copied().unwrap_or(b'>');
        if candidate.eq_ignore_ascii_case(name) && !after.is_ascii_alphanumeric() {
            return Some(tag_end(b, start + name.len()));
        }
        at = start;
    }
    None
}

/// Decodes the character reference at `at` (`&amp;`, `&#233;`, `&#xE9;`) into `out` (unless
/// `hidden`) and returns where the text continues. A `&` that starts no reference ending in `;`
/// within 32 bytes is itself.
fn reference(html: &str, at: usize, out: &mut String, hidden: bool) -> usize {
    let b = html.as_bytes();
    let len = b[at + 1..]
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'#')
        .count();
    let end = at + 1 + len;
    if len == 0 || b.get(end) != Some(&b';') {
        if !hidden {
            out.push('&');
        }
        return at + 1;
    }
    if !hidden {
        // The decoded character, or the reference as written when it names none.
        match decode_reference(&html[at + 1..end]) {
            Some(Decoded::Char(c)) => out.push(c),
            Some(Decoded::Str(s)) => out.push_str(s),
            None => out.push_str(&html[at..=end]),
        }
    }
    end + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_read_as_rendered_text() {
        let words = |h: &str| html_text(h).split_whitespace().collect::<Vec<_>>().join(" ");
        for (html, want) in [
            ("<p>Hello <b>wor</b>ld</p>", "Hello world"),
            ("<td>click</td><td>here</td>", "click here"),
            ("a<br>b<BR/>c<div class='x>y'>d</div>", "a b c d"),
            ("<head><title>T</title><meta x></head><body>seen", "seen"),
            ("<style>p{}</style><SCRIPT>var a = '</b>';</SCRIPT >shown", "shown"),
            ("x<!------- ruler ------->y<!-- a -- b -->z<!-->w", "xyzw"),
            ("<!--#rotate>shown <!-- never closed", "shown"),
            ("<head><meta x><style>s</style><p>body without a body tag", "body without a body tag"),
            ("<HEAD><title>t</title>text ends the head", "text ends the head"),
            (
                "<!DOCTYPE html><?xml x?>R&amp;D &lt;b&gt; &#233;&#xE9; &bogus; & x",
                "R&D <b> éé &bogus; & x",
            ),
            ("1 < 2 <3 a</p", "1 < 2 <3 a"),
            ("<font face=\"Arial\"size=-1\">Click</font> <a title = 'x>y'>here", "Click here"),
        ] {
            assert_eq!(words(html), want, "{html:?}");
        }
    }

    #[test]
    fn html_files_are_decoded_by_their_charset_and_capped() {
        let l = Limits::default();
        let out = extract_html(b"<meta charset=\"windows-1252\"><p>caf\xE9</p>", &l);
        assert_eq!(out.text.trim(), "café");
        let out = extract_html(
            b"<meta http-equiv=Content-Type content='text/html; charset=iso-8859-1'>\xE9t\xE9",
            &l,
        );
        assert_eq!(out.text.trim(), "été");
        assert_eq!(
            extract_html("<p>d&eacute;j&agrave; &hellip; a&ne;b &rarr;</p>".as_bytes(), &l)
                .text
                .trim(),
            "déjà … a≠b →"
        );
        let mut small = Limits { extract_part_bytes: 10, ..Limits::default() };
        let out = extract_html(b"<p>abcdef</p><p>never read</p>", &small);
        assert_eq!(
            (out.text.trim(), out.truncated),
            ("abcdef", Some(Truncation::PartBytes { limit: 10 }))
        );
        small.extract_text_bytes = 3;
        let out = extract_html(b"<p>abcdef</p>", &small);
        assert_eq!(
            (out.text.as_str(), out.truncated),
            ("abc", Some(Truncation::TextBytes { limit: 3 }))
        );
    }
}
