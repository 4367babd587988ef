//! `ediscovery split publish`: a committed collection as an immutable split on object storage.

use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use ediscovery::split::{self, StoreConfig};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct SplitArgs {
    #[command(subcommand)]
    command: SplitCommand,
}

#[derive(Subcommand)]
enum SplitCommand {
    /// Upload a committed collection under URL/splits/<id>/ (its id derived from its files),
    /// the manifest last and create-only; prints the split's URL. Publishing the same
    /// collection again writes nothing.
    #[command(after_help = "\
URLs: s3://bucket/prefix (endpoint and credentials from AWS_ENDPOINT_URL, AWS_REGION,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; plain http only to a loopback endpoint), a local
folder, or file:///folder.

Exit codes:
  0  published, or already published with the same content
  1  error: not a collection, a writer holds it, the store ignores create-only puts (refused),
     another manifest under the same id, or the store refused (credentials, permissions)
  2  usage: wrong flags or arguments
  5  transient: the object store failed or did not answer; publishing again may pass")]
    Publish(PublishArgs),
}

#[derive(Args)]
struct PublishArgs {
    /// The collection folder.
    #[arg(long)]
    collection: PathBuf,
    /// Where: s3://bucket/prefix, a folder, or file:///folder.
    #[arg(long)]
    to: String,
    /// Print JSON: {"split_id", "url", "uploaded", "files", "bytes", "manifest"}.
    #[arg(long)]
    json: bool,
}

pub fn run(o: &mut dyn Write, a: SplitArgs) -> CliResult {
    match a.command {
        SplitCommand::Publish(p) => {
            let done = split::publish(&p.collection, &p.to, &StoreConfig::from_env())?;
            if p.json {
                output::json(o, &done)?;
            } else {
                let what = if done.uploaded { "published" } else { "already published" };
                writeln!(
                    o,
                    "{}\t{what}\t{} records\t{} files\t{} bytes",
                    done.url, done.manifest.records, done.files, done.bytes
                )?;
            }
            Ok(exit::code(exit::OK))
        }
    }
}
