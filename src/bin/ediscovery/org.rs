//! `ediscovery org import`: the organisation's accounts, org units, types and administrators.

use crate::actor::{EXIT_CODES, GovArgs};
use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    command: OrgCommand,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Replace the organisation with a CSV file (header Account,OrgUnit,Type,Created,Admin).
    /// Only an administrator may (for the first import: an administrator in the file), and the
    /// importer must stay one.
    #[command(after_help = EXIT_CODES)]
    Import {
        #[command(flatten)]
        gov: GovArgs,
        /// The CSV file. Print JSON: {"accounts", "admins", "added", "removed", "changed",
        /// "sha256"}.
        file: PathBuf,
    },
}

pub fn run(o: &mut dyn Write, a: OrgArgs) -> CliResult {
    let OrgCommand::Import { gov, file } = a.command;
    let (g, actor) = gov.open()?;
    let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let r = g.run(|tx| tx.import_org(&actor, &file, &bytes))?;
    if gov.json {
        output::json(o, &r)?;
    } else {
        writeln!(
            o,
            "imported {} accounts ({} administrators): {} added, {} removed, {} changed",
            r.accounts, r.admins, r.added, r.removed, r.changed
        )?;
        writeln!(o, "sha256 {}", r.sha256)?;
    }
    Ok(exit::code(exit::OK))
}
