//! A collection: the store and its index, kept in step, the ingest loop that fills them, and
//! record removal and compaction.
//!
//! **Removed records and the index.** A removal deletes the records' index documents, after
//! the store commits it; until then, and whenever a crash stops a writer in between, the index
//! holds documents of records that are gone. That is safe because every hit is resolved through
//! the record table, which leaves removed records out ([`Store::get`], [`Store::account_of`]),
//! and the in-step check counts such documents exactly ([`Index::stale_docs`]). The other order
//! (delete from the index, then commit the store) would leave, after a crash between the two,
//! an index missing records that are still committed: searches would silently miss them.
//! Filtering alone (never deleting) would keep removed records' words searchable in the index
//! files for ever, which a removal meant to dispose of data must not do: compaction merges the
//! index segments that hold deleted documents, so their words leave the files too.

use crate::index::{Index, IndexText};
use crate::ingest::record::Content;
use crate::ingest::{
    self, IngestError, IngestReport, Item, Prepared, PreparedRecord, Raw, Ready, RecordDefect,
    Rejection, Source,
};
use crate::model::{Account, Corpus, Defect, DocId, OrgUnit, Part, PartKind, Parts, Record};
use crate::store::{CommitStep, CommitSteps, Compaction, Stats, Store, StoreWriter};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// More index segments than this are merged when a writer finishes.
const MAX_SEGMENTS: usize = 24;

/// Options of one ingest run.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// The custodian (for groups, the group address).
    pub account: Account,
    /// The corpus: mail or groups for mail sources; chat, drive or voice, which must be the
    /// source's own ([`Source::corpus`]).
    pub corpus: Corpus,
    /// The account's org unit.
    pub org_unit: OrgUnit,
    /// Commit after this many new records (and at the end).
    pub commit_every: usize,
    /// Messages read and parsed together.
    pub batch: usize,
    /// Bounds on hostile input (MIME depth).
    pub limits: crate::Limits,
}

impl IngestOptions {
    /// Defaults for `account`: mail corpus, root org unit, commit every 20,000 records.
    pub fn new(account: Account) -> IngestOptions {
        IngestOptions {
            account,
            corpus: Corpus::Mail,
            org_unit: OrgUnit::root(),
            commit_every: 20_000,
            batch: 1024,
            limits: crate::Limits::default(),
        }
    }
}

/// Told about ingest progress; every method has a default that does nothing.
pub trait IngestProgress {
    /// More messages were read.
    fn advanced(&mut self, _messages: u64, _bytes: u64) {}
    /// A commit finished: `records` in the collection now.
    fn committed(&mut self, _generation: u64, _records: u64) {}
}

/// An [`IngestProgress`] and [`CommitSteps`] that ignores everything.
pub struct NoProgress;
impl IngestProgress for NoProgress {}
impl CommitSteps for NoProgress {}

/// One record a removal removed: what a log of disposals needs to name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Its identity.
    pub doc_id: DocId,
    /// Its sequence number (never reused).
    pub seq: u64,
    /// Its corpus.
    pub corpus: Corpus,
    /// Its account.
    pub account: Account,
    /// MD5 of its main part (its blobs stay in their packs until a purge).
    pub md5: crate::digest::Md5,
    /// Bytes of its stored parts.
    pub size: u64,
}

/// What a removal did. Every requested DocId is accounted for, in request order, in exactly one
/// list: `requested = removed + not_found + duplicates` ([`balances`](Self::balances)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RemoveReport {
    /// The store generation that committed the removal (the current one when nothing was
    /// removed).
    pub generation: u64,
    /// DocIds asked for, repeats included.
    pub requested: u64,
    /// Records removed.
    pub removed: Vec<Removed>,
    /// DocIds the collection holds no record of: never ingested, or removed before.
    pub not_found: Vec<DocId>,
    /// DocIds asked for again after their first mention (each listed once per repeat).
    pub duplicates: Vec<DocId>,
}

impl RemoveReport {
    /// Whether every requested DocId is in exactly one list.
    pub fn balances(&self) -> bool {
        let n = self.removed.len() + self.not_found.len() + self.duplicates.len();
        n as u64 == self.requested
    }
}

/// Remembers whether the commit point was passed, so a failure after it still returns the
/// report of what was committed.
struct Track<'a> {
    inner: &'a mut dyn CommitSteps,
    committed: bool,
}

impl CommitSteps for Track<'_> {
    fn reached(&mut self, step: CommitStep) {
        self.committed |= step == CommitStep::Committed;
        self.inner.reached(step);
    }
}

/// A collection opened for reading and searching.
pub struct Collection {
    store: Store,
    index: Index,
}

impl Collection {
    /// Open the collection in `dir`.
    ///
    /// Reading never repairs, and never searches an index that does not describe the committed
    /// records: one that is missing, behind, or from elsewhere is [`Error::IndexOutOfStep`].
    /// Index documents that are not committed records are fine, every search ignores them:
    /// those past the last store commit (a writer that died between the index commit and the
    /// store's) and those of removed records (a writer that died between a removal's commit and
    /// its index update). The check is exact: the index's documents, less those, must number
    /// the committed records.
    pub fn open(dir: &Path) -> Result<Collection> {
        Collection::open_with(dir, Store::open)
    }

    /// [`open`](Self::open) without mapping the packs ([`Store::open_without_packs`]): searches
    /// and counts work, reading a record's stored bytes does not. What a published split's local
    /// copy is opened as (`crate::split`), its packs staying in the object store.
    pub fn open_without_packs(dir: &Path) -> Result<Collection> {
        Collection::open_with(dir, Store::open_without_packs)
    }

    /// A published split opened in place: the manifest and the record table's small files in
    /// `dir`, the table's data file and the index read by ranges through `files`
    /// ([`crate::store::RangedFiles`], names relative to the collection), nothing downloaded
    /// whole. The same in-step check as [`open`](Self::open); errors about the index name
    /// `label` (the split's URL).
    pub fn open_ranged(
        dir: &Path,
        files: std::sync::Arc<dyn crate::store::RangedFiles>,
        label: &str,
    ) -> Result<Collection> {
        let index = Index::open_ranged(files.clone(), &format!("{label}/index"))?;
        Collection::check_in_step(dir, |d| Store::open_ranged(d, files.clone()), index)
    }

    fn open_with(
        dir: &Path,
        open_store: fn(&Path) -> std::result::Result<Store, crate::store::StoreError>,
    ) -> Result<Collection> {
        let index = Index::open_or_create(&dir.join("index"))?;
        Collection::check_in_step(dir, open_store, index)
    }

    /// The store `open_store` opens in `dir` with `index`, refused unless they are in step.
    fn check_in_step(
        dir: &Path,
        open_store: impl Fn(&Path) -> std::result::Result<Store, crate::store::StoreError>,
        index: Index,
    ) -> Result<Collection> {
        let store = open_store(dir)?;
        let mut c = Collection { store, index };
        let mut state = c.index_state()?;
        if !state.in_step() && state.index_generation.is_some_and(|g| g > state.store_generation) {
            // A writer committed between our reading the records and the index: read the
            // records again rather than call a healthy index stale.
            c.store = open_store(dir)?;
            state = c.index_state()?;
        }
        if !state.in_step() {
            return Err(Error::IndexOutOfStep {
                dir: dir.to_path_buf(),
                index_generation: state.index_generation,
                index_docs: state.index_docs,
                store_generation: state.store_generation,
                records: state.records,
            });
        }
        Ok(c)
    }

    fn index_state(&self) -> Result<IndexState> {
        Ok(IndexState {
            index_generation: self.index.generation()?,
            index_docs: self.index.num_docs(),
            stale_docs: self.index.stale_docs(self.store.rows(), self.store.removed())?,
            store_generation: self.store.generation(),
            records: self.store.len(),
        })
    }

    /// The records and their bytes.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Stats {
        self.store.stats()
    }
}

/// Where the index stands against the committed records.
#[derive(Clone, Copy, Debug)]
struct IndexState {
    index_generation: Option<u64>,
    index_docs: u64,
    /// Documents that are not committed records (see [`Index::stale_docs`]).
    stale_docs: u64,
    store_generation: u64,
    records: u64,
}

impl IndexState {
    /// The index describes exactly the committed records, besides documents searches ignore:
    /// an unfinished commit's after them (its generation is then one ahead) and removed
    /// records'.
    fn in_step(&self) -> bool {
        let records = self.index_docs.checked_sub(self.stale_docs) == Some(self.records);
        match self.index_generation {
            Some(g) if g == self.store_generation || g == self.store_generation + 1 => records,
            None => self.records == 0,
            _ => false,
        }
    }
}

/// A collection opened for appending (one writer at a time).
pub struct CollectionWriter {
    store: StoreWriter,
    index: Index,
    writer: crate::index::Writer,
    workers: ingest::Workers,
    threads: usize,
}

impl CollectionWriter {
    /// Create the collection in `dir` if there is none, and open it for appending with `threads`
    /// worker threads (0: one per core).
    ///
    /// Brings the index in step with the store first: documents of an unfinished commit and of
    /// removed records are deleted, and an index that is missing or behind is rebuilt from the
    /// stored bytes.
    pub fn open(dir: &Path, threads: usize) -> Result<CollectionWriter> {
        let store = Store::create(dir)?.writer()?;
        // An index of the previous schema is kept (see `Index::has_field`); one of a schema
        // this version does not know is derived data, replaced and rebuilt by `reconcile`.
        let index = match Index::open_or_create(&dir.join("index")) {
            Err(e) if e.is_foreign_schema() => Index::open_or_replace(&dir.join("index"))?,
            r => r?,
        };
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let workers = ingest::Workers::new(threads).map_err(Error::ThreadPool)?;
        let writer = index.writer(threads)?;
        let mut w = CollectionWriter { store, index, writer, workers, threads };
        w.reconcile()?;
        Ok(w)
    }

    fn reconcile(&mut self) -> Result<()> {
        let store = self.store.store();
        let (store_gen, records, rows) = (store.generation(), store.len(), store.rows());
        let removed = store.removed().to_vec();
        match self.index.generation()? {
            Some(g)
                if g == store_gen
                    && self.index.num_docs() == records
                    && self.index.stale_docs(rows, &removed)? == 0 =>
            {
                Ok(())
            }
            Some(g) if g == store_gen || g == store_gen + 1 => {
                self.writer.delete_from(rows)?;
                self.writer.delete_seqs(&removed);
                self.writer.commit(store_gen)?;
                // Documents were missing (the index is behind): only the stored bytes can say.
                if self.index.num_docs() != records {
                    self.rebuild_index()?;
                }
                Ok(())
            }
            None if records == 0 => Ok(()),
            _ => self.rebuild_index(),
        }
    }

    /// Re-index every record from its stored bytes. An index of an older version (without the
    /// chat, Drive and Voice fields) is replaced by an empty one of this version first.
    pub fn rebuild_index(&mut self) -> Result<()> {
        if self.index.is_older() {
            self.replace_index()?;
        }
        self.writer.delete_all()?;
        let store = self.store.store();
        let limits = crate::Limits::default();
        for rec in store.iter() {
            let rec = rec?;
            // Chat, Drive and Voice text comes from their parts and metadata, as ingest read it.
            let body = match ingest::record::record_text(
                &rec,
                &|p| store.part_bytes(&rec, p).ok(),
                &limits,
            ) {
                Some(text) => text,
                None => ingest::mime::parse(store.bytes(&rec)?).body,
            };
            self.writer.add(&rec, &IndexText { body: &body })?;
        }
        self.writer.commit(store.generation())?;
        Ok(())
    }

    /// Close the index on disk and open an empty one of this version in its place (the caller
    /// rebuilds it). An in-memory index stands in while the old one is closed.
    fn replace_index(&mut self) -> Result<()> {
        let stand_in = Index::in_memory()?;
        let stand_in_writer = stand_in.writer(1)?;
        std::mem::replace(&mut self.writer, stand_in_writer).finish()?;
        drop(std::mem::replace(&mut self.index, stand_in));
        self.index = Index::open_or_replace(&self.store.store().dir().join("index"))?;
        self.writer = self.index.writer(self.threads)?;
        Ok(())
    }

    /// Read `source` into the collection for `opts.account`, and commit.
    pub fn ingest(
        &mut self,
        source: &Source,
        opts: &IngestOptions,
        progress: &mut dyn IngestProgress,
    ) -> Result<IngestReport> {
        let report = self.ingest_deferred(source, opts, progress)?;
        self.commit(progress)?;
        Ok(report)
    }

    /// Like [`ingest`](Self::ingest), but the records after the last full `opts.commit_every`
    /// stay pending: the next call's commits, [`commit`](Self::commit) or
    /// [`finish`](Self::finish) make them durable (a crash before loses them; the next writer
    /// cuts them off).
    ///
    /// Why: every commit makes index segments, and an index of thousands of small segments (one
    /// per custodian when 5,000 one-mailbox custodians are ingested in a run) is slow to commit,
    /// reopen and merge. Here small sources share commits of `commit_every` records.
    pub fn ingest_deferred(
        &mut self,
        source: &Source,
        opts: &IngestOptions,
        progress: &mut dyn IngestProgress,
    ) -> Result<IngestReport> {
        // The duplicate Message-ID check below reads the account's committed records: commit
        // its pending ones first so they are among them.
        if self.store.has_pending(opts.corpus, &opts.account) {
            self.commit(progress)?;
        }
        let mut report =
            IngestReport { source: source.path().display().to_string(), ..IngestReport::default() };
        // Message-IDs already held by this account, for the duplicate check.
        let mut seen_ids: HashMap<String, DocId> = HashMap::new();
        let store = self.store.store();
        for seq in store.seqs_of(opts.corpus, &opts.account)? {
            if let Some(r) = store.get(seq)?
                && let Some(id) = r.mail().and_then(|m| m.message_id.clone())
            {
                seen_ids.entry(id).or_insert(r.doc_id);
            }
        }
        let fits = match source.corpus() {
            Some(c) => c == opts.corpus,
            None => matches!(opts.corpus, Corpus::Mail | Corpus::Groups),
        };
        if !fits {
            return Err(IngestError::WrongCorpus {
                source_kind: source_kind_name(source),
                holds: source.corpus().unwrap_or(Corpus::Mail),
                corpus: opts.corpus,
            }
            .into());
        }
        // An index of an older version is kept while only mail is added (it has every mail
        // field); the other corpora need this version's fields, so it is rebuilt first.
        if source.corpus().is_some() && self.index.is_older() {
            self.rebuild_index()?;
        }
        let items = source.items_for(opts.account.as_str(), &opts.limits)?;
        // A reader thread splits and parses batches while this thread stores and indexes the
        // previous one; the channel holds at most two batches, so memory stays bounded.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
        let workers = self.workers.clone();
        let batch_len = opts.batch.max(1);
        std::thread::scope(|scope| -> Result<()> {
            let limits = opts.limits;
            scope.spawn(move || read_batches(items, &workers, batch_len, &limits, &tx));
            for batch in rx {
                report.seen += batch.rejected.len() as u64;
                report.rejected.extend(batch.rejected);
                report.notices.extend(batch.notices);
                progress.advanced(batch.prepared.len() as u64, batch.bytes);
                for p in batch.prepared {
                    report.seen += 1;
                    match p {
                        Ready::Message(p) => self.add(p, opts, &mut seen_ids, &mut report)?,
                        Ready::Record(r) => self.add_record(*r, opts, &mut report)?,
                        Ready::Rejected(r) => report.rejected.push(r),
                    }
                    if self.store.pending() >= opts.commit_every as u64 {
                        self.commit(progress)?;
                    }
                }
            }
            Ok(())
        })?;
        debug_assert!(report.balances());
        Ok(report)
    }

    fn add(
        &mut self,
        p: Prepared,
        opts: &IngestOptions,
        seen_ids: &mut HashMap<String, DocId>,
        report: &mut IngestReport,
    ) -> Result<()> {
        let Prepared { raw, meta, body, mut defects, md5 } = p;
        let doc_id = DocId::derive(opts.corpus.as_str(), &opts.account, &raw.source.key, &md5);
        if self.store.contains(opts.corpus, &opts.account, &doc_id)? {
            report.already_present += 1;
            return Ok(());
        }
        if let Some(id) = meta.mail().and_then(|m| m.message_id.as_ref()) {
            match seen_ids.get(id) {
                Some(first) => defects.push(Defect::DuplicateMessageId { first: *first }),
                None => {
                    seen_ids.insert(id.clone(), doc_id);
                }
            }
        }
        let (blob, new) = self.store.put_blob(md5, &raw.bytes)?;
        report.new_blobs += u64::from(new);
        report.bytes += blob.size;
        report.ingested += 1;
        for d in &defects {
            report.defects.push(RecordDefect {
                doc_id,
                position: raw.position.clone(),
                defect: d.clone(),
            });
        }
        let rec = Record {
            doc_id,
            seq: self.store.next_seq(),
            corpus: opts.corpus,
            account: opts.account.clone(),
            org_unit: opts.org_unit.clone(),
            source: raw.source,
            parts: Parts::new(Part::new(PartKind::Message, blob)),
            meta,
            defects,
        };
        self.writer.add(&rec, &IndexText { body: &body })?;
        self.store.push(&rec)?;
        Ok(())
    }

    /// Store a chat, Drive or Voice record: each part as a blob (content files streamed with
    /// `put_stream`, so memory does not follow their size), then the record and its index
    /// document. A content file that changed since it was hashed, or can no longer be read, is a
    /// rejection; the bytes already copied stay unreferenced in the pack.
    fn add_record(
        &mut self,
        p: PreparedRecord,
        opts: &IngestOptions,
        report: &mut IngestReport,
    ) -> Result<()> {
        let md5 = p.main_md5();
        let PreparedRecord { raw, digests, body } = p;
        let reject = |report: &mut IngestReport, reason: String| {
            report.rejected.push(Rejection { position: raw.position.clone(), reason });
            Ok(())
        };
        if let Some(claim) = &raw.account_claim
            && !claim.trim().eq_ignore_ascii_case(opts.account.as_str())
        {
            let reason =
                format!("account {claim:?} is not the account being ingested ({})", opts.account);
            return reject(report, reason);
        }
        let doc_id = DocId::derive(opts.corpus.as_str(), &opts.account, &raw.source.key, &md5);
        if self.store.contains(opts.corpus, &opts.account, &doc_id)? {
            report.already_present += 1;
            return Ok(());
        }
        let mut stored: Vec<Part> = Vec::with_capacity(raw.parts.len());
        let mut new_blobs = 0u64;
        for (part, (md5, _)) in raw.parts.iter().zip(&digests) {
            let (blob, new) = match &part.content {
                Content::Inline(b) => self.store.put_blob(*md5, b)?,
                // The prepare stage hashed the file: bytes already stored under that MD5 are
                // referenced without reading (or rewriting) the file again.
                Content::File(_) if let Some(b) = self.store.known_blob(md5)? => (b, false),
                Content::File(path) => {
                    let file = match crate::fs_safe::open_regular(path) {
                        Ok((f, _)) => f,
                        Err(e) => {
                            let why = match e {
                                crate::fs_safe::NotRegular::Kind(k) => format!("it is {k}"),
                                crate::fs_safe::NotRegular::Io(e) => e.to_string(),
                            };
                            let reason =
                                format!("content file {} cannot be read: {why}", path.display());
                            return reject(report, reason);
                        }
                    };
                    let what = path.display().to_string();
                    match self.store.put_stream(&what, std::io::BufReader::new(file)) {
                        Ok((blob, _)) if blob.md5 != *md5 => {
                            let reason =
                                format!("content file {what} changed while it was being ingested");
                            return reject(report, reason);
                        }
                        Ok(x) => x,
                        Err(crate::store::StoreError::Source { what, source }) => {
                            return reject(report, format!("content file {what}: {source}"));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            new_blobs += u64::from(new);
            stored.push(Part {
                kind: part.kind,
                name: part.name.clone(),
                content_type: part.content_type.clone(),
                blob,
            });
        }
        let mut it = stored.into_iter();
        let Some(main) = it.next() else {
            return reject(report, "no content: a record needs at least one part".to_owned());
        };
        let mut parts = Parts::new(main);
        for p in it {
            parts.push(p);
        }
        let rec = Record {
            doc_id,
            seq: self.store.next_seq(),
            corpus: opts.corpus,
            account: opts.account.clone(),
            org_unit: opts.org_unit.clone(),
            source: raw.source.clone(),
            parts,
            meta: raw.meta.clone(),
            defects: raw.defects.clone(),
        };
        report.new_blobs += new_blobs;
        report.bytes += rec.stored_bytes();
        report.ingested += 1;
        for d in &rec.defects {
            report.defects.push(RecordDefect {
                doc_id,
                position: raw.position.clone(),
                defect: d.clone(),
            });
        }
        self.writer.add(&rec, &IndexText { body: &body })?;
        self.store.push(&rec)?;
        Ok(())
    }

    /// Commit what was added so far.
    pub fn commit(&mut self, progress: &mut dyn IngestProgress) -> Result<()> {
        if self.store.pending() == 0 {
            return Ok(());
        }
        let writer = &mut self.writer;
        let generation = self.store.commit(|g| Ok(writer.commit(g)?))?;
        progress.committed(generation, self.store.store().len());
        Ok(())
    }

    /// Remove the records with these DocIds, in one commit: from it on no reader finds them
    /// (record table, search, counts, stats, exports). Pending ingest is committed first.
    /// Every requested DocId is accounted for in the report; its `removed` list is what a log
    /// of disposals needs. `steps` is told of each [`CommitStep`].
    ///
    /// Order: tombstones written and synced; the index commits the new generation (its
    /// documents unchanged); the manifest rename commits the removal; the removed records'
    /// index documents are deleted and the index commits again. A crash before the rename keeps
    /// every record; after it, none of the batch (their index documents, if still there, are
    /// ignored by searches and deleted by the next writer). The records' bytes stay in the
    /// record table until [`compact`](Self::compact), their blobs in the packs until a purge.
    ///
    /// An error after the rename is [`Error::RemovedThenFailed`], which carries the report of
    /// what was committed. After any error, drop this writer and open a new one.
    pub fn remove(
        &mut self,
        doc_ids: &[DocId],
        steps: &mut dyn CommitSteps,
    ) -> Result<RemoveReport> {
        self.commit(&mut NoProgress)?;
        let mut report =
            RemoveReport { requested: doc_ids.len() as u64, ..RemoveReport::default() };
        let mut seen = HashSet::with_capacity(doc_ids.len());
        for id in doc_ids {
            if !seen.insert(*id) {
                report.duplicates.push(*id);
            }
        }
        // One pass over the key rows finds every requested record's seq.
        let seqs = self.store.seqs_of_docs(&seen)?;
        let mut first = HashSet::with_capacity(doc_ids.len());
        for id in doc_ids {
            if !first.insert(*id) {
                continue;
            }
            let rec = match seqs.get(id) {
                Some(&seq) => self.store.remove(seq)?,
                None => None,
            };
            match rec {
                Some(r) => report.removed.push(Removed {
                    doc_id: r.doc_id,
                    seq: r.seq,
                    corpus: r.corpus,
                    md5: r.blob().md5,
                    size: r.stored_bytes(),
                    account: r.account,
                }),
                None => report.not_found.push(*id),
            }
        }
        report.generation = self.store.store().generation();
        if report.removed.is_empty() {
            return Ok(report);
        }
        let generation = report.generation + 1;
        let mut track = Track { inner: steps, committed: false };
        let writer = &mut self.writer;
        match self.store.commit_steps(&mut track, |g| Ok(writer.commit(g)?)) {
            Ok(_) => report.generation = generation,
            Err(e) if track.committed => {
                report.generation = generation;
                return Err(Error::RemovedThenFailed {
                    report: Box::new(report),
                    source: Box::new(e),
                });
            }
            Err(e) => return Err(e),
        }
        let seqs: Vec<u64> = report.removed.iter().map(|r| r.seq).collect();
        self.writer.delete_seqs(&seqs);
        if let Err(e) = self.writer.commit(generation) {
            let source = Box::new(Error::from(e));
            return Err(Error::RemovedThenFailed { report: Box::new(report), source });
        }
        steps.reached(CommitStep::IndexUpdated);
        Ok(report)
    }

    /// Drop the bytes of the records removed since the last compaction from the record table
    /// (a new epoch, committed by the manifest rename; see [`StoreWriter::compact`]), and from
    /// the index files: their documents are deleted in the index commit before the rename (the
    /// records are already removed, so the index never lacks a committed record) and the
    /// segments that held them are merged after it. Pending ingest is committed first. Nothing
    /// is written when nothing was removed. Packs are not touched: removed records' blobs stay
    /// until a purge. `steps` is told of each [`CommitStep`].
    ///
    /// The deletion must precede the rename: after it the removed seqs are listed nowhere, so
    /// their documents could no longer be told from records. An error after the rename (the
    /// old epoch's deletion, the merge) leaves the compaction committed: the next writer deletes
    /// the old epoch, the next compaction merges what was not.
    pub fn compact(&mut self, steps: &mut dyn CommitSteps) -> Result<Compaction> {
        self.commit(&mut NoProgress)?;
        let removed = self.store.store().removed().to_vec();
        let writer = &mut self.writer;
        let report = self.store.compact(steps, |g| {
            writer.delete_seqs(&removed);
            Ok(writer.commit(g)?)
        })?;
        if report.records_dropped > 0 {
            self.writer.merge_deleted()?;
            steps.reached(CommitStep::IndexUpdated);
        }
        Ok(report)
    }

    /// Give back the disk space of pack bytes no live record references (purged blobs), by
    /// punching holes; no blob moves ([`StoreWriter::reclaim`](crate::store::StoreWriter::reclaim)).
    /// Pending ingest is committed first.
    pub fn reclaim(&mut self) -> Result<crate::store::Reclaimed> {
        self.commit(&mut NoProgress)?;
        Ok(self.store.reclaim()?)
    }

    /// Record (replace) a group's member list.
    pub fn set_members(
        &mut self,
        group: &str,
        members: Vec<crate::model::GroupMember>,
    ) -> Result<()> {
        Ok(self.store.set_members(group, members)?)
    }

    /// The committed state.
    pub fn store(&self) -> &Store {
        self.store.store()
    }

    /// Finish: commit what is pending, wait for index merges, release the locks, and reopen for
    /// reading.
    pub fn finish(mut self) -> Result<Collection> {
        self.commit(&mut NoProgress)?;
        let dir = self.store.store().dir().to_path_buf();
        let mut writer = self.writer;
        writer.merge_if_fragmented(MAX_SEGMENTS)?;
        writer.finish()?;
        drop(self.store);
        drop(self.index);
        Collection::open(&dir)
    }
}

/// How a source is named in a wrong-corpus error.
fn source_kind_name(source: &Source) -> &'static str {
    match source {
        Source::Mbox(_) => "an mbox",
        Source::Takeout(_) => "a Takeout mbox",
        Source::Maildir(_) => "a Maildir",
        Source::Eml(_) => "an .eml folder",
        Source::ChatJsonl { .. } => "a chat JSONL file",
        Source::DriveJsonl { .. } => "a Drive JSONL file",
        Source::VoiceJsonl { .. } => "a Voice JSONL file",
        Source::TakeoutChat(_) => "a Takeout Chat export",
        Source::TakeoutVoice(_) => "a Takeout Voice export",
        Source::DriveFolder(_) => "a Drive folder",
    }
}

/// One batch from the reader thread, in source order.
struct Batch {
    prepared: Vec<Ready>,
    rejected: Vec<ingest::Rejection>,
    notices: Vec<ingest::Notice>,
    bytes: u64,
}

fn read_batches(
    mut items: Box<dyn Iterator<Item = Item> + Send>,
    workers: &ingest::Workers,
    batch_len: usize,
    limits: &crate::Limits,
    tx: &std::sync::mpsc::SyncSender<Batch>,
) {
    loop {
        let mut raw = Vec::with_capacity(batch_len);
        let mut rejected = Vec::new();
        let mut notices = Vec::new();
        let mut bytes = 0usize;
        for item in items.by_ref() {
            match item {
                Item::Message(m) => {
                    bytes += m.bytes.len();
                    raw.push(Raw::Message(m));
                }
                Item::Record(r) => {
                    // What the record will hold in memory once prepared: its inline bytes and
                    // at most the text cap of each content file.
                    bytes += r
                        .parts
                        .iter()
                        .map(|p| match &p.content {
                            Content::Inline(b) => b.len(),
                            Content::File(_) => limits.extract_text_bytes,
                        })
                        .sum::<usize>();
                    raw.push(Raw::Record(r));
                }
                Item::Rejected(r) => rejected.push(r),
                Item::Notice(n) => notices.push(n),
            }
            if raw.len() >= batch_len || bytes >= 64 << 20 {
                break;
            }
        }
        let done = raw.is_empty() && rejected.is_empty() && notices.is_empty();
        if done {
            return;
        }
        let prepared = workers.prepare_items(raw, limits);
        // The receiver is gone only when storing failed; its error is reported there.
        if tx.send(Batch { prepared, rejected, notices, bytes: bytes as u64 }).is_err() {
            return;
        }
    }
}
