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
//! Format 1 collections kept records in JSON Lines segments (`records/000001.jsonl`, one per
//! commit). A reader reads them as they are (parsing every record at open, as format 1 always
//! did); the first writer converts them once into the record table (seq = line position, so the
//! index stays valid) and commits format 2.

mod lookup;
mod map;
pub mod table;

use crate::digest::Md5;
use crate::model::{Account, BlobRef, Corpus, DocId, Record};
use lookup::SeqIndex;
use map::Mapped;
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
    /// Another process is writing to the collection.
    #[error("{0}: another process is writing to this collection")]
    Locked(PathBuf),
    /// The collection holds as many records as a writer's lookups can number.
    #[error("{0}: a collection holds at most {limit} records", limit = lookup::SEQ_LIMIT)]
    Full(PathBuf),
    /// Not a collection folder.
    #[error("{0} is not a collection (no MANIFEST.json)")]
    NotACollection(PathBuf),
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
    /// Records.
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

/// Statistics of a collection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Records.
    pub records: u64,
    /// Bytes of all records (duplicates counted each time).
    pub bytes: u64,
    /// Distinct blobs.
    pub blobs: u64,
    /// Bytes of distinct blobs (what the packs hold).
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
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
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
                let t = RecordTable::open(&dir.join("records"), tm)?;
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
                    s.bytes += rec.blob.size;
                    s.org_units.insert(rec.org_unit.clone());
                    blobs.entry(rec.blob.md5).or_insert(rec.blob.size);
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
        store.remap()?;
        Ok(store)
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

    /// Committed records (read from the manifest, nothing decoded).
    pub fn len(&self) -> u64 {
        self.manifest.records
    }

    /// Whether records were removed (rows of the record table that are no longer live), so a
    /// `seq` below [`len`](Self::len) is not necessarily a record.
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
    /// is none.
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

    /// The corpus, account and [`Key`] (DocId, blob, date) of record `seq`, read from fixed-width
    /// rows without decoding the record (a format 1 collection, or a table written before the
    /// keys file, decodes it); `None` when there is none.
    pub fn key(&self, seq: u64) -> Result<Option<(Corpus, &Account, Key)>, StoreError> {
        match &self.records {
            Records::Table(t) => Ok(t.key(seq)?),
            Records::Jsonl(v) => Ok(usize::try_from(seq)
                .ok()
                .and_then(|i| v.get(i))
                .map(|r| (r.corpus, &r.account, Key::of(r)))),
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

    /// Every record in `seq` order, each decoded as it is reached.
    pub fn iter(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        let rows = match &self.records {
            Records::Table(t) => t.rows(),
            Records::Jsonl(v) => v.len() as u64,
        };
        (0..rows).filter_map(move |seq| self.get(seq).transpose())
    }

    /// The record with this DocId. Reads every record's key until it is found (decoding only
    /// that record): for rare paths (a retry naming DocIds the search did not give) and tests,
    /// not for loops.
    pub fn find(&self, doc_id: &DocId) -> Result<Option<Record>, StoreError> {
        let rows = match &self.records {
            Records::Table(t) => t.rows(),
            Records::Jsonl(v) => v.len() as u64,
        };
        for seq in 0..rows {
            if let Some((_, _, k)) = self.key(seq)?
                && k.doc_id == *doc_id
            {
                return self.get(seq);
            }
        }
        Ok(None)
    }

    /// The stored original bytes of `rec`, borrowed from the pack map (no copy).
    pub fn bytes(&self, rec: &Record) -> Result<&[u8], StoreError> {
        let b = &rec.blob;
        let out_of_range = || StoreError::BlobOutOfRange {
            doc_id: rec.doc_id,
            pack: b.pack,
            offset: b.offset,
            size: b.size,
        };
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
    /// Builds the blob lookup (MD5 → first record holding it) from the keys file's fixed-width
    /// rows: no record is decoded, 8 bytes of memory per slot (128 MB at 10 million records).
    /// DocIds are looked up per account, when asked ([`StoreWriter::contains`]).
    pub fn writer(self) -> Result<StoreWriter, StoreError> {
        let lock_path = self.dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(self.dir.clone())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        // A writer may have committed between this open and the lock: start from what is
        // committed now, or the cleanup below would cut its commit as uncommitted bytes.
        let mut this = if self.manifest_changed()? { Store::open(&self.dir)? } else { self };
        this.remove_uncommitted()?;
        let rec_dir = this.dir.join("records");
        let jsonl = matches!(this.records, Records::Jsonl(_));
        // Under the lock: cuts the table's files back to their committed lengths and deletes the
        // ones the manifest does not name (a format 1 collection starts an empty table).
        let committed = if jsonl { None } else { this.manifest.table.as_ref() };
        // Builds the keys file of a table committed without one.
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
        let live = (0..rows).filter_map(|seq| match this.key(seq) {
            Ok(Some((_, _, k))) => Some(Ok((seq, k.blob.md5.0))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        });
        let blobs = SeqIndex::build(live, |s| committed_md5(&this, s))?;
        let (pack, pack_len) = match this.manifest.packs.last() {
            Some(&len) if len < PACK_LIMIT => (this.manifest.packs.len() as u32 - 1, len),
            _ => (this.manifest.packs.len() as u32, 0),
        };
        let path = pack_path(&this.dir, pack);
        let file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
        let blob_bytes = this.manifest.blob_bytes;
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
            blob_bytes,
            unreferenced: HashMap::new(),
            pending: Vec::new(),
            pending_accounts: HashSet::new(),
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
        let rec: Record = serde_json::from_str(&line).map_err(|e| StoreError::Corrupt {
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

/// The DocIds of one account's records, committed and pending.
struct AccountDocs {
    corpus: Corpus,
    account: Account,
    docs: HashSet<DocId>,
}

/// The one writer of a collection: appends blobs and records, commits them together.
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
    /// so no other account's records can hold it): read from the keys file once per account.
    docs: Option<AccountDocs>,
    /// The blobs records reference, committed or pending: MD5 → seq of the first record holding
    /// it (its key has the `BlobRef`).
    blobs: SeqIndex,
    /// Bytes of those blobs.
    blob_bytes: u64,
    /// Blobs written since the last commit that no pushed record references yet.
    unreferenced: HashMap<Md5, BlobRef>,
    /// Records pushed since the last commit, seq = `committed_rows` + position.
    pending: Vec<Pending>,
    /// The accounts of those records.
    pending_accounts: HashSet<(Corpus, Account)>,
    /// Packs closed since the last commit, with their final length.
    closed: Vec<(u32, u64)>,
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
    /// The committed state (pending records are not visible in it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Is this DocId, of a record of `account` in `corpus`, already committed or pending?
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
            let mut docs = HashSet::new();
            for seq in self.store.seqs_of(corpus, account)? {
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

    /// Store `bytes` (once per distinct MD5). Returns where they are and whether they were new.
    pub fn put_blob(&mut self, md5: Md5, bytes: &[u8]) -> Result<(BlobRef, bool), StoreError> {
        if let Some(b) = self.blob(&md5)? {
            return Ok((b, false));
        }
        if let Some(b) = self.unreferenced.get(&md5) {
            return Ok((*b, false));
        }
        if self.pack_len > 0 && self.pack_len + bytes.len() as u64 > PACK_LIMIT {
            self.roll_pack()?;
        }
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.write_all(bytes).map_err(io_err(&path))?;
        let blob =
            BlobRef { md5, size: bytes.len() as u64, pack: self.pack, offset: self.pack_len };
        self.pack_len += bytes.len() as u64;
        self.unreferenced.insert(md5, blob);
        Ok((blob, true))
    }

    /// Where a record already stored these bytes.
    fn blob(&self, md5: &Md5) -> Result<Option<BlobRef>, StoreError> {
        let (store, rows, pending) = (&self.store, self.committed_rows, &self.pending);
        let md5_of = |s: u64| -> Result<Option<[u8; 16]>, StoreError> {
            Ok(key_at(store, rows, pending, s)?.map(|k| k.blob.md5.0))
        };
        match self.blobs.find(&md5.0, md5_of)? {
            Some(seq) => Ok(key_at(store, rows, pending, seq)?.map(|k| k.blob)),
            None => Ok(None),
        }
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
    /// [`next_seq`](Self::next_seq).
    pub fn push(&mut self, rec: &Record) -> Result<(), StoreError> {
        if rec.seq >= lookup::SEQ_LIMIT {
            return Err(StoreError::Full(self.store.dir.clone()));
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
        self.unreferenced.remove(&rec.blob.md5);
        let (store, rows, pending) = (&self.store, self.committed_rows, &self.pending);
        let md5_of = |s: u64| -> Result<Option<[u8; 16]>, StoreError> {
            Ok(key_at(store, rows, pending, s)?.map(|k| k.blob.md5.0))
        };
        if self.blobs.insert(&rec.blob.md5.0, rec.seq, md5_of)? {
            self.blob_bytes += rec.blob.size;
        }
        if !self.has_pending(rec.corpus, &rec.account) {
            self.pending_accounts.insert((rec.corpus, rec.account.clone()));
        }
        Ok(())
    }

    /// Make everything pushed so far durable. `then` runs after the data is synced and before
    /// the manifest names it, with the new generation: the place to commit dependent state.
    ///
    /// Order: sync the packs; prepare the record table (its files synced, a new summaries file);
    /// `then`; rename the new manifest into place (the commit); let the table delete what the
    /// manifest no longer names; reopen the committed table for reading.
    pub fn commit(
        &mut self,
        then: impl FnOnce(u64) -> Result<(), crate::Error>,
    ) -> Result<u64, crate::Error> {
        if self.pending.is_empty() {
            return Ok(self.store.manifest.generation);
        }
        let path = pack_path(&self.store.dir, self.pack);
        self.pack_file.flush().map_err(io_err(&path))?;
        self.pack_file.get_ref().sync_data().map_err(io_err(&path))?;
        let tm = self.table.prepare().map_err(StoreError::from)?;

        let generation = self.store.manifest.generation + 1;
        then(generation)?;

        let mut m = self.store.manifest.clone();
        m.generation = generation;
        for &(n, len) in &self.closed {
            set_pack_len(&mut m.packs, n, len);
        }
        set_pack_len(&mut m.packs, self.pack, self.pack_len);
        m.records = tm.live;
        m.blobs = self.blobs.len() as u64;
        m.blob_bytes = self.blob_bytes;
        m.table = Some(tm.clone());
        write_manifest(&self.store.dir, &m)?;

        self.table.committed(&tm).map_err(StoreError::from)?;
        self.closed.clear();
        self.unreferenced.clear();
        let t =
            RecordTable::open(&self.store.dir.join("records"), &tm).map_err(StoreError::from)?;
        self.store.accounts = summaries_of(&t);
        self.store.records = Records::Table(Box::new(t));
        self.store.manifest = m;
        self.store.remap()?;
        // The pending records are committed rows now: their keys are read from the table.
        self.committed_rows = tm.rows;
        self.pending.clear();
        self.pending_accounts.clear();
        Ok(generation)
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
