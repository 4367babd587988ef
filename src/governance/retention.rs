//! Retention rules, and the purge that applies them.
//!
//! **Rules.** A rule names a corpus and either nothing else (the corpus's *default* rule, at most
//! one per corpus) or accounts *or* an org unit (a *custom* rule; for an org unit, the
//! organisation's accounts below it when the rule is applied, as for holds), and for mail
//! optional terms run by the collection's own search. It keeps what it covers for a number of
//! days counted from the record's date ([`Record::date`](crate::model::Record::date)), or indefinitely; its action is
//! "purge after".
//!
//! **Conflicts, as Vault documents them** (Vault help "How retention works"; the facts file
//! `vault-export-facts.md` §14 and §15.1 name retained and held data but not the precedence, so
//! this is our reading of Vault's help pages): a custom rule that covers an item applies *instead
//! of* the default rule of its corpus, even when the default is longer; among the custom rules
//! that cover an item the longest retention wins, and an indefinite one beats any duration; an
//! item no rule covers is kept (without rules Vault keeps data indefinitely); and a hold of any
//! open matter always wins: a held item is never purged, whatever the rules say. Ties between
//! equally long rules go to the smaller rule id, so reports are deterministic.
//! [`governing`] and [`fate`] are that resolution, without any I/O.
//!
//! **Expiry.** An item governed by a rule of `days` days expires at its date plus `days` × 86,400
//! seconds and is purged by an apply whose `now` is at or after that instant. An item without a
//! date cannot be placed in a period and is kept (reported as undated).
//!
//! **User deletions.** A user deleting an item ([`Tx::delete_items`]) is recorded with its time.
//! A deleted item stays while a hold keeps it or its governing rule's period has not ended (or
//! is indefinite); otherwise (no rule covers it, or its period is over) the next apply purges
//! it, reported under the pseudo-rule [`USER_DELETION`]. Sources carry deletions too: a message
//! a Maildir marks trashed (flag `T`, label `^DELETED`) or Takeout lists in Trash (`^TRASH`) is
//! deleted in the same sense, reported under [`SOURCE_DELETION`] (its deletion time is unknown).
//! Deleted items a hold or rule keeps are left out of searches and exports that do not ask for
//! retained data ([`Tx::deleted_set`]); once nothing keeps them, the next apply purges them.
//!
//! **Purge.** [`Tx::apply_retention`] first records the plan (counts per rule and per account,
//! and a SHA-256 of the ids) in the audit log and commits it, still holding the governance lock
//! so no hold can be placed in between; then removes the records through
//! [`CollectionWriter::remove`] and logs what the [`RemoveReport`] says. A crash between the two
//! leaves a logged plan without its result and the records either all there or all removed (the
//! store's commit is atomic), and the next apply finds what is still due. The removed records'
//! blob bytes stay in the packs: reclaiming them (when no other record shares them) is a later
//! step, not done here.

use super::hold::held_kind;
use super::state::Tx;
use super::{GovernanceError, Rule, new_id};
use crate::collection::{NoProgress, RemoveReport};
use crate::digest::Sha256;
use crate::model::time;
use crate::model::{Account, Corpus, DocId, OrgUnit};
use crate::query::Scope;
use crate::search::HeldSet;
use crate::store::CommitSteps;
use crate::{Collection, CollectionWriter, SearchRequest};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// Seconds in a day of retention.
const DAY: i64 = 86_400;

/// The rule id purges of deleted items no rule keeps are reported under.
pub const USER_DELETION: &str = "user-deletion";

/// The pseudo-rule reported for purging an item its source marked deleted (Maildir `T`,
/// Takeout Trash) once nothing keeps it.
pub const SOURCE_DELETION: &str = "source-deletion";

/// The labels by which ingest records that a source marked a message deleted.
pub const DELETED_LABELS: [&str; 2] = ["^DELETED", "^TRASH"];

/// Did `rec`'s source mark it deleted (a label of [`DELETED_LABELS`])?
pub fn deleted_in_source(rec: &crate::model::Record) -> bool {
    rec.mail().is_some_and(|m| m.labels.iter().any(|l| DELETED_LABELS.contains(&l.as_str())))
}

/// A user's deletion of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    /// Who deleted it.
    pub actor: Account,
    /// When (ISO-8601 UTC).
    pub time: String,
}

/// What a delete did: every id asked for is in exactly one list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReport {
    /// Marked deleted now.
    pub deleted: Vec<DocId>,
    /// Deleted before.
    pub already: Vec<DocId>,
    /// No such record in the collection.
    pub not_found: Vec<DocId>,
}

/// A retention rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionRule {
    /// Its id.
    pub rule_id: String,
    /// The corpus it covers.
    pub corpus: Corpus,
    /// The accounts it covers (a custom rule by accounts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
    /// The org unit whose accounts it covers (a custom rule by org unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<OrgUnit>,
    /// Mail: a Vault query; only what it finds is covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<String>,
    /// Days kept from the item's date; `None`: indefinitely.
    pub days: Option<u32>,
    /// When it was made.
    pub create_time: String,
}

impl RetentionRule {
    /// Is this its corpus's default rule (no accounts, no org unit)?
    pub fn is_default(&self) -> bool {
        self.accounts.is_empty() && self.org_unit.is_none()
    }

    /// How long it keeps, as a number that orders retentions: indefinite is the longest.
    fn length(&self) -> u64 {
        self.days.map_or(u64::MAX, u64::from)
    }
}

/// A rule to add.
#[derive(Clone, Debug, Default)]
pub struct NewRule {
    /// The corpus.
    pub corpus: Option<Corpus>,
    /// Accounts (custom rule).
    pub accounts: Vec<Account>,
    /// Org unit (custom rule).
    pub org_unit: Option<OrgUnit>,
    /// Mail terms.
    pub terms: Option<String>,
    /// Days, or `None` for indefinite.
    pub days: Option<u32>,
}

/// The rule that governs an item among the rules that cover it, as Vault resolves conflicts
/// (module documentation): custom rules before the default, then the longest, then the smaller
/// id. `None` when no rule covers it.
pub fn governing<'a>(covering: &[&'a RetentionRule]) -> Option<&'a RetentionRule> {
    let custom = covering.iter().any(|r| !r.is_default());
    covering
        .iter()
        .copied()
        .filter(|r| !custom || !r.is_default())
        .max_by(|a, b| a.length().cmp(&b.length()).then_with(|| b.rule_id.cmp(&a.rule_id)))
}

/// What becomes of one item at an apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// A hold keeps it (holds always win).
    Held,
    /// No rule covers it.
    NoRule,
    /// It has no date to count a period from.
    Undated,
    /// Its rule keeps it indefinitely.
    Indefinite,
    /// Its rule keeps it until `expiry` (UTC seconds), which is after `now`.
    Kept {
        /// When its period ends.
        expiry: i64,
    },
    /// Its period ended at `expiry`: purge it.
    Purge {
        /// When its period ended.
        expiry: i64,
    },
    /// Its user deleted it and nothing keeps it: purge it.
    PurgeDeleted,
}

/// The fate of an item dated `date`, held or not, deleted by its user or not, governed by
/// `rule`, at `now`. A deleted item no rule covers is purged at once ([`Fate::PurgeDeleted`]);
/// a deleted item a rule covers lives out its period like any other.
pub fn fate(
    held: bool,
    deleted: bool,
    rule: Option<&RetentionRule>,
    date: Option<i64>,
    now: i64,
) -> Fate {
    if held {
        return Fate::Held;
    }
    let Some(rule) = rule else {
        return if deleted { Fate::PurgeDeleted } else { Fate::NoRule };
    };
    let Some(days) = rule.days else { return Fate::Indefinite };
    let Some(date) = date else { return Fate::Undated };
    let expiry = date.saturating_add(i64::from(days).saturating_mul(DAY));
    if now >= expiry { Fate::Purge { expiry } } else { Fate::Kept { expiry } }
}

/// One record an apply purges, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeItem {
    /// The record.
    pub doc_id: DocId,
    /// Its corpus.
    pub corpus: Corpus,
    /// Its account.
    pub account: Account,
    /// Its date (ISO-8601 UTC).
    pub date: String,
    /// The rule whose period ended.
    pub rule_id: String,
    /// When the period ended (ISO-8601 UTC).
    pub expiry: String,
}

/// What an apply purges and keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPlan {
    /// The instant applied at (ISO-8601 UTC).
    pub now: String,
    /// Records looked at.
    pub records: u64,
    /// Records kept because a hold covers them.
    pub kept_by_hold: u64,
    /// Records kept because their rule's period has not ended, or is indefinite.
    pub kept_by_rule: u64,
    /// Records no rule covers.
    pub no_rule: u64,
    /// Records a rule covers but which have no date.
    pub undated: u64,
    /// What to purge, by seq.
    pub items: Vec<PurgeItem>,
    /// Purges per rule, then per account.
    pub per_rule: BTreeMap<String, BTreeMap<String, u64>>,
    /// SHA-256 of the purged ids, one per line in `items` order.
    pub ids_sha256: String,
}

impl RetentionPlan {
    /// The ids to purge.
    pub fn doc_ids(&self) -> Vec<DocId> {
        self.items.iter().map(|i| i.doc_id).collect()
    }

    /// The audit outcome: counts and the digest, never the whole list.
    fn outcome(&self) -> serde_json::Value {
        json!({
            "now": self.now, "records": self.records, "toPurge": self.items.len(),
            "keptByHold": self.kept_by_hold, "keptByRule": self.kept_by_rule,
            "noRule": self.no_rule, "undated": self.undated,
            "perRule": self.per_rule, "idsSha256": self.ids_sha256,
        })
    }
}

/// What `retention apply` did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// Only listed, nothing purged.
    pub dry_run: bool,
    /// What was due.
    pub plan: RetentionPlan,
    /// Records purged (0 for a dry run).
    pub purged: u64,
    /// The store's account of the removal (none for a dry run or when nothing was due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove: Option<RemoveReport>,
    /// The disk space given back from the packs after the removal (none for a dry run, when
    /// nothing was purged, or when the reclaim failed: then the audit entry says why, and the
    /// next purge that removes records, or `ediscovery compact`, gives it back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclaimed: Option<crate::store::Reclaimed>,
}

fn collection_error(dir: &Path, e: crate::Error) -> GovernanceError {
    GovernanceError::Collection { path: dir.to_path_buf(), source: Box::new(e) }
}

impl Tx {
    /// Every retention rule.
    pub fn retention_rules(
        &mut self,
        actor: &Account,
    ) -> Result<Vec<RetentionRule>, GovernanceError> {
        self.read(actor, "retention.rule.list", None, json!({}), |tx| {
            tx.admin(actor)?;
            Ok(tx.state.retention.clone())
        })
    }

    /// Add a rule (administrators only). Refused by [`Rule::RetentionRuleFits`] when it names
    /// both accounts and an org unit, accounts outside the organisation, or terms for a corpus
    /// other than mail, and by [`Rule::OneDefaultPerCorpus`] for a second default rule.
    pub fn add_retention_rule(
        &mut self,
        actor: &Account,
        new: &NewRule,
    ) -> Result<RetentionRule, GovernanceError> {
        let params = json!({
            "corpus": new.corpus, "accounts": new.accounts, "orgUnit": new.org_unit,
            "terms": new.terms, "days": new.days,
        });
        self.act(actor, "retention.rule.add", None, params, |tx| {
            tx.admin(actor)?;
            let Some(corpus) = new.corpus else {
                return Err(GovernanceError::Invalid("a retention rule needs a corpus".to_owned()));
            };
            if !new.accounts.is_empty() && new.org_unit.is_some() {
                return Err(tx.refuse(
                    Rule::RetentionRuleFits,
                    "a rule covers accounts or an org unit, not both",
                ));
            }
            if let Some(t) = &new.terms {
                if corpus != Corpus::Mail {
                    return Err(tx.refuse(
                        Rule::RetentionRuleFits,
                        format!("terms are for mail rules, not {corpus}"),
                    ));
                }
                crate::query::parse(t)
                    .map_err(|e| GovernanceError::Invalid(format!("--terms {t:?}: {e}")))?;
            }
            let org = tx.org();
            if let Some(a) = new.accounts.iter().find(|a| org.and_then(|o| o.get(a)).is_none()) {
                return Err(tx.refuse(
                    Rule::RetentionRuleFits,
                    format!("{a} is not an account of the organisation"),
                ));
            }
            let default = new.accounts.is_empty() && new.org_unit.is_none();
            if default && new.terms.is_some() {
                return Err(tx.refuse(
                    Rule::RetentionRuleFits,
                    "a default rule covers its whole corpus: terms need accounts or an org unit",
                ));
            }
            if let Some(d) =
                tx.state.retention.iter().find(|r| r.is_default() && r.corpus == corpus)
                && default
            {
                return Err(tx.refuse(
                    Rule::OneDefaultPerCorpus,
                    format!("{corpus} has a default rule already ({})", d.rule_id),
                ));
            }
            let rule = RetentionRule {
                rule_id: new_id(tx, "retention", corpus.as_str()),
                corpus,
                accounts: new.accounts.clone(),
                org_unit: new.org_unit.clone(),
                terms: new.terms.clone(),
                days: new.days,
                create_time: time::iso_utc(tx.now()).unwrap_or_default(),
            };
            tx.state.retention.push(rule.clone());
            tx.touch();
            let outcome = json!({"ruleId": rule.rule_id});
            Ok((rule, outcome))
        })
    }

    /// Remove a rule (administrators only).
    pub fn remove_retention_rule(
        &mut self,
        actor: &Account,
        rule_id: &str,
    ) -> Result<RetentionRule, GovernanceError> {
        self.act(actor, "retention.rule.remove", None, json!({"ruleId": rule_id}), |tx| {
            tx.admin(actor)?;
            let Some(i) = tx.state.retention.iter().position(|r| r.rule_id == rule_id) else {
                return Err(GovernanceError::NotFound {
                    what: "retention rule",
                    id: rule_id.to_owned(),
                });
            };
            let rule = tx.state.retention.remove(i);
            tx.touch();
            Ok((rule, json!({})))
        })
    }

    /// Record that `actor` deleted the items `doc_ids` of the collection in `dir`, now. A user
    /// deletes their own items ([`Rule::OwnItemsOnly`]); an administrator any. Nothing is
    /// removed here: the next apply purges what no hold or rule keeps.
    pub fn delete_items(
        &mut self,
        actor: &Account,
        dir: &Path,
        doc_ids: &[DocId],
    ) -> Result<DeleteReport, GovernanceError> {
        let params = json!({"docIds": doc_ids});
        self.act(actor, "delete", None, params, |tx| {
            let admin = tx.actor(actor)?.admin;
            let coll = Collection::open(dir).map_err(|e| collection_error(dir, e))?;
            let mut want: BTreeMap<DocId, Option<Account>> =
                doc_ids.iter().map(|d| (*d, None)).collect();
            for rec in coll.store().iter() {
                let rec = rec.map_err(|e| collection_error(dir, e.into()))?;
                if let Some(slot) = want.get_mut(&rec.doc_id) {
                    *slot = Some(rec.account.clone());
                }
            }
            let mut report = DeleteReport::default();
            let time = time::iso_utc(tx.now()).unwrap_or_default();
            for id in doc_ids {
                match want.get(id).cloned().flatten() {
                    None => report.not_found.push(*id),
                    Some(owner) if !admin && owner != *actor => {
                        return Err(tx.refuse(
                            Rule::OwnItemsOnly,
                            format!("{id} is {owner}'s; {actor} deletes only their own items"),
                        ));
                    }
                    Some(_) if tx.state.deletions.contains_key(id) => report.already.push(*id),
                    Some(_) => {
                        let d = Deletion { actor: actor.clone(), time: time.clone() };
                        tx.state.deletions.insert(*id, d);
                        report.deleted.push(*id);
                    }
                }
            }
            tx.touch();
            let outcome = json!({
                "deleted": report.deleted.len(), "already": report.already.len(),
                "notFound": report.not_found,
            });
            Ok((report, outcome))
        })
    }

    /// What custom `rule` covers in `coll`: its search (corpus, accounts, terms).
    fn rule_coverage(
        &self,
        coll: &Collection,
        rule: &RetentionRule,
    ) -> Result<HeldSet, GovernanceError> {
        let mut set = HeldSet::new(coll);
        let accounts: Vec<Account> = match &rule.org_unit {
            Some(ou) => self.org().map(|o| o.under(ou, held_kind(rule.corpus))).unwrap_or_default(),
            None => rule.accounts.clone(),
        };
        if accounts.is_empty() {
            return Ok(set);
        }
        let terms = rule.terms.as_deref().unwrap_or("");
        let query = crate::query::parse(terms).map_err(|e| {
            GovernanceError::Invalid(format!(
                "retention rule {} terms {terms:?}: {e}",
                rule.rule_id
            ))
        })?;
        let req = SearchRequest::new(Scope::accounts(rule.corpus, accounts), query, self.now());
        let r = coll.search(&req).map_err(|e| GovernanceError::Search(Box::new(e)))?;
        for hit in &r.hits {
            set.insert(hit);
        }
        Ok(set)
    }

    /// What an apply at `now` would purge in `coll`, and why; nothing is changed or logged.
    pub fn retention_plan(
        &self,
        coll: &Collection,
        now: i64,
    ) -> Result<RetentionPlan, GovernanceError> {
        let held = self.held_set(coll)?;
        let rules = &self.state.retention;
        let mut custom = Vec::new();
        for r in rules.iter().filter(|r| !r.is_default()) {
            custom.push((r, self.rule_coverage(coll, r)?));
        }
        let mut plan =
            RetentionPlan { now: time::iso_utc(now).unwrap_or_default(), ..Default::default() };
        let mut ids = String::new();
        for rec in coll.store().iter() {
            let rec = rec.map_err(|e| GovernanceError::Search(Box::new(e.into())))?;
            plan.records += 1;
            let mut covering: Vec<&RetentionRule> = custom
                .iter()
                .filter(|(_, set)| set.contains(rec.seq, &rec.doc_id))
                .map(|(r, _)| *r)
                .collect();
            covering.extend(rules.iter().filter(|r| r.is_default() && r.corpus == rec.corpus));
            let rule = governing(&covering);
            let deleted = self.state.deletions.get(&rec.doc_id);
            let by_source = deleted.is_none() && deleted_in_source(&rec);
            let is_held = held.contains(rec.seq, &rec.doc_id);
            let f = fate(is_held, deleted.is_some() || by_source, rule, rec.date(), now);
            let (rule_id, expiry) = match f {
                Fate::Purge { expiry } => (
                    rule.map(|r| r.rule_id.clone()).unwrap_or_default(),
                    time::iso_utc(expiry).unwrap_or_default(),
                ),
                Fate::PurgeDeleted if by_source => (SOURCE_DELETION.to_owned(), String::new()),
                Fate::PurgeDeleted => {
                    (USER_DELETION.to_owned(), deleted.map(|d| d.time.clone()).unwrap_or_default())
                }
                _ => (String::new(), String::new()),
            };
            match f {
                Fate::Held => plan.kept_by_hold += 1,
                Fate::NoRule => plan.no_rule += 1,
                Fate::Undated => plan.undated += 1,
                Fate::Indefinite | Fate::Kept { .. } => plan.kept_by_rule += 1,
                Fate::Purge { .. } | Fate::PurgeDeleted => {
                    *plan
                        .per_rule
                        .entry(rule_id.clone())
                        .or_default()
                        .entry(rec.account.to_string())
                        .or_default() += 1;
                    ids.push_str(&rec.doc_id.to_string());
                    ids.push('\n');
                    plan.items.push(PurgeItem {
                        doc_id: rec.doc_id,
                        corpus: rec.corpus,
                        account: rec.account.clone(),
                        date: rec.date().and_then(time::iso_utc).unwrap_or_default(),
                        rule_id,
                        expiry,
                    });
                }
            }
        }
        plan.ids_sha256 = Sha256::of(ids.as_bytes()).to_hex();
        Ok(plan)
    }

    /// Apply the retention rules to the collection in `dir` at `now` (administrators only):
    /// with `dry_run`, list what is due; otherwise purge it, as the module documentation
    /// describes (plan logged and committed first, then the removal, then its report). Never
    /// touches a record a hold of an open matter keeps.
    pub fn apply_retention(
        &mut self,
        actor: &Account,
        dir: &Path,
        now: i64,
        dry_run: bool,
    ) -> Result<ApplyReport, GovernanceError> {
        self.apply_retention_steps(actor, dir, now, dry_run, &mut NoProgress)
    }

    /// [`apply_retention`](Self::apply_retention), telling `steps` of each step of the
    /// removal's commit (crash tests stop there).
    pub fn apply_retention_steps(
        &mut self,
        actor: &Account,
        dir: &Path,
        now: i64,
        dry_run: bool,
        steps: &mut dyn CommitSteps,
    ) -> Result<ApplyReport, GovernanceError> {
        let at = time::iso_utc(now).unwrap_or_default();
        let action = if dry_run { "retention.dry-run" } else { "retention.plan" };
        let plan = self.act(actor, action, None, json!({"now": at}), |tx| {
            tx.admin(actor)?;
            let coll = Collection::open(dir).map_err(|e| collection_error(dir, e))?;
            let plan = tx.retention_plan(&coll, now)?;
            let outcome = plan.outcome();
            Ok((plan, outcome))
        })?;
        if dry_run {
            return Ok(ApplyReport { dry_run, plan, purged: 0, remove: None, reclaimed: None });
        }
        // The plan is on record before anything is removed.
        self.checkpoint()?;
        let ids = plan.doc_ids();
        let params = json!({"now": at, "idsSha256": plan.ids_sha256, "requested": ids.len()});
        let remove = self.act(actor, "retention.apply", None, params, |tx| {
            if ids.is_empty() {
                return Ok(((None, None), json!({"purged": 0})));
            }
            let mut w = CollectionWriter::open(dir, 1).map_err(|e| collection_error(dir, e))?;
            let (report, after) = match w.remove(&ids, steps) {
                Ok(r) => (r, None),
                // Committed: the records are gone; the index catches up at the next writer.
                Err(crate::Error::RemovedThenFailed { report, source }) => {
                    (*report, Some(source.to_string()))
                }
                Err(e) => return Err(collection_error(dir, e)),
            };
            // The purged blobs' bytes leave the disk once no live record shares them. The
            // removal is committed whatever happens here: a failure is logged, and the next
            // reclaim finds the same bytes (it reads what is referenced, nothing tracked).
            let mut reclaimed = None;
            let mut blob_bytes = json!("kept in packs: the writer failed after the removal");
            if after.is_none() {
                match w.reclaim() {
                    Ok(r) => {
                        blob_bytes = json!({
                            "supported": r.supported, "freed": r.freed(),
                            "ranges": r.ranges, "rangeBytes": r.range_bytes,
                        });
                        reclaimed = Some(r);
                    }
                    Err(e) => blob_bytes = json!(format!("kept in packs: {e}")),
                }
                w.finish().map_err(|e| collection_error(dir, e))?;
            }
            for r in &report.removed {
                if tx.state.deletions.remove(&r.doc_id).is_some() {
                    tx.touch();
                }
            }
            let mut per_rule: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
            let rule_of: BTreeMap<DocId, &str> =
                plan.items.iter().map(|i| (i.doc_id, i.rule_id.as_str())).collect();
            for r in &report.removed {
                let rule = rule_of.get(&r.doc_id).copied().unwrap_or_default();
                *per_rule.entry(rule).or_default().entry(r.account.to_string()).or_default() += 1;
            }
            let outcome = json!({
                "purged": report.removed.len(), "requested": report.requested,
                "notFound": report.not_found, "duplicates": report.duplicates.len(),
                "balances": report.balances(), "generation": report.generation,
                "perRule": per_rule, "afterCommit": after,
                "blobBytes": blob_bytes,
            });
            Ok(((Some(report), reclaimed), outcome))
        })?;
        let (remove, reclaimed) = remove;
        let purged = remove.as_ref().map_or(0, |r| r.removed.len() as u64);
        Ok(ApplyReport { dry_run, plan, purged, remove, reclaimed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, accounts: &[&str], days: Option<u32>) -> RetentionRule {
        RetentionRule {
            rule_id: id.to_owned(),
            corpus: Corpus::Mail,
            accounts: accounts.iter().map(|a| Account::new(a).unwrap()).collect(),
            org_unit: None,
            terms: None,
            days,
            create_time: String::new(),
        }
    }

    #[test]
    fn the_longest_custom_rule_wins() {
        let a = rule("a", &["x@y.org"], Some(30));
        let b = rule("b", &["x@y.org"], Some(400));
        let c = rule("c", &["x@y.org"], Some(100));
        assert_eq!(governing(&[&a, &b, &c]).unwrap().rule_id, "b");
        assert_eq!(governing(&[&c, &a]).unwrap().rule_id, "c");
    }

    #[test]
    fn indefinite_beats_any_duration() {
        let a = rule("a", &["x@y.org"], Some(u32::MAX));
        let b = rule("b", &["x@y.org"], None);
        assert_eq!(governing(&[&a, &b]).unwrap().rule_id, "b");
        assert_eq!(fate(false, false, Some(&b), Some(0), i64::MAX), Fate::Indefinite);
    }

    #[test]
    fn a_custom_rule_applies_instead_of_the_default_even_when_shorter() {
        let default = rule("d", &[], Some(3650));
        let custom = rule("c", &["x@y.org"], Some(10));
        assert_eq!(governing(&[&default, &custom]).unwrap().rule_id, "c");
        assert_eq!(governing(&[&default]).unwrap().rule_id, "d");
        assert!(governing(&[]).is_none());
        // Indefinite default, short custom: the custom rule still governs.
        let forever = rule("f", &[], None);
        assert_eq!(governing(&[&forever, &custom]).unwrap().rule_id, "c");
    }

    #[test]
    fn ties_go_to_the_smaller_id_whatever_the_order() {
        let a = rule("a", &["x@y.org"], Some(10));
        let b = rule("b", &["x@y.org"], Some(10));
        assert_eq!(governing(&[&a, &b]).unwrap().rule_id, "a");
        assert_eq!(governing(&[&b, &a]).unwrap().rule_id, "a");
    }

    #[test]
    fn a_hold_always_wins_and_expiry_is_date_plus_days() {
        let r = rule("r", &[], Some(1));
        assert_eq!(fate(true, false, Some(&r), Some(0), 10 * DAY), Fate::Held);
        assert_eq!(fate(false, false, Some(&r), Some(0), DAY), Fate::Purge { expiry: DAY });
        assert_eq!(fate(false, false, Some(&r), Some(0), DAY - 1), Fate::Kept { expiry: DAY });
        assert_eq!(fate(false, false, Some(&r), None, 10 * DAY), Fate::Undated);
        assert_eq!(fate(false, false, None, Some(0), 10 * DAY), Fate::NoRule);
    }

    #[test]
    fn a_deleted_item_stays_while_held_or_retained_and_is_purged_otherwise() {
        let r = rule("r", &[], Some(10));
        let forever = rule("f", &[], None);
        assert_eq!(fate(true, true, None, Some(0), 0), Fate::Held);
        assert_eq!(fate(false, true, None, Some(0), 0), Fate::PurgeDeleted);
        assert_eq!(fate(false, true, Some(&r), Some(0), DAY), Fate::Kept { expiry: 10 * DAY });
        assert_eq!(
            fate(false, true, Some(&r), Some(0), 10 * DAY),
            Fate::Purge { expiry: 10 * DAY }
        );
        assert_eq!(fate(false, true, Some(&forever), Some(0), DAY), Fate::Indefinite);
    }
}
