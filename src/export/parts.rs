//! An export written in parts by separate processes (issue 14): the unit of work a task engine
//! runs. [`write_part`] writes the content zips of some accounts and, instead of the listings,
//! their *fragments* (the same entries, rendered by the same code, without header or closing
//! tags) and what happened to each record; [`merge`] joins the parts into the export one machine
//! writes, byte for byte (the summary's timings and thread count aside), without compressing
//! anything again.
//!
//! Which zips a part writes: the plan's accounts, in plan order, are cut into `N` runs of about
//! equal length, and part `K` (1-based) writes the zips of the `K`th run. So the parts' fragments
//! concatenated in part order are the listings in plan order, and the rule needs nothing but the
//! plan, which every part and the merge compute alike from the same request and collection.
//!
//! A part lives in `OUT/NAME.parts/part-K/`. Each attempt at it writes into its own folder
//! `part-K/attempt-<id>/` ([`super::attempt`]: two attempts alive at once, as a task engine's
//! retry and a lost first attempt can be, never write the same file), and the part is committed
//! by `part-K/part.json` (the attempt folder, the size and MD5 of every file in it, the plan's
//! fingerprint), written last and created exclusively. A part folder without it is unfinished
//! and is written again; one with it is checked, never rewritten. An attempt that finds the part
//! committed by another proves the committed files are the bytes it wrote itself (same names,
//! sizes and MD5s) and removes its own folder. Folders of dead attempts are removed by the next
//! attempt that succeeds and by the merge, never a live attempt's (its lock is held) nor the
//! committed one. A part whose records failed transiently (the store could not answer now) is
//! not committed: the call fails and names the first record, so the engine's retry writes it;
//! records that failed for good (damaged bytes) are committed as failures and reported by the
//! merge, as one machine reports them.

use super::attempt::{self, Attempt};
use super::files::{self, Listing};
use super::plan::{ExportPlan, FileKind};
use super::run::{self, Failure, FailureClass, Outcomes};
use super::summary::WrittenFile;
use super::tables::Tables;
use super::{ExportError, ExportProgress, ExportRequest, Outcome, RequestError, io_at};
use crate::digest::{Md5, Md5Hasher};
use crate::model::Corpus;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The file that commits a part.
pub const PART_JSON: &str = "part.json";
/// What happened to each record of a part's zips.
const OUTCOMES: &str = "outcomes.json";

/// Why a part cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    /// The part was never committed (no `part.json`).
    #[error("{0}: part missing or unfinished (no part.json): run `export part` for it again")]
    Missing(PathBuf),
    /// A file of a committed part is not what its `part.json` says.
    #[error("{path}: damaged part file: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// Records of the part failed transiently (the store could not answer now): the part is
    /// left uncommitted so that a retry of the task, which may succeed, writes it; committing
    /// it would make it look finished to a task engine while records are missing.
    #[error(
        "{dir}: {records} records could not be read now (transient; the first, record seq {seq}: \
         {reason}); the part is not committed: run `export part` for it again"
    )]
    Transient {
        /// The part's folder.
        dir: PathBuf,
        /// How many records failed transiently.
        records: usize,
        /// The first of them (global seq).
        seq: u64,
        /// Why it failed.
        reason: String,
    },
    /// The part was written for another request, collection state or part count.
    #[error("{path}: {reason}")]
    Mismatch {
        /// The `part.json` or `outcomes.json`.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
}

/// Part `k` of `n` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartOf {
    /// Which part, from 1.
    pub k: usize,
    /// How many parts.
    pub n: usize,
}

impl PartOf {
    /// `K/N`, with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<PartOf, RequestError> {
        let bad = || RequestError::Invalid(format!("--part {s}: write K/N with 1 <= K <= N"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if k == 0 || k > n { Err(bad()) } else { Ok(PartOf { k, n }) }
    }
}

/// `OUT/NAME.parts`.
pub fn parts_dir(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.parts"))
}

/// `OUT/NAME.parts/part-K`.
pub fn part_dir(out: &Path, name: &str, k: usize) -> PathBuf {
    parts_dir(out, name).join(format!("part-{k}"))
}

/// The plan's zips that part `p` writes: the zips of the `k`th of `n` runs of accounts (in plan
/// order, cut as evenly as whole accounts allow). Consecutive zips of one account stay together.
pub fn zips_of(plan: &ExportPlan, p: PartOf) -> Range<usize> {
    // Where each account's run of zips starts.
    let starts: Vec<usize> = (0..plan.zips.len())
        .filter(|&i| i == 0 || plan.zips[i].account != plan.zips[i - 1].account)
        .collect();
    let runs = starts.len();
    let zip_at = |run: usize| starts.get(run).copied().unwrap_or(plan.zips.len());
    zip_at((p.k - 1) * runs / p.n)..zip_at(p.k * runs / p.n)
}

/// The plan's fingerprint, which every part records: a part of another request, another state
/// of the collection or another part count is refused by the merge.
fn fingerprint(plan: &ExportPlan, n: usize) -> Result<String, ExportError> {
    let bytes = serde_json::to_vec(plan).map_err(|e| ExportError::Io {
        path: PathBuf::from(plan.name.as_str()),
        source: io::Error::other(e),
    })?;
    Ok(format!("{}/{n}", Md5::of(&bytes).to_hex()))
}

/// A part's commit record.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartManifest {
    /// The export name.
    pub name: String,
    /// Which part.
    pub part: usize,
    /// Of how many.
    pub parts: usize,
    /// The plan's fingerprint.
    pub plan: String,
    /// The committed attempt's folder in the part folder (`attempt-<id>`), which holds the
    /// files; empty for a part written before attempts had folders (files in the part folder).
    #[serde(default)]
    pub attempt: String,
    /// Every file of the attempt: name, size, MD5.
    pub files: Vec<WrittenFile>,
}

impl PartManifest {
    /// The folder holding the part's files.
    fn files_dir(&self, part: &Path) -> PathBuf {
        if self.attempt.is_empty() { part.to_path_buf() } else { part.join(&self.attempt) }
    }
}

/// One zip of a part and what happened to its records ([`Outcomes`], as JSON).
#[derive(Debug, Serialize, Deserialize)]
struct ZipDone {
    file: WrittenFile,
    exported: u64,
    bytes: u64,
    newline_added: u64,
    /// `(seq, size, MD5)` of converted records.
    converted: Vec<(u64, u64, Md5)>,
    /// `(seq, class, reason)` of failed records, in plan order.
    failed: Vec<(u64, FailureClass, String)>,
}

/// A part's `outcomes.json`.
#[derive(Debug, Serialize, Deserialize)]
struct PartOutcomes {
    zips: Vec<ZipDone>,
    /// Characters XML replaced in the part's `metadata.xml` fragment.
    xml_replaced: u64,
}

/// What [`write_part`] did.
#[derive(Debug)]
pub struct PartDone {
    /// The part's folder.
    pub dir: PathBuf,
    /// False when the part was already committed (checked, not written again).
    pub written: bool,
    /// Zips in the part.
    pub zips: usize,
}

/// Only mail and group mail are written in parts so far: Chat renders conversation documents
/// across accounts, and Drive and Voice have their own listings and error reports.
fn supported(plan: &ExportPlan) -> Result<(), ExportError> {
    match plan.corpus {
        Corpus::Mail | Corpus::Groups => Ok(()),
        c => Err(RequestError::NotSupported(format!(
            "exporting {c} in parts (only mail and groups): export it on one machine"
        ))
        .into()),
    }
}

/// Write part `p` of `plan` into `OUT/NAME.parts/part-K/`: its zips, the fragments of the
/// listings, `outcomes.json`, and last `part.json`. A committed part is checked and left alone.
pub fn write_part<'a>(
    colls: impl Into<Tables<'a>>,
    req: &ExportRequest,
    plan: &ExportPlan,
    p: PartOf,
    source: &dyn super::BlobSource,
    out: &Path,
    progress: &dyn ExportProgress,
) -> Result<PartDone, ExportError> {
    supported(plan)?;
    let threads = crate::Limits::default().threads(req.ediscovery.threads)?;
    let tables: Tables<'a> = colls.into();
    let store = &tables;
    super::outside_collections(out, store)?;
    let dir = part_dir(out, plan.name.as_str(), p.k);
    let print = fingerprint(plan, p.n)?;
    let range = zips_of(plan, p);
    if std::fs::symlink_metadata(dir.join(PART_JSON)).is_ok() {
        let m = check_part(&dir, plan, &print, p)?;
        attempt::remove_dead(&dir, PART_JSON, Some(m.attempt.as_str()));
        return Ok(PartDone { dir, written: false, zips: range.len() });
    }
    // No part.json: this attempt writes the part in a folder of its own.
    let mine = Attempt::start(&dir).map_err(io_at(&dir))?;
    let adir = mine.dir.clone();
    let mut sub = plan.clone();
    sub.zips = plan.zips[range.clone()].to_vec();
    let records = super::PlanRecords::new(store, &sub, threads + 2);
    let zips = run::write_zips(&sub, &records, store, source, &adir, threads, progress)?;
    let mut transient = zips
        .iter()
        .flat_map(|(_, o)| o.failed.iter())
        .filter(|(_, f)| f.class == FailureClass::Transient);
    if let Some((seq, f)) = transient.next() {
        let records = 1 + transient.count();
        let reason = f.reason.clone();
        return Err(PartError::Transient { dir, records, seq: *seq, reason }.into());
    }
    let (failed, converted) = super::failed_and_converted(&zips);
    let exported =
        records.planned(&sub).filter(|s| s.as_ref().map_or(true, |s| !failed.contains(s)));
    let (fragments, xml_replaced) =
        super::write_listings(&sub, store, exported, &converted, &adir, true)?;
    let outcomes = PartOutcomes {
        zips: zips
            .into_iter()
            .map(|(file, o)| ZipDone {
                file,
                exported: o.exported,
                bytes: o.bytes,
                newline_added: o.newline_added,
                converted: o.converted.into_iter().map(|(s, (n, m))| (s, n, m)).collect(),
                failed: o.failed.into_iter().map(|(s, f)| (s, f.class, f.reason)).collect(),
            })
            .collect(),
        xml_replaced,
    };
    let written = run::write_file(&adir, OUTCOMES, FileKind::Summary, |w| {
        serde_json::to_writer(&mut *w, &outcomes).map_err(io::Error::other)
    })
    .map_err(io_at(&adir.join(OUTCOMES)))?;
    let mut files: Vec<WrittenFile> = outcomes.zips.into_iter().map(|z| z.file).collect();
    files.extend(fragments);
    files.push(written);
    let manifest = PartManifest {
        name: plan.name.to_string(),
        part: p.k,
        parts: p.n,
        plan: print.clone(),
        attempt: mine.name.clone(),
        files,
    };
    let written = if commit(&dir, &adir, &manifest)? {
        mine.keep();
        attempt::remove_dead(&dir, PART_JSON, Some(manifest.attempt.as_str()));
        true
    } else {
        // Another attempt committed first: its files must be the bytes this one wrote.
        let theirs = check_part(&dir, plan, &print, p)?;
        if !same_files(&theirs.files, &manifest.files) {
            return Err(PartError::Mismatch {
                path: dir.join(PART_JSON),
                reason: format!(
                    "committed by {} with other bytes than attempt {} wrote for the same plan \
                     (the export is not deterministic here: report it)",
                    theirs.attempt, manifest.attempt
                ),
            }
            .into());
        }
        drop(mine);
        attempt::remove_dead(&dir, PART_JSON, Some(theirs.attempt.as_str()));
        false
    };
    Ok(PartDone { dir, written, zips: range.len() })
}

/// Do two attempts' file lists name the same files with the same sizes and MD5s?
fn same_files(a: &[WrittenFile], b: &[WrittenFile]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.name == y.name && x.size == y.size && x.md5 == y.md5)
}

/// Commit the part: write `part.json` in the attempt folder, synced with the folder, then make
/// it `part-K/part.json` by one create-only step ([`attempt::commit_file`]). `Ok(false)` when
/// another attempt committed first.
fn commit(dir: &Path, adir: &Path, manifest: &PartManifest) -> Result<bool, ExportError> {
    let staged = adir.join(PART_JSON);
    let bytes = serde_json::to_vec_pretty(manifest)
        .map_err(|e| ExportError::Io { path: staged.clone(), source: io::Error::other(e) })?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staged)
        .map_err(io_at(&staged))?;
    f.write_all(&bytes).and_then(|()| f.write_all(b"\n")).map_err(io_at(&staged))?;
    f.sync_all().map_err(io_at(&staged))?;
    std::fs::File::open(adir).and_then(|d| d.sync_all()).map_err(io_at(adir))?;
    let path = dir.join(PART_JSON);
    let created = attempt::commit_file(&staged, &path).map_err(io_at(&path))?;
    Ok(created)
}

/// Is `name` a plain file name (no folder, no `..`), so a part.json cannot name a file outside
/// its part?
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().is_some_and(|n| n == name)
}

/// Read and check a committed part: its `part.json` is for this plan, part and part count, and
/// every file it lists has its size and MD5.
fn check_part(
    dir: &Path,
    plan: &ExportPlan,
    print: &str,
    p: PartOf,
) -> Result<PartManifest, ExportError> {
    let path = dir.join(PART_JSON);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PartError::Missing(dir.to_path_buf()).into());
        }
        Err(e) => return Err(ExportError::Io { path, source: e }),
    };
    let mismatch = |reason: String| PartError::Mismatch { path: path.clone(), reason };
    let m: PartManifest = serde_json::from_slice(&bytes)
        .map_err(|e| mismatch(format!("not a part manifest: {e}")))?;
    if m.name != plan.name.as_str() || m.part != p.k || m.parts != p.n || m.plan != print {
        return Err(mismatch(format!(
            "part {}/{} of export {} (plan {}), not part {}/{} of export {} (plan {print}): \
             written for another request, collection state or part count",
            m.part, m.parts, m.name, m.plan, p.k, p.n, plan.name
        ))
        .into());
    }
    if !m.attempt.is_empty() && !plain(&m.attempt) {
        return Err(mismatch(format!("names a folder outside its part: {:?}", m.attempt)).into());
    }
    let files_dir = m.files_dir(dir);
    for f in &m.files {
        if !plain(&f.name) {
            return Err(mismatch(format!("names a file outside its part: {:?}", f.name)).into());
        }
        let file = files_dir.join(&f.name);
        let (md5, size) = md5_of(&file).map_err(|e| PartError::Damaged {
            path: file.clone(),
            reason: format!("cannot be read: {e}"),
        })?;
        if md5.to_hex() != f.md5 || size != f.size {
            return Err(PartError::Damaged {
                path: file,
                reason: format!(
                    "{size} bytes with MD5 {md5}; part.json says {} bytes with MD5 {}",
                    f.size, f.md5
                ),
            }
            .into());
        }
    }
    Ok(m)
}

/// MD5 and length of a file, streamed.
fn md5_of(path: &Path) -> io::Result<(Md5, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Md5Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((h.finish(), size));
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
}

/// Put the part's zip `name` into the export folder: a hard link (no bytes copied, and the part
/// stays whole, so a merge that stops can run again), or a copy across file systems.
fn link(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) => std::fs::copy(from, to).map(|_| ()),
    }
}

/// Join the `n` parts of `plan` in `OUT/NAME.parts/` into the export `OUT/NAME`, as
/// [`super::run`] would have written it: every part must be committed and whole (checked before
/// anything is written); zips are linked, not compressed again; the listings are the parts'
/// fragments between the header and closing tags; the rest is written from the parts' outcomes
/// by the code one machine's export ends with.
pub fn merge<'a>(
    colls: impl Into<Tables<'a>>,
    req: &ExportRequest,
    plan: &ExportPlan,
    n: usize,
    out: &Path,
) -> Result<Outcome, ExportError> {
    let started = Instant::now();
    supported(plan)?;
    if n == 0 {
        return Err(RequestError::Invalid("--parts 0: at least one part".to_owned()).into());
    }
    let threads = crate::Limits::default().threads(req.ediscovery.threads)?;
    let tables: Tables<'a> = colls.into();
    super::outside_collections(out, &tables)?;
    let name = plan.name.as_str();
    let print = fingerprint(plan, n)?;
    let mut parts = Vec::with_capacity(n);
    let mut committed = Vec::with_capacity(n);
    for k in 1..=n {
        let p = PartOf { k, n };
        let pdir = part_dir(out, name, k);
        let m = check_part(&pdir, plan, &print, p)?;
        let dir = m.files_dir(&pdir);
        let path = dir.join(OUTCOMES);
        let o: PartOutcomes = std::fs::read(&path).map_err(io_at(&path)).and_then(|b| {
            serde_json::from_slice(&b).map_err(|e| {
                PartError::Mismatch { path: path.clone(), reason: e.to_string() }.into()
            })
        })?;
        let range = zips_of(plan, p);
        let names_match = o.zips.len() == range.len()
            && o.zips.iter().zip(&plan.zips[range]).all(|(d, z)| d.file.name == z.file);
        if !names_match {
            let reason = "its zips are not the plan's for this part".to_owned();
            return Err(PartError::Mismatch { path, reason }.into());
        }
        parts.push((dir, o));
        committed.push((pdir, m.attempt));
    }
    let (tmp, done) = super::start_folder(out, name)?;
    let mut zips = Vec::with_capacity(plan.zips.len());
    let mut fragment_replaced = Vec::with_capacity(n);
    for (dir, o) in parts.iter_mut() {
        fragment_replaced.push(o.xml_replaced);
        for z in std::mem::take(&mut o.zips) {
            let (from, to) = (dir.join(&z.file.name), tmp.join(&z.file.name));
            link(&from, &to).map_err(io_at(&to))?;
            let outcomes = Outcomes {
                exported: z.exported,
                bytes: z.bytes,
                newline_added: z.newline_added,
                converted: z.converted.into_iter().map(|(s, n, m)| (s, (n, m))).collect(),
                failed: z
                    .failed
                    .into_iter()
                    .map(|(s, class, reason)| (s, Failure { class, reason }))
                    .collect(),
            };
            zips.push((z.file, outcomes));
        }
    }
    let mut listed = Vec::new();
    let mut replaced = 0;
    for f in plan.files.iter().filter(|f| f.kind.lists_records()) {
        let at = tmp.join(&f.name);
        let Some(mut sink) = files::open_listing(f, plan, &tmp).map_err(io_at(&at))? else {
            continue;
        };
        for ((dir, _), r) in parts.iter().zip(&fragment_replaced) {
            let r = if f.kind == FileKind::MetadataXml { *r } else { 0 };
            append_fragment(&mut *sink, &dir.join(files::fragment_name(f)), r)?;
        }
        let d = sink.finish().map_err(io_at(&at))?;
        replaced += d.xml_replaced;
        listed.push(d.file);
    }
    let summary =
        super::write_rest(&tables, req, plan, zips, (listed, replaced), &tmp, threads, started)?;
    super::finish_folder(&tmp, &done).map_err(io_at(&done))?;
    // Leftovers of dead attempts go; the committed attempts stay (a merge can run again).
    for (pdir, kept) in &committed {
        attempt::remove_dead(pdir, PART_JSON, Some(kept.as_str()));
    }
    Ok(Outcome { summary, dir: done })
}

/// Append the fragment file `path` to `sink`, a few MiB at a time.
fn append_fragment(sink: &mut dyn Listing, path: &Path, replaced: u64) -> Result<(), ExportError> {
    let mut f = std::fs::File::open(path).map_err(io_at(path))?;
    let mut buf = vec![0u8; 8 << 20];
    let mut replaced = Some(replaced);
    loop {
        let k = read_full(&mut f, &mut buf).map_err(io_at(path))?;
        if k == 0 {
            return Ok(());
        }
        sink.append(&buf[..k], replaced.take().unwrap_or(0)).map_err(io_at(path))?;
    }
}

/// Fill `buf` as far as the file allows; the bytes read.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut k = 0;
    while k < buf.len() {
        match f.read(&mut buf[k..])? {
            0 => break,
            r => k += r,
        }
    }
    Ok(k)
}
