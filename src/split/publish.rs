//! `publish`: a committed collection's files into `URL/splits/<id>/`, the manifest last and
//! create-only.

use super::manifest::{self, DateRange, SplitAccount, SplitFile, SplitManifest};
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

fn hash_file(path: &Path, len: u64) -> Result<Md5, SplitError> {
    let mut src = File::open(path).map_err(io_err(path))?.take(len);
    let mut hasher = Md5Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = 0u64;
    loop {
        let n = src.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        seen += n as u64;
    }
    if seen != len {
        return Err(SplitError::Changed { path: path.to_path_buf() });
    }
    Ok(hasher.finish())
}

/// Publish the committed collection in `dir` as a split under `url` (`s3://bucket/prefix`, a
/// folder, or `file://` one). The collection's writer lock is held meanwhile, so no commit
/// changes the files being read. Idempotent: the same collection published again finds its
/// manifest and writes nothing.
pub fn publish(dir: &Path, url: &str, cfg: &StoreConfig) -> Result<Published, SplitError> {
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

    let mut files = Vec::with_capacity(sources.len());
    for (name, src) in &sources {
        if !manifest::safe_name(name) {
            return Err(SplitError::BadManifest {
                url: url.to_owned(),
                reason: format!("collection file {name:?} has a name splits cannot hold"),
            });
        }
        let (size, md5) = match src {
            Source::Bytes(b) => (b.len() as u64, Md5::of(b)),
            Source::File(p, len) => (*len, hash_file(p, *len)?),
        };
        files.push(SplitFile { name: name.clone(), size, md5 });
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
