//! Exporting from splits: the blob source that reads each planned record's bytes from the split
//! that holds it, by ranged GETs of its pack.
//!
//! The plan and the runner see the splits' local copies (record tables and indexes) as one
//! set of tables ([`Tables`]: a record's global seq says which split holds it); this source
//! turns a global seq back into its split and reads the blob there.
//!
//! **Read pattern.** A GET per message would make an export of small messages a stream of
//! round trips (a 5 KB message costs a request). Ingest packs an account's records one after
//! another, and the runner asks for them account by account in about that order, so a small
//! blob is read with the [`WINDOW`]-aligned stretch of its pack around it, and the last
//! [`WINDOWS`] stretches are kept: the neighbours that follow are served from memory. A blob
//! larger than half a window is read alone, exactly. Each blob is checked against its own MD5
//! whichever way it was read (a stretch's other bytes are never trusted unchecked). Two
//! workers missing the same stretch at once may both read it; the lock is held only to look
//! up and to insert, never across a GET.

use super::{Split, SplitError, SplitSearch};
use crate::Collection;
use crate::export::{BlobSource, Failure, FailureClass, Tables, Wanted};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes of a pack read in one GET around a small blob (aligned to this size).
pub const WINDOW: u64 = 1 << 20;
/// Stretches kept (for every split together): a few per export worker.
pub const WINDOWS: usize = 16;

/// A stretch of a pack in memory.
struct Stretch {
    split: usize,
    pack: u32,
    start: u64,
    bytes: Arc<Vec<u8>>,
}

impl Stretch {
    /// Does it hold the whole blob `[offset, offset + size)` of pack `pack` of split `split`?
    fn holds(&self, split: usize, pack: u32, offset: u64, size: u64) -> bool {
        self.split == split
            && self.pack == pack
            && offset >= self.start
            && offset.saturating_add(size) <= self.start + self.bytes.len() as u64
    }
}

/// Reads record bytes from the splits of a split search, in the search's order (a hit's
/// `collection` is the split's position), by global seq.
pub struct SplitBlobs<'a> {
    splits: &'a [Split],
    tables: Tables<'a>,
    window: u64,
    stretches: Mutex<VecDeque<Stretch>>,
    gets: AtomicU64,
    blobs: AtomicU64,
}

impl std::fmt::Debug for SplitBlobs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.splits.iter().map(Split::url)).finish()
    }
}

impl<'a> SplitBlobs<'a> {
    /// A source over the splits `found` searched, reading [`WINDOW`]-long stretches.
    pub fn new(found: &'a SplitSearch) -> SplitBlobs<'a> {
        SplitBlobs::with_window(found, WINDOW)
    }

    /// A source reading `window`-long stretches around small blobs (0: every blob alone).
    /// Its tables hide the items each split's manifest lists as deleted when the search left
    /// them out, so a Chat plan does not bring them back as context.
    pub fn with_window(found: &'a SplitSearch, window: u64) -> SplitBlobs<'a> {
        let splits = found.splits.as_slice();
        let mut tables = Tables::of_stores(splits.iter().map(|s| s.collection().store()));
        if !found.options.include_deleted {
            let deleted = splits.iter().map(|s| s.manifest().deleted.iter().copied().collect());
            tables = tables.hiding(deleted.collect());
        }
        SplitBlobs {
            splits,
            window,
            tables,
            stretches: Mutex::new(VecDeque::with_capacity(WINDOWS + 1)),
            gets: AtomicU64::new(0),
            blobs: AtomicU64::new(0),
        }
    }

    /// The splits' record tables as one, in the same order: what the export's plan and runner
    /// are given with this source.
    pub fn tables(&self) -> Tables<'a> {
        self.tables.clone()
    }

    /// The splits' local copies as collections, in order.
    pub fn collections(&self) -> Vec<&'a Collection> {
        self.splits.iter().map(Split::collection).collect()
    }

    /// (ranged GETs made, blobs read) so far.
    pub fn reads(&self) -> (u64, u64) {
        (self.gets.load(Ordering::Relaxed), self.blobs.load(Ordering::Relaxed))
    }

    /// A stretch in memory holding the blob, if any: where it starts in the pack, its bytes.
    fn cached(
        &self,
        split: usize,
        pack: u32,
        offset: u64,
        size: u64,
    ) -> Option<(u64, Arc<Vec<u8>>)> {
        let held = self.stretches.lock().ok()?;
        let s = held.iter().rev().find(|s| s.holds(split, pack, offset, size))?;
        Some((s.start, s.bytes.clone()))
    }

    fn keep(&self, s: Stretch) {
        if let Ok(mut held) = self.stretches.lock() {
            held.push_back(s);
            while held.len() > WINDOWS {
                held.pop_front();
            }
        }
    }

    /// Blob `want.blob` of split `i`: from a stretch in memory, or by a GET.
    fn blob(&self, i: usize, split: &Split, want: &Wanted<'_>) -> Result<Vec<u8>, SplitError> {
        let b = want.blob;
        self.blobs.fetch_add(1, Ordering::Relaxed);
        if b.size > self.window / 2 {
            self.gets.fetch_add(1, Ordering::Relaxed);
            return split.blob_bytes(want.doc_id, b);
        }
        let (start, bytes) = match self.cached(i, b.pack, b.offset, b.size) {
            Some(held) => held,
            None => {
                self.gets.fetch_add(1, Ordering::Relaxed);
                let (start, bytes) = split.pack_window(want.doc_id, b, self.window)?;
                let bytes = Arc::new(bytes);
                self.keep(Stretch { split: i, pack: b.pack, start, bytes: bytes.clone() });
                (start, bytes)
            }
        };
        // A stretch starts at or before the blobs it holds.
        let at = usize::try_from(b.offset.saturating_sub(start)).unwrap_or(usize::MAX);
        self.slice(split, want, &bytes, at)
    }

    /// The blob's bytes at `at` in `stretch`, checked against its MD5.
    fn slice(
        &self,
        split: &Split,
        want: &Wanted<'_>,
        stretch: &[u8],
        at: usize,
    ) -> Result<Vec<u8>, SplitError> {
        let b = want.blob;
        let size = usize::try_from(b.size).unwrap_or(usize::MAX);
        let bytes = at.checked_add(size).and_then(|end| stretch.get(at..end)).unwrap_or(&[]);
        split.check_blob(want.doc_id, b, bytes)?;
        Ok(bytes.to_vec())
    }
}

impl BlobSource for SplitBlobs<'_> {
    fn read<'b>(&'b self, want: Wanted<'_>) -> Result<Cow<'b, [u8]>, Failure> {
        let found = self.tables.locate(want.seq).and_then(|(i, _)| Some((i, self.splits.get(i)?)));
        let Some((i, split)) = found else {
            return Err(Failure {
                class: FailureClass::NonTransient,
                reason: format!(
                    "record {} (seq {}) is in none of the splits",
                    want.doc_id, want.seq
                ),
            });
        };
        self.blob(i, split, &want).map(Cow::Owned).map_err(|e| Failure {
            // The store could not answer now: a retry may. A refusal, a missing pack, the
            // published bytes not being the record's, or the local cache failing: a retry
            // meets the same.
            class: if e.is_transient() {
                FailureClass::Transient
            } else {
                FailureClass::NonTransient
            },
            reason: format!("stored bytes could not be read from the split: {e}"),
        })
    }
}
