//! The record table: records stored once, found by `seq` or by account without decoding the rest
//! (the design and its measurements: `docs/design/record-table/README.md`).
//!
//! ```text
//! records/data-EEEE.bin          [u32 len][u8 format][len bytes]…   append-only
//! records/rows-EEEE.bin          16-byte rows, row number = seq:
//!                                offset u64 (of the record's header), len u32, account id u32
//!                                (bit 31 = removed at a compaction)
//! records/accounts-EEEE.bin      runs [prev run u64][n u64][n × seq u64], one per account per
//!                                commit, linked backwards (u64::MAX = none)
//! records/tombstones-EEEE.bin    u64 seqs removed in this epoch
//! records/keys-EEEE.bin          72-byte rows, row number = seq: DocId, main blob MD5, size,
//!                                offset and pack, flags, date, CRC-32, parts (see [`Key`])
//! records/summaries-GGGGGGGG.bin account ids ↔ (corpus, account), totals, last run (+ MD5)
//! ```
//!
//! Every file is append-only below the committed length a [`TableManifest`] holds, and the
//! manifest is embedded in the collection's `MANIFEST.json`, whose rename stays the one commit
//! point: bytes past a committed length are crash garbage, never mapped by readers and cut off by
//! the next writer. The epoch `EEEE` changes only at [`RecordTableWriter::compact`]; seqs never
//! change, so the search index stays valid. The summaries file is rewritten per commit (one
//! generation `GGGGGGGG` each) because it is small: a few hundred bytes per account.
//!
//! Records are decoded only by [`RecordTable::get`]: opening and counting maps files and reads
//! the summaries and tombstones, nothing per record. The keys file holds, per row, what a writer
//! looks records up by (DocId, main blob MD5 → where the blob is, its CRC-32, how many parts) and
//! what a search orders hits by (date, size), so neither decodes records at 10 million. Tables
//! written before it existed have none (`keys: false` in their manifest): readers decode records
//! for it, and the first writer builds it, once. The format byte of each record (1 = serde JSON
//! of a one-blob record, 2 = serde JSON of a record with parts) lets an encoding change without
//! a migration: old rows are read as they are.
//!
//! Every offset and length read from disk is bounds-checked: a damaged file gives a
//! [`TableError::Corrupt`] naming the file and the row or byte, never a panic.

use super::map::{Mapped, RangedFiles};
use crate::digest::Md5;
use crate::model::{Account, BlobRef, Corpus, DocId, OrgUnit, Record};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// Bytes per row of the rows file.
const ROW: u64 = 16;
/// Bytes per row of the keys file.
const KEY: u64 = 72;
/// Key row flag: the row was written (a live row without it is damage, not a record).
const KEY_WRITTEN: u32 = 1;
/// Key row flag: the record has a date.
const KEY_DATED: u32 = 2;
/// Key row flag: the main blob's CRC-32 is known (recorded at ingest since issue 10).
const KEY_CRC: u32 = 4;
/// Bytes of a record's header in the data file: length u32, format u8.
const HEADER: u64 = 5;
/// Account id bit marking a row removed (set only by compaction, which drops its data).
const DEAD: u32 = 1 << 31;
/// "No run" in the account runs chain.
const NONE: u64 = u64::MAX;
/// Record format byte: serde JSON of a record with one `blob` (read through
/// [`super::legacy`]).
const FORMAT_JSON_V1: u8 = 1;
/// Record format byte: serde JSON of a record with `parts` (written by this version). A reader
/// that predates it refuses the row ("unknown record format 2") instead of misreading it.
const FORMAT_JSON: u8 = 2;
/// First bytes of a summaries file.
const SUMMARIES_MAGIC: &[u8; 8] = b"EDRTSUM1";
/// Buffer size of each appended file.
const BUF: usize = 1 << 20;

/// Where in a file something is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The file as a whole (its length, its checksum).
    File,
    /// The row of this seq.
    Row(u64),
    /// This byte offset.
    Byte(u64),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::File => f.write_str("whole file"),
            At::Row(s) => write!(f, "row {s}"),
            At::Byte(b) => write!(f, "byte {b}"),
        }
    }
}

/// Errors of the record table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file's content is not what this version wrote.
    #[error("{path} ({at}): corrupt record table file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where in it.
        at: At,
        /// What is wrong.
        reason: String,
    },
    /// A record was appended with another `seq` than the row it would get.
    #[error("record with seq {got} appended at row {expected}")]
    SeqMismatch {
        /// The row it would get.
        expected: u64,
        /// Its `seq` field.
        got: u64,
    },
    /// A record's encoding does not fit the data file's u32 length.
    #[error("record {seq}: {len} bytes encoded, more than a record may hold")]
    TooLarge {
        /// The record.
        seq: u64,
        /// Its encoded length.
        len: usize,
    },
    /// More accounts than an account id (31 bits) can number.
    #[error("{0}: more than 2^31 accounts")]
    TooManyAccounts(PathBuf),
    /// Compaction was asked for with changes not yet committed.
    #[error("{0}: compaction needs every change committed first")]
    Uncommitted(PathBuf),
    /// An earlier write failed part-way, so the writer's state no longer matches its files: it
    /// must be dropped and reopened from the committed manifest (which cuts the partial bytes).
    #[error("{0}: an earlier write failed; reopen the record table")]
    Failed(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> TableError + '_ {
    move |source| TableError::Io { path: path.to_path_buf(), source }
}

fn corrupt(path: &Path, at: At, reason: impl Into<String>) -> TableError {
    TableError::Corrupt { path: path.to_path_buf(), at, reason: reason.into() }
}

/// What the collection's manifest records of the table: which files and how many of their bytes
/// are committed. Plain data, serialised inside `MANIFEST.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableManifest {
    /// Compaction epoch: names the data, rows, account runs and tombstones files.
    pub epoch: u32,
    /// Table commit number: names the summaries file (0: none yet, the table is empty).
    pub generation: u64,
    /// Rows (the next seq).
    pub rows: u64,
    /// Rows not removed.
    pub live: u64,
    /// Committed bytes of the data file.
    pub data_len: u64,
    /// Committed bytes of the account runs file.
    pub accounts_len: u64,
    /// Committed bytes of the tombstones file.
    pub tombstones_len: u64,
    /// Whether the keys file holds a row per row (`rows` × 72 bytes committed). Missing in
    /// manifests written before the keys file existed: read as `false`.
    #[serde(default)]
    pub keys: bool,
}

impl Default for TableManifest {
    /// An empty table, with its (empty) keys file.
    fn default() -> TableManifest {
        TableManifest {
            epoch: 0,
            generation: 0,
            rows: 0,
            live: 0,
            data_len: 0,
            accounts_len: 0,
            tombstones_len: 0,
            keys: true,
        }
    }
}

/// What the keys file holds of one record: what a writer looks it up by and a search orders it
/// by, read without decoding the record.
///
/// Row layout (72 bytes, little-endian): DocId 16, main blob MD5 16, blob size u64, blob offset
/// u64, blob pack u32, flags u32 (bit 0: written, bit 1: dated, bit 2: CRC known), date i64 (UTC
/// seconds; 0 without one), blob CRC-32 u32 (0 without one), parts u32 (the record's part count:
/// a writer decodes the record for the blobs of its other parts only when it is above 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// The record's DocId.
    pub doc_id: DocId,
    /// Where its original bytes are.
    pub blob: BlobRef,
    /// [`Record::date`].
    pub date: Option<i64>,
    /// How many parts the record has (the main part's blob is `blob`).
    pub parts: u32,
}

impl Key {
    /// The key of `rec`.
    pub fn of(rec: &Record) -> Key {
        Key {
            doc_id: rec.doc_id,
            blob: *rec.blob(),
            date: rec.date(),
            parts: u32::try_from(rec.parts.len()).unwrap_or(u32::MAX),
        }
    }

    fn bytes(&self) -> [u8; KEY as usize] {
        let mut r = [0u8; KEY as usize];
        r[0..16].copy_from_slice(&self.doc_id.bytes());
        r[16..32].copy_from_slice(&self.blob.md5.0);
        r[32..40].copy_from_slice(&self.blob.size.to_le_bytes());
        r[40..48].copy_from_slice(&self.blob.offset.to_le_bytes());
        r[48..52].copy_from_slice(&self.blob.pack.to_le_bytes());
        let flags = KEY_WRITTEN
            | if self.date.is_some() { KEY_DATED } else { 0 }
            | if self.blob.crc32.is_some() { KEY_CRC } else { 0 };
        r[52..56].copy_from_slice(&flags.to_le_bytes());
        r[56..64].copy_from_slice(&self.date.unwrap_or(0).to_le_bytes());
        r[64..68].copy_from_slice(&self.blob.crc32.unwrap_or(0).to_le_bytes());
        r[68..72].copy_from_slice(&self.parts.to_le_bytes());
        r
    }

    /// The key in a row; `None` when the row was never written.
    fn parse(b: &[u8; KEY as usize]) -> Option<Key> {
        let u = |r: std::ops::Range<usize>| -> [u8; 8] {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[r]);
            x
        };
        let mut doc = [0u8; 16];
        doc.copy_from_slice(&b[0..16]);
        let mut md5 = [0u8; 16];
        md5.copy_from_slice(&b[16..32]);
        let mut pack = [0u8; 4];
        pack.copy_from_slice(&b[48..52]);
        let mut flags = [0u8; 4];
        flags.copy_from_slice(&b[52..56]);
        let flags = u32::from_le_bytes(flags);
        if flags & KEY_WRITTEN == 0 {
            return None;
        }
        let mut crc = [0u8; 4];
        crc.copy_from_slice(&b[64..68]);
        let mut parts = [0u8; 4];
        parts.copy_from_slice(&b[68..72]);
        Some(Key {
            doc_id: DocId::from_bytes(doc),
            blob: BlobRef {
                md5: Md5(md5),
                size: u64::from_le_bytes(u(32..40)),
                offset: u64::from_le_bytes(u(40..48)),
                pack: u32::from_le_bytes(pack),
                crc32: (flags & KEY_CRC != 0).then(|| u32::from_le_bytes(crc)),
            },
            date: (flags & KEY_DATED != 0).then(|| i64::from_le_bytes(u(56..64))),
            parts: u32::from_le_bytes(parts),
        })
    }
}

/// The per-epoch files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Data,
    Rows,
    Accounts,
    Tombstones,
    Keys,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Data, Kind::Rows, Kind::Accounts, Kind::Tombstones, Kind::Keys];

    fn prefix(self) -> &'static str {
        match self {
            Kind::Data => "data",
            Kind::Rows => "rows",
            Kind::Accounts => "accounts",
            Kind::Tombstones => "tombstones",
            Kind::Keys => "keys",
        }
    }
}

fn epoch_path(dir: &Path, kind: Kind, epoch: u32) -> PathBuf {
    dir.join(format!("{}-{epoch:04}.bin", kind.prefix()))
}

fn summaries_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("summaries-{generation:08}.bin"))
}

/// One file of the record table a manifest names, and how many of its bytes are committed
/// (`None`: the whole file, as for a summaries file, written once per commit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedFile {
    /// The file's name inside the table's folder.
    pub name: String,
    /// Its committed length; `None` for the whole file.
    pub len: Option<u64>,
}

impl TableManifest {
    /// The files this manifest names with their committed lengths: what a copy of the committed
    /// table (a published split) must hold, bytes past each length left out.
    pub fn committed_files(&self) -> Vec<CommittedFile> {
        let mut out: Vec<CommittedFile> = Kind::ALL
            .iter()
            .map(|&k| CommittedFile {
                name: format!("{}-{:04}.bin", k.prefix(), self.epoch),
                len: Some(self.committed_len(k).unwrap_or(u64::MAX)),
            })
            .collect();
        if self.generation > 0 {
            out.push(CommittedFile {
                name: format!("summaries-{:08}.bin", self.generation),
                len: None,
            });
        }
        out
    }
}

impl TableManifest {
    fn committed_len(&self, kind: Kind) -> Option<u64> {
        match kind {
            Kind::Data => Some(self.data_len),
            Kind::Rows => self.rows.checked_mul(ROW),
            Kind::Accounts => Some(self.accounts_len),
            Kind::Tombstones => Some(self.tombstones_len),
            Kind::Keys if self.keys => self.rows.checked_mul(KEY),
            Kind::Keys => Some(0),
        }
    }

    /// The file names this manifest refers to.
    fn names(&self, dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            Kind::ALL.iter().map(|&k| epoch_path(dir, k, self.epoch)).collect();
        if self.generation > 0 {
            v.push(summaries_path(dir, self.generation));
        }
        v
    }
}

/// Is `name` one of the table's files? (Other files, such as the JSON Lines segments of an older
/// collection, share the folder and are left alone.)
fn is_table_file(name: &str) -> bool {
    let ours = ["data-", "rows-", "accounts-", "tombstones-", "keys-", "summaries-"];
    name.ends_with(".bin") && ours.iter().any(|p| name.starts_with(p))
}

/// Delete the table's files in `dir` that no name in `keep` refers to.
fn remove_unnamed(dir: &Path, keep: &[PathBuf]) -> Result<(), TableError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_table_file(&name) && !keep.contains(&path) {
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), TableError> {
    // Makes new files' names durable on Linux; a no-op elsewhere is acceptable.
    match File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// What the table holds for one account of one corpus, kept exact through appends and removals
/// so listings and scopes never decode records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountTotals {
    /// Records (not removed).
    pub records: u64,
    /// Bytes of their blobs.
    pub bytes: u64,
    /// Records per org unit they were ingested under (units with none are absent).
    pub org_units: BTreeMap<OrgUnit, u64>,
}

impl AccountTotals {
    fn add(&mut self, rec: &Record) {
        // Saturating: totals read back from a damaged file must not overflow into a panic.
        self.records = self.records.saturating_add(1);
        self.bytes = self.bytes.saturating_add(rec.stored_bytes());
        let n = self.org_units.entry(rec.org_unit.clone()).or_default();
        *n = n.saturating_add(1);
    }

    fn sub(&mut self, rec: &Record) {
        self.records = self.records.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(rec.stored_bytes());
        if let Some(n) = self.org_units.get_mut(&rec.org_unit) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.org_units.remove(&rec.org_unit);
            }
        }
    }
}

/// One account of the summaries file; its position is its account id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    corpus: Corpus,
    account: Account,
    totals: AccountTotals,
    /// Offset of the account's newest run in the account runs file, or [`NONE`].
    last_run: u64,
}

fn encode_summaries(entries: &[Entry]) -> Vec<u8> {
    fn put_str(b: &mut Vec<u8>, s: &str) {
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    }
    let mut b = Vec::with_capacity(64 + entries.len() * 96);
    b.extend_from_slice(SUMMARIES_MAGIC);
    b.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for e in entries {
        let corpus = Corpus::ALL.iter().position(|&c| c == e.corpus).unwrap_or(0);
        b.push(corpus as u8);
        put_str(&mut b, e.account.as_str());
        b.extend_from_slice(&e.totals.records.to_le_bytes());
        b.extend_from_slice(&e.totals.bytes.to_le_bytes());
        b.extend_from_slice(&e.last_run.to_le_bytes());
        b.extend_from_slice(&(e.totals.org_units.len() as u64).to_le_bytes());
        for (ou, n) in &e.totals.org_units {
            put_str(&mut b, ou.as_str());
            b.extend_from_slice(&n.to_le_bytes());
        }
    }
    let sum = Md5::of(&b);
    b.extend_from_slice(&sum.0);
    b
}

/// A bounds-checked reader over bytes read from disk.
struct Cursor<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.p.checked_add(n)?;
        let s = self.b.get(self.p..end)?;
        self.p = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes)
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u32()?).ok()?;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

fn decode_summaries(path: &Path, b: &[u8]) -> Result<Vec<Entry>, TableError> {
    let body_len = b.len().checked_sub(16).ok_or_else(|| corrupt(path, At::File, "too short"))?;
    let (body, sum) = b.split_at(body_len);
    if Md5::of(body).0 != sum {
        return Err(corrupt(path, At::File, "checksum does not match"));
    }
    let mut c = Cursor { b: body, p: 0 };
    let bad = |c: &Cursor, what: &str| corrupt(path, At::Byte(c.p as u64), what.to_owned());
    if c.take(8) != Some(&SUMMARIES_MAGIC[..]) {
        return Err(bad(&c, "not a summaries file"));
    }
    let n = c.u64().ok_or_else(|| bad(&c, "account count"))?;
    if n > u64::from(DEAD) {
        return Err(bad(&c, "more accounts than account ids"));
    }
    // The count is not trusted with an allocation: entries are checked as they are read.
    let mut out = Vec::with_capacity(n.min(4096) as usize);
    for _ in 0..n {
        let corpus = c.u8().and_then(|i| Corpus::ALL.get(usize::from(i)).copied());
        let corpus = corpus.ok_or_else(|| bad(&c, "corpus"))?;
        let name = c.str().ok_or_else(|| bad(&c, "account name"))?;
        let account = match Account::new(name) {
            Ok(a) if a.as_str() == name => a,
            _ => return Err(bad(&c, "account name")),
        };
        let records = c.u64().ok_or_else(|| bad(&c, "record count"))?;
        let bytes = c.u64().ok_or_else(|| bad(&c, "byte count"))?;
        let last_run = c.u64().ok_or_else(|| bad(&c, "last run"))?;
        let k = c.u64().ok_or_else(|| bad(&c, "org unit count"))?;
        let mut org_units = BTreeMap::new();
        for _ in 0..k {
            let ou = c.str().ok_or_else(|| bad(&c, "org unit"))?;
            let count = c.u64().ok_or_else(|| bad(&c, "org unit count"))?;
            org_units.insert(OrgUnit::new(ou), count);
        }
        out.push(Entry {
            corpus,
            account,
            totals: AccountTotals { records, bytes, org_units },
            last_run,
        });
    }
    if c.p != body.len() {
        return Err(bad(&c, "bytes after the last account"));
    }
    Ok(out)
}

/// The committed state every open starts from: accounts and tombstones, checked against the
/// manifest.
struct Loaded {
    entries: Vec<Entry>,
    /// Seqs removed in this epoch, sorted.
    tombstones: Vec<u64>,
}

fn load(dir: &Path, m: &TableManifest) -> Result<Loaded, TableError> {
    let entries = if m.generation == 0 {
        Vec::new()
    } else {
        let path = summaries_path(dir, m.generation);
        let b = fs::read(&path).map_err(io_err(&path))?;
        let entries = decode_summaries(&path, &b)?;
        for (i, e) in entries.iter().enumerate() {
            if e.last_run != NONE && e.last_run >= m.accounts_len {
                return Err(corrupt(
                    &path,
                    At::File,
                    format!("account {i}: last run past the runs file"),
                ));
            }
        }
        let total = entries.iter().try_fold(0u64, |n, e| n.checked_add(e.totals.records));
        if total != Some(m.live) {
            return Err(corrupt(
                &path,
                At::File,
                format!("accounts hold {total:?} records, manifest says {}", m.live),
            ));
        }
        entries
    };
    let path = epoch_path(dir, Kind::Tombstones, m.epoch);
    let mut tombstones = Vec::new();
    if m.tombstones_len > 0 {
        if !m.tombstones_len.is_multiple_of(8) {
            return Err(corrupt(&path, At::File, "committed length is not a multiple of 8"));
        }
        let want =
            usize::try_from(m.tombstones_len).map_err(|_| corrupt(&path, At::File, "too long"))?;
        let mut b = vec![0u8; want];
        let mut f = File::open(&path).map_err(io_err(&path))?;
        f.read_exact(&mut b).map_err(io_err(&path))?;
        for (i, c) in b.chunks_exact(8).enumerate() {
            let s = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            if s >= m.rows {
                return Err(corrupt(
                    &path,
                    At::Byte(i as u64 * 8),
                    format!("seq {s} past the last row"),
                ));
            }
            tombstones.push(s);
        }
        tombstones.sort_unstable();
        tombstones.dedup();
    }
    if m.live.checked_add(tombstones.len() as u64).is_none_or(|n| n > m.rows) {
        let path = epoch_path(dir, Kind::Rows, m.epoch);
        return Err(corrupt(
            &path,
            At::File,
            format!("{} live and {} removed rows, {} rows", m.live, tombstones.len(), m.rows),
        ));
    }
    Ok(Loaded { entries, tombstones })
}

/// One row of the rows file.
#[derive(Clone, Copy, Debug)]
struct Row {
    offset: u64,
    len: u32,
    account: u32,
}

impl Row {
    fn parse(b: &[u8; 16]) -> Row {
        let [a, b2, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = *b;
        Row {
            offset: u64::from_le_bytes([a, b2, c, d, e, f, g, h]),
            len: u32::from_le_bytes([i, j, k, l]),
            account: u32::from_le_bytes([m, n, o, p]),
        }
    }

    fn bytes(&self) -> [u8; 16] {
        let mut r = [0u8; 16];
        r[0..8].copy_from_slice(&self.offset.to_le_bytes());
        r[8..12].copy_from_slice(&self.len.to_le_bytes());
        r[12..16].copy_from_slice(&self.account.to_le_bytes());
        r
    }

    fn dead(&self) -> bool {
        self.account & DEAD != 0
    }

    /// Total bytes of the record in the data file, header included.
    fn total(&self) -> u64 {
        HEADER + u64::from(self.len)
    }
}

/// Check a record's stored bytes (`[u32 len][u8 format][bytes]`) against its row and decode it.
fn decode_record(path: &Path, seq: u64, row: &Row, b: &[u8]) -> Result<Record, TableError> {
    let bad = |reason: String| corrupt(path, At::Row(seq), reason);
    let (len, format, body) = match b {
        [a, b2, c, d, f, body @ ..] => (u32::from_le_bytes([*a, *b2, *c, *d]), *f, body),
        _ => return Err(bad("record shorter than its header".into())),
    };
    if len != row.len || body.len() != row.len as usize {
        return Err(bad(format!("record header says {len} bytes, row says {}", row.len)));
    }
    let rec: Record = match format {
        FORMAT_JSON => serde_json::from_slice(body).map_err(|e| bad(format!("record: {e}")))?,
        FORMAT_JSON_V1 => super::legacy::decode(body).map_err(|e| bad(format!("record: {e}")))?,
        other => return Err(bad(format!("unknown record format {other}"))),
    };
    if rec.seq != seq {
        return Err(bad(format!("record says seq {}", rec.seq)));
    }
    Ok(rec)
}

fn map(dir: &Path, kind: Kind, m: &TableManifest) -> Result<Option<Mapped>, TableError> {
    let path = epoch_path(dir, kind, m.epoch);
    let len = m
        .committed_len(kind)
        .ok_or_else(|| corrupt(&path, At::File, "committed length overflows"))?;
    if len == 0 {
        return Ok(None);
    }
    let file = File::open(&path).map_err(io_err(&path))?;
    let have = file.metadata().map_err(io_err(&path))?.len();
    if have < len {
        // Mapping past the end of a file faults on access: refuse it here.
        return Err(corrupt(&path, At::File, format!("{have} bytes, {len} committed")));
    }
    Mapped::new(&file, len).map(Some).map_err(io_err(&path))
}

/// Where a table's data file (the JSON records, most of its bytes) is read from.
enum Data {
    /// A memory map of its committed bytes (`None` when empty).
    Mapped(Option<Mapped>),
    /// Ranges of `name` read through `files` (a published split's data file in object storage,
    /// read a block at a time): a search that decodes a few records reads a few blocks, not the
    /// file.
    Ranged {
        /// The reader.
        files: Arc<dyn RangedFiles>,
        /// The data file's name relative to the collection (`records/data-0000.bin`).
        name: String,
    },
}

/// The committed record table, read through memory maps of committed bytes only (or, for the
/// data file of a published split, ranged reads: [`RecordTable::open_ranged`]).
pub struct RecordTable {
    dir: PathBuf,
    manifest: TableManifest,
    rows: Option<Mapped>,
    data: Data,
    runs: Option<Mapped>,
    /// `None` when empty or when the table has no keys file yet (`manifest.keys` false).
    keys: Option<Mapped>,
    tombstones: Vec<u64>,
    entries: Vec<Entry>,
    by_key: BTreeMap<(Corpus, Account), u32>,
}

impl RecordTable {
    /// Open the table in `dir` as `manifest` committed it. Reads the summaries and tombstones and
    /// maps the rest: no record is read or decoded.
    pub fn open(dir: &Path, manifest: &TableManifest) -> Result<RecordTable, TableError> {
        RecordTable::open_with(dir, manifest, None)
    }

    /// [`open`](Self::open) with the data file read through `files` (by its name relative to
    /// the collection, `records/data-EEEE.bin`) instead of mapped from `dir`; the small files
    /// (rows, keys, account runs, summaries, tombstones) are still read from `dir`. Its length
    /// there must cover the committed data.
    pub fn open_ranged(
        dir: &Path,
        manifest: &TableManifest,
        files: Arc<dyn RangedFiles>,
    ) -> Result<RecordTable, TableError> {
        RecordTable::open_with(dir, manifest, Some(files))
    }

    fn open_with(
        dir: &Path,
        manifest: &TableManifest,
        ranged: Option<Arc<dyn RangedFiles>>,
    ) -> Result<RecordTable, TableError> {
        let data = match ranged {
            None => Data::Mapped(map(dir, Kind::Data, manifest)?),
            Some(files) => {
                let path = epoch_path(dir, Kind::Data, manifest.epoch);
                let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let name = format!("records/{}", file_name.unwrap_or_default());
                let have = files.len(&name).unwrap_or(0);
                if have < manifest.data_len {
                    let at = format!("{} {name}", files.location());
                    return Err(corrupt(
                        Path::new(&at),
                        At::File,
                        format!("{have} bytes, {} committed", manifest.data_len),
                    ));
                }
                Data::Ranged { files, name }
            }
        };
        let Loaded { entries, tombstones } = load(dir, manifest)?;
        let by_key = entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.corpus, e.account.clone()), i as u32))
            .collect::<BTreeMap<_, _>>();
        if by_key.len() != entries.len() {
            let path = summaries_path(dir, manifest.generation);
            return Err(corrupt(&path, At::File, "an account is listed twice"));
        }
        Ok(RecordTable {
            rows: map(dir, Kind::Rows, manifest)?,
            data,
            runs: map(dir, Kind::Accounts, manifest)?,
            keys: map(dir, Kind::Keys, manifest)?,
            dir: dir.to_path_buf(),
            manifest: manifest.clone(),
            tombstones,
            entries,
            by_key,
        })
    }

    /// The manifest this table was opened with.
    pub fn manifest(&self) -> &TableManifest {
        &self.manifest
    }

    /// Rows, removed ones included: the next seq.
    pub fn rows(&self) -> u64 {
        self.manifest.rows
    }

    /// Records not removed.
    pub fn live(&self) -> u64 {
        self.manifest.live
    }

    /// The seqs removed since the last compaction (its tombstones), ascending. Rows removed
    /// before it are marked in the rows file and listed nowhere: their data is gone.
    pub fn removed(&self) -> &[u64] {
        &self.tombstones
    }

    fn path(&self, kind: Kind) -> PathBuf {
        epoch_path(&self.dir, kind, self.manifest.epoch)
    }

    /// The row of `seq`, `None` past the end.
    fn row(&self, seq: u64) -> Result<Option<Row>, TableError> {
        if seq >= self.manifest.rows {
            return Ok(None);
        }
        let rows = self.rows.as_ref().map_or(&[][..], Mapped::bytes);
        let at = seq.checked_mul(ROW).and_then(|a| usize::try_from(a).ok());
        let b = at.and_then(|a| rows.get(a..a.checked_add(16)?));
        let b: &[u8; 16] = b.and_then(|b| b.try_into().ok()).ok_or_else(|| {
            corrupt(&self.path(Kind::Rows), At::Row(seq), "row past the mapped file")
        })?;
        Ok(Some(Row::parse(b)))
    }

    /// The live row of `seq`: `None` when removed or past the end.
    fn live_row(&self, seq: u64) -> Result<Option<Row>, TableError> {
        match self.row(seq)? {
            Some(r) if !r.dead() && self.tombstones.binary_search(&seq).is_err() => Ok(Some(r)),
            _ => Ok(None),
        }
    }

    /// The account entry a live row names, checked.
    fn entry_of(&self, seq: u64, row: &Row) -> Result<&Entry, TableError> {
        self.entries.get(row.account as usize).ok_or_else(|| {
            corrupt(
                &self.path(Kind::Rows),
                At::Row(seq),
                format!("account id {} unknown", row.account),
            )
        })
    }

    /// A live row's stored bytes, header included, checked against the committed data length.
    /// Borrowed from the map, or owned when read by range.
    fn record_bytes(&self, seq: u64, row: &Row) -> Result<Cow<'_, [u8]>, TableError> {
        let end = row.offset.checked_add(row.total()).filter(|&end| end <= self.manifest.data_len);
        let found = match (&self.data, end) {
            (_, None) => None,
            (Data::Mapped(m), Some(end)) => {
                let data = m.as_ref().map_or(&[][..], Mapped::bytes);
                let (a, b) = (usize::try_from(row.offset).ok(), usize::try_from(end).ok());
                a.zip(b).and_then(|(a, b)| data.get(a..b)).map(Cow::Borrowed)
            }
            (Data::Ranged { files, name }, Some(end)) => {
                let bytes = files.read(name, row.offset..end).map_err(|source| TableError::Io {
                    path: PathBuf::from(format!("{} {name}", files.location())),
                    source,
                })?;
                Some(Cow::Owned(bytes))
            }
        };
        found.ok_or_else(|| {
            corrupt(
                &self.path(Kind::Rows),
                At::Row(seq),
                format!(
                    "record at offset {} length {} is past the committed data ({} bytes)",
                    row.offset, row.len, self.manifest.data_len
                ),
            )
        })
    }

    /// The record `seq`, decoded; `None` when it was removed or does not exist.
    pub fn get(&self, seq: u64) -> Result<Option<Record>, TableError> {
        let Some(row) = self.live_row(seq)? else { return Ok(None) };
        let entry = self.entry_of(seq, &row)?;
        let rec = decode_record(&self.path(Kind::Data), seq, &row, &self.record_bytes(seq, &row)?)?;
        if rec.corpus != entry.corpus || rec.account != entry.account {
            let reason = format!(
                "record of {} {}, row says account id {}",
                rec.corpus, rec.account, row.account
            );
            return Err(corrupt(&self.path(Kind::Rows), At::Row(seq), reason));
        }
        Ok(Some(rec))
    }

    /// Whether the keys file is there, so [`key`](Self::key) reads rows instead of decoding
    /// records.
    pub fn has_keys(&self) -> bool {
        self.manifest.keys
    }

    /// The corpus, account and [`Key`] of record `seq`, read from its rows without decoding the
    /// record (decoded only in a table that has no keys file yet); `None` when it was removed or
    /// does not exist.
    pub fn key(&self, seq: u64) -> Result<Option<(Corpus, &Account, Key)>, TableError> {
        let Some(row) = self.live_row(seq)? else { return Ok(None) };
        let e = self.entry_of(seq, &row)?;
        if !self.manifest.keys {
            let rec =
                decode_record(&self.path(Kind::Data), seq, &row, &self.record_bytes(seq, &row)?)?;
            return Ok(Some((e.corpus, &e.account, Key::of(&rec))));
        }
        Ok(Some((e.corpus, &e.account, self.key_row(seq)?)))
    }

    /// The key row of `seq` (checked to be written).
    fn key_row(&self, seq: u64) -> Result<Key, TableError> {
        let keys = self.keys.as_ref().map_or(&[][..], Mapped::bytes);
        let at = seq.checked_mul(KEY).and_then(|a| usize::try_from(a).ok());
        let b = at.and_then(|a| keys.get(a..a.checked_add(KEY as usize)?));
        let b: &[u8; KEY as usize] = b.and_then(|b| b.try_into().ok()).ok_or_else(|| {
            corrupt(&self.path(Kind::Keys), At::Row(seq), "key row past the mapped file")
        })?;
        Key::parse(b).ok_or_else(|| {
            corrupt(&self.path(Kind::Keys), At::Row(seq), "key row of a live record not written")
        })
    }

    /// The corpus and account of record `seq`, read from its row without decoding the record;
    /// `None` when it was removed or does not exist.
    pub fn account_of(&self, seq: u64) -> Result<Option<(Corpus, &Account)>, TableError> {
        let Some(row) = self.live_row(seq)? else { return Ok(None) };
        let e = self.entry_of(seq, &row)?;
        Ok(Some((e.corpus, &e.account)))
    }

    /// Every (corpus, account) with records, in (corpus, account) order, with its totals.
    pub fn accounts(&self) -> impl Iterator<Item = (Corpus, &Account, &AccountTotals)> + '_ {
        self.by_key.iter().filter_map(|((c, a), &i)| {
            let t = &self.entries.get(i as usize)?.totals;
            (t.records > 0).then_some((*c, a, t))
        })
    }

    /// What the table holds for `account` of `corpus`; `None` when it holds no record of it.
    pub fn summary(&self, corpus: Corpus, account: &Account) -> Option<&AccountTotals> {
        let i = *self.by_key.get(&(corpus, account.clone()))?;
        let t = &self.entries.get(i as usize)?.totals;
        (t.records > 0).then_some(t)
    }

    /// The seqs of `account`'s records in `corpus`, ascending, removed ones left out. The account
    /// runs are checked (bounds, order) before the first seq is returned.
    pub fn seqs_of(
        &self,
        corpus: Corpus,
        account: &Account,
    ) -> Result<impl Iterator<Item = u64> + '_, TableError> {
        let runs = match self.by_key.get(&(corpus, account.clone())) {
            Some(&id) => self.runs_of(id)?,
            None => Vec::new(),
        };
        let bytes = self.runs.as_ref().map_or(&[][..], Mapped::bytes);
        Ok(runs
            .into_iter()
            .flat_map(move |r| bytes.get(r).unwrap_or(&[]).chunks_exact(8))
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .filter(move |s| self.tombstones.binary_search(s).is_err()))
    }

    /// The byte ranges of account `id`'s seqs in the runs file, oldest first; every seq checked to
    /// be a row and ascending.
    fn runs_of(&self, id: u32) -> Result<Vec<std::ops::Range<usize>>, TableError> {
        let path = self.path(Kind::Accounts);
        let bytes = self.runs.as_ref().map_or(&[][..], Mapped::bytes);
        let mut out = Vec::new();
        let mut at = self.entries.get(id as usize).map_or(NONE, |e| e.last_run);
        while at != NONE {
            let bad = |reason: &str| corrupt(&path, At::Byte(at), reason.to_owned());
            let mut c = Cursor { b: bytes, p: usize::try_from(at).map_err(|_| bad("run offset"))? };
            let prev = c.u64().ok_or_else(|| bad("run header past the committed runs"))?;
            let n = c.u64().ok_or_else(|| bad("run header past the committed runs"))?;
            let len = usize::try_from(n).ok().and_then(|n| n.checked_mul(8));
            let start = c.p;
            len.and_then(|l| c.take(l)).ok_or_else(|| bad("run past the committed runs"))?;
            out.push(start..c.p);
            if prev != NONE && prev >= at {
                return Err(bad("run chain does not point backwards"));
            }
            at = prev;
        }
        out.reverse();
        let mut last: Option<u64> = None;
        for r in &out {
            for (i, c) in bytes.get(r.clone()).unwrap_or(&[]).chunks_exact(8).enumerate() {
                let s = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                if s >= self.manifest.rows || last.is_some_and(|l| s <= l) {
                    let at = At::Byte((r.start + i * 8) as u64);
                    return Err(corrupt(
                        &path,
                        at,
                        format!("seq {s} out of order or past the last row"),
                    ));
                }
                last = Some(s);
            }
        }
        Ok(out)
    }
}

/// The table's appended files, positioned at their ends.
struct Files {
    data: BufWriter<File>,
    rows: BufWriter<File>,
    accounts: BufWriter<File>,
    tombstones: BufWriter<File>,
    keys: BufWriter<File>,
}

impl Files {
    /// Open (creating if missing) the files of `epoch`, first cutting each back to its length in
    /// `m`: bytes past it are what an interrupted writer left.
    fn open(dir: &Path, m: &TableManifest) -> Result<Files, TableError> {
        let open = |kind: Kind| -> Result<BufWriter<File>, TableError> {
            let path = epoch_path(dir, kind, m.epoch);
            let len = m
                .committed_len(kind)
                .ok_or_else(|| corrupt(&path, At::File, "committed length overflows"))?;
            let f = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let have = f.metadata().map_err(io_err(&path))?.len();
            if have < len {
                return Err(corrupt(&path, At::File, format!("{have} bytes, {len} committed")));
            }
            if have > len {
                f.set_len(len).map_err(io_err(&path))?;
                f.sync_all().map_err(io_err(&path))?;
            }
            Ok(BufWriter::with_capacity(BUF, f))
        };
        Ok(Files {
            data: open(Kind::Data)?,
            rows: open(Kind::Rows)?,
            accounts: open(Kind::Accounts)?,
            tombstones: open(Kind::Tombstones)?,
            keys: open(Kind::Keys)?,
        })
    }

    fn each(&mut self) -> [(Kind, &mut BufWriter<File>); 5] {
        [
            (Kind::Data, &mut self.data),
            (Kind::Rows, &mut self.rows),
            (Kind::Accounts, &mut self.accounts),
            (Kind::Tombstones, &mut self.tombstones),
            (Kind::Keys, &mut self.keys),
        ]
    }
}

/// The one writer of a record table (the caller holds the collection's `LOCK`): appends and
/// removes records, and prepares commits the collection's manifest then makes visible.
pub struct RecordTableWriter {
    dir: PathBuf,
    /// What the collection's manifest last committed.
    base: TableManifest,
    /// The state of the files as written so far (lengths include unprepared bytes).
    cur: TableManifest,
    files: Files,
    entries: Vec<Entry>,
    by_key: HashMap<Corpus, HashMap<Account, u32>>,
    /// Seqs removed in this epoch, committed or not.
    removed: HashSet<u64>,
    /// (account id, seq) appended since the last prepare, in seq order.
    pending_runs: Vec<(u32, u64)>,
    /// Seqs removed since the last prepare.
    pending_tombs: Vec<u64>,
    buf: Vec<u8>,
    /// A write failed part-way: refuse everything until reopened.
    failed: bool,
}

impl RecordTableWriter {
    /// Open the table in `dir` for writing, as `committed` left it (`None`: a new, empty table).
    /// Cuts every file back to its committed length and deletes table files the manifest does not
    /// name: whatever an interrupted writer left goes. The caller must hold the collection's lock
    /// and no reader of this process may map bytes past the committed lengths (none does).
    pub fn open(
        dir: &Path,
        committed: Option<&TableManifest>,
    ) -> Result<RecordTableWriter, TableError> {
        let base = committed.cloned().unwrap_or_default();
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        remove_unnamed(dir, &base.names(dir))?;
        let Loaded { entries, tombstones } = load(dir, &base)?;
        let mut files = Files::open(dir, &base)?;
        sync_dir(dir)?;
        let mut by_key: HashMap<Corpus, HashMap<Account, u32>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_key.entry(e.corpus).or_default().insert(e.account.clone(), i as u32);
        }
        let mut cur = base.clone();
        if !base.keys {
            build_keys(dir, &base, &mut files.keys)?;
            cur.keys = true;
        }
        Ok(RecordTableWriter {
            dir: dir.to_path_buf(),
            cur,
            base,
            files,
            entries,
            by_key,
            removed: tombstones.into_iter().collect(),
            pending_runs: Vec::new(),
            pending_tombs: Vec::new(),
            buf: Vec::with_capacity(4096),
            failed: false,
        })
    }

    /// The seq the next appended record gets.
    pub fn next_seq(&self) -> u64 {
        self.cur.rows
    }

    /// Whether [`open`](Self::open) built what the committed table lacked (the keys file of a
    /// table written before it existed): the caller should commit it, or the next writer builds
    /// it again.
    pub fn converted(&self) -> bool {
        self.cur.keys && !self.base.keys
    }

    /// Records appended and not removed, committed or not.
    pub fn live(&self) -> u64 {
        self.cur.live
    }

    /// The manifest last passed to [`committed`](Self::committed) (or to `open`).
    pub fn base(&self) -> &TableManifest {
        &self.base
    }

    fn path(&self, kind: Kind) -> PathBuf {
        epoch_path(&self.dir, kind, self.cur.epoch)
    }

    fn check(&self) -> Result<(), TableError> {
        if self.failed { Err(TableError::Failed(self.dir.clone())) } else { Ok(()) }
    }

    /// An I/O error while reading what this writer wrote leaves its buffers in doubt.
    fn fail_on_io<T>(&mut self, r: Result<T, TableError>) -> Result<T, TableError> {
        if let Err(TableError::Io { .. }) = r {
            self.failed = true;
        }
        r
    }

    fn account_id(&mut self, corpus: Corpus, account: &Account) -> Result<u32, TableError> {
        if let Some(&id) = self.by_key.get(&corpus).and_then(|m| m.get(account)) {
            return Ok(id);
        }
        let id = u32::try_from(self.entries.len())
            .ok()
            .filter(|&id| id < DEAD)
            .ok_or_else(|| TableError::TooManyAccounts(self.dir.clone()))?;
        self.entries.push(Entry {
            corpus,
            account: account.clone(),
            totals: AccountTotals::default(),
            last_run: NONE,
        });
        self.by_key.entry(corpus).or_default().insert(account.clone(), id);
        Ok(id)
    }

    /// Append `rec`, whose `seq` must be [`next_seq`](Self::next_seq). Returns its seq. Not
    /// durable or visible to readers until prepared and committed.
    pub fn append(&mut self, rec: &Record) -> Result<u64, TableError> {
        self.check()?;
        let seq = self.cur.rows;
        if rec.seq != seq {
            return Err(TableError::SeqMismatch { expected: seq, got: rec.seq });
        }
        self.buf.clear();
        let path = self.path(Kind::Data);
        serde_json::to_writer(&mut self.buf, rec)
            .map_err(|e| corrupt(&path, At::Row(seq), format!("encoding the record: {e}")))?;
        let len = u32::try_from(self.buf.len())
            .map_err(|_| TableError::TooLarge { seq, len: self.buf.len() })?;
        let id = self.account_id(rec.corpus, &rec.account)?;
        let row = Row { offset: self.cur.data_len, len, account: id };
        let mut header = [0u8; HEADER as usize];
        header[..4].copy_from_slice(&len.to_le_bytes());
        header[4] = FORMAT_JSON;
        let written = self
            .files
            .data
            .write_all(&header)
            .and_then(|()| self.files.data.write_all(&self.buf))
            .map_err(io_err(&path))
            .and_then(|()| {
                self.files.rows.write_all(&row.bytes()).map_err(io_err(&self.path(Kind::Rows)))
            })
            .and_then(|()| {
                let key = Key::of(rec).bytes();
                self.files.keys.write_all(&key).map_err(io_err(&self.path(Kind::Keys)))
            });
        if let Err(e) = written {
            self.failed = true;
            return Err(e);
        }
        self.cur.data_len += row.total();
        self.cur.rows += 1;
        self.cur.live += 1;
        self.pending_runs.push((id, seq));
        if let Some(e) = self.entries.get_mut(id as usize) {
            e.totals.add(rec);
        }
        Ok(seq)
    }

    /// Read `len` bytes at `offset` of one of the files being written (flushed first).
    fn read_at(
        &mut self,
        kind: Kind,
        offset: u64,
        len: u64,
        seq: u64,
    ) -> Result<Vec<u8>, TableError> {
        let path = self.path(kind);
        let file_len = self.cur.committed_len(kind).unwrap_or(0);
        let (_, w) = self
            .files
            .each()
            .into_iter()
            .find(|(k, _)| *k == kind)
            .ok_or_else(|| corrupt(&path, At::Row(seq), "no such file"))?;
        if offset.checked_add(len).is_none_or(|end| end > file_len) {
            let reason = format!("{len} bytes at offset {offset} past the file's {file_len} bytes");
            return Err(corrupt(&path, At::Row(seq), reason));
        }
        w.flush().map_err(io_err(&path))?;
        let mut f = w.get_ref();
        let mut b =
            vec![0u8; usize::try_from(len).map_err(|_| corrupt(&path, At::Row(seq), "too long"))?];
        f.seek(SeekFrom::Start(offset)).map_err(io_err(&path))?;
        f.read_exact(&mut b).map_err(io_err(&path))?;
        Ok(b)
    }

    /// Remove record `seq` (a tombstone; its bytes go at the next compaction). Reads the record
    /// to keep the account totals exact. Returns whether it removed anything: `false` when the
    /// record was already removed or does not exist.
    pub fn remove(&mut self, seq: u64) -> Result<bool, TableError> {
        self.check()?;
        if seq >= self.cur.rows || self.removed.contains(&seq) {
            return Ok(false);
        }
        let rb = self.read_at(Kind::Rows, seq * ROW, ROW, seq);
        let rb = self.fail_on_io(rb)?;
        let row = Row::parse(
            &rb.as_slice()
                .try_into()
                .map_err(|_| corrupt(&self.path(Kind::Rows), At::Row(seq), "short row"))?,
        );
        if row.dead() {
            return Ok(false);
        }
        let bytes = self.read_at(Kind::Data, row.offset, row.total(), seq);
        let bytes = self.fail_on_io(bytes)?;
        let rec = decode_record(&self.path(Kind::Data), seq, &row, &bytes)?;
        let rows_path = self.path(Kind::Rows);
        let entry = self
            .entries
            .get_mut(row.account as usize)
            .filter(|e| e.corpus == rec.corpus && e.account == rec.account)
            .ok_or_else(|| {
                corrupt(&rows_path, At::Row(seq), "account id does not match the record")
            })?;
        entry.totals.sub(&rec);
        self.removed.insert(seq);
        self.pending_tombs.push(seq);
        self.cur.live -= 1;
        Ok(true)
    }

    /// Make everything appended and removed so far durable: write the account runs and
    /// tombstones, flush and sync every file, write and sync a new summaries file. Returns the
    /// manifest the collection must commit (rename into place) before calling
    /// [`committed`](Self::committed). Until then readers and a reopening writer see the
    /// previous commit.
    pub fn prepare(&mut self) -> Result<TableManifest, TableError> {
        self.check()?;
        let r = self.write_prepared();
        self.failed = r.is_err();
        r
    }

    fn write_prepared(&mut self) -> Result<TableManifest, TableError> {
        // One run per account touched, seqs ascending; first-touched account first.
        let mut groups: Vec<(u32, Vec<u64>)> = Vec::new();
        let mut slot: HashMap<u32, usize> = HashMap::new();
        for &(id, seq) in &self.pending_runs {
            let i = *slot.entry(id).or_insert_with(|| {
                groups.push((id, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(seq);
        }
        let apath = self.path(Kind::Accounts);
        for (id, seqs) in groups {
            let Some(e) = self.entries.get_mut(id as usize) else { continue };
            let mut b = Vec::with_capacity(16 + 8 * seqs.len());
            b.extend_from_slice(&e.last_run.to_le_bytes());
            b.extend_from_slice(&(seqs.len() as u64).to_le_bytes());
            for s in &seqs {
                b.extend_from_slice(&s.to_le_bytes());
            }
            self.files.accounts.write_all(&b).map_err(io_err(&apath))?;
            e.last_run = self.cur.accounts_len;
            self.cur.accounts_len += b.len() as u64;
        }
        self.pending_runs.clear();
        let tpath = self.path(Kind::Tombstones);
        for s in &self.pending_tombs {
            self.files.tombstones.write_all(&s.to_le_bytes()).map_err(io_err(&tpath))?;
        }
        self.cur.tombstones_len += 8 * self.pending_tombs.len() as u64;
        self.pending_tombs.clear();
        let (dir, epoch) = (self.dir.clone(), self.cur.epoch);
        for (kind, w) in self.files.each() {
            let path = epoch_path(&dir, kind, epoch);
            w.flush().map_err(io_err(&path))?;
            w.get_ref().sync_data().map_err(io_err(&path))?;
        }
        self.cur.generation = self.cur.generation.checked_add(1).ok_or_else(|| {
            corrupt(&summaries_path(&self.dir, self.cur.generation), At::File, "last generation")
        })?;
        write_summaries(&self.dir, self.cur.generation, &self.entries)?;
        Ok(self.cur.clone())
    }

    /// The collection's manifest naming `m` (from [`prepare`](Self::prepare) or
    /// [`compact`](Self::compact)) is in place: delete the summaries and epoch files it no longer
    /// names.
    pub fn committed(&mut self, m: &TableManifest) -> Result<(), TableError> {
        let mut keep = m.names(&self.dir);
        keep.extend(Kind::ALL.iter().map(|&k| epoch_path(&self.dir, k, self.cur.epoch)));
        if self.cur.generation > m.generation {
            // Prepared again since: that summaries file may be committed next.
            keep.push(summaries_path(&self.dir, self.cur.generation));
        }
        remove_unnamed(&self.dir, &keep)?;
        self.base = m.clone();
        Ok(())
    }

    /// Rewrite the table without removed records' bytes, into the files of a new epoch. Seqs do
    /// not change: removed rows stay, marked removed, with no data. Needs every change committed
    /// first. Returns the manifest to commit like [`prepare`](Self::prepare)'s; the old epoch's
    /// files are deleted by [`committed`](Self::committed). Appends after this go to the new
    /// epoch.
    pub fn compact(&mut self) -> Result<TableManifest, TableError> {
        self.check()?;
        if self.cur != self.base || !self.pending_runs.is_empty() || !self.pending_tombs.is_empty()
        {
            return Err(TableError::Uncommitted(self.dir.clone()));
        }
        let old = RecordTable::open(&self.dir, &self.base)?;
        let (Some(epoch), Some(generation)) =
            (self.base.epoch.checked_add(1), self.base.generation.checked_add(1))
        else {
            return Err(corrupt(
                &old.path(Kind::Rows),
                At::File,
                "epoch or generation at its maximum",
            ));
        };
        let mut next = TableManifest {
            epoch,
            generation,
            rows: self.base.rows,
            live: 0,
            data_len: 0,
            accounts_len: 0,
            tombstones_len: 0,
            keys: true,
        };
        let create = |kind: Kind| -> Result<(PathBuf, BufWriter<File>), TableError> {
            let path = epoch_path(&self.dir, kind, next.epoch);
            let f = File::create(&path).map_err(io_err(&path))?;
            Ok((path, BufWriter::with_capacity(BUF, f)))
        };
        let (dpath, mut data) = create(Kind::Data)?;
        let (rpath, mut rows) = create(Kind::Rows)?;
        let (kpath, mut keys) = create(Kind::Keys)?;
        for seq in 0..old.rows() {
            let row = old.row(seq)?.ok_or_else(|| corrupt(&rpath, At::Row(seq), "missing row"))?;
            // Removed records keep no key: a writer must not find their DocId or blob.
            let (new, key) = match old.live_row(seq)? {
                None => {
                    (Row { offset: 0, len: 0, account: row.account | DEAD }, [0u8; KEY as usize])
                }
                Some(row) => {
                    old.entry_of(seq, &row)?;
                    let b = old.record_bytes(seq, &row)?;
                    data.write_all(&b).map_err(io_err(&dpath))?;
                    let new = Row { offset: next.data_len, ..row };
                    next.data_len += b.len() as u64;
                    next.live += 1;
                    let key = old.key(seq)?.map(|(_, _, k)| k);
                    (new, key.ok_or_else(|| corrupt(&kpath, At::Row(seq), "no key"))?.bytes())
                }
            };
            rows.write_all(&new.bytes()).map_err(io_err(&rpath))?;
            keys.write_all(&key).map_err(io_err(&kpath))?;
        }
        if next.live != self.base.live {
            let reason = format!("{} live rows, manifest says {}", next.live, self.base.live);
            return Err(corrupt(&old.path(Kind::Rows), At::File, reason));
        }
        let (apath, mut accounts) = create(Kind::Accounts)?;
        let mut entries = self.entries.clone();
        for e in entries.iter_mut() {
            let seqs: Vec<u64> = old.seqs_of(e.corpus, &e.account)?.collect();
            if seqs.is_empty() {
                e.last_run = NONE;
                continue;
            }
            let mut b = Vec::with_capacity(16 + 8 * seqs.len());
            b.extend_from_slice(&NONE.to_le_bytes());
            b.extend_from_slice(&(seqs.len() as u64).to_le_bytes());
            for s in &seqs {
                b.extend_from_slice(&s.to_le_bytes());
            }
            accounts.write_all(&b).map_err(io_err(&apath))?;
            e.last_run = next.accounts_len;
            next.accounts_len += b.len() as u64;
        }
        let (tpath, tombstones) = create(Kind::Tombstones)?;
        for (path, mut w) in
            [(dpath, data), (rpath, rows), (apath, accounts), (tpath, tombstones), (kpath, keys)]
        {
            w.flush().map_err(io_err(&path))?;
            w.get_ref().sync_all().map_err(io_err(&path))?;
        }
        drop(old);
        write_summaries(&self.dir, next.generation, &entries)?;
        // Switch over: appends and removals now go to the new epoch.
        self.files = Files::open(&self.dir, &next)?;
        self.entries = entries;
        self.removed.clear();
        self.cur = next.clone();
        Ok(next)
    }
}

/// Write the keys file of a table committed without one (`m.keys` false), from its records: each
/// live row's record decoded once, removed rows left unwritten. `out` is the keys file, empty.
fn build_keys(dir: &Path, m: &TableManifest, out: &mut BufWriter<File>) -> Result<(), TableError> {
    let t = RecordTable::open(dir, m)?;
    let path = epoch_path(dir, Kind::Keys, m.epoch);
    for seq in 0..t.rows() {
        let key = match t.key(seq)? {
            Some((_, _, k)) => k.bytes(),
            None => [0u8; KEY as usize],
        };
        out.write_all(&key).map_err(io_err(&path))?;
    }
    Ok(())
}

/// Write the summaries file of `generation` and sync it and its folder.
fn write_summaries(dir: &Path, generation: u64, entries: &[Entry]) -> Result<(), TableError> {
    let path = summaries_path(dir, generation);
    let bytes = encode_summaries(entries);
    let mut f = File::create(&path).map_err(io_err(&path))?;
    f.write_all(&bytes).map_err(io_err(&path))?;
    f.sync_all().map_err(io_err(&path))?;
    sync_dir(dir)
}
