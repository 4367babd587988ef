//! `ediscovery export`: what a search finds, written as Vault writes it.

use crate::exit;
use crate::output::{self, CliResult};
use crate::progress::ExportBar;
use crate::scope::ScopeArgs;
use clap::Args;
use ediscovery::Collection;
use ediscovery::export::parts::{self, PartOf};
use ediscovery::export::request::LineEndings;
use ediscovery::export::{self, BlobSource, ExportPlan, ExportRequest, Tables};
use ediscovery::format::zip::Compression;
use ediscovery::governance::{Governance, MatterAction, MatterId};
use ediscovery::model::Account;
use ediscovery::query::DataScope;
use ediscovery::search::HeldSet;
use ediscovery::split;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  done: every record in scope exported (or, with --dry-run, planned)
  1  error: nothing was exported (a bad query, scope or request, an unreadable collection, an
     index out of step with the records, a limit passed, I/O, an export in a matter refused by a
     rule: named, and the refusal is in the audit log)
  2  usage: wrong flags or arguments, or a query starting with `--` (a mistyped flag?)
  3  partial: the export is written, but records failed (listed in NAME-error.csv; export them
     again with --retry-from)
  5  transient: the object store failed or did not answer (--splits, --out s3://…), or a part's
     records could not be read now (the part is not committed); the same command may pass again

In parts (mail and groups; each step is one process, e.g. a task engine's task):
    ediscovery export part --part K/N [the same flags and query]   writes OUT/NAME.parts/part-K/
      (each attempt in its own folder part-K/attempt-<id>/, committed by part-K/part.json)
    ediscovery export merge --parts N [the same flags and query]   joins them into OUT/NAME")]
pub struct ExportArgs {
    /// The collection folder.
    #[arg(long, required_unless_present = "splits", conflicts_with = "splits")]
    collection: Option<PathBuf>,
    /// Export from published splits instead of a collection: comma-separated split URLs
    /// (ROOT/splits/<id>, as `split publish` prints) or roots (every split under ROOT/splits/),
    /// as `search --splits`. The export is the one a collection holding every split's records
    /// would give; each record's bytes are read from its split's pack by a ranged read and
    /// checked against their MD5. Splits carry no holds: no --matter, no HELD_DATA.
    #[arg(long, value_delimiter = ',', conflicts_with = "matter")]
    splits: Vec<String>,
    /// Where fetched split files (record tables, indexes; never packs) are kept between runs
    /// (default: ediscovery-splits in the temporary folder), as `search --split-cache`.
    #[arg(long, visible_alias = "cache", requires = "splits")]
    split_cache: Option<PathBuf>,
    /// Export name (every file starts with it).
    #[arg(long, required_unless_present = "request")]
    name: Option<String>,
    /// The output folder (the export is OUT/NAME), or a URL: `s3://bucket/prefix` (endpoint and
    /// credentials from the usual AWS_* variables) or `file:///folder`, through the same
    /// object-store client. To a URL the export is written to --staging, verified, then uploaded
    /// to URL/NAME/: every file, each one's MD5 checked against NAME-checksums.md5, then that
    /// checksum file last, create-only, so a reader finding it finds the whole export. A name
    /// already there is refused ("exists") unless the stored checksum file is ours byte for
    /// byte (a retried upload). Not with --matter, nor for `export part` / `export merge`.
    #[arg(long)]
    out: PathBuf,
    /// With --out URL: the local folder the export is written to before the upload (default:
    /// a new folder in the temporary folder). OUT/NAME in it is removed after a successful
    /// upload, and kept (and named in the error) when verify or the upload fails.
    #[arg(long)]
    staging: Option<PathBuf>,
    /// With --out URL: where the export is uploaded (set by `run`; --out then names the staging
    /// folder).
    #[arg(skip)]
    upload_to: Option<String>,
    /// A Vault-shaped request (JSON) instead of the name, scope flags, options and query: the
    /// file says all of it, so any of those flags beside it is a usage error.
    #[arg(long, conflicts_with_all = [
        "name", "query", "corpus", "accounts", "org_unit", "entire_org", "start", "end",
        "time_zone", "exclude_drafts", "vault_rounding", "compression", "line_endings",
        "no_csv_guard", "split_size", "threads", "recheck_md5", "data_scope",
        "include_access_info",
    ])]
    request: Option<PathBuf>,
    #[command(flatten)]
    scope: ScopeArgs,
    /// deflate or store.
    #[arg(long, default_value = "deflate")]
    compression: String,
    /// Line endings of exported messages: original (byte-exact) or crlf (as Gmail's own exports;
    /// Hash/FileSize then describe the CRLF bytes, IngestHash keeps the ingest-time MD5).
    #[arg(long, default_value = "original")]
    line_endings: String,
    /// Write CSV cells as they are, without the `'` that stops spreadsheets running formulas
    /// (for machine pipelines, which would read the `'` as data).
    #[arg(long)]
    no_csv_guard: bool,
    /// Check every message read from the store against its ingest-time MD5 (a second MD5 pass)
    /// instead of the CRC-32 recorded at ingest. `verify` re-hashes the output either way.
    #[arg(long)]
    recheck_md5: bool,
    /// An account's mbox continues in the next zip past this many bytes.
    #[arg(long, default_value_t = 10_000_000_000)]
    split_size: u64,
    /// Drive: sort users with indirect access (through a group, the domain or a public link)
    /// into Collaborators and Viewers by their role (Vault's includeAccessInfo); without it they
    /// are all in Others.
    #[arg(long)]
    include_access_info: bool,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print the plan (JSON) and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Export again only what this error.csv lists (still within the scope).
    #[arg(long)]
    retry_from: Option<PathBuf>,
    /// Print JSON: {"dir": the export folder, "summary": NAME-summary.json as written}, and
    /// with --matter "exportId". (With --dry-run the plan is JSON either way.)
    #[arg(long)]
    json: bool,
    /// Export in this matter (needs --as): only its owner and collaborators may, only while it
    /// is open; the export is recorded in the matter (IN_PROGRESS, then COMPLETED or FAILED
    /// with its numbers and files) and logged.
    #[arg(long, requires = "actor")]
    matter: Option<String>,
    /// The account exporting (with --matter).
    #[arg(long = "as", value_name = "ACCOUNT", requires = "matter")]
    actor: Option<String>,
    /// Also export items users deleted that a hold or retention rule still keeps (left out by
    /// default; a HELD_DATA export always includes held ones).
    #[arg(long)]
    include_deleted: bool,
    /// The Vault query (quote it in the shell). It may start with `-` (`-has:attachment`);
    /// after `--` nothing is read as a flag.
    #[arg(default_value = "", allow_hyphen_values = true)]
    query: String,
}

/// The request: read from `--request`, or built from the scope flags, the query and the option
/// flags.
fn request(a: &ExportArgs) -> Result<ExportRequest, Box<dyn std::error::Error>> {
    if let Some(p) = &a.request {
        return Ok(ExportRequest::from_json(&std::fs::read(p)?, &ediscovery::Limits::default())
            .map_err(|e| format!("{}: {e}", p.display()))?);
    }
    let name = a.name.as_deref().unwrap_or_default();
    let mut req = ExportRequest::from_spec(name, &a.scope.spec(), &a.query)?;
    let o = &mut req.ediscovery;
    o.compression = match a.compression.as_str() {
        "deflate" => Compression::Deflate,
        "store" => Compression::Store,
        other => return Err(format!("--compression {other}: use deflate or store").into()),
    };
    o.split_size = a.split_size;
    o.line_endings = match a.line_endings.as_str() {
        "original" => LineEndings::Original,
        "crlf" => LineEndings::Crlf,
        other => return Err(format!("--line-endings {other}: use original or crlf").into()),
    };
    o.csv_formula_guard = !a.no_csv_guard;
    o.recheck_md5 = a.recheck_md5;
    o.threads = a.threads;
    if a.include_access_info {
        req.export_options.drive_options =
            Some(ediscovery::export::request::DriveExportOptions { include_access_info: true });
    }
    Ok(req)
}

/// `ediscovery export part`: one part of an export written in parts (a task engine's task):
/// the zips of a run of accounts (the plan's accounts in plan order cut into N runs) and the
/// fragments of its metadata files, in OUT/NAME.parts/part-K/, committed by part.json written
/// last. A committed part is checked, not written again.
#[derive(Args)]
pub struct PartArgs {
    /// Which part, K/N (1 <= K <= N).
    #[arg(long)]
    part: String,
    #[command(flatten)]
    flags: ExportArgs,
}

/// `ediscovery export merge`: join the N committed parts in OUT/NAME.parts/ into OUT/NAME,
/// byte for byte the export one machine writes (summary timings aside); a missing or damaged
/// part is refused and named.
#[derive(Args)]
pub struct MergeArgs {
    /// How many parts the export was written in.
    #[arg(long)]
    parts: usize,
    #[command(flatten)]
    flags: ExportArgs,
}

/// Run the export's search over the splits `--splits` names (`split::search`), fetching their
/// tables and indexes into the cache.
fn split_search(
    a: &ExportArgs,
    req: &ExportRequest,
) -> Result<split::SplitSearch, Box<dyn std::error::Error>> {
    let sr = export::search_request(req, ediscovery::model::time::now())?;
    let cache =
        a.split_cache.clone().unwrap_or_else(|| std::env::temp_dir().join("ediscovery-splits"));
    let opts = split::SplitSearchOptions { include_deleted: a.include_deleted };
    Ok(split::search(&a.splits, &cache, &split::StoreConfig::from_env(), &sr, opts)?)
}

/// The collection folder (clap requires it when --splits is absent).
fn collection_dir(a: &ExportArgs) -> Result<&PathBuf, Box<dyn std::error::Error>> {
    a.collection.as_ref().ok_or_else(|| "give --collection or --splits".into())
}

/// What a step of an export in parts is given: the collections (or splits) as one, the request,
/// the plan, and where record bytes are read.
type Step<'x, T> = dyn FnOnce(
        Tables<'_>,
        &ExportRequest,
        &ExportPlan,
        &dyn BlobSource,
    ) -> Result<T, Box<dyn std::error::Error>>
    + 'x;

/// A step of an export in parts (no matter, retry or dry run: those belong to the whole
/// export): the request and plan made from the collection or the splits, and `step` run with
/// them.
fn part_step<T>(a: &ExportArgs, step: Box<Step<'_, T>>) -> Result<T, Box<dyn std::error::Error>> {
    if out_url(a).is_some() || a.staging.is_some() {
        return Err(format!(
            "--out {}: parts and their merge are written to a local folder; upload the merged \
             export folder, or run `export --out URL` for the whole export",
            a.out.display()
        )
        .into());
    }
    if a.matter.is_some() || a.retry_from.is_some() || a.dry_run {
        return Err(
            "--matter, --retry-from and --dry-run are for a whole export, not its parts".into()
        );
    }
    let req = request(a)?;
    if !a.splits.is_empty() {
        let found = split_search(a, &req)?;
        let blobs = split::SplitBlobs::new(&found);
        let plan = export::plan(blobs.tables(), &req, &found.result, None)?;
        return step(blobs.tables(), &req, &plan, &blobs);
    }
    let dir = collection_dir(a)?;
    let coll = Collection::open(dir)?;
    let now = ediscovery::model::time::now();
    let mut sr = export::search_request(&req, now)?;
    if !a.include_deleted {
        sr.deleted = Some(Arc::new(Governance::open(dir)?.deleted_set(&coll)?));
    }
    let result = coll.search(&sr)?;
    let plan = export::plan(&coll, &req, &result, None)?;
    step(Tables::from(&coll), &req, &plan, coll.store())
}

pub fn run_part(o: &mut dyn Write, p: PartArgs) -> CliResult {
    let a = &p.flags;
    if let Some(code) = output::flag_like(&a.query) {
        return Ok(code);
    }
    let part = PartOf::parse(&p.part)?;
    let (done, name) = part_step(
        a,
        Box::new(|tables, req, plan, source| {
            let progress = &export::NoExportProgress;
            let done = parts::write_part(tables, req, plan, part, source, &a.out, progress)?;
            Ok((done, plan.name.to_string()))
        }),
    )?;
    if a.json {
        let v = serde_json::json!({
            "dir": done.dir.to_string_lossy(), "written": done.written, "zips": done.zips,
        });
        output::json(o, &v)?;
    } else {
        let what = if done.written { "written" } else { "already committed (checked)" };
        writeln!(
            o,
            "part {}/{} of {}: {} zips, {what} → {}",
            part.k,
            part.n,
            name,
            done.zips,
            done.dir.display()
        )?;
    }
    Ok(exit::code(exit::OK))
}

pub fn run_merge(o: &mut dyn Write, m: MergeArgs) -> CliResult {
    let a = &m.flags;
    if let Some(code) = output::flag_like(&a.query) {
        return Ok(code);
    }
    let outcome = part_step(
        a,
        Box::new(|tables, req, plan, _| Ok(parts::merge(tables, req, plan, m.parts, &a.out)?)),
    )?;
    report(o, a, &outcome, None)
}

/// `export --splits`: the plan made over the splits a split search keeps, each record's bytes
/// read from its split.
fn run_splits(
    o: &mut dyn Write,
    a: &ExportArgs,
    req: &ExportRequest,
    only: Option<&export::Retry>,
) -> CliResult {
    let found = split_search(a, req)?;
    let blobs = split::SplitBlobs::new(&found);
    let plan = export::plan(blobs.tables(), req, &found.result, only)?;
    if a.dry_run {
        output::json(o, &plan)?;
        return Ok(exit::code(exit::OK));
    }
    let progress = ExportBar::new(plan.zips.iter().map(|z| z.bytes).sum());
    let outcome = export::run(blobs.tables(), req, &plan, &blobs, &a.out, &progress)?;
    progress.finish();
    report(o, a, &outcome, None)
}

/// The plan of a run: streamed (one account's hits held at a time) to be written, whole (every
/// record listed) to be printed by a dry run.
fn plan_for(
    coll: &Collection,
    req: &ExportRequest,
    sr: ediscovery::SearchRequest,
    only: Option<&export::Retry>,
    dry_run: bool,
) -> Result<ExportPlan, export::ExportError> {
    if dry_run {
        let result = coll.search(&sr).map_err(|e| export::ExportError::Search(Box::new(e)))?;
        export::plan(coll, req, &result, only)
    } else {
        export::plan_streaming(coll, req, sr, only)
    }
}

/// `--out` when it is a URL (`s3://…`, `file://…`; anything with `://`, so an unknown scheme
/// is refused by the store rather than made into a folder named `http:`).
fn out_url(a: &ExportArgs) -> Option<String> {
    a.out.to_str().filter(|s| s.contains("://")).map(str::to_owned)
}

pub fn run(o: &mut dyn Write, mut a: ExportArgs) -> CliResult {
    if let Some(code) = output::flag_like(&a.query) {
        return Ok(code);
    }
    if let Some(url) = out_url(&a) {
        if a.matter.is_some() {
            return Err(format!(
                "--out {url}: an export in a matter is recorded where it is written; \
                 export it to a folder"
            )
            .into());
        }
        a.out = a.staging.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ediscovery-export-{}", std::process::id()))
        });
        a.upload_to = Some(url);
    } else if a.staging.is_some() {
        return Err("--staging is for --out URL".into());
    }
    let req = request(&a)?;
    let only = a.retry_from.as_deref().map(export::failed_doc_ids).transpose()?;
    if !a.splits.is_empty() {
        return run_splits(o, &a, &req, only.as_ref());
    }
    let dir = collection_dir(&a)?;
    let coll = Collection::open(dir)?;
    let now = ediscovery::model::time::now();
    let in_matter = match (&a.matter, &a.actor) {
        (Some(m), Some(who)) => Some((
            Governance::open(dir)?,
            Account::new(who).map_err(|e| format!("--as {who}: {e}"))?,
            MatterId::new(m),
        )),
        _ => None,
    };
    // Items users deleted that a hold or rule still keeps are left out unless asked for.
    let deleted = if a.include_deleted {
        None
    } else {
        Some(Arc::new(Governance::open(dir)?.deleted_set(&coll)?))
    };
    let Some((g, actor, id)) = in_matter else {
        let mut sr = export::search_request(&req, now)?;
        sr.deleted = deleted;
        let plan = plan_for(&coll, &req, sr, only.as_ref(), a.dry_run)?;
        if a.dry_run {
            output::json(o, &plan)?;
            return Ok(exit::code(exit::OK));
        }
        let progress = ExportBar::new(plan.zips.iter().map(|z| z.bytes).sum());
        let outcome = export::run(&coll, &req, &plan, coll.store(), &a.out, &progress)?;
        progress.finish();
        return report(o, &a, &outcome, None);
    };
    let held_scope = req.scope()?.data_scope == DataScope::Held;
    // The plan's search, limited to what holds keep for a HELD_DATA request.
    let plan_with = |held: Option<Arc<HeldSet>>| -> Result<ExportPlan, Box<dyn std::error::Error>> {
        let mut sr = export::search_request(&req, now)?;
        sr.held = held;
        sr.deleted = deleted.clone();
        Ok(plan_for(&coll, &req, sr, only.as_ref(), a.dry_run)?)
    };
    if a.dry_run {
        let held = g.run(|tx| {
            tx.authorize(&actor, &id, MatterAction::Export)?;
            held_scope.then(|| tx.held_set(&coll).map(Arc::new)).transpose()
        })?;
        output::json(o, &plan_with(held)?)?;
        return Ok(exit::code(exit::OK));
    }
    let (export_id, held) = g.run(|tx| tx.start_export(&actor, &id, &coll, &req))?;
    let outcome = plan_with(held).and_then(|plan| {
        let progress = ExportBar::new(plan.zips.iter().map(|z| z.bytes).sum());
        let outcome = export::run(&coll, &req, &plan, coll.store(), &a.out, &progress)?;
        progress.finish();
        Ok(outcome)
    });
    // Recorded either way: the matter says how its export ended.
    let finished = outcome.as_ref().map_err(|e| e.to_string());
    g.run(|tx| tx.finish_export(&actor, &id, &export_id, finished))?;
    report(o, &a, &outcome?, Some(&export_id))
}

fn report(
    o: &mut dyn Write,
    a: &ExportArgs,
    outcome: &export::Outcome,
    export_id: Option<&str>,
) -> CliResult {
    let code = exit::code(if outcome.has_failures() { exit::PARTIAL } else { exit::OK });
    let s = &outcome.summary;
    let uploaded = match &a.upload_to {
        Some(url) => Some(upload(a, outcome, url)?),
        None => None,
    };
    if a.json {
        let mut v = serde_json::json!({"dir": outcome.dir.to_string_lossy(), "summary": s});
        if let Some(id) = export_id {
            v["exportId"] = serde_json::json!(id);
        }
        if let Some(u) = &uploaded {
            v["url"] = serde_json::json!(u.url);
            v["uploaded"] = serde_json::json!(u.uploaded);
        }
        output::json(o, &v)?;
        return Ok(code);
    }
    match &uploaded {
        Some(u) => {
            let how = if u.uploaded { "" } else { " (already there, identical: nothing written)" };
            writeln!(o, "export          {} → {}{how}", s.name, u.url)?
        }
        None => writeln!(o, "export          {} → {}", s.name, a.out.display())?,
    }
    writeln!(o, "in scope        {}", s.totals.in_scope)?;
    writeln!(o, "exported        {}", s.totals.exported)?;
    writeln!(
        o,
        "failed          {} transient, {} non-transient",
        s.totals.failed_transient, s.totals.failed_non_transient
    )?;
    writeln!(o, "files           {}", s.files.len() + 2)?;
    writeln!(
        o,
        "time            {:.2} s ({:.1} MB/s, {:.0} messages/s)",
        s.seconds,
        s.exported_bytes as f64 / 1e6 / s.seconds.max(1e-9),
        s.totals.exported as f64 / s.seconds.max(1e-9)
    )?;
    if let Some(id) = export_id {
        writeln!(o, "recorded        export {id} in the matter")?;
    }
    if outcome.has_failures() {
        writeln!(o, "see {}-error.csv; retry with --retry-from", s.name)?;
    }
    Ok(code)
}

/// With --out URL: verify the export written to the staging folder, upload it
/// (`split::upload_export`), then remove it (and the staging folder when that leaves it empty).
/// On failure the staged export is kept and named.
fn upload(
    a: &ExportArgs,
    outcome: &export::Outcome,
    url: &str,
) -> Result<split::Uploaded, Box<dyn std::error::Error>> {
    let dir = &outcome.dir;
    let kept = |e: &dyn std::fmt::Display| format!("{e}; the export is kept in {}", dir.display());
    let report = ediscovery::verify::verify(dir).map_err(|e| kept(&e))?;
    if !report.ok() {
        return Err(kept(&format!(
            "verify before upload found problems: {}",
            report.problems.join("; ")
        ))
        .into());
    }
    let cfg = split::StoreConfig::from_env();
    let done = split::upload_export(dir, &outcome.summary.name, url, &cfg).map_err(|e| kept(&e))?;
    std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Only an empty staging folder goes: a --staging folder holding other things stays.
    let _ = std::fs::remove_dir(&a.out);
    Ok(done)
}
