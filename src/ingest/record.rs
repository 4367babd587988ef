//! Chat, Drive and Voice items as their sources give them ([`RawRecord`]), and the parallel
//! stage that makes them ready to store ([`prepare_record`]): the MD5 of every part (content
//! files are streamed, never read whole) and the text the index searches.
//!
//! A mail message arrives as bytes and is parsed; these records arrive already described (the
//! metadata is read from JSON or Takeout HTML by the source) with parts that are either small
//! bytes made by the source (a chat message's text) or files under the source's root, which
//! are hashed here and copied into the store by `put_stream` later, so memory never follows a
//! file's size. A content file that cannot be read becomes a rejection naming the line or file
//! that referred to it, never a record without its bytes.

use super::content;
use super::{Position, Rejection};
use crate::Limits;
use crate::digest::Md5;
use crate::model::{Defect, Metadata, Part, PartKind, Record, SourceRef, VoiceMeta};
use std::path::PathBuf;

/// The bytes of one part.
#[derive(Clone, Debug)]
pub enum Content {
    /// Bytes the source made (a chat message's text, a transcript read out of HTML).
    Inline(Vec<u8>),
    /// A regular file under the source's root (checked when the source read it), copied into the
    /// store as a stream.
    File(PathBuf),
}

/// One part of a record, main part first.
#[derive(Clone, Debug)]
pub struct RawPart {
    /// What it is to the record.
    pub kind: PartKind,
    /// Its file name, when it has one.
    pub name: Option<String>,
    /// Its `type/subtype`, when known.
    pub content_type: Option<String>,
    /// Its bytes.
    pub content: Content,
}

impl RawPart {
    /// Text made by the source, stored as UTF-8 `text/plain`.
    pub fn text(kind: PartKind, text: &str) -> RawPart {
        RawPart {
            kind,
            name: None,
            content_type: Some("text/plain; charset=utf-8".to_owned()),
            content: Content::Inline(text.as_bytes().to_vec()),
        }
    }
}

/// A chat message, Drive file or Voice item as its source described it.
#[derive(Clone, Debug)]
pub struct RawRecord {
    /// Source reference; its `key` goes into the DocId.
    pub source: SourceRef,
    /// Where it was found (file and line), for reports.
    pub position: Position,
    /// What the source said of it; its kind decides the corpus.
    pub meta: Metadata,
    /// Its parts, main part first (never empty: every source gives at least one).
    pub parts: Vec<RawPart>,
    /// The account the source says the item belongs to (Voice JSONL's `account`): an item of
    /// another account is rejected rather than filed under the custodian being ingested.
    pub account_claim: Option<String>,
    /// What the source found wrong with it.
    pub defects: Vec<Defect>,
}

/// A record ready to store: its parts' MD5s and sizes, and its index text.
#[derive(Debug)]
pub struct PreparedRecord {
    /// The record as the source gave it.
    pub raw: RawRecord,
    /// MD5 and size of each part, in `raw.parts` order.
    pub digests: Vec<(Md5, u64)>,
    /// The text the index searches (chat text, extracted Drive text, Voice texts and
    /// transcripts).
    pub body: String,
}

impl PreparedRecord {
    /// MD5 of the main part: with corpus, account and source key, what the DocId is made of.
    pub fn main_md5(&self) -> Md5 {
        self.digests.first().map_or_else(|| Md5::of(&[]), |d| d.0)
    }
}

/// Hash every part and gather the index text. A content file that cannot be read any more is a
/// rejection at the record's position.
pub fn prepare_record(mut raw: RawRecord, limits: &Limits) -> Result<PreparedRecord, Rejection> {
    let reject =
        |raw: &RawRecord, reason: String| Rejection { position: raw.position.clone(), reason };
    if raw.parts.is_empty() {
        return Err(reject(&raw, "no content: a record needs at least one part".to_owned()));
    }
    let mut digests = Vec::with_capacity(raw.parts.len());
    let mut extracted = None;
    for (i, part) in raw.parts.iter().enumerate() {
        match &part.content {
            Content::Inline(b) => digests.push((Md5::of(b), b.len() as u64)),
            Content::File(path) => {
                // The Drive file's text is read from the same pass that hashes it.
                let want_text = i == 0 && matches!(raw.meta, Metadata::Drive(_))
                    || part.kind == PartKind::Transcript;
                let name = part.name.clone().unwrap_or_default();
                let mime = part.content_type.clone();
                let read = content::hash_file(
                    path,
                    want_text.then_some((&*name, mime.as_deref())),
                    limits,
                )
                .map_err(|e| reject(&raw, e))?;
                digests.push((read.md5, read.size));
                if let Some(x) = read.extracted {
                    extracted.get_or_insert_with(Vec::new).push((i, x));
                }
            }
        }
    }
    let mut texts: Vec<(usize, String)> = Vec::new();
    for (i, x) in extracted.unwrap_or_default() {
        // Defects of a transcript's reading are not the record's: only the Drive file's are.
        if matches!(raw.meta, Metadata::Drive(_)) && i == 0 {
            raw.defects.extend(x.defects());
        }
        texts.push((i, x.text));
    }
    let body = index_text(&raw.meta, &raw.parts, &texts);
    Ok(PreparedRecord { raw, digests, body })
}

/// The index text of a chat message, Drive file or Voice item, from its metadata and parts:
/// `parts` are the record's parts (inline bytes are read directly), `texts` the text already
/// read from file parts by index. Shared by ingest and by rebuilding the index from the store
/// ([`record_text`]), so both index the same words.
fn index_text(meta: &Metadata, parts: &[RawPart], texts: &[(usize, String)]) -> String {
    let inline = |i: usize| -> Option<String> {
        if let Some((_, t)) = texts.iter().find(|(j, _)| *j == i) {
            return Some(t.clone());
        }
        match &parts.get(i)?.content {
            Content::Inline(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Content::File(_) => None,
        }
    };
    let kinds: Vec<(PartKind, Option<&str>)> =
        parts.iter().map(|p| (p.kind, p.content_type.as_deref())).collect();
    text_from(meta, &kinds, &inline)
}

/// The index text of a stored chat, Drive or Voice record, read from its parts in the store
/// (`bytes` gives a part's stored bytes): what rebuilding the index writes, the same words
/// ingest indexed. `None` for mail, whose text comes from its MIME structure.
pub fn record_text<'a>(
    rec: &Record,
    bytes: &dyn Fn(&Part) -> Option<&'a [u8]>,
    limits: &Limits,
) -> Option<String> {
    let parts: Vec<&Part> = rec.parts.iter().collect();
    let kinds: Vec<(PartKind, Option<&str>)> =
        parts.iter().map(|p| (p.kind, p.content_type.as_deref())).collect();
    let text_of = |i: usize| -> Option<String> {
        let p = parts.get(i)?;
        let b = bytes(p)?;
        let drive_main = i == 0 && matches!(rec.meta, Metadata::Drive(_));
        if drive_main || p.kind == PartKind::Transcript {
            let name = p.name.as_deref().unwrap_or_default();
            Some(crate::extract::extract(b, name, p.content_type.as_deref(), limits).text)
        } else {
            Some(String::from_utf8_lossy(b).into_owned())
        }
    };
    match rec.meta {
        Metadata::Mail(_) => None,
        _ => Some(text_from(&rec.meta, &kinds, &text_of)),
    }
}

fn text_from(
    meta: &Metadata,
    kinds: &[(PartKind, Option<&str>)],
    part_text: &dyn Fn(usize) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut push = |s: &str| {
        if !s.trim().is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        }
    };
    match meta {
        Metadata::Mail(_) => {}
        Metadata::Chat(c) => {
            for (i, (kind, ctype)) in kinds.iter().enumerate() {
                if *kind != PartKind::Message {
                    continue;
                }
                let Some(t) = part_text(i) else { continue };
                if ctype.is_some_and(|c| c.starts_with("text/html")) {
                    push(&crate::extract::html::html_text(&t));
                } else {
                    push(&t);
                }
            }
            // Earlier versions of an edited message stay searchable: what was said counts.
            for e in &c.edits {
                push(&e.previous_text);
            }
        }
        Metadata::Drive(_) => {
            if let Some(t) = part_text(0) {
                push(&t);
            }
        }
        Metadata::Voice(v) => {
            voice_texts(v, &mut push);
            for (i, (kind, _)) in kinds.iter().enumerate() {
                if *kind == PartKind::Transcript
                    && let Some(t) = part_text(i)
                {
                    push(&t);
                }
            }
        }
    }
    out
}

fn voice_texts(v: &VoiceMeta, push: &mut dyn FnMut(&str)) {
    for t in &v.texts {
        push(&t.text);
    }
}
