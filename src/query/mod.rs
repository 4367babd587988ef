//! The Vault query language, pure Rust: lexer, parser, tree, scope. Knows nothing of the index;
//! `index::compile` lowers a [`Query`] and a [`Scope`] into index queries.
//!
//! Operators (typed in English, any case; `AND` `OR` `NOT` only in upper case):
//!
//! | operator | meaning (mail and groups) | example |
//! |---|---|---|
//! | word, `"phrase"` | subject, body text, names and addresses, attachment names | `merger "term sheet"` |
//! | `from:` `to:` `cc:` `bcc:` | address, local part, domain or display-name words; `to:` also searches Cc and Bcc | `from:alice` `to:*@example.com` |
//! | `subject:` | subject words or phrase | `subject:"board deck"` |
//! | `label:` | a label; system labels with `^` | `label:^deleted` `label:clients-key` |
//! | `has:attachment` | at least one attachment | |
//! | `filename:` | attachment name word or extension | `filename:pdf` |
//! | `rfc822msgid:` | exact Message-ID, with or without `<>` | `rfc822msgid:<a@b>` |
//! | `after:` `before:` | `YYYY/MM/DD`, `YYYY-MM-DD` (midnight in the scope's zone) or epoch seconds; after is inclusive, before exclusive | `after:2023/07/01` |
//! | `older_than:` `newer_than:` | `Nd`, `Nm`, `Ny` before the search clock | `newer_than:30d` |
//! | `larger:` `smaller:` | size in bytes, `K`/`M` = 1024/1024² | `larger:1M` |
//! | `list:` | mailing list id (`dev@x.com` = `dev.x.com`) | `list:dev.example.com` |
//! | `deliveredto:` | a `Delivered-To` address | `deliveredto:alice@example.com` |
//! | `in:` | `drafts` `sent` `trash` `inbox` `spam` `chats` `anywhere` | `in:sent` |
//! | `is:` | `starred` `unread` `read` `important` | `is:starred` |
//! | `title:` `owner:` `type:` `sharedwith:` `participant:` `phone:` | Drive, Chat and Voice (parsed everywhere; rejected for mail) | |
//!
//! Grammar: implicit AND; `OR` binds tighter than AND (`a b OR c` = `a (b OR c)`, as in Gmail);
//! `-` or `NOT` negates; parentheses group; `op:(a OR b)` applies the operator to every term of the
//! group; `*` only ends a word (`invit*`) or, for address operators, starts `*@domain`.

mod ast;
mod lexer;
mod parser;
mod scope;

pub use ast::escape_phrase;
pub use ast::{DateValue, Location, Query, State, Term, Text, TextField, Unit};
pub use parser::{parse, parse_with};
pub use scope::{CorpusOptions, DataScope, Method, Scope, ScopeError, ScopeSpec, VoiceData};

use std::fmt;

/// Why a query does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at {at}: {kind}")]
pub struct ParseError {
    /// Byte offset in the query.
    pub at: usize,
    /// What went wrong.
    pub kind: ParseErrorKind,
}

/// What went wrong while parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Something else was expected here.
    Expected(&'static str),
    /// `"` with no closing `"`.
    UnclosedQuote,
    /// `(` with no `)`.
    UnbalancedOpen,
    /// `)` with no `(`.
    UnbalancedClose,
    /// `()`.
    EmptyGroup,
    /// `""`.
    EmptyPhrase,
    /// `from:` with nothing touching it.
    MissingValue(String),
    /// `AND`, `OR`, `NOT` or `-` with nothing after it.
    DanglingOperator(&'static str),
    /// `OR`/`AND` with nothing before it.
    MissingLeftOperand(&'static str),
    /// A value the operator does not accept.
    BadValue {
        /// The operator.
        op: &'static str,
        /// What was typed.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// `*` somewhere other than the end of a word.
    WildcardPosition(String),
    /// Groups and negations nested deeper than `Limits::query_depth`.
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A query longer than `Limits::query_bytes`.
    TooLong {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::Expected(what) => write!(f, "expected {what}"),
            ParseErrorKind::UnclosedQuote => f.write_str("this quote is never closed"),
            ParseErrorKind::UnbalancedOpen => f.write_str("this '(' is never closed"),
            ParseErrorKind::UnbalancedClose => f.write_str("this ')' has no matching '('"),
            ParseErrorKind::EmptyGroup => f.write_str("empty parentheses"),
            ParseErrorKind::EmptyPhrase => f.write_str("empty phrase"),
            ParseErrorKind::MissingValue(op) => {
                write!(f, "{op}: needs a value right after the colon (no space)")
            }
            ParseErrorKind::DanglingOperator(op) => write!(f, "{op} needs a search term after it"),
            ParseErrorKind::MissingLeftOperand(op) => {
                write!(f, "{op} needs a search term before it")
            }
            ParseErrorKind::BadValue { op, value, expected } => {
                write!(f, "{op}:{value} is not valid; {op}: takes {expected}")
            }
            ParseErrorKind::TooDeep { limit } => write!(
                f,
                "groups and negations nest deeper than {limit} levels here; write the query flatter"
            ),
            ParseErrorKind::TooLong { limit } => {
                write!(f, "the query is longer than {limit} bytes; split it into several searches")
            }
            ParseErrorKind::WildcardPosition(w) => {
                write!(
                    f,
                    "{w}: '*' may only end a word (invit*) or start an address domain (*@example.com)"
                )
            }
        }
    }
}

impl ParseError {
    /// The query with a caret under the error, for terminals.
    pub fn pointed(&self, query: &str) -> String {
        let col = query.get(..self.at).map_or(0, |s| s.chars().count());
        format!("{query}\n{}^ {}", " ".repeat(col), self.kind)
    }
}
