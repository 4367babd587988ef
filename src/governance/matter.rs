//! Matters as Vault has them: id, name, description, state, permissions; what each state allows;
//! the saved queries and exports made in a matter.

use super::access::Need;
use super::hold::Hold;
use super::state::Tx;
use super::{GovernanceError, Rule, new_id};
use crate::export::request::{ExportOptions, Options, VaultQuery};
use crate::model::Account;
use crate::model::time;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;

/// A matter's id (Vault's `matterId`): 32 hex digits in UUID groups, derived from the audit
/// log's head when it was made, so ids are unique without a random source and a replayed log
/// gives the same ones.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MatterId(pub String);

impl fmt::Display for MatterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl MatterId {
    /// An id as typed.
    pub fn new(s: &str) -> MatterId {
        MatterId(s.trim().to_ascii_lowercase())
    }
}

/// A matter's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatterState {
    /// Work goes on: holds, searches, exports.
    Open,
    /// Read-only; may be reopened or deleted. Holds must be removed first.
    Closed,
    /// Gone from use; may be undeleted (to closed).
    Deleted,
}

impl MatterState {
    /// Every state.
    pub const ALL: [MatterState; 3] =
        [MatterState::Open, MatterState::Closed, MatterState::Deleted];

    /// Vault's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MatterState::Open => "OPEN",
            MatterState::Closed => "CLOSED",
            MatterState::Deleted => "DELETED",
        }
    }

    /// The state after `action`, or `None` when this state does not allow it. Vault's table
    /// (the API's `close`, `reopen`, `delete`, `undelete`; GAM's "OPEN→update/close,
    /// CLOSED→reopen/delete, DELETED→undelete (lands CLOSED)"), plus the work done inside:
    ///
    /// | action | OPEN | CLOSED | DELETED |
    /// |---|---|---|---|
    /// | view | OPEN | CLOSED | DELETED |
    /// | update | OPEN | — | — |
    /// | close | CLOSED | — | — |
    /// | reopen | — | OPEN | — |
    /// | delete | — | DELETED | — |
    /// | undelete | — | — | CLOSED |
    /// | add/remove permission | OPEN | CLOSED | — |
    /// | holds, saved queries, search, export | OPEN | — | — |
    ///
    /// A closed matter is read-only (reopen it to work in it); a deleted one can only be
    /// undeleted. Closing also needs the matter to have no holds ([`Rule::HoldsBlockClose`]),
    /// which is not a matter of state.
    pub fn after(self, action: MatterAction) -> Option<MatterState> {
        use MatterAction as A;
        use MatterState::{Closed, Deleted, Open};
        match (self, action) {
            (s, A::View) => Some(s),
            (Open, A::Update) => Some(Open),
            (Open, A::Close) => Some(Closed),
            (Closed, A::Reopen) => Some(Open),
            (Closed, A::Delete) => Some(Deleted),
            (Deleted, A::Undelete) => Some(Closed),
            (Open | Closed, A::AddPermission | A::RemovePermission) => Some(self),
            (Open, A::Holds | A::SaveQuery | A::Search | A::Export) => Some(Open),
            _ => None,
        }
    }
}

/// What can be done to or in a matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatterAction {
    /// See it, its holds, saved queries, exports and audit entries.
    View,
    /// Change its name or description.
    Update,
    /// Close it.
    Close,
    /// Reopen a closed matter.
    Reopen,
    /// Delete a closed matter.
    Delete,
    /// Undelete a deleted matter (it lands closed).
    Undelete,
    /// Add an owner or collaborator.
    AddPermission,
    /// Remove one.
    RemovePermission,
    /// Create, change or delete holds.
    Holds,
    /// Save a query.
    SaveQuery,
    /// Search.
    Search,
    /// Export.
    Export,
}

impl MatterAction {
    /// Every action.
    pub const ALL: [MatterAction; 12] = [
        MatterAction::View,
        MatterAction::Update,
        MatterAction::Close,
        MatterAction::Reopen,
        MatterAction::Delete,
        MatterAction::Undelete,
        MatterAction::AddPermission,
        MatterAction::RemovePermission,
        MatterAction::Holds,
        MatterAction::SaveQuery,
        MatterAction::Search,
        MatterAction::Export,
    ];

    /// Its name in refusals.
    pub fn name(self) -> &'static str {
        match self {
            MatterAction::View => "view",
            MatterAction::Update => "update",
            MatterAction::Close => "close",
            MatterAction::Reopen => "reopen",
            MatterAction::Delete => "delete",
            MatterAction::Undelete => "undelete",
            MatterAction::AddPermission => "add-permission",
            MatterAction::RemovePermission => "remove-permission",
            MatterAction::Holds => "holds",
            MatterAction::SaveQuery => "save-query",
            MatterAction::Search => "search",
            MatterAction::Export => "export",
        }
    }

    /// Who may take it: permissions, deletion and undeletion are the owner's; the rest any
    /// member's.
    pub(crate) fn needs(self) -> Need {
        match self {
            MatterAction::AddPermission
            | MatterAction::RemovePermission
            | MatterAction::Delete
            | MatterAction::Undelete => Need::Owner,
            _ => Need::Member,
        }
    }
}

/// A role in a matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Owns the matter: everything members do, and permissions, deletion, undeletion.
    Owner,
    /// Works in the matter.
    Collaborator,
}

impl Role {
    /// Parse `owner` / `collaborator` (any case).
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_uppercase().as_str() {
            "OWNER" => Some(Role::Owner),
            "COLLABORATOR" => Some(Role::Collaborator),
            _ => None,
        }
    }
}

/// One permission (Vault's `MatterPermission`; the account id is its address here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// The account.
    pub account_id: Account,
    /// Its role.
    pub role: Role,
}

/// A matter (Vault's `Matter`, FULL view).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matter {
    /// Its id.
    pub matter_id: MatterId,
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Its state.
    pub state: MatterState,
    /// Who works in it.
    pub matter_permissions: Vec<Permission>,
    /// When it was created, ISO-8601 UTC (ours; Vault does not show it).
    pub create_time: String,
}

impl Matter {
    /// The role of `account`, if any.
    pub fn role_of(&self, account: &Account) -> Option<Role> {
        self.matter_permissions.iter().find(|p| &p.account_id == account).map(|p| p.role)
    }
}

/// A saved query (Vault's `SavedQuery`): a query and its scope, to run again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedQuery {
    /// Its id.
    pub saved_query_id: String,
    /// Its name.
    pub display_name: String,
    /// Its matter.
    pub matter_id: MatterId,
    /// When it was saved.
    pub create_time: String,
    /// The query: terms and scope, as an export request has them.
    pub query: VaultQuery,
}

/// Where an export stands (Vault's `Export.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExportStatus {
    /// Started, not finished (or the process died: no finish was recorded).
    InProgress,
    /// Written.
    Completed,
    /// Failed; nothing usable was written.
    Failed,
}

/// An export's numbers (Vault's `ExportStats`, plus failures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportStats {
    /// Records exported.
    pub exported_artifact_count: u64,
    /// Records in scope.
    pub total_artifact_count: u64,
    /// Records that failed (listed in the export's error report).
    pub failed_artifact_count: u64,
    /// Bytes of exported messages.
    pub size_in_bytes: u64,
}

/// One file an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    /// Its name.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// Its MD5.
    pub md5: String,
}

/// Who asked for an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// The account.
    pub email: Account,
}

/// An export made in a matter (Vault's `Export` resource).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRecord {
    /// Its id.
    pub id: String,
    /// Its matter.
    pub matter_id: MatterId,
    /// The export name.
    pub name: String,
    /// Who asked.
    pub requester: Requester,
    /// What was searched.
    pub query: VaultQuery,
    /// Format options.
    pub export_options: ExportOptions,
    /// Our options.
    pub ediscovery: Options,
    /// When it started.
    pub create_time: String,
    /// Where it stands.
    pub status: ExportStatus,
    /// Its numbers, once finished.
    #[serde(default)]
    pub stats: ExportStats,
    /// The files written, once finished.
    #[serde(default)]
    pub files: Vec<ExportFile>,
    /// The export's folder, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A matter with everything made in it: what the state keeps per matter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatterFile {
    /// The matter.
    pub matter: Matter,
    /// Its holds.
    #[serde(default)]
    pub holds: Vec<Hold>,
    /// Its saved queries.
    #[serde(default)]
    pub saved_queries: Vec<SavedQuery>,
    /// Its exports.
    #[serde(default)]
    pub exports: Vec<ExportRecord>,
}

impl MatterFile {
    pub(crate) fn new(matter: Matter) -> MatterFile {
        MatterFile { matter, holds: Vec::new(), saved_queries: Vec::new(), exports: Vec::new() }
    }
}

impl Tx {
    /// Create a matter; the actor, an administrator, becomes its owner. Returns it (OPEN).
    pub fn create_matter(
        &mut self,
        actor: &Account,
        name: &str,
        description: &str,
    ) -> Result<Matter, GovernanceError> {
        let params = json!({"name": name, "description": description});
        self.act(actor, "matter.create", None, params, |tx| {
            tx.admin(actor)?;
            if name.trim().is_empty() {
                return Err(GovernanceError::Invalid("a matter needs a name".to_owned()));
            }
            let id = MatterId(new_id(tx, "matter", name));
            let m = Matter {
                matter_id: id.clone(),
                name: name.to_owned(),
                description: description.to_owned(),
                state: MatterState::Open,
                matter_permissions: vec![Permission {
                    account_id: actor.clone(),
                    role: Role::Owner,
                }],
                create_time: time::iso_utc(tx.now()).unwrap_or_default(),
            };
            tx.insert_matter(m.clone());
            Ok((m, json!({"matterId": id})))
        })
    }

    /// The matters the actor is the owner or a collaborator of, deleted ones included.
    pub fn list_matters(&mut self, actor: &Account) -> Result<Vec<Matter>, GovernanceError> {
        self.read(actor, "matter.list", None, json!({}), |tx| {
            tx.actor(actor)?;
            Ok(tx
                .matters()
                .filter(|m| m.matter.role_of(actor).is_some())
                .map(|m| m.matter.clone())
                .collect())
        })
    }

    /// A matter with its holds, saved queries and exports, for its owner and collaborators.
    pub fn show_matter(
        &mut self,
        actor: &Account,
        id: &MatterId,
    ) -> Result<MatterFile, GovernanceError> {
        self.read(actor, "matter.show", Some(id), json!({}), |tx| {
            Ok(tx.allowed(actor, id, MatterAction::View)?.clone())
        })
    }

    /// Change the name or description of an open matter.
    pub fn update_matter(
        &mut self,
        actor: &Account,
        id: &MatterId,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Matter, GovernanceError> {
        let params = json!({"name": name, "description": description});
        self.act(actor, "matter.update", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::Update)?;
            if name.is_some_and(|n| n.trim().is_empty()) {
                return Err(GovernanceError::Invalid("a matter needs a name".to_owned()));
            }
            let m = tx.matter_file_mut(id)?;
            if let Some(n) = name {
                m.matter.name = n.to_owned();
            }
            if let Some(d) = description {
                m.matter.description = d.to_owned();
            }
            let out = m.matter.clone();
            tx.touch();
            Ok((out, json!({})))
        })
    }

    /// Take a state transition (close, reopen, delete, undelete) as the table in
    /// [`MatterState::after`] allows; closing a matter that has holds is refused
    /// ([`Rule::HoldsBlockClose`]: Vault's "Matters have users on hold").
    pub fn transition(
        &mut self,
        actor: &Account,
        id: &MatterId,
        action: MatterAction,
    ) -> Result<Matter, GovernanceError> {
        let name = format!("matter.{}", action.name());
        self.act(actor, &name, Some(id), json!({}), |tx| {
            if !matches!(
                action,
                MatterAction::Close
                    | MatterAction::Reopen
                    | MatterAction::Delete
                    | MatterAction::Undelete
            ) {
                return Err(GovernanceError::Invalid(format!(
                    "{} is not a state transition",
                    action.name()
                )));
            }
            let m = tx.allowed(actor, id, action)?;
            let from = m.matter.state;
            if action == MatterAction::Close && !m.holds.is_empty() {
                return Err(tx.refuse(
                    Rule::HoldsBlockClose,
                    format!("matter {id} has {} holds: remove them before closing", m.holds.len()),
                ));
            }
            let to = from.after(action).unwrap_or(from);
            let m = tx.matter_file_mut(id)?;
            m.matter.state = to;
            let out = m.matter.clone();
            tx.touch();
            Ok((out, json!({"from": from.as_str(), "to": to.as_str()})))
        })
    }

    /// Give `account` (a user of the organisation) a role in the matter; an account that has a
    /// role gets the new one. The owner's.
    pub fn add_permission(
        &mut self,
        actor: &Account,
        id: &MatterId,
        account: &Account,
        role: Role,
    ) -> Result<Matter, GovernanceError> {
        let params = json!({"account": account, "role": role});
        self.act(actor, "matter.add-permission", Some(id), params, |tx| {
            let m = tx.allowed(actor, id, MatterAction::AddPermission)?;
            let was = m.matter.role_of(account);
            let is_user = tx
                .org()
                .and_then(|o| o.get(account))
                .is_some_and(|a| a.kind == super::org::AccountType::User);
            if !is_user {
                return Err(tx.refuse(
                    Rule::PermissionsForUsers,
                    format!("{account} is not a user of the organisation"),
                ));
            }
            let owners =
                m.matter.matter_permissions.iter().filter(|p| p.role == Role::Owner).count();
            if was == Some(Role::Owner) && role != Role::Owner && owners == 1 {
                return Err(tx.refuse(
                    Rule::MatterKeepsAnOwner,
                    format!("{account} is the only owner of matter {id}"),
                ));
            }
            let m = tx.matter_file_mut(id)?;
            m.matter.matter_permissions.retain(|p| &p.account_id != account);
            m.matter.matter_permissions.push(Permission { account_id: account.clone(), role });
            let out = m.matter.clone();
            tx.touch();
            Ok((out, json!({"previousRole": was})))
        })
    }

    /// Take `account`'s role in the matter away: from the next action on it is refused there.
    /// The owner's; the last owner cannot be removed.
    pub fn remove_permission(
        &mut self,
        actor: &Account,
        id: &MatterId,
        account: &Account,
    ) -> Result<Matter, GovernanceError> {
        let params = json!({"account": account});
        self.act(actor, "matter.remove-permission", Some(id), params, |tx| {
            let m = tx.allowed(actor, id, MatterAction::RemovePermission)?;
            let Some(was) = m.matter.role_of(account) else {
                return Err(GovernanceError::NotFound {
                    what: "permission",
                    id: format!("{account} in matter {id}"),
                });
            };
            let owners =
                m.matter.matter_permissions.iter().filter(|p| p.role == Role::Owner).count();
            if was == Role::Owner && owners == 1 {
                return Err(tx.refuse(
                    Rule::MatterKeepsAnOwner,
                    format!("{account} is the only owner of matter {id}"),
                ));
            }
            let m = tx.matter_file_mut(id)?;
            m.matter.matter_permissions.retain(|p| &p.account_id != account);
            let out = m.matter.clone();
            tx.touch();
            Ok((out, json!({"removedRole": was})))
        })
    }

    /// Save a query (terms and scope) in an open matter.
    pub fn save_query(
        &mut self,
        actor: &Account,
        id: &MatterId,
        display_name: &str,
        query: VaultQuery,
    ) -> Result<SavedQuery, GovernanceError> {
        let params = json!({"displayName": display_name, "query": query});
        self.act(actor, "query.save", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::SaveQuery)?;
            crate::query::parse(&query.terms)
                .map_err(|e| GovernanceError::Invalid(format!("query {:?}: {e}", query.terms)))?;
            let q = SavedQuery {
                saved_query_id: new_id(tx, "savedQuery", display_name),
                display_name: display_name.to_owned(),
                matter_id: id.clone(),
                create_time: time::iso_utc(tx.now()).unwrap_or_default(),
                query,
            };
            tx.matter_file_mut(id)?.saved_queries.push(q.clone());
            tx.touch();
            Ok((q.clone(), json!({"savedQueryId": q.saved_query_id})))
        })
    }

    /// The saved queries of a matter.
    pub fn saved_queries(
        &mut self,
        actor: &Account,
        id: &MatterId,
    ) -> Result<Vec<SavedQuery>, GovernanceError> {
        self.read(actor, "query.list", Some(id), json!({}), |tx| {
            Ok(tx.allowed(actor, id, MatterAction::View)?.saved_queries.clone())
        })
    }
}
