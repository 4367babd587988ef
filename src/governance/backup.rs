//! Backups of the governance state (HubSpot's backup, facts §16): a zip holding one CSV per
//! object type ([`ObjectType`]), every record and every property, the header row first and the
//! record's stable id in the first column; an object type without records gets no file.
//!
//! **Cells.** Written through `format::csv` with the formula guard on, as exports write their
//! CSVs: a cell a spreadsheet would run (`=`, `+`, `-`, `@`, tab, CR) and a cell starting with
//! `'` get one `'` in front, so opening the backup runs nothing; [`super::restore`] strips
//! exactly one leading `'` from every cell it reads (`format::csv::unguard`), which gives back
//! every value as it was, including values that really start with `'`.
//!
//! **Consistency.** The backup is taken inside a governance transaction, so it is the state as
//! of one commit (HubSpot gives no point-in-time guarantee; we can). It is built in memory — the
//! state is already wholly in memory, tens of kilobytes for hundreds of matters — then written
//! under a temporary name, synced and renamed, so a backup file is either whole or absent.
//!
//! **Rules.** Administrators only; backups at least [`BackupState::min_interval_hours`] apart
//! (default 24, HubSpot Enterprise's once per 24 h; `ediscovery backup interval` changes it);
//! refusals name [`Rule::BackupInterval`]. The file holds sensitive values (account addresses,
//! matter descriptions, queries): the report carries [`SENSITIVE`] for the caller to show.

use super::objects::{ObjectType, rows};
use super::state::{State, Tx};
use super::{GovernanceError, Rule, new_id};
use crate::digest::Sha256;
use crate::format::csv::CsvWriter;
use crate::format::zip::{Compression, EntryOptions, ZipOptions, ZipWriter};
use crate::model::Account;
use crate::model::time;
use crate::partial_file::PartialFile;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The warning every backup comes with.
pub const SENSITIVE: &str = "the backup holds sensitive values (account addresses, matter names and descriptions, queries): store it where only administrators can read it";

/// Hours between backups unless configured.
pub const DEFAULT_INTERVAL_HOURS: u32 = 24;

fn default_interval() -> u32 {
    DEFAULT_INTERVAL_HOURS
}

/// A backup made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRecord {
    /// Its id.
    pub backup_id: String,
    /// Who made it.
    pub actor: Account,
    /// When (ISO-8601 UTC).
    pub time: String,
    /// The file written, as given.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Records in it, all object types.
    pub records: u64,
}

/// What the state keeps about backups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupState {
    /// The least time between two backups, in hours (0: no limit).
    #[serde(default = "default_interval")]
    pub min_interval_hours: u32,
    /// Every backup made, oldest first.
    #[serde(default)]
    pub history: Vec<BackupRecord>,
}

impl Default for BackupState {
    fn default() -> Self {
        BackupState { min_interval_hours: DEFAULT_INTERVAL_HOURS, history: Vec::new() }
    }
}

/// What `backup create` wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    /// The backup as recorded.
    pub backup: BackupRecord,
    /// Records per CSV written (object types without records have no file and are not listed).
    pub files: BTreeMap<String, u64>,
    /// [`SENSITIVE`].
    pub warning: &'static str,
}

/// The backup zip of `state`'s objects, entries stamped `now`: (bytes, records per file).
fn build(state: &State, now: i64) -> Result<(Vec<u8>, BTreeMap<String, u64>), std::io::Error> {
    let mut zip = ZipWriter::new(Vec::new(), ZipOptions::default())?;
    let mut files = BTreeMap::new();
    let opts = EntryOptions { compression: Compression::Deflate, mtime: Some(now), large: false };
    for object in ObjectType::ALL {
        let records = rows(state, object);
        if records.is_empty() {
            continue;
        }
        let mut entry = zip.start_entry(&object.file_name(), opts)?;
        let mut csv = CsvWriter::new(&mut entry, &object.header())?;
        for r in &records {
            csv.row(r)?;
        }
        csv.finish()?;
        entry.finish()?;
        files.insert(object.file_name(), records.len() as u64);
    }
    Ok((zip.finish()?, files))
}

/// Write `bytes` to `out` whole or not at all ([`PartialFile`]: a temporary name beside it,
/// synced, renamed).
pub(crate) fn write_whole(out: &Path, bytes: &[u8]) -> Result<(), GovernanceError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GovernanceError::Io { path, source }
    };
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = out.parent().unwrap_or(Path::new(""));
    let mut f = PartialFile::create(dir, &name).map_err(io(out))?;
    f.write_all(bytes).map_err(io(f.tmp_path()))?;
    f.finish().map(|_| ()).map_err(io(out))
}

impl Tx {
    /// Set the least time between backups, in hours (administrators only).
    pub fn set_backup_interval(
        &mut self,
        actor: &Account,
        hours: u32,
    ) -> Result<BackupState, GovernanceError> {
        self.act(actor, "backup.interval", None, json!({"hours": hours}), |tx| {
            tx.admin(actor)?;
            let was = tx.state.backup.min_interval_hours;
            tx.state.backup.min_interval_hours = hours;
            tx.touch();
            Ok((tx.state.backup.clone(), json!({"previousHours": was})))
        })
    }

    /// Write a backup of the whole governance state to `out` (a new file; administrators only,
    /// at least the configured interval after the last backup).
    pub fn create_backup(
        &mut self,
        actor: &Account,
        out: &Path,
    ) -> Result<BackupReport, GovernanceError> {
        let params = json!({"file": out.display().to_string()});
        self.act(actor, "backup.create", None, params, |tx| {
            tx.admin(actor)?;
            let hours = tx.state.backup.min_interval_hours;
            if let Some(last) = tx.state.backup.history.last()
                && let Some(at) = time::parse_iso8601(&last.time)
            {
                let next = at.saturating_add(i64::from(hours) * 3600);
                if tx.now() < next {
                    return Err(tx.refuse(
                        Rule::BackupInterval,
                        format!(
                            "the last backup was made at {}; backups are at least {hours} hours apart, so the next may be made at {} (ediscovery backup interval changes the interval)",
                            last.time,
                            time::iso_utc(next).unwrap_or_default()
                        ),
                    ));
                }
            }
            if out.exists() {
                return Err(GovernanceError::Invalid(format!(
                    "{} exists: a backup is written to a new file",
                    out.display()
                )));
            }
            let (bytes, files) = build(&tx.state, tx.now()).map_err(|source| GovernanceError::Io {
                path: out.to_path_buf(),
                source,
            })?;
            write_whole(out, &bytes)?;
            let record = BackupRecord {
                backup_id: new_id(tx, "backup", &out.display().to_string()),
                actor: actor.clone(),
                time: time::iso_utc(tx.now()).unwrap_or_default(),
                file: out.display().to_string(),
                sha256: Sha256::of(&bytes).to_hex(),
                records: files.values().sum(),
            };
            tx.state.backup.history.push(record.clone());
            tx.touch();
            let outcome = json!({
                "backupId": record.backup_id, "sha256": record.sha256, "files": files,
                "records": record.records,
            });
            Ok((BackupReport { backup: record, files, warning: SENSITIVE }, outcome))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_state_backs_up_to_a_zip_without_files() {
        let (bytes, files) = build(&State::default(), 0).unwrap();
        assert!(files.is_empty());
        let zip = crate::format::zip::ZipIn::new(std::io::Cursor::new(bytes)).unwrap();
        assert!(zip.names().is_empty());
    }
}
