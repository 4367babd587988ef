//! A read-only tantivy [`Directory`] over [`RangedFiles`]: the index of a published split read
//! by ranges from object storage instead of downloaded whole. tantivy asks for the footers of
//! the segment files when it opens them, then for the term dictionaries, postings and fast
//! field columns a query touches; each ask becomes a read of the blocks that cover it (checked
//! and cached by the [`RangedFiles`] implementation), so a selective search reads a small part
//! of the index. The shape is Quickwit's `StorageDirectory`, without its hot cache: the block
//! cache plays that part once a split has been searched.
//!
//! Writes are refused (a split never changes); locks are no-ops (nothing else writes here,
//! and tantivy's reader takes the meta lock only to keep a local garbage collector away);
//! `watch` registers nothing (readers reload manually).

use crate::store::RangedFiles;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::HasLen;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, OwnedBytes, WatchCallback, WatchHandle, WritePtr,
};

/// The index files under `prefix` (`index/`) of `files`, as a tantivy directory.
#[derive(Clone, Debug)]
pub(super) struct RangedDirectory {
    files: Arc<dyn RangedFiles>,
    prefix: String,
}

impl RangedDirectory {
    /// The directory of the files named `prefix` + a tantivy file name.
    pub(super) fn new(files: Arc<dyn RangedFiles>, prefix: &str) -> RangedDirectory {
        RangedDirectory { files, prefix: prefix.to_owned() }
    }

    fn name(&self, path: &Path) -> String {
        format!("{}{}", self.prefix, path.to_string_lossy())
    }

    fn read_only(&self, path: &Path) -> io::Error {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} {}: a published split is read-only",
                self.files.location(),
                self.name(path)
            ),
        )
    }
}

/// One file of a [`RangedDirectory`].
#[derive(Debug)]
struct RangedFile {
    files: Arc<dyn RangedFiles>,
    name: String,
    len: usize,
}

impl HasLen for RangedFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for RangedFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.start > range.end || range.end > self.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} {}: bytes {}..{} asked of a file of {}",
                    self.files.location(),
                    self.name,
                    range.start,
                    range.end,
                    self.len
                ),
            ));
        }
        let bytes = self.files.read(&self.name, range.start as u64..range.end as u64)?;
        Ok(OwnedBytes::new(bytes))
    }
}

impl Directory for RangedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let name = self.name(path);
        let len = self
            .files
            .len(&name)
            .ok_or_else(|| OpenReadError::FileDoesNotExist(path.to_path_buf()))?;
        let len = usize::try_from(len)
            .map_err(|e| OpenReadError::wrap_io_error(io::Error::other(e), path.to_path_buf()))?;
        Ok(Arc::new(RangedFile { files: self.files.clone(), name, len }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(self.read_only(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        Ok(self.files.len(&self.name(path)).is_some())
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::wrap_io_error(self.read_only(path), path.to_path_buf()))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        let name = self.name(path);
        let len = self
            .files
            .len(&name)
            .ok_or_else(|| OpenReadError::FileDoesNotExist(path.to_path_buf()))?;
        self.files
            .read(&name, 0..len)
            .map_err(|e| OpenReadError::wrap_io_error(e, PathBuf::from(path)))
    }

    fn atomic_write(&self, path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(self.read_only(path))
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        Ok(DirectoryLock::from(Box::new(())))
    }

    fn watch(&self, _callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }
}
