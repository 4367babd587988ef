//! One attempt at writing a part of an export in parts, in its own folder (issue 14).
//!
//! A task engine may run a retry of a part while the first attempt is still alive (a worker
//! declared lost whose process still runs). If both wrote the same files, their partial writes
//! would interleave. So each attempt writes into `part-K/attempt-<id>/`, a folder no other
//! attempt touches, and the part is committed by `part-K/part.json` naming that folder, created
//! by one create-only step (a hard link of a finished, synced file: the name appears whole or
//! not at all, and a second attempt's link fails with "exists").
//!
//! An attempt holds an exclusive lock (`flock`) on `part-K/attempt-<id>.lock` from before its
//! folder exists until it ends; the kernel drops the lock when the process dies, however it
//! dies. That is how a leftover is told from a live attempt: [`remove_dead`] removes only the
//! attempt folders whose lock it can take (their writer is gone) and never the committed one.
//! On file systems where `flock` is not shared between machines (some NFS set-ups) a live
//! attempt on another machine would look dead: the part folder must then be on storage whose
//! locks every worker sees (SCALING.md).

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Attempt folders are named `attempt-<id>`.
const PREFIX: &str = "attempt-";
/// An attempt's lock file is `attempt-<id>.lock`, beside its folder.
const LOCK_SUFFIX: &str = ".lock";

/// A live attempt: its folder, and the lock that says it is alive. Dropped without
/// [`Attempt::keep`], it removes its own folder (a failed attempt leaves nothing behind).
#[derive(Debug)]
pub struct Attempt {
    /// `part-K/attempt-<id>`.
    pub dir: PathBuf,
    /// `attempt-<id>`: what `part.json` records.
    pub name: String,
    lock_path: PathBuf,
    lock: Option<File>,
    keep: bool,
}

impl Attempt {
    /// Start an attempt in the part folder `part`: take the lock, then make the folder (in that
    /// order, so that a folder whose lock is free is always a dead attempt's).
    pub fn start(part: &Path) -> io::Result<Attempt> {
        std::fs::create_dir_all(part)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for n in 0u32..1000 {
            let name = format!("{PREFIX}{}-{now:x}-{n}", std::process::id());
            let lock_path = part.join(format!("{name}{LOCK_SUFFIX}"));
            let lock =
                match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock_path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                };
            lock.lock()?;
            let dir = part.join(&name);
            std::fs::create_dir(&dir)?;
            return Ok(Attempt { dir, name, lock_path, lock: Some(lock), keep: false });
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: no free attempt name", part.display()),
        ))
    }

    /// The attempt is the committed one: keep its folder, drop its lock file.
    pub fn keep(mut self) {
        self.keep = true;
        let _ = std::fs::remove_file(&self.lock_path);
        self.lock = None;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: what is left is removed by the next successful attempt or the merge.
            let _ = std::fs::remove_dir_all(&self.dir);
            let _ = std::fs::remove_file(&self.lock_path);
        }
    }
}

/// Commit: make `to` (the part's `part.json`) the finished file `from` by a hard link, which
/// fails when `to` exists. `Ok(false)`: another attempt committed first. Where the file system
/// has no hard links, the file is copied into a file created exclusively (then a crash midway
/// can leave a short `part.json`, which the part's check refuses by name).
pub fn commit_file(from: &Path, to: &Path) -> io::Result<bool> {
    let created = match std::fs::hard_link(from, to) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(_) => match std::fs::OpenOptions::new().write(true).create_new(true).open(to) {
            Ok(mut f) => {
                io::copy(&mut File::open(from)?, &mut f)?;
                f.sync_all()?;
                true
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e),
        },
    };
    if created && let Some(parent) = to.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(created)
}

/// Remove from the part folder `part` what no live or committed attempt owns: attempt folders
/// whose lock is free (their writer died) with their lock files, and anything else but
/// `keep_file` (`part.json`), the committed attempt `committed` (`""`: a part committed in the
/// older layout, whose files are in `part` itself, so nothing but dead attempt folders goes),
/// and lock files (removed with
/// their folder, or by their owner: an empty lock file of an attempt that died between taking
/// its lock and making its folder stays, harmless). Best effort: what cannot be removed now is
/// left for the next call. Returns how many entries were removed.
pub fn remove_dead(part: &Path, keep_file: &str, committed: Option<&str>) -> usize {
    let Ok(entries) = std::fs::read_dir(part) else { return 0 };
    let mut names: Vec<String> =
        entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    let legacy = committed.is_some_and(str::is_empty);
    let mut removed = 0;
    for name in &names {
        let is_lock = name.starts_with(PREFIX) && name.ends_with(LOCK_SUFFIX);
        if name == keep_file || Some(name.as_str()) == committed || is_lock {
            continue;
        }
        let path = part.join(name);
        if !name.starts_with(PREFIX) {
            // Not an attempt's. When the committed part is of the older layout (committed
            // attempt "": its files sit in the part folder itself) these are its files, never
            // removed; otherwise a leftover of an older layout or a stray file.
            if !legacy {
                removed += usize::from(remove_any(&path));
            }
            continue;
        }
        // An attempt takes its lock before it makes its folder: a folder whose lock is held is
        // live; one whose lock is free, or gone, is a dead attempt's.
        let lock_path = part.join(format!("{name}{LOCK_SUFFIX}"));
        let lock = match File::open(&lock_path) {
            Ok(f) => match f.try_lock() {
                Ok(()) => Some(f),
                Err(TryLockError::WouldBlock | TryLockError::Error(_)) => continue,
            },
            Err(_) => None,
        };
        removed += usize::from(remove_any(&path));
        if lock.is_some() && std::fs::remove_file(&lock_path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Remove a file or folder; true if something was removed.
fn remove_any(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).is_ok(),
        Ok(_) => std::fs::remove_file(path).is_ok(),
        Err(_) => false,
    }
}
