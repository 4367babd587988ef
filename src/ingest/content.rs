//! Content files named by a JSON Lines source: resolved under the source's root, never outside
//! it, and read as streams.
//!
//! A path in an input line is untrusted text: an absolute path, a `..`, or a symbolic link on the
//! way could make ingest copy any file of the machine into the evidence. [`resolve`] accepts only
//! relative paths of plain names, and walks them below the root without following a link at any
//! step (the rule `entry.rs` states for folders). [`hash_file`] then hashes the file in pieces
//! and keeps only the prefix text extraction needs, so memory is bounded by `Limits`, not by the
//! file (a 500 MB text file is hashed, its first text cap's worth indexed).

use crate::Limits;
use crate::digest::{Md5, Md5Hasher};
use crate::extract::Extracted;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// A content path checked against the root: the file it names and its size.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The file (root joined with the relative path).
    pub path: PathBuf,
}

/// Resolve `rel` under `root`: a relative path of plain names whose every step below the root is
/// a folder (not a link) and whose last is a regular file. The error says why not, in words a
/// rejection can carry.
pub fn resolve(root: &Path, rel: &str) -> Result<Resolved, String> {
    if rel.is_empty() {
        return Err("content path is empty".to_owned());
    }
    if rel.contains('\0') {
        return Err(format!("content path {rel:?} holds a NUL byte"));
    }
    let p = Path::new(rel);
    if p.is_absolute() || rel.starts_with('/') || rel.starts_with('\\') {
        return Err(format!("content path {rel:?} is absolute: give it relative to the root"));
    }
    let mut at = root.to_path_buf();
    let comps: Vec<Component<'_>> = p.components().collect();
    for (i, c) in comps.iter().enumerate() {
        match c {
            Component::Normal(name) => at.push(name),
            Component::CurDir => continue,
            Component::ParentDir => {
                return Err(format!("content path {rel:?} has `..`: it must stay under the root"));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "content path {rel:?} is absolute: give it relative to the root"
                ));
            }
        }
        let meta = std::fs::symlink_metadata(&at)
            .map_err(|e| format!("content file {rel:?} not found under the root: {e}"))?;
        let last = i + 1 == comps.len();
        let t = meta.file_type();
        if t.is_symlink() {
            return Err(format!(
                "content path {rel:?} goes through a symbolic link ({}): links are not followed, \
                 so nothing outside the root can be read",
                at.display()
            ));
        }
        if last && !t.is_file() {
            return Err(format!("content path {rel:?} is not a regular file"));
        }
        if !last && !t.is_dir() {
            return Err(format!("content path {rel:?}: {} is not a folder", at.display()));
        }
        if last {
            return Ok(Resolved { path: at });
        }
    }
    Err(format!("content path {rel:?} names no file"))
}

/// What reading a content file gave.
pub struct FileRead {
    /// MD5 of all of it.
    pub md5: Md5,
    /// Its length.
    pub size: u64,
    /// Its searchable text, when asked for.
    pub extracted: Option<Extracted>,
}

/// Hash the file at `path` (opened without following a link) and, when `text` gives its name
/// and MIME type, extract the searchable text from the prefix extraction needs.
pub fn hash_file(
    path: &Path,
    text: Option<(&str, Option<&str>)>,
    limits: &Limits,
) -> Result<FileRead, String> {
    let (mut file, meta) = crate::fs_safe::open_regular(path).map_err(|e| match e {
        crate::fs_safe::NotRegular::Kind(k) => {
            format!("content file {} is {k}: not read", path.display())
        }
        crate::fs_safe::NotRegular::Io(e) => {
            format!("content file {} cannot be read: {e}", path.display())
        }
    })?;
    let size_hint = meta.len();
    let mut md5 = Md5Hasher::new();
    let mut head: Vec<u8> = Vec::new();
    // How much of the file extraction wants: decided from the first 8 KiB.
    let mut want: Option<u64> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("content file {} cannot be read: {e}", path.display())),
        };
        let piece = buf.get(..n).unwrap_or_default();
        md5.update(piece);
        size += n as u64;
        if let Some((name, mime)) = text {
            match want {
                None => {
                    head.extend_from_slice(piece);
                    if head.len() >= 8192 {
                        let w = crate::extract::prefix_needed(&head, size_hint, name, mime, limits);
                        head.truncate(usize::try_from(w).unwrap_or(usize::MAX));
                        want = Some(w);
                    }
                }
                Some(w) => {
                    let room = w.saturating_sub(head.len() as u64).min(n as u64) as usize;
                    head.extend_from_slice(piece.get(..room).unwrap_or_default());
                }
            }
        }
    }
    let extracted =
        text.map(|(name, mime)| crate::extract::extract_prefix(&head, size, name, mime, limits));
    Ok(FileRead { md5: md5.finish(), size, extracted })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let dir = std::env::temp_dir().join(format!("edisc-content-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.txt"), b"hello").unwrap();
        assert_eq!(resolve(&dir, "sub/a.txt").unwrap().path, dir.join("sub/a.txt"));
        assert_eq!(resolve(&dir, "./sub/a.txt").unwrap().path, dir.join("sub/a.txt"));
        for (bad, why) in [
            ("/etc/passwd", "absolute"),
            ("../x", "`..`"),
            ("sub/../sub/a.txt", "`..`"),
            ("sub/missing", "not found"),
            ("sub", "not a regular file"),
            ("", "empty"),
        ] {
            let e = resolve(&dir, bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.join("out")).unwrap();
            let e = resolve(&dir, "out/passwd").unwrap_err();
            assert!(e.contains("symbolic link"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hashing_streams_and_keeps_a_bounded_prefix() {
        let dir = std::env::temp_dir().join(format!("edisc-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big: Vec<u8> = b"word ".iter().copied().cycle().take(3 << 20).collect();
        std::fs::write(dir.join("big.txt"), &big).unwrap();
        let limits = Limits { extract_text_bytes: 64 << 10, ..Limits::default() };
        let r = hash_file(&dir.join("big.txt"), Some(("big.txt", Some("text/plain"))), &limits)
            .unwrap();
        assert_eq!(r.md5, Md5::of(&big));
        assert_eq!(r.size, big.len() as u64);
        let x = r.extracted.unwrap();
        assert!(x.text.len() <= 64 << 10);
        assert!(x.defects().iter().any(|d| d.kind() == "text_truncated"), "{:?}", x.defects());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
