//! Recursive descent over the tokens.
//!
//! ```text
//! query   := and? EOF                       (empty → everything in scope)
//! and     := or (("AND")? or)*              (implicit AND)
//! or      := unary ("OR" unary)*            (OR binds tighter than AND, as in Gmail)
//! unary   := ("-" | "NOT") unary | primary
//! primary := "(" and ")" | OP ":" value | phrase | word
//! value   := word | phrase | "(" group ")"  (the operator applies to every term of the group)
//! ```
//! `AND`, `OR`, `NOT` are operators only in upper case; `op:` must touch its value.

use super::ast::{DateValue, Location, Query, State, Term, Text, TextField, Unit};
use super::lexer::{Tok, Token, UnclosedQuote, lex};
use super::{ParseError, ParseErrorKind};
use crate::Limits;

/// Parse a Vault query within the default [`Limits`].
pub fn parse(text: &str) -> Result<Query, ParseError> {
    parse_with(text, &Limits::default())
}

/// Parse a Vault query: longer than `limits.query_bytes` or nested deeper than
/// `limits.query_depth` (parentheses, `op:(…)` groups, `NOT`, `-`) is an error, so no query can
/// exhaust the stack of the parser or of anything that walks the tree after it.
pub fn parse_with(text: &str, limits: &Limits) -> Result<Query, ParseError> {
    if text.len() > limits.query_bytes {
        let mut at = limits.query_bytes;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        return Err(ParseError { at, kind: ParseErrorKind::TooLong { limit: limits.query_bytes } });
    }
    let tokens = lex(text)
        .map_err(|UnclosedQuote(at)| ParseError { at, kind: ParseErrorKind::UnclosedQuote })?;
    let mut p = Parser { tokens, pos: 0, len: text.len(), depth: 0, max_depth: limits.query_depth };
    if p.tokens.is_empty() {
        return Ok(Query::All);
    }
    let q = p.and(None)?;
    match p.peek() {
        None => Ok(q),
        Some(t) if t.tok == Tok::RParen => {
            Err(p.error_at(t.start, ParseErrorKind::UnbalancedClose))
        }
        Some(t) => Err(p.error_at(t.start, ParseErrorKind::Expected("the end of the query"))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    len: usize,
    /// Groups and negations open around the current position.
    depth: usize,
    max_depth: usize,
}

/// What an operator's value means.
#[derive(Clone, Copy)]
enum Op {
    Text(TextField),
    Has,
    In,
    Is,
    Date(bool),
    Relative(bool),
    Size(bool),
}

fn operator(name: &str) -> Option<Op> {
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "from" => Op::Text(TextField::From),
        "to" => Op::Text(TextField::To),
        "cc" => Op::Text(TextField::Cc),
        "bcc" => Op::Text(TextField::Bcc),
        "subject" => Op::Text(TextField::Subject),
        "label" => Op::Text(TextField::Label),
        "filename" => Op::Text(TextField::Filename),
        "rfc822msgid" => Op::Text(TextField::Rfc822MsgId),
        "list" => Op::Text(TextField::List),
        "deliveredto" => Op::Text(TextField::DeliveredTo),
        "title" => Op::Text(TextField::Title),
        "owner" => Op::Text(TextField::Owner),
        "type" => Op::Text(TextField::Type),
        "sharedwith" => Op::Text(TextField::SharedWith),
        "participant" => Op::Text(TextField::Participant),
        "phone" => Op::Text(TextField::Phone),
        "creator" => Op::Text(TextField::Creator),
        "has" => Op::Has,
        "in" => Op::In,
        "is" => Op::Is,
        "after" => Op::Date(true),
        "before" => Op::Date(false),
        "older_than" => Op::Relative(true),
        "newer_than" => Op::Relative(false),
        "larger" | "size" => Op::Size(true),
        "smaller" => Op::Size(false),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn error_at(&self, at: usize, kind: ParseErrorKind) -> ParseError {
        ParseError { at, kind }
    }

    /// One level deeper (a group or a negation) at byte `at`, or the depth error.
    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error_at(at, ParseErrorKind::TooDeep { limit: self.max_depth }));
        }
        Ok(())
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.len, |t| t.start)
    }

    fn is_chunk(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Chunk(c), .. }) if c == word)
    }

    /// Consume the keyword `word` if it is next; a term must follow it.
    fn take_keyword(&mut self, word: &'static str) -> Result<bool, ParseError> {
        if !self.is_chunk(word) {
            return Ok(false);
        }
        let at = self.here();
        self.pos += 1;
        if self.peek().is_none_or(|t| t.tok == Tok::RParen) {
            return Err(self.error_at(at, ParseErrorKind::DanglingOperator(word)));
        }
        Ok(true)
    }

    /// `and := or (("AND")? or)*`; stops at `)` or the end.
    fn and(&mut self, field: Option<(Op, usize)>) -> Result<Query, ParseError> {
        let mut items = vec![self.or(field)?];
        loop {
            match self.peek() {
                None => break,
                Some(t) if t.tok == Tok::RParen => break,
                _ => {}
            }
            self.take_keyword("AND")?;
            items.push(self.or(field)?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Query::And(items) })
    }

    /// `or := unary ("OR" unary)*`
    fn or(&mut self, field: Option<(Op, usize)>) -> Result<Query, ParseError> {
        let mut items = vec![self.unary(field)?];
        while self.take_keyword("OR")? {
            items.push(self.unary(field)?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Query::Or(items) })
    }

    fn unary(&mut self, field: Option<(Op, usize)>) -> Result<Query, ParseError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.error_at(self.len, ParseErrorKind::Expected("a search term")));
        };
        match &t.tok {
            Tok::Chunk(c) if c == "NOT" => {
                self.take_keyword("NOT")?;
                self.enter(t.start)?;
                let inner = self.unary(field)?;
                self.depth -= 1;
                Ok(Query::Not(Box::new(inner)))
            }
            Tok::Chunk(c) if c == "AND" || c == "OR" => Err(self.error_at(
                t.start,
                ParseErrorKind::MissingLeftOperand(if c == "AND" { "AND" } else { "OR" }),
            )),
            Tok::Chunk(c) if c.starts_with('-') => {
                // Strip one '-' and parse what touches it.
                let rest = c[1..].to_owned();
                if rest.is_empty() {
                    match self.tokens.get(self.pos + 1) {
                        Some(n) if n.start == t.end && n.tok != Tok::RParen => {
                            self.pos += 1;
                        }
                        _ => {
                            return Err(
                                self.error_at(t.start, ParseErrorKind::DanglingOperator("-"))
                            );
                        }
                    }
                } else {
                    self.tokens[self.pos] =
                        Token { tok: Tok::Chunk(rest), start: t.start + 1, end: t.end };
                }
                self.enter(t.start)?;
                let inner = self.unary(field)?;
                self.depth -= 1;
                Ok(Query::Not(Box::new(inner)))
            }
            _ => self.primary(field),
        }
    }

    fn primary(&mut self, field: Option<(Op, usize)>) -> Result<Query, ParseError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.error_at(self.len, ParseErrorKind::Expected("a search term")));
        };
        self.pos += 1;
        match t.tok {
            Tok::LParen => {
                if self.peek().is_some_and(|n| n.tok == Tok::RParen) {
                    return Err(self.error_at(t.start, ParseErrorKind::EmptyGroup));
                }
                self.enter(t.start)?;
                let q = self.and(field)?;
                self.depth -= 1;
                match self.peek() {
                    Some(n) if n.tok == Tok::RParen => {
                        self.pos += 1;
                        Ok(q)
                    }
                    _ => Err(self.error_at(t.start, ParseErrorKind::UnbalancedOpen)),
                }
            }
            Tok::RParen => Err(self.error_at(t.start, ParseErrorKind::UnbalancedClose)),
            Tok::Phrase(p) => {
                let (op, at) = field.unwrap_or((Op::Text(TextField::Any), t.start));
                value(op, Val::Phrase(&p), at.max(t.start)).map(Query::Term)
            }
            Tok::Chunk(c) => {
                // `op:value`, `op:"phrase"`, `op:(group)`, or a plain word.
                if field.is_none()
                    && let Some((name, rest)) = c.split_once(':')
                    && let Some(op) = operator(name)
                {
                    if !rest.is_empty() {
                        return value(op, Val::Word(rest), t.start + name.len() + 1)
                            .map(Query::Term);
                    }
                    let Some(n) = self.peek().cloned().filter(|n| n.start == t.end) else {
                        return Err(
                            self.error_at(t.start, ParseErrorKind::MissingValue(op_name(&c)))
                        );
                    };
                    return match n.tok {
                        Tok::Phrase(p) => {
                            self.pos += 1;
                            value(op, Val::Phrase(&p), n.start).map(Query::Term)
                        }
                        Tok::LParen => self.primary(Some((op, n.start))),
                        _ => Err(self.error_at(t.start, ParseErrorKind::MissingValue(op_name(&c)))),
                    };
                }
                let (op, _) = field.unwrap_or((Op::Text(TextField::Any), t.start));
                value(op, Val::Word(&c), t.start).map(Query::Term)
            }
        }
    }
}

fn op_name(chunk: &str) -> String {
    chunk.trim_end_matches(':').to_ascii_lowercase()
}

enum Val<'a> {
    Word(&'a str),
    Phrase(&'a str),
}

/// Check and type one operator value.
fn value(op: Op, v: Val<'_>, at: usize) -> Result<Term, ParseError> {
    let err = |kind| ParseError { at, kind };
    let word = match &v {
        Val::Word(w) => *w,
        Val::Phrase(p) => p,
    };
    match op {
        Op::Text(field) => {
            let text = match v {
                Val::Phrase(p) if p.trim().is_empty() => {
                    return Err(err(ParseErrorKind::EmptyPhrase));
                }
                Val::Phrase(p) => Text::Phrase(p.to_owned()),
                Val::Word(w) => text_word(field, w).map_err(err)?,
            };
            Ok(Term::Text(field, text))
        }
        Op::Has => match word.to_ascii_lowercase().as_str() {
            "attachment" | "attachments" => Ok(Term::HasAttachment),
            _ => Err(err(ParseErrorKind::BadValue {
                op: "has",
                value: word.to_owned(),
                expected: "attachment",
            })),
        },
        Op::In => Ok(Term::In(match word.to_ascii_lowercase().as_str() {
            "draft" | "drafts" => Location::Drafts,
            "sent" => Location::Sent,
            "trash" => Location::Trash,
            "inbox" => Location::Inbox,
            "spam" => Location::Spam,
            "chats" | "chat" => Location::Chats,
            "anywhere" => Location::Anywhere,
            _ => {
                return Err(err(ParseErrorKind::BadValue {
                    op: "in",
                    value: word.to_owned(),
                    expected: "drafts, sent, trash, inbox, spam, chats or anywhere",
                }));
            }
        })),
        Op::Is => Ok(Term::Is(match word.to_ascii_lowercase().as_str() {
            "starred" => State::Starred,
            "unread" => State::Unread,
            "read" => State::Read,
            "important" => State::Important,
            _ => {
                return Err(err(ParseErrorKind::BadValue {
                    op: "is",
                    value: word.to_owned(),
                    expected: "starred, unread, read or important",
                }));
            }
        })),
        Op::Date(after) => {
            let name = if after { "after" } else { "before" };
            parse_date(word).map(|date| Term::Date { after, date }).ok_or_else(|| {
                err(ParseErrorKind::BadValue {
                    op: name,
                    value: word.to_owned(),
                    expected: "YYYY/MM/DD, YYYY-MM-DD or epoch seconds",
                })
            })
        }
        Op::Relative(older) => {
            let name = if older { "older_than" } else { "newer_than" };
            let bad = || {
                err(ParseErrorKind::BadValue {
                    op: name,
                    value: word.to_owned(),
                    expected: "a number followed by d, m or y (e.g. 30d)",
                })
            };
            let w = word.to_ascii_lowercase();
            let unit = match w.chars().last() {
                Some('d') => Unit::Day,
                Some('m') => Unit::Month,
                Some('y') => Unit::Year,
                _ => return Err(bad()),
            };
            let n: u32 = w[..w.len() - 1].parse().map_err(|_| bad())?;
            if n > 100_000 {
                return Err(bad());
            }
            Ok(Term::Relative { older, n, unit })
        }
        Op::Size(larger) => {
            let name = if larger { "larger" } else { "smaller" };
            parse_size(word).map(|bytes| Term::Size { larger, bytes }).ok_or_else(|| {
                err(ParseErrorKind::BadValue {
                    op: name,
                    value: word.to_owned(),
                    expected: "bytes, optionally with K or M (e.g. 10M)",
                })
            })
        }
    }
}

fn text_word(field: TextField, w: &str) -> Result<Text, ParseErrorKind> {
    let address_op = matches!(
        field,
        TextField::From
            | TextField::To
            | TextField::Cc
            | TextField::Bcc
            | TextField::DeliveredTo
            | TextField::Owner
            | TextField::SharedWith
    );
    if let Some(domain) = w.strip_prefix("*@") {
        if address_op && !domain.is_empty() && !domain.contains('*') {
            return Ok(Text::AnyAt(domain.to_owned()));
        }
        return Err(ParseErrorKind::WildcardPosition(w.to_owned()));
    }
    match w.find('*') {
        None => Ok(Text::Word(w.to_owned())),
        Some(i) if i == w.len() - 1 && i > 0 => Ok(Text::Prefix(w[..i].to_owned())),
        Some(_) => Err(ParseErrorKind::WildcardPosition(w.to_owned())),
    }
}

fn parse_date(w: &str) -> Option<DateValue> {
    if !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && w.len() > 8 {
        return w.parse().ok().map(DateValue::Epoch);
    }
    crate::model::time::CivilDay::parse(w).map(DateValue::Day)
}

fn parse_size(w: &str) -> Option<u64> {
    let (num, mult) = match w.chars().last()? {
        'k' | 'K' => (&w[..w.len() - 1], 1024),
        'm' | 'M' => (&w[..w.len() - 1], 1024 * 1024),
        _ => (w, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}
