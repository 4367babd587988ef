//! The `ediscovery` command line: a thin layer over the library, one module per command.
//!
//! Every command: `--json` for a stable JSON shape on stdout; errors as `ediscovery: …` text on
//! stderr (with `--json` too); one exit-code table ([`exit`]); a closed stdout (`… | head`) ends
//! it quietly with exit 0; progress bars only on a terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod actor;
mod audit;
mod backup;
mod compact;
mod delete;
mod exit;
mod export;
mod hold;
mod ingest;
mod matter;
mod org;
mod org_export;
mod output;
mod progress;
mod query;
mod reindex;
mod retention;
mod scope;
mod search;
mod split;
mod stats;
mod verify;

use clap::{Parser, Subcommand};
use std::io::{BufWriter, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ediscovery",
    version,
    about = "Hold, search and export custodians' mail like Google Vault",
    after_help = exit::TABLE
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a mailbox into a collection (created if missing).
    Ingest(ingest::IngestArgs),
    /// Search with a Vault query within a scope: one line per hit, or counts.
    Search(search::SearchArgs),
    /// Collections as immutable splits on object storage (S3-compatible, or a folder).
    Split(split::SplitArgs),
    /// Export what a search finds, as Vault does.
    Export(export::ExportArgs),
    // `export part`: the argument list's `export part` is read as this.
    #[command(
        name = "export-part",
        hide = true,
        about = "One part of an export written in parts (a task engine's task): the zips of a run of accounts and fragments of the metadata files, committed by part.json written last"
    )]
    ExportPart(export::PartArgs),
    // `export merge`: the argument list's `export merge` is read as this.
    #[command(
        name = "export-merge",
        hide = true,
        about = "Join the committed parts of an export written in parts into the export one machine writes, byte for byte"
    )]
    ExportMerge(export::MergeArgs),
    /// Re-read an export folder: checksums, names, messages against metadata, balance.
    Verify(verify::VerifyArgs),
    /// Rebuild the search index from the stored records (when search or export says the index is
    /// out of step with the records).
    Reindex(reindex::ReindexArgs),
    /// Drop removed records' bytes from the record table and give back the disk space of pack
    /// bytes no live record references.
    Compact(compact::CompactArgs),
    /// Records per corpus and account, bytes, distinct blobs.
    Stats(stats::StatsArgs),
    /// The organisation: accounts, org units, administrators.
    Org(org::OrgArgs),
    /// Matters: create, list, show, update, close, reopen, delete, undelete, share.
    Matter(matter::MatterArgs),
    /// Holds in a matter: create, list, show, add or remove accounts, delete.
    Hold(hold::HoldArgs),
    /// Saved queries in a matter.
    Query(query::QueryArgs),
    /// A user deletes items: purged by the next retention apply unless a hold or rule keeps them.
    Delete(delete::DeleteArgs),
    /// Retention rules, and the purge of what is past its time (never what a hold keeps).
    Retention(retention::RetentionArgs),
    /// The audit log: list entries, verify the hash chain.
    Audit(audit::AuditArgs),
    /// Back up the governance state (one CSV per object type in a zip) and restore chosen
    /// properties from a backup after a review.
    Backup(backup::BackupArgs),
    /// Export every account's data into one archive (a folder per account, zips per product,
    /// report.html at the root), as Google Workspace's Data Export; `prune` removes expired ones.
    OrgExport(org_export::OrgExportArgs),
}

/// `export part …` and `export merge …` as the commands `export-part` and `export-merge`: the
/// export's own flags take a query as their last argument, so the steps cannot be clap
/// subcommands of `export` without making a query that reads `part` ambiguous; only the word
/// right after `export` is read this way.
fn steps_as_commands(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.collect();
    if args.get(1).is_some_and(|a| a == "export") {
        let step = args.get(2).and_then(|a| a.to_str()).map(str::to_owned);
        if let Some(step @ ("part" | "merge")) = step.as_deref() {
            let joined = format!("export-{step}");
            args.splice(1..3, [std::ffi::OsString::from(joined)]);
        }
    }
    args
}

fn main() -> ExitCode {
    // Long exports otherwise grow the allocator's arenas with their length (src/malloc.rs).
    ediscovery::malloc::pin_mmap_threshold();
    let cli = match Cli::try_parse_from(steps_as_commands(std::env::args_os())) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return exit::code(code);
        }
    };
    let mut o = BufWriter::new(std::io::stdout().lock());
    let result = match cli.command {
        Command::Ingest(a) => ingest::run(&mut o, a),
        Command::Search(a) => search::run(&mut o, a),
        Command::Split(a) => split::run(&mut o, a),
        Command::Export(a) => export::run(&mut o, a),
        Command::ExportPart(a) => export::run_part(&mut o, a),
        Command::ExportMerge(a) => export::run_merge(&mut o, a),
        Command::Verify(a) => verify::run(&mut o, a),
        Command::Reindex(a) => reindex::run(&mut o, a),
        Command::Compact(a) => compact::run(&mut o, a),
        Command::Stats(a) => stats::run(&mut o, a),
        Command::Org(a) => org::run(&mut o, a),
        Command::Matter(a) => matter::run(&mut o, a),
        Command::Hold(a) => hold::run(&mut o, a),
        Command::Query(a) => query::run(&mut o, a),
        Command::Delete(a) => delete::run(&mut o, a),
        Command::Retention(a) => retention::run(&mut o, a),
        Command::Audit(a) => audit::run(&mut o, a),
        Command::Backup(a) => backup::run(&mut o, a),
        Command::OrgExport(a) => org_export::run(&mut o, a),
    };
    let result = result.and_then(|code| {
        o.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        // `ediscovery search … | head`: the reader has all it wanted.
        Err(e) if output::broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit::of_error(e.as_ref());
            output::error(e);
            exit::code(code)
        }
    }
}
