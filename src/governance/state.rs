//! Governance state on disk and the transaction that changes it.
//!
//! ```text
//! DIR/governance/state.json   the organisation, every matter (holds, saved queries, exports),
//!                             and where the audit log stands: replaced whole by rename, the
//!                             commit point of every governance action
//! DIR/governance/audit.jsonl  the audit log: append-only JSON Lines, hash-chained
//! DIR/governance/LOCK         held (exclusively) by the one transaction at a time
//! DIR/governance/RESTORE.LOCK held by the one restore at a time (see `restore.rs`)
//! ```
//!
//! **Commit protocol.** A transaction takes the lock, reads the state, and checks the log against
//! it; actions change the state in memory and add audit lines; the commit writes the new state
//! (its `log` naming the byte length and entry count the log had before, and carrying the new
//! lines themselves) to `state.json.tmp`, syncs it, renames it over `state.json` (the commit
//! point), syncs the folder, then appends the lines to the log and syncs it. A crash before the
//! rename leaves the old state and the old log: the action did not happen and is not logged. A
//! crash after it leaves a log that is missing some or all of the new lines, or ends in a torn
//! one: the next transaction finds the log's bytes past the recorded length to be a prefix of the
//! lines the state carries and appends the rest. Anything else past that length (a line the
//! state does not carry, a log shorter than the recorded length) is not a crash's doing and stops
//! every transaction: [`GovernanceError::AuditOutOfStep`]. So an action is in effect exactly when
//! its audit entry is, or will be written by the next transaction, and a torn last line is
//! either completed from the committed state or refused, never dropped.
//!
//! Actions refused by a rule change nothing but are logged all the same, through the same commit.

use super::audit::{self, Entry};
use super::matter::{Matter, MatterFile, MatterId};
use super::org::Org;
use super::{GovernanceError, Rule};
use crate::digest::Sha256;
use crate::model::Account;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The state format this version writes.
const FORMAT: u32 = 1;

/// Where the audit log stands, as of the last commit.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct LogHead {
    /// Entries in the log before `pending`.
    pub entries: u64,
    /// Bytes of the log before `pending`.
    pub bytes: u64,
    /// The lines the last commit added (without their newlines), until the next commit: what a
    /// crash may have left unwritten.
    pub pending: Vec<String>,
    /// SHA-256 of the log's last line after `pending` (zero for an empty log).
    pub head: Sha256,
}

impl LogHead {
    /// The log's entry count once `pending` is written.
    pub fn total_entries(&self) -> u64 {
        self.entries + self.pending.len() as u64
    }

    fn pending_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.pending {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        out
    }
}

/// Everything the governance layer keeps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct State {
    pub format: u32,
    /// The organisation, once imported.
    #[serde(default)]
    pub org: Option<Org>,
    /// Every matter, by id (deleted ones too: Vault's undelete brings them back).
    #[serde(default)]
    pub matters: BTreeMap<MatterId, MatterFile>,
    /// Retention rules, in the order they were added.
    #[serde(default)]
    pub retention: Vec<super::retention::RetentionRule>,
    /// Items their users deleted, by id, until a purge removes them.
    #[serde(default)]
    pub deletions: BTreeMap<crate::model::DocId, super::retention::Deletion>,
    /// Backups made of this state, and the minimum interval between them.
    #[serde(default)]
    pub backup: super::backup::BackupState,
    /// Organisation-wide exports started (the 30-day rule counts them).
    #[serde(default)]
    pub org_exports: Vec<super::org_export::OrgExportRecord>,
    /// The audit log as of this state.
    #[serde(default)]
    pub log: LogHead,
}

/// The files of the governance state of one collection.
#[derive(Clone, Debug)]
pub(crate) struct Paths {
    pub dir: PathBuf,
    pub state: PathBuf,
    pub log: PathBuf,
    pub lock: PathBuf,
}

impl Paths {
    pub fn of(collection: &Path) -> Paths {
        let dir = collection.join("governance");
        Paths {
            state: dir.join("state.json"),
            log: dir.join("audit.jsonl"),
            lock: dir.join("LOCK"),
            dir,
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> GovernanceError + '_ {
    move |source| GovernanceError::Io { path: path.to_path_buf(), source }
}

/// Read the state; `None` when there is none yet. A log without a state is refused: the state is
/// the commit point, so a missing one means matters and holds would silently vanish.
pub(crate) fn load(p: &Paths) -> Result<Option<State>, GovernanceError> {
    let bytes = match fs::read(&p.state) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let log_len = fs::metadata(&p.log).map(|m| m.len()).unwrap_or(0);
            if log_len > 0 {
                return Err(GovernanceError::Corrupt {
                    path: p.state.clone(),
                    reason: format!(
                        "missing, but the audit log holds {log_len} bytes: the state was removed"
                    ),
                });
            }
            return Ok(None);
        }
        Err(e) => return Err(io_at(&p.state)(e)),
    };
    crate::check_json_depth(&bytes, crate::Limits::default().json_depth)
        .map_err(|e| GovernanceError::Corrupt { path: p.state.clone(), reason: e.to_string() })?;
    let s: State = serde_json::from_slice(&bytes)
        .map_err(|e| GovernanceError::Corrupt { path: p.state.clone(), reason: e.to_string() })?;
    if s.format != FORMAT {
        return Err(GovernanceError::Corrupt {
            path: p.state.clone(),
            reason: format!("state format {} (this version reads {FORMAT})", s.format),
        });
    }
    Ok(Some(s))
}

/// Write `s` as the new state: temporary file, sync, rename, sync the folder.
fn save(p: &Paths, s: &State) -> Result<(), GovernanceError> {
    let tmp = p.dir.join("state.json.tmp");
    let mut bytes = serde_json::to_vec_pretty(s)
        .map_err(|e| GovernanceError::Corrupt { path: p.state.clone(), reason: e.to_string() })?;
    bytes.push(b'\n');
    let mut f = File::create(&tmp).map_err(io_at(&tmp))?;
    f.write_all(&bytes).map_err(io_at(&tmp))?;
    f.sync_all().map_err(io_at(&tmp))?;
    drop(f);
    fs::rename(&tmp, &p.state).map_err(io_at(&p.state))?;
    sync_dir(&p.dir)
}

fn sync_dir(dir: &Path) -> Result<(), GovernanceError> {
    // Makes a rename durable on Linux; a no-op elsewhere is acceptable.
    match File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(e) => Err(io_at(dir)(e)),
    }
}

/// Bring the log in step with the state's [`LogHead`]: complete the lines a crash left unwritten,
/// refuse anything a crash cannot explain.
fn recover_log(p: &Paths, head: &LogHead) -> Result<(), GovernanceError> {
    let len = match fs::metadata(&p.log) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(io_at(&p.log)(e)),
    };
    let want = head.pending_bytes();
    let out_of_step = |offset: u64, reason: String| GovernanceError::AuditOutOfStep {
        path: p.log.clone(),
        offset,
        reason,
    };
    if len < head.bytes {
        return Err(out_of_step(
            len,
            format!(
                "the log is {len} bytes, but {} bytes ({} entries) were committed before the last commit: entries were removed",
                head.bytes, head.entries
            ),
        ));
    }
    let mut tail = Vec::new();
    if len > head.bytes {
        let mut f = File::open(&p.log).map_err(io_at(&p.log))?;
        f.seek(SeekFrom::Start(head.bytes)).map_err(io_at(&p.log))?;
        // At most the pending lines and one byte more (which is then out of step).
        f.take(want.len() as u64 + 1).read_to_end(&mut tail).map_err(io_at(&p.log))?;
    }
    if tail == want {
        return Ok(());
    }
    if let Some(i) = tail.iter().zip(&want).position(|(a, b)| a != b) {
        return Err(out_of_step(
            head.bytes + i as u64,
            "the last committed entries differ from what the state recorded: the log was edited"
                .to_owned(),
        ));
    }
    if tail.len() > want.len() {
        return Err(out_of_step(
            head.bytes + want.len() as u64,
            "bytes follow the last committed entry that no commit wrote".to_owned(),
        ));
    }
    // A prefix: a crash after the state's rename. Append what is missing.
    let mut f = OpenOptions::new().append(true).create(true).open(&p.log).map_err(io_at(&p.log))?;
    f.write_all(&want[tail.len()..]).map_err(io_at(&p.log))?;
    f.sync_all().map_err(io_at(&p.log))
}

/// A governance transaction: the lock, the state as read, the changes and audit entries made.
/// Obtained through [`super::Governance::run`], which commits it whatever the action returned
/// (a refusal is logged too).
pub struct Tx {
    paths: Paths,
    _lock: File,
    pub(crate) state: State,
    /// Log position after the state's pending lines.
    base_entries: u64,
    base_bytes: u64,
    head: Sha256,
    lines: Vec<String>,
    dirty: bool,
    now: i64,
}

impl Tx {
    /// Lock, read and recover. `now` stamps every entry of this transaction.
    pub(crate) fn begin(collection: &Path, now: i64) -> Result<Tx, GovernanceError> {
        if !collection.join("MANIFEST.json").is_file() {
            return Err(GovernanceError::NotACollection(collection.to_path_buf()));
        }
        let paths = Paths::of(collection);
        fs::create_dir_all(&paths.dir).map_err(io_at(&paths.dir))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&paths.lock)
            .map_err(io_at(&paths.lock))?;
        lock.lock().map_err(io_at(&paths.lock))?;
        let state = load(&paths)?.unwrap_or(State { format: FORMAT, ..State::default() });
        recover_log(&paths, &state.log)?;
        let base_bytes = state.log.bytes + state.log.pending_bytes().len() as u64;
        Ok(Tx {
            base_entries: state.log.total_entries(),
            base_bytes,
            head: state.log.head,
            paths,
            _lock: lock,
            state,
            lines: Vec::new(),
            dirty: false,
            now,
        })
    }

    /// The time this transaction stamps, UTC seconds.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The organisation, if imported.
    pub fn org(&self) -> Option<&Org> {
        self.state.org.as_ref()
    }

    /// Every matter, deleted ones included, whoever may see them (for the layer's own checks).
    pub(crate) fn matters(&self) -> impl Iterator<Item = &MatterFile> + '_ {
        self.state.matters.values()
    }

    /// Mark the state changed (it is written at commit).
    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }

    /// The audit log's head after this transaction's entries so far: the seed of new ids.
    pub(crate) fn head(&self) -> Sha256 {
        self.head
    }

    /// Entries in the log after this transaction's entries so far.
    pub(crate) fn entries(&self) -> u64 {
        self.base_entries + self.lines.len() as u64
    }

    /// Add an audit entry (written at commit).
    pub(crate) fn log(
        &mut self,
        actor: &Account,
        action: &str,
        matter: Option<&MatterId>,
        parameters: Value,
        outcome: Value,
    ) -> Result<(), GovernanceError> {
        let entry = Entry {
            seq: self.entries(),
            time: crate::model::time::iso_utc(self.now).unwrap_or_default(),
            actor: actor.to_string(),
            action: action.to_owned(),
            matter: matter.map(ToString::to_string),
            parameters,
            outcome,
            prev: self.head,
        };
        let line = audit::line(&entry).map_err(|e| GovernanceError::Corrupt {
            path: self.paths.log.clone(),
            reason: format!("entry {}: {e}", entry.seq),
        })?;
        self.head = Sha256::of(line.as_bytes());
        self.lines.push(line);
        Ok(())
    }

    /// A matter by id, whoever asks (checks are the caller's).
    pub(crate) fn matter_file(&self, id: &MatterId) -> Result<&MatterFile, GovernanceError> {
        self.state
            .matters
            .get(id)
            .ok_or_else(|| GovernanceError::NotFound { what: "matter", id: id.to_string() })
    }

    /// A matter by id, to change (the caller marks the state changed).
    pub(crate) fn matter_file_mut(
        &mut self,
        id: &MatterId,
    ) -> Result<&mut MatterFile, GovernanceError> {
        self.state
            .matters
            .get_mut(id)
            .ok_or_else(|| GovernanceError::NotFound { what: "matter", id: id.to_string() })
    }

    /// Add a matter.
    pub(crate) fn insert_matter(&mut self, m: Matter) {
        self.state.matters.insert(m.matter_id.clone(), MatterFile::new(m));
        self.dirty = true;
    }

    /// Write the state and the new audit lines, as the module documentation describes. Nothing
    /// is written when nothing changed and nothing was logged.
    pub(crate) fn commit(mut self) -> Result<(), GovernanceError> {
        self.checkpoint()
    }

    /// Commit what this transaction changed and logged so far, and go on holding the lock: an
    /// action whose intent must be on record before it acts (a purge) commits it here first.
    pub(crate) fn checkpoint(&mut self) -> Result<(), GovernanceError> {
        if self.lines.is_empty() && !self.dirty {
            return Ok(());
        }
        let lines = std::mem::take(&mut self.lines);
        self.state.log = LogHead {
            entries: self.base_entries,
            bytes: self.base_bytes,
            pending: lines,
            head: self.head,
        };
        save(&self.paths, &self.state)?;
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.paths.log)
            .map_err(io_at(&self.paths.log))?;
        let data = self.state.log.pending_bytes();
        f.write_all(&data).map_err(io_at(&self.paths.log))?;
        f.sync_all().map_err(io_at(&self.paths.log))?;
        self.base_entries = self.state.log.total_entries();
        self.base_bytes += data.len() as u64;
        self.dirty = false;
        Ok(())
    }

    /// A refusal by `rule`, as an error.
    pub(crate) fn refuse(&self, rule: Rule, reason: impl Into<String>) -> GovernanceError {
        GovernanceError::Refused { rule, reason: reason.into() }
    }
}
