//! Content zips: the only user of `zip`. Written as a stream (data descriptors, ZIP64 when
//! needed) so the writer underneath can hash every byte as it passes; entries carry a fixed
//! timestamp and permissions so the same input always gives the same bytes.

use std::io::{self, Read, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// How entries are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Deflate, level 6.
    Deflate,
    /// Stored as is.
    Store,
}

fn zip_err(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// A zip being written to a stream.
pub struct ZipOut<W: Write> {
    zw: ZipWriter<zip::write::StreamWriter<W>>,
}

impl<W: Write> ZipOut<W> {
    /// Start a zip.
    pub fn new(w: W) -> Self {
        ZipOut { zw: ZipWriter::new_stream(w).set_auto_large_file() }
    }

    /// Start an entry; write its bytes with `Write`. `mtime` is UTC seconds (clamped to the DOS
    /// range 1980–2107); `large` must be true if it may pass 4 GiB.
    pub fn start(
        &mut self,
        name: &str,
        compression: Compression,
        mtime: Option<i64>,
        large: bool,
    ) -> io::Result<()> {
        let dt = mtime
            .and_then(crate::model::time::civil_utc)
            .and_then(|(y, mo, d, h, mi, s)| {
                zip::DateTime::from_date_and_time(y.clamp(1980, 2107) as u16, mo, d, h, mi, s).ok()
            })
            .unwrap_or_default();
        let opts = SimpleFileOptions::default()
            .compression_method(match compression {
                Compression::Deflate => CompressionMethod::Deflated,
                Compression::Store => CompressionMethod::Stored,
            })
            .compression_level(match compression {
                Compression::Deflate => Some(6),
                Compression::Store => None,
            })
            .last_modified_time(dt)
            .unix_permissions(0o644)
            .large_file(large);
        self.zw.start_file(name, opts).map_err(zip_err)
    }

    /// Finish the archive and hand back the stream.
    pub fn finish(self) -> io::Result<W> {
        self.zw.finish().map_err(zip_err).map(|s| s.into_inner())
    }
}

impl<W: Write> Write for ZipOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.zw.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.zw.flush()
    }
}

/// Visit every entry of a zip in order: its name and a reader of its uncompressed bytes (the CRC
/// is checked when the reader reaches the end).
pub fn for_each_entry<R: Read + io::Seek>(
    r: R,
    mut f: impl FnMut(&str, &mut dyn Read) -> io::Result<()>,
) -> io::Result<usize> {
    for_each_entry_sized(r, |name, _, entry| f(name, entry))
}

/// [`for_each_entry`], also handing over each entry's declared uncompressed size. The reader
/// fails once the entry inflates past that size, so a caller that refuses large declared sizes
/// up front bounds what it reads. An entry name that is not UTF-8 (or CP437) is an error.
pub fn for_each_entry_sized<R: Read + io::Seek>(
    r: R,
    mut f: impl FnMut(&str, u64, &mut dyn Read) -> io::Result<()>,
) -> io::Result<usize> {
    let mut archive = ZipArchive::new(r).map_err(zip_err)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        let name = entry.name().map_err(zip_err)?.into_owned();
        let size = entry.size();
        f(&name, size, &mut entry)?;
    }
    Ok(archive.len())
}

/// A zip archive nobody vouched for (a custodian's office file), read by entry name. Only the
/// central directory is read on opening; each entry is inflated only as far as the caller
/// reads it, so the caller's bound on what it reads bounds the work, whatever sizes the
/// archive declares.
pub struct ZipIn<R> {
    archive: ZipArchive<R>,
}

impl<R: Read + io::Seek> ZipIn<R> {
    /// Read the central directory of `r`. A file cut short (no end-of-central-directory record)
    /// or not a zip at all is an error.
    pub fn new(r: R) -> io::Result<Self> {
        Ok(ZipIn { archive: ZipArchive::new(r).map_err(zip_err)? })
    }

    /// Entry names in central-directory order (names that are not UTF-8 or CP437 left out).
    pub fn names(&self) -> Vec<String> {
        self.archive.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect()
    }

    /// Is there an entry called exactly `name`?
    pub fn contains(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// Hand `f` a reader of entry `name`'s inflated bytes; `None` when there is no such entry.
    /// An entry that cannot be read (encrypted, an unsupported compression method) is an
    /// error; a CRC mismatch is an error from the reader once it reaches the end.
    pub fn read<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Read) -> T,
    ) -> io::Result<Option<T>> {
        let Some(index) = self.archive.index_for_name(name) else {
            return Ok(None);
        };
        let mut entry = self.archive.by_index(index).map_err(zip_err)?;
        Ok(Some(f(&mut entry)))
    }
}
