//! `ediscovery ingest`: read a mailbox into a collection.

use crate::exit;
use crate::output::{self, CliResult};
use crate::progress::IngestBar;
use clap::Args;
use ediscovery::ingest::{IngestReport, Source};
use ediscovery::model::{Account, Corpus, OrgUnit};
use ediscovery::{CollectionWriter, IngestOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  done: every message ingested or already present
  1  error: nothing was committed by the step that failed (the message says why)
  2  usage: wrong flags or arguments
  3  partial: done, but items were rejected (each listed in the report)")]
pub struct IngestArgs {
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
    /// A chat, Drive or Voice source (with --corpus chat|drive|voice): a JSONL file
    /// (docs/formats/), a Takeout Chat or Voice folder, or a folder tree as Drive.
    #[arg(long, group = "source")]
    input: Option<PathBuf>,
    /// The --input's format: jsonl, takeout-chat, takeout-voice or folder (default: jsonl for a
    /// file; for a folder takeout-chat, takeout-voice or folder by --corpus).
    #[arg(long, requires = "input")]
    format: Option<String>,
    /// The folder a JSONL file's content paths are relative to (default: the file's folder).
    #[arg(long, requires = "input")]
    root: Option<PathBuf>,
    /// mail, groups, chat, drive or voice.
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
    /// Print the report as JSON on stdout (the library's IngestReport; with --members, also
    /// "members": {"group", "recorded"}).
    #[arg(long)]
    json: bool,
}

pub fn run(o: &mut dyn Write, a: IngestArgs) -> CliResult {
    let corpus = Corpus::parse(&a.corpus)
        .ok_or_else(|| format!("--corpus {}: use mail, groups, chat, drive or voice", a.corpus))?;
    let source = match (a.mbox, a.takeout, a.maildir, a.eml, a.input) {
        (Some(p), None, None, None, None) => Some(Source::Mbox(p)),
        (None, Some(p), None, None, None) => Some(Source::Takeout(p)),
        (None, None, Some(p), None, None) => Some(Source::Maildir(p)),
        (None, None, None, Some(p), None) => Some(Source::Eml(p)),
        (None, None, None, None, Some(p)) => Some(other_source(corpus, p, a.format, a.root)?),
        (None, None, None, None, None) if a.members.is_some() => None,
        _ => {
            return Err(
                "give exactly one of --mbox, --takeout, --maildir, --eml, --input (or only --members)"
                    .into(),
            );
        }
    };
    match (corpus, source.as_ref().and_then(Source::corpus)) {
        (Corpus::Mail | Corpus::Groups, None) => {}
        (c, Some(s)) if c == s => {}
        (c, _) => {
            return Err(format!(
                "--corpus {c}: mail and groups are read with --mbox, --takeout, --maildir or \
                 --eml; chat, drive and voice with --input"
            )
            .into());
        }
    }
    let mut opts = IngestOptions::new(Account::new(&a.account)?);
    opts.corpus = corpus;
    opts.org_unit = OrgUnit::new(&a.org_unit);
    opts.commit_every = a.commit_every.max(1);

    let mut members = None;
    if let Some(m) = &a.members {
        if corpus != Corpus::Groups {
            return Err("--members goes with --corpus groups".into());
        }
        let list = ediscovery::ingest::members::read(m, opts.account.as_str())?;
        let n = list.len();
        let mut w = CollectionWriter::open(&a.collection, 1)?;
        w.set_members(opts.account.as_str(), list)?;
        drop(w);
        if !a.json {
            writeln!(o, "members         {n} recorded for {}", opts.account)?;
        }
        members = Some(serde_json::json!({"group": opts.account.as_str(), "recorded": n}));
    }
    let Some(source) = source else {
        if let Some(m) = members
            && a.json
        {
            output::json(o, &serde_json::json!({ "members": m }))?;
        }
        return Ok(exit::code(exit::OK));
    };
    let total = match &source {
        Source::Mbox(p) | Source::Takeout(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        _ => 0,
    };
    let mut progress = IngestBar::new(total);
    let started = Instant::now();
    let threads = ediscovery::Limits::default().threads(a.threads)?;
    let mut w = CollectionWriter::open(&a.collection, threads)?;
    let report = w.ingest(&source, &opts, &mut progress)?;
    w.finish()?;
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(m), Some(obj)) = (members, v.as_object_mut()) {
            obj.insert("members".to_owned(), m);
        }
        output::json(o, &v)?;
    } else {
        print_report(o, &report, secs)?;
    }
    Ok(exit::code(if report.is_clean() { exit::OK } else { exit::PARTIAL }))
}

/// The text report (tests and scripts read these columns).
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

/// The chat, Drive or Voice source `--input` names, by `--format` or by what it is.
fn other_source(
    corpus: Corpus,
    input: PathBuf,
    format: Option<String>,
    root: Option<PathBuf>,
) -> Result<Source, String> {
    let format = match format {
        Some(f) => f.to_ascii_lowercase(),
        None if input.is_dir() => match corpus {
            Corpus::Chat => "takeout-chat".to_owned(),
            Corpus::Voice => "takeout-voice".to_owned(),
            _ => "folder".to_owned(),
        },
        None => "jsonl".to_owned(),
    };
    let root = root.unwrap_or_else(|| ediscovery::ingest::jsonl::default_root(&input));
    Ok(match (format.as_str(), corpus) {
        ("jsonl", Corpus::Chat) => Source::ChatJsonl { file: input, root },
        ("jsonl", Corpus::Drive) => Source::DriveJsonl { file: input, root },
        ("jsonl", Corpus::Voice) => Source::VoiceJsonl { file: input, root },
        ("takeout-chat", Corpus::Chat) => Source::TakeoutChat(input),
        ("takeout-voice", Corpus::Voice) => Source::TakeoutVoice(input),
        ("folder", Corpus::Drive) => Source::DriveFolder(input),
        (f @ ("jsonl" | "takeout-chat" | "takeout-voice" | "folder"), c) => {
            return Err(format!("--format {f} does not hold {c} data"));
        }
        (f, _) => {
            return Err(format!("--format {f}: use jsonl, takeout-chat, takeout-voice or folder"));
        }
    })
}
