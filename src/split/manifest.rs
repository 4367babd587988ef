//! A split's `manifest.json`: what it holds (accounts, corpora, dates, records), every file with
//! its size and MD5, and the identity derived from them. Searches read it to skip splits that
//! cannot match a scope, and to count the accounts those splits would have reported with zero
//! hits, so skipping never changes a count.

use super::SplitError;
use crate::digest::Md5;
use crate::model::{Account, Corpus, DocId, OrgUnit};
use crate::query::{Method, Scope};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `format` of every split manifest.
pub const FORMAT: &str = "ediscovery-split";
/// The manifest version this code writes and reads.
pub const VERSION: u32 = 1;

/// A published split's manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The split id ([`split_id`]): of `files` and `deleted`.
    pub split_id: String,
    /// The collection's commit generation that was published.
    pub generation: u64,
    /// Live records.
    pub records: u64,
    /// Corpora with records, sorted.
    pub corpora: Vec<Corpus>,
    /// Accounts with records, by (corpus, account).
    pub accounts: Vec<SplitAccount>,
    /// Dates of the records ([`crate::model::Record::date`]).
    pub dates: DateRange,
    /// Items users deleted (or their sources marked deleted) that the collection still kept at
    /// publish time: left out of split searches unless asked for, as in the collection.
    pub deleted: Vec<DocId>,
    /// Every file of the split, sorted by name.
    pub files: Vec<SplitFile>,
}

/// One account of a split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitAccount {
    /// Its corpus.
    pub corpus: Corpus,
    /// The account.
    pub account: Account,
    /// Its live records.
    pub records: u64,
    /// The org units its records were ingested under.
    pub org_units: Vec<OrgUnit>,
}

/// The dates of a split's records, UTC seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    /// The earliest date, if any record has one.
    pub first: Option<i64>,
    /// The latest date.
    pub last: Option<i64>,
    /// Records without a date.
    pub undated: u64,
}

impl DateRange {
    /// Widen the range by one record's date.
    pub fn add(&mut self, date: Option<i64>) {
        match date {
            None => self.undated += 1,
            Some(d) => {
                self.first = Some(self.first.map_or(d, |f| f.min(d)));
                self.last = Some(self.last.map_or(d, |l| l.max(d)));
            }
        }
    }
}

/// One file of a split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitFile {
    /// Relative to the split (`records/keys-0000.bin`).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// MD5 of the bytes.
    pub md5: Md5,
}

/// The split id of these files and deleted items: hex MD5 over the files' sorted
/// `name\tsize\tmd5\n` lines, then a `deleted\t<docid>\n` line per deleted item, sorted.
/// Everything else in a manifest derives from the files; the deleted items come from the
/// governance state beside the collection, so a later deletion makes another split rather than
/// a conflicting manifest under the same id.
pub fn split_id(files: &[SplitFile], deleted: &[DocId]) -> String {
    let mut lines: Vec<String> =
        files.iter().map(|f| format!("{}\t{}\t{}\n", f.name, f.size, f.md5)).collect();
    lines.sort();
    let mut gone: Vec<String> = deleted.iter().map(|d| format!("deleted\t{d}\n")).collect();
    gone.sort();
    lines.extend(gone);
    Md5::of(lines.concat().as_bytes()).to_hex()
}

/// A name we write and read back: relative, `/`-separated, of plain characters, no `.` or `..`
/// step. Anything else in a manifest could name a file outside the local cache.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

impl SplitManifest {
    /// The manifest as stored: pretty JSON and a newline, the same bytes for the same content.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parse and check a manifest read from `url`: format, version, the id against the files,
    /// safe unique file names, records against accounts.
    pub fn parse(bytes: &[u8], url: &str) -> Result<SplitManifest, SplitError> {
        let bad = |reason: String| SplitError::BadManifest { url: url.to_owned(), reason };
        let m: SplitManifest = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if m.format != FORMAT || m.version != VERSION {
            return Err(bad(format!(
                "format {:?} version {} (this version reads {FORMAT:?} version {VERSION})",
                m.format, m.version
            )));
        }
        let mut names = BTreeSet::new();
        for f in &m.files {
            if !safe_name(&f.name) {
                return Err(bad(format!("unsafe file name {:?}", f.name)));
            }
            if !names.insert(f.name.as_str()) {
                return Err(bad(format!("file {} listed twice", f.name)));
            }
        }
        for needed in ["MANIFEST.json", "index/meta.json"] {
            if !names.contains(needed) {
                return Err(bad(format!("no {needed}")));
            }
        }
        let id = split_id(&m.files, &m.deleted);
        if id != m.split_id {
            return Err(bad(format!("split id {} but its files give {id}", m.split_id)));
        }
        let sum: u64 = m.accounts.iter().map(|a| a.records).sum();
        if sum != m.records {
            return Err(bad(format!("{} records, its accounts hold {sum}", m.records)));
        }
        Ok(m)
    }

    /// The file named `name`.
    pub fn file(&self, name: &str) -> Option<&SplitFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The accounts of this split a search in `scope` covers, as a collection holding its
    /// records would list them ([`crate::Collection::queried_accounts`]).
    pub fn queried_accounts(&self, scope: &Scope) -> Vec<Account> {
        let held = self.accounts.iter().filter(|a| a.corpus == scope.corpus);
        let mut out: Vec<Account> = match &scope.method {
            Method::Accounts(list) => list.clone(),
            Method::OrgUnit(ou) => held
                .filter(|a| {
                    a.org_units.iter().any(|u| u.with_ancestors().iter().any(|x| x == ou.as_str()))
                })
                .map(|a| a.account.clone())
                .collect(),
            Method::EntireOrg => held.map(|a| a.account.clone()).collect(),
        };
        out.sort();
        out.dedup();
        out
    }

    /// False only when this manifest proves a search in `scope` finds nothing here: no record of
    /// the scope's corpus and accounts, or no dated record inside the scope's dates (an undated
    /// record matches no date range). Query text is not looked at.
    pub fn may_match(&self, scope: &Scope) -> bool {
        let in_scope = self.accounts.iter().filter(|a| a.corpus == scope.corpus).any(|a| {
            match &scope.method {
                Method::Accounts(list) => list.contains(&a.account),
                Method::OrgUnit(ou) => {
                    a.org_units.iter().any(|u| u.with_ancestors().iter().any(|x| x == ou.as_str()))
                }
                Method::EntireOrg => true,
            }
        });
        if !in_scope {
            return false;
        }
        match scope.bounds() {
            // A bad scope is the search's error to report, not a reason to skip.
            Err(_) | Ok((None, None)) => true,
            Ok((from, to)) => match (self.dates.first, self.dates.last) {
                (Some(first), Some(last)) => {
                    from.is_none_or(|f| last >= f) && to.is_none_or(|t| first < t)
                }
                _ => false,
            },
        }
    }

    /// Zero hits for each account of this split `scope` covers: what a skipped split adds to
    /// the counts so they stay those of one collection.
    pub fn zero_counts(&self, scope: &Scope) -> BTreeMap<Account, u64> {
        self.queried_accounts(scope).into_iter().map(|a| (a, 0)).collect()
    }
}

/// The block list's file name in a split.
pub const BLOCKS_FILE: &str = "blocks.json";
/// `format` of a block list.
pub const BLOCKS_FORMAT: &str = "ediscovery-split-blocks";
/// Bytes per checked block: reads of the index and record data fetch whole aligned blocks.
pub const BLOCK: u64 = 1 << 20;
/// The largest block a block list may give.
pub const MAX_BLOCK: u64 = 64 << 20;

/// Whether a split file is read by ranges (and so has a block list): the index files and the
/// record table's data files, the bulk of what is not packs. The small fixed-width table files
/// are fetched whole; packs are read by blob, each checked against its own MD5.
pub fn read_by_blocks(name: &str) -> bool {
    name.starts_with("index/") || name.starts_with("records/data-")
}

/// `blocks.json`: the MD5 of every aligned [`BLOCK`] of each file read by ranges, so a reader
/// can check a block it fetched without reading the rest of the file (the per-file MD5 in the
/// manifest needs the whole file).
///
/// A separate file rather than a field of the manifest: every search reads every manifest to
/// prune by account and date, and a 64 GB mail split has ~24,000 blocks (~1 MB of hex), which
/// would make pruning read megabytes per split; only a split that is searched reads its block
/// list. It is a file of the split like any other, so its MD5 is in the manifest (and in the
/// split id) and it is uploaded before the manifest, which commits it. A split without one (one
/// published before block lists) is read the old way: its index and record table downloaded
/// whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockList {
    /// Always [`BLOCKS_FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// Bytes per block ([`BLOCK`] when written by this version); the last block of a file may
    /// be shorter.
    pub block_size: u64,
    /// The files, sorted by name.
    pub files: Vec<BlockFile>,
}

/// The blocks of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockFile {
    /// As in the manifest.
    pub name: String,
    /// Bytes, as in the manifest.
    pub size: u64,
    /// MD5 of each block, in order.
    pub blocks: Vec<Md5>,
}

impl BlockList {
    /// As stored: pretty JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parse a block list read from `url` and check it against the manifest `m`: every file
    /// read by blocks is listed once with the manifest's size and as many blocks as that size
    /// needs, and nothing else.
    pub fn parse(bytes: &[u8], url: &str, m: &SplitManifest) -> Result<BlockList, SplitError> {
        let bad = |reason: String| SplitError::BadManifest {
            url: url.to_owned(),
            reason: format!("{BLOCKS_FILE}: {reason}"),
        };
        let b: BlockList = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if b.format != BLOCKS_FORMAT || b.version != 1 {
            return Err(bad(format!("format {:?} version {} not read here", b.format, b.version)));
        }
        if b.block_size == 0 || b.block_size > MAX_BLOCK {
            return Err(bad(format!("block size {}", b.block_size)));
        }
        let wanted: Vec<&SplitFile> = m.files.iter().filter(|f| read_by_blocks(&f.name)).collect();
        if wanted.len() != b.files.len() {
            return Err(bad(format!(
                "{} files listed, the manifest has {} read by blocks",
                b.files.len(),
                wanted.len()
            )));
        }
        for (f, want) in b.files.iter().zip(&wanted) {
            if f.name != want.name || f.size != want.size {
                return Err(bad(format!(
                    "{} of {} bytes listed where the manifest has {} of {} bytes",
                    f.name, f.size, want.name, want.size
                )));
            }
            if f.blocks.len() as u64 != f.size.div_ceil(b.block_size) {
                return Err(bad(format!(
                    "{}: {} blocks for {} bytes",
                    f.name,
                    f.blocks.len(),
                    f.size
                )));
            }
        }
        Ok(b)
    }
}
