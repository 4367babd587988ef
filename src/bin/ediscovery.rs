//! The `ediscovery` command line: a thin layer over the library.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::{Args, Parser, Subcommand};
use ediscovery::ingest::{IngestReport, Source};
use ediscovery::model::{Account, Corpus, OrgUnit};
use ediscovery::{Collection, CollectionWriter, IngestOptions, IngestProgress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "ediscovery",
    version,
    about = "Hold, search and export custodians' mail like Google Vault"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a mailbox into a collection (created if missing). Exit 1 when anything was rejected.
    Ingest(IngestArgs),
    /// Search with a Vault query within a scope: one line per hit, or counts.
    /// Exit 1 with a pointed message when the query or scope is wrong.
    Search(SearchArgs),
    /// Export what a search finds, as Vault does. Exit 0 when clean, 2 when records failed
    /// (see NAME-error.csv), 1 on errors.
    Export(ExportArgs),
    /// Re-read an export folder: checksums, names, messages against metadata, balance.
    Verify {
        /// The export folder.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index from the stored records (when search or export says the index is
    /// out of step with the records).
    Reindex {
        /// The collection folder.
        #[arg(long)]
        collection: PathBuf,
        /// Worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Records per corpus and account, bytes, distinct blobs.
    Stats {
        /// The collection folder.
        #[arg(long)]
        collection: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct IngestArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    /// The custodian account (for groups, the group address; --group is the same).
    #[arg(long, alias = "group")]
    account: String,
    /// The group's member list (CSV: Member,Group,JoinTime,Role,Type), with --corpus groups.
    #[arg(long)]
    members: Option<PathBuf>,
    /// An mbox file.
    #[arg(long, group = "source")]
    mbox: Option<PathBuf>,
    /// A Gmail Takeout mbox (labels from X-Gmail-Labels).
    #[arg(long, group = "source")]
    takeout: Option<PathBuf>,
    /// A Maildir or Maildir++ folder.
    #[arg(long, group = "source")]
    maildir: Option<PathBuf>,
    /// A folder of .eml files.
    #[arg(long, group = "source")]
    eml: Option<PathBuf>,
    /// mail or groups.
    #[arg(long, default_value = "mail")]
    corpus: String,
    /// The account's org unit, e.g. /Legal/EMEA.
    #[arg(long, default_value = "/")]
    org_unit: String,
    /// Commit after this many new records.
    #[arg(long, default_value_t = 20_000)]
    commit_every: usize,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    /// Export name (every file starts with it).
    #[arg(long, required_unless_present = "request")]
    name: Option<String>,
    /// The output folder.
    #[arg(long)]
    out: PathBuf,
    /// A Vault-shaped request (JSON) instead of the scope flags and query.
    #[arg(long, conflicts_with_all = ["name", "query"])]
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
    /// An account's mbox continues in the next zip past this many bytes.
    #[arg(long, default_value_t = 10_000_000_000)]
    split_size: u64,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print the plan and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Export again only what this error.csv lists (still within the scope).
    #[arg(long)]
    retry_from: Option<PathBuf>,
    /// The Vault query (quote it in the shell). It may start with `-` (`-has:attachment`);
    /// after `--` nothing is read as a flag.
    #[arg(default_value = "", allow_hyphen_values = true)]
    query: String,
}

#[derive(Args)]
struct ScopeArgs {
    /// mail, groups, chat, drive or voice.
    #[arg(long, default_value = "mail")]
    corpus: String,
    /// Comma-separated accounts.
    #[arg(long, value_delimiter = ',', group = "method")]
    accounts: Vec<String>,
    /// An org unit path: its accounts and those below.
    #[arg(long, group = "method")]
    org_unit: Option<String>,
    /// The whole organisation (the default when no accounts or org unit are given).
    #[arg(long, group = "method")]
    entire_org: bool,
    /// First day included (YYYY-MM-DD), in --time-zone.
    #[arg(long)]
    start: Option<String>,
    /// Last day included (YYYY-MM-DD), in --time-zone.
    #[arg(long)]
    end: Option<String>,
    /// IANA time zone for day boundaries and after:/before: dates.
    #[arg(long, default_value = "UTC")]
    time_zone: String,
    /// Leave drafts out.
    #[arg(long)]
    exclude_drafts: bool,
    /// Reproduce Vault's ±30-minute mail day boundaries.
    #[arg(long)]
    vault_rounding: bool,
}

#[derive(Args)]
struct SearchArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    #[command(flatten)]
    scope: ScopeArgs,
    /// Print per-account counts and a final `total<TAB>N` line instead of hits.
    #[arg(long)]
    count: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Print the parsed query, the effective UTC bounds and warnings first.
    #[arg(long)]
    explain: bool,
    /// "Now" for older_than:/newer_than:, epoch seconds (default: the clock).
    #[arg(long)]
    now: Option<i64>,
    /// The Vault query (quote it in the shell). Empty: everything in scope. It may start with
    /// `-` (`-has:attachment`); after `--` nothing is read as a flag.
    #[arg(default_value = "", allow_hyphen_values = true)]
    query: String,
}

/// Exit codes, one table for every command (the README shows it).
mod exit {
    /// Done, nothing left out.
    pub const OK: u8 = 0;
    /// The command could not do its job (bad query or scope, unreadable input, I/O).
    pub const ERROR: u8 = 1;
    /// Wrong flags or arguments (clap's usage errors).
    pub const USAGE: u8 = 2;
    /// Done, but some items were left out and listed: records that failed to export (in
    /// `NAME-error.csv`), items an ingest rejected (in its report).
    pub const PARTIAL: u8 = 3;
    /// `verify` read the export and found it unsound.
    pub const UNSOUND: u8 = 4;
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut o = BufWriter::new(std::io::stdout().lock());
    let result = match cli.command {
        Command::Ingest(a) => ingest(&mut o, a),
        Command::Search(a) => search(&mut o, a),
        Command::Export(a) => export(&mut o, a),
        Command::Verify { dir, json } => verify(&mut o, &dir, json),
        Command::Stats { collection, json } => stats(&mut o, &collection, json),
        Command::Reindex { collection, threads } => reindex(&mut o, &collection, threads),
    };
    let result = result.and_then(|code| {
        o.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        // `ediscovery search … | head`: the reader has all it wanted.
        Err(e) if broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ediscovery: {e}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

fn reindex(o: &mut dyn Write, dir: &std::path::Path, threads: usize) -> CliResult {
    let threads = ediscovery::Limits::default().threads(threads)?;
    let started = Instant::now();
    let mut w = CollectionWriter::open(dir, threads)?;
    w.rebuild_index()?;
    let c = w.finish()?;
    writeln!(
        o,
        "reindexed {} records in {:.2} s",
        c.store().records().len(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(ExitCode::SUCCESS)
}

type CliResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// A progress bar on a terminal; plain `committed` lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    messages: u64,
}

impl IngestProgress for Progress {
    fn advanced(&mut self, messages: u64, bytes: u64) {
        self.messages += messages;
        if let Some(b) = &self.bar {
            b.inc(bytes);
            b.set_message(format!("{} messages", self.messages));
        }
    }
    fn committed(&mut self, generation: u64, records: u64) {
        match &self.bar {
            Some(b) => b.set_message(format!("{} messages, committed {records}", self.messages)),
            None => eprintln!("committed generation {generation}: {records} records"),
        }
    }
}

fn ingest(o: &mut dyn Write, a: IngestArgs) -> CliResult {
    let source = match (a.mbox, a.takeout, a.maildir, a.eml) {
        (Some(p), None, None, None) => Some(Source::Mbox(p)),
        (None, Some(p), None, None) => Some(Source::Takeout(p)),
        (None, None, Some(p), None) => Some(Source::Maildir(p)),
        (None, None, None, Some(p)) => Some(Source::Eml(p)),
        (None, None, None, None) if a.members.is_some() => None,
        _ => {
            return Err(
                "give exactly one of --mbox, --takeout, --maildir, --eml (or only --members)"
                    .into(),
            );
        }
    };
    let corpus = match Corpus::parse(&a.corpus) {
        Some(c @ (Corpus::Mail | Corpus::Groups)) => c,
        _ => {
            return Err(format!(
                "--corpus {}: mail and groups can be ingested from mail sources",
                a.corpus
            )
            .into());
        }
    };
    let mut opts = IngestOptions::new(Account::new(&a.account)?);
    opts.corpus = corpus;
    opts.org_unit = OrgUnit::new(&a.org_unit);
    opts.commit_every = a.commit_every.max(1);

    if let Some(m) = &a.members {
        if corpus != Corpus::Groups {
            return Err("--members goes with --corpus groups".into());
        }
        let members = ediscovery::ingest::members::read(m, opts.account.as_str())?;
        let n = members.len();
        let mut w = CollectionWriter::open(&a.collection, 1)?;
        w.set_members(opts.account.as_str(), members)?;
        drop(w);
        writeln!(o, "members         {n} recorded for {}", opts.account)?;
    }
    let Some(source) = source else { return Ok(ExitCode::SUCCESS) };
    let total = match &source {
        Source::Mbox(p) | Source::Takeout(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        _ => 0,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if total == 0 {
            b.set_style(
                ProgressStyle::with_template("{spinner} {bytes} {binary_bytes_per_sec} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
        } else {
            b.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        b
    });
    let mut progress = Progress { bar, messages: 0 };
    let started = Instant::now();
    let threads = ediscovery::Limits::default().threads(a.threads)?;
    let mut w = CollectionWriter::open(&a.collection, threads)?;
    let report = w.ingest(&source, &opts, &mut progress)?;
    w.finish()?;
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    if a.json {
        writeln!(o, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(o, &report, secs)?;
    }
    Ok(ExitCode::from(if report.is_clean() { exit::OK } else { exit::PARTIAL }))
}

fn print_report(o: &mut dyn Write, r: &IngestReport, secs: f64) -> std::io::Result<()> {
    writeln!(o, "source          {}", r.source)?;
    writeln!(o, "seen            {}", r.seen)?;
    writeln!(o, "ingested        {}", r.ingested)?;
    writeln!(o, "already present {}", r.already_present)?;
    writeln!(o, "rejected        {}", r.rejected.len())?;
    writeln!(o, "bytes           {}", r.bytes)?;
    writeln!(o, "new blobs       {}", r.new_blobs)?;
    writeln!(
        o,
        "time            {secs:.2} s ({:.0} messages/s, {:.1} MB/s)",
        r.seen as f64 / secs.max(1e-9),
        r.bytes as f64 / 1e6 / secs.max(1e-9)
    )?;
    for x in &r.rejected {
        writeln!(o, "rejected: {}: {}", x.position, x.reason)?;
    }
    let mut kinds: std::collections::BTreeMap<String, u64> = Default::default();
    for d in &r.defects {
        *kinds.entry(d.defect.kind().to_owned()).or_default() += 1;
    }
    for (k, n) in kinds {
        writeln!(o, "defect {k}: {n} records (see --json for each)")?;
    }
    for n in &r.notices {
        writeln!(o, "notice: {}: {}", n.position, n.message)?;
    }
    Ok(())
}

fn stats(o: &mut dyn Write, dir: &std::path::Path, json: bool) -> CliResult {
    // The records are readable without the index; say whether search would work.
    let s = ediscovery::store::Store::open(dir)?.stats();
    let index = match Collection::open(dir) {
        Ok(_) => "in step".to_owned(),
        Err(e @ ediscovery::Error::IndexOutOfStep { .. }) => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    if json {
        let per: Vec<_> = s
            .per_account
            .iter()
            .map(|((corpus, account), (n, b))| serde_json::json!({"corpus": corpus, "account": account, "records": n, "bytes": b}))
            .collect();
        let v = serde_json::json!({"records": s.records, "bytes": s.bytes, "blobs": s.blobs, "blob_bytes": s.blob_bytes, "accounts": per, "index": index});
        writeln!(o, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(o, "corpus\taccount\trecords\tbytes")?;
    for ((corpus, account), (n, b)) in &s.per_account {
        writeln!(o, "{corpus}\t{account}\t{n}\t{b}")?;
    }
    writeln!(o, "total\t\t{}\t{}", s.records, s.bytes)?;
    writeln!(o, "index\t{index}")?;
    writeln!(o, "distinct blobs\t\t{}\t{}", s.blobs, s.blob_bytes)?;
    Ok(ExitCode::SUCCESS)
}

/// A query that begins with `--` is almost surely a mistyped flag (queries may begin with one
/// `-`, so clap hands such words to the query): refuse it as a usage error.
fn flag_like(query: &str) -> Option<ExitCode> {
    query.starts_with("--").then(|| {
        eprintln!(
            "ediscovery: {query:?} looks like a flag, not a query: check the flag's spelling \
             (`ediscovery help`), or write the query without the leading `--`"
        );
        ExitCode::from(exit::USAGE)
    })
}

fn search(o: &mut dyn Write, a: SearchArgs) -> CliResult {
    if let Some(code) = flag_like(&a.query) {
        return Ok(code);
    }
    use ediscovery::model::time;
    let scope = a.scope.to_scope()?;
    let query = match ediscovery::query::parse(&a.query) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("ediscovery: bad query\n{}", e.pointed(&a.query));
            return Ok(ExitCode::from(exit::ERROR));
        }
    };
    let coll = Collection::open(&a.collection)?;
    let now = a.now.unwrap_or_else(time::now);
    let r = coll.search(&ediscovery::SearchRequest {
        scope: scope.clone(),
        query: query.clone(),
        now,
    })?;
    if a.explain {
        let zone = scope.zone()?;
        let show = |t: Option<i64>| {
            t.map_or("unbounded".to_owned(), |t| {
                format!(
                    "{} = {}",
                    time::iso_utc(t).unwrap_or_default(),
                    time::show_in(t, &zone).unwrap_or_default()
                )
            })
        };
        writeln!(o, "query\t{query}")?;
        writeln!(o, "tree\t{query:?}")?;
        writeln!(o, "from\t{}", show(r.bounds.0))?;
        writeln!(o, "until\t{} (exclusive)", show(r.bounds.1))?;
        for w in &r.warnings {
            writeln!(o, "warning\t{w}")?;
        }
    }
    if a.json {
        let hits: Vec<_> = r
            .hits
            .iter()
            .map(|h| {
                let m = coll.record(h).and_then(|r| r.mail());
                serde_json::json!({
                    "doc_id": h.doc_id.to_string(), "account": h.account, "corpus": h.corpus,
                    "rfc822_message_id": m.and_then(|m| m.message_id.clone()),
                    "date_sent": m.and_then(|m| m.date_sent).and_then(time::iso_utc),
                    "subject": m.and_then(|m| m.subject.clone()),
                })
            })
            .collect();
        let mut v = serde_json::json!({"counts": r.counts, "warnings": r.warnings});
        if !a.count {
            v["hits"] = serde_json::Value::Array(hits);
        }
        writeln!(o, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if a.count {
        for (acct, n) in &r.counts.per_account {
            writeln!(o, "{acct}\t{n}")?;
        }
        writeln!(o, "total\t{}", r.counts.total)?;
    } else {
        for h in &r.hits {
            let m = coll.record(h).and_then(|r| r.mail());
            // Tabs and line breaks inside fields would break the columns: shown as spaces.
            let clean = |s: Option<String>| s.unwrap_or_default().replace(['\t', '\r', '\n'], " ");
            writeln!(
                o,
                "{}\t{}\t{}\t{}\t{}",
                h.doc_id,
                h.account,
                clean(m.and_then(|m| m.message_id.clone())),
                clean(m.and_then(|m| m.date_sent).and_then(time::iso_utc)),
                clean(m.and_then(|m| m.subject.clone())),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Export progress on a terminal: messages, MB, MB/s, ETA.
struct ExportBar(Option<ProgressBar>, std::sync::atomic::AtomicU64);

impl ediscovery::export::ExportProgress for ExportBar {
    fn advanced(&self, messages: u64, bytes: u64) {
        if let Some(b) = &self.0 {
            let n = self.1.fetch_add(messages, std::sync::atomic::Ordering::Relaxed) + messages;
            b.inc(bytes);
            b.set_message(format!("{n} messages"));
        }
    }
}

fn export(o: &mut dyn Write, a: ExportArgs) -> CliResult {
    if let Some(code) = flag_like(&a.query) {
        return Ok(code);
    }
    use ediscovery::export::{self, ExportRequest};
    let coll = Collection::open(&a.collection)?;
    let mut req: ExportRequest = match &a.request {
        Some(p) => ExportRequest::from_json(&std::fs::read(p)?, &ediscovery::Limits::default())
            .map_err(|e| format!("{}: {e}", p.display()))?,
        None => request_from_flags(&a)?,
    };
    if a.request.is_none() {
        req.ediscovery.compression = match a.compression.as_str() {
            "deflate" => ediscovery::format::zip::Compression::Deflate,
            "store" => ediscovery::format::zip::Compression::Store,
            other => return Err(format!("--compression {other}: use deflate or store").into()),
        };
        req.ediscovery.split_size = a.split_size;
        req.ediscovery.line_endings = match a.line_endings.as_str() {
            "original" => ediscovery::export::request::LineEndings::Original,
            "crlf" => ediscovery::export::request::LineEndings::Crlf,
            other => return Err(format!("--line-endings {other}: use original or crlf").into()),
        };
        req.ediscovery.csv_formula_guard = !a.no_csv_guard;
        req.ediscovery.threads = a.threads;
    }
    let only = a.retry_from.as_deref().map(export::failed_doc_ids).transpose()?;
    let plan = export::plan_search(&coll, &req, ediscovery::model::time::now(), only.as_ref())?;
    if a.dry_run {
        writeln!(o, "{}", serde_json::to_string_pretty(&plan)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let total: u64 = plan.zips.iter().map(|z| z.bytes).sum();
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let progress = ExportBar(bar, Default::default());
    let outcome = export::run(&coll, &req, &plan, coll.store(), &a.out, &progress)?;
    if let Some(b) = &progress.0 {
        b.finish_and_clear();
    }
    let s = &outcome.summary;
    writeln!(o, "export          {} → {}", s.name, a.out.display())?;
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
    if outcome.has_failures() {
        writeln!(o, "see {}-error.csv; retry with --retry-from", s.name)?;
        return Ok(ExitCode::from(exit::PARTIAL));
    }
    Ok(ExitCode::SUCCESS)
}

impl ScopeArgs {
    /// The typed scope these flags describe.
    fn to_scope(&self) -> Result<ediscovery::query::Scope, Box<dyn std::error::Error>> {
        use ediscovery::model::time::CivilDay;
        use ediscovery::query::{Method, Scope};
        let corpus = Corpus::parse(&self.corpus).ok_or_else(|| {
            format!("--corpus {}: use mail, groups, chat, drive or voice", self.corpus)
        })?;
        let day = |s: &Option<String>, flag: &str| -> Result<Option<CivilDay>, String> {
            s.as_deref()
                .map(|d| CivilDay::parse(d).ok_or_else(|| format!("{flag} {d}: use YYYY-MM-DD")))
                .transpose()
        };
        let method = if let Some(ou) = &self.org_unit {
            Method::OrgUnit(OrgUnit::new(ou))
        } else if !self.accounts.is_empty() {
            Method::Accounts(
                self.accounts.iter().map(|s| Account::new(s)).collect::<Result<_, _>>()?,
            )
        } else {
            Method::EntireOrg
        };
        Ok(Scope {
            corpus,
            method,
            start: day(&self.start, "--start")?,
            end: day(&self.end, "--end")?,
            time_zone: self.time_zone.clone(),
            exclude_drafts: self.exclude_drafts,
            vault_rounding: self.vault_rounding,
        })
    }
}

fn request_from_flags(
    a: &ExportArgs,
) -> Result<ediscovery::export::ExportRequest, Box<dyn std::error::Error>> {
    use ediscovery::export::request::*;
    let s = &a.scope;
    let (method, account_info, org_unit_info) = match (&s.org_unit, s.accounts.is_empty()) {
        (Some(ou), _) => ("ORG_UNIT", None, Some(OrgUnitInfo { org_unit_id: ou.clone() })),
        (None, false) => ("ACCOUNT", Some(AccountInfo { emails: s.accounts.clone() }), None),
        (None, true) => ("ENTIRE_ORG", None, None),
    };
    Ok(ExportRequest {
        name: a.name.clone().unwrap_or_default(),
        query: VaultQuery {
            corpus: s.corpus.to_ascii_uppercase(),
            data_scope: None,
            search_method: method.to_owned(),
            account_info,
            org_unit_info,
            terms: a.query.clone(),
            start_time: s.start.clone(),
            end_time: s.end.clone(),
            time_zone: Some(s.time_zone.clone()),
            mail_options: Some(MailQueryOptions { exclude_drafts: s.exclude_drafts }),
        },
        export_options: ExportOptions::default(),
        ediscovery: Options { vault_rounding: s.vault_rounding, ..Options::default() },
    })
}

fn verify(o: &mut dyn Write, dir: &std::path::Path, json: bool) -> CliResult {
    let r = ediscovery::verify::verify(dir)?;
    if json {
        writeln!(o, "{}", serde_json::to_string_pretty(&r)?)?;
    } else {
        writeln!(o, "export   {}", r.name)?;
        writeln!(o, "files    {} (checksums)", r.files)?;
        writeln!(o, "messages {}", r.messages)?;
        for p in &r.problems {
            writeln!(o, "problem: {p}")?;
        }
        writeln!(o, "{}", if r.ok() { "OK" } else { "FAILED" })?;
    }
    Ok(ExitCode::from(if r.ok() { exit::OK } else { exit::UNSOUND }))
}
