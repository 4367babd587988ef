//! Query text → tokens with byte offsets.

/// A token's kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `"…"`, without the quotes, escapes undone.
    Phrase(String),
    /// A run of anything but white space, parentheses and quotes.
    Chunk(String),
}

/// A token and where it is (byte offsets into the query).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What.
    pub tok: Tok,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A quote that never closes, at this offset.
#[derive(Debug, PartialEq, Eq)]
pub struct UnclosedQuote(pub usize);

/// Split `text` into tokens.
pub fn lex(text: &str) -> Result<Vec<Token>, UnclosedQuote> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            let tok = if c == '(' { Tok::LParen } else { Tok::RParen };
            out.push(Token { tok, start: i, end: i + 1 });
        } else if c == '"' {
            chars.next();
            // `\"` and `\\` inside a phrase stand for `"` and `\` (how a Message-ID holding a
            // quote is searched for); any other backslash is itself.
            let mut body = String::new();
            let mut end = None;
            while let Some((j, d)) = chars.next() {
                match d {
                    '"' => {
                        end = Some(j);
                        break;
                    }
                    '\\' if matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                        if let Some((_, e)) = chars.next() {
                            body.push(e);
                        }
                    }
                    _ => body.push(d),
                }
            }
            let close = end.ok_or(UnclosedQuote(i))?;
            out.push(Token { tok: Tok::Phrase(body), start: i, end: close + 1 });
        } else {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_whitespace() || matches!(d, '(' | ')' | '"') {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            out.push(Token { tok: Tok::Chunk(text[i..end].to_owned()), start: i, end });
        }
    }
    Ok(out)
}
