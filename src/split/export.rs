//! Exporting from splits: the blob source that reads each planned record's bytes from the split
//! that holds it, by ranged GETs of its pack.
//!
//! The plan and the runner see the splits' local copies (record tables and indexes) as one
//! set of tables ([`Tables`]: a record's global seq says which split holds it); this source
//! turns a global seq back into its split and reads the blob there. One GET per blob, exactly
//! its bytes: records of one zip are spread over packs in ingest order, and the runner reads a
//! batch's records in parallel, so coalescing neighbouring blobs into one larger GET is left to
//! a later change (see `SCALING.md`).

use super::{Split, SplitError};
use crate::Collection;
use crate::export::{BlobSource, Failure, FailureClass, Tables, Wanted};
use std::borrow::Cow;

/// Reads record bytes from the splits of a split search, in the search's order (a hit's
/// `collection` is the split's position), by global seq.
pub struct SplitBlobs<'a> {
    splits: &'a [Split],
    tables: Tables<'a>,
}

impl std::fmt::Debug for SplitBlobs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.splits.iter().map(Split::url)).finish()
    }
}

impl<'a> SplitBlobs<'a> {
    /// A source over `splits` (as [`super::search`] returned them).
    pub fn new(splits: &'a [Split]) -> SplitBlobs<'a> {
        SplitBlobs {
            splits,
            tables: Tables::of_stores(splits.iter().map(|s| s.collection().store())),
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
}

impl BlobSource for SplitBlobs<'_> {
    fn read<'b>(&'b self, want: Wanted<'_>) -> Result<Cow<'b, [u8]>, Failure> {
        let split = self.tables.locate(want.seq).and_then(|(i, _)| self.splits.get(i));
        let Some(split) = split else {
            return Err(Failure {
                class: FailureClass::NonTransient,
                reason: format!(
                    "record {} (seq {}) is in none of the splits",
                    want.doc_id, want.seq
                ),
            });
        };
        split.blob_bytes(want.doc_id, want.blob).map(Cow::Owned).map_err(|e| Failure {
            class: match e {
                // The store could not answer now: a retry may.
                SplitError::Store { .. } | SplitError::Io { .. } => FailureClass::Transient,
                // The published bytes are not the record's: retrying reads the same bytes.
                _ => FailureClass::NonTransient,
            },
            reason: format!("stored bytes could not be read from the split: {e}"),
        })
    }
}
