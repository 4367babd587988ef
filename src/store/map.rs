//! Read-only memory maps of committed pack bytes: the only user of `memmap2`, and the crate's
//! first `unsafe` (the other: the one `mallopt` call in `src/malloc.rs`).

use std::fs::File;
use std::io;

/// The committed prefix of a pack file, mapped read-only.
pub struct Mapped(Option<memmap2::Mmap>);

impl Mapped {
    /// Map the first `len` bytes of `file`.
    pub fn new(file: &File, len: u64) -> io::Result<Mapped> {
        if len == 0 {
            return Ok(Mapped(None));
        }
        let len = usize::try_from(len).map_err(io::Error::other)?;
        // SAFETY: a mapping is undefined behaviour if the mapped bytes change or vanish while it
        // lives. Pack files are append-only: committed bytes are never rewritten, and the only
        // truncation (dropping an uncommitted tail when a writer opens after a crash) is past
        // every committed length, so past every mapping. Another program editing a pack file by
        // hand is outside what the collection format allows.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
        Ok(Mapped(Some(map)))
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        self.0.as_deref().unwrap_or(&[])
    }
}

/// Why a [`RangedFiles::read`] failed, carried inside the `io::Error` it returns: the index
/// library keeps no source behind its I/O errors, so this is how the CLI still tells a store
/// that did not answer (transient: exit 5, a task engine retries) from damage or a refusal.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RangedReadError {
    /// The failure, as its own error said it.
    pub message: String,
    /// Whether reading again may succeed (the store failed or did not answer).
    pub transient: bool,
}

impl RangedReadError {
    /// The [`RangedReadError`] an `io::Error` from [`RangedFiles::read`] carries, if any.
    pub fn of(e: &io::Error) -> Option<&RangedReadError> {
        e.get_ref()?.downcast_ref::<RangedReadError>()
    }
}

/// A collection's files read by ranges from somewhere else than this machine's disk: a
/// published split's index and record data, read block by block from object storage
/// (`crate::split`). Names are relative to the collection folder, `/`-separated
/// (`records/data-0000.bin`, `index/meta.json`). Shared by the record table (its data file)
/// and the index (a read-only tantivy directory), so neither needs to know about the store
/// behind it, and several search threads read through one implementation at once.
pub trait RangedFiles: Send + Sync + std::fmt::Debug {
    /// The file's length, `None` when there is no such file.
    fn len(&self, name: &str) -> Option<u64>;
    /// Bytes `range` of the file, exactly (an error, never a short read, when they are not
    /// all there or not the published bytes: the error names the file and where).
    fn read(&self, name: &str, range: std::ops::Range<u64>) -> io::Result<Vec<u8>>;
    /// Where the files are, for error messages (a split's URL).
    fn location(&self) -> String;
}
