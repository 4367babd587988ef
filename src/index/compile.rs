//! AST + scope → tantivy query. The one place the query language meets the index.
//!
//! The result is always `Must(user query) AND Must(scope filter)`: the scope is built from the
//! typed [`Scope`] alone, never from query text, so no query can widen it.

use super::schema::{self, Fields};
use super::{Index, IndexError};
use crate::model::Corpus;
use crate::model::time;
use crate::query::{
    CorpusOptions, DateValue, Location, Method, Query, Scope, ScopeError, State, Term, Text,
    TextField, Unit, VoiceData,
};
use std::collections::BTreeSet;
use std::ops::Bound;
use tantivy::Term as TTerm;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

/// Vault's limit: a wildcard that expands to more words fails the search.
pub const WILDCARD_LIMIT: usize = 100;

/// Why a query cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// An operator of another corpus.
    #[error("{op} is not valid for corpus {corpus}")]
    NotValidForCorpus {
        /// The operator, e.g. `title:`.
        op: String,
        /// The corpus searched.
        corpus: Corpus,
    },
    /// A wildcard matched too many words (Vault's `WILDCARD_TOO_BROAD`).
    #[error("WildcardTooBroad: {pattern} matches more than {limit} words; make it longer")]
    WildcardTooBroad {
        /// What was typed.
        pattern: String,
        /// The limit.
        limit: usize,
    },
    /// A word longer than the index holds: searching for it would find nothing, and leaving it
    /// out would widen the query, so the search is refused.
    #[error(
        "{term}: the word {word:?} is {len} bytes; the index holds words of at most {max} bytes \
         (text is split into words only at spaces and punctuation, so a long run of letters, \
         e.g. CJK text without spaces, is one word): search for a shorter phrase around it"
    )]
    WordTooLong {
        /// The search term as typed.
        term: String,
        /// The offending word (lower case, as the index would see it).
        word: String,
        /// Its length in bytes.
        len: usize,
        /// The longest word the index holds.
        max: usize,
    },
    /// A term with nothing the index can match (only punctuation): ignoring it would widen the
    /// query, so the search is refused.
    #[error(
        "{term}: has no letters or digits to search for; remove it or search for words around it"
    )]
    NothingToSearch {
        /// The search term as typed.
        term: String,
    },
    /// The scope itself is wrong.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// The index could not be read.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// A compiled search and what the user should know about it.
pub struct Compiled {
    /// The tantivy query (user query AND scope).
    pub query: Box<dyn TQuery>,
    /// Effective UTC bounds of the scope.
    pub bounds: (Option<i64>, Option<i64>),
    /// Things worth telling (ignored terms, wildcard expansions, undated records).
    pub warnings: Vec<String>,
}

/// Compile `q` within `scope`; `now` is the clock for `older_than:`/`newer_than:`.
pub fn compile(
    index: &Index,
    q: &Query,
    scope: &Scope,
    now: i64,
) -> Result<Compiled, CompileError> {
    compile_with(index, q, scope, &CorpusOptions::default(), now)
}

/// [`compile`] with corpus options (shared drives, rooms, Voice covered data), ANDed in with
/// the scope.
pub fn compile_with(
    index: &Index,
    q: &Query,
    scope: &Scope,
    options: &CorpusOptions,
    now: i64,
) -> Result<Compiled, CompileError> {
    options.check(scope.corpus)?;
    let bounds = scope.bounds()?;
    let zone = scope.zone()?;
    let mut c = Compiler {
        index,
        f: index.fields(),
        corpus: scope.corpus,
        zone,
        now,
        warnings: Vec::new(),
    };
    let user = c.lower(q)?;
    let filter = c.scope_filter(scope, options, bounds);
    if bounds.0.is_some() || bounds.1.is_some() {
        c.warnings.push("records without any date fall outside every date range".to_owned());
    }
    let query: Box<dyn TQuery> =
        Box::new(BooleanQuery::new(vec![(Occur::Must, user), (Occur::Must, filter)]));
    Ok(Compiled { query, bounds, warnings: c.warnings })
}

struct Compiler<'a> {
    index: &'a Index,
    f: &'a Fields,
    corpus: Corpus,
    zone: time::Zone,
    now: i64,
    warnings: Vec<String>,
}

fn term_q(field: Field, v: &str) -> Box<dyn TQuery> {
    Box::new(TermQuery::new(TTerm::from_field_text(field, v), IndexRecordOption::Basic))
}

fn u64_at_least(field: Field, n: u64) -> Box<dyn TQuery> {
    Box::new(RangeQuery::new(Bound::Included(TTerm::from_field_u64(field, n)), Bound::Unbounded))
}

fn any(qs: Vec<Box<dyn TQuery>>) -> Box<dyn TQuery> {
    match qs.len() {
        0 => Box::new(EmptyQuery),
        1 => qs.into_iter().next().unwrap_or_else(|| Box::new(EmptyQuery)),
        _ => Box::new(BooleanQuery::new(qs.into_iter().map(|q| (Occur::Should, q)).collect())),
    }
}

/// One token: a term; several: a phrase; none: nothing to match on in that field.
fn words_query(field: Field, tokens: &[String]) -> Option<Box<dyn TQuery>> {
    match tokens {
        [] => None,
        [one] => Some(term_q(field, one)),
        _ => Some(Box::new(PhraseQuery::new(
            tokens.iter().map(|tok| TTerm::from_field_text(field, tok)).collect(),
        ))),
    }
}

fn not(q: Box<dyn TQuery>) -> Box<dyn TQuery> {
    // A purely negative clause matches nothing in tantivy: anchor it on everything. The excluded
    // side is moved forward only (see `forward_only.rs`: tantivy's exclusion tripped its own
    // phrase scorer).
    let q: Box<dyn TQuery> = Box::new(super::forward_only::ForwardOnly(q));
    Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, q)]))
}

fn date_range(field: Field, from: Option<i64>, to: Option<i64>) -> Box<dyn TQuery> {
    let b = |t: i64| {
        TTerm::from_field_date(
            field,
            tantivy::DateTime::from_timestamp_secs(t.clamp(-9_000_000_000, 9_000_000_000)),
        )
    };
    Box::new(RangeQuery::new(
        from.map_or(Bound::Unbounded, |t| Bound::Included(b(t))),
        to.map_or(Bound::Unbounded, |t| Bound::Excluded(b(t))),
    ))
}

impl Compiler<'_> {
    fn lower(&mut self, q: &Query) -> Result<Box<dyn TQuery>, CompileError> {
        Ok(match q {
            Query::All => Box::new(AllQuery),
            Query::Term(t) => self.term(t)?,
            Query::Not(inner) => not(self.lower(inner)?),
            Query::And(qs) => Box::new(BooleanQuery::new(
                qs.iter()
                    .map(|q| Ok((Occur::Must, self.lower(q)?)))
                    .collect::<Result<_, CompileError>>()?,
            )),
            Query::Or(qs) => any(qs.iter().map(|q| self.lower(q)).collect::<Result<_, _>>()?),
        })
    }

    fn invalid(&self, t: &Term) -> CompileError {
        let shown = t.to_string();
        let op = shown.split_once(':').map_or(shown.clone(), |(o, _)| format!("{o}:"));
        CompileError::NotValidForCorpus { op, corpus: self.corpus }
    }

    fn mail_like(&self) -> bool {
        matches!(self.corpus, Corpus::Mail | Corpus::Groups)
    }

    fn label(&self, l: &str) -> Box<dyn TQuery> {
        term_q(self.f.label, &schema::label_term(l))
    }

    fn term(&mut self, t: &Term) -> Result<Box<dyn TQuery>, CompileError> {
        let f = self.f;
        match t {
            Term::Text(field, v) => self.text(t, *field, v),
            Term::HasAttachment if self.mail_like() || self.corpus == Corpus::Chat => {
                Ok(u64_at_least(f.attachments, 1))
            }
            Term::In(loc) => match (loc, self.mail_like()) {
                (Location::Anywhere, _) => Ok(Box::new(AllQuery)),
                (Location::Drafts, true) => Ok(u64_at_least(f.draft, 1)),
                (Location::Sent, true) => Ok(self.label("^SENT")),
                (Location::Inbox, true) => Ok(self.label("^INBOX")),
                (Location::Spam, true) => Ok(self.label("^SPAM")),
                (Location::Chats, true) => Ok(self.label("^CHAT")),
                (Location::Trash, _) if self.mail_like() || self.corpus == Corpus::Drive => {
                    Ok(self.label("^TRASH"))
                }
                _ => Err(self.invalid(t)),
            },
            Term::Is(s) if self.mail_like() => Ok(match s {
                State::Starred => self.label("^STARRED"),
                State::Unread => self.label("^UNREAD"),
                State::Read => not(self.label("^UNREAD")),
                State::Important => self.label("^IMPORTANT"),
            }),
            Term::Date { after, date } => {
                let secs = match date {
                    DateValue::Epoch(s) => *s,
                    DateValue::Day(d) => {
                        time::day_start(*d, &self.zone).ok_or(ScopeError::BadDay(*d))?
                    }
                };
                Ok(if *after {
                    date_range(f.date, Some(secs), None)
                } else {
                    date_range(f.date, None, Some(secs))
                })
            }
            Term::Relative { older, n, unit } => {
                let n = i64::from(*n);
                let (y, m, d) = match unit {
                    Unit::Day => (0, 0, n),
                    Unit::Month => (0, n, 0),
                    Unit::Year => (n, 0, 0),
                };
                let edge = time::back_by(self.now, y, m, d).unwrap_or(i64::MIN / 2);
                Ok(if *older {
                    date_range(f.date, None, Some(edge))
                } else {
                    date_range(f.date, Some(edge), None)
                })
            }
            Term::Size { larger, bytes } => Ok(if *larger {
                u64_at_least(f.size, bytes.saturating_add(1))
            } else {
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(TTerm::from_field_u64(f.size, *bytes)),
                ))
            }),
            _ => Err(self.invalid(t)),
        }
    }

    /// The fields a text operator searches: tokenised word fields and exact raw fields.
    fn text_fields(
        &self,
        t: &Term,
        field: TextField,
    ) -> Result<(Vec<Field>, Vec<Field>), CompileError> {
        let f = self.f;
        let mail = self.mail_like();
        Ok(match (field, self.corpus) {
            // Vault searches "words and phrases that occur in file names and in the contents of
            // files" for Drive: a bare word does not match the owner's or a collaborator's
            // address (those are `owner:`, `creator:`, `sharedwith:`).
            (TextField::Any, Corpus::Drive) => (vec![f.title, f.body], vec![]),
            (TextField::Any, _) => (
                vec![
                    f.subject,
                    f.body,
                    f.from,
                    f.to,
                    f.cc,
                    f.bcc,
                    f.filename,
                    f.title,
                    f.participants,
                ],
                vec![],
            ),
            (TextField::From, Corpus::Drive) => (vec![], vec![f.owner]),
            (TextField::From, Corpus::Voice) => (vec![], vec![f.from_addr]),
            (TextField::From, _) => (vec![f.from], vec![f.from_addr]),
            (TextField::To, Corpus::Drive) => (vec![], vec![f.shared_with]),
            (TextField::To, Corpus::Voice) => (vec![], vec![f.to_addr]),
            (TextField::To, _) if mail => {
                (vec![f.to, f.cc, f.bcc], vec![f.to_addr, f.cc_addr, f.bcc_addr])
            }
            (TextField::Cc, _) if mail => (vec![f.cc], vec![f.cc_addr]),
            (TextField::Bcc, _) if mail => (vec![f.bcc], vec![f.bcc_addr]),
            (TextField::Subject, _) if mail => (vec![f.subject], vec![]),
            (TextField::Label, _) if mail => (vec![], vec![f.label]),
            (TextField::Filename, _) if mail || self.corpus == Corpus::Chat => {
                (vec![f.filename], vec![])
            }
            (TextField::Rfc822MsgId, Corpus::Mail | Corpus::Groups | Corpus::Chat) => {
                (vec![], vec![f.message_id])
            }
            (TextField::List, _) if mail => (vec![], vec![f.list]),
            (TextField::DeliveredTo, _) if mail => (vec![], vec![f.delivered_to]),
            (TextField::Title, Corpus::Drive) => (vec![f.title], vec![]),
            (TextField::Owner, Corpus::Drive) => (vec![], vec![f.owner]),
            (TextField::Creator, Corpus::Drive) => (vec![], vec![f.creator]),
            (TextField::Type, Corpus::Drive | Corpus::Voice) => (vec![], vec![f.doc_type]),
            (TextField::SharedWith, Corpus::Drive) => (vec![], vec![f.shared_with]),
            (TextField::Participant, Corpus::Chat) => (vec![f.participants], vec![]),
            (TextField::Participant | TextField::Phone, Corpus::Voice) => (vec![], vec![f.phone]),
            _ => return Err(self.invalid(t)),
        })
    }

    /// How a typed value is normalised for an exact field.
    fn raw_value(&self, field: TextField, v: &str) -> String {
        let v = v.trim();
        let phone = matches!(
            field,
            TextField::From | TextField::To | TextField::Participant | TextField::Phone
        );
        if self.corpus == Corpus::Voice && phone {
            return crate::model::e164(v).unwrap_or_else(|| v.to_lowercase());
        }
        match field {
            TextField::Title => schema::exact_title(v),
            TextField::Type => v.to_lowercase().replace(['-', ' '], "_"),
            TextField::Label => schema::label_term(v),
            TextField::Rfc822MsgId => {
                v.trim_start_matches('<').trim_end_matches('>').to_lowercase()
            }
            TextField::List => {
                v.trim_start_matches('<').trim_end_matches('>').to_lowercase().replace('@', ".")
            }
            _ => v.to_lowercase(),
        }
    }

    fn text(
        &mut self,
        t: &Term,
        field: TextField,
        v: &Text,
    ) -> Result<Box<dyn TQuery>, CompileError> {
        let (mut word_fields, mut raw_fields) = self.text_fields(t, field)?;
        // `title:"exact title"` is the whole title; `title:word` a word of it.
        if field == TextField::Title
            && let Text::Phrase(_) = v
        {
            (word_fields, raw_fields) = (vec![], vec![self.f.title_exact]);
        }
        // An index of an older version lacks the newer fields: nothing in it has them.
        let had = !word_fields.is_empty() || !raw_fields.is_empty();
        word_fields.retain(|&f| self.index.has_field(f));
        raw_fields.retain(|&f| self.index.has_field(f));
        if had && word_fields.is_empty() && raw_fields.is_empty() {
            return Ok(Box::new(EmptyQuery));
        }
        // Every value becomes a non-empty set of index terms or an error: a term that silently
        // matched everything (or nothing) would change what a search returns without a word.
        let words = |text: &str| -> Result<Vec<String>, CompileError> {
            if word_fields.is_empty() {
                return Ok(Vec::new());
            }
            let tokens =
                self.index.query_words(text).map_err(|word| CompileError::WordTooLong {
                    term: t.to_string(),
                    len: word.len(),
                    word,
                    max: schema::MAX_TOKEN - 1,
                })?;
            if tokens.is_empty() && raw_fields.is_empty() {
                return Err(CompileError::NothingToSearch { term: t.to_string() });
            }
            Ok(tokens)
        };
        let mut qs: Vec<Box<dyn TQuery>> = Vec::new();
        match v {
            Text::Word(w) | Text::Phrase(w) => {
                let tokens = words(w)?;
                let raw = self.raw_value(field, w);
                for &rf in &raw_fields {
                    qs.push(term_q(rf, &raw));
                }
                qs.extend(word_fields.iter().filter_map(|&wf| words_query(wf, &tokens)));
            }
            Text::AnyAt(domain) => {
                let tokens = words(domain)?;
                if tokens.is_empty() {
                    return Err(CompileError::NothingToSearch { term: t.to_string() });
                }
                qs.extend(word_fields.iter().filter_map(|&wf| words_query(wf, &tokens)));
            }
            Text::Prefix(p) => {
                let mut expansions = BTreeSet::new();
                let mut per_field: Vec<(Field, Vec<String>, Vec<String>)> = Vec::new();
                for &rf in &raw_fields {
                    let words =
                        self.index.expand(rf, &self.raw_value(field, p), WILDCARD_LIMIT + 1)?;
                    expansions.extend(words.iter().cloned());
                    per_field.push((rf, Vec::new(), words));
                }
                let tokens = words(p)?;
                if let Some((last, lead)) = tokens.split_last() {
                    for &wf in &word_fields {
                        let words = self.index.expand(wf, last, WILDCARD_LIMIT + 1)?;
                        expansions.extend(words.iter().cloned());
                        per_field.push((wf, lead.to_vec(), words));
                    }
                }
                if expansions.len() > WILDCARD_LIMIT {
                    return Err(CompileError::WildcardTooBroad {
                        pattern: format!("{p}*"),
                        limit: WILDCARD_LIMIT,
                    });
                }
                self.warnings.push(format!("{t} expands to {} words", expansions.len()));
                for (fld, lead, words) in per_field {
                    for w in words {
                        if lead.is_empty() {
                            qs.push(term_q(fld, &w));
                        } else {
                            let mut terms: Vec<TTerm> =
                                lead.iter().map(|l| TTerm::from_field_text(fld, l)).collect();
                            terms.push(TTerm::from_field_text(fld, &w));
                            qs.push(Box::new(PhraseQuery::new(terms)));
                        }
                    }
                }
            }
        }
        Ok(any(qs))
    }

    /// A term on `field`, or nothing when the index (of an older version) lacks the field.
    fn known_term(&self, field: Field, v: &str) -> Box<dyn TQuery> {
        if self.index.has_field(field) { term_q(field, v) } else { Box::new(EmptyQuery) }
    }

    fn scope_filter(
        &self,
        scope: &Scope,
        options: &CorpusOptions,
        bounds: (Option<i64>, Option<i64>),
    ) -> Box<dyn TQuery> {
        let f = self.f;
        let mut must: Vec<(Occur, Box<dyn TQuery>)> =
            vec![(Occur::Must, term_q(f.corpus, scope.corpus.as_str()))];
        match &scope.method {
            Method::Accounts(list) => {
                must.push((
                    Occur::Must,
                    any(list.iter().map(|a| term_q(f.account, a.as_str())).collect()),
                ));
            }
            Method::OrgUnit(ou) => must.push((Occur::Must, term_q(f.org_unit, ou.as_str()))),
            Method::EntireOrg => {}
        }
        if bounds.0.is_some() || bounds.1.is_some() {
            must.push((Occur::Must, date_range(f.date, bounds.0, bounds.1)));
        }
        if scope.exclude_drafts && self.mail_like() {
            must.push((Occur::MustNot, u64_at_least(f.draft, 1)));
        }
        match self.corpus {
            Corpus::Drive if !options.include_shared_drives => {
                must.push((Occur::MustNot, self.known_term(f.flags, "shared_drive")));
            }
            Corpus::Chat => {
                if !options.include_rooms {
                    must.push((Occur::MustNot, self.known_term(f.flags, "room")));
                }
                if !options.rooms.is_empty() {
                    let rooms = options.rooms.iter().map(|r| self.known_term(f.room, r)).collect();
                    must.push((Occur::Must, any(rooms)));
                }
            }
            Corpus::Voice if options.voice_covered().len() < VoiceData::ALL.len() => {
                let covered = options.voice_covered();
                let flag = |d: &VoiceData| match d {
                    VoiceData::Texts => "texts",
                    VoiceData::Voicemails => "voicemails",
                    VoiceData::CallLogs => "call_logs",
                };
                let terms = covered.iter().map(|d| self.known_term(f.flags, flag(d))).collect();
                must.push((Occur::Must, any(terms)));
            }
            _ => {}
        }
        Box::new(BooleanQuery::new(must))
    }
}
