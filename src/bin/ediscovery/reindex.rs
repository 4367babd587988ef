//! `ediscovery reindex`: rebuild the search index from the stored records.

use crate::exit;
use crate::output::{self, CliResult};
use clap::Args;
use ediscovery::CollectionWriter;
use ediscovery::store::{Store, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  done: the index is rebuilt and in step with the records
  1  error: not a collection, unreadable, or the rebuild failed (the old index is kept)
  2  usage: wrong flags or arguments")]
pub struct ReindexArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print JSON: {"records", "seconds"}.
    #[arg(long)]
    json: bool,
}

pub fn run(o: &mut dyn Write, a: ReindexArgs) -> CliResult {
    let threads = ediscovery::Limits::default().threads(a.threads)?;
    let started = Instant::now();
    // Opening a writer creates a collection; a mistyped path must not become an empty one.
    if let Err(e @ StoreError::NotACollection(_)) = Store::open(&a.collection) {
        return Err(e.into());
    }
    let mut w = CollectionWriter::open(&a.collection, threads)?;
    w.rebuild_index()?;
    let c = w.finish()?;
    let records = c.store().len();
    let seconds = started.elapsed().as_secs_f64();
    if a.json {
        output::json(o, &serde_json::json!({"records": records, "seconds": seconds}))?;
    } else {
        writeln!(o, "reindexed {records} records in {seconds:.2} s")?;
    }
    Ok(exit::code(exit::OK))
}
