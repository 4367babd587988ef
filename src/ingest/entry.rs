//! Folder entries of Maildir and `.eml` sources: what each one is, read without following a link
//! and without opening anything that is not a regular file.
//!
//! Ingest never follows a symbolic link below the path it was given, to a folder or to a file,
//! inside the source or outside it: a link in an evidence folder could pull any file of the
//! machine (`cur -> /etc`) into the evidence. Every link met is a [`SYMLINK`] rejection, so the
//! report counts it and the ingest is not clean. The path the user gave is theirs and is
//! followed. Entries are classified with `DirEntry::file_type`, which does not follow links, and
//! a FIFO, socket or device is never opened (opening a FIFO blocks forever).

use std::ffi::OsStr;
use std::fs::{FileType, Metadata};
use std::io::Read;
use std::path::Path;

/// Why a symbolic link was not read.
pub const SYMLINK: &str = "symbolic link: not followed (ingest never follows links; copy the target in if it belongs to the evidence)";

/// Why a FIFO, socket or device was not read.
pub const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device): not read";

/// What a folder entry is, its link not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
    /// A FIFO, socket or device (never opened).
    Other,
}

impl Kind {
    /// The kind of a `file_type()` of a `DirEntry` or of `symlink_metadata`.
    pub fn of(t: FileType) -> Kind {
        if t.is_symlink() {
            Kind::Symlink
        } else if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File
        } else {
            Kind::Other
        }
    }
}

/// The bytes of the regular file at `path` and its metadata, or why it was not read: a link, a
/// folder, a FIFO, socket or device is refused by the open itself (see `fs_safe`), never read.
pub fn read_regular(path: &Path) -> Result<(Vec<u8>, Metadata), String> {
    read_regular_capped(path, u64::MAX)
}

/// [`read_regular`], refusing a file over `max` bytes by its size before reading it (and
/// never reading more than `max` bytes should it grow meanwhile).
pub fn read_regular_capped(path: &Path, max: u64) -> Result<(Vec<u8>, Metadata), String> {
    let (mut file, meta) = crate::fs_safe::open_regular(path).map_err(|e| match e {
        crate::fs_safe::NotRegular::Kind("a symbolic link") => SYMLINK.to_owned(),
        crate::fs_safe::NotRegular::Kind("a folder") => "a folder, not a file: not read".to_owned(),
        crate::fs_safe::NotRegular::Kind(_) => NOT_REGULAR.to_owned(),
        crate::fs_safe::NotRegular::Io(e) => format!("cannot read: {e}"),
    })?;
    if meta.len() > max {
        return Err(format!("{} bytes: over the {max}-byte cap for this kind of file", meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    let mut limited = (&mut file).take(max.saturating_add(1));
    limited.read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!("grew past the {max}-byte cap while it was read"));
    }
    Ok((bytes, meta))
}

/// A file or folder name as text, and whether it had to be escaped: valid UTF-8 is kept as it
/// is, every byte that is not is written `\xNN`. Unlike a lossy conversion (every bad byte
/// becomes U+FFFD), two different names stay two different labels and source keys.
pub fn name_text(name: &OsStr) -> (String, bool) {
    #[cfg(unix)]
    {
        use std::fmt::Write;
        use std::os::unix::ffi::OsStrExt;
        let (mut out, mut escaped) = (String::new(), false);
        for chunk in name.as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                escaped = true;
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        (out, escaped)
    }
    #[cfg(not(unix))]
    {
        match name.to_str() {
            Some(s) => (s.to_owned(), false),
            None => (name.to_string_lossy().into_owned(), true),
        }
    }
}

/// The notice for a name that is not UTF-8.
pub fn non_utf8_notice(shown: &str) -> String {
    format!(
        "name is not UTF-8: ingested, its label and source key show each byte that is not as \\xNN ({shown})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_not_lost() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            assert_eq!(name_text(OsStr::from_bytes(b"Caf\xe9")), ("Caf\\xe9".to_owned(), true));
            assert_eq!(name_text(OsStr::from_bytes(b"Caf\xc3\xa9")), ("Café".to_owned(), false));
        }
    }

    #[test]
    fn a_capped_read_refuses_a_larger_file_by_its_size() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        assert_eq!(read_regular_capped(&p, 100).unwrap().0.len(), 100);
        let e = read_regular_capped(&p, 99).unwrap_err();
        assert!(e.contains("100 bytes: over the 99-byte cap"), "{e}");
    }
}
