//! The collection folder on disk: original bytes in append-only pack files addressed by MD5
//! (identical bytes stored once), a record table, and crash-safe commits.
//!
//! ```text
//! DIR/MANIFEST.json         the commit point: generation, committed length of every pack,
//!                           record segments, record count (replaced atomically by rename)
//! DIR/packs/000000.pack     blobs, back to back; a blob is addressed by (pack, offset, size)
//! DIR/records/000001.jsonl  the records of one commit, one JSON object per line
//! DIR/LOCK                  held by the one writer
//! ```
//!
//! A commit syncs the packs and the new segment, lets the caller commit dependent state (the
//! index) under the new generation, then renames a new manifest into place. A crash anywhere
//! before the rename leaves the previous manifest, which names only complete data: bytes past a
//! pack's committed length and segments it does not list are ignored by readers and removed by
//! the next writer.

mod map;
pub mod table;

use crate::digest::Md5;
use crate::model::{Account, BlobRef, Corpus, DocId, Record};
use map::Mapped;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A pack is closed and a new one started past this size.
pub const PACK_LIMIT: u64 = 1 << 30;
const FORMAT: u32 = 1;

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
    /// Another process is writing to the collection.
    #[error("{0}: another process is writing to this collection")]
    Locked(PathBuf),
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
    /// Record segment file names, in commit order.
    segments: Vec<String>,
    records: u64,
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

/// An open collection folder (reading; see [`StoreWriter`] for appending).
pub struct Store {
    dir: PathBuf,
    manifest: Manifest,
    maps: Vec<Mapped>,
    records: Vec<Record>,
    by_doc: HashMap<DocId, u64>,
    by_md5: HashMap<Md5, BlobRef>,
    accounts: BTreeMap<(Corpus, Account), AccountSummary>,
}

impl Store {
    /// Create an empty collection in `dir` (created if missing), or open the one there.
    pub fn create(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir.join("packs")).map_err(io_err(dir))?;
        fs::create_dir_all(dir.join("records")).map_err(io_err(dir))?;
        let mpath = dir.join("MANIFEST.json");
        if !mpath.exists() {
            let m = Manifest { format: FORMAT, ..Manifest::default() };
            write_manifest(dir, &m)?;
        }
        Store::open(dir)
    }

    /// Open the collection in `dir` as of its last commit.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let mpath = dir.join("MANIFEST.json");
        let text = match fs::read(&mpath) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotACollection(dir.to_path_buf()));
            }
            Err(e) => return Err(io_err(&mpath)(e)),
        };
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| StoreError::Corrupt { path: mpath.clone(), reason: e.to_string() })?;
        if manifest.format != FORMAT {
            return Err(StoreError::Corrupt {
                path: mpath,
                reason: format!("format {} (this version reads {FORMAT})", manifest.format),
            });
        }
        let mut store = Store {
            dir: dir.to_path_buf(),
            manifest: Manifest::default(),
            maps: Vec::new(),
            records: Vec::new(),
            by_doc: HashMap::new(),
            by_md5: HashMap::new(),
            accounts: BTreeMap::new(),
        };
        for seg in &manifest.segments {
            store.load_segment(seg)?;
        }
        if store.records.len() as u64 != manifest.records {
            return Err(StoreError::Corrupt {
                path: mpath,
                reason: format!(
                    "manifest promises {} records, segments hold {}",
                    manifest.records,
                    store.records.len()
                ),
            });
        }
        store.manifest = manifest;
        store.remap()?;
        Ok(store)
    }

    fn load_segment(&mut self, name: &str) -> Result<(), StoreError> {
        let path = self.dir.join("records").join(name);
        let file = File::open(&path).map_err(io_err(&path))?;
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(io_err(&path))?;
            let rec: Record = serde_json::from_str(&line).map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                reason: format!("line {}: {e}", i + 1),
            })?;
            self.index_record(rec);
        }
        Ok(())
    }

    fn index_record(&mut self, rec: Record) {
        let key = (rec.corpus, rec.account.clone());
        let summary = self.accounts.entry(key).or_default();
        summary.records += 1;
        summary.bytes += rec.blob.size;
        if !summary.org_units.contains(&rec.org_unit) {
            summary.org_units.insert(rec.org_unit.clone());
        }
        self.by_doc.insert(rec.doc_id, rec.seq);
        self.by_md5.entry(rec.blob.md5).or_insert(rec.blob);
        self.records.push(rec);
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

    /// All records, in `seq` order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The record with sequence number `seq`.
    pub fn by_seq(&self, seq: u64) -> Option<&Record> {
        usize::try_from(seq).ok().and_then(|i| self.records.get(i))
    }

    /// The record with this DocId.
    pub fn get(&self, doc_id: &DocId) -> Option<&Record> {
        self.by_doc.get(doc_id).and_then(|&s| self.by_seq(s))
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

    /// Counts and sizes.
    pub fn stats(&self) -> Stats {
        let mut s = Stats { records: self.records.len() as u64, ..Stats::default() };
        for (k, a) in &self.accounts {
            s.bytes += a.bytes;
            s.per_account.insert(k.clone(), (a.records, a.bytes));
        }
        s.blobs = self.by_md5.len() as u64;
        s.blob_bytes = self.by_md5.values().map(|b| b.size).sum();
        s
    }

    /// Start appending. Takes the writer lock and removes what an interrupted writer left past the
    /// last commit.
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
        self.remove_uncommitted()?;
        let (pack, pack_len) = match self.manifest.packs.last() {
            Some(&len) if len < PACK_LIMIT => (self.manifest.packs.len() as u32 - 1, len),
            _ => (self.manifest.packs.len() as u32, 0),
        };
        let path = pack_path(&self.dir, pack);
        let file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
        Ok(StoreWriter {
            store: self,
            _lock: lock,
            pack,
            pack_file: BufWriter::with_capacity(1 << 20, file),
            pack_len,
            pending: Vec::new(),
            pending_docs: HashSet::new(),
            pending_blobs: HashMap::new(),
            closed: Vec::new(),
        })
    }

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
        for entry in fs::read_dir(&rec_dir).map_err(io_err(&rec_dir))? {
            let entry = entry.map_err(io_err(&rec_dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !self.manifest.segments.contains(&name) {
                fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
            }
        }
        Ok(())
    }
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

/// The one writer of a collection: appends blobs and records, commits them together.
pub struct StoreWriter {
    store: Store,
    _lock: File,
    pack: u32,
    pack_file: BufWriter<File>,
    pack_len: u64,
    pending: Vec<Record>,
    pending_docs: HashSet<DocId>,
    pending_blobs: HashMap<Md5, BlobRef>,
    /// Packs closed since the last commit, with their final length.
    closed: Vec<(u32, u64)>,
}

impl StoreWriter {
    /// The committed state (pending records are not visible in it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Is this DocId already committed or pending?
    pub fn contains(&self, doc_id: &DocId) -> bool {
        self.store.by_doc.contains_key(doc_id) || self.pending_docs.contains(doc_id)
    }

    /// The next record's sequence number.
    pub fn next_seq(&self) -> u64 {
        (self.store.records.len() + self.pending.len()) as u64
    }

    /// Records waiting for the next commit.
    pub fn pending(&self) -> &[Record] {
        &self.pending
    }

    /// Store `bytes` (once per distinct MD5). Returns where they are and whether they were new.
    pub fn put_blob(&mut self, md5: Md5, bytes: &[u8]) -> Result<(BlobRef, bool), StoreError> {
        if let Some(b) = self.store.by_md5.get(&md5).or_else(|| self.pending_blobs.get(&md5)) {
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
        self.pending_blobs.insert(md5, blob);
        Ok((blob, true))
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

    /// Queue a record for the next commit. Its `seq` must be [`next_seq`](Self::next_seq).
    pub fn push(&mut self, rec: Record) {
        debug_assert_eq!(rec.seq, self.next_seq());
        self.pending_docs.insert(rec.doc_id);
        self.pending.push(rec);
    }

    /// Make everything pushed so far durable. `then` runs after the data is synced and before
    /// the manifest names it, with the new generation: the place to commit dependent state.
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

        let generation = self.store.manifest.generation + 1;
        let seg_name = format!("{generation:06}.jsonl");
        let seg_path = self.store.dir.join("records").join(&seg_name);
        let mut buf = Vec::with_capacity(self.pending.len() * 768);
        for r in &self.pending {
            serde_json::to_writer(&mut buf, r).map_err(|e| StoreError::Corrupt {
                path: seg_path.clone(),
                reason: e.to_string(),
            })?;
            buf.push(b'\n');
        }
        write_synced(&seg_path, &buf)?;

        then(generation)?;

        let mut m = self.store.manifest.clone();
        m.generation = generation;
        for &(n, len) in &self.closed {
            set_pack_len(&mut m.packs, n, len);
        }
        set_pack_len(&mut m.packs, self.pack, self.pack_len);
        m.segments.push(seg_name);
        m.records += self.pending.len() as u64;
        write_manifest(&self.store.dir, &m)?;

        self.closed.clear();
        self.store.manifest = m;
        self.pending_blobs.clear();
        self.pending_docs.clear();
        for r in std::mem::take(&mut self.pending) {
            self.store.index_record(r);
        }
        self.store.remap()?;
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
