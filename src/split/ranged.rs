//! Ranged, checked, cached reads of a split's index and record data: what lets a search open a
//! split without downloading those files whole.
//!
//! A read of bytes `a..b` of a file fetches the aligned blocks ([`super::manifest::BLOCK`],
//! 1 MiB) that cover it: blocks already in memory are used as they are, and each run of
//! missing blocks is one ranged GET. Every fetched block is checked against its MD5 in the
//! split's `blocks.json` before any of it is used (a mismatch is [`SplitError::Md5Mismatch`]
//! naming the split, the file and the block), so no byte of the store is trusted unchecked,
//! as with whole files. Checked blocks are kept in a bounded LRU, per open split: 64 MiB by
//! default, [`CACHE_VAR`] (MiB; 0 keeps none) changes it. They are also kept on disk, under
//! the split's cache folder (`blocks/<block MD5>`), so the next process that opens the split
//! reads them there instead of from the store; a block read back from disk is checked against
//! its MD5 again (a damaged one is fetched again). That folder grows to at most the split's
//! index and record data (a split never changes, so nothing there goes stale); deleting it is
//! always safe.
//!
//! Searches run on several threads, so the reader is `Send + Sync`: the cache's lock is held
//! to look up and to insert, never across a GET (two threads missing the same block at once
//! may both fetch it; both copies are checked).

use super::SplitError;
use super::manifest::{BlockFile, BlockList};
use super::remote::Remote;
use crate::digest::Md5;
use crate::store::RangedFiles;
use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Variable giving the block cache of each open split, in MiB (default [`DEFAULT_CACHE_MIB`]).
pub const CACHE_VAR: &str = "EDISCOVERY_SPLIT_BLOCK_CACHE";
/// The block cache per open split when [`CACHE_VAR`] is unset, in MiB.
pub const DEFAULT_CACHE_MIB: u64 = 64;

/// The cache budget from [`CACHE_VAR`], in bytes; an unreadable value is the default (a cache
/// size is tuning, not correctness).
pub fn cache_budget() -> u64 {
    let mib = std::env::var(CACHE_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_CACHE_MIB);
    mib.saturating_mul(1 << 20)
}

/// A block: (file's position in the block list, block number).
type BlockKey = (usize, u64);

/// Checked blocks in memory, least recently used first out.
#[derive(Default)]
struct Lru {
    /// Block → (last use, bytes).
    blocks: HashMap<BlockKey, (u64, Arc<Vec<u8>>)>,
    tick: u64,
    bytes: u64,
}

impl Lru {
    fn get(&mut self, key: BlockKey) -> Option<Arc<Vec<u8>>> {
        self.tick += 1;
        let tick = self.tick;
        self.blocks.get_mut(&key).map(|(used, b)| {
            *used = tick;
            b.clone()
        })
    }

    /// Keep `b` unless it alone is over `budget`; evict the least recently used past it.
    fn put(&mut self, key: BlockKey, b: Arc<Vec<u8>>, budget: u64) {
        let n = b.len() as u64;
        if n > budget {
            return;
        }
        self.tick += 1;
        if let Some((_, old)) = self.blocks.insert(key, (self.tick, b)) {
            self.bytes -= old.len() as u64;
        }
        self.bytes += n;
        while self.bytes > budget {
            // A scan per eviction: at 64 MiB of 1 MiB blocks, 64 entries, against a GET.
            let Some(oldest) =
                self.blocks.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| *k)
            else {
                break;
            };
            if let Some((_, gone)) = self.blocks.remove(&oldest) {
                self.bytes -= gone.len() as u64;
            }
        }
    }
}

/// The files of one split read by blocks ([`RangedFiles`] for the index and the record table).
pub struct SplitFiles {
    /// The split's URL, for errors.
    url: String,
    /// `splits/<id>`: the files' key prefix in the store.
    base: String,
    remote: Arc<Remote>,
    block: u64,
    /// Sorted by name (as the block list is).
    files: Vec<BlockFile>,
    cache: Mutex<Lru>,
    budget: u64,
    fetched: AtomicU64,
    gets: AtomicU64,
    /// Where checked blocks are kept between processes (`None`: memory only).
    disk: Option<PathBuf>,
    /// Disk cache writes started, for unique temporary names.
    writes: AtomicU64,
    /// The first read that failed, kept whole: tantivy passes our errors on as `io::Error`s
    /// it sometimes shows only in debug form.
    failure: Mutex<Option<SplitError>>,
}

impl std::fmt::Debug for SplitFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplitFiles").field("url", &self.url).finish()
    }
}

impl SplitFiles {
    /// The files `list` names, of the split at `url` (`base` = `splits/<id>` in `remote`),
    /// with a memory cache of `budget` bytes and checked blocks kept in `disk`.
    pub(super) fn new(
        url: &str,
        base: &str,
        remote: Arc<Remote>,
        list: BlockList,
        budget: u64,
        disk: Option<PathBuf>,
    ) -> SplitFiles {
        SplitFiles {
            url: url.to_owned(),
            base: base.to_owned(),
            remote,
            block: list.block_size,
            files: list.files,
            cache: Mutex::new(Lru::default()),
            budget,
            fetched: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            failure: Mutex::new(None),
            disk,
            writes: AtomicU64::new(0),
        }
    }

    /// Bytes fetched from the store so far (a block fetched twice counts twice).
    pub fn fetched_bytes(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// Ranged GETs made so far.
    pub fn gets(&self) -> u64 {
        self.gets.load(Ordering::Relaxed)
    }

    /// The first failed read's error, taken (later ones are not kept).
    pub(super) fn take_failure(&self) -> Option<SplitError> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn file(&self, name: &str) -> Option<(usize, &BlockFile)> {
        let i = self.files.binary_search_by(|f| f.name.as_str().cmp(name)).ok()?;
        Some((i, &self.files[i]))
    }

    /// Blocks `first..end` of `f` in one GET, each checked against its MD5.
    fn fetch_run(
        &self,
        f: &BlockFile,
        first: u64,
        end: u64,
    ) -> Result<Vec<Arc<Vec<u8>>>, SplitError> {
        let start = first * self.block;
        let stop = (end * self.block).min(f.size);
        let key = format!("{}/{}", self.base, f.name);
        let got = match self.remote.get_range(&key, start, stop - start) {
            Ok(b) => b,
            Err(e) => {
                // A file cut short or replaced reads as a failed range: say so plainly when
                // its size is not the published one.
                return Err(match self.remote.size(&key) {
                    Ok(n) if n != Some(f.size) => SplitError::SizeMismatch {
                        url: self.url.clone(),
                        file: f.name.clone(),
                        expected: f.size,
                        actual: n.unwrap_or(0),
                    },
                    _ => e,
                });
            }
        };
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.fetched.fetch_add(got.len() as u64, Ordering::Relaxed);
        if got.len() as u64 != stop - start {
            return Err(SplitError::SizeMismatch {
                url: self.url.clone(),
                file: f.name.clone(),
                expected: f.size,
                actual: start + got.len() as u64,
            });
        }
        let mut out = Vec::with_capacity((end - first) as usize);
        for (n, chunk) in (first..end).zip(got.chunks(self.block as usize)) {
            let md5 = Md5::of(chunk);
            let Some(&expected) = f.blocks.get(n as usize) else {
                return Err(SplitError::BadManifest {
                    url: self.url.clone(),
                    reason: format!("{}: no block {n} in its block list", f.name),
                });
            };
            if expected != md5 {
                let b0 = n * self.block;
                return Err(SplitError::Md5Mismatch {
                    url: self.url.clone(),
                    file: format!("{} block {n} (bytes {b0}..{})", f.name, b0 + chunk.len() as u64),
                    expected,
                    actual: md5,
                });
            }
            out.push(Arc::new(chunk.to_vec()));
        }
        Ok(out)
    }

    /// Block `k` of `f` from the disk cache, when it is there with the MD5 the list gives
    /// (anything else there is ignored: it is fetched again and replaced).
    fn kept_block(&self, f: &BlockFile, k: u64) -> Option<Arc<Vec<u8>>> {
        let dir = self.disk.as_ref()?;
        let md5 = f.blocks.get(usize::try_from(k).ok()?)?;
        let bytes = std::fs::read(dir.join(md5.to_hex())).ok()?;
        let want = (f.size - k * self.block).min(self.block);
        (bytes.len() as u64 == want && Md5::of(&bytes) == *md5).then(|| Arc::new(bytes))
    }

    /// Keep checked block `k` of `f` in the disk cache, named by its MD5 (so a block is kept
    /// once whatever file holds it), written beside its name and renamed into place. A block
    /// that cannot be written is only not cached: the read it serves has its bytes already.
    fn keep_block(&self, f: &BlockFile, k: u64, bytes: &[u8]) {
        let (Some(dir), Some(md5)) =
            (self.disk.as_ref(), usize::try_from(k).ok().and_then(|k| f.blocks.get(k)))
        else {
            return;
        };
        // Only a block not kept (or kept damaged) is fetched, so this never rewrites a good one.
        let dest = dir.join(md5.to_hex());
        let n = self.writes.fetch_add(1, Ordering::Relaxed);
        let partial = dir.join(format!(".{}.{}-{n}.partial", md5.to_hex(), std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&partial, bytes))
            .and_then(|()| std::fs::rename(&partial, &dest));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
    }

    /// Bytes `range` of `name`, from checked blocks.
    fn read_checked(&self, name: &str, range: Range<u64>) -> Result<Vec<u8>, SplitError> {
        let bad = |reason: String| SplitError::BadManifest { url: self.url.clone(), reason };
        let (i, f) =
            self.file(name).ok_or_else(|| bad(format!("{name} is not a file read by blocks")))?;
        if range.start > range.end || range.end > f.size {
            return Err(bad(format!(
                "bytes {}..{} of {name} asked, it has {}",
                range.start, range.end, f.size
            )));
        }
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let first = range.start / self.block;
        let end = (range.end - 1) / self.block + 1;
        let mut have: Vec<Option<Arc<Vec<u8>>>> = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            (first..end).map(|b| cache.get((i, b))).collect()
        };
        let mut fetched = Vec::new();
        // Blocks kept on disk by an earlier process: checked again, as they are read back.
        for k in first..end {
            let slot = &mut have[(k - first) as usize];
            if slot.is_none()
                && let Some(bytes) = self.kept_block(f, k)
            {
                *slot = Some(bytes.clone());
                fetched.push((k, bytes));
            }
        }
        let mut b = first;
        while b < end {
            if have[(b - first) as usize].is_some() {
                b += 1;
                continue;
            }
            let run_end = (b..end).find(|&x| have[(x - first) as usize].is_some()).unwrap_or(end);
            for (k, bytes) in (b..run_end).zip(self.fetch_run(f, b, run_end)?) {
                self.keep_block(f, k, &bytes);
                have[(k - first) as usize] = Some(bytes.clone());
                fetched.push((k, bytes));
            }
            b = run_end;
        }
        if !fetched.is_empty() {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            for (k, bytes) in fetched {
                cache.put((i, k), bytes, self.budget);
            }
        }
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        for (k, bytes) in (first..end).zip(&have) {
            let Some(bytes) = bytes else {
                return Err(bad(format!("{name}: block {k} was not read")));
            };
            let b0 = k * self.block;
            let from = range.start.max(b0) - b0;
            let to = range.end.min(b0 + bytes.len() as u64) - b0;
            out.extend_from_slice(bytes.get(from as usize..to as usize).unwrap_or_default());
        }
        if out.len() as u64 != range.end - range.start {
            return Err(bad(format!("{name}: a block is shorter than its list says")));
        }
        Ok(out)
    }
}

impl RangedFiles for SplitFiles {
    fn len(&self, name: &str) -> Option<u64> {
        self.file(name).map(|(_, f)| f.size)
    }

    fn read(&self, name: &str, range: Range<u64>) -> io::Result<Vec<u8>> {
        self.read_checked(name, range).map_err(|e| {
            // Its message, and whether a retry may pass, travel inside the io::Error (the CLI
            // finds them there: `RangedReadError::of`); the error itself is kept for `open`.
            let shown = io::Error::other(crate::store::RangedReadError {
                message: e.to_string(),
                transient: e.is_transient(),
            });
            let mut first = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert(e);
            shown
        })
    }

    fn location(&self) -> String {
        self.url.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::Lru;
    use std::sync::Arc;

    #[test]
    fn the_least_recently_used_block_goes_first() {
        let mut lru = Lru::default();
        let b = |n: u8| Arc::new(vec![n; 10]);
        lru.put((0, 0), b(0), 30);
        lru.put((0, 1), b(1), 30);
        lru.put((0, 2), b(2), 30);
        assert!(lru.get((0, 0)).is_some());
        lru.put((0, 3), b(3), 30);
        assert!(lru.get((0, 1)).is_none(), "the oldest unused block stays");
        assert!(lru.get((0, 0)).is_some() && lru.get((0, 2)).is_some());
        assert_eq!(lru.bytes, 30);
        lru.put((1, 0), Arc::new(vec![0; 31]), 30);
        assert!(lru.get((1, 0)).is_none(), "a block over the budget is not kept");
    }
}
