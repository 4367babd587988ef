//! `ediscovery query save|list`: queries (terms and scope) kept in a matter.

use crate::actor::{EXIT_CODES, GovArgs, matter_id};
use crate::exit;
use crate::output::{self, CliResult};
use crate::scope::ScopeArgs;
use clap::{Args, Subcommand};
use ediscovery::export::request::VaultQuery;
use std::io::Write;

#[derive(Args)]
pub struct QueryArgs {
    #[command(subcommand)]
    command: QueryCommand,
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum QueryCommand {
    /// Save a query with its scope in an open matter. Prints its id (JSON: the saved query).
    #[command(after_help = EXIT_CODES)]
    Save {
        #[command(flatten)]
        gov: GovArgs,
        /// The matter.
        #[arg(long)]
        matter: String,
        /// Its name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// The Vault query.
        #[arg(default_value = "", allow_hyphen_values = true)]
        query: String,
    },
    /// The saved queries of a matter.
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        gov: GovArgs,
        /// The matter.
        #[arg(long)]
        matter: String,
    },
}

pub fn run(o: &mut dyn Write, a: QueryArgs) -> CliResult {
    match a.command {
        QueryCommand::Save { gov, matter, name, scope, query } => {
            if let Some(code) = output::flag_like(&query) {
                return Ok(code);
            }
            let (g, actor) = gov.open()?;
            let vq = VaultQuery::from_scope(&scope.spec().to_scope()?, &query);
            let q = g.run(|tx| tx.save_query(&actor, &matter_id(&matter), &name, vq))?;
            if gov.json {
                output::json(o, &q)?;
            } else {
                writeln!(o, "{}", q.saved_query_id)?;
            }
        }
        QueryCommand::List { gov, matter } => {
            let (g, actor) = gov.open()?;
            let list = g.run(|tx| tx.saved_queries(&actor, &matter_id(&matter)))?;
            if gov.json {
                output::json(o, &serde_json::json!({"savedQueries": list}))?;
            } else {
                for q in &list {
                    writeln!(
                        o,
                        "{}\t{}\t{}\t{}",
                        q.saved_query_id, q.display_name, q.query.corpus, q.query.terms
                    )?;
                }
            }
        }
    }
    Ok(exit::code(exit::OK))
}
