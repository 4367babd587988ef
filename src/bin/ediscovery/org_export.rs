//! `ediscovery org-export` and `ediscovery org-export prune`: Google Workspace's Data Export —
//! every account's data in one archive with a report to open in a browser — and the removal of
//! archives past their expiry.

use crate::actor::GovArgs;
use crate::exit;
use crate::output::{self, CliResult};
use crate::progress::OrgBar;
use clap::{Args, Subcommand};
use ediscovery::export::org::{self, OrgExportOptions};
use ediscovery::model::time::{self, CivilDay};
use std::io::Write;
use std::path::PathBuf;

const EXIT: &str = "\
Exit codes:
  0  done, every file exported
  1  error: refused by a rule (one full export per 30 days without --force, not an
     administrator), an unreadable collection, I/O
  2  usage: wrong flags or arguments
  3  partial: done, but some files failed (listed per account in report.html and report.json)";

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true, after_help = EXIT)]
pub struct OrgExportArgs {
    #[command(subcommand)]
    command: Option<OrgExportCommand>,
    #[command(flatten)]
    gov: Option<GovArgs>,
    /// The folder the archive folder (OUT/<export-id>/) is made in. A partial archive of the
    /// same collection there is resumed.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Start within 30 days of the last full export (logged).
    #[arg(long)]
    force: bool,
    /// The start: an ISO-8601 time or a UTC day (default: now).
    #[arg(long)]
    now: Option<String>,
    /// Content bytes per zip at most (default 2 GiB).
    #[arg(long)]
    split_bytes: Option<u64>,
    /// Compressing threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

#[derive(Subcommand)]
enum OrgExportCommand {
    /// Remove the archives in OUT whose expiry date (in their report) has passed.
    Prune {
        /// The folder holding archives.
        #[arg(long)]
        out: PathBuf,
        /// As of this time (ISO-8601 or a UTC day; default: now).
        #[arg(long)]
        now: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn instant(s: &str) -> Result<i64, String> {
    if let Some(t) = time::parse_iso8601(s) {
        return Ok(t);
    }
    let day = CivilDay::parse(s)
        .ok_or_else(|| format!("--now {s}: use 2026-01-31T09:00:00Z or 2026-01-31"))?;
    let utc = time::zone("UTC").ok_or("the UTC zone is missing")?;
    time::day_start(day, &utc).ok_or_else(|| format!("--now {s}: out of range"))
}

pub fn run(o: &mut dyn Write, a: OrgExportArgs) -> CliResult {
    if let Some(OrgExportCommand::Prune { out, now, json }) = a.command {
        let at = match now {
            Some(s) => instant(&s)?,
            None => time::now(),
        };
        let r = org::prune(&out, at)?;
        if json {
            output::json(o, &r)?;
        } else {
            for (id, expiry) in &r.removed {
                writeln!(o, "removed\t{id}\texpired {expiry}")?;
            }
            for (id, expiry) in &r.kept {
                writeln!(o, "kept\t{id}\texpires {expiry}")?;
            }
            for (name, why) in &r.skipped {
                writeln!(o, "skipped\t{name}\t{why}")?;
            }
        }
        return Ok(exit::code(exit::OK));
    }
    let gov = a.gov.ok_or("--collection and --as are required")?;
    let out = a.out.ok_or("--out is required")?;
    let (g, actor) = gov.open()?;
    let mut opts = OrgExportOptions::new(&out);
    opts.force = a.force;
    opts.threads = a.threads.max(1);
    if let Some(s) = &a.now {
        opts.now = Some(instant(s)?);
    }
    if let Some(n) = a.split_bytes {
        opts.split_bytes = n.max(1);
    }
    let bar = OrgBar::new();
    let r = org::run(&g, &actor, &opts, None, &bar);
    bar.finish();
    let r = r?;
    let t = &r.report.totals;
    if gov.json {
        output::json(o, &r)?;
    } else {
        for id in &r.reconciled {
            writeln!(o, "reconciled {id}: a killed run's archive was whole; recorded as finished")?;
        }
        writeln!(o, "archive  {}", r.dir.display())?;
        writeln!(
            o,
            "accounts {} exported ({} with errors, {} left out, {} kept from an earlier run)",
            t.accounts, t.accounts_with_errors, t.left_out, r.resumed_accounts
        )?;
        writeln!(o, "files    {} exported, {} not exported", t.exported, t.not_exported)?;
        writeln!(o, "deleted  {} user-deleted items left out", t.deleted_left_out)?;
        writeln!(o, "expires  {}", r.report.expiry_time)?;
        writeln!(o, "report   {}", r.dir.join("report.html").display())?;
    }
    Ok(exit::code(if r.has_failures() { exit::PARTIAL } else { exit::OK }))
}
