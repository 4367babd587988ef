//! Read-only memory maps of committed pack bytes: the only user of `memmap2`, and the crate's
//! only `unsafe`.

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
