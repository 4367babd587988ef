//! A finished export folder written to object storage (`export --out s3://…`), and read back.
//!
//! The export is written and verified locally first, then uploaded to `URL/NAME/`: every file
//! but `NAME-checksums.md5` first, each one's MD5 (computed from the bytes sent) compared with
//! its line in the checksum file, then the checksum file last with a create-only put. The
//! checksum file is the export's commit, as `manifest.json` is a split's: a reader that finds it
//! finds every file it names, with those bytes. A name whose checksum file is already there is
//! refused before anything is uploaded, unless the stored checksum file has our bytes exactly
//! (a retried upload of the same export), which succeeds without writing.
//!
//! **One export per name, even under concurrent uploads.** Before any data file is sent, the
//! upload claims the name with a create-only put of `URL/NAME.claim` holding its checksum file.
//! Only the claim's holder writes data files: a second upload of a *different* export finds the
//! claim with other bytes and is refused before it writes anything ([`SplitError::ExportClaimed`]);
//! an upload of the *same* export (a retry, or the same request run twice) finds its own bytes
//! there and proceeds, writing the same bytes. After claiming, the upload looks for the
//! checksum file again (the previous holder may have committed and released the claim just
//! before), so a committed export's files are never overwritten. The claim is deleted after the
//! checksum file is committed, and only then: a failed upload keeps it, so no other export can
//! take over a name whose files it partly wrote; the same export run again finishes it, and a
//! claim left by a crashed upload of an export nobody wants any more is removed by hand (the
//! error names it).
//!
//! Why a claim rather than the alternatives: create-only puts of every data file (compared on
//! conflict) let two uploads each win some files, so both can lose and the name is left
//! blocked by a mixture; data under an attempt-unique prefix named by the checksum file would
//! change the export's layout in the store (`URL/NAME/` would no longer be the export folder
//! that `md5sum -c` and a plain copy read), and object stores have no rename to fix that up.
//! The claim costs two small requests and keeps the layout. It relies on create-only puts,
//! which the probe ([`Remote::probe_create_only`]) checks first.

use super::remote::{Created, Remote};
use super::{SplitError, StoreConfig, io_err};
use crate::digest::Md5;
use crate::format::md5sum;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What [`upload_export`] did.
#[derive(Clone, Debug)]
pub struct Uploaded {
    /// `URL/NAME`: where the export now is.
    pub url: String,
    /// False when the same checksum file was already stored (a retried upload): nothing written.
    pub uploaded: bool,
    /// Files of the export, the checksum file included.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The checksum file's name for export `name`.
fn checksums_name(name: &str) -> String {
    format!("{name}-checksums.md5")
}

/// The lines of a checksum file, by file name.
fn parse_checksums(bytes: &[u8], at: &str) -> Result<BTreeMap<String, Md5>, SplitError> {
    let bad = |reason: String| SplitError::BadExport { at: at.to_owned(), reason };
    let lines = md5sum::read(bytes).map_err(|e| bad(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (file, md5) in lines {
        if file.contains('/') || file == "." || file == ".." || file.is_empty() {
            return Err(bad(format!("{file:?}: not a file name of the export folder")));
        }
        if out.insert(file.clone(), md5).is_some() {
            return Err(bad(format!("{file:?} is listed twice")));
        }
    }
    Ok(out)
}

/// Upload the finished export folder `dir` (`OUT/NAME`, already verified) to `url/NAME/`
/// (`s3://bucket/prefix`, a folder or a `file://` URL). Every file in `dir` must be a plain file
/// listed in `NAME-checksums.md5`, and every listed file must be there.
pub fn upload_export(
    dir: &Path,
    name: &str,
    url: &str,
    cfg: &StoreConfig,
) -> Result<Uploaded, SplitError> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(SplitError::Url {
            url: url.to_owned(),
            reason: format!("export name {name:?} cannot name a folder"),
        });
    }
    let sums_name = checksums_name(name);
    let sums_path = dir.join(&sums_name);
    let sums = std::fs::read(&sums_path).map_err(io_err(&sums_path))?;
    let listed = parse_checksums(&sums, &sums_path.display().to_string())?;

    // The files to send, in name order, each with the MD5 its line gives.
    let mut files: Vec<(String, PathBuf, u64, Md5)> = Vec::new();
    let mut seen = 0usize;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Some(file) = e.file_name().to_str().map(str::to_owned) else {
            return Err(SplitError::BadExport {
                at: path.display().to_string(),
                reason: "a file name that is not UTF-8".to_owned(),
            });
        };
        if file == sums_name {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).map_err(io_err(&path))?;
        let Some(md5) = listed.get(&file).copied().filter(|_| meta.is_file()) else {
            return Err(SplitError::BadExport {
                at: path.display().to_string(),
                reason: format!("not a file listed in {sums_name}; not uploaded"),
            });
        };
        seen += 1;
        files.push((file, path, meta.len(), md5));
    }
    if seen != listed.len() {
        let missing = listed.keys().find(|f| !dir.join(f).is_file()).cloned().unwrap_or_default();
        return Err(SplitError::BadExport {
            at: dir.join(&missing).display().to_string(),
            reason: format!("listed in {sums_name} but missing"),
        });
    }

    let remote = Remote::open(url, cfg)?;
    remote.probe_create_only()?;
    let base = format!("{}/{name}", remote.url());
    let sums_key = format!("{name}/{sums_name}");
    let bytes = files.iter().map(|f| f.2).sum::<u64>() + sums.len() as u64;
    let done =
        |uploaded| Uploaded { url: base.clone(), uploaded, files: files.len() as u64 + 1, bytes };
    let same_or_taken = |stored: Vec<u8>| {
        if stored == sums {
            Ok(done(false))
        } else {
            Err(SplitError::ExportExists { url: base.clone(), file: sums_name.clone() })
        }
    };
    if let Some(stored) = remote.get(&sums_key)? {
        return same_or_taken(stored);
    }
    // Claim the name; then look again for a commit made before the claim was ours.
    let claim_key = format!("{name}.claim");
    claim(&remote, &claim_key, &sums, &base)?;
    if let Some(stored) = remote.get(&sums_key)? {
        // Committed meanwhile: nothing of ours was written, and the checksum file now guards
        // the name, so the claim goes whether the commit was ours or another export's.
        remote.delete(&claim_key)?;
        return same_or_taken(stored);
    }
    for (file, path, len, md5) in &files {
        let sent = remote.put_file(&format!("{name}/{file}"), path, *len)?;
        if sent != *md5 {
            return Err(SplitError::Md5Mismatch {
                url: base.clone(),
                file: file.clone(),
                expected: *md5,
                actual: sent,
            });
        }
    }
    let done = match remote.create(&sums_key, sums.clone())? {
        Created::New => Ok(done(true)),
        Created::Exists => match remote.get(&sums_key)? {
            Some(stored) => same_or_taken(stored),
            None => Err(SplitError::NoExport { url: base.clone() }),
        },
    }?;
    // Committed: the claim has done its work (a later upload finds the checksum file).
    remote.delete(&claim_key)?;
    Ok(done)
}

/// Claim the export name for the checksum file `sums`: create `claim_key` create-only, or find
/// it holding `sums` already (the same export: a retry, or the same request uploaded twice).
/// Another checksum file there is another export's claim: refused.
fn claim(remote: &Remote, claim_key: &str, sums: &[u8], base: &str) -> Result<(), SplitError> {
    let claimed = || SplitError::ExportClaimed {
        url: base.to_owned(),
        claim: format!("{}/{claim_key}", remote.url()),
    };
    // A claim released between our put and our read is put again (a few times at most: each
    // round means another upload committed and released it).
    for _ in 0..5 {
        match remote.create(claim_key, sums.to_vec())? {
            Created::New => return Ok(()),
            Created::Exists => match remote.get(claim_key)? {
                Some(held) if held == sums => return Ok(()),
                Some(_) => return Err(claimed()),
                None => continue,
            },
        }
    }
    Err(claimed())
}

/// Download the export `url/NAME/` into `to/NAME` (which must not exist): its checksum file
/// first — no checksum file, no export — then every file it lists, each one's MD5 checked by
/// the download. The reverse of [`upload_export`], for readers and tests.
pub fn fetch_export(
    url: &str,
    name: &str,
    to: &Path,
    cfg: &StoreConfig,
) -> Result<PathBuf, SplitError> {
    let remote = Remote::open_existing(url, cfg)?;
    let base = format!("{}/{name}", remote.url());
    let sums_name = checksums_name(name);
    let Some(sums) = remote.get(&format!("{name}/{sums_name}"))? else {
        return Err(SplitError::NoExport { url: base });
    };
    let listed = parse_checksums(&sums, &format!("{base}/{sums_name}"))?;
    let dir = to.join(name);
    std::fs::create_dir_all(to).map_err(io_err(to))?;
    std::fs::create_dir(&dir).map_err(io_err(&dir))?;
    let sums_path = dir.join(&sums_name);
    std::fs::write(&sums_path, &sums).map_err(io_err(&sums_path))?;
    for (file, md5) in listed {
        let key = format!("{name}/{file}");
        let len = remote.size(&key)?.ok_or_else(|| SplitError::BadExport {
            at: format!("{base}/{file}"),
            reason: format!("listed in {sums_name} but not in the store"),
        })?;
        let path = dir.join(&file);
        let mut out = std::fs::File::create(&path).map_err(io_err(&path))?;
        let got = remote.download(&key, len, &mut out, &path)?;
        if got != md5 {
            return Err(SplitError::Md5Mismatch { url: base, file, expected: md5, actual: got });
        }
    }
    Ok(dir)
}
