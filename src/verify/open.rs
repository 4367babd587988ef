//! Opening the files of an export folder without trusting them: only regular files that sit
//! directly in the folder are read, a symbolic link is never followed, and anything else (a FIFO,
//! a device, a folder, a socket) is named as a problem instead of being opened and read, since
//! reading a FIFO without a writer blocks forever and reading `/dev/zero` never ends.
//!
//! The checks are the crate's one safe open (`fs_safe`): a link or FIFO is refused by name, and
//! the open itself (`O_NOFOLLOW | O_NONBLOCK`) refuses one swapped in after that look.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Open `dir/name` for reading if it is a regular file; its size with it. `Err` is the problem
/// text, without the name.
pub(super) fn open_regular(dir: &Path, name: &str) -> Result<(File, u64), String> {
    match crate::fs_safe::open_regular(&dir.join(name)) {
        Ok((f, m)) => Ok((f, m.len())),
        Err(crate::fs_safe::NotRegular::Kind(k)) => Err(format!("not a regular file ({k})")),
        Err(crate::fs_safe::NotRegular::Io(e)) => Err(e.to_string()),
    }
}

/// The whole of `dir/name` if it is a regular file of at most `max` bytes (checked before
/// reading, and again while reading in case it grows).
pub(super) fn read_capped(dir: &Path, name: &str, max: u64) -> Result<Vec<u8>, String> {
    let (file, len) = open_regular(dir, name)?;
    if len > max {
        return Err(format!("larger than {max} bytes ({len}); not read"));
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {max} bytes; not read"));
    }
    Ok(bytes)
}

/// The MD5 of a regular file, streamed.
pub(super) fn md5_of(dir: &Path, name: &str) -> Result<crate::digest::Md5, String> {
    let (mut f, _) = open_regular(dir, name)?;
    let mut h = crate::digest::Md5Hasher::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e: io::Error| e.to_string())?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
}
