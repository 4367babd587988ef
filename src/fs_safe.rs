//! Opening a file that must be a regular file, in a folder somebody else controls (an evidence
//! source, an export folder): never through a symbolic link, never blocking on a FIFO.
//!
//! Both ingest and `verify` read folders that may have been built to hurt the reader: a link
//! pulls an outside file in (`cur -> /etc`), a FIFO blocks an `open` forever, a device streams
//! without end. The open itself refuses a link (`O_NOFOLLOW`) and does not block (`O_NONBLOCK`),
//! and the opened handle must be a regular file, so there is no window between checking a name
//! and opening it. The only user of `libc` (for the two flag values).

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

/// What a name that is not a regular file is, in words.
pub fn kind(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() {
        return "a symbolic link";
    }
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a plain file"
}

/// Why a name could not be opened as a regular file.
#[derive(Debug)]
pub enum NotRegular {
    /// It is something else (`kind` says what).
    Kind(&'static str),
    /// The file system said no.
    Io(io::Error),
}

/// Open `path` for reading if, and only if, it is a regular file reached without following a
/// link at its last component; its metadata with it.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), NotRegular> {
    // Look first: a link or FIFO is refused by name, with its kind, without an open.
    let before = std::fs::symlink_metadata(path).map_err(NotRegular::Io)?;
    if !before.file_type().is_file() {
        return Err(NotRegular::Kind(kind(&before)));
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Swapped for a link or a FIFO since the look: the open fails or returns at once.
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::ELOOP) => NotRegular::Kind("a symbolic link"),
        _ => NotRegular::Io(e),
    })?;
    let after = file.metadata().map_err(NotRegular::Io)?;
    if !after.file_type().is_file() {
        return Err(NotRegular::Kind(kind(&after)));
    }
    Ok((file, after))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_folders_are_refused_by_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        std::os::unix::fs::symlink(&file, tmp.path().join("l")).unwrap();
        let fifo = tmp.path().join("p");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(open_regular(&file).is_ok());
        for (name, want) in [("l", "a symbolic link"), ("p", "a FIFO"), ("", "a folder")] {
            match open_regular(&tmp.path().join(name)) {
                Err(NotRegular::Kind(k)) => assert_eq!(k, want),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
