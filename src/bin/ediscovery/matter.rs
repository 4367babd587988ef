//! `ediscovery matter …`: create matters, move them through Vault's states, share them.

use crate::actor::{EXIT_CODES, GovArgs, matter_id};
use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use ediscovery::governance::{Matter, MatterAction, Role};
use ediscovery::model::Account;
use std::io::Write;

#[derive(Args)]
pub struct MatterArgs {
    #[command(subcommand)]
    command: MatterCommand,
}

#[derive(Args)]
struct Id {
    #[command(flatten)]
    gov: GovArgs,
    /// The matter's id.
    #[arg(long)]
    matter: String,
}

#[derive(Subcommand)]
enum MatterCommand {
    /// Create a matter (administrators); the actor becomes its owner. Prints the new id (JSON:
    /// the matter, with "matterId").
    #[command(after_help = EXIT_CODES)]
    Create {
        #[command(flatten)]
        gov: GovArgs,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The matters the actor owns or collaborates on, deleted ones included.
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        gov: GovArgs,
    },
    /// One matter with its permissions, holds, saved queries and exports.
    #[command(after_help = EXIT_CODES)]
    Show(Id),
    /// Change an open matter's name or description.
    #[command(after_help = EXIT_CODES)]
    Update {
        #[command(flatten)]
        id: Id,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Close an open matter (refused while it has holds).
    #[command(after_help = EXIT_CODES)]
    Close(Id),
    /// Reopen a closed matter.
    #[command(after_help = EXIT_CODES)]
    Reopen(Id),
    /// Delete a closed matter (its owner).
    #[command(after_help = EXIT_CODES)]
    Delete(Id),
    /// Undelete a deleted matter; it lands closed (its owner).
    #[command(after_help = EXIT_CODES)]
    Undelete(Id),
    /// Make a user an owner or collaborator (the owner).
    #[command(after_help = EXIT_CODES)]
    AddPermission {
        #[command(flatten)]
        id: Id,
        /// The user.
        #[arg(long)]
        account: String,
        /// owner or collaborator.
        #[arg(long, default_value = "collaborator")]
        role: String,
    },
    /// Take a user's role away (the owner; the last owner stays).
    #[command(after_help = EXIT_CODES)]
    RemovePermission {
        #[command(flatten)]
        id: Id,
        /// The user.
        #[arg(long)]
        account: String,
    },
}

fn account(s: &str) -> Result<Account, Box<dyn std::error::Error>> {
    Ok(Account::new(s).map_err(|e| format!("--account {s}: {e}"))?)
}

fn print(o: &mut dyn Write, json: bool, m: &Matter) -> std::io::Result<()> {
    if json {
        return output::json(o, m);
    }
    writeln!(o, "matter\t{}", m.matter_id)?;
    writeln!(o, "name\t{}", m.name)?;
    writeln!(o, "description\t{}", m.description)?;
    writeln!(o, "state\t{}", m.state.as_str())?;
    for p in &m.matter_permissions {
        writeln!(
            o,
            "{}\t{}",
            if p.role == Role::Owner { "owner" } else { "collaborator" },
            p.account_id
        )?;
    }
    Ok(())
}

pub fn run(o: &mut dyn Write, a: MatterArgs) -> CliResult {
    match a.command {
        MatterCommand::Create { gov, name, description } => {
            let (g, actor) = gov.open()?;
            let m = g.run(|tx| tx.create_matter(&actor, &name, &description))?;
            if gov.json {
                output::json(o, &m)?;
            } else {
                writeln!(o, "{}", m.matter_id)?;
            }
        }
        MatterCommand::List { gov } => {
            let (g, actor) = gov.open()?;
            let list = g.run(|tx| tx.list_matters(&actor))?;
            if gov.json {
                output::json(o, &serde_json::json!({"matters": list}))?;
            } else {
                for m in &list {
                    writeln!(o, "{}\t{}\t{}", m.matter_id, m.state.as_str(), m.name)?;
                }
            }
        }
        MatterCommand::Show(id) => {
            let (g, actor) = id.gov.open()?;
            let f = g.run(|tx| tx.show_matter(&actor, &matter_id(&id.matter)))?;
            if id.gov.json {
                output::json(o, &f)?;
            } else {
                print(o, false, &f.matter)?;
                for h in &f.holds {
                    writeln!(o, "hold\t{}\t{}\t{}", h.hold_id, h.corpus, h.name)?;
                }
                for q in &f.saved_queries {
                    writeln!(o, "saved query\t{}\t{}", q.saved_query_id, q.display_name)?;
                }
                for e in &f.exports {
                    writeln!(o, "export\t{}\t{:?}\t{}", e.id, e.status, e.name)?;
                }
            }
        }
        MatterCommand::Update { id, name, description } => {
            let (g, actor) = id.gov.open()?;
            let m = g.run(|tx| {
                tx.update_matter(
                    &actor,
                    &matter_id(&id.matter),
                    name.as_deref(),
                    description.as_deref(),
                )
            })?;
            print(o, id.gov.json, &m)?;
        }
        MatterCommand::Close(id) => transition(o, &id, MatterAction::Close)?,
        MatterCommand::Reopen(id) => transition(o, &id, MatterAction::Reopen)?,
        MatterCommand::Delete(id) => transition(o, &id, MatterAction::Delete)?,
        MatterCommand::Undelete(id) => transition(o, &id, MatterAction::Undelete)?,
        MatterCommand::AddPermission { id, account: who, role } => {
            let (g, actor) = id.gov.open()?;
            let role = Role::parse(&role)
                .ok_or_else(|| format!("--role {role}: use owner or collaborator"))?;
            let who = account(&who)?;
            let m = g.run(|tx| tx.add_permission(&actor, &matter_id(&id.matter), &who, role))?;
            print(o, id.gov.json, &m)?;
        }
        MatterCommand::RemovePermission { id, account: who } => {
            let (g, actor) = id.gov.open()?;
            let who = account(&who)?;
            let m = g.run(|tx| tx.remove_permission(&actor, &matter_id(&id.matter), &who))?;
            print(o, id.gov.json, &m)?;
        }
    }
    Ok(exit::code(exit::OK))
}

fn transition(
    o: &mut dyn Write,
    id: &Id,
    action: MatterAction,
) -> Result<(), Box<dyn std::error::Error>> {
    let (g, actor) = id.gov.open()?;
    let m = g.run(|tx| tx.transition(&actor, &matter_id(&id.matter), action))?;
    print(o, id.gov.json, &m)?;
    Ok(())
}
