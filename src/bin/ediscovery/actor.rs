//! What every governance command shares: the collection, the actor (`--as`), `--json`, and the
//! exit-code table of governance commands.

use clap::Args;
use ediscovery::governance::{Governance, MatterId};
use ediscovery::model::Account;
use std::path::PathBuf;

/// The exit codes of governance commands (their `--help` shows it).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  error: refused by a rule (the message names it; the refusal is in the audit log), no such
     matter or hold, a bad value, an unreadable collection or governance state
  2  usage: wrong flags or arguments";

/// `--collection DIR --as ACCOUNT [--json]`.
#[derive(Args, Clone)]
pub struct GovArgs {
    /// The collection folder.
    #[arg(long)]
    pub collection: PathBuf,
    /// The account acting (every governance action names one and is logged under it).
    #[arg(long = "as", value_name = "ACCOUNT")]
    pub actor: String,
    /// Print JSON (Vault's shapes: matterId, holdId, …).
    #[arg(long)]
    pub json: bool,
}

impl GovArgs {
    /// The governance of the collection and the actor.
    pub fn open(&self) -> Result<(Governance, Account), Box<dyn std::error::Error>> {
        let actor = Account::new(&self.actor).map_err(|e| format!("--as {}: {e}", self.actor))?;
        Ok((Governance::open(&self.collection)?, actor))
    }
}

/// `--matter ID`.
pub fn matter_id(s: &str) -> MatterId {
    MatterId::new(s)
}

/// Comma-separated accounts, each checked.
pub fn accounts(flag: &str, list: &[String]) -> Result<Vec<Account>, Box<dyn std::error::Error>> {
    list.iter().map(|s| Account::new(s).map_err(|e| format!("{flag} {s}: {e}").into())).collect()
}
