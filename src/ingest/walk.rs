//! A folder tree, depth first, each folder's entries in byte order of their names, without
//! following any link (`entry.rs` says why): what the Drive folder and Takeout adapters walk.
//! Lazy, so a tree of a million files is never listed whole; only the folders on the current
//! path are held.

use super::entry::Kind;
use std::path::{Path, PathBuf};

/// One entry below the root.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its path (root joined with its names).
    pub path: PathBuf,
    /// Its kind, the link not followed.
    pub kind: Kind,
    /// 1 for the root's own entries.
    pub depth: usize,
}

/// One entry, or the path and reason of one that could not be listed.
type Listed = Result<Entry, (PathBuf, String)>;

/// Every entry below `root` (not the root itself), or the path and reason of one that could not
/// be listed.
pub fn walk(root: &Path) -> impl Iterator<Item = Result<Entry, (PathBuf, String)>> + Send + use<> {
    let mut stack: Vec<(std::vec::IntoIter<Listed>, usize)> = vec![(list(root, 1).into_iter(), 1)];
    std::iter::from_fn(move || {
        loop {
            let (top, _) = stack.last_mut()?;
            match top.next() {
                None => {
                    stack.pop();
                }
                Some(Ok(e)) => {
                    if e.kind == Kind::Dir {
                        stack.push((list(&e.path, e.depth + 1).into_iter(), e.depth + 1));
                    }
                    return Some(Ok(e));
                }
                Some(Err(x)) => return Some(Err(x)),
            }
        }
    })
}

/// The entries of one folder, sorted by name.
fn list(dir: &Path, depth: usize) -> Vec<Result<Entry, (PathBuf, String)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return vec![Err((dir.to_path_buf(), format!("cannot list: {e}")))],
    };
    let mut out: Vec<Result<Entry, (PathBuf, String)>> = rd
        .map(|e| {
            let e = e.map_err(|err| (dir.to_path_buf(), format!("cannot list: {err}")))?;
            let t = e.file_type().map_err(|err| (e.path(), format!("cannot read: {err}")))?;
            Ok(Entry { path: e.path(), kind: Kind::of(t), depth })
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |x: &Result<Entry, (PathBuf, String)>| match x {
            Ok(e) => e.path.clone(),
            Err((p, _)) => p.clone(),
        };
        key(a).cmp(&key(b))
    });
    out
}
