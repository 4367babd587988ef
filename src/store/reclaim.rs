//! Giving back the disk space of blob bytes no live record references, by punching holes in
//! the packs (`fallocate(PUNCH_HOLE | KEEP_SIZE)`).
//!
//! Why holes and not rewritten packs: a record's `BlobRef` names its pack and offset, in the
//! record table's rows, key rows and in every export plan already made. A hole frees the blocks
//! and leaves every offset where it was, so nothing else is rewritten, nothing moves, and a crash
//! at any moment leaves packs whose referenced bytes are untouched (punching is idempotent: the
//! next reclaim punches what this one did not reach). The pack's length does not change; reading
//! a hole gives zeros, which only a reader of a purged record could meet (its CRC-32 or MD5 check
//! then reports the bytes as damaged).
//!
//! Only Linux filesystems that support hole punching (ext4, XFS, Btrfs, tmpfs) free anything;
//! elsewhere [`punch`] says so and the space stays in use.

use std::fs::File;
use std::io;

/// Punch a hole over `len` bytes at `offset` of `file`, keeping its size. `Ok(false)`: the
/// filesystem or platform cannot (nothing changed).
#[cfg(target_os = "linux")]
pub(crate) fn punch(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    use rustix::fs::{FallocateFlags, fallocate};
    if len == 0 {
        return Ok(true);
    }
    match fallocate(file, FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE, offset, len) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => Ok(false),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Punch a hole (not on this platform: nothing changes).
#[cfg(not(target_os = "linux"))]
pub(crate) fn punch(_file: &File, _offset: u64, _len: u64) -> io::Result<bool> {
    Ok(false)
}

/// The gaps between `used` ranges (`(start, end)`, any order, may overlap) inside `0..len`.
pub(crate) fn gaps(mut used: Vec<(u64, u64)>, len: u64) -> Vec<(u64, u64)> {
    used.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0u64;
    for (start, end) in used {
        let start = start.min(len);
        if start > at {
            out.push((at, start));
        }
        at = at.max(end.min(len));
    }
    if at < len {
        out.push((at, len));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_the_complement_of_the_used_ranges() {
        assert_eq!(gaps(vec![], 10), vec![(0, 10)]);
        assert_eq!(gaps(vec![(0, 10)], 10), vec![]);
        assert_eq!(gaps(vec![(6, 8), (2, 4)], 10), vec![(0, 2), (4, 6), (8, 10)]);
        // Overlapping and nested ranges, and one past the end.
        assert_eq!(gaps(vec![(2, 6), (3, 4), (5, 7), (9, 20)], 10), vec![(0, 2), (7, 9)]);
        assert_eq!(gaps(vec![(2, 2)], 4), vec![(0, 2), (2, 4)]);
    }

    #[test]
    fn a_punched_range_reads_as_zeros_and_the_rest_is_kept() {
        use std::io::{Read, Seek, SeekFrom, Write};
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("p");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let data: Vec<u8> = (0..3 * 65536u32).map(|i| (i % 251) as u8 + 1).collect();
        f.write_all(&data).unwrap();
        f.sync_all().unwrap();
        if !punch(&f, 65536, 65536).unwrap() {
            eprintln!("SKIPPED: this filesystem cannot punch holes");
            return;
        }
        let mut back = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), data.len(), "the size is kept");
        assert_eq!(back[..65536], data[..65536]);
        assert!(back[65536..131072].iter().all(|&b| b == 0));
        assert_eq!(back[131072..], data[131072..]);
    }
}
