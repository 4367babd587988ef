//! The search index: the only user of `tantivy`.
//!
//! One document per record, keyed by the record's `seq`. Commits carry the store generation as
//! their payload so a collection can tell whether its index is in step with its records (see
//! `Collection::open`). Hits come back as every matching `seq`, sorted: no top-K window.
//!
//! Documents that are not records (past the last committed row, or of a removed record) can
//! exist for a while after a crash or between a removal's commit and its index update; every hit
//! is resolved through the record table, which leaves them out, and [`Index::stale_docs`] counts
//! them so the in-step check stays exact.

mod collector;
pub mod compile;
mod forward_only;
mod ranged_dir;
pub mod schema;

use crate::model::{
    AccessVia, ChatMeta, ConversationType, DriveMeta, Mailbox, Metadata, PartKind, Record,
    VoiceKind, VoiceMeta, e164,
};
use collector::{AccountCounts, AllSeqs};
pub use schema::Fields;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Index errors, with the index folder.
#[derive(Debug, thiserror::Error)]
#[error("index {path}: {source}")]
pub struct IndexError {
    /// The index folder.
    pub path: PathBuf,
    /// What tantivy said.
    pub source: tantivy::TantivyError,
}

impl IndexError {
    /// A read of a split's index files failed in a way a retry may not meet again (the store
    /// did not answer): see [`crate::store::RangedReadError`].
    pub fn is_transient_read(&self) -> bool {
        match &self.source {
            tantivy::TantivyError::IoError(e) => {
                crate::store::RangedReadError::of(e).is_some_and(|f| f.transient)
            }
            _ => false,
        }
    }

    /// The index on disk has fields this version does not know (another version's, not an older
    /// one's): a writer replaces it, a reader refuses it.
    pub fn is_foreign_schema(&self) -> bool {
        matches!(self.source, tantivy::TantivyError::SchemaError(_))
    }
}

/// The text of a record the index needs besides its metadata.
pub struct IndexText<'a> {
    /// Decoded body text.
    pub body: &'a str,
}

/// An open index.
pub struct Index {
    path: PathBuf,
    index: tantivy::Index,
    reader: IndexReader,
    fields: Fields,
    /// Fields of this version's schema the index on disk has (the first `known`).
    known: usize,
}

impl Index {
    /// Open the index in `dir`, creating it when there is none.
    pub fn open_or_create(dir: &Path) -> Result<Index, IndexError> {
        let err = |source| IndexError { path: dir.to_path_buf(), source };
        let (schema, fields) = schema::build();
        std::fs::create_dir_all(dir)
            .map_err(|e| err(tantivy::TantivyError::IoError(std::sync::Arc::new(e))))?;
        let mmap = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| err(tantivy::TantivyError::from(e)))?;
        let exists =
            tantivy::Index::exists(&mmap).map_err(|e| err(tantivy::TantivyError::from(e)))?;
        let (index, known) = if exists {
            let index = tantivy::Index::open(mmap).map_err(err)?;
            let known = known_fields(&index.schema(), &schema).ok_or_else(|| {
                err(tantivy::TantivyError::SchemaError(
                    "the index's fields are not this version's: run `ediscovery reindex`".into(),
                ))
            })?;
            (index, known)
        } else {
            let n = schema.fields().count();
            (
                tantivy::Index::create(mmap, schema, tantivy::IndexSettings::default())
                    .map_err(err)?,
                n,
            )
        };
        Index::ready(dir.to_path_buf(), index, fields, known)
    }

    /// Register our tokenizer and open a reader.
    fn ready(
        path: PathBuf,
        index: tantivy::Index,
        fields: Fields,
        known: usize,
    ) -> Result<Index, IndexError> {
        index.tokenizers().register(
            schema::WORDS,
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(schema::MAX_TOKEN))
                .filter(LowerCaser)
                .build(),
        );
        let reader = match index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into() {
            Ok(r) => r,
            Err(source) => return Err(IndexError { path, source }),
        };
        Ok(Index { path, index, reader, fields, known })
    }

    /// Open, read-only, the index whose files are `files`' under `index/` (a published
    /// split's, read by ranges: [`crate::store::RangedFiles`]), with the same schema check as
    /// [`open_or_create`](Self::open_or_create): fields of another version are refused, an
    /// older version's index is read as it is. Errors name `label` (the split's index URL).
    pub fn open_ranged(
        files: std::sync::Arc<dyn crate::store::RangedFiles>,
        label: &str,
    ) -> Result<Index, IndexError> {
        let path = PathBuf::from(label);
        let err = |source| IndexError { path: path.clone(), source };
        let (schema, fields) = schema::build();
        let dir = ranged_dir::RangedDirectory::new(files, "index/");
        let index = tantivy::Index::open(dir).map_err(err)?;
        let known = known_fields(&index.schema(), &schema).ok_or_else(|| {
            err(tantivy::TantivyError::SchemaError(
                "the index's fields are not this version's: publish the split again from a \
                 reindexed collection"
                    .into(),
            ))
        })?;
        Index::ready(path, index, fields, known)
    }

    /// Does the index on disk have `field`? An index written before a field was added (issue
    /// 11 appended the chat, Drive and Voice ones) is read as it is: no document in it has the
    /// field, so the compiler matches nothing on it instead of asking tantivy about a field its
    /// schema lacks. A writer rebuilds such an index ([`Index::open_or_replace`]).
    pub fn has_field(&self, field: tantivy::schema::Field) -> bool {
        (field.field_id() as usize) < self.known
    }

    /// Whether the index on disk lacks some of this version's fields.
    pub fn is_older(&self) -> bool {
        self.known < schema::build().0.fields().count()
    }

    /// An empty index in memory: what a writer holds for a moment while it closes its index
    /// on disk to replace it.
    pub fn in_memory() -> Result<Index, IndexError> {
        let (schema, fields) = schema::build();
        let known = schema.fields().count();
        let index = tantivy::Index::create_in_ram(schema);
        let path = PathBuf::from("(in memory)");
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| IndexError { path: path.clone(), source })?;
        Ok(Index { path, index, reader, fields, known })
    }

    /// [`open_or_create`](Self::open_or_create) for a writer: an index of another schema (an
    /// older version's) is derived data, so it is removed and created empty; the writer then
    /// rebuilds it from the stored records (`CollectionWriter::open`).
    pub fn open_or_replace(dir: &Path) -> Result<Index, IndexError> {
        match Index::open_or_create(dir) {
            Ok(i) if i.is_older() => {
                drop(i);
                std::fs::remove_dir_all(dir).map_err(|e| IndexError {
                    path: dir.to_path_buf(),
                    source: tantivy::TantivyError::IoError(std::sync::Arc::new(e)),
                })?;
                Index::open_or_create(dir)
            }
            Err(IndexError { source: tantivy::TantivyError::SchemaError(_), .. }) => {
                std::fs::remove_dir_all(dir).map_err(|e| IndexError {
                    path: dir.to_path_buf(),
                    source: tantivy::TantivyError::IoError(std::sync::Arc::new(e)),
                })?;
                Index::open_or_create(dir)
            }
            r => r,
        }
    }

    fn err(&self) -> impl FnOnce(tantivy::TantivyError) -> IndexError + '_ {
        |source| IndexError { path: self.path.clone(), source }
    }

    /// The fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The store generation of the last commit, if any commit carried one.
    pub fn generation(&self) -> Result<Option<u64>, IndexError> {
        let metas = self.index.load_metas().map_err(self.err())?;
        Ok(metas.payload.and_then(|p| p.parse().ok()))
    }

    /// The files a copy of the index needs, relative to its folder: `meta.json` and the
    /// files of the segments it names (no lock files, nothing the garbage collector has yet to
    /// delete). What a published split holds of the index (`crate::split`).
    pub fn files(&self) -> Result<Vec<String>, IndexError> {
        let metas = self.index.load_metas().map_err(self.err())?;
        let mut names: Vec<String> = metas
            .list_segment_files()
            .into_iter()
            .filter(|p| self.path.join(p).is_file())
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        names.push("meta.json".to_owned());
        names.sort();
        Ok(names)
    }

    /// Documents in the index as of the last reload.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// A writer using `threads` indexing threads.
    pub fn writer(&self, threads: usize) -> Result<Writer, IndexError> {
        let threads = threads.clamp(1, 8);
        let w: IndexWriter = self
            .index
            .writer_with_num_threads(threads, threads * 96_000_000)
            .map_err(self.err())?;
        // Merging while ingesting competes with parsing for the same cores and is redone as
        // segments grow; `Writer::merge_all` runs once at the end instead.
        w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        Ok(Writer {
            path: self.path.clone(),
            fields: self.fields,
            reader: self.reader.clone(),
            inner: w,
        })
    }

    /// See the last commit.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload().map_err(self.err())
    }

    fn search_seqs(&self, q: &dyn Query, limit_seq: u64) -> Result<Vec<u64>, IndexError> {
        let searcher = self.reader.searcher();
        let mut seqs = searcher.search(q, &AllSeqs { field: "seq" }).map_err(self.err())?;
        // Documents of an index commit whose store commit did not finish are not records yet.
        seqs.retain(|&s| s < limit_seq);
        Ok(seqs)
    }

    /// Documents that are not committed records: those with `seq >= rows` (an unfinished
    /// commit's) or with a seq in `removed` (ascending; removed records whose documents are not
    /// deleted yet).
    pub fn stale_docs(&self, rows: u64, removed: &[u64]) -> Result<u64, IndexError> {
        let searcher = self.reader.searcher();
        let seq = self.fields.seq;
        let past =
            RangeQuery::new(Bound::Included(Term::from_field_u64(seq, rows)), Bound::Unbounded);
        let mut n = searcher.search(&past, &Count).map_err(self.err())? as u64;
        // Removed seqs are below `rows`, so the two counts never overlap.
        for chunk in removed.chunks(4096) {
            let terms = chunk.iter().filter(|&&s| s < rows).map(|&s| Term::from_field_u64(seq, s));
            let q = TermSetQuery::new(terms);
            n += searcher.search(&q, &Count).map_err(self.err())? as u64;
        }
        Ok(n)
    }

    /// `text` as the word fields index it, or the first word the index cannot hold (one of
    /// [`schema::MAX_TOKEN`] bytes or more is dropped at indexing time, so searching for it
    /// could only ever silently find nothing, or, dropped from the query, widen it).
    pub fn query_words(&self, text: &str) -> Result<Vec<String>, String> {
        let mut analyzer =
            TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).build();
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            if t.text.len() >= schema::MAX_TOKEN {
                return Err(t.text.clone());
            }
            out.push(t.text.clone());
        }
        Ok(out)
    }

    /// Up to `limit` distinct indexed terms of `field` starting with `prefix`, in order.
    pub fn expand(
        &self,
        field: tantivy::schema::Field,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, IndexError> {
        let searcher = self.reader.searcher();
        let mut found = std::collections::BTreeSet::new();
        for seg in searcher.segment_readers() {
            let inv = seg.inverted_index(field).map_err(self.err())?;
            let mut stream = inv
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| IndexError { path: self.path.clone(), source: e.into() })?;
            while stream.advance() {
                let key = stream.key();
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                found.insert(String::from_utf8_lossy(key).into_owned());
                if found.len() >= limit {
                    break;
                }
            }
        }
        Ok(found.into_iter().take(limit).collect())
    }

    /// Hits of a compiled search per account, among documents with `seq` below `limit_seq`,
    /// counted from the account fast field: no hit list is built. Exact only when every indexed
    /// `seq` below the limit is a live record (no record removed from the store).
    pub fn count_by_account(
        &self,
        compiled: &compile::Compiled,
        limit_seq: u64,
    ) -> Result<std::collections::BTreeMap<crate::model::Account, u64>, IndexError> {
        let searcher = self.reader.searcher();
        let collector = AccountCounts { account: "account", seq: "seq", limit_seq };
        searcher.search(compiled.query.as_ref(), &collector).map_err(self.err())
    }

    /// Every record `seq` below `limit_seq` matching a compiled search, sorted.
    pub fn search(
        &self,
        compiled: &compile::Compiled,
        limit_seq: u64,
    ) -> Result<Vec<u64>, IndexError> {
        self.search_seqs(compiled.query.as_ref(), limit_seq)
    }

    /// [`search`](Self::search) limited to one account's documents: a streaming export plan
    /// asks account by account, so no list of every hit of a large search is ever held, and
    /// each ask reads only that account's postings.
    pub fn search_account(
        &self,
        compiled: &compile::Compiled,
        account: &crate::model::Account,
        limit_seq: u64,
    ) -> Result<Vec<u64>, IndexError> {
        let term = Term::from_field_text(self.fields.account, account.as_str());
        let q = BooleanQuery::new(vec![
            (Occur::Must, compiled.query.box_clone()),
            (Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))),
        ]);
        self.search_seqs(&q, limit_seq)
    }
}

/// How many of `current`'s fields the stored schema has: all of them, or a prefix (an index of
/// an older version, whose fields were the first ones, unchanged); `None` when it is neither.
fn known_fields(
    stored: &tantivy::schema::Schema,
    current: &tantivy::schema::Schema,
) -> Option<usize> {
    let old: Vec<_> = stored.fields().collect();
    let new: Vec<_> = current.fields().collect();
    if old.len() > new.len() {
        return None;
    }
    old.iter().zip(&new).all(|((fa, a), (fb, b))| fa == fb && a == b).then_some(old.len())
}

/// The tantivy document for a record.
fn document(f: &Fields, rec: &Record, text: &IndexText<'_>) -> TantivyDocument {
    {
        let mut d = TantivyDocument::default();
        d.add_u64(f.seq, rec.seq);
        d.add_text(f.doc_id, rec.doc_id.to_string());
        d.add_text(f.corpus, rec.corpus.as_str());
        d.add_text(f.account, rec.account.as_str());
        for ou in rec.org_unit.with_ancestors() {
            d.add_text(f.org_unit, ou);
        }
        d.add_u64(f.size, rec.blob().size);
        if let Some(m) = rec.mail() {
            if let Some(id) = &m.message_id {
                d.add_text(f.message_id, id.to_lowercase());
            }
            for (list, words, addrs) in [
                (&m.from, f.from, f.from_addr),
                (&m.to, f.to, f.to_addr),
                (&m.cc, f.cc, f.cc_addr),
                (&m.bcc, f.bcc, f.bcc_addr),
            ] {
                add_mailboxes(&mut d, list, words, addrs);
            }
            if let Some(s) = &m.subject {
                d.add_text(f.subject, s);
            }
            d.add_text(f.body, text.body);
            for l in &m.labels {
                d.add_text(f.label, schema::label_term(l));
            }
            for a in &m.attachments {
                if let Some(n) = &a.name {
                    d.add_text(f.filename, n);
                }
            }
            d.add_u64(f.attachments, m.attachments.len() as u64);
            if let Some(t) = rec.date().and_then(indexable_date) {
                d.add_date(f.date, t);
            }
            if let Some(t) = m.date_sent.and_then(indexable_date) {
                d.add_date(f.date_sent, t);
            }
            if let Some(t) = m.date_received.and_then(indexable_date) {
                d.add_date(f.date_received, t);
            }
            d.add_u64(f.draft, u64::from(m.is_draft));
            if let Some(l) = &m.list_id {
                d.add_text(f.list, l.to_lowercase());
            }
            for a in &m.delivered_to {
                d.add_text(f.delivered_to, a.to_lowercase());
            }
            if let Some(t) = &m.thread_id {
                d.add_text(f.thread_id, t);
            }
        }
        if !matches!(rec.meta, Metadata::Mail(_)) {
            if let Some(t) = rec.date().and_then(indexable_date) {
                d.add_date(f.date, t);
            }
            d.add_text(f.body, text.body);
        }
        match &rec.meta {
            Metadata::Mail(_) => {}
            Metadata::Chat(c) => chat_fields(&mut d, f, rec, c),
            Metadata::Drive(m) => drive_fields(&mut d, f, m),
            Metadata::Voice(v) => voice_fields(&mut d, f, v),
        }
        d
    }
}

/// A chat message: sender (`from:`), participants, attachments (`has:attachment`), message and
/// thread ids, the space (`room`, and the `room` flag for named spaces and new group chats,
/// which Vault calls rooms, for `includeRooms`).
fn chat_fields(d: &mut TantivyDocument, f: &Fields, rec: &Record, c: &ChatMeta) {
    d.add_text(f.message_id, c.message_id.to_lowercase());
    d.add_text(f.from_addr, c.sender.to_lowercase());
    d.add_text(f.from, &c.sender);
    if let Some(n) = &c.sender_name {
        d.add_text(f.from, n);
    }
    for p in &c.participants {
        d.add_text(f.participants, p);
    }
    let mut attachments = 0u64;
    for p in rec.parts.iter().filter(|p| p.kind == PartKind::Attachment) {
        attachments += 1;
        if let Some(n) = &p.name {
            d.add_text(f.filename, n);
        }
    }
    d.add_u64(f.attachments, attachments);
    if let Some(t) = &c.thread_id {
        d.add_text(f.thread_id, t);
    }
    d.add_text(f.room, &c.space_id);
    let room = match c.conversation {
        Some(ConversationType::Space) => true,
        Some(ConversationType::GroupChat) => !c.created_before_dec_2020,
        Some(ConversationType::DirectMessage) | None => false,
    };
    if room {
        d.add_text(f.flags, "room");
    }
}

/// A Drive file: title words and whole title, owner, creator, `type:` terms, everyone it is
/// shared with (directly, through a group or a domain, or `public`), trash (as the `^TRASH`
/// label `in:trash` looks for) and the shared drive.
fn drive_fields(d: &mut TantivyDocument, f: &Fields, m: &DriveMeta) {
    d.add_text(f.title, &m.title);
    d.add_text(f.title_exact, schema::exact_title(&m.title));
    d.add_text(f.owner, m.owner.to_lowercase());
    d.add_text(f.from, &m.owner);
    if let Some(c) = &m.creator {
        d.add_text(f.creator, c.to_lowercase());
    }
    for t in schema::drive_types(m.document_type, &m.mime_type) {
        d.add_text(f.doc_type, t);
    }
    for a in m.collaborators.iter().chain(&m.viewers) {
        d.add_text(f.shared_with, a.to_lowercase());
    }
    for i in &m.indirect {
        match &i.via {
            AccessVia::Group { address } => d.add_text(f.shared_with, address.to_lowercase()),
            AccessVia::Domain { domain } => d.add_text(f.shared_with, domain.to_lowercase()),
            AccessVia::Public => d.add_text(f.shared_with, "public"),
        }
    }
    if m.trashed {
        d.add_text(f.label, schema::label_term("^TRASH"));
    }
    if let Some(s) = &m.shared_drive_id {
        d.add_text(f.room, s);
        d.add_text(f.flags, "shared_drive");
    }
}

/// A Voice item: numbers in E.164 (every one for `phone:`, the sending ones for `from:`, the
/// receiving ones for `to:`), `type:` terms, labels, and its covered-data flag.
fn voice_fields(d: &mut TantivyDocument, f: &Fields, v: &VoiceMeta) {
    let norm = |n: &String| e164(n).unwrap_or_else(|| n.trim().to_lowercase());
    let owner: Vec<String> = v.owner_numbers.iter().map(norm).collect();
    let others: Vec<String> = v.participant_numbers.iter().map(norm).collect();
    let mut from: Vec<String> = Vec::new();
    let mut to: Vec<String> = Vec::new();
    match v.kind {
        VoiceKind::TextMessage => {
            for t in &v.texts {
                from.push(norm(&t.from));
                to.extend(if t.outgoing { others.iter() } else { owner.iter() }.cloned());
            }
        }
        VoiceKind::OutgoingCall => {
            from.extend(owner.iter().cloned());
            to.extend(others.iter().cloned());
        }
        VoiceKind::IncomingCall | VoiceKind::MissedCall | VoiceKind::Voicemail => {
            from.extend(others.iter().cloned());
            to.extend(owner.iter().cloned());
        }
    }
    from.sort();
    from.dedup();
    to.sort();
    to.dedup();
    for n in from.iter().filter(|n| !n.is_empty()) {
        d.add_text(f.from_addr, n);
    }
    for n in to.iter().filter(|n| !n.is_empty()) {
        d.add_text(f.to_addr, n);
    }
    let mut all: Vec<&String> = owner.iter().chain(&others).chain(&from).collect();
    all.sort();
    all.dedup();
    for n in all.into_iter().filter(|n| !n.is_empty()) {
        d.add_text(f.phone, n);
    }
    for t in schema::voice_types(v.kind) {
        d.add_text(f.doc_type, *t);
    }
    for l in &v.labels {
        d.add_text(f.label, schema::label_term(l));
    }
    d.add_text(
        f.flags,
        match v.kind {
            VoiceKind::TextMessage => "texts",
            VoiceKind::Voicemail => "voicemails",
            _ => "call_logs",
        },
    );
}

/// tantivy keeps dates as nanoseconds in an `i64` (years 1678 to 2262). A header that claims a
/// date outside that range keeps it in the record's metadata but is not indexed by date, so it
/// matches no date range: it cannot be placed on the timeline.
fn indexable_date(secs: i64) -> Option<tantivy::DateTime> {
    crate::model::time::on_timeline(secs).then(|| tantivy::DateTime::from_timestamp_secs(secs))
}

fn add_mailboxes(
    d: &mut TantivyDocument,
    list: &[Mailbox],
    words: tantivy::schema::Field,
    addrs: tantivy::schema::Field,
) {
    for mb in list {
        if !mb.address.is_empty() {
            d.add_text(addrs, mb.address.to_lowercase());
            d.add_text(words, &mb.address);
        }
        if let Some(n) = &mb.name {
            d.add_text(words, n);
        }
    }
}

/// Adds documents; nothing is visible until [`Writer::commit`].
pub struct Writer {
    path: PathBuf,
    fields: Fields,
    reader: IndexReader,
    inner: IndexWriter,
}

impl Writer {
    fn err(&self) -> impl FnOnce(tantivy::TantivyError) -> IndexError + '_ {
        |source| IndexError { path: self.path.clone(), source }
    }

    /// Queue a record.
    pub fn add(&mut self, rec: &Record, text: &IndexText<'_>) -> Result<(), IndexError> {
        let doc = document(&self.fields, rec, text);
        self.inner.add_document(doc).map_err(self.err())?;
        Ok(())
    }

    /// Remove every document with `seq >= from` (documents of a store commit that never finished).
    pub fn delete_from(&mut self, from: u64) -> Result<(), IndexError> {
        let q = RangeQuery::new(
            Bound::Included(Term::from_field_u64(self.fields.seq, from)),
            Bound::Unbounded,
        );
        self.inner.delete_query(Box::new(q)).map_err(self.err())?;
        Ok(())
    }

    /// Remove the documents of these seqs (removed records) at the next commit.
    pub fn delete_seqs(&mut self, seqs: &[u64]) {
        for &s in seqs {
            self.inner.delete_term(Term::from_field_u64(self.fields.seq, s));
        }
    }

    /// Remove everything.
    pub fn delete_all(&mut self) -> Result<(), IndexError> {
        self.inner.delete_all_documents().map_err(self.err())?;
        Ok(())
    }

    /// Commit, recording the store generation, and make it visible to searches.
    pub fn commit(&mut self, generation: u64) -> Result<(), IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError { path: path.clone(), source };
        let mut prepared = self.inner.prepare_commit().map_err(err)?;
        prepared.set_payload(&generation.to_string());
        prepared.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    /// Merge all segments into one when there are more than `max_segments` (ingest runs without
    /// background merging, so many small ingests leave many small segments).
    pub fn merge_if_fragmented(&mut self, max_segments: usize) -> Result<(), IndexError> {
        let ids = self.inner.index().searchable_segment_ids().map_err(self.err())?;
        if ids.len() > max_segments {
            let path = self.path.clone();
            self.inner
                .merge(&ids)
                .wait()
                .map_err(|source| IndexError { path: path.clone(), source })?;
            self.reader.reload().map_err(|source| IndexError { path, source })?;
        }
        Ok(())
    }

    /// Rewrite the committed segments that hold deleted documents without them, so a removed
    /// record's words leave the index files (tantivy otherwise only marks them deleted). Keeps
    /// the last commit's payload. Returns how many segments were rewritten.
    pub fn merge_deleted(&mut self) -> Result<usize, IndexError> {
        let metas = self.inner.index().searchable_segment_metas().map_err(self.err())?;
        let ids: Vec<_> = metas.iter().filter(|m| m.has_deletes()).map(|m| m.id()).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let path = self.path.clone();
        self.inner
            .merge(&ids)
            .wait()
            .map_err(|source| IndexError { path: path.clone(), source })?;
        self.reader.reload().map_err(|source| IndexError { path, source })?;
        Ok(ids.len())
    }

    /// Wait for background merges and release the writer lock.
    pub fn finish(self) -> Result<(), IndexError> {
        let path = self.path;
        self.inner.wait_merging_threads().map_err(|source| IndexError { path, source })
    }
}

#[cfg(test)]
mod ranged_read_tests {
    use super::IndexError;
    use crate::store::RangedReadError;
    use std::sync::Arc;

    fn index_error(io: std::io::Error) -> IndexError {
        IndexError {
            path: "s3://b/splits/x".into(),
            source: tantivy::TantivyError::IoError(Arc::new(io)),
        }
    }

    /// tantivy keeps no source behind its I/O errors: the ranged read's own error is found
    /// inside, and only a transient one makes the index error transient.
    #[test]
    fn a_transient_ranged_read_is_seen_through_tantivy() {
        let ranged = |transient| {
            std::io::Error::other(RangedReadError { message: "GET failed".into(), transient })
        };
        assert!(index_error(ranged(true)).is_transient_read());
        assert!(!index_error(ranged(false)).is_transient_read());
        assert!(!index_error(std::io::Error::other("disk")).is_transient_read());
    }
}
