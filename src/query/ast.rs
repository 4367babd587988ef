//! The query tree. Pure data: no positions (so `parse(display(q)) == q`), no index types.

use crate::model::time::CivilDay;
use std::fmt;

/// A parsed Vault query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// The empty query: everything in scope.
    All,
    /// One search term.
    Term(Term),
    /// Not this.
    Not(Box<Query>),
    /// All of these (implicit or explicit `AND`).
    And(Vec<Query>),
    /// Any of these (`OR`).
    Or(Vec<Query>),
}

/// Operators whose value is text: words, a phrase, or a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextField {
    /// A free word or phrase: subject, body, names and addresses, attachment names.
    Any,
    /// `from:`
    From,
    /// `to:` (To, Cc and Bcc, as Gmail does)
    To,
    /// `cc:`
    Cc,
    /// `bcc:`
    Bcc,
    /// `subject:`
    Subject,
    /// `label:`
    Label,
    /// `filename:` (attachment name words or extension)
    Filename,
    /// `rfc822msgid:` (exact)
    Rfc822MsgId,
    /// `list:` (mailing list)
    List,
    /// `deliveredto:`
    DeliveredTo,
    /// `title:` (Drive)
    Title,
    /// `owner:` (Drive)
    Owner,
    /// `type:` (Drive)
    Type,
    /// `sharedwith:` (Drive)
    SharedWith,
    /// `participant:` (Chat and Voice)
    Participant,
    /// `phone:` (Voice)
    Phone,
    /// `creator:` (Drive)
    Creator,
}

impl TextField {
    /// The operator as typed, without the colon (`None` for free text).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            TextField::Any => return None,
            TextField::From => "from",
            TextField::To => "to",
            TextField::Cc => "cc",
            TextField::Bcc => "bcc",
            TextField::Subject => "subject",
            TextField::Label => "label",
            TextField::Filename => "filename",
            TextField::Rfc822MsgId => "rfc822msgid",
            TextField::List => "list",
            TextField::DeliveredTo => "deliveredto",
            TextField::Title => "title",
            TextField::Owner => "owner",
            TextField::Type => "type",
            TextField::SharedWith => "sharedwith",
            TextField::Participant => "participant",
            TextField::Phone => "phone",
            TextField::Creator => "creator",
        })
    }
}

/// A text value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    /// A word (or an address, or a Message-ID): what was typed, case kept.
    Word(String),
    /// `"an exact phrase"`.
    Phrase(String),
    /// `invit*`: words starting with this.
    Prefix(String),
    /// `*@example.com`: any address at this domain (address operators only).
    AnyAt(String),
}

/// `in:` locations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// `in:drafts`
    Drafts,
    /// `in:sent`
    Sent,
    /// `in:trash`
    Trash,
    /// `in:inbox`
    Inbox,
    /// `in:spam`
    Spam,
    /// `in:chats`
    Chats,
    /// `in:anywhere` (everything, as in Gmail)
    Anywhere,
}

/// `is:` states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// `is:starred`
    Starred,
    /// `is:unread`
    Unread,
    /// `is:read`
    Read,
    /// `is:important`
    Important,
}

/// A date as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateValue {
    /// `2023/07/01` or `2023-07-01`: midnight in the scope's time zone.
    Day(CivilDay),
    /// Seconds since the epoch.
    Epoch(i64),
}

/// Units of `older_than:` / `newer_than:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `d`
    Day,
    /// `m` (calendar months)
    Month,
    /// `y`
    Year,
}

/// One search term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// A text operator (or free text) and its value.
    Text(TextField, Text),
    /// `has:attachment`
    HasAttachment,
    /// `in:…`
    In(Location),
    /// `is:…`
    Is(State),
    /// `after:` (inclusive) / `before:` (exclusive).
    Date {
        /// True for `after:`.
        after: bool,
        /// The date.
        date: DateValue,
    },
    /// `older_than:` / `newer_than:` against the search clock.
    Relative {
        /// True for `older_than:`.
        older: bool,
        /// How many units.
        n: u32,
        /// Which unit.
        unit: Unit,
    },
    /// `larger:` (strictly larger) / `smaller:` (strictly smaller), in bytes.
    Size {
        /// True for `larger:` (and `size:`).
        larger: bool,
        /// Bytes.
        bytes: u64,
    },
}

/// `p` as it must be typed between quotes: `\` and `"` escaped with `\`.
pub fn escape_phrase(p: &str) -> std::borrow::Cow<'_, str> {
    if p.contains(['"', '\\']) {
        std::borrow::Cow::Owned(p.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        std::borrow::Cow::Borrowed(p)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Word(w) => f.write_str(w),
            Text::Phrase(p) => write!(f, "\"{}\"", escape_phrase(p)),
            Text::Prefix(p) => write!(f, "{p}*"),
            Text::AnyAt(d) => write!(f, "*@{d}"),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Text(field, v) => match field.name() {
                Some(n) => write!(f, "{n}:{v}"),
                None => write!(f, "{v}"),
            },
            Term::HasAttachment => f.write_str("has:attachment"),
            Term::In(l) => f.write_str(match l {
                Location::Drafts => "in:drafts",
                Location::Sent => "in:sent",
                Location::Trash => "in:trash",
                Location::Inbox => "in:inbox",
                Location::Spam => "in:spam",
                Location::Chats => "in:chats",
                Location::Anywhere => "in:anywhere",
            }),
            Term::Is(s) => f.write_str(match s {
                State::Starred => "is:starred",
                State::Unread => "is:unread",
                State::Read => "is:read",
                State::Important => "is:important",
            }),
            Term::Date { after, date } => {
                f.write_str(if *after { "after:" } else { "before:" })?;
                match date {
                    DateValue::Day(d) => write!(f, "{:04}/{:02}/{:02}", d.year, d.month, d.day),
                    DateValue::Epoch(s) => write!(f, "{s}"),
                }
            }
            Term::Relative { older, n, unit } => write!(
                f,
                "{}:{n}{}",
                if *older { "older_than" } else { "newer_than" },
                match unit {
                    Unit::Day => 'd',
                    Unit::Month => 'm',
                    Unit::Year => 'y',
                }
            ),
            Term::Size { larger, bytes } => {
                write!(f, "{}:{bytes}", if *larger { "larger" } else { "smaller" })
            }
        }
    }
}

impl fmt::Display for Query {
    /// A canonical form that parses back to the same tree: nested groups keep their
    /// parentheses, AND is implicit, OR is spelled out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn inner(q: &Query, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match q {
                Query::And(_) | Query::Or(_) => write!(f, "({q})"),
                _ => write!(f, "{q}"),
            }
        }
        match self {
            Query::All => Ok(()),
            Query::Term(t) => write!(f, "{t}"),
            Query::Not(q) => {
                f.write_str("-")?;
                inner(q, f)
            }
            Query::And(qs) | Query::Or(qs) => {
                let sep = if matches!(self, Query::And(_)) { " " } else { " OR " };
                for (i, q) in qs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    inner(q, f)?;
                }
                Ok(())
            }
        }
    }
}
