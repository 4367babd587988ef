//! `ediscovery compact`: drop removed records' bytes from the record table and give back the
//! disk space of pack bytes no live record references.

use crate::exit;
use crate::output::{self, CliResult};
use clap::Args;
use ediscovery::CollectionWriter;
use ediscovery::store::{Store, StoreError};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  done (also when there was nothing to drop or give back)
  1  error: not a collection, unreadable, locked by another writer, or a step failed (what was
     committed before it stays committed; running the command again finishes the job)
  2  usage: wrong flags or arguments")]
pub struct CompactArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    /// Print JSON: {"compaction": {...}, "reclaimed": {...}}.
    #[arg(long)]
    json: bool,
}

pub fn run(o: &mut dyn Write, a: CompactArgs) -> CliResult {
    // Opening a writer creates a collection; a mistyped path must not become an empty one.
    if let Err(e @ StoreError::NotACollection(_)) = Store::open(&a.collection) {
        return Err(e.into());
    }
    let mut w = CollectionWriter::open(&a.collection, 1)?;
    let k = w.compact(&mut ediscovery::store::NoSteps)?;
    let r = w.reclaim()?;
    w.finish()?;
    if a.json {
        output::json(o, &serde_json::json!({"compaction": k, "reclaimed": r, "freed": r.freed()}))?;
    } else {
        writeln!(
            o,
            "record table: {} removed records dropped, {} kept ({} → {} bytes)",
            k.records_dropped, k.records_kept, k.data_bytes_before, k.data_bytes_after
        )?;
        if r.supported {
            writeln!(
                o,
                "packs: {} bytes given back ({} unreferenced ranges, {} bytes; {} → {} bytes on disk)",
                r.freed(),
                r.ranges,
                r.range_bytes,
                r.allocated_before,
                r.allocated_after
            )?;
        } else {
            writeln!(o, "packs: this filesystem cannot punch holes; no disk space given back")?;
        }
    }
    Ok(exit::code(exit::OK))
}
