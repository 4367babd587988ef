//! `ediscovery hold …`: preserve custodians' data for a matter.

use crate::actor::{self, EXIT_CODES, GovArgs, matter_id};
use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use ediscovery::governance::{AccountStatus, CoveredData, Hold, NewHold};
use ediscovery::model::time::CivilDay;
use ediscovery::model::{Corpus, OrgUnit};
use std::io::Write;

#[derive(Args)]
pub struct HoldArgs {
    #[command(subcommand)]
    command: HoldCommand,
}

#[derive(Args)]
struct Id {
    #[command(flatten)]
    gov: GovArgs,
    /// The matter.
    #[arg(long)]
    matter: String,
    /// The hold's id.
    #[arg(long)]
    hold: String,
}

#[derive(Subcommand)]
enum HoldCommand {
    /// Create a hold in an open matter. Prints its id (JSON: the hold, with "holdId").
    #[command(after_help = EXIT_CODES)]
    Create {
        #[command(flatten)]
        gov: GovArgs,
        /// The matter.
        #[arg(long)]
        matter: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// mail, groups, chat, drive or voice.
        #[arg(long)]
        corpus: String,
        /// Comma-separated accounts (group addresses for groups).
        #[arg(
            long,
            value_delimiter = ',',
            required_unless_present = "org_unit",
            conflicts_with = "org_unit"
        )]
        accounts: Vec<String>,
        /// An org unit: its users now and later (not for groups).
        #[arg(long)]
        org_unit: Option<String>,
        /// Mail, groups: a Vault query; only what it finds is held.
        #[arg(long)]
        terms: Option<String>,
        /// Mail, groups: first day held (YYYY-MM-DD, UTC).
        #[arg(long)]
        start: Option<String>,
        /// Mail, groups: last day held (YYYY-MM-DD, UTC).
        #[arg(long)]
        end: Option<String>,
        /// Drive: include shared drives.
        #[arg(long)]
        include_shared_drives: bool,
        /// Chat: include rooms.
        #[arg(long)]
        include_rooms: bool,
        /// Voice: TEXT_MESSAGES, VOICEMAILS, CALL_LOGS (comma-separated; default all).
        #[arg(long, value_delimiter = ',')]
        covered_data: Vec<String>,
    },
    /// The holds of a matter.
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        gov: GovArgs,
        /// The matter.
        #[arg(long)]
        matter: String,
    },
    /// One hold.
    #[command(after_help = EXIT_CODES)]
    Show(Id),
    /// Put accounts on an accounts hold: a status per account (JSON: {"responses": [{"account",
    /// "status"}]}).
    #[command(after_help = EXIT_CODES)]
    AddAccounts {
        #[command(flatten)]
        id: Id,
        /// Comma-separated accounts.
        #[arg(long, value_delimiter = ',', required = true)]
        accounts: Vec<String>,
    },
    /// Take accounts off an accounts hold: a status per account.
    #[command(after_help = EXIT_CODES)]
    RemoveAccounts {
        #[command(flatten)]
        id: Id,
        /// Comma-separated accounts.
        #[arg(long, value_delimiter = ',', required = true)]
        accounts: Vec<String>,
    },
    /// Delete a hold.
    #[command(after_help = EXIT_CODES)]
    Delete(Id),
}

fn day(flag: &str, s: &Option<String>) -> Result<Option<CivilDay>, Box<dyn std::error::Error>> {
    s.as_deref()
        .map(|d| {
            CivilDay::parse(d)
                .ok_or_else(|| format!("{flag} {d}: not a day (use YYYY-MM-DD)").into())
        })
        .transpose()
}

fn print(o: &mut dyn Write, json: bool, h: &Hold) -> std::io::Result<()> {
    if json {
        return output::json(o, h);
    }
    writeln!(o, "hold\t{}", h.hold_id)?;
    writeln!(o, "name\t{}", h.name)?;
    writeln!(o, "corpus\t{}", h.corpus)?;
    if let Some(ou) = &h.org_unit {
        writeln!(o, "org unit\t{}", ou.org_unit_id.as_str())?;
    }
    for a in &h.accounts {
        writeln!(o, "account\t{}\t{}", a.account_id, a.hold_time)?;
    }
    if let Some(t) = h.query.terms() {
        writeln!(o, "terms\t{}", t.terms)?;
        writeln!(o, "start\t{}", t.start_time.as_deref().unwrap_or(""))?;
        writeln!(o, "end\t{}", t.end_time.as_deref().unwrap_or(""))?;
    }
    Ok(())
}

fn statuses(o: &mut dyn Write, json: bool, s: &[AccountStatus]) -> std::io::Result<()> {
    if json {
        return output::json(o, &serde_json::json!({"responses": s}));
    }
    for x in s {
        let status = serde_json::to_value(x.status).ok();
        writeln!(o, "{}\t{}", x.account, status.as_ref().and_then(|v| v.as_str()).unwrap_or(""))?;
    }
    Ok(())
}

pub fn run(o: &mut dyn Write, a: HoldArgs) -> CliResult {
    match a.command {
        HoldCommand::Create {
            gov,
            matter,
            name,
            corpus,
            accounts,
            org_unit,
            terms,
            start,
            end,
            include_shared_drives,
            include_rooms,
            covered_data,
        } => {
            let (g, actor) = gov.open()?;
            let corpus = Corpus::parse(&corpus).ok_or_else(|| {
                format!("--corpus {corpus}: use mail, groups, chat, drive or voice")
            })?;
            let covered = covered_data
                .iter()
                .map(|c| {
                    CoveredData::parse(c).ok_or_else(|| {
                        format!("--covered-data {c}: use TEXT_MESSAGES, VOICEMAILS or CALL_LOGS")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let new = NewHold {
                name,
                corpus,
                accounts: actor::accounts("--accounts", &accounts)?,
                org_unit: org_unit.as_deref().map(OrgUnit::new),
                terms,
                start: day("--start", &start)?,
                end: day("--end", &end)?,
                include_shared_drives,
                include_rooms,
                covered_data: covered,
            };
            let h = g.run(|tx| tx.create_hold(&actor, &matter_id(&matter), &new))?;
            if gov.json {
                output::json(o, &h)?;
            } else {
                writeln!(o, "{}", h.hold_id)?;
            }
        }
        HoldCommand::List { gov, matter } => {
            let (g, actor) = gov.open()?;
            let list = g.run(|tx| tx.holds(&actor, &matter_id(&matter)))?;
            if gov.json {
                output::json(o, &serde_json::json!({"holds": list}))?;
            } else {
                for h in &list {
                    let whom = h.org_unit.as_ref().map_or_else(
                        || format!("{} accounts", h.accounts.len()),
                        |ou| ou.org_unit_id.as_str().to_owned(),
                    );
                    writeln!(o, "{}\t{}\t{}\t{}", h.hold_id, h.corpus, whom, h.name)?;
                }
            }
        }
        HoldCommand::Show(id) => {
            let (g, actor) = id.gov.open()?;
            let h = g.run(|tx| tx.hold(&actor, &matter_id(&id.matter), &id.hold))?;
            print(o, id.gov.json, &h)?;
        }
        HoldCommand::AddAccounts { id, accounts } => {
            let (g, actor) = id.gov.open()?;
            let list = actor::accounts("--accounts", &accounts)?;
            let s =
                g.run(|tx| tx.add_held_accounts(&actor, &matter_id(&id.matter), &id.hold, &list))?;
            statuses(o, id.gov.json, &s)?;
        }
        HoldCommand::RemoveAccounts { id, accounts } => {
            let (g, actor) = id.gov.open()?;
            let list = actor::accounts("--accounts", &accounts)?;
            let s = g.run(|tx| {
                tx.remove_held_accounts(&actor, &matter_id(&id.matter), &id.hold, &list)
            })?;
            statuses(o, id.gov.json, &s)?;
        }
        HoldCommand::Delete(id) => {
            let (g, actor) = id.gov.open()?;
            let h = g.run(|tx| tx.delete_hold(&actor, &matter_id(&id.matter), &id.hold))?;
            print(o, id.gov.json, &h)?;
        }
    }
    Ok(exit::code(exit::OK))
}
