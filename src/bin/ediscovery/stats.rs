//! `ediscovery stats`: what a collection holds.

use crate::exit;
use crate::output::{self, CliResult};
use clap::Args;
use ediscovery::Collection;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
#[command(after_help = "\
Exit codes:
  0  done (an index out of step is reported, not an error: the records are readable without it)
  1  error: not a collection, or unreadable
  2  usage: wrong flags or arguments")]
pub struct StatsArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    /// Print JSON: {"records", "bytes", "blobs", "blob_bytes", "accounts": [{"corpus",
    /// "account", "records", "bytes"}], "index"}.
    #[arg(long)]
    json: bool,
}

pub fn run(o: &mut dyn Write, a: StatsArgs) -> CliResult {
    let dir = &a.collection;
    // The records are readable without the index; say whether search would work.
    let s = ediscovery::store::Store::open(dir)?.stats();
    let index = match Collection::open(dir) {
        Ok(_) => "in step".to_owned(),
        Err(e @ ediscovery::Error::IndexOutOfStep { .. }) => e.to_string(),
        Err(e) => return Err(e.into()),
    };
    if a.json {
        let per: Vec<_> = s
            .per_account
            .iter()
            .map(|((corpus, account), (n, b))| serde_json::json!({"corpus": corpus, "account": account, "records": n, "bytes": b}))
            .collect();
        let v = serde_json::json!({"records": s.records, "bytes": s.bytes, "blobs": s.blobs, "blob_bytes": s.blob_bytes, "accounts": per, "index": index});
        output::json(o, &v)?;
        return Ok(exit::code(exit::OK));
    }
    writeln!(o, "corpus\taccount\trecords\tbytes")?;
    for ((corpus, account), (n, b)) in &s.per_account {
        writeln!(o, "{corpus}\t{account}\t{n}\t{b}")?;
    }
    writeln!(o, "total\t\t{}\t{}", s.records, s.bytes)?;
    writeln!(o, "index\t{index}")?;
    writeln!(o, "distinct blobs\t\t{}\t{}", s.blobs, s.blob_bytes)?;
    Ok(exit::code(exit::OK))
}
