//! `publish`: a committed collection's files into `URL/splits/<id>/`, the manifest last and
//! create-only.

use super::manifest::{
    self, BlockFile, BlockList, DateRange, SplitAccount, SplitFile, SplitManifest,
};
use super::remote::{Created, Remote, StoreConfig};
use super::{SplitError, io_err};
use crate::Collection;
use crate::digest::{Md5, Md5Hasher};
use crate::model::DocId;
use serde::Serialize;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What [`publish`] did.
#[derive(Clone, Debug, Serialize)]
pub struct Published {
    /// The split id.
    pub split_id: String,
    /// The split's URL (`URL/splits/<id>`), what searches are given.
    pub url: String,
    /// False when the same split was already published (nothing was written).
    pub uploaded: bool,
    /// Files of the split.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The manifest.
    pub manifest: SplitManifest,
}

/// Where a file's bytes come from.
enum Source {
    /// Bytes in memory (the collection's manifest as opened).
    Bytes(Vec<u8>),
    /// The first `len` bytes of a file.
    File(PathBuf, u64),
}

/// The MD5 of the first `len` bytes of `path`, and with a block size the MD5 of each aligned
/// block of them too (read once for both).
fn hash_file(path: &Path, len: u64, blocks: Option<u64>) -> Result<(Md5, Vec<Md5>), SplitError> {
    let size = blocks.unwrap_or(u64::MAX);
    let mut src = File::open(path).map_err(io_err(path))?.take(len);
    let mut hasher = Md5Hasher::new();
    let mut block = Md5Hasher::new();
    let mut in_block = 0u64;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = 0u64;
    loop {
        let n = src.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        seen += n as u64;
        let mut rest = &buf[..n];
        while blocks.is_some() && !rest.is_empty() {
            let take = rest.len().min(usize::try_from(size - in_block).unwrap_or(usize::MAX));
            block.update(&rest[..take]);
            in_block += take as u64;
            rest = &rest[take..];
            if in_block == size {
                out.push(std::mem::replace(&mut block, Md5Hasher::new()).finish());
                in_block = 0;
            }
        }
    }
    if in_block > 0 {
        out.push(block.finish());
    }
    if seen != len {
        return Err(SplitError::Changed { path: path.to_path_buf() });
    }
    Ok((hasher.finish(), out))
}

/// How [`publish_with`] writes a split.
#[derive(Clone, Copy, Debug)]
pub struct PublishOptions {
    /// Write `blocks.json` ([`manifest::BlockList`]) so readers fetch the index and record
    /// data by checked blocks. Off only to write a split as versions before block lists did
    /// (tests of the reading path for those).
    pub block_list: bool,
    /// Bytes per block ([`manifest::BLOCK`], 1 MiB, by default; 1 byte to 64 MiB). Readers
    /// use the size the block list gives. Smaller blocks fetch less around each read and cost
    /// more requests; tests use small ones to see ranged reads on small collections.
    pub block_size: u64,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions { block_list: true, block_size: manifest::BLOCK }
    }
}

/// Publish the committed collection in `dir` as a split under `url` (`s3://bucket/prefix`, a
/// folder, or `file://` one). The collection's writer lock is held meanwhile, so no commit
/// changes the files being read. Idempotent: the same collection published again finds its
/// manifest and writes nothing.
pub fn publish(dir: &Path, url: &str, cfg: &StoreConfig) -> Result<Published, SplitError> {
    publish_with(dir, url, cfg, PublishOptions::default())
}

/// [`publish`] with options.
pub fn publish_with(
    dir: &Path,
    url: &str,
    cfg: &StoreConfig,
    opts: PublishOptions,
) -> Result<Published, SplitError> {
    let coll = Collection::open(dir)?;
    // Held to the end of the publish.
    let _lock = crate::store::lock_writer(dir).map_err(|e| match e {
        crate::store::StoreError::Locked(_) => SplitError::Busy { dir: dir.to_path_buf() },
        other => other.into(),
    })?;
    // A writer may have committed between the open and the lock: read what is committed now.
    let coll = if coll.store().generation() == crate::store::Store::open(dir)?.generation() {
        coll
    } else {
        Collection::open(dir)?
    };
    let store = coll.store();

    let mut sources: Vec<(String, Source)> =
        vec![("MANIFEST.json".to_owned(), Source::Bytes(store.manifest_json()?))];
    for f in store.committed_files() {
        let path = dir.join(&f.name);
        let len = match f.len {
            Some(l) => l,
            None => path.metadata().map_err(io_err(&path))?.len(),
        };
        sources.push((f.name, Source::File(path, len)));
    }
    let index_dir = dir.join("index");
    for n in coll.index().files().map_err(crate::Error::from)? {
        let path = index_dir.join(&n);
        let len = path.metadata().map_err(io_err(&path))?.len();
        sources.push((format!("index/{n}"), Source::File(path, len)));
    }
    sources.sort_by(|a, b| a.0.cmp(&b.0));

    let block_size = opts.block_size;
    if block_size == 0 || block_size > manifest::MAX_BLOCK {
        return Err(SplitError::BadManifest {
            url: url.to_owned(),
            reason: format!("block size {block_size}: 1 byte to 64 MiB"),
        });
    }
    let mut files = Vec::with_capacity(sources.len() + 1);
    let mut blocks = Vec::new();
    for (name, src) in &sources {
        if !manifest::safe_name(name) {
            return Err(SplitError::BadManifest {
                url: url.to_owned(),
                reason: format!("collection file {name:?} has a name splits cannot hold"),
            });
        }
        let by_blocks = opts.block_list && manifest::read_by_blocks(name);
        let (size, md5, list) = match src {
            Source::Bytes(b) => {
                let list = if by_blocks {
                    b.chunks(block_size as usize).map(Md5::of).collect()
                } else {
                    Vec::new()
                };
                (b.len() as u64, Md5::of(b), list)
            }
            Source::File(p, len) => {
                let (md5, list) = hash_file(p, *len, by_blocks.then_some(block_size))?;
                (*len, md5, list)
            }
        };
        if by_blocks {
            blocks.push(BlockFile { name: name.clone(), size, blocks: list });
        }
        files.push(SplitFile { name: name.clone(), size, md5 });
    }
    if opts.block_list {
        let list = BlockList {
            format: manifest::BLOCKS_FORMAT.to_owned(),
            version: 1,
            block_size,
            files: blocks,
        }
        .to_bytes();
        let name = manifest::BLOCKS_FILE.to_owned();
        files.push(SplitFile { name: name.clone(), size: list.len() as u64, md5: Md5::of(&list) });
        sources.push((name, Source::Bytes(list)));
        sources.sort_by(|a, b| a.0.cmp(&b.0));
        files.sort_by(|a, b| a.name.cmp(&b.name));
    }

    let accounts: Vec<SplitAccount> = store
        .accounts()
        .iter()
        .map(|((corpus, account), s)| SplitAccount {
            corpus: *corpus,
            account: account.clone(),
            records: s.records,
            org_units: s.org_units.iter().cloned().collect(),
        })
        .collect();
    let mut corpora: Vec<_> = accounts.iter().map(|a| a.corpus).collect();
    corpora.sort();
    corpora.dedup();
    let mut dates = DateRange::default();
    for seq in 0..store.rows() {
        if let Some((_, _, key)) = store.key(seq)? {
            dates.add(key.date);
        }
    }
    let governance = crate::governance::Governance::open(dir).map_err(crate::Error::from)?;
    let mut deleted: Vec<DocId> =
        governance.deleted_set(&coll).map_err(crate::Error::from)?.doc_ids().copied().collect();
    deleted.sort();

    let split_id = manifest::split_id(&files, &deleted);
    let m = SplitManifest {
        format: manifest::FORMAT.to_owned(),
        version: manifest::VERSION,
        split_id: split_id.clone(),
        generation: store.generation(),
        records: store.len(),
        corpora,
        accounts,
        dates,
        deleted,
        files,
    };
    let bytes = m.to_bytes();

    let remote = Remote::open(url, cfg)?;
    remote.probe_create_only()?;
    let base = format!("splits/{split_id}");
    let split_url = format!("{}/{base}", remote.url());
    let manifest_name = format!("{base}/manifest.json");
    let done = |uploaded| Published {
        split_id: split_id.clone(),
        url: split_url.clone(),
        uploaded,
        files: m.files.len() as u64,
        bytes: m.files.iter().map(|f| f.size).sum(),
        manifest: m.clone(),
    };
    let same_or_conflict = |existing: Vec<u8>| {
        if existing == bytes {
            Ok(done(false))
        } else {
            Err(SplitError::ManifestConflict {
                url: remote.url().to_owned(),
                split_id: split_id.clone(),
            })
        }
    };
    if let Some(existing) = remote.get(&manifest_name)? {
        return same_or_conflict(existing);
    }
    for ((name, src), f) in sources.into_iter().zip(&m.files) {
        let key = format!("{base}/{name}");
        match src {
            Source::Bytes(b) => remote.put(&key, b)?,
            Source::File(path, len) => {
                if remote.put_file(&key, &path, len)? != f.md5 {
                    return Err(SplitError::Changed { path });
                }
            }
        }
    }
    match remote.create(&manifest_name, bytes.clone())? {
        Created::New => Ok(done(true)),
        Created::Exists => match remote.get(&manifest_name)? {
            Some(existing) => same_or_conflict(existing),
            None => Err(SplitError::NoManifest { url: split_url.clone() }),
        },
    }
}
