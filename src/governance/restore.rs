//! Restoring chosen properties of one object type from a backup (HubSpot's restore, facts §16).
//!
//! **Plan.** [`Tx::restore_plan`] reads the object type's CSV from the backup (cells unguarded:
//! see [`super::backup`]) and compares it, record by record (matched by the id in the first
//! column), with the state now: for every chosen property whose value differs, a
//! [`RestoreChange`] (current value → backup value; a blank backup value clears the current
//! one). Records in the backup that are gone now are listed and not recreated (HubSpot: "deleted
//! records are not brought back by restore"); records made since the backup are left alone.
//! Properties that cannot be restored — the id, links between records, history, the
//! organisation, unknown names — are refused before anything is compared, and every change is
//! tried on a copy of the state so a value the property cannot take (a blank matter name, a
//! state Vault's transition table does not reach in one step) is refused at plan time with its
//! record id, not halfway through the apply. All refusals name [`Rule::RestorableProperties`].
//!
//! **Digest.** The plan carries a SHA-256 over the backup file's SHA-256, the object type, the
//! properties, every change (id, property, current, backup) and the deleted ids. The apply
//! recomputes the plan inside its transaction and refuses ([`Rule::RestorePlanUnchanged`]) when
//! the digest differs from the reviewed one: a change to the state or a different backup file
//! since the review shows up as a different current value, change or file hash. So the apply
//! writes exactly what was reviewed, or nothing.
//!
//! **One at a time.** [`super::Governance::restore`] holds `DIR/governance/RESTORE.LOCK` (an
//! exclusive file lock, taken without waiting) from before the plan is recomputed until the
//! commit; a second restore while it is held is refused ([`Rule::OneRestoreAtATime`]) and the
//! refusal logged. The apply is one governance transaction, logged as `"Data Restore - <Object>"`
//! with its counts.

use super::objects::{self, ObjectType, Row};
use super::state::Tx;
use super::{Governance, GovernanceError, Rule};
use crate::digest::Sha256;
use crate::format::csv::{RowReader, unguard};
use crate::format::zip::ZipIn;
use crate::model::Account;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// Largest backup file read (a backup of a large state is a few megabytes).
const MAX_BACKUP: u64 = 256 << 20;
/// Longest CSV row read from a backup.
const MAX_ROW: u64 = 16 << 20;

/// What to restore: properties of one object type, from one backup file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreRequest {
    /// The backup file.
    pub backup: PathBuf,
    /// The object type.
    pub object: ObjectType,
    /// The properties (column names).
    pub properties: Vec<String>,
}

/// One property of one record a restore writes back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreChange {
    /// The record's id.
    pub id: String,
    /// The property.
    pub property: String,
    /// Its value now.
    pub current: String,
    /// Its value in the backup (blank: the current value is cleared).
    pub backup: String,
}

/// What a restore would write: the review step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePlan {
    /// The backup file.
    pub backup: PathBuf,
    /// Its SHA-256.
    pub backup_sha256: String,
    /// The object type.
    pub object: ObjectType,
    /// The properties restored.
    pub properties: Vec<String>,
    /// Records in the backup.
    pub backup_records: u64,
    /// Every change, by record in backup order, then property in the order asked.
    pub changes: Vec<RestoreChange>,
    /// Ids of records in the backup that were deleted since: listed, not recreated.
    pub deleted_since_backup: Vec<String>,
    /// Records made since the backup: left as they are.
    pub not_in_backup: u64,
    /// SHA-256 of the plan (see the module documentation): what `--apply` must be given.
    pub digest: String,
}

impl RestorePlan {
    /// Records the restore changes.
    pub fn records_changed(&self) -> u64 {
        self.changes.iter().map(|c| &c.id).collect::<BTreeSet<_>>().len() as u64
    }
}

/// What an applied restore did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    /// The audit entry's action: `Data Restore - <Object>`.
    pub action: String,
    /// The plan applied.
    pub plan: RestorePlan,
}

/// Where a restore stands, for callers that show progress (and tests that stop it there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreStep {
    /// The restore lock is held; the plan is about to be recomputed and applied.
    Locked,
}

fn bad(path: &Path, reason: impl Into<String>) -> GovernanceError {
    GovernanceError::BadBackup { path: path.to_path_buf(), reason: reason.into() }
}

/// The backup's bytes and its SHA-256.
fn read_backup(path: &Path) -> Result<(Vec<u8>, Sha256), GovernanceError> {
    let io = |source| GovernanceError::Io { path: path.to_path_buf(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_BACKUP {
        return Err(bad(path, format!("{len} bytes, more than a backup holds ({MAX_BACKUP})")));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let sha = Sha256::of(&bytes);
    Ok((bytes, sha))
}

/// The records of `object` in the backup, cells unguarded; empty when the backup has no file
/// for it (it had no records).
fn backup_rows(path: &Path, bytes: &[u8], object: ObjectType) -> Result<Vec<Row>, GovernanceError> {
    let mut zip = ZipIn::new(std::io::Cursor::new(bytes)).map_err(|e| bad(path, e.to_string()))?;
    let entry = path.join(object.file_name());
    let want = object.header();
    let read = zip
        .read(&object.file_name(), |r| -> Result<Vec<Row>, GovernanceError> {
            // The inflated CSV is bounded as the zip file is: a small zip must not inflate
            // into rows that fill memory.
            let r = crate::format::bounded::Bounded::new(r, MAX_BACKUP);
            let mut csv = RowReader::new(r, MAX_ROW).map_err(|e| bad(&entry, e.to_string()))?;
            let header: Vec<&str> = csv.header().iter().map(|h| unguard(h)).collect();
            if header != want {
                return Err(bad(
                    &entry,
                    format!("header {:?}, expected {:?}", header.join(","), want.join(",")),
                ));
            }
            let mut rows = Vec::new();
            let mut seen = BTreeSet::new();
            while let Some((line, cells)) =
                csv.next_row_at().map_err(|e| bad(&entry, e.to_string()))?
            {
                if cells.len() != want.len() {
                    return Err(bad(
                        &entry,
                        format!("line {line}: {} cells, expected {}", cells.len(), want.len()),
                    ));
                }
                let row: Row = cells.iter().map(|c| unguard(c).to_owned()).collect();
                if !seen.insert(row[0].clone()) {
                    return Err(bad(&entry, format!("line {line}: id {} appears twice", row[0])));
                }
                rows.push(row);
            }
            Ok(rows)
        })
        .map_err(|e| bad(&entry, e.to_string()))?;
    match read {
        None => Ok(Vec::new()),
        Some(rows) => rows,
    }
}

impl Tx {
    /// The plan to restore `properties` of `object` from the backup at `backup` (administrators
    /// only; nothing is changed, and only a refusal is logged).
    pub fn restore_plan(
        &mut self,
        actor: &Account,
        req: &RestoreRequest,
    ) -> Result<RestorePlan, GovernanceError> {
        let params = json!({
            "file": req.backup.display().to_string(), "object": req.object.name(),
            "properties": req.properties,
        });
        self.read(actor, "restore.plan", None, params, |tx| {
            tx.admin(actor)?;
            tx.compute_restore_plan(req)
        })
    }

    fn compute_restore_plan(&self, req: &RestoreRequest) -> Result<RestorePlan, GovernanceError> {
        let (backup, object, properties) = (req.backup.as_path(), req.object, &req.properties);
        if properties.is_empty() {
            return Err(self.refuse(Rule::RestorableProperties, "name at least one property"));
        }
        let header = object.header();
        let mut cols = Vec::new();
        for p in properties {
            if let Some(why) = objects::not_restorable(object, p) {
                return Err(self.refuse(Rule::RestorableProperties, why));
            }
            if cols.iter().any(|(name, _)| name == p) {
                return Err(self.refuse(Rule::RestorableProperties, format!("{p} is named twice")));
            }
            cols.push((p.clone(), header.iter().position(|h| h == p).unwrap_or(0)));
        }
        let (bytes, sha) = read_backup(backup)?;
        let saved = backup_rows(backup, &bytes, object)?;
        let now: BTreeMap<String, Row> =
            objects::rows(&self.state, object).into_iter().map(|r| (r[0].clone(), r)).collect();
        let mut changes = Vec::new();
        let mut deleted = Vec::new();
        for row in &saved {
            let Some(cur) = now.get(&row[0]) else {
                deleted.push(row[0].clone());
                continue;
            };
            for (name, i) in &cols {
                if cur[*i] != row[*i] {
                    changes.push(RestoreChange {
                        id: row[0].clone(),
                        property: name.clone(),
                        current: cur[*i].clone(),
                        backup: row[*i].clone(),
                    });
                }
            }
        }
        let ids: BTreeSet<&String> = saved.iter().map(|r| &r[0]).collect();
        let not_in_backup = now.keys().filter(|k| !ids.contains(k)).count() as u64;
        // Try every change on a copy: a value the property cannot take is refused now, with its
        // record, rather than halfway through the apply.
        let mut trial = self.state.clone();
        for c in &changes {
            objects::set(&mut trial, object, &c.id, &c.property, &c.backup).map_err(|why| {
                self.refuse(
                    Rule::RestorableProperties,
                    format!("{} {}: {}: {why}", object.name(), c.id, c.property),
                )
            })?;
        }
        objects::check(&trial).map_err(|why| self.refuse(Rule::RestorableProperties, why))?;
        let digest_input = json!({
            "backupSha256": sha.to_hex(), "object": object.name(), "properties": properties,
            "changes": changes, "deleted": deleted,
        });
        let digest = Sha256::of(digest_input.to_string().as_bytes()).to_hex();
        Ok(RestorePlan {
            backup: backup.to_path_buf(),
            backup_sha256: sha.to_hex(),
            object,
            properties: properties.to_vec(),
            backup_records: saved.len() as u64,
            changes,
            deleted_since_backup: deleted,
            not_in_backup,
            digest,
        })
    }

    /// Apply the plan whose digest is `digest` (from [`Tx::restore_plan`]): recomputed here and
    /// refused if it changed. Call through [`Governance::restore`], which holds the restore lock.
    fn apply_restore(
        &mut self,
        actor: &Account,
        req: &RestoreRequest,
        digest: &str,
        acknowledged: bool,
    ) -> Result<RestoreReport, GovernanceError> {
        let (backup, object, properties) = (req.backup.as_path(), req.object, &req.properties);
        let action = format!("Data Restore - {}", object.title());
        let params = json!({
            "file": backup.display().to_string(), "object": object.name(),
            "properties": properties, "digest": digest,
        });
        self.act(actor, &action.clone(), None, params, |tx| {
            tx.admin(actor)?;
            if !acknowledged {
                return Err(tx.refuse(
                    Rule::RestoreAcknowledged,
                    "a restore changes data and cannot be undone: acknowledge it (--acknowledge-irreversible)",
                ));
            }
            let plan = tx.compute_restore_plan(req)?;
            if plan.digest != digest.trim().to_ascii_lowercase() {
                return Err(tx.refuse(
                    Rule::RestorePlanUnchanged,
                    format!(
                        "the plan is not the one reviewed (digest {digest}, now {}): the state or the backup changed since; review it again with --plan",
                        plan.digest
                    ),
                ));
            }
            for c in &plan.changes {
                objects::set(&mut tx.state, object, &c.id, &c.property, &c.backup).map_err(
                    |why| tx_refuse(Rule::RestorableProperties, format!("{} {}: {why}", object.name(), c.id)),
                )?;
            }
            tx.touch();
            let outcome = json!({
                "object": object.name(), "properties": plan.properties,
                "backupSha256": plan.backup_sha256, "planDigest": plan.digest,
                "backupRecords": plan.backup_records, "recordsChanged": plan.records_changed(),
                "propertiesWritten": plan.changes.len(),
                "deletedSinceBackup": plan.deleted_since_backup.len(),
                "notInBackup": plan.not_in_backup,
            });
            Ok((RestoreReport { action, plan }, outcome))
        })
    }
}

fn tx_refuse(rule: Rule, reason: String) -> GovernanceError {
    GovernanceError::Refused { rule, reason }
}

impl Governance {
    /// Restore as [`Tx::restore_plan`] planned it (the plan's `digest`), holding the restore
    /// lock: a second restore meanwhile is refused. `step` is told when the lock is held.
    pub fn restore(
        &self,
        actor: &Account,
        req: &RestoreRequest,
        digest: &str,
        acknowledged: bool,
        step: &mut dyn FnMut(RestoreStep),
    ) -> Result<RestoreReport, GovernanceError> {
        let (backup, object) = (req.backup.as_path(), req.object);
        let dir = self.collection().join("governance");
        std::fs::create_dir_all(&dir)
            .map_err(|source| GovernanceError::Io { path: dir.clone(), source })?;
        let path = dir.join("RESTORE.LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| GovernanceError::Io { path: path.clone(), source })?;
        if let Err(e) = lock.try_lock() {
            let reason = match e {
                std::fs::TryLockError::WouldBlock => format!(
                    "another restore is running (it holds {}): one restore at a time",
                    path.display()
                ),
                std::fs::TryLockError::Error(e) => format!("{}: {e}", path.display()),
            };
            let params = json!({"file": backup.display().to_string(), "object": object.name()});
            let action = format!("Data Restore - {}", object.title());
            let logged: Result<(), GovernanceError> = self.run(|tx| {
                tx.act(actor, &action, None, params, |_| {
                    Err(tx_refuse(Rule::OneRestoreAtATime, reason.clone()))
                })
            });
            return Err(logged.err().unwrap_or(tx_refuse(Rule::OneRestoreAtATime, reason)));
        }
        step(RestoreStep::Locked);
        let r = self.run(|tx| tx.apply_restore(actor, req, digest, acknowledged));
        drop(lock);
        r
    }
}
