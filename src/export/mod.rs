//! Vault-exact exports of every corpus: plan, then run, then (in `verify`) re-read.
//!
//! Files (export name `NAME`), as `docs/export-contract.md` fixes them:
//! `NAME-1.zip`… (one account's mbox per zip, split at the split size), `NAME-metadata.xml`,
//! `NAME-metadata.csv` (mail), `NAME-results-count.csv`, `NAME-group-membership.csv` (groups),
//! `NAME-error.csv` + `NAME-account-exceptions.csv` / `NAME-failed-group-membership-lookups.csv`
//! (only with errors), `NAME-summary.json`, and last `NAME-checksums.md5`. Chat, Drive and
//! Voice (`chat.rs`, `drive.rs`, `voice.rs`) have their own file sets (`plan::file_set`):
//! Chat conversation documents in `NAME-N.zip`; Drive files in `NAME_0.zip`… with
//! `NAME-custodian-docid.csv` and, on errors, `NAME-incomplete-accounts.csv`; Voice one zip per
//! account and no count file.

mod attempt;
mod chat;
pub mod chat_context;
mod corpus_zip;
mod drive;
mod files;
mod metadata;
mod mime;
pub mod naming;
pub mod org;
pub mod parts;
pub mod plan;
pub mod records;
pub mod request;
pub mod run;
pub mod summary;
pub mod tables;
mod voice;

pub use metadata::{CSV_COLUMNS, ERROR_COLUMNS};
pub use naming::SafeName;
pub use plan::{ExportPlan, FileKind, PlannedFile, When, ZipPlan};
pub use records::PlanRecords;
pub use request::{ExportRequest, RequestError};
pub use run::{
    BlobSource, ExportProgress, Failure, FailureClass, NoExportProgress, RecordOutcome, Wanted,
};
pub use summary::{Balance, Summary, WrittenFile, ZipMap};
pub use tables::Tables;

use crate::format::md5sum;
use crate::model::{Corpus, DocId, Record};
use crate::query::Method;
use crate::search::Hit;
use crate::store::StoreError;
use crate::{Collection, SearchRequest, SearchResult};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why an export could not run (failed records are not errors: they are rows of `error.csv`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The request.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Searching.
    #[error("search: {0}")]
    Search(Box<crate::Error>),
    /// The export's folder already exists.
    #[error("{0} already exists: choose another export name or folder")]
    Exists(PathBuf),
    /// A leftover folder that this crate did not write stands where the export would be built.
    #[error("{0} exists and was not written by an ediscovery export: move it away and run again")]
    NotOurs(PathBuf),
    /// The output folder is inside the collection, whose writers own every file there.
    #[error(
        "{out} is inside the collection {collection}: write exports outside the collection folder"
    )]
    InsideCollection {
        /// The output folder asked for.
        out: PathBuf,
        /// The collection.
        collection: PathBuf,
    },
    /// `--retry-from` lists records this export cannot retry.
    #[error(
        "{path}: {} Document IDs are not in this collection ({}) and {} are outside this export's scope ({}); retry with the collection and scope of the export that wrote it",
        unknown.len(), show(unknown), out_of_scope.len(), show(out_of_scope)
    )]
    RetryMismatch {
        /// The error.csv.
        path: PathBuf,
        /// Not in the collection.
        unknown: Vec<DocId>,
        /// In the collection but not found by this export's search and scope.
        out_of_scope: Vec<DocId>,
    },
    /// A limit (threads, request nesting).
    #[error(transparent)]
    Limit(#[from] crate::LimitError),
    /// The collection's records could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A part of an export in parts is missing, damaged or not of this export.
    #[error(transparent)]
    Part(#[from] parts::PartError),
    /// Writing.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// At most ten DocIDs, for an error message.
fn show(ids: &[DocId]) -> String {
    let mut s: Vec<String> = ids.iter().take(10).map(ToString::to_string).collect();
    if ids.len() > 10 {
        s.push("…".to_owned());
    }
    if s.is_empty() { "none".to_owned() } else { s.join(", ") }
}

/// What an export wrote and what failed.
#[derive(Debug)]
pub struct Outcome {
    /// The summary (also written as `NAME-summary.json`).
    pub summary: Summary,
    /// The export's folder, `OUT/NAME`.
    pub dir: PathBuf,
}

impl Outcome {
    /// True when records failed (the CLI exits 3, "partial").
    pub fn has_failures(&self) -> bool {
        self.summary.totals.failed() > 0
    }
}

/// A retry's DocIDs (from `error.csv`) and the file they came from.
#[derive(Clone, Debug)]
pub struct Retry {
    /// The `error.csv`.
    pub path: PathBuf,
    /// Its `Document ID`s.
    pub doc_ids: BTreeSet<DocId>,
}

/// The search an export request describes: its scope and its query, parsed.
pub fn search_request(req: &ExportRequest, now: i64) -> Result<SearchRequest, ExportError> {
    let scope = req.scope()?;
    let query = crate::query::parse(&req.query.terms)
        .map_err(|e| ExportError::Search(Box::new(e.into())))?;
    Ok(SearchRequest::new(scope, query, now))
}

/// Plan the export `req` describes on `coll`: a [streaming plan](plan_streaming) for mail and
/// groups, otherwise the search's result [planned](fn@plan) as a whole (a retry too).
pub fn plan_search(
    coll: &Collection,
    req: &ExportRequest,
    now: i64,
    only: Option<&Retry>,
) -> Result<ExportPlan, ExportError> {
    plan_streaming(coll, req, search_request(req, now)?, only)
}

/// Plan the export of `sr` (the search `req` describes, with whatever held or deleted set it
/// carries) without holding the search's hits. The counts come first, from the index; then each
/// account's hits in turn ([`Collection::account_hits`]) are assigned to zips and let go. Its
/// zips keep only where their records start among their account's hits
/// ([`plan::Deferred`]); the run finds them again account by account ([`PlanRecords`]). So
/// planning and running hold one account's hits at a time, whatever the export's size: a
/// 10-million-message export does not hold 10 million hits (72 bytes each) and its plan.
///
/// The plan and the export's bytes are those [`plan`](fn@plan) gives for the whole result.
/// Chat, Drive and Voice plan from the records themselves, and a retry from its list of
/// DocIDs: those are planned whole.
pub fn plan_streaming(
    coll: &Collection,
    req: &ExportRequest,
    sr: SearchRequest,
    only: Option<&Retry>,
) -> Result<ExportPlan, ExportError> {
    let search = |e| ExportError::Search(Box::new(e));
    let scope = req.scope()?;
    if only.is_some() || !matches!(scope.corpus, Corpus::Mail | Corpus::Groups) {
        let result = coll.search(&sr).map_err(search)?;
        return plan(coll, req, &result, only);
    }
    let counts = coll.count_result(&sr).map_err(search)?.counts;
    let mut plan = empty_plan(req, &scope)?;
    plan.in_scope = counts.per_account.keys().map(|a| (a.clone(), 0)).collect();
    for account in counts.per_account.keys() {
        let hits = coll.account_hits(&sr, account).map_err(search)?;
        if let Some(h) = hits.iter().find(|h| h.corpus != scope.corpus || &h.account != account) {
            return Err(RequestError::Invalid(format!(
                "hit {} is a {} record of {}; this export is of {} of {account}",
                h.doc_id, h.corpus, h.account, scope.corpus
            ))
            .into());
        }
        if hits.is_empty() {
            continue;
        }
        plan.in_scope.insert(account.clone(), hits.len() as u64);
        let before = plan.zips.len();
        plan.add_hits(&hits.iter().collect::<Vec<_>>());
        let mut first = 0;
        for z in plan.zips.iter_mut().skip(before) {
            let count = z.records.len();
            z.deferred = Some(plan::Deferred { first, count, of: hits.len() });
            first += count;
            z.records = Vec::new();
            z.sizes = Vec::new();
        }
    }
    plan.finish_zips();
    plan.search = Some(std::sync::Arc::new(sr));
    Ok(plan)
}

/// The plan of `req` with no zips yet: name, options, scope-wide fields.
fn empty_plan(req: &ExportRequest, scope: &crate::query::Scope) -> Result<ExportPlan, ExportError> {
    let name = SafeName::export_name(&req.name).map_err(RequestError::Invalid)?;
    let custodians = match &scope.method {
        Method::Accounts(a) => a.clone(),
        _ => Vec::new(),
    };
    Ok(ExportPlan {
        name,
        corpus: scope.corpus,
        compression: req.ediscovery.compression,
        split_size: req.ediscovery.split_size.max(1),
        zips: Vec::new(),
        in_scope: BTreeMap::new(),
        user_query: req.query.terms.clone(),
        time_zone: scope.time_zone.clone(),
        custodians,
        line_endings: req.ediscovery.line_endings,
        csv_formula_guard: req.ediscovery.csv_formula_guard,
        recheck_md5: req.ediscovery.recheck_md5,
        include_access_info: req
            .export_options
            .drive_options
            .as_ref()
            .is_some_and(|d| d.include_access_info),
        files: Vec::new(),
        search: None,
    })
}

/// Plan the export of `result` (the search `req` describes, already run: the plan never reads
/// query text, so a result merged from several searches plans the same way). `only` restricts
/// the export to the DocIDs of a retry; every one of them must be in the collection and in the
/// result, or the plan is refused (a retry that silently left some out would look complete).
///
/// `colls` is one collection, or several searched as one ([`crate::search::search_many`], a
/// split search): each hit's `collection` says which holds it, and the plan names it by its
/// global seq ([`Tables`]), so the runner given the same collections reads it from the right
/// one. Chat context leaves out the deleted items the search hid: `result.hidden` over one
/// collection, the tables' own ([`Tables::hiding`]) over several.
pub fn plan<'a>(
    colls: impl Into<Tables<'a>>,
    req: &ExportRequest,
    result: &SearchResult,
    only: Option<&Retry>,
) -> Result<ExportPlan, ExportError> {
    let tables: Tables<'a> = colls.into();
    let scope = req.scope()?;
    let several = tables.len() > 1;
    if !several && result.hits.iter().any(|h| h.collection != 0) {
        return Err(RequestError::NotSupported(
            "the result holds hits of several collections but the plan was given one: give it \
             every collection the search covered, in the search's order"
                .to_owned(),
        )
        .into());
    }
    if several && scope.corpus == crate::model::Corpus::Chat && result.hidden.is_some() {
        // The search's hidden set names one collection's seqs; over several collections the
        // deleted items come with the tables ([`Tables::hiding`]).
        return Err(RequestError::NotSupported(
            "exporting Chat over several collections with one collection's hidden set: give \
             each collection's deleted items with the tables (Tables::hiding)"
                .to_owned(),
        )
        .into());
    }
    if let Some(h) = result.hits.iter().find(|h| h.corpus != scope.corpus) {
        return Err(RequestError::Invalid(format!(
            "hit {} is a {} record; this export is of {}",
            h.doc_id, h.corpus, scope.corpus
        ))
        .into());
    }
    // Over several collections each hit is renamed by its global seq (a copy, once per plan).
    let renamed: Vec<Hit> = if several {
        result
            .hits
            .iter()
            .map(|h| {
                let seq = tables.global(h.collection, h.seq).ok_or_else(|| {
                    RequestError::Invalid(format!(
                        "hit {} names collection {} seq {}, which the export was not given",
                        h.doc_id, h.collection, h.seq
                    ))
                })?;
                Ok(Hit { seq, collection: 0, ..h.clone() })
            })
            .collect::<Result<_, ExportError>>()?
    } else {
        Vec::new()
    };
    let all_hits = if several { &renamed } else { &result.hits };
    // The plan needs each hit's account, date, size and seq, which the hit carries: no record is
    // decoded here (the run decodes each planned record once).
    let hits: Vec<&Hit> =
        all_hits.iter().filter(|h| only.is_none_or(|o| o.doc_ids.contains(&h.doc_id))).collect();
    if let Some(retry) = only {
        let found: BTreeSet<&DocId> = hits.iter().map(|r| &r.doc_id).collect();
        let (mut unknown, mut out_of_scope) = (Vec::new(), Vec::new());
        for d in retry.doc_ids.iter().filter(|d| !found.contains(d)) {
            if tables.find(d)?.is_some() { out_of_scope.push(*d) } else { unknown.push(*d) }
        }
        if !unknown.is_empty() || !out_of_scope.is_empty() {
            return Err(ExportError::RetryMismatch {
                path: retry.path.clone(),
                unknown,
                out_of_scope,
            });
        }
    }
    let mut in_scope: BTreeMap<_, u64> =
        result.counts.per_account.keys().map(|a| (a.clone(), 0)).collect();
    for r in &hits {
        *in_scope.entry(r.account.clone()).or_insert(0) += 1;
    }
    let mut plan = ExportPlan { in_scope, ..empty_plan(req, &scope)? }.assign(&hits);
    // Chat documents and Drive file names need the records themselves (a conversation's context
    // messages, a file's title): decoded here, once, for those corpora only.
    match plan.corpus {
        crate::model::Corpus::Chat => {
            let held = result.hidden.as_deref();
            let hidden = |seq: u64, id: &DocId| {
                held.is_some_and(|h| h.contains(seq, id)) || tables.is_hidden(seq, id)
            };
            chat::plan_documents(&mut plan, &tables, &hidden)?
        }
        crate::model::Corpus::Drive => drive::plan_names(&mut plan, &tables)?,
        _ => {}
    }
    Ok(plan)
}

/// A planned record, decoded from the record table. One that cannot be read (a damaged table),
/// or that the table no longer holds, stops the export with where it is: skipping it would drop
/// a record from the export without a row in any report.
pub(crate) fn planned_record(store: &Tables<'_>, seq: u64) -> Result<Record, StoreError> {
    store.get(seq)?.ok_or_else(|| not_held(store, seq))
}

/// The key row of a planned record ([`planned_record`] without decoding it), on the same terms.
pub(crate) fn planned_key<'a>(
    store: &Tables<'a>,
    seq: u64,
) -> Result<(crate::model::Corpus, &'a crate::model::Account, crate::store::Key), StoreError> {
    store.key(seq)?.ok_or_else(|| not_held(store, seq))
}

fn not_held(store: &Tables<'_>, seq: u64) -> StoreError {
    StoreError::Corrupt {
        path: store.dir_of(seq).join("records"),
        reason: format!("record {seq} was planned but the record table does not hold it"),
    }
}

/// Records per chunk of a listing: each chunk is decoded and rendered in parallel, piece by
/// piece, then appended in plan order, so memory holds one chunk whatever the export's size.
const LISTING_CHUNK: usize = 8192;
/// Records per piece of a chunk (one task on the pool).
const LISTING_PIECE: usize = 256;

/// Write the files of `plan` that list records (`metadata.xml`, and `metadata.csv` for mail):
/// each record of `seqs` is decoded once, in a chunk decoded and rendered in parallel, and its
/// entries appended to every such file in plan order, so memory does not grow with the export.
/// The files and the characters XML replaced.
fn write_listings(
    plan: &ExportPlan,
    store: &Tables<'_>,
    seqs: impl Iterator<Item = Result<u64, ExportError>>,
    converted: &HashMap<u64, (u64, crate::digest::Md5)>,
    out: &Path,
    fragments: bool,
) -> Result<(Vec<WrittenFile>, u64), ExportError> {
    if plan.corpus == crate::model::Corpus::Chat {
        // A Chat Document describes a conversation document, not a record.
        return chat::write_listing(plan, store, converted, out);
    }
    let mut sinks = Vec::new();
    for f in plan.files.iter().filter(|f| f.kind.lists_records()) {
        let sink = if fragments {
            files::open_fragment(f, plan, out)
        } else {
            files::open_listing(f, plan, out)
        };
        let sink = sink.map_err(io_at(&out.join(&f.name)))?;
        sinks.extend(sink);
    }
    let mut seqs = seqs.peekable();
    while seqs.peek().is_some() {
        let chunk: Vec<u64> = seqs.by_ref().take(LISTING_CHUNK).collect::<Result<_, _>>()?;
        let pieces: Vec<&[u64]> = chunk.chunks(LISTING_PIECE).collect();
        let shared = &sinks;
        let rendered =
            run::map_each(&pieces, |piece| -> Result<Vec<(Vec<u8>, u64)>, ExportError> {
                let mut records = Vec::with_capacity(piece.len());
                for &seq in *piece {
                    records.push((planned_record(store, seq)?, converted.get(&seq)));
                }
                shared.iter().map(|s| s.render(&records).map_err(io_at(out))).collect()
            });
        for piece in rendered {
            for (s, (bytes, replaced)) in sinks.iter_mut().zip(piece?) {
                s.append(&bytes, replaced).map_err(io_at(out))?;
            }
        }
    }
    let mut written = Vec::with_capacity(sinks.len());
    let mut replaced = 0;
    for s in sinks {
        let d = s.finish().map_err(io_at(out))?;
        replaced += d.xml_replaced;
        written.push(d.file);
    }
    Ok((written, replaced))
}

/// DocIDs listed in an `error.csv` (for `--retry-from`).
pub fn failed_doc_ids(error_csv: &Path) -> Result<Retry, ExportError> {
    let io_err = |source| ExportError::Io { path: error_csv.to_path_buf(), source };
    let file = std::fs::File::open(error_csv).map_err(io_err)?;
    let (header, rows) = crate::format::csv::read(file).map_err(io_err)?;
    let col = header.iter().position(|h| h == "Document ID").ok_or_else(|| {
        io_err(io::Error::new(io::ErrorKind::InvalidData, "no `Document ID` column"))
    })?;
    let doc_ids = rows
        .iter()
        .map(|r| {
            r.get(col)
                .and_then(|c| crate::format::csv::unguard(c).parse::<DocId>().ok())
                .ok_or_else(|| {
                    io_err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("bad Document ID in {r:?}"),
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Retry { path: error_csv.to_path_buf(), doc_ids })
}

/// An I/O error at `path`, as an export error.
fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ExportError + use<> {
    let path = path.to_path_buf();
    move |source| ExportError::Io { path, source }
}

/// Is `path` (which may not exist yet) inside `dir` (which exists)? The longest existing
/// ancestor of `path` is resolved through symbolic links by the file system; the components
/// after it do not exist, so they hold no links and `..` among them is undone by hand.
fn is_inside(path: &Path, dir: &Path) -> bool {
    use std::path::Component;
    let (Ok(dir), Ok(cwd)) = (dir.canonicalize(), std::env::current_dir()) else { return false };
    let abs = cwd.join(path);
    let comps: Vec<Component<'_>> = abs.components().collect();
    for i in (0..=comps.len()).rev() {
        let prefix: PathBuf = comps[..i].iter().collect();
        if let Ok(mut full) = prefix.canonicalize() {
            for c in &comps[i..] {
                match c {
                    Component::ParentDir => {
                        full.pop();
                    }
                    Component::Normal(n) => full.push(n),
                    _ => {}
                }
            }
            return full.starts_with(&dir);
        }
    }
    false
}

/// The file a run leaves in its unfinished folder, so that a later run knows the folder is an
/// export of ours that never finished (and may be removed), not somebody's data.
const MARKER: &str = ".ediscovery-export-in-progress";

/// Make `OUT/.NAME.partial/`, removing one that an earlier run left unfinished (it carries
/// [`MARKER`]); refuse when `OUT/NAME` exists or the leftover is not ours.
fn start_folder(out: &Path, name: &str) -> Result<(PathBuf, PathBuf), ExportError> {
    let done = out.join(name);
    let tmp = out.join(format!(".{name}.partial"));
    std::fs::create_dir_all(out).map_err(io_at(out))?;
    if std::fs::symlink_metadata(&done).is_ok() {
        return Err(ExportError::Exists(done));
    }
    match std::fs::symlink_metadata(&tmp) {
        Ok(m) if m.is_dir() && std::fs::symlink_metadata(tmp.join(MARKER)).is_ok() => {
            std::fs::remove_dir_all(&tmp).map_err(io_at(&tmp))?;
        }
        Ok(_) => return Err(ExportError::NotOurs(tmp)),
        Err(_) => {}
    }
    std::fs::create_dir(&tmp).map_err(io_at(&tmp))?;
    std::fs::write(tmp.join(MARKER), format!("{name}\n")).map_err(io_at(&tmp))?;
    Ok((tmp, done))
}

/// Make the finished folder visible under its name in one rename, after everything in it and
/// the folder itself are on disk.
fn finish_folder(tmp: &Path, done: &Path) -> io::Result<()> {
    std::fs::remove_file(tmp.join(MARKER))?;
    std::fs::File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, done)?;
    if let Some(parent) = done.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Run `plan` into the folder `out/NAME` (created; `out` too), reading bytes through `source`.
///
/// The export becomes visible as a whole: everything is written in `out/.NAME.partial/`, which
/// is renamed to `out/NAME` only when every file is complete and synced. A run killed before
/// that leaves only the `.partial` folder, which the next run of the same name removes.
///
/// `colls` are the collections the plan was made from ([`plan`](fn@plan)), in the same order;
/// `source` reads the bytes of the records they hold (by global seq, [`Tables`]).
pub fn run<'a>(
    colls: impl Into<Tables<'a>>,
    req: &ExportRequest,
    plan: &ExportPlan,
    source: &dyn BlobSource,
    out: &Path,
    progress: &dyn ExportProgress,
) -> Result<Outcome, ExportError> {
    let started = Instant::now();
    let tables: Tables<'a> = colls.into();
    let threads = crate::Limits::default().threads(req.ediscovery.threads)?;
    outside_collections(out, &tables)?;
    let (tmp, done) = start_folder(out, plan.name.as_str())?;
    let summary = write_all(&tables, req, plan, source, &tmp, progress, threads, started)?;
    finish_folder(&tmp, &done).map_err(io_at(&done))?;
    Ok(Outcome { summary, dir: done })
}

/// Refuse an output folder inside any of the collections, whose writers own every file there.
fn outside_collections(out: &Path, tables: &Tables<'_>) -> Result<(), ExportError> {
    match tables.dirs().find(|d| is_inside(out, d)) {
        Some(collection) => Err(ExportError::InsideCollection {
            out: out.to_path_buf(),
            collection: collection.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Write every file of the export into `out`.
#[allow(clippy::too_many_arguments)]
fn write_all(
    store: &Tables<'_>,
    req: &ExportRequest,
    plan: &ExportPlan,
    source: &dyn BlobSource,
    out: &Path,
    progress: &dyn ExportProgress,
    threads: usize,
    started: Instant,
) -> Result<Summary, ExportError> {
    // A streaming plan's records are found again account by account: kept for the zip writers
    // in flight and the listing writer.
    let records = PlanRecords::new(store, plan, threads + 2);
    let planned = || records.planned(plan);
    // Metadata is written alongside the zips for every planned record, the common case being that
    // all export; if any record fails it is written again below for the exported ones only. With
    // CRLF line endings the metadata describes the converted bytes, known only once the zips are
    // written, so it is written after them. Records are decoded where they are used, batch by
    // batch: nothing holds every record of the export.
    // Chat and Voice describe the messages they render, Drive names files in the plan: their
    // metadata is written after the zips, from what the zips say.
    let alongside = plan.line_endings == request::LineEndings::Original
        && matches!(plan.corpus, crate::model::Corpus::Mail | crate::model::Corpus::Groups);
    let no_conversion = HashMap::new();
    let (zips, optimistic) = run::join(
        || run::write_zips(plan, &records, store, source, out, threads, progress),
        || {
            alongside
                .then(|| write_listings(plan, store, planned(), &no_conversion, out, false))
                .transpose()
        },
    );
    let zips = zips?;
    let optimistic = optimistic?;
    // The files that list records were written alongside the zips for every planned record, the
    // common case; when a record failed they are written again for the exported ones only (the
    // planned ones less the failed, in plan order).
    let any_failed = zips.iter().any(|(_, o)| !o.failed.is_empty());
    let listed = match optimistic {
        Some(m) if !any_failed => m,
        _ => {
            let (failed_seqs, converted) = failed_and_converted(&zips);
            let exported =
                planned().filter(|s| s.as_ref().map_or(true, |s| !failed_seqs.contains(s)));
            write_listings(plan, store, exported, &converted, out, false)?
        }
    };
    write_rest(store, req, plan, zips, listed, out, threads, started)
}

/// The seqs of the records that failed in `zips`, and the size and MD5 of each converted one.
fn failed_and_converted(
    zips: &[run::ZipOutcome],
) -> (HashSet<u64>, HashMap<u64, (u64, crate::digest::Md5)>) {
    let failed = zips.iter().flat_map(|(_, o)| o.failed.iter().map(|(s, _)| *s)).collect();
    let converted = zips.iter().flat_map(|(_, o)| o.converted.iter().copied()).collect();
    (failed, converted)
}

/// Write everything after the zips and the listings: the counts, error reports and other
/// planned files, the summary and the checksum file. `zips` are the content zips written (in
/// plan order) and what happened to their records; `listed` the listings written and the
/// characters XML replaced in them. One machine's export and the merge of its parts both end
/// here, so they write the same bytes.
#[allow(clippy::too_many_arguments)]
fn write_rest(
    store: &Tables<'_>,
    req: &ExportRequest,
    plan: &ExportPlan,
    zips: Vec<run::ZipOutcome>,
    listed: (Vec<WrittenFile>, u64),
    out: &Path,
    threads: usize,
    started: Instant,
) -> Result<Summary, ExportError> {
    let mut files: Vec<WrittenFile> = Vec::new();
    let mut failed: Vec<(Record, Failure)> = Vec::new();
    let mut balances: BTreeMap<String, Balance> = plan
        .in_scope
        .iter()
        .map(|(a, n)| {
            (a.to_string(), Balance { account: a.to_string(), in_scope: *n, ..Balance::default() })
        })
        .collect();
    let mut given_newline = 0;
    let mut exported_bytes = 0;
    for ((file, o), z) in zips.into_iter().zip(&plan.zips) {
        files.push(file);
        let b = balances.entry(z.account.to_string()).or_default();
        b.exported += o.exported;
        given_newline += o.newline_added;
        exported_bytes += o.bytes;
        for (seq, f) in o.failed {
            match f.class {
                FailureClass::Transient => b.failed_transient += 1,
                FailureClass::NonTransient => b.failed_non_transient += 1,
            }
            failed.push((planned_record(store, seq)?, f));
        }
    }

    let (listed, mut replaced) = listed;
    let mut listings: BTreeMap<String, WrittenFile> =
        listed.into_iter().map(|f| (f.name.clone(), f)).collect();
    let members = store.members().map_err(|e| ExportError::Io {
        path: store.dir_of(0).join("groups.json"),
        source: io::Error::other(e),
    })?;
    let end = files::RunEnd { plan, failed: &failed, balances: &balances, members: &members };
    // Every other planned file, in the plan's order, when its condition holds.
    let fixed = plan
        .files
        .iter()
        .filter(|f| !matches!(f.kind, FileKind::Content | FileKind::Summary | FileKind::Checksums));
    for f in fixed {
        if let Some(done) = listings.remove(&f.name) {
            files.push(done);
        } else if f.when.applies(&end) {
            let done = files::open(f, &end, out)
                .and_then(|s| s.finish())
                .map_err(io_at(&out.join(&f.name)))?;
            replaced += done.xml_replaced;
            files.push(done.file);
        }
    }

    let accounts: Vec<Balance> = balances.into_values().collect();
    let mut totals = Balance { account: "total".to_owned(), ..Balance::default() };
    for b in &accounts {
        totals.in_scope += b.in_scope;
        totals.exported += b.exported;
        totals.failed_transient += b.failed_transient;
        totals.failed_non_transient += b.failed_non_transient;
        totals.excluded += b.excluded;
    }
    let summary = Summary {
        name: plan.name.to_string(),
        corpus: plan.corpus.to_string(),
        request: req.clone(),
        accounts,
        totals,
        files: files.clone(),
        messages_given_final_newline: given_newline,
        xml_replaced_characters: replaced,
        exported_bytes,
        seconds: started.elapsed().as_secs_f64(),
        threads,
        zips: plan
            .zips
            .iter()
            .map(|z| summary::ZipMap {
                file: z.file.clone(),
                entry: z.entry.clone(),
                account: z.account.to_string(),
                part: z.part,
            })
            .collect(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let write = |kind: FileKind, body: &dyn Fn(&mut dyn Write) -> io::Result<()>| {
        let name = plan.file_of(kind);
        files::FileOut::create(out, &name, kind)
            .and_then(|mut f| body(&mut f).and_then(|()| f.finish()))
            .map_err(io_at(&out.join(&name)))
    };
    files.push(write(FileKind::Summary, &|w| {
        serde_json::to_writer_pretty(&mut *w, &summary).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })?);
    let sums: Vec<(String, crate::digest::Md5)> =
        files.iter().filter_map(|f| f.md5.parse().ok().map(|m| (f.name.clone(), m))).collect();
    write(FileKind::Checksums, &|w| md5sum::write(w, &sums))?;
    Ok(summary)
}
