//! `ediscovery verify`: re-read an export folder.

use crate::exit;
use crate::output::{self, CliResult};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  the export is sound (an export with failures is sound when its error report lists them)
  1  error: the folder could not be read as an export
  2  usage: wrong flags or arguments
  4  unsound: the export does not match its checksums, metadata or summary (each problem is
     printed)")]
pub struct VerifyArgs {
    /// The export folder, or an organisation archive folder (OUT/<export-id>).
    dir: PathBuf,
    /// Print JSON (the library's verify report: "name", "files", "messages", "problems", …).
    #[arg(long)]
    json: bool,
}

pub fn run(o: &mut dyn Write, a: VerifyArgs) -> CliResult {
    // An organisation archive (report.json and checksums.md5 at its root) is verified whole.
    let r = if ediscovery::verify::is_org_archive(&a.dir) {
        ediscovery::verify::verify_org(&a.dir, &ediscovery::Limits::default())?
    } else {
        ediscovery::verify::verify(&a.dir)?
    };
    if a.json {
        output::json(o, &r)?;
    } else {
        writeln!(o, "export   {}", r.name)?;
        writeln!(o, "files    {} (checksums)", r.files)?;
        writeln!(o, "messages {}", r.messages)?;
        for p in &r.problems {
            writeln!(o, "problem: {p}")?;
        }
        writeln!(o, "{}", if r.ok() { "OK" } else { "FAILED" })?;
    }
    Ok(exit::code(if r.ok() { exit::OK } else { exit::UNSOUND }))
}
