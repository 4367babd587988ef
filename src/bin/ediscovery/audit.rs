//! `ediscovery audit list|verify`: read the audit log, and check its hash chain.

use crate::actor::{EXIT_CODES, GovArgs, matter_id};
use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// The log's entries: all of them (administrators), or one matter's (its members too). One
    /// JSON object per line, as logged (JSON: {"entries": […]}).
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        gov: GovArgs,
        /// Only this matter's entries.
        #[arg(long)]
        matter: Option<String>,
    },
    /// Check the hash chain and the log's end against the governance state; print the entry
    /// count and the head hash (keep it elsewhere: a later log must still contain it).
    #[command(after_help = "\
Exit codes:
  0  the log is sound
  1  error: no governance state, or it cannot be read
  2  usage: wrong flags or arguments
  4  unsound: an entry was edited, removed, moved or torn, or the log's end is not where the
     state's last commit put it (each problem is printed)")]
    Verify {
        /// The collection folder.
        #[arg(long)]
        collection: PathBuf,
        /// Print JSON: {"path", "entries", "head", "problems": [{"line", "reason"}]}.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(o: &mut dyn Write, a: AuditArgs) -> CliResult {
    match a.command {
        AuditCommand::List { gov, matter } => {
            let (g, actor) = gov.open()?;
            let id = matter.as_deref().map(matter_id);
            let entries = g.run(|tx| tx.audit_entries(&actor, id.as_ref(), g.collection()))?;
            if gov.json {
                output::json(o, &serde_json::json!({"entries": entries}))?;
            } else {
                for e in &entries {
                    writeln!(o, "{}", serde_json::to_string(e)?)?;
                }
            }
            Ok(exit::code(exit::OK))
        }
        AuditCommand::Verify { collection, json } => {
            let r = ediscovery::governance::audit::verify(&collection)?;
            if json {
                output::json(o, &r)?;
            } else {
                writeln!(o, "log      {}", r.path.display())?;
                writeln!(o, "entries  {}", r.entries)?;
                writeln!(o, "head     {}", r.head)?;
                for p in &r.problems {
                    writeln!(o, "problem: {p}")?;
                }
                writeln!(o, "{}", if r.ok() { "OK" } else { "FAILED" })?;
            }
            Ok(exit::code(if r.ok() { exit::OK } else { exit::UNSOUND }))
        }
    }
}
