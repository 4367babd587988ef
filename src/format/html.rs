//! Escaping text for HTML documents we write (Chat export documents, the org-wide report,
//! Takeout-shaped Voice pages): one rule for every writer.
//!
//! `& < > " '` become references, so text is safe in element content and in quoted attribute
//! values alike. Control characters other than tab, line feed and carriage return (NUL
//! included) have no business in HTML text (they are parse errors, and some readers stop at
//! NUL): each becomes U+FFFD, so what was there stays visible without being passed on.

/// Append `text` escaped to `out`.
pub fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `text` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_and_controls_are_made_safe() {
        assert_eq!(
            escape("<script>alert('x&y')</script> \"q\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt; &quot;q&quot;"
        );
        assert_eq!(escape("a\0b\u{7}c\td\r\ne"), "a\u{FFFD}b\u{FFFD}c\td\r\ne");
        assert_eq!(escape("Café ✓"), "Café ✓");
    }
}
