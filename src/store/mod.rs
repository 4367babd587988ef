//! The collection folder on disk: original bytes in append-only pack files addressed by MD5
//! (identical bytes stored once), a record table, and crash-safe commits.
//!
//! ```text
//! DIR/MANIFEST.json         the commit point: generation, committed length of every pack,
//!                           the record table's committed state, record count (replaced
//!                           atomically by rename)
//! DIR/packs/000000.pack     blobs, back to back; a blob is addressed by (pack, offset, size)
//! DIR/records/*.bin         the record table ([`table`]): records found by seq or account
//!                           without decoding the rest
//! DIR/LOCK                  held by the one writer
//! ```
//!
//! A commit syncs the packs, prepares the record table (its files synced, a new summaries
//! file), lets the caller commit dependent state (the index) under the new generation, then
//! renames a new manifest into place. A crash anywhere before the rename leaves the previous
//! manifest, which names only complete data: bytes past a committed length and files it does not
//! name are ignored by readers and removed by the next writer.
//!
//! Records are removed by a commit like any other ([`StoreWriter::remove`], then
//! [`StoreWriter::commit`]): the record table tombstones their seqs, and from that commit on
//! [`Store::get`], [`Store::iter`], [`Store::find`], [`Store::seqs_of`], [`Store::len`],
//! [`Store::accounts`] and [`Store::stats`] leave them out. [`StoreWriter::compact`] later
//! rewrites the record table without their bytes, into a new epoch committed by the same manifest
//! rename. Seqs are never reused: [`Store::rows`] (the next seq) counts removed rows too. A
//! removed record's blob stays in its pack: blobs are shared by identical records, and dropping
//! bytes from packs (with the bookkeeping that proves no live record needs them) belongs to
//! retention purge, not to removal.
//!
//! Format 1 collections kept records in JSON Lines segments (`records/000001.jsonl`, one per
//! commit). A reader reads them as they are (parsing every record at open, as format 1 always
//! did); the first writer converts them once into the record table (seq = line position, so the
//! index stays valid) and commits format 2.

mod legacy;
mod lookup;
mod map;
mod reclaim;
pub mod table;

use crate::digest::Md5;
use crate::model::{Account, BlobRef, Corpus, DocId, Part, Record};
use lookup::SeqIndex;
use map::Mapped;
pub use map::{RangedFiles, RangedReadError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
pub use table::Key;
use table::{RecordTable, RecordTableWriter, TableError, TableManifest};

/// A pack is closed and a new one started past this size.
pub const PACK_LIMIT: u64 = 1 << 30;
/// The format this version writes: the record table.
const FORMAT: u32 = 2;
/// The format of JSON Lines segments, read and converted.
const FORMAT_JSONL: u32 = 1;

/// Errors of the collection folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file's content is not what this version wrote.
    #[error("{path}: corrupt collection file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The record table (its errors name the file and the row or byte).
    #[error(transparent)]
    Table(#[from] TableError),
    /// Records were removed or compacted with records pushed and not committed (commit first:
    /// a removal or compaction commits on its own, so its report names only what it did).
    #[error("{0}: records pushed but not committed; commit them before removing or compacting")]
    Uncommitted(PathBuf),
    /// Another process is writing to the collection.
    #[error("{0}: another process is writing to this collection")]
    Locked(PathBuf),
    /// The collection holds as many records as a writer's lookups can number.
    #[error("{0}: a collection holds at most {limit} records", limit = lookup::SEQ_LIMIT)]
    Full(PathBuf),
    /// Not a collection folder.
    #[error("{0} is not a collection (no MANIFEST.json)")]
    NotACollection(PathBuf),
    /// A record's metadata is not of its corpus's kind (say, Drive metadata on a mail record).
    #[error("record {doc_id}: {corpus} record with metadata of another corpus")]
    MetadataMismatch {
        /// The record.
        doc_id: DocId,
        /// Its corpus.
        corpus: Corpus,
    },
    /// The bytes of a streamed blob could not be read from their source.
    #[error("{what}: reading a blob to store: {source}")]
    Source {
        /// What was being read, as the caller named it (a path, a record id).
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// A blob lies outside its pack's committed bytes.
    #[error(
        "record {doc_id}: blob at pack {pack} offset {offset} size {size} is outside the committed pack"
    )]
    BlobOutOfRange {
        /// The record.
        doc_id: DocId,
        /// Pack number.
        pack: u32,
        /// Offset.
        offset: u64,
        /// Size.
        size: u64,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// The commit point.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    generation: u64,
    /// Committed length of each pack, by pack number.
    packs: Vec<u64>,
    /// Format 1 only: record segment file names, in commit order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    segments: Vec<String>,
    /// Records not removed.
    records: u64,
    /// Distinct blobs the records reference (format 2; computed at open for format 1).
    #[serde(default)]
    blobs: u64,
    /// Bytes of those blobs.
    #[serde(default)]
    blob_bytes: u64,
    /// Format 2: the record table's committed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    table: Option<TableManifest>,
}

/// Statistics of a collection: of its records, removed ones left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Records.
    pub records: u64,
    /// Bytes of all records (duplicates counted each time).
    pub bytes: u64,
    /// Distinct blobs the records reference.
    pub blobs: u64,
    /// Bytes of those blobs (what the packs hold for the records; the packs also keep the blobs
    /// of removed records until a purge).
    pub blob_bytes: u64,
    /// Per corpus and account: (records, bytes).
    pub per_account: BTreeMap<(Corpus, Account), (u64, u64)>,
}

/// What the collection holds for one account of one corpus, kept up to date as records are
/// added, so scopes and stats never scan every record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSummary {
    /// Records.
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// The org units the account's records were ingested under.
    pub org_units: std::collections::BTreeSet<crate::model::OrgUnit>,
}

/// Where the records are read from.
enum Records {
    /// Format 2: the record table, decoded one record at a time.
    Table(Box<RecordTable>),
    /// Format 1: JSON Lines segments, parsed whole at open (until a writer converts them).
    Jsonl(Vec<Record>),
}

/// An open collection folder (reading; see [`StoreWriter`] for appending).
pub struct Store {
    dir: PathBuf,
    manifest: Manifest,
    maps: Vec<Mapped>,
    records: Records,
    accounts: BTreeMap<(Corpus, Account), AccountSummary>,
}

fn summaries_of(t: &RecordTable) -> BTreeMap<(Corpus, Account), AccountSummary> {
    t.accounts()
        .map(|(c, a, totals)| {
            let s = AccountSummary {
                records: totals.records,
                bytes: totals.bytes,
                org_units: totals.org_units.keys().cloned().collect(),
            };
            ((c, a.clone()), s)
        })
        .collect()
}

/// Take the writer lock of the collection in `dir` (`dir/LOCK`), held while the returned file
/// lives: the one lock a writer and anything that must see no commit meanwhile (a split's
/// publisher) take. [`StoreError::Locked`] when another process holds it.
pub fn lock_writer(dir: &Path) -> Result<File, StoreError> {
    let lock_path = dir.join("LOCK");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(io_err(&lock_path)(e)),
    }
}

impl Store {
    /// Create an empty collection in `dir` (created if missing), or open the one there.
    pub fn create(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir.join("packs")).map_err(io_err(dir))?;
        fs::create_dir_all(dir.join("records")).map_err(io_err(dir))?;
        let mpath = dir.join("MANIFEST.json");
        if !mpath.exists() {
            let m = Manifest {
                format: FORMAT,
                table: Some(TableManifest::default()),
                ..Manifest::default()
            };
            write_manifest(dir, &m)?;
        }
        Store::open(dir)
    }

    /// Open the collection in `dir` as of its last commit. Reads the manifest and the record
    /// table's account summaries and maps the rest: no record is decoded (a format 1
    /// collection, not yet converted by a writer, is parsed whole).
    ///
    /// A writer that commits while this reads may delete the files the manifest just read names
    /// (the previous summaries, or a compacted epoch): a missing table file is retried with the
    /// new manifest a few times before it is an error.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_maybe_packs(dir, true)
    }

    /// [`open`](Self::open) without the packs: the records, their keys and summaries, but no
    /// stored bytes ([`Store::bytes`] is then [`StoreError::BlobOutOfRange`]). What a published
    /// split's local copy is (`crate::split`): searching needs the record table and the index,
    /// never the packs, which stay in the object store and are read by ranged reads.
    pub fn open_without_packs(dir: &Path) -> Result<Store, StoreError> {
        Store::open_maybe_packs(dir, false)
    }

    /// [`open_without_packs`](Self::open_without_packs) with the record table's data file read
    /// through `files` (a published split's, by ranged reads) instead of from `dir`, which
    /// holds the manifest and the table's small files.
    pub fn open_ranged(
        dir: &Path,
        files: std::sync::Arc<dyn RangedFiles>,
    ) -> Result<Store, StoreError> {
        Store::open_with(dir, false, Some(&files))
    }

    fn open_maybe_packs(dir: &Path, packs: bool) -> Result<Store, StoreError> {
        Store::open_with(dir, packs, None)
    }

    fn open_with(
        dir: &Path,
        packs: bool,
        ranged: Option<&std::sync::Arc<dyn RangedFiles>>,
    ) -> Result<Store, StoreError> {
        let mut attempt = 0;
        loop {
            match Store::open_once(dir, packs, ranged) {
                Err(StoreError::Table(TableError::Io { source, .. }))
                    if source.kind() == io::ErrorKind::NotFound && attempt < 3 =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn open_once(
        dir: &Path,
        packs: bool,
        ranged: Option<&std::sync::Arc<dyn RangedFiles>>,
    ) -> Result<Store, StoreError> {
        let mpath = dir.join("MANIFEST.json");
        let text = match fs::read(&mpath) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotACollection(dir.to_path_buf()));
            }
            Err(e) => return Err(io_err(&mpath)(e)),
        };
        let mut manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| StoreError::Corrupt { path: mpath.clone(), reason: e.to_string() })?;
        let corrupt = |reason: String| StoreError::Corrupt { path: mpath.clone(), reason };
        let (records, accounts) = match manifest.format {
            FORMAT => {
                let tm = manifest
                    .table
                    .as_ref()
                    .ok_or_else(|| corrupt("format 2 without a record table".to_owned()))?;
                let t = match ranged {
                    None => RecordTable::open(&dir.join("records"), tm)?,
                    Some(f) => RecordTable::open_ranged(&dir.join("records"), tm, f.clone())?,
                };
                if t.live() != manifest.records {
                    return Err(corrupt(format!(
                        "manifest promises {} records, the record table holds {}",
                        manifest.records,
                        t.live()
                    )));
                }
                let accounts = summaries_of(&t);
                (Records::Table(Box::new(t)), accounts)
            }
            FORMAT_JSONL => {
                let mut records = Vec::new();
                for seg in &manifest.segments {
                    load_segment(&dir.join("records").join(seg), &mut records)?;
                }
                if records.len() as u64 != manifest.records {
                    return Err(corrupt(format!(
                        "manifest promises {} records, segments hold {}",
                        manifest.records,
                        records.len()
                    )));
                }
                let mut accounts: BTreeMap<(Corpus, Account), AccountSummary> = BTreeMap::new();
                let mut blobs: HashMap<Md5, u64> = HashMap::new();
                for rec in &records {
                    let s = accounts.entry((rec.corpus, rec.account.clone())).or_default();
                    s.records += 1;
                    s.bytes += rec.stored_bytes();
                    s.org_units.insert(rec.org_unit.clone());
                    for p in &rec.parts {
                        blobs.entry(p.blob.md5).or_insert(p.blob.size);
                    }
                }
                manifest.blobs = blobs.len() as u64;
                manifest.blob_bytes = blobs.values().sum();
                (Records::Jsonl(records), accounts)
            }
            other => {
                return Err(corrupt(format!(
                    "format {other} (this version reads {FORMAT_JSONL} and {FORMAT})"
                )));
            }
        };
        let mut store =
            Store { dir: dir.to_path_buf(), manifest, maps: Vec::new(), records, accounts };
        if packs {
            store.remap()?;
        }
        Ok(store)
    }

    /// The files the last commit names, relative to the folder (`/`-separated), with their
    /// committed lengths (`None`: the whole file): packs, the record table (or format 1
    /// segments) and `groups.json` when there is one. `MANIFEST.json` is not listed: a copy
    /// takes [`manifest_json`](Self::manifest_json), the commit this store was opened at.
    /// What a published split holds besides the index (`crate::split`).
    pub fn committed_files(&self) -> Vec<table::CommittedFile> {
        let mut out: Vec<table::CommittedFile> = self
            .manifest
            .packs
            .iter()
            .enumerate()
            .map(|(n, &len)| table::CommittedFile {
                name: format!("packs/{n:06}.pack"),
                len: Some(len),
            })
            .collect();
        match &self.manifest.table {
            Some(t) if self.manifest.format == FORMAT => {
                out.extend(t.committed_files().into_iter().map(|f| table::CommittedFile {
                    name: format!("records/{}", f.name),
                    len: f.len,
                }));
            }
            _ => out.extend(
                self.manifest
                    .segments
                    .iter()
                    .map(|s| table::CommittedFile { name: format!("records/{s}"), len: None }),
            ),
        }
        if self.dir.join("groups.json").is_file() {
            out.push(table::CommittedFile { name: "groups.json".to_owned(), len: None });
        }
        out
    }

    /// `MANIFEST.json` as of the commit this store was opened at (a writer may have replaced
    /// the file since).
    pub fn manifest_json(&self) -> Result<Vec<u8>, StoreError> {
        let mut bytes = serde_json::to_vec_pretty(&self.manifest).map_err(|e| {
            StoreError::Corrupt { path: self.dir.join("MANIFEST.json"), reason: e.to_string() }
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    fn remap(&mut self) -> Result<(), StoreError> {
        self.maps.clear();
        for (i, &len) in self.manifest.packs.iter().enumerate() {
            let path = pack_path(&self.dir, i as u32);
            let file = File::open(&path).map_err(io_err(&path))?;
            let have = file.metadata().map_err(io_err(&path))?.len();
            if have < len {
                return Err(StoreError::Corrupt {
                    path,
                    reason: format!("{have} bytes, {len} committed"),
                });
            }
            self.maps.push(Mapped::new(&file, len).map_err(io_err(&path))?);
        }
        Ok(())
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The commit generation (0 for a new collection).
    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }

    /// Committed records, removed ones left out (read from the manifest, nothing decoded): the
    /// count to show. Seqs run to [`rows`](Self::rows), which counts removed rows too.
    pub fn len(&self) -> u64 {
        self.manifest.records
    }

    /// Rows of the record table, removed ones included: the seq the next record gets, and the
    /// bound on every committed seq.
    pub fn rows(&self) -> u64 {
        match &self.records {
            Records::Table(t) => t.rows(),
            Records::Jsonl(v) => v.len() as u64,
        }
    }

    /// The seqs removed since the last compaction, ascending (their index documents may remain
    /// until a writer deletes them; see `Collection::open`).
    pub fn removed(&self) -> &[u64] {
        match &self.records {
            Records::Table(t) => t.removed(),
            Records::Jsonl(_) => &[],
        }
    }

    /// Whether records were removed (rows of the record table that are no longer live), so a
    /// `seq` below [`rows`](Self::rows) is not necessarily a record.
    pub fn has_removed(&self) -> bool {
        match &self.records {
            Records::Table(t) => t.rows() != t.live(),
            Records::Jsonl(_) => false,
        }
    }

    /// Whether the collection holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record with sequence number `seq`, decoded from the record table; `None` when there
    /// is none: past the last row, or removed (a removed record is gone for every reader; one
    /// holding its seq from before the removal, such as an export plan, finds nothing and says
    /// so).
    pub fn get(&self, seq: u64) -> Result<Option<Record>, StoreError> {
        match &self.records {
            Records::Table(t) => Ok(t.get(seq)?),
            Records::Jsonl(v) => Ok(usize::try_from(seq).ok().and_then(|i| v.get(i)).cloned()),
        }
    }

    /// The corpus and account of record `seq`, without decoding it; `None` when there is none.
    pub fn account_of(&self, seq: u64) -> Result<Option<(Corpus, &Account)>, StoreError> {
        match &self.records {
            Records::Table(t) => Ok(t.account_of(seq)?),
            Records::Jsonl(v) => {
                Ok(usize::try_from(seq).ok().and_then(|i| v.get(i)).map(|r| (r.corpus, &r.account)))
            }
        }
    }

    /// The seqs of `account`'s records in `corpus`, ascending, without decoding records.
    pub fn seqs_of(&self, corpus: Corpus, account: &Account) -> Result<Vec<u64>, StoreError> {
        match &self.records {
            Records::Table(t) => Ok(t.seqs_of(corpus, account)?.collect()),
            Records::Jsonl(v) => Ok(v
                .iter()
                .filter(|r| r.corpus == corpus && &r.account == account)
                .map(|r| r.seq)
                .collect()),
        }
    }

    /// The corpus, account and [`Key`] (DocId, main blob, date, part count) of record `seq`,
    /// read from fixed-width rows without decoding the record (a format 1 collection, or a
    /// table written before the keys file, decodes it); `None` when there is none (removed).
    pub fn key(&self, seq: u64) -> Result<Option<(Corpus, &Account, Key)>, StoreError> {
        match &self.records {
            Records::Table(t) => Ok(t.key(seq)?),
            Records::Jsonl(v) => Ok(usize::try_from(seq)
                .ok()
                .and_then(|i| v.get(i))
                .map(|r| (r.corpus, &r.account, Key::of(r)))),
        }
    }

    /// The seqs of the live records with these DocIds, read from the key rows in one pass
    /// (nothing decoded): what a removal needs. DocIds not found are absent from the map.
    pub fn seqs_of_docs(
        &self,
        ids: &std::collections::HashSet<DocId>,
    ) -> Result<HashMap<DocId, u64>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        for seq in 0..self.rows() {
            if let Some((_, _, k)) = self.key(seq)?
                && ids.contains(&k.doc_id)
            {
                out.entry(k.doc_id).or_insert(seq);
                if out.len() == ids.len() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every record in `seq` order, each decoded as it is reached; removed ones left out.
    pub fn iter(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        (0..self.rows()).filter_map(move |seq| self.get(seq).transpose())
    }

    /// The record with this DocId. Reads every record's key until it is found (decoding only
    /// that record): for rare paths (a retry naming DocIds the search did not give) and tests,
    /// not for loops.
    pub fn find(&self, doc_id: &DocId) -> Result<Option<Record>, StoreError> {
        for seq in 0..self.rows() {
            if let Some((_, _, k)) = self.key(seq)?
                && k.doc_id == *doc_id
            {
                return self.get(seq);
            }
        }
        Ok(None)
    }

    /// The stored original bytes of `rec`'s main part (the message, the file), borrowed from
    /// the pack map (no copy).
    pub fn bytes(&self, rec: &Record) -> Result<&[u8], StoreError> {
        self.part_bytes(rec, rec.parts.main())
    }

    /// The stored bytes of one of `rec`'s parts, borrowed from the pack map (no copy).
    pub fn part_bytes(&self, rec: &Record, part: &Part) -> Result<&[u8], StoreError> {
        self.blob_bytes(rec.doc_id, &part.blob)
    }

    /// The stored bytes of blob `b` of record `doc_id`, borrowed from the pack map (no copy):
    /// for readers that have a record's [`Key`] and not the decoded record.
    pub fn blob_bytes(&self, doc_id: DocId, b: &BlobRef) -> Result<&[u8], StoreError> {
        let out_of_range =
            || StoreError::BlobOutOfRange { doc_id, pack: b.pack, offset: b.offset, size: b.size };
        let map = self.maps.get(b.pack as usize).ok_or_else(out_of_range)?.bytes();
        let start = usize::try_from(b.offset).map_err(|_| out_of_range())?;
        let end = start.checked_add(usize::try_from(b.size).map_err(|_| out_of_range())?);
        end.and_then(|end| map.get(start..end)).ok_or_else(out_of_range)
    }

    /// Group memberships recorded at ingest (`DIR/groups.json`), by group address.
    pub fn members(&self) -> Result<BTreeMap<String, Vec<crate::model::GroupMember>>, StoreError> {
        let path = self.dir.join("groups.json");
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| StoreError::Corrupt { path, reason: e.to_string() }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Every (corpus, account) the collection holds, with what it holds.
    pub fn accounts(&self) -> &BTreeMap<(Corpus, Account), AccountSummary> {
        &self.accounts
    }

    /// Counts and sizes (from the manifest and the account summaries: nothing decoded).
    pub fn stats(&self) -> Stats {
        let mut s = Stats {
            records: self.len(),
            blobs: self.manifest.blobs,
            blob_bytes: self.manifest.blob_bytes,
            ..Stats::default()
        };
        for (k, a) in &self.accounts {
            s.bytes += a.bytes;
            s.per_account.insert(k.clone(), (a.records, a.bytes));
        }
        s
    }

    /// Start appending. Takes the writer lock, removes what an interrupted writer left past the
    /// last commit, and converts once what an older version wrote (one commit, same
    /// generation): a format 1 collection to the record table, a table without a keys file to
    /// one with it (both decode every record once).
    ///
    /// Builds the blob lookup (main blob MD5 → first live record holding it) from the keys
    /// file's fixed-width rows: 8 bytes of memory per slot (128 MB at 10 million records). Only
    /// records with more than one part are decoded, for the blobs of their other parts. DocIds
    /// are looked up per account, when asked ([`StoreWriter::contains`]).
    pub fn writer(self) -> Result<StoreWriter, StoreError> {
        let lock = lock_writer(&self.dir)?;
        // A writer may have committed between this open and the lock: start from what is
        // committed now, or the cleanup below would cut its commit as uncommitted bytes.
        let mut this = if self.manifest_changed()? { Store::open(&self.dir)? } else { self };
        this.remove_uncommitted()?;
        let rec_dir = this.dir.join("records");
        let jsonl = matches!(this.records, Records::Jsonl(_));
        // Under the lock: cuts the table's files back to their committed lengths and deletes the
        // ones the manifest does not name (a format 1 collection starts an empty table).
        let committed = if jsonl { None } else { this.manifest.table.as_ref() };
        let mut table = RecordTableWriter::open(&rec_dir, committed)?;
        if jsonl {
            for r in this.iter() {
                table.append(&r?)?;
            }
        }
        if jsonl || table.converted() {
            this.convert(&mut table)?;
        }
        let rows = table.next_seq();
        if rows > lookup::SEQ_LIMIT {
            return Err(StoreError::Full(this.dir.clone()));
        }
        let mut multi = Vec::new();
        let live = (0..rows).filter_map(|seq| match this.key(seq) {
            Ok(Some((_, _, k))) => {
                if k.parts > 1 {
                    multi.push(seq);
                }
                Some(Ok((seq, k.blob.md5.0)))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        });
        let blobs = SeqIndex::build(live, |s| committed_md5(&this, s))?;
        let mut other_parts = HashMap::new();
        for seq in multi {
            if let Some(r) = this.get(seq)? {
                for p in r.parts.iter().skip(1) {
                    other_parts.entry(p.blob.md5).or_insert(p.blob);
                }
            }
        }
        let (pack, pack_len) = match this.manifest.packs.last() {
            Some(&len) if len < PACK_LIMIT => (this.manifest.packs.len() as u32 - 1, len),
            _ => (this.manifest.packs.len() as u32, 0),
        };
        let path = pack_path(&this.dir, pack);
        let file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
        let blob_bytes = this.manifest.blob_bytes;
        let this_blobs = this.manifest.blobs;
        Ok(StoreWriter {
            store: this,
            _lock: lock,
            pack,
            pack_file: BufWriter::with_capacity(1 << 20, file),
            pack_len,
            table,
            committed_rows: rows,
            docs: None,
            blobs,
            other_parts,
            blob_count: this_blobs,
            blob_bytes,
            unreferenced: HashMap::new(),
            pending: Vec::new(),
            pending_accounts: HashSet::new(),
            removed: Vec::new(),
            closed: Vec::new(),
        })
    }

    /// Commit a conversion `table` holds: format 1 → 2, with every record appended to `table`
    /// (seq = line position, so the index stays valid), or the keys file a table lacked. Prepare
    /// the table, rename the format 2 manifest into place (the commit; the generation does not
    /// change), then delete format 1's segments. A crash before the rename leaves the old state
    /// (the next writer starts over); after it, segments left behind are deleted by the next
    /// writer.
    fn convert(&mut self, table: &mut RecordTableWriter) -> Result<(), StoreError> {
        let tm = table.prepare()?;
        let mut m = self.manifest.clone();
        let segments = std::mem::take(&mut m.segments);
        m.format = FORMAT;
        m.table = Some(tm.clone());
        write_manifest(&self.dir, &m)?;
        table.committed(&tm)?;
        let rec_dir = self.dir.join("records");
        for s in segments {
            let path = rec_dir.join(s);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        sync_dir(&rec_dir)?;
        let t = RecordTable::open(&rec_dir, &tm)?;
        self.accounts = summaries_of(&t);
        self.records = Records::Table(Box::new(t));
        self.manifest = m;
        Ok(())
    }

    /// Whether `MANIFEST.json` names another commit than the one this store was opened at.
    fn manifest_changed(&self) -> Result<bool, StoreError> {
        let path = self.dir.join("MANIFEST.json");
        let text = fs::read(&path).map_err(io_err(&path))?;
        let now: Manifest = serde_json::from_slice(&text)
            .map_err(|e| StoreError::Corrupt { path, reason: e.to_string() })?;
        Ok(now.format != self.manifest.format || now.generation != self.manifest.generation)
    }

    /// Under the lock: cut packs back to their committed lengths, delete packs the manifest does
    /// not name, and files in `records/` that are not the record table's (format 2: segments a
    /// conversion left) or not committed segments (format 1). The table's own files are cut back
    /// by [`RecordTableWriter::open`].
    fn remove_uncommitted(&self) -> Result<(), StoreError> {
        let packs_dir = self.dir.join("packs");
        for entry in fs::read_dir(&packs_dir).map_err(io_err(&packs_dir))? {
            let entry = entry.map_err(io_err(&packs_dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let n = name.strip_suffix(".pack").and_then(|s| s.parse::<usize>().ok());
            match n.and_then(|n| self.manifest.packs.get(n).copied()) {
                Some(len) => {
                    let f = OpenOptions::new()
                        .write(true)
                        .open(entry.path())
                        .map_err(io_err(&entry.path()))?;
                    if f.metadata().map_err(io_err(&entry.path()))?.len() > len {
                        f.set_len(len).map_err(io_err(&entry.path()))?;
                        f.sync_all().map_err(io_err(&entry.path()))?;
                    }
                }
                None => fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?,
            }
        }
        let rec_dir = self.dir.join("records");
        let jsonl = matches!(self.records, Records::Jsonl(_));
        for entry in fs::read_dir(&rec_dir).map_err(io_err(&rec_dir))? {
            let entry = entry.map_err(io_err(&rec_dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let stray = if jsonl {
                !self.manifest.segments.contains(&name)
            } else {
                name.ends_with(".jsonl")
            };
            if stray {
                fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
            }
        }
        Ok(())
    }
}

fn load_segment(path: &Path, out: &mut Vec<Record>) -> Result<(), StoreError> {
    let file = File::open(path).map_err(io_err(path))?;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_err(path))?;
        let rec = legacy::decode(line.as_bytes()).map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("line {}: {e}", i + 1),
        })?;
        out.push(rec);
    }
    Ok(())
}

fn pack_path(dir: &Path, n: u32) -> PathBuf {
    dir.join("packs").join(format!("{n:06}.pack"))
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), StoreError> {
    let path = dir.join("MANIFEST.json");
    let tmp = dir.join("MANIFEST.json.tmp");
    let mut bytes = serde_json::to_vec_pretty(m)
        .map_err(|e| StoreError::Corrupt { path: path.clone(), reason: e.to_string() })?;
    bytes.push(b'\n');
    write_synced(&tmp, &bytes)?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dir)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    // Makes a rename durable on Linux; a no-op elsewhere is acceptable.
    match File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// A point in a commit that removes records or compacts, in the order they are reached.
///
/// Each is a place a crash can leave the collection in, so tests stop a process at each one;
/// callers may also show progress or log them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum CommitStep {
    /// The record table's new state (a removal's tombstones and account totals, or a
    /// compaction's new epoch) is written and synced. Nothing is committed yet.
    Prepared,
    /// Dependent state (the index) committed under the new generation. Still nothing is
    /// committed: the manifest names the previous state.
    IndexCommitted,
    /// The manifest naming the new state is renamed into place: the commit point.
    Committed,
    /// Files the manifest no longer names (the previous summaries; after a compaction, the old
    /// epoch) are deleted.
    CleanedUp,
    /// After the commit, the index caught up: a removal's documents are deleted, or a
    /// compaction's index segments holding deleted documents are merged away.
    IndexUpdated,
}

/// Told of each [`CommitStep`] as a removal or compaction reaches it; the default does nothing.
pub trait CommitSteps {
    /// `step` is done.
    fn reached(&mut self, _step: CommitStep) {}
}

/// A [`CommitSteps`] that ignores every step.
pub struct NoSteps;
impl CommitSteps for NoSteps {}

/// What a compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Compaction {
    /// The generation that committed it (unchanged when there was nothing to compact).
    pub generation: u64,
    /// Records whose bytes left the record table: those removed since the previous compaction.
    pub records_dropped: u64,
    /// Records kept (every one not removed).
    pub records_kept: u64,
    /// Bytes of the record table's data file before.
    pub data_bytes_before: u64,
    /// And after.
    pub data_bytes_after: u64,
}

/// What [`StoreWriter::reclaim`] gave back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reclaimed {
    /// Whether the filesystem frees punched ranges (`false`: nothing could be given back here).
    pub supported: bool,
    /// Unreferenced ranges punched (ranges punched before are punched again: it is idempotent).
    pub ranges: u64,
    /// Bytes in those ranges.
    pub range_bytes: u64,
    /// Disk space the packs took before, in bytes (allocated blocks × 512).
    pub allocated_before: u64,
    /// And after.
    pub allocated_after: u64,
}

impl Reclaimed {
    /// Disk bytes given back.
    pub fn freed(&self) -> u64 {
        self.allocated_before.saturating_sub(self.allocated_after)
    }
}

/// The one writer of a collection: appends blobs and records, removes records, compacts, and
/// commits.
///
/// After an error part-way through a commit, drop the writer and open a new one: it starts
/// from the last commit and deletes whatever the failed one left.
pub struct StoreWriter {
    store: Store,
    _lock: File,
    pack: u32,
    pack_file: BufWriter<File>,
    pack_len: u64,
    table: RecordTableWriter,
    /// Rows of the committed table: pending records have the seqs from here on.
    committed_rows: u64,
    /// The DocIds of the account last asked about (a DocId derives from its corpus and account,
    /// so no other account's records can hold it), read from the keys file once per account;
    /// removed records left out (a removed record's source ingested again is stored again).
    docs: Option<AccountDocs>,
    /// Main blobs of live records, committed or pending: MD5 → seq of the first record holding
    /// it (its key row has the `BlobRef`).
    blobs: SeqIndex,
    /// Blobs of the other parts (attachments, transcripts) of live records, committed or
    /// pending. Only records with more than one part have them, so this stays small beside
    /// `blobs`.
    other_parts: HashMap<Md5, BlobRef>,
    /// Distinct blobs live records reference ([`Stats::blobs`]), and their bytes.
    blob_count: u64,
    blob_bytes: u64,
    /// Blobs written since the last commit that no pushed record references yet.
    unreferenced: HashMap<Md5, BlobRef>,
    /// Records pushed since the last commit, seq = `committed_rows` + position.
    pending: Vec<Pending>,
    /// The accounts of those records.
    pending_accounts: HashSet<(Corpus, Account)>,
    /// Records removed since the last commit: seq and their parts' blobs (counted off at
    /// commit). Not the records themselves, so a purge of millions holds tens of bytes each.
    removed: Vec<(u64, Vec<BlobRef>)>,
    /// Packs closed since the last commit, with their final length.
    closed: Vec<(u32, u64)>,
}

/// The blob MD5 of committed record `seq`, for [`SeqIndex`] (`None`: removed).
fn committed_md5(store: &Store, seq: u64) -> Result<Option<[u8; 16]>, StoreError> {
    Ok(store.key(seq)?.map(|(_, _, k)| k.blob.md5.0))
}

/// A record pushed since the last commit: what the writer's lookups need of it.
struct Pending {
    corpus: Corpus,
    account: Account,
    key: Key,
}

/// The DocIds of one account's live records, committed and pending.
struct AccountDocs {
    corpus: Corpus,
    account: Account,
    docs: HashSet<DocId>,
}

/// The key of record `seq`, committed (from `store`) or pending.
fn key_at(
    store: &Store,
    committed_rows: u64,
    pending: &[Pending],
    seq: u64,
) -> Result<Option<Key>, StoreError> {
    match seq.checked_sub(committed_rows) {
        None => Ok(store.key(seq)?.map(|(_, _, k)| k)),
        Some(i) => Ok(usize::try_from(i).ok().and_then(|i| pending.get(i)).map(|p| p.key)),
    }
}

impl StoreWriter {
    /// The committed state (pending records and removals are not visible in it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Is this DocId, of a record of `account` in `corpus`, already committed or pending (and
    /// not removed)?
    ///
    /// The first question about an account reads the DocIds of its records from the keys file
    /// (no record decoded); later ones about the same account are answered from memory.
    pub fn contains(
        &mut self,
        corpus: Corpus,
        account: &Account,
        doc_id: &DocId,
    ) -> Result<bool, StoreError> {
        let cached =
            self.docs.as_ref().is_some_and(|d| d.corpus == corpus && d.account == *account);
        if !cached {
            let gone: HashSet<u64> = self.removed.iter().map(|(seq, _)| *seq).collect();
            let mut docs = HashSet::new();
            for seq in self.store.seqs_of(corpus, account)? {
                if gone.contains(&seq) {
                    continue;
                }
                if let Some((_, _, k)) = self.store.key(seq)? {
                    docs.insert(k.doc_id);
                }
            }
            for p in self.pending.iter().filter(|p| p.corpus == corpus && p.account == *account) {
                docs.insert(p.key.doc_id);
            }
            self.docs = Some(AccountDocs { corpus, account: account.clone(), docs });
        }
        Ok(self.docs.as_ref().is_some_and(|d| d.docs.contains(doc_id)))
    }

    /// The seqs of the committed live records with these DocIds (one pass over the key rows;
    /// see [`Store::seqs_of_docs`]).
    pub fn seqs_of_docs(&self, ids: &HashSet<DocId>) -> Result<HashMap<DocId, u64>, StoreError> {
        self.store.seqs_of_docs(ids)
    }

    /// The next record's sequence number.
    pub fn next_seq(&self) -> u64 {
        self.table.next_seq()
    }

    /// Records waiting for the next commit.
    pub fn pending(&self) -> u64 {
        self.pending.len() as u64
    }

    /// Whether records of `account` in `corpus` wait for the next commit (readers of the
    /// committed state, such as the duplicate Message-ID check, do not see them).
    pub fn has_pending(&self, corpus: Corpus, account: &Account) -> bool {
        self.pending_accounts.contains(&(corpus, account.clone()))
    }

    /// Removals waiting for the next commit.
    pub fn removals(&self) -> u64 {
        self.removed.len() as u64
    }

    /// Where a live record (committed or pending) already stored these bytes.
    fn blob(&self, md5: &Md5) -> Result<Option<BlobRef>, StoreError> {
        let (store, rows, pending) = (&self.store, self.committed_rows, &self.pending);
        let md5_of = |s: u64| -> Result<Option<[u8; 16]>, StoreError> {
            Ok(key_at(store, rows, pending, s)?.map(|k| k.blob.md5.0))
        };
        if let Some(seq) = self.blobs.find(&md5.0, md5_of)?
            && let Some(k) = key_at(store, rows, pending, seq)?
        {
            return Ok(Some(k.blob));
        }
        Ok(self.other_parts.get(md5).copied())
    }

    /// Where bytes with this MD5 are already stored (a live record's blob, or one written since
    /// the last commit), so a caller that knows the MD5 need not read its source again.
    pub fn known_blob(&self, md5: &Md5) -> Result<Option<BlobRef>, StoreError> {
        self.known(md5)
    }

    /// Where these bytes are already: a live record's blob, or one written since the last
    /// commit.
    fn known(&self, md5: &Md5) -> Result<Option<BlobRef>, StoreError> {
        match self.blob(md5)? {
            Some(b) => Ok(Some(b)),
            None => Ok(self.unreferenced.get(md5).copied()),
        }
    }

    /// Store `bytes` (once per distinct MD5). Returns where they are and whether they were new.
    pub fn put_blob(&mut self, md5: Md5, bytes: &[u8]) -> Result<(BlobRef, bool), StoreError> {
        if let Some(b) = self.known(&md5)? {
            return Ok((b, false));
        }
        if self.pack_len > 0 && self.pack_len + bytes.len() as u64 > PACK_LIMIT {
            self.roll_pack()?;
        }
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.write_all(bytes).map_err(io_err(&path))?;
        let blob = BlobRef {
            md5,
            size: bytes.len() as u64,
            pack: self.pack,
            offset: self.pack_len,
            crc32: Some(crate::digest::crc32(bytes)),
        };
        self.pack_len += bytes.len() as u64;
        self.unreferenced.insert(md5, blob);
        Ok((blob, true))
    }

    /// Store the bytes `src` yields, copied into the pack in 64 KiB pieces and hashed as they
    /// pass, so memory does not grow with the blob (a 5 GB Drive file is never held whole).
    /// `what` names the source in errors. Returns where they are and whether they were new.
    ///
    /// The MD5 is known only at the end: bytes already stored under it are written once more and
    /// then cut off again (the pack's uncommitted tail is the writer's to cut; a crash meanwhile
    /// leaves bytes past the committed length, which the next writer removes). A blob may make
    /// its pack grow past [`PACK_LIMIT`]; the next blob starts a new pack.
    pub fn put_stream(
        &mut self,
        what: &str,
        mut src: impl io::Read,
    ) -> Result<(BlobRef, bool), StoreError> {
        if self.pack_len >= PACK_LIMIT {
            self.roll_pack()?;
        }
        let path = pack_path(&self.store.dir, self.pack);
        let start = self.pack_len;
        let mut md5 = crate::digest::Md5Hasher::new();
        let mut crc = crate::digest::Crc32Hasher::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.cut_pack_to(start)?;
                    return Err(StoreError::Source { what: what.to_owned(), source });
                }
            };
            let piece = buf.get(..n).unwrap_or_default();
            md5.update(piece);
            crc.update(piece);
            self.pack_file.write_all(piece).map_err(io_err(&path))?;
            size += n as u64;
            self.pack_len += n as u64;
        }
        let md5 = md5.finish();
        if let Some(b) = self.known(&md5)? {
            self.cut_pack_to(start)?;
            return Ok((b, false));
        }
        let blob = BlobRef { md5, size, pack: self.pack, offset: start, crc32: Some(crc.finish()) };
        self.unreferenced.insert(md5, blob);
        Ok((blob, true))
    }

    /// Cut the current pack back to `len` bytes (only ever uncommitted bytes written since).
    fn cut_pack_to(&mut self, len: u64) -> Result<(), StoreError> {
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.flush().map_err(io_err(&path))?;
        // The file is opened for appending: after the cut, writes continue at the new end.
        self.pack_file.get_ref().set_len(len).map_err(io_err(&path))?;
        self.pack_len = len;
        Ok(())
    }

    fn roll_pack(&mut self) -> Result<(), StoreError> {
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.flush().map_err(io_err(&path))?;
        self.pack_file.get_ref().sync_data().map_err(io_err(&path))?;
        // The closed pack's length is recorded at the next commit through `pack_lengths`.
        self.closed.push((self.pack, self.pack_len));
        self.pack += 1;
        self.pack_len = 0;
        let path = pack_path(&self.store.dir, self.pack);
        let file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
        self.pack_file = BufWriter::with_capacity(1 << 20, file);
        Ok(())
    }

    /// Append a record to the record table for the next commit. Its `seq` must be
    /// [`next_seq`](Self::next_seq). Needs every removal committed first
    /// ([`StoreError::Uncommitted`]), so a commit either appends or removes.
    pub fn push(&mut self, rec: &Record) -> Result<(), StoreError> {
        if !rec.meta.fits(rec.corpus) {
            return Err(StoreError::MetadataMismatch { doc_id: rec.doc_id, corpus: rec.corpus });
        }
        if !self.removed.is_empty() {
            return Err(StoreError::Uncommitted(self.store.dir.clone()));
        }
        if rec.seq >= lookup::SEQ_LIMIT {
            return Err(StoreError::Full(self.store.dir.clone()));
        }
        // Which of its blobs no live record references yet (counted once each).
        let mut fresh: Vec<BlobRef> = Vec::new();
        for p in &rec.parts {
            if self.blob(&p.blob.md5)?.is_none() && !fresh.iter().any(|b| b.md5 == p.blob.md5) {
                fresh.push(p.blob);
            }
        }
        self.table.append(rec)?;
        let key = Key::of(rec);
        if let Some(d) = &mut self.docs
            && d.corpus == rec.corpus
            && d.account == rec.account
        {
            d.docs.insert(rec.doc_id);
        }
        self.pending.push(Pending { corpus: rec.corpus, account: rec.account.clone(), key });
        let (store, rows, pending) = (&self.store, self.committed_rows, &self.pending);
        let md5_of = |s: u64| -> Result<Option<[u8; 16]>, StoreError> {
            Ok(key_at(store, rows, pending, s)?.map(|k| k.blob.md5.0))
        };
        self.blobs.insert(&rec.blob().md5.0, rec.seq, md5_of)?;
        for p in rec.parts.iter().skip(1) {
            self.other_parts.entry(p.blob.md5).or_insert(p.blob);
        }
        for p in &rec.parts {
            self.unreferenced.remove(&p.blob.md5);
        }
        for b in fresh {
            self.blob_count += 1;
            self.blob_bytes += b.size;
        }
        if !self.has_pending(rec.corpus, &rec.account) {
            self.pending_accounts.insert((rec.corpus, rec.account.clone()));
        }
        Ok(())
    }

    /// Remove the committed record `seq` at the next commit. Returns it, or `None` when there is
    /// no such record (never committed, or already removed). Needs every pushed record
    /// committed first ([`StoreError::Uncommitted`]), so a commit either appends or removes.
    ///
    /// Its parts' blobs stay in their packs (see the module documentation); at the commit,
    /// [`Stats::blobs`] stops counting each one no live record references any more (one pass
    /// over the key rows finds out).
    pub fn remove(&mut self, seq: u64) -> Result<Option<Record>, StoreError> {
        if !self.pending.is_empty() {
            return Err(StoreError::Uncommitted(self.store.dir.clone()));
        }
        let Some(rec) = self.store.get(seq)? else { return Ok(None) };
        if !self.table.remove(seq)? {
            // Removed since the last commit.
            return Ok(None);
        }
        if let Some(d) = &mut self.docs
            && d.corpus == rec.corpus
            && d.account == rec.account
        {
            d.docs.remove(&rec.doc_id);
        }
        self.removed.push((rec.seq, rec.parts.iter().map(|p| p.blob).collect()));
        Ok(Some(rec))
    }

    /// After removals: the blobs of the removed records that no live record references any
    /// more, each once. One pass over the key rows (decoding only records with several parts),
    /// so memory grows with the removed records, not with the collection.
    fn orphaned_blobs(&self) -> Result<Vec<BlobRef>, StoreError> {
        let gone: HashSet<u64> = self.removed.iter().map(|(seq, _)| *seq).collect();
        let mut candidates: HashMap<Md5, BlobRef> = HashMap::new();
        for (_, blobs) in &self.removed {
            for b in blobs {
                candidates.entry(b.md5).or_insert(*b);
            }
        }
        for seq in 0..self.store.rows() {
            if candidates.is_empty() {
                break;
            }
            if gone.contains(&seq) {
                continue;
            }
            let Some((_, _, k)) = self.store.key(seq)? else { continue };
            candidates.remove(&k.blob.md5);
            if k.parts > 1
                && let Some(r) = self.store.get(seq)?
            {
                for p in &r.parts {
                    candidates.remove(&p.blob.md5);
                }
            }
        }
        let mut out: Vec<BlobRef> = candidates.into_values().collect();
        out.sort_by_key(|b| b.md5.0);
        Ok(out)
    }

    /// Make everything pushed and removed so far durable. `then` runs after the data is synced
    /// and before the manifest names it, with the new generation: the place to commit dependent
    /// state.
    ///
    /// Order: sync the packs; prepare the record table (its files synced, a new summaries file);
    /// `then`; rename the new manifest into place (the commit); let the table delete what the
    /// manifest no longer names; reopen the committed table for reading.
    pub fn commit(
        &mut self,
        then: impl FnOnce(u64) -> Result<(), crate::Error>,
    ) -> Result<u64, crate::Error> {
        self.commit_steps(&mut NoSteps, then)
    }

    /// [`commit`](Self::commit), telling `steps` of each [`CommitStep`] it passes.
    pub fn commit_steps(
        &mut self,
        steps: &mut dyn CommitSteps,
        then: impl FnOnce(u64) -> Result<(), crate::Error>,
    ) -> Result<u64, crate::Error> {
        if self.pending.is_empty() && self.removed.is_empty() {
            return Ok(self.store.manifest.generation);
        }
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.flush().map_err(io_err(&path))?;
        self.pack_file.get_ref().sync_data().map_err(io_err(&path))?;
        let orphaned = self.orphaned_blobs()?;
        let tm = self.table.prepare().map_err(StoreError::from)?;
        steps.reached(CommitStep::Prepared);
        // After an error from here on the writer is dropped (see the type's documentation), so
        // the counts can change before the commit.
        for b in &orphaned {
            self.blob_count = self.blob_count.saturating_sub(1);
            self.blob_bytes = self.blob_bytes.saturating_sub(b.size);
        }

        let generation = self.store.manifest.generation + 1;
        then(generation)?;
        steps.reached(CommitStep::IndexCommitted);

        let mut m = self.store.manifest.clone();
        for &(n, len) in &self.closed {
            set_pack_len(&mut m.packs, n, len);
        }
        set_pack_len(&mut m.packs, self.pack, self.pack_len);
        let rows = tm.rows;
        self.install(m, generation, tm, steps)?;
        self.closed.clear();
        self.unreferenced.clear();
        // The pending records are committed rows now: their keys are read from the table.
        self.committed_rows = rows;
        self.pending.clear();
        self.pending_accounts.clear();
        self.removed.clear();
        for b in &orphaned {
            self.other_parts.remove(&b.md5);
        }
        Ok(generation)
    }

    /// Commit `m` as `generation` with the record table `tm` and the writer's blob counts:
    /// rename it into place, let the table delete what it no longer names, reopen for reading.
    fn install(
        &mut self,
        mut m: Manifest,
        generation: u64,
        tm: TableManifest,
        steps: &mut dyn CommitSteps,
    ) -> Result<(), StoreError> {
        m.generation = generation;
        m.records = tm.live;
        m.blobs = self.blob_count;
        m.blob_bytes = self.blob_bytes;
        m.table = Some(tm.clone());
        write_manifest(&self.store.dir, &m)?;
        steps.reached(CommitStep::Committed);

        self.table.committed(&tm)?;
        steps.reached(CommitStep::CleanedUp);
        let t = RecordTable::open(&self.store.dir.join("records"), &tm)?;
        self.store.accounts = summaries_of(&t);
        self.store.records = Records::Table(Box::new(t));
        self.store.manifest = m;
        self.store.remap()
    }

    /// Rewrite the record table without the bytes of the records removed since the last
    /// compaction, into a new epoch, and commit it: `then` runs after the new epoch is synced and
    /// before the manifest names it, with the new generation (as in [`commit`](Self::commit)).
    /// Seqs do not change. Needs every push and removal committed first
    /// ([`StoreError::Uncommitted`]); with nothing removed since the last compaction, nothing is
    /// written.
    ///
    /// A crash before the manifest rename leaves the old epoch committed (the new one's files
    /// are deleted by the next writer); after it, the new one (the old one's files are deleted
    /// by this writer, or the next). Packs are not touched: removed records' blobs stay.
    pub fn compact(
        &mut self,
        steps: &mut dyn CommitSteps,
        then: impl FnOnce(u64) -> Result<(), crate::Error>,
    ) -> Result<Compaction, crate::Error> {
        if !self.pending.is_empty() || !self.removed.is_empty() {
            return Err(StoreError::Uncommitted(self.store.dir.clone()).into());
        }
        let base = self.table.base().clone();
        let mut report = Compaction {
            generation: self.store.manifest.generation,
            records_dropped: self.store.removed().len() as u64,
            records_kept: base.live,
            data_bytes_before: base.data_len,
            data_bytes_after: base.data_len,
        };
        if report.records_dropped == 0 {
            return Ok(report);
        }
        let tm = self.table.compact().map_err(StoreError::from)?;
        steps.reached(CommitStep::Prepared);
        let generation = self.store.manifest.generation + 1;
        then(generation)?;
        steps.reached(CommitStep::IndexCommitted);
        report.generation = generation;
        report.data_bytes_after = tm.data_len;
        report.records_kept = tm.live;
        let m = self.store.manifest.clone();
        self.install(m, generation, tm, steps)?;
        Ok(report)
    }

    /// Give back the disk space of every committed pack byte no live record references (blobs of
    /// removed records that no other record shares, blobs written but never committed with a
    /// record), by punching holes: no blob moves (see `reclaim.rs`). Needs every push and removal
    /// committed first ([`StoreError::Uncommitted`]).
    ///
    /// Which bytes are referenced is read from the committed state: every live record's key row
    /// (decoding only records with more than one part), so nothing needs to have been tracked
    /// and a reclaim after a crash finds everything an interrupted one left. Memory: 24 bytes per
    /// live blob reference while it runs.
    pub fn reclaim(&mut self) -> Result<Reclaimed, StoreError> {
        if !self.pending.is_empty() || !self.removed.is_empty() {
            return Err(StoreError::Uncommitted(self.store.dir.clone()));
        }
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.flush().map_err(io_err(&path))?;
        let packs = self.store.manifest.packs.clone();
        let mut used: Vec<Vec<(u64, u64)>> = vec![Vec::new(); packs.len()];
        let mut add = |b: &BlobRef| {
            if let Some(u) = used.get_mut(b.pack as usize) {
                u.push((b.offset, b.offset.saturating_add(b.size)));
            }
        };
        for seq in 0..self.store.rows() {
            let Some((_, _, k)) = self.store.key(seq)? else { continue };
            add(&k.blob);
            if k.parts > 1
                && let Some(r) = self.store.get(seq)?
            {
                r.parts.iter().skip(1).for_each(|p| add(&p.blob));
            }
        }
        let mut out = Reclaimed { supported: true, ..Reclaimed::default() };
        for (n, (used, &len)) in used.into_iter().zip(&packs).enumerate() {
            let path = pack_path(&self.store.dir, n as u32);
            let file = OpenOptions::new().write(true).open(&path).map_err(io_err(&path))?;
            let allocated = |f: &File| -> Result<u64, StoreError> {
                use std::os::unix::fs::MetadataExt;
                Ok(f.metadata().map_err(io_err(&path))?.blocks().saturating_mul(512))
            };
            out.allocated_before += allocated(&file)?;
            for (start, end) in reclaim::gaps(used, len) {
                if out.supported
                    && !reclaim::punch(&file, start, end - start).map_err(io_err(&path))?
                {
                    out.supported = false;
                }
                out.ranges += 1;
                out.range_bytes += end - start;
            }
            file.sync_all().map_err(io_err(&path))?;
            out.allocated_after += allocated(&file)?;
        }
        Ok(out)
    }

    /// Record (replace) the members of `group`, durably.
    pub fn set_members(
        &mut self,
        group: &str,
        members: Vec<crate::model::GroupMember>,
    ) -> Result<(), StoreError> {
        let mut all = self.store.members()?;
        all.insert(group.to_owned(), members);
        let path = self.store.dir.join("groups.json");
        let tmp = self.store.dir.join("groups.json.tmp");
        let bytes = serde_json::to_vec_pretty(&all)
            .map_err(|e| StoreError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        write_synced(&tmp, &bytes)?;
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        sync_dir(&self.store.dir)
    }
}

fn set_pack_len(packs: &mut Vec<u64>, n: u32, len: u64) {
    let n = n as usize;
    if packs.len() <= n {
        packs.resize(n + 1, 0);
    }
    packs[n] = len;
}
