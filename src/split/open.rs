//! `open_split`: a split's manifest checked, then opened as a collection without packs. A split
//! with a block list (`blocks.json`) is opened in place: its small record-table files are
//! fetched into a local cache (each file's MD5 checked), its index and record data are read by
//! checked, cached blocks ([`super::ranged`]). A split without one (published before block
//! lists), or any split when [`READ_VAR`]`=whole` asks for it, has its index and record table
//! fetched whole into the cache, as before. Blobs are read from the store by ranged GETs when
//! asked.

use super::SplitError;
use super::io_err;
use super::manifest::{self, BlockList, SplitFile, SplitManifest};
use super::ranged::{SplitFiles, cache_budget};
use super::remote::{Remote, StoreConfig};
use crate::Collection;
use crate::digest::Md5;
use crate::model::{BlobRef, DocId, Part, Record};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Variable that makes every split open the old way, its index and record table downloaded
/// whole into the cache (`EDISCOVERY_SPLIT_READ=whole`): for a searcher that will run many
/// queries against the same splits and has the disk, and for measuring one way against the
/// other. Unset (or anything else), splits with a block list are read by ranges.
pub const READ_VAR: &str = "EDISCOVERY_SPLIT_READ";

/// A split opened for searching: its manifest, its record table and index as a
/// [`Collection`] (read by ranges, or a local copy), and the store its packs stay in.
pub struct Split {
    url: String,
    base: String,
    manifest: SplitManifest,
    remote: Arc<Remote>,
    collection: Collection,
    local: PathBuf,
    /// The index and record data's blocks, when read by ranges.
    ranged: Option<Arc<SplitFiles>>,
    /// Bytes of whole files downloaded when opening (none for files already cached).
    fetched_whole: u64,
}

impl std::fmt::Debug for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Split").field("url", &self.url).field("local", &self.local).finish()
    }
}

/// `URL/splits/<id>` → (`URL`, `<id>`).
pub(super) fn split_url_parts(url: &str) -> Result<(&str, &str), SplitError> {
    let url = url.trim_end_matches('/');
    let bad = |reason: &str| SplitError::Url { url: url.to_owned(), reason: reason.to_owned() };
    let (root, id) = url
        .rsplit_once("/splits/")
        .ok_or_else(|| bad("a split URL ends in /splits/<id> (publish prints it)"))?;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("the split id is 32 hex digits"));
    }
    Ok((root, id))
}

/// Read and check the manifest of the split at `remote`'s `splits/<id>`.
pub(super) fn read_manifest(remote: &Remote, id: &str) -> Result<SplitManifest, SplitError> {
    let url = format!("{}/splits/{id}", remote.url());
    let bytes = remote
        .get(&format!("splits/{id}/manifest.json"))?
        .ok_or_else(|| SplitError::NoManifest { url: url.clone() })?;
    let m = SplitManifest::parse(&bytes, &url)?;
    if m.split_id != id {
        return Err(SplitError::BadManifest {
            url,
            reason: format!("it names split {}, found under {id}", m.split_id),
        });
    }
    Ok(m)
}

fn hash_local(path: &Path) -> Result<Option<(u64, Md5)>, SplitError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut h = crate::digest::Md5Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n_all = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_all += n as u64;
    }
    Ok(Some((n_all, h.finish())))
}

/// Bring one file of the split into `local`, unless a copy with its size and MD5 is there.
/// Returns the bytes downloaded.
fn fetch(
    remote: &Remote,
    base: &str,
    url: &str,
    f: &SplitFile,
    local: &Path,
) -> Result<u64, SplitError> {
    let dest = local.join(&f.name);
    if hash_local(&dest)? == Some((f.size, f.md5)) {
        return Ok(0);
    }
    let key = format!("{base}/{}", f.name);
    match remote.size(&key)? {
        Some(n) if n == f.size => {}
        found => {
            return Err(SplitError::SizeMismatch {
                url: url.to_owned(),
                file: f.name.clone(),
                expected: f.size,
                actual: found.unwrap_or(0),
            });
        }
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    // Beside the file, named for this process: two searches sharing a cache never write one
    // file together, and a rename puts only checked bytes under the real name.
    let mut partial = dest.clone().into_os_string();
    partial.push(format!(".{}.partial", std::process::id()));
    let partial = PathBuf::from(partial);
    let mut out = BufWriter::new(File::create(&partial).map_err(io_err(&partial))?);
    let got = remote.download(&key, f.size, &mut out, &partial);
    let flushed = out.flush().map_err(io_err(&partial));
    let md5 = match got.and_then(|m| flushed.map(|()| m)) {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    if md5 != f.md5 {
        let _ = fs::remove_file(&partial);
        return Err(SplitError::Md5Mismatch {
            url: url.to_owned(),
            file: f.name.clone(),
            expected: f.md5,
            actual: md5,
        });
    }
    fs::rename(&partial, &dest).map_err(io_err(&dest))?;
    Ok(f.size)
}

/// Open the split at `url` (`ROOT/splits/<id>`, as [`super::publish`] names it): check its
/// manifest and open it. With a block list, the record table's small files are fetched into
/// `cache_dir/<id>/` and the index and record data are read by ranges; without one (or with
/// [`READ_VAR`]`=whole`), every file but the packs is fetched there. A copy already in the
/// cache with the manifest's size and MD5 is kept. Nothing is trusted from the cache or the
/// store without its MD5 (of the file, or of each block read) matching the manifest's.
pub fn open_split(url: &str, cache_dir: &Path, cfg: &StoreConfig) -> Result<Split, SplitError> {
    let (root, id) = split_url_parts(url)?;
    let remote = Remote::open_existing(root, cfg)?;
    let manifest = read_manifest(&remote, id)?;
    open_with(remote, manifest, cache_dir)
}

/// Whether the environment asks for splits to be downloaded whole ([`READ_VAR`]).
fn whole_asked() -> bool {
    std::env::var(READ_VAR).is_ok_and(|v| v.trim() == "whole")
}

/// [`open_split`] for a manifest already read from `remote`.
pub(super) fn open_with(
    remote: Remote,
    manifest: SplitManifest,
    cache_dir: &Path,
) -> Result<Split, SplitError> {
    let base = format!("splits/{}", manifest.split_id);
    let url = format!("{}/{base}", remote.url());
    let local = cache_dir.join(&manifest.split_id);
    fs::create_dir_all(&local).map_err(io_err(&local))?;
    let ranged = manifest.file(manifest::BLOCKS_FILE).is_some() && !whole_asked();
    let mut fetched_whole = 0;
    for f in manifest.files.iter().filter(|f| !f.name.starts_with("packs/")) {
        if ranged && manifest::read_by_blocks(&f.name) {
            continue;
        }
        fetched_whole += fetch(&remote, &base, &url, f, &local)?;
    }
    let remote = Arc::new(remote);
    let (collection, ranged) = if ranged {
        let path = local.join(manifest::BLOCKS_FILE);
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let list = BlockList::parse(&bytes, &url, &manifest)?;
        let disk = Some(local.join("blocks"));
        let files =
            Arc::new(SplitFiles::new(&url, &base, remote.clone(), list, cache_budget(), disk));
        let c =
            Collection::open_ranged(&local, files.clone(), &url).map_err(|e| named(&files, e))?;
        (c, Some(files))
    } else {
        (Collection::open_without_packs(&local)?, None)
    };
    if collection.store().len() != manifest.records {
        return Err(SplitError::BadManifest {
            url,
            reason: format!(
                "{} records, the published collection holds {}",
                manifest.records,
                collection.store().len()
            ),
        });
    }
    Ok(Split { url, base, manifest, remote, collection, local, ranged, fetched_whole })
}

/// An error opening a split in place: the first failed ranged read's own error when there was
/// one (it names the split, the file and the block, where tantivy's wrapping of it, shown with
/// Rust's debug formatting, would bury it), else the error as it is.
fn named(files: &SplitFiles, e: crate::Error) -> SplitError {
    files.take_failure().unwrap_or_else(|| e.into())
}

/// A pack's file name in a split.
fn pack_name(pack: u32) -> String {
    format!("packs/{pack:06}.pack")
}

impl Split {
    /// The split's URL (`ROOT/splits/<id>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its manifest.
    pub fn manifest(&self) -> &SplitManifest {
        &self.manifest
    }

    /// The local copy, opened for searching (no packs: reading stored bytes goes through
    /// [`part_bytes`](Self::part_bytes)).
    pub fn collection(&self) -> &Collection {
        &self.collection
    }

    /// The local copy's folder (the record table's small files when read by ranges).
    pub fn local_dir(&self) -> &Path {
        &self.local
    }

    /// Whether the index and record data are read by ranges (else they were downloaded whole).
    pub fn is_ranged(&self) -> bool {
        self.ranged.is_some()
    }

    /// Ranged GETs of index and record-data blocks so far (0 when downloaded whole).
    pub fn fetched_gets(&self) -> u64 {
        self.ranged.as_ref().map_or(0, |r| r.gets())
    }

    /// Bytes of the index and record table fetched from the store so far: whole files
    /// downloaded when opening (not those found in the cache) plus the blocks read since. Pack
    /// bytes are not counted.
    pub fn fetched_bytes(&self) -> u64 {
        self.fetched_whole + self.ranged.as_ref().map_or(0, |r| r.fetched_bytes())
    }

    /// The stored bytes of one part of a record of this split: one ranged GET of its pack in the
    /// store, checked against the part's MD5.
    pub fn part_bytes(&self, rec: &Record, part: &Part) -> Result<Vec<u8>, SplitError> {
        self.blob_bytes(rec.doc_id, &part.blob)
    }

    /// The stored bytes of blob `b` of record `doc_id` (for readers holding a record's key row,
    /// not the decoded record): one ranged GET of exactly the blob's bytes, checked against its
    /// MD5. A blob the manifest's pack cannot hold is refused before anything is read.
    pub fn blob_bytes(&self, doc_id: DocId, b: &BlobRef) -> Result<Vec<u8>, SplitError> {
        let (start, bytes) = self.pack_window(doc_id, b, 0)?;
        debug_assert_eq!(start, b.offset);
        self.check_blob(doc_id, b, &bytes)?;
        Ok(bytes)
    }

    /// One ranged GET of the pack holding blob `b`: exactly the blob when `window` is 0, else
    /// the `window`-aligned stretch of the pack around it (longer when the blob crosses the
    /// stretch's end; shorter at the pack's end). Returns where the bytes start in the pack.
    /// A blob the manifest's pack cannot hold is refused before anything is read.
    pub(super) fn pack_window(
        &self,
        doc_id: DocId,
        b: &BlobRef,
        window: u64,
    ) -> Result<(u64, Vec<u8>), SplitError> {
        let name = pack_name(b.pack);
        let out_of_range = || SplitError::BlobOutOfRange {
            url: self.url.clone(),
            doc_id,
            pack: b.pack,
            offset: b.offset,
            size: b.size,
        };
        let pack = self.manifest.file(&name).ok_or_else(out_of_range)?;
        let end = match b.offset.checked_add(b.size) {
            Some(end) if end <= pack.size => end,
            _ => return Err(out_of_range()),
        };
        let (start, stop) = match window {
            0 => (b.offset, end),
            w => {
                let start = b.offset - b.offset % w;
                (start, start.saturating_add(w).max(end).min(pack.size))
            }
        };
        let key = format!("{}/{name}", self.base);
        Ok((start, self.remote.get_range(&key, start, stop - start)?))
    }

    /// `bytes` are blob `b` of record `doc_id` when their MD5 is the blob's; else the error
    /// names the split, the pack, where the blob is and the record.
    pub(super) fn check_blob(
        &self,
        doc_id: DocId,
        b: &BlobRef,
        bytes: &[u8],
    ) -> Result<(), SplitError> {
        let md5 = Md5::of(bytes);
        if md5 == b.md5 {
            return Ok(());
        }
        Err(SplitError::Md5Mismatch {
            url: self.url.clone(),
            file: format!(
                "{} at {} ({} bytes) of record {doc_id}",
                pack_name(b.pack),
                b.offset,
                b.size
            ),
            expected: b.md5,
            actual: md5,
        })
    }

    /// The stored bytes of a record's main part ([`part_bytes`](Self::part_bytes)).
    pub fn bytes(&self, rec: &Record) -> Result<Vec<u8>, SplitError> {
        self.part_bytes(rec, rec.parts.main())
    }
}
