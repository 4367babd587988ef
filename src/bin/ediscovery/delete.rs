//! `ediscovery delete --doc-id ID…`: a user deletes items, as in life. Nothing is removed now:
//! what no hold or retention rule keeps is purged by the next `retention apply`.

use crate::actor::{EXIT_CODES, GovArgs};
use crate::exit;
use crate::output::{self, CliResult};
use clap::Args;
use ediscovery::model::DocId;
use std::io::Write;

#[derive(Args)]
#[command(after_help = EXIT_CODES)]
pub struct DeleteArgs {
    #[command(flatten)]
    gov: GovArgs,
    /// The items' doc ids (a user deletes their own; an administrator any).
    #[arg(long = "doc-id", required = true, num_args = 1..)]
    doc_ids: Vec<String>,
}

pub fn run(o: &mut dyn Write, a: DeleteArgs) -> CliResult {
    let (g, actor) = a.gov.open()?;
    let ids = a
        .doc_ids
        .iter()
        .map(|s| s.parse::<DocId>().map_err(|e| format!("--doc-id {s}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let r = g.run(|tx| tx.delete_items(&actor, g.collection(), &ids))?;
    if a.gov.json {
        output::json(o, &r)?;
    } else {
        for d in &r.deleted {
            writeln!(o, "deleted\t{d}")?;
        }
        for d in &r.already {
            writeln!(o, "already-deleted\t{d}")?;
        }
        for d in &r.not_found {
            writeln!(o, "not-found\t{d}")?;
        }
    }
    Ok(exit::code(exit::OK))
}
