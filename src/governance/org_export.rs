//! The governance side of the organisation-wide export (`export::org`): who may start one, how
//! often, what it leaves out, and its record in the state and the audit log.
//!
//! Rules, as Google's Data Export documents them (facts §15.1), each configurable through
//! [`OrgExportRules`]: administrators only; one full export per 30 days unless forced (the
//! forcing is in the audit entry); the archive expires 30 days after the start. A start with the
//! id of an export that is still in progress is its resumption (a killed run continuing), not a
//! second export.

use super::state::Tx;
use super::{GovernanceError, Rule};
use crate::Collection;
use crate::model::time;
use crate::model::{Account, DocId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The rules of the organisation-wide export, each configurable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgExportRules {
    /// Accounts created less than this many seconds before the start are left out (and
    /// listed). Google: 24 hours.
    pub min_account_age_secs: i64,
    /// At most one full export in this many seconds, unless forced. Google: 30 days.
    pub interval_secs: i64,
    /// The archive is available this long after the start. Google: 30 days (a 2026 page says
    /// 60 for the bucket; facts §17).
    pub expiry_secs: i64,
}

impl Default for OrgExportRules {
    fn default() -> Self {
        OrgExportRules { min_account_age_secs: DAY, interval_secs: 30 * DAY, expiry_secs: 30 * DAY }
    }
}

/// An organisation-wide export, as the state records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgExportRecord {
    /// Its id (the archive folder's name).
    pub export_id: String,
    /// The administrator who started it.
    pub started_by: Account,
    /// When (ISO-8601 UTC).
    pub start_time: String,
    /// When the archive expires (ISO-8601 UTC).
    pub expiry_time: String,
    /// `IN_PROGRESS`, `COMPLETED` or `COMPLETED_WITH_ERRORS`.
    pub status: String,
    /// Started within the interval with `--force`.
    pub forced: bool,
    /// Accounts exported (once finished).
    #[serde(default)]
    pub accounts: u64,
    /// The archive folder.
    #[serde(default)]
    pub dir: String,
    /// When the archive was finished (ISO-8601 UTC, its report's `finishTime`), once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<String>,
}

/// What finishing an organisation export records: its status, accounts, folder and finish
/// time, as the archive's own report gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgExportFinish {
    /// `COMPLETED` or `COMPLETED_WITH_ERRORS`.
    pub status: String,
    /// Accounts exported.
    pub accounts: u64,
    /// The archive folder.
    pub dir: String,
    /// The report's `finishTime` (ISO-8601 UTC).
    pub finish_time: String,
    /// The report's totals, for the audit entry.
    pub counts: serde_json::Value,
}

/// What a start (or resumption) gives the runner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgExportStart {
    /// The record.
    pub record: OrgExportRecord,
    /// An in-progress export continued.
    pub resumed: bool,
    /// User-deleted records nothing keeps (no hold, no rule whose period runs): left out.
    pub deleted_left_out: BTreeSet<DocId>,
}

impl Tx {
    /// Start the export `export_id` at `start` (UTC seconds), or continue it when it is in
    /// progress. Administrators only; refused by [`Rule::OrgExportInterval`] when another full
    /// export started less than the interval before, unless `force`.
    pub fn start_org_export(
        &mut self,
        actor: &Account,
        coll: &Collection,
        export_id: &str,
        start: i64,
        rules: &OrgExportRules,
        force: bool,
    ) -> Result<OrgExportStart, GovernanceError> {
        let params = json!({"exportId": export_id, "force": force, "rules": rules});
        let resuming = self
            .state
            .org_exports
            .iter()
            .any(|e| e.export_id == export_id && e.status == "IN_PROGRESS");
        let action = if resuming { "org-export.resume" } else { "org-export.start" };
        self.act(actor, action, None, params, |tx| {
            tx.admin(actor)?;
            let deleted_left_out = tx.deleted_left_out(coll, start)?;
            if let Some(r) = tx.state.org_exports.iter().find(|e| e.export_id == export_id) {
                if r.status != "IN_PROGRESS" {
                    return Err(GovernanceError::Invalid(format!(
                        "export {export_id} is {} already: its archive is in {}",
                        r.status, r.dir
                    )));
                }
                let record = r.clone();
                let out = json!({"deletedLeftOut": deleted_left_out.len()});
                return Ok((OrgExportStart { record, resumed: true, deleted_left_out }, out));
            }
            let last = tx
                .state
                .org_exports
                .iter()
                .filter_map(|e| time::parse_iso8601(&e.start_time).map(|t| (t, e)))
                .max_by_key(|(t, _)| *t);
            let mut forced = false;
            if let Some((t, e)) = last
                && start < t.saturating_add(rules.interval_secs)
            {
                if !force {
                    return Err(tx.refuse(
                        Rule::OrgExportInterval,
                        format!(
                            "a full export ({}, {}{}) started at {}; one full export per {} days, so the next may start at {} (--force overrides, and is logged)",
                            e.export_id,
                            e.status,
                            e.finish_time
                                .as_deref()
                                .map(|f| format!(", finished at {f}"))
                                .unwrap_or_default(),
                            e.start_time,
                            rules.interval_secs / DAY,
                            time::iso_utc(t.saturating_add(rules.interval_secs)).unwrap_or_default()
                        ),
                    ));
                }
                forced = true;
            }
            let record = OrgExportRecord {
                export_id: export_id.to_owned(),
                started_by: actor.clone(),
                start_time: time::iso_utc(start).unwrap_or_default(),
                expiry_time: time::iso_utc(start.saturating_add(rules.expiry_secs))
                    .unwrap_or_default(),
                status: "IN_PROGRESS".to_owned(),
                forced,
                accounts: 0,
                dir: String::new(),
                finish_time: None,
            };
            tx.state.org_exports.push(record.clone());
            tx.touch();
            let out = json!({"forced": forced, "expiryTime": record.expiry_time, "deletedLeftOut": deleted_left_out.len()});
            Ok((OrgExportStart { record, resumed: false, deleted_left_out }, out))
        })
    }

    /// Record that the export `export_id` finished as `fin` says.
    pub fn finish_org_export(
        &mut self,
        actor: &Account,
        export_id: &str,
        fin: &OrgExportFinish,
    ) -> Result<OrgExportRecord, GovernanceError> {
        self.record_org_finish(actor, "org-export.finish", export_id, fin)
    }

    /// The organisation exports still `IN_PROGRESS`: killed runs, or runs going on now.
    pub fn org_exports_in_progress(&self) -> Vec<OrgExportRecord> {
        self.state.org_exports.iter().filter(|e| e.status == "IN_PROGRESS").cloned().collect()
    }

    /// Record as finished an export whose run was killed after its archive was renamed into
    /// place but before its finish was recorded (the runner found the archive complete, its
    /// MD5s verified). Administrators only; only an `IN_PROGRESS` export; the finish time is
    /// the archive's own, and the audit entry says it was reconciled.
    pub fn reconcile_org_export(
        &mut self,
        actor: &Account,
        export_id: &str,
        fin: &OrgExportFinish,
    ) -> Result<OrgExportRecord, GovernanceError> {
        self.record_org_finish(actor, "org-export.reconcile", export_id, fin)
    }

    fn record_org_finish(
        &mut self,
        actor: &Account,
        action: &str,
        export_id: &str,
        fin: &OrgExportFinish,
    ) -> Result<OrgExportRecord, GovernanceError> {
        let params = json!({"exportId": export_id});
        let reconciled = action == "org-export.reconcile";
        self.act(actor, action, None, params, |tx| {
            if reconciled {
                tx.admin(actor)?;
            }
            let Some(r) = tx.state.org_exports.iter_mut().find(|e| e.export_id == export_id) else {
                return Err(GovernanceError::NotFound {
                    what: "organisation export",
                    id: export_id.to_owned(),
                });
            };
            if r.status != "IN_PROGRESS" {
                return Err(GovernanceError::Invalid(format!(
                    "export {export_id} is {} already: its archive is in {}",
                    r.status, r.dir
                )));
            }
            r.status.clone_from(&fin.status);
            r.accounts = fin.accounts;
            r.dir.clone_from(&fin.dir);
            r.finish_time = Some(fin.finish_time.clone());
            let out = r.clone();
            tx.touch();
            let mut outcome = json!({
                "exportStatus": fin.status,
                "accounts": fin.accounts,
                "finishTime": fin.finish_time,
                "counts": fin.counts,
            });
            if reconciled {
                outcome["reconciled"] = json!(true);
            }
            Ok((out, outcome))
        })
    }

    /// User-deleted records of `coll` that nothing keeps at `now`: no hold of an open matter,
    /// no retention rule whose period still runs (the retention plan's own reading, so the
    /// export and the next purge agree on what is gone).
    fn deleted_left_out(
        &self,
        coll: &Collection,
        now: i64,
    ) -> Result<BTreeSet<DocId>, GovernanceError> {
        if self.state.deletions.is_empty() {
            return Ok(BTreeSet::new());
        }
        let plan = self.retention_plan(coll, now)?;
        Ok(plan
            .items
            .iter()
            .map(|i| i.doc_id)
            .filter(|d| self.state.deletions.contains_key(d))
            .collect())
    }
}
