//! The audit log: one JSON object per line, each naming the SHA-256 of the line before it.
//!
//! ```text
//! {"seq":0,"time":"…Z","actor":"…","action":"matter.create","matter":"…","parameters":{…},
//!  "outcome":{"status":"ok",…},"prev":"000…000"}
//! ```
//!
//! `prev` is the lowercase hex SHA-256 of the previous line's bytes (without its newline); the
//! first entry's is 64 zeros. The head is the SHA-256 of the last line. Editing any entry changes
//! its hash, so the next entry's `prev` no longer matches; removing or reordering entries breaks
//! the chain the same way (and `seq`, which counts from 0); a last line without its newline is a
//! torn write. What the chain alone cannot see — the last entries cut off, or the last entry
//! edited — the state sees: it records the log's length and entries as of its commit and the
//! lines of that commit, so [`verify`] checks the log's end against it. Beyond that, keep the
//! head [`verify`] prints somewhere else: a log that still has it on an entry was not rewritten
//! before it.
//!
//! Anyone can recompute the chain with no code of ours: `hashlib.sha256(line).hexdigest()` over
//! each line's bytes.

use super::GovernanceError;
use super::state::{self, Paths};
use crate::digest::Sha256;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// One audit entry, in the order its fields are written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its position in the log, from 0.
    pub seq: u64,
    /// When, ISO-8601 UTC.
    pub time: String,
    /// Who (the account named with `--as`).
    pub actor: String,
    /// What, e.g. `matter.create`, `hold.add-accounts`, `search`, `export.finish`.
    pub action: String,
    /// In which matter, if any.
    pub matter: Option<String>,
    /// The action's parameters.
    pub parameters: Value,
    /// `{"status": "ok", …counts and ids}`, `{"status": "refused", "rule", "reason"}` or
    /// `{"status": "failed", "error"}`.
    pub outcome: Value,
    /// SHA-256 of the previous line.
    pub prev: Sha256,
}

/// The line of an entry (no newline: JSON escapes any in strings).
pub(crate) fn line(e: &Entry) -> Result<String, serde_json::Error> {
    serde_json::to_string(e)
}

/// A problem `verify` found, with the line (from 1) it is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// The line of the log (from 1); 0 for the log as a whole.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.reason)
        } else {
            write!(f, "line {}: {}", self.line, self.reason)
        }
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// The log file.
    pub path: PathBuf,
    /// Complete entries read.
    pub entries: u64,
    /// SHA-256 of the last complete line (64 zeros for an empty log): keep it elsewhere.
    pub head: Sha256,
    /// Every problem; none means the chain is sound and agrees with the state.
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    /// True when the log is sound.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check the audit log of the collection in `collection`: every line a complete JSON entry whose
/// `seq` is its position and whose `prev` is the SHA-256 of the line before, and the log's end
/// where the state's last commit put it. Reads under a shared lock, so no transaction is half
/// written meanwhile; writes nothing. Problems are listed, not errors: only a state or log that
/// cannot be read at all is an error.
pub fn verify(collection: &Path) -> Result<AuditReport, GovernanceError> {
    let p = Paths::of(collection);
    if !p.dir.is_dir() {
        return Err(GovernanceError::NoGovernance(collection.to_path_buf()));
    }
    // No lock file: no transaction ever ran here (a copied folder), so none can be running.
    let lock = match File::open(&p.lock) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(GovernanceError::Io { path: p.lock.clone(), source }),
    };
    if let Some(l) = &lock {
        l.lock_shared().map_err(|source| GovernanceError::Io { path: p.lock.clone(), source })?;
    }
    let bytes = match fs::read(&p.log) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(GovernanceError::Io { path: p.log.clone(), source }),
    };
    let state = state::load(&p)?;
    let mut report = chain(&p.log, &bytes);
    if let Some(s) = state {
        let head = &s.log;
        let mut want = Vec::new();
        for l in &head.pending {
            want.extend_from_slice(l.as_bytes());
            want.push(b'\n');
        }
        let start = usize::try_from(head.bytes).unwrap_or(usize::MAX);
        let tail = bytes.get(start..);
        if tail != Some(&want[..]) {
            let reason = match tail {
                None => format!(
                    "the state records {} bytes ({} entries) before its last commit, but the log has only {}: entries were removed",
                    head.bytes, head.entries, bytes.len()
                ),
                Some(t) if want.starts_with(t) => format!(
                    "the log lacks {} of the last commit's entries (the state holds them: the next governance action writes them, unless the log was cut)",
                    head.pending.len() - t.iter().filter(|&&b| b == b'\n').count()
                ),
                Some(_) => "the log's last committed entries differ from those the state recorded: the log was edited or extended outside a commit".to_owned(),
            };
            report.problems.push(AuditProblem { line: 0, reason });
        }
        if report.problems.is_empty() && report.entries != head.total_entries() {
            report.problems.push(AuditProblem {
                line: 0,
                reason: format!(
                    "the log has {} entries, the state records {}",
                    report.entries,
                    head.total_entries()
                ),
            });
        }
    } else if !bytes.is_empty() {
        report.problems.push(AuditProblem {
            line: 0,
            reason: "no governance state beside a non-empty log: the state was removed".to_owned(),
        });
    }
    Ok(report)
}

/// Check the chain of `bytes` (the log at `path`).
fn chain(path: &Path, bytes: &[u8]) -> AuditReport {
    let mut report = AuditReport {
        path: path.to_path_buf(),
        entries: 0,
        head: Sha256::ZERO,
        problems: Vec::new(),
    };
    let mut prev = Sha256::ZERO;
    let mut rest = bytes;
    let mut n = 0u64;
    while !rest.is_empty() {
        n += 1;
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            report.problems.push(AuditProblem {
                line: n,
                reason: format!(
                    "torn last line: {} bytes without a newline (a write that did not finish, or a cut log)",
                    rest.len()
                ),
            });
            break;
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        match serde_json::from_slice::<Entry>(line) {
            Ok(e) => {
                if e.seq != n - 1 {
                    report.problems.push(AuditProblem {
                        line: n,
                        reason: format!(
                            "seq {} where {} belongs: entries removed or reordered",
                            e.seq,
                            n - 1
                        ),
                    });
                }
                if e.prev != prev {
                    report.problems.push(AuditProblem {
                        line: n,
                        reason: format!(
                            "prev {} is not the SHA-256 of the line before ({prev}): an entry before it was edited, removed or moved",
                            e.prev
                        ),
                    });
                }
            }
            Err(err) => report
                .problems
                .push(AuditProblem { line: n, reason: format!("not an audit entry: {err}") }),
        }
        prev = Sha256::of(line);
        report.entries += 1;
    }
    report.head = prev;
    report
}

/// Every entry of the log, in order. A line that is not an entry (or a torn last line) is an
/// error naming it: a listing that skipped it would hide exactly what matters.
pub fn read(collection: &Path) -> Result<Vec<Entry>, GovernanceError> {
    let p = Paths::of(collection);
    let bytes = match fs::read(&p.log) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(GovernanceError::Io { path: p.log.clone(), source }),
    };
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    let mut n = 0u64;
    while !rest.is_empty() {
        n += 1;
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(GovernanceError::AuditLine {
                path: p.log.clone(),
                line: n,
                reason: "torn last line (no newline)".to_owned(),
            });
        };
        let e = serde_json::from_slice::<Entry>(&rest[..end]).map_err(|err| {
            GovernanceError::AuditLine { path: p.log.clone(), line: n, reason: err.to_string() }
        })?;
        out.push(e);
        rest = &rest[end + 1..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, prev: Sha256) -> Entry {
        Entry {
            seq,
            time: "2024-01-01T00:00:00Z".into(),
            actor: "a@x.org".into(),
            action: "test".into(),
            matter: None,
            parameters: serde_json::json!({"i": seq, "text": "line\nbreak"}),
            outcome: serde_json::json!({"status": "ok"}),
            prev,
        }
    }

    fn log(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = Sha256::ZERO;
        for i in 0..n {
            let l = line(&entry(i, prev)).unwrap();
            assert!(!l.contains('\n'));
            prev = Sha256::of(l.as_bytes());
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn a_sound_chain_and_each_kind_of_damage() {
        let good = log(5);
        let r = chain(Path::new("log"), &good);
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.entries, 5);
        let last = good[..good.len() - 1].rsplit(|&b| b == b'\n').next().unwrap();
        assert_eq!(r.head, Sha256::of(last));
        assert_eq!(chain(Path::new("log"), b"").head, Sha256::ZERO);

        let lines: Vec<&[u8]> = good.split_inclusive(|&b| b == b'\n').collect();
        let join = |ls: &[&[u8]]| ls.concat();
        // An edit inside an entry (same length: no help from sizes).
        let mut edited = good.clone();
        let at = lines[0].len() + lines[1].len() + 20;
        edited[at] ^= 1;
        let r = chain(Path::new("log"), &edited);
        assert!(!r.ok());
        // Line 3 was edited: line 4's `prev` no longer names it.
        assert!(r.problems.iter().any(|p| p.line == 4 && p.reason.contains("prev")), "{r:?}");
        // Removed, swapped, torn.
        let removed = join(&[lines[0], lines[1], lines[3], lines[4]]);
        assert!(!chain(Path::new("log"), &removed).ok());
        let swapped = join(&[lines[0], lines[2], lines[1], lines[3], lines[4]]);
        assert!(!chain(Path::new("log"), &swapped).ok());
        let torn = &good[..good.len() - 7];
        let r = chain(Path::new("log"), torn);
        assert_eq!(r.entries, 4);
        assert!(r.problems.iter().any(|p| p.line == 5 && p.reason.contains("torn")), "{r:?}");
        let garbage = [&good[..], b"{not json}\n"].concat();
        assert!(!chain(Path::new("log"), &garbage).ok());
    }
}
