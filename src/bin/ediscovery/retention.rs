//! `ediscovery retention rule add|list|remove` and `ediscovery retention apply`: how long data
//! is kept, and the purge of what is past its time (never what a hold keeps).

use crate::actor::{self, EXIT_CODES, GovArgs};
use crate::exit;
use crate::output::{self, CliResult};
use clap::{Args, Subcommand};
use ediscovery::governance::{NewRule, RetentionRule};
use ediscovery::model::time::{self, CivilDay};
use ediscovery::model::{Corpus, OrgUnit};
use std::io::Write;

#[derive(Args)]
pub struct RetentionArgs {
    #[command(subcommand)]
    command: RetentionCommand,
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Retention rules (administrators only).
    Rule {
        #[command(subcommand)]
        command: RuleCommand,
    },
    /// Purge what is past its rule's period, never what a hold of an open matter keeps
    /// (administrators only). Lists per rule and account what is purged and why. The purged
    /// records' blob bytes stay in the packs (reclaimed by a later step).
    #[command(after_help = EXIT_CODES)]
    Apply {
        #[command(flatten)]
        gov: GovArgs,
        /// Only list what would be purged.
        #[arg(long)]
        dry_run: bool,
        /// Apply as of the start of this UTC day (YYYY-MM-DD) instead of now.
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Subcommand)]
enum RuleCommand {
    /// Add a rule: the corpus's default (no --accounts, no --org-unit) or a custom one. Prints
    /// its id (JSON: the rule, with "ruleId").
    #[command(after_help = EXIT_CODES)]
    Add {
        #[command(flatten)]
        gov: GovArgs,
        /// mail, groups, chat, drive or voice.
        #[arg(long)]
        corpus: String,
        /// Days kept from the item's date.
        #[arg(long, required_unless_present = "indefinite", conflicts_with = "indefinite")]
        days: Option<u32>,
        /// Kept indefinitely.
        #[arg(long)]
        indefinite: bool,
        /// An org unit: its accounts now and later.
        #[arg(long, conflicts_with = "accounts")]
        org_unit: Option<String>,
        /// Comma-separated accounts.
        #[arg(long, value_delimiter = ',')]
        accounts: Vec<String>,
        /// Mail: a Vault query; only what it finds is covered.
        #[arg(long)]
        terms: Option<String>,
    },
    /// Every rule (JSON: {"rules": […]}).
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        gov: GovArgs,
    },
    /// Remove a rule.
    #[command(after_help = EXIT_CODES)]
    Remove {
        #[command(flatten)]
        gov: GovArgs,
        /// The rule's id.
        #[arg(long)]
        rule: String,
    },
}

fn line(r: &RetentionRule) -> String {
    let whom = match (&r.org_unit, r.accounts.is_empty()) {
        (Some(ou), _) => format!("org-unit:{ou}"),
        (None, false) => r.accounts.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        (None, true) => "default".to_owned(),
    };
    let days = r.days.map_or("indefinite".to_owned(), |d| format!("{d}d"));
    format!("{}\t{}\t{}\t{}\t{}", r.rule_id, r.corpus, whom, days, r.terms.as_deref().unwrap_or(""))
}

pub fn run(o: &mut dyn Write, a: RetentionArgs) -> CliResult {
    match a.command {
        RetentionCommand::Rule {
            command: RuleCommand::Add { gov, corpus, days, indefinite, org_unit, accounts, terms },
        } => {
            let (g, actor) = gov.open()?;
            let corpus = Corpus::parse(&corpus).ok_or_else(|| {
                format!("--corpus {corpus}: use mail, groups, chat, drive or voice")
            })?;
            let new = NewRule {
                corpus: Some(corpus),
                accounts: actor::accounts("--accounts", &accounts)?,
                org_unit: org_unit.as_deref().map(OrgUnit::new),
                terms,
                days: if indefinite { None } else { days },
            };
            let r = g.run(|tx| tx.add_retention_rule(&actor, &new))?;
            if gov.json {
                output::json(o, &r)?;
            } else {
                writeln!(o, "{}", r.rule_id)?;
            }
        }
        RetentionCommand::Rule { command: RuleCommand::List { gov } } => {
            let (g, actor) = gov.open()?;
            let rules = g.run(|tx| tx.retention_rules(&actor))?;
            if gov.json {
                output::json(o, &serde_json::json!({"rules": rules}))?;
            } else {
                for r in &rules {
                    writeln!(o, "{}", line(r))?;
                }
            }
        }
        RetentionCommand::Rule { command: RuleCommand::Remove { gov, rule } } => {
            let (g, actor) = gov.open()?;
            let r = g.run(|tx| tx.remove_retention_rule(&actor, &rule))?;
            if gov.json {
                output::json(o, &r)?;
            } else {
                writeln!(o, "removed\t{}", line(&r))?;
            }
        }
        RetentionCommand::Apply { gov, dry_run, now } => {
            let (g, actor) = gov.open()?;
            let at = match &now {
                Some(d) => {
                    let day =
                        CivilDay::parse(d).ok_or_else(|| format!("--now {d}: use YYYY-MM-DD"))?;
                    let utc = time::zone("UTC").ok_or("the UTC zone is missing")?;
                    time::day_start(day, &utc).ok_or_else(|| format!("--now {d}: out of range"))?
                }
                None => time::now(),
            };
            let r = g.run(|tx| tx.apply_retention(&actor, g.collection(), at, dry_run))?;
            if gov.json {
                output::json(o, &r)?;
            } else {
                for i in &r.plan.items {
                    writeln!(
                        o,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        if dry_run { "would-purge" } else { "purged" },
                        i.doc_id,
                        i.account,
                        i.date,
                        i.rule_id,
                        i.expiry
                    )?;
                }
                for (rule, per) in &r.plan.per_rule {
                    for (account, n) in per {
                        writeln!(o, "rule\t{rule}\t{account}\t{n}")?;
                    }
                }
                let p = &r.plan;
                writeln!(
                    o,
                    "records {}  due {}  purged {}  kept by hold {}  kept by rule {}  no rule {}  undated {}",
                    p.records,
                    p.items.len(),
                    r.purged,
                    p.kept_by_hold,
                    p.kept_by_rule,
                    p.no_rule,
                    p.undated
                )?;
            }
        }
    }
    Ok(exit::code(exit::OK))
}
