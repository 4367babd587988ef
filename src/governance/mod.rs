//! The governance half of Vault: the organisation and who administers it, matters with owners
//! and collaborators, holds, saved queries, exports recorded in their matter, and a
//! tamper-evident audit log of every action (refusals included).
//!
//! It sits beside the store: state lives in the collection folder (`DIR/governance/`, see
//! [`state`](self) for the files and the commit protocol), and what holds keep is found through
//! the collection's own search ([`held`](self)), never through index internals.
//!
//! Every action runs in a transaction ([`Governance::run`]) that holds the governance lock,
//! names an actor, and is logged whatever it returns: refused actions as refusals naming their
//! [`Rule`], failures with their error. Reads (list, show) are logged only when refused.
//!
//! Retention rules and the purge that applies them are in [`retention`]: rules are state beside
//! the matters, a purge never touches what a hold of an open matter keeps, removes the rest
//! through `CollectionWriter::remove`, and logs its plan before and its `RemoveReport` after.
//! User deletions ([`Tx::delete_items`]) are recorded in the state and honoured by the next
//! apply: a deleted item nothing keeps is purged. Not here yet: leaving deleted-but-kept items
//! out of ordinary searches and exports.
//!
//! The whole state can be saved as a zip of one CSV per object type ([`backup`], the object
//! types in `objects.rs`) and chosen properties of one object type restored from it after a
//! review ([`restore`]: a plan with a digest, applied exactly, one restore at a time, logged as
//! `"Data Restore - <Object>"`). [`org_export`] is the governance side of the organisation-wide
//! export (`export::org`): who may start one, the 30-day rule, what user-deleted data it leaves
//! out.
//!
//! ```
//! use ediscovery::governance::{Governance, NewHold};
//! use ediscovery::model::{Account, Corpus};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let dir = tmp.path().join("coll");
//! ediscovery::CollectionWriter::open(&dir, 1)?.finish()?;
//! let org = "Account,OrgUnit,Type,Created,Admin\n\
//!            admin@x.org,/,USER,2020-01-01,true\nann@x.org,/Legal,USER,2021-01-01,false\n";
//! let gov = Governance::open(&dir)?;
//! let admin = Account::new("admin@x.org")?;
//! gov.run(|tx| tx.import_org(&admin, "org.csv".as_ref(), org.as_bytes()))?;
//! let m = gov.run(|tx| tx.create_matter(&admin, "Falcon", "acquisition"))?;
//! let hold = NewHold::accounts("ann", Corpus::Mail, vec![Account::new("ann@x.org")?]);
//! gov.run(|tx| tx.create_hold(&admin, &m.matter_id, &hold))?;
//! // A non-member is refused, and the refusal is in the log.
//! let ann = Account::new("ann@x.org")?;
//! assert!(gov.run(|tx| tx.show_matter(&ann, &m.matter_id)).is_err());
//! let report = ediscovery::governance::audit::verify(&dir)?;
//! assert!(report.ok());
//! assert_eq!(report.entries, 4);
//! # Ok(()) }
//! ```

mod access;
pub mod audit;
pub mod backup;
mod held;
mod hold;
mod matter;
mod objects;
mod org;
pub mod org_export;
pub mod restore;
pub mod retention;
mod state;

pub use backup::{BackupRecord, BackupReport, BackupState};
pub use held::{HoldCoverage, hold_search};
pub use hold::{
    AccountStatus, CorpusQuery, CoveredData, HeldAccount, HeldOrgUnit, HeldStatus, Hold, NewHold,
    TermsQuery,
};
pub use matter::{
    ExportFile, ExportRecord, ExportStats, ExportStatus, Matter, MatterAction, MatterFile,
    MatterId, MatterState, Permission, Requester, Role, SavedQuery,
};
pub use objects::ObjectType;
pub use org::{AccountType, ORG_HEADER, Org, OrgAccount, OrgImport};
pub use org_export::{OrgExportFinish, OrgExportRecord, OrgExportRules, OrgExportStart};
pub use restore::{RestoreChange, RestorePlan, RestoreReport, RestoreRequest, RestoreStep};
pub use retention::{
    ApplyReport, DeleteReport, Deletion, NewRule, PurgeItem, RetentionPlan, RetentionRule,
};
pub use state::Tx;

use crate::digest::Sha256;
use crate::model::Account;
use serde_json::json;
use std::path::{Path, PathBuf};

/// A rule an action can be refused by. Its [`code`](Rule::code) is what refusals and the audit
/// log name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Nothing can be done before an organisation is imported.
    OrgImportedFirst,
    /// The actor must be a user or service account of the organisation.
    ActorInOrg,
    /// Only an administrator may import the organisation, create a matter, read the whole log.
    AdminOnly,
    /// An import must leave its importer an administrator.
    ImporterStaysAdmin,
    /// Only a matter's owner and collaborators see it or act in it.
    MatterMembersOnly,
    /// Permissions, deletion and undeletion are the owner's.
    OwnerOnly,
    /// The matter's state does not allow the action (the table in [`MatterState::after`]).
    MatterState,
    /// A matter with holds cannot be closed.
    HoldsBlockClose,
    /// A matter keeps at least one owner.
    MatterKeepsAnOwner,
    /// Permissions go to users of the organisation.
    PermissionsForUsers,
    /// A hold names accounts of the organisation of the kind its corpus holds, or an org unit
    /// (not for groups), exactly one of the two.
    HoldAccountsFitCorpus,
    /// A hold's options are those of its corpus.
    HoldOptionsFitCorpus,
    /// A retention rule covers accounts of the organisation or an org unit (not both), and has
    /// terms only for mail and only as a custom rule.
    RetentionRuleFits,
    /// A corpus has at most one default retention rule.
    OneDefaultPerCorpus,
    /// A user deletes only their own items (administrators any).
    OwnItemsOnly,
    /// Backups are at least the configured interval apart.
    BackupInterval,
    /// Only one restore runs at a time.
    OneRestoreAtATime,
    /// A restore must be acknowledged as irreversible.
    RestoreAcknowledged,
    /// A restore applies exactly the plan that was reviewed (same digest).
    RestorePlanUnchanged,
    /// What a restore may write: restorable properties of one object type, values the object
    /// accepts, state changes Vault's transition table allows.
    RestorableProperties,
    /// One full organisation export per interval (30 days) unless forced.
    OrgExportInterval,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 21] = [
        Rule::OrgImportedFirst,
        Rule::ActorInOrg,
        Rule::AdminOnly,
        Rule::ImporterStaysAdmin,
        Rule::MatterMembersOnly,
        Rule::OwnerOnly,
        Rule::MatterState,
        Rule::HoldsBlockClose,
        Rule::MatterKeepsAnOwner,
        Rule::PermissionsForUsers,
        Rule::HoldAccountsFitCorpus,
        Rule::HoldOptionsFitCorpus,
        Rule::RetentionRuleFits,
        Rule::OneDefaultPerCorpus,
        Rule::OwnItemsOnly,
        Rule::BackupInterval,
        Rule::OneRestoreAtATime,
        Rule::RestoreAcknowledged,
        Rule::RestorePlanUnchanged,
        Rule::RestorableProperties,
        Rule::OrgExportInterval,
    ];

    /// Its name.
    pub fn code(self) -> &'static str {
        match self {
            Rule::OrgImportedFirst => "org-imported-first",
            Rule::ActorInOrg => "actor-in-org",
            Rule::AdminOnly => "admin-only",
            Rule::ImporterStaysAdmin => "importer-stays-admin",
            Rule::MatterMembersOnly => "matter-members-only",
            Rule::OwnerOnly => "owner-only",
            Rule::MatterState => "matter-state",
            Rule::HoldsBlockClose => "holds-block-close",
            Rule::MatterKeepsAnOwner => "matter-keeps-an-owner",
            Rule::PermissionsForUsers => "permissions-for-users",
            Rule::HoldAccountsFitCorpus => "hold-accounts-fit-corpus",
            Rule::HoldOptionsFitCorpus => "hold-options-fit-corpus",
            Rule::RetentionRuleFits => "retention-rule-fits",
            Rule::OneDefaultPerCorpus => "one-default-per-corpus",
            Rule::OwnItemsOnly => "own-items-only",
            Rule::BackupInterval => "backup-interval",
            Rule::OneRestoreAtATime => "one-restore-at-a-time",
            Rule::RestoreAcknowledged => "restore-acknowledged",
            Rule::RestorePlanUnchanged => "restore-plan-unchanged",
            Rule::RestorableProperties => "restorable-properties",
            Rule::OrgExportInterval => "org-export-interval",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What can go wrong in the governance layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GovernanceError {
    /// An action a rule does not allow (logged).
    #[error("refused (rule {rule}): {reason}")]
    Refused {
        /// The rule.
        rule: Rule,
        /// Why, with the actor and the matter.
        reason: String,
    },
    /// A line of an organisation file.
    #[error("{path}:{line}: {reason}")]
    Org {
        /// The file.
        path: PathBuf,
        /// The line, from 1 (the header); 0 when the file could not be read at all.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// No such matter, hold, permission or export.
    #[error("no {what} {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A value an action cannot take (an empty name, a query that does not parse).
    #[error("{0}")]
    Invalid(String),
    /// Not a collection folder.
    #[error("{0} is not a collection (no MANIFEST.json)")]
    NotACollection(PathBuf),
    /// No governance state in the collection yet.
    #[error("{0}: no governance state (import an organisation first: ediscovery org import)")]
    NoGovernance(PathBuf),
    /// A governance file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A governance file's content is not what this version wrote.
    #[error("{path}: corrupt governance file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The audit log's end is not where the last commit left it, in a way no crash explains
    /// (entries removed or edited, bytes appended outside a commit). Every action stops until
    /// someone looks: `ediscovery audit verify` says more.
    #[error(
        "{path} (byte {offset}): refused (rule audit-append-only): {reason}; run `ediscovery audit verify`"
    )]
    AuditOutOfStep {
        /// The log.
        path: PathBuf,
        /// Where it departs from the state's record.
        offset: u64,
        /// How.
        reason: String,
    },
    /// A line of the audit log that is not an entry.
    #[error("{path}:{line}: not an audit entry: {reason}")]
    AuditLine {
        /// The log.
        path: PathBuf,
        /// The line, from 1.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A backup file that is not one this version wrote (not a zip, a CSV with another header,
    /// a row whose cell count is off).
    #[error("{path}: not a readable backup: {reason}")]
    BadBackup {
        /// The backup file (or `file.zip!entry.csv`).
        path: PathBuf,
        /// What is wrong, with the row or record id.
        reason: String,
    },
    /// Searching the collection (for a hold or in a matter).
    #[error("search: {0}")]
    Search(Box<crate::Error>),
    /// Opening or changing the collection (a purge).
    #[error("collection {path}: {source}")]
    Collection {
        /// The collection folder.
        path: PathBuf,
        /// The cause.
        source: Box<crate::Error>,
    },
}

impl GovernanceError {
    /// The rule, when this is a refusal.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            GovernanceError::Refused { rule, .. } => Some(*rule),
            _ => None,
        }
    }
}

/// An id for a new object: 32 hex digits of SHA-256(kind, name, the log's head and length) in
/// UUID groups. The head changes with every entry, so ids never repeat; no random source or
/// clock is needed, and tests see the same ids every run.
pub(crate) fn new_id(tx: &Tx, kind: &str, name: &str) -> String {
    let seed = format!("{kind}\0{name}\0{}\0{}", tx.head(), tx.entries());
    let h = Sha256::of(seed.as_bytes()).to_hex();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The governance state of one collection.
#[derive(Clone, Debug)]
pub struct Governance {
    collection: PathBuf,
    clock: fn() -> i64,
}

impl Governance {
    /// The governance of the collection in `collection` (nothing is read or locked until an
    /// action runs).
    pub fn open(collection: &Path) -> Result<Governance, GovernanceError> {
        if !collection.join("MANIFEST.json").is_file() {
            return Err(GovernanceError::NotACollection(collection.to_path_buf()));
        }
        Ok(Governance { collection: collection.to_path_buf(), clock: crate::model::time::now })
    }

    /// Use another clock for the times entries are stamped with (tests, replays).
    pub fn with_clock(mut self, clock: fn() -> i64) -> Governance {
        self.clock = clock;
        self
    }

    /// The collection folder.
    pub fn collection(&self) -> &Path {
        &self.collection
    }

    /// Run actions in one transaction: take the lock, bring the log in step with the state,
    /// run `f`, then commit what it changed and logged — also when it returns an error, so a
    /// refusal is on record. The lock is held until the commit: keep `f` short (an export runs
    /// between [`Tx::start_export`] and [`Tx::finish_export`], outside any transaction).
    pub fn run<T>(
        &self,
        f: impl FnOnce(&mut Tx) -> Result<T, GovernanceError>,
    ) -> Result<T, GovernanceError> {
        let mut tx = Tx::begin(&self.collection, (self.clock)())?;
        let result = f(&mut tx);
        tx.commit()?;
        result
    }
}

impl Tx {
    /// The audit log's entries, for an administrator (all, or one matter's) or for a member of
    /// the matter asked for (that matter's).
    pub fn audit_entries(
        &mut self,
        actor: &Account,
        matter: Option<&MatterId>,
        collection: &Path,
    ) -> Result<Vec<audit::Entry>, GovernanceError> {
        self.read(actor, "audit.list", matter, json!({}), |tx| {
            let admin = tx.actor(actor)?.admin;
            if let Some(id) = matter {
                if !admin {
                    tx.allowed(actor, id, MatterAction::View)?;
                }
            } else if !admin {
                return Err(tx.refuse(
                    Rule::AdminOnly,
                    format!(
                        "{actor} is not an administrator: list one matter's entries (--matter)"
                    ),
                ));
            }
            let all = audit::read(collection)?;
            Ok(match matter {
                Some(id) => {
                    all.into_iter().filter(|e| e.matter.as_deref() == Some(id.0.as_str())).collect()
                }
                None => all,
            })
        })
    }
}

#[cfg(test)]
mod tests;
