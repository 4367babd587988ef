//! Opening the files of an export folder without trusting them: only regular files that sit
//! directly in the folder are read, a symbolic link is never followed, and anything else (a FIFO,
//! a device, a folder, a socket) is named as a problem instead of being opened and read, since
//! reading a FIFO without a writer blocks forever and reading `/dev/zero` never ends.
//!
//! The name is checked with `symlink_metadata` first, then opened, then the opened file itself is
//! checked (type, and on Unix that it is the same inode the name pointed to), so a file swapped
//! between the check and the open is refused too. On Linux the open also asks for `O_NONBLOCK`,
//! so even a FIFO swapped in at that moment cannot block the open; a regular file ignores the
//! flag.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// `O_NONBLOCK` where its value is known without the `libc` crate (the value is the same on all
/// of these); 0 (no flag) elsewhere, where only the check-open-check order protects.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
)))]
const O_NONBLOCK: i32 = 0;

/// What a name that is not a regular file is, in words.
fn kind(m: &Metadata) -> &'static str {
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

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &Metadata, _: &Metadata) -> bool {
    true
}

/// Open `dir/name` for reading if it is a regular file; its size with it. `Err` is the problem
/// text, without the name.
pub(super) fn open_regular(dir: &Path, name: &str) -> Result<(File, u64), String> {
    let path = dir.join(name);
    let before = std::fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
    if !before.file_type().is_file() {
        return Err(format!("not a regular file ({})", kind(&before)));
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(O_NONBLOCK);
    }
    let file = opts.open(&path).map_err(|e| e.to_string())?;
    let after = file.metadata().map_err(|e| e.to_string())?;
    if !after.file_type().is_file() {
        return Err(format!("not a regular file ({})", kind(&after)));
    }
    if !same_file(&before, &after) {
        return Err("replaced while being opened".to_owned());
    }
    Ok((file, after.len()))
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
