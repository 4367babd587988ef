//! A file written whole or not at all: under `.<name>.partial` beside its final name, hashed
//! (MD5) as it is written, then synced and renamed into place. A reader (or a killed run's
//! successor) finds the whole file under its name or nothing there; a leftover `.partial` is
//! never taken for the file. One implementation for every writer that needs it: an export's
//! files (`export::files::FileOut`), an organisation export's zips and root files, a backup.

use crate::digest::{Md5, Md5Writer};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written under its temporary name.
pub struct PartialFile {
    tmp: PathBuf,
    path: PathBuf,
    w: Md5Writer<BufWriter<File>>,
}

impl PartialFile {
    /// Start `dir/name`, written as `dir/.name.partial` until [`finish`](Self::finish)ed (an
    /// earlier leftover of that temporary name is truncated).
    pub fn create(dir: &Path, name: &str) -> io::Result<PartialFile> {
        let tmp = dir.join(format!(".{name}.partial"));
        let w = Md5Writer::new(BufWriter::with_capacity(1 << 20, File::create(&tmp)?));
        Ok(PartialFile { tmp, path: dir.join(name), w })
    }

    /// The temporary name, for errors while writing.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flush, sync (data and metadata) and rename into place; the MD5 and length written.
    pub fn finish(self) -> io::Result<(Md5, u64)> {
        let (buf, md5, size) = self.w.finish();
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)?;
        Ok((md5, size))
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.w.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_whole_under_its_name_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = PartialFile::create(dir.path(), "a.txt").unwrap();
        f.write_all(b"hello ").unwrap();
        f.write_all(b"world").unwrap();
        assert!(!dir.path().join("a.txt").exists());
        assert_eq!(f.tmp_path(), dir.path().join(".a.txt.partial"));
        let (md5, size) = f.finish().unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"hello world");
        assert_eq!((md5, size), (Md5::of(b"hello world"), 11));
        assert!(!dir.path().join(".a.txt.partial").exists());
    }
}
