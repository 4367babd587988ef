//! The organisation-wide export, as Google Workspace's Data Export makes it (facts §15): every
//! account of the organisation file and every account with data, one folder per account holding
//! that account's zips, a folder per product inside each zip, and at the archive's root the
//! report an administrator opens in a browser, its JSON twin and a checksum file.
//!
//! ```text
//! OUT/<export-id>/                     export id: the start, YYYYMMDDTHHMMSSZ (as Google's bucket)
//!   report.html  report.json           report.rs: one model, two renderings
//!   checksums.md5                      `md5sum -c checksums.md5` passes inside the folder
//!   <account>/<account>-1.zip …        write.rs; products.rs says what is inside
//! ```
//!
//! Pipeline: the governance layer starts (or resumes) the export and says which user-deleted
//! records nothing keeps (`governance::org_export`); [`accounts::plan`] lists the accounts, pure;
//! [`write`] writes each account's zips; the report is built from the journal
//! ([`journal`]); `verify` re-reads the archive (`verify::org`).
//!
//! **Rules** (each in [`OrgExportRules`], each refusal a clear error): accounts created within
//! 24 hours before the start are left out and listed; user-deleted data is left out unless a
//! hold or a retention rule keeps it; one full export per 30 days unless forced (the forcing is
//! in the audit log); the archive expires 30 days after the start ([`prune`] removes expired
//! archives).
//!
//! **Resumable.** The archive is built in `OUT/.<export-id>.partial/` and renamed into place
//! last. A run that finds one partial archive of the same collection continues it: accounts the
//! journal lists whose zips still match their MD5s are kept, not redone; the rest are written
//! again. The report counts each account once. A run killed after the rename, before its
//! finish was recorded, leaves an export `IN_PROGRESS` with no partial folder: the next run
//! finds its archive whole (its checksums verify) and records it as finished from the
//! archive's own report (`reconcile.rs`).
//!
//! **Names.** Account folders and zip names are [`SafeName`]s (made unique), entry names are
//! a fixed product folder and [`SafeName`] components (`takeout.rs`), and report links are built
//! from them: nothing an account name holds can
//! put a file outside the archive folder or a link outside the archive.
//!
//! [`SafeName`]: crate::export::SafeName

pub mod accounts;
pub mod journal;
pub mod products;
mod reconcile;
pub mod report;
mod takeout;
mod write;

use crate::Collection;
use crate::digest::Md5;
use crate::export::BlobSource;
use crate::format::md5sum;
use crate::format::zip::DeflatePool;
use crate::governance::{Governance, GovernanceError, OrgExportRules};
use crate::model::Account;
use crate::model::time;
use crate::partial_file::PartialFile;
use crate::store::StoreError;
use report::{AccountReport, OrgReport, Totals};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Default split size of an account's zips: 2 GiB, Takeout's default.
pub const DEFAULT_SPLIT_BYTES: u64 = 2 << 30;

/// The checksum file at the archive's root.
pub const CHECKSUMS: &str = "checksums.md5";

/// How to run an organisation export.
#[derive(Clone, Debug)]
pub struct OrgExportOptions {
    /// The folder the archive folder is made in.
    pub out: PathBuf,
    /// The start, UTC seconds (`None`: now). A resumed run keeps the start it had.
    pub now: Option<i64>,
    /// Start even within the interval after the last full export (logged).
    pub force: bool,
    /// Content bytes per zip at most.
    pub split_bytes: u64,
    /// The rules.
    pub rules: OrgExportRules,
    /// Compressing threads.
    pub threads: usize,
}

impl OrgExportOptions {
    /// Defaults: now, not forced, 2 GiB zips, Google's rules, two threads.
    pub fn new(out: &Path) -> OrgExportOptions {
        OrgExportOptions {
            out: out.to_path_buf(),
            now: None,
            force: false,
            split_bytes: DEFAULT_SPLIT_BYTES,
            rules: OrgExportRules::default(),
            threads: 2,
        }
    }
}

/// Why an organisation export could not run (failed files are not errors: they are in the
/// report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrgExportError {
    /// Refused or failed in the governance layer (the 30-day rule, not an administrator).
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    /// Opening the collection.
    #[error("collection {path}: {source}")]
    Collection {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: Box<crate::Error>,
    },
    /// Reading records.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No organisation imported.
    #[error(
        "no organisation has been imported (ediscovery org import): an organisation export lists its accounts"
    )]
    NoOrg,
    /// The archive folder exists already.
    #[error("{0} already exists: an archive is never overwritten")]
    Exists(PathBuf),
    /// The output folder is inside the collection.
    #[error("{out} is inside the collection {collection}: write the archive outside it")]
    InsideCollection {
        /// The output folder.
        out: PathBuf,
        /// The collection.
        collection: PathBuf,
    },
    /// A partial archive that cannot be resumed by this run.
    #[error("{path}: cannot resume: {reason}")]
    Resume {
        /// The partial archive.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// Told about an organisation export's progress.
pub trait OrgExportProgress {
    /// The run knows its accounts (`resumed` of them kept from a killed run).
    fn planned(&self, _accounts: usize, _resumed: usize) {}
    /// An account's zips are written and journalled (or kept, `resumed`).
    fn account_done(&self, _a: &AccountReport, _resumed: bool) {}
    /// The archive is renamed into place; its finish is recorded next.
    fn archived(&self, _dir: &Path) {}
}

/// Ignores progress.
pub struct NoOrgProgress;
impl OrgExportProgress for NoOrgProgress {}

/// What an organisation export did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgExportOutcome {
    /// The archive folder.
    pub dir: PathBuf,
    /// Accounts kept from a killed run.
    pub resumed_accounts: u64,
    /// Exports of a run killed after its archive was in place, recorded as finished by this
    /// run (their ids).
    pub reconciled: Vec<String>,
    /// The report.
    pub report: OrgReport,
}

impl OrgExportOutcome {
    /// Files failed (the CLI exits 3, "partial").
    pub fn has_failures(&self) -> bool {
        self.report.totals.not_exported > 0
    }
}

/// `YYYYMMDDTHHMMSSZ` of `t`.
pub fn export_id(t: i64) -> String {
    let (y, mo, d, h, mi, s) = time::civil_utc(t).unwrap_or((1970, 1, 1, 0, 0, 0));
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> OrgExportError + '_ {
    move |source| OrgExportError::Io { path: path.to_path_buf(), source }
}

/// The partial archives in `out`: `.<id>.partial` folders (not links) with a journal.
fn partials(out: &Path) -> Result<Vec<PathBuf>, OrgExportError> {
    let rd = match std::fs::read_dir(out) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_at(out)(e)),
    };
    let mut found = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && name.starts_with('.') && name.ends_with(".partial") {
            let p = e.path();
            if p.join(journal::NAME).is_file() {
                found.push(p);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Write `bytes` as `dir/name` ([`PartialFile`]: temporary name, synced, renamed); its MD5.
fn write_root_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<Md5, OrgExportError> {
    let path = dir.join(name);
    let mut f = PartialFile::create(dir, name).map_err(io_at(&path))?;
    f.write_all(bytes).map_err(io_at(f.tmp_path()))?;
    let (md5, _) = f.finish().map_err(io_at(&path))?;
    Ok(md5)
}

/// Run (or resume) an organisation export of the collection `gov` governs, as `actor`, reading
/// record bytes through `source` (the store; tests inject failures).
pub fn run(
    gov: &Governance,
    actor: &Account,
    opts: &OrgExportOptions,
    source: Option<&dyn BlobSource>,
    progress: &dyn OrgExportProgress,
) -> Result<OrgExportOutcome, OrgExportError> {
    let dir = gov.collection().to_path_buf();
    let coll = Collection::open(&dir)
        .map_err(|e| OrgExportError::Collection { path: dir.clone(), source: Box::new(e) })?;
    let out = &opts.out;
    // Refuse before creating anything: the nearest existing ancestor of OUT, resolved.
    let mut probe = out.clone();
    let mut rest = Vec::new();
    while !probe.exists() {
        match (probe.file_name().map(ToOwned::to_owned), probe.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                probe = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => break,
        }
    }
    if let (Ok(o), Ok(c)) = (probe.canonicalize(), dir.canonicalize()) {
        let o = rest.iter().rev().fold(o, |p, n| p.join(n));
        if o.starts_with(&c) {
            return Err(OrgExportError::InsideCollection { out: out.clone(), collection: dir });
        }
    }
    std::fs::create_dir_all(out).map_err(io_at(out))?;
    // A run killed after renaming its archive into place, before recording its finish: the
    // archive, checked against its own checksums, is recorded as finished (reconcile.rs).
    let in_progress = gov.run(|tx| Ok(tx.org_exports_in_progress()))?;
    let mut reconciled = Vec::new();
    for (rid, fin) in reconcile::finished_in(out, &in_progress)? {
        gov.run(|tx| tx.reconcile_org_export(actor, &rid, &fin))?;
        reconciled.push(rid);
    }
    // Resume the partial archive of this collection, if there is one.
    let collection_name = dir.canonicalize().unwrap_or_else(|_| dir.clone()).display().to_string();
    let mut resume = None;
    for p in partials(out)? {
        let (h, done) = journal::read(&p.join(journal::NAME)).map_err(io_at(&p))?;
        if h.collection == collection_name {
            if resume.is_some() {
                return Err(OrgExportError::Resume {
                    path: p,
                    reason: "more than one partial archive of this collection".to_owned(),
                });
            }
            resume = Some((p, h, done));
        }
    }
    let start = match &resume {
        Some((_, h, _)) => h.start,
        None => opts.now.unwrap_or_else(time::now),
    };
    let id = export_id(start);
    let final_dir = out.join(&id);
    if final_dir.exists() {
        return Err(OrgExportError::Exists(final_dir));
    }
    let (started, org) = gov.run(|tx| {
        let s = tx.start_org_export(actor, &coll, &id, start, &opts.rules, opts.force)?;
        Ok((s, tx.org().cloned()))
    })?;
    let org = org.ok_or(OrgExportError::NoOrg)?;
    let (partial, split_bytes, done) = match resume {
        Some((p, h, done)) => (p, h.split_bytes, done),
        None => {
            let p = out.join(format!(".{id}.partial"));
            if std::fs::symlink_metadata(&p).is_ok() {
                std::fs::remove_dir_all(&p).map_err(io_at(&p))?;
            }
            std::fs::create_dir_all(&p).map_err(io_at(&p))?;
            let h = journal::Header {
                export_id: id.clone(),
                collection: collection_name,
                start,
                started_by: actor.to_string(),
                split_bytes: opts.split_bytes.max(1),
            };
            journal::create(&p.join(journal::NAME), &h).map_err(io_at(&p))?;
            (p, h.split_bytes, Vec::new())
        }
    };
    let journal_path = partial.join(journal::NAME);
    let held = coll.store().accounts().keys().map(|(c, a)| (*c, a.clone())).collect::<Vec<_>>();
    let (planned, left_out) = accounts::plan(&org, held, start, &opts.rules);
    // Accounts kept from the killed run: journalled, planned, and their zips intact.
    let mut kept: BTreeMap<String, AccountReport> = BTreeMap::new();
    for a in done {
        if planned.iter().any(|p| p.account.as_str() == a.id && p.folder == a.folder)
            && journal::intact(&partial, &a)
        {
            kept.insert(a.id.clone(), a);
        }
    }
    progress.planned(planned.len(), kept.len());
    let pool = DeflatePool::new(opts.threads.max(1))
        .map_err(|e| OrgExportError::Io { path: partial.clone(), source: io::Error::other(e) })?;
    let store_source: &dyn BlobSource = coll.store();
    let ctx = write::Ctx {
        store: coll.store(),
        source: source.unwrap_or(store_source),
        deleted: &started.deleted_left_out,
        split_bytes,
        pool: &pool,
        mtime: start,
    };
    let resumed_accounts = kept.len() as u64;
    let mut accounts = Vec::with_capacity(planned.len());
    for p in &planned {
        if let Some(a) = kept.remove(p.account.as_str()) {
            progress.account_done(&a, true);
            accounts.push(a);
            continue;
        }
        let a = write::account(&partial, p, &ctx)?;
        journal::append(&journal_path, &a).map_err(io_at(&journal_path))?;
        progress.account_done(&a, false);
        accounts.push(a);
    }
    let mut report = OrgReport {
        export_id: id.clone(),
        status: String::new(),
        started_by: started.record.started_by.to_string(),
        start_time: started.record.start_time.clone(),
        finish_time: time::iso_utc(time::now().max(start)).unwrap_or_default(),
        expiry_time: started.record.expiry_time.clone(),
        forced: started.record.forced,
        accounts,
        left_out,
        totals: Totals::default(),
    };
    report.finish();
    let json_bytes = serde_json::to_vec_pretty(&report).map_err(|e| OrgExportError::Io {
        path: partial.join("report.json"),
        source: io::Error::other(e),
    })?;
    let mut sums: Vec<(String, Md5)> = Vec::new();
    for a in &report.accounts {
        for z in &a.archives {
            let md5 = z.md5.parse().map_err(|e| OrgExportError::Io {
                path: partial.join(&z.path),
                source: io::Error::other(format!("{e}")),
            })?;
            sums.push((z.path.clone(), md5));
        }
    }
    sums.push(("report.json".to_owned(), write_root_file(&partial, "report.json", &json_bytes)?));
    let html = report::render_html(&report);
    sums.push((
        "report.html".to_owned(),
        write_root_file(&partial, "report.html", html.as_bytes())?,
    ));
    let mut listing = Vec::new();
    md5sum::write(&mut listing, &sums).map_err(io_at(&partial))?;
    write_root_file(&partial, CHECKSUMS, &listing)?;
    std::fs::remove_file(&journal_path).map_err(io_at(&journal_path))?;
    std::fs::rename(&partial, &final_dir).map_err(io_at(&final_dir))?;
    if let Ok(d) = std::fs::File::open(out) {
        let _ = d.sync_all();
    }
    progress.archived(&final_dir);
    let t = report.totals;
    let fin = crate::governance::OrgExportFinish {
        status: reconcile::record_status(&t).to_owned(),
        accounts: t.accounts,
        dir: final_dir.display().to_string(),
        finish_time: report.finish_time.clone(),
        counts: json!(t),
    };
    gov.run(|tx| tx.finish_org_export(actor, &id, &fin))?;
    Ok(OrgExportOutcome { dir: final_dir, resumed_accounts, reconciled, report })
}

/// What `prune` did.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneReport {
    /// Archives removed: (export id, expiry).
    pub removed: Vec<(String, String)>,
    /// Archives kept: (export id, expiry).
    pub kept: Vec<(String, String)>,
    /// Folders that look like archives but whose report could not be read: left alone.
    pub skipped: Vec<(String, String)>,
}

/// Remove the archives in `out` whose report says they expired at or before `now`. Only
/// folders (not links) holding a `report.json` with an export id equal to the folder's name are
/// considered; anything else is left alone.
pub fn prune(out: &Path, now: i64) -> Result<PruneReport, OrgExportError> {
    let mut r = PruneReport::default();
    let mut names: Vec<(String, PathBuf)> = std::fs::read_dir(out)
        .map_err(io_at(out))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    names.sort();
    for (name, path) in names {
        let rp = path.join("report.json");
        let read = crate::fs_safe::open_regular(&rp)
            .map_err(|_| "no readable report.json".to_owned())
            .and_then(|(f, m)| {
                if m.len() > 256 << 20 {
                    return Err("report.json is too large".to_owned());
                }
                serde_json::from_reader::<_, serde_json::Value>(io::BufReader::new(f))
                    .map_err(|e| format!("report.json: {e}"))
            });
        let v = match read {
            Ok(v) => v,
            Err(why) => {
                if rp.exists() {
                    r.skipped.push((name, why));
                }
                continue;
            }
        };
        let (Some(id), Some(expiry)) = (v["exportId"].as_str(), v["expiryTime"].as_str()) else {
            r.skipped.push((name, "report.json names no exportId or expiryTime".to_owned()));
            continue;
        };
        if id != name {
            r.skipped.push((name, format!("report.json is of export {id}")));
            continue;
        }
        let Some(at) = time::parse_iso8601(expiry) else {
            r.skipped.push((name, format!("expiryTime {expiry:?}")));
            continue;
        };
        if now >= at {
            std::fs::remove_dir_all(&path).map_err(io_at(&path))?;
            r.removed.push((name, expiry.to_owned()));
        } else {
            r.kept.push((name, expiry.to_owned()));
        }
    }
    Ok(r)
}
