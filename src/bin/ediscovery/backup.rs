//! `ediscovery backup create|interval|restore`: the governance state saved as a zip of one CSV
//! per object type, and chosen properties of one object type restored from it after a review.

use crate::actor::{EXIT_CODES, GovArgs};
use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use ediscovery::governance::{ObjectType, RestoreRequest};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: BackupCommand,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Write a backup of the governance state (administrators only): a zip with one CSV per
    /// object type that has records. The file holds sensitive values: store it securely.
    #[command(after_help = EXIT_CODES)]
    Create {
        #[command(flatten)]
        gov: GovArgs,
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Set the least time between two backups (administrators only; default 24 hours).
    #[command(after_help = EXIT_CODES)]
    Interval {
        #[command(flatten)]
        gov: GovArgs,
        /// Hours (0: no limit).
        #[arg(long)]
        hours: u32,
    },
    /// Restore properties of one object type from a backup: review with --plan, then apply that
    /// plan with --apply --acknowledge-irreversible --digest (the digest --plan printed; the
    /// apply is refused if the plan changed since). Records deleted since the backup are listed,
    /// not recreated. One restore at a time.
    #[command(after_help = EXIT_CODES)]
    Restore {
        #[command(flatten)]
        gov: GovArgs,
        /// The backup file.
        file: PathBuf,
        /// The object type: a CSV name in the backup without `.csv` (matters, permissions, holds,
        /// saved_queries, retention_rules, …).
        #[arg(long)]
        object: String,
        /// Comma-separated properties (CSV column names, such as description).
        #[arg(long, value_delimiter = ',', required = true)]
        properties: Vec<String>,
        /// Print the review plan; change nothing.
        #[arg(long, conflicts_with = "apply", required_unless_present = "apply")]
        plan: bool,
        /// Apply the reviewed plan.
        #[arg(long, requires_all = ["acknowledge_irreversible", "digest"])]
        apply: bool,
        /// Acknowledge that the restore changes data and cannot be undone.
        #[arg(long)]
        acknowledge_irreversible: bool,
        /// The plan's digest, as --plan printed it.
        #[arg(long)]
        digest: Option<String>,
    },
}

fn object(name: &str) -> Result<ObjectType, String> {
    ObjectType::parse(name).ok_or_else(|| {
        let all: Vec<&str> = ObjectType::ALL.iter().map(|o| o.name()).collect();
        format!("--object {name}: use one of {}", all.join(", "))
    })
}

fn print_plan(
    o: &mut dyn Write,
    p: &ediscovery::governance::RestorePlan,
    applied: bool,
) -> std::io::Result<()> {
    writeln!(
        o,
        "object\t{}\tfrom {} (sha256 {})",
        p.object.name(),
        p.backup.display(),
        p.backup_sha256
    )?;
    for c in &p.changes {
        writeln!(o, "change\t{}\t{}\t{:?} → {:?}", c.id, c.property, c.current, c.backup)?;
    }
    for id in &p.deleted_since_backup {
        writeln!(o, "deleted\t{id}\tdeleted since the backup: not recreated")?;
    }
    writeln!(
        o,
        "records in backup {}  changes {}  records changed {}  deleted since backup {}  not in backup {}",
        p.backup_records,
        p.changes.len(),
        p.records_changed(),
        p.deleted_since_backup.len(),
        p.not_in_backup
    )?;
    writeln!(o, "digest\t{}", p.digest)?;
    if applied {
        writeln!(o, "applied")?;
    } else {
        writeln!(
            o,
            "to apply exactly this plan: ediscovery backup restore {} --object {} --properties {} --apply --acknowledge-irreversible --digest {} (cannot be undone)",
            p.backup.display(),
            p.object.name(),
            p.properties.join(","),
            p.digest
        )?;
    }
    Ok(())
}

pub fn run(o: &mut dyn Write, a: BackupArgs) -> CliResult {
    match a.command {
        BackupCommand::Create { gov, out } => {
            let (g, actor) = gov.open()?;
            let r = g.run(|tx| tx.create_backup(&actor, &out))?;
            output::error(format_args!("warning: {}", r.warning));
            if gov.json {
                output::json(o, &r)?;
            } else {
                for (file, n) in &r.files {
                    writeln!(o, "{file}\t{n}")?;
                }
                writeln!(
                    o,
                    "wrote {} ({} records, sha256 {})",
                    r.backup.file, r.backup.records, r.backup.sha256
                )?;
            }
        }
        BackupCommand::Interval { gov, hours } => {
            let (g, actor) = gov.open()?;
            let r = g.run(|tx| tx.set_backup_interval(&actor, hours))?;
            if gov.json {
                output::json(o, &r)?;
            } else {
                writeln!(o, "backups at least {} hours apart", r.min_interval_hours)?;
            }
        }
        BackupCommand::Restore {
            gov,
            file,
            object: name,
            properties,
            plan,
            apply: _,
            acknowledge_irreversible,
            digest,
        } => {
            let (g, actor) = gov.open()?;
            let req = RestoreRequest { backup: file, object: object(&name)?, properties };
            if plan {
                let p = g.run(|tx| tx.restore_plan(&actor, &req))?;
                if gov.json {
                    output::json(o, &p)?;
                } else {
                    print_plan(o, &p, false)?;
                }
            } else {
                let digest = digest.unwrap_or_default();
                let r = g.restore(&actor, &req, &digest, acknowledge_irreversible, &mut |_| {})?;
                if gov.json {
                    output::json(o, &r)?;
                } else {
                    writeln!(o, "{}", r.action)?;
                    print_plan(o, &r.plan, true)?;
                }
            }
        }
    }
    Ok(exit::code(exit::OK))
}
