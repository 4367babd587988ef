//! The governance state as object types with records and properties: what a backup writes (one
//! CSV per object type, first column the record's stable id) and what a restore may write back.
//!
//! One table ([`ObjectType::ALL`]) names every object type, its columns and which of them a
//! restore may set; [`rows`] reads the records out of the state and [`set`] writes one property
//! of one record. Keeping both directions next to each other is what makes "a backup holds all
//! properties" and "a restore writes back exactly what the backup holds" checkable in one place.
//!
//! Cells are text: times ISO-8601 UTC as the state keeps them, lists comma-joined, nested Vault
//! shapes (a hold's query, an export's options) as compact JSON. The audit log is not an object
//! of the state (it is the record of what happened, kept append-only beside it) and is not
//! backed up.

use super::hold::CorpusQuery;
use super::matter::{MatterAction, MatterId, MatterState, Role};
use super::state::State;
use crate::model::time::{self, CivilDay};
use serde::Serialize;

/// Whether and why a column can or cannot be restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Restore {
    /// The record's id: what a restore matches records by, never changed.
    Id,
    /// Written back by a restore.
    Yes,
    /// Not restorable, and why.
    No(&'static str),
}

/// One column of an object type's CSV.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub restore: Restore,
}

const fn id(name: &'static str) -> Column {
    Column { name, restore: Restore::Id }
}
const fn yes(name: &'static str) -> Column {
    Column { name, restore: Restore::Yes }
}
const fn no(name: &'static str, why: &'static str) -> Column {
    Column { name, restore: Restore::No(why) }
}

const LINK: &str = "it links the record to another one; restoring it would move the record";
const MADE: &str = "it records when or by whom the record was made";
const HISTORY: &str = "this object type is a record of what happened, not a setting";
const ORG: &str = "the organisation is restored by importing its file (ediscovery org import)";
const SHAPE: &str = "it is set when the record is made; change it with its own command";

/// The object types of the governance state, in the order a backup writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectType {
    /// The organisation's accounts.
    Accounts,
    /// Matters.
    Matters,
    /// Who works in which matter.
    Permissions,
    /// Holds.
    Holds,
    /// Accounts on hold, per hold.
    HeldAccounts,
    /// Saved queries.
    SavedQueries,
    /// Exports recorded in matters.
    Exports,
    /// Retention rules.
    RetentionRules,
    /// Items their users deleted, until purged.
    Deletions,
    /// Backups made.
    Backups,
    /// Organisation-wide exports started.
    OrgExports,
}

impl ObjectType {
    /// Every object type.
    pub const ALL: [ObjectType; 11] = [
        ObjectType::Accounts,
        ObjectType::Matters,
        ObjectType::Permissions,
        ObjectType::Holds,
        ObjectType::HeldAccounts,
        ObjectType::SavedQueries,
        ObjectType::Exports,
        ObjectType::RetentionRules,
        ObjectType::Deletions,
        ObjectType::Backups,
        ObjectType::OrgExports,
    ];

    /// Its name: the CSV's name without `.csv`, and what `--object` takes.
    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Accounts => "accounts",
            ObjectType::Matters => "matters",
            ObjectType::Permissions => "permissions",
            ObjectType::Holds => "holds",
            ObjectType::HeldAccounts => "held_accounts",
            ObjectType::SavedQueries => "saved_queries",
            ObjectType::Exports => "exports",
            ObjectType::RetentionRules => "retention_rules",
            ObjectType::Deletions => "deletions",
            ObjectType::Backups => "backups",
            ObjectType::OrgExports => "org_exports",
        }
    }

    /// Its title, as the restore's audit entry names it ("Data Restore - Matters").
    pub fn title(self) -> &'static str {
        match self {
            ObjectType::Accounts => "Accounts",
            ObjectType::Matters => "Matters",
            ObjectType::Permissions => "Permissions",
            ObjectType::Holds => "Holds",
            ObjectType::HeldAccounts => "Held accounts",
            ObjectType::SavedQueries => "Saved queries",
            ObjectType::Exports => "Exports",
            ObjectType::RetentionRules => "Retention rules",
            ObjectType::Deletions => "Deletions",
            ObjectType::Backups => "Backups",
            ObjectType::OrgExports => "Org exports",
        }
    }

    /// The type named `name` (as [`ObjectType::name`] spells it; a trailing `.csv` is allowed).
    pub fn parse(name: &str) -> Option<ObjectType> {
        let n = name.trim().strip_suffix(".csv").unwrap_or(name.trim());
        ObjectType::ALL.into_iter().find(|o| o.name() == n)
    }

    /// Its CSV's file name in a backup.
    pub fn file_name(self) -> String {
        format!("{}.csv", self.name())
    }

    /// Its columns, the id first.
    pub(crate) fn columns(self) -> &'static [Column] {
        match self {
            ObjectType::Accounts => {
                const C: &[Column] = &[
                    id("account"),
                    no("orgUnit", ORG),
                    no("type", ORG),
                    no("created", ORG),
                    no("admin", ORG),
                ];
                C
            }
            ObjectType::Matters => {
                const C: &[Column] = &[
                    id("matterId"),
                    yes("name"),
                    yes("description"),
                    yes("state"),
                    no("createTime", MADE),
                ];
                C
            }
            ObjectType::Permissions => {
                const C: &[Column] =
                    &[id("permissionId"), no("matterId", LINK), no("accountId", LINK), yes("role")];
                C
            }
            ObjectType::Holds => {
                const C: &[Column] = &[
                    id("holdId"),
                    no("matterId", LINK),
                    yes("name"),
                    no("corpus", SHAPE),
                    no("orgUnitId", SHAPE),
                    no("orgUnitHoldTime", MADE),
                    yes("terms"),
                    yes("startTime"),
                    yes("endTime"),
                    no("query", "restore its parts: terms, startTime, endTime"),
                    no("updateTime", MADE),
                ];
                C
            }
            ObjectType::HeldAccounts => {
                const C: &[Column] = &[
                    id("heldAccountId"),
                    no("matterId", LINK),
                    no("holdId", LINK),
                    no("accountId", LINK),
                    no("holdTime", MADE),
                ];
                C
            }
            ObjectType::SavedQueries => {
                const C: &[Column] = &[
                    id("savedQueryId"),
                    no("matterId", LINK),
                    yes("displayName"),
                    no("createTime", MADE),
                    no("query", SHAPE),
                ];
                C
            }
            ObjectType::Exports => {
                const C: &[Column] = &[
                    id("id"),
                    no("matterId", HISTORY),
                    no("name", HISTORY),
                    no("requester", HISTORY),
                    no("createTime", HISTORY),
                    no("status", HISTORY),
                    no("exportedArtifactCount", HISTORY),
                    no("totalArtifactCount", HISTORY),
                    no("failedArtifactCount", HISTORY),
                    no("sizeInBytes", HISTORY),
                    no("dir", HISTORY),
                    no("error", HISTORY),
                    no("query", HISTORY),
                    no("exportOptions", HISTORY),
                    no("ediscovery", HISTORY),
                    no("files", HISTORY),
                ];
                C
            }
            ObjectType::RetentionRules => {
                const C: &[Column] = &[
                    id("ruleId"),
                    no("corpus", SHAPE),
                    no("accounts", SHAPE),
                    no("orgUnit", SHAPE),
                    yes("terms"),
                    yes("days"),
                    no("createTime", MADE),
                ];
                C
            }
            ObjectType::Deletions => {
                const C: &[Column] = &[id("docId"), no("actor", HISTORY), no("time", HISTORY)];
                C
            }
            ObjectType::Backups => {
                const C: &[Column] = &[
                    id("backupId"),
                    no("actor", HISTORY),
                    no("time", HISTORY),
                    no("file", HISTORY),
                    no("sha256", HISTORY),
                    no("records", HISTORY),
                ];
                C
            }
            ObjectType::OrgExports => {
                const C: &[Column] = &[
                    id("exportId"),
                    no("startedBy", HISTORY),
                    no("startTime", HISTORY),
                    no("expiryTime", HISTORY),
                    no("status", HISTORY),
                    no("forced", HISTORY),
                    no("accounts", HISTORY),
                    no("dir", HISTORY),
                    no("finishTime", HISTORY),
                ];
                C
            }
        }
    }

    /// The column names, the id first: the CSV's header.
    pub fn header(self) -> Vec<&'static str> {
        self.columns().iter().map(|c| c.name).collect()
    }
}

/// One record: its id and its cells in column order (the id is the first cell too).
pub(crate) type Row = Vec<String>;

fn json_cell(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn opt(v: Option<&str>) -> String {
    v.unwrap_or("").to_owned()
}

/// The records of `object` in `state`, in a fixed order (the state's).
pub(crate) fn rows(state: &State, object: ObjectType) -> Vec<Row> {
    let matters = state.matters.values();
    match object {
        ObjectType::Accounts => state
            .org
            .iter()
            .flat_map(|o| o.accounts())
            .map(|a| {
                vec![
                    a.account.to_string(),
                    a.org_unit.to_string(),
                    a.kind.as_str().to_owned(),
                    time::iso_utc(a.created).unwrap_or_default(),
                    a.admin.to_string(),
                ]
            })
            .collect(),
        ObjectType::Matters => matters
            .map(|m| {
                let m = &m.matter;
                vec![
                    m.matter_id.to_string(),
                    m.name.clone(),
                    m.description.clone(),
                    m.state.as_str().to_owned(),
                    m.create_time.clone(),
                ]
            })
            .collect(),
        ObjectType::Permissions => matters
            .flat_map(|m| {
                m.matter.matter_permissions.iter().map(|p| {
                    let id = &m.matter.matter_id;
                    vec![
                        format!("{id}/{}", p.account_id),
                        id.to_string(),
                        p.account_id.to_string(),
                        role_name(p.role).to_owned(),
                    ]
                })
            })
            .collect(),
        ObjectType::Holds => matters
            .flat_map(|m| {
                m.holds.iter().map(|h| {
                    let t = h.query.terms();
                    vec![
                        h.hold_id.clone(),
                        m.matter.matter_id.to_string(),
                        h.name.clone(),
                        h.corpus.as_str().to_owned(),
                        h.org_unit.as_ref().map(|o| o.org_unit_id.to_string()).unwrap_or_default(),
                        h.org_unit.as_ref().map(|o| o.hold_time.clone()).unwrap_or_default(),
                        t.map(|t| t.terms.clone()).unwrap_or_default(),
                        opt(t.and_then(|t| t.start_time.as_deref())),
                        opt(t.and_then(|t| t.end_time.as_deref())),
                        json_cell(&h.query),
                        h.update_time.clone(),
                    ]
                })
            })
            .collect(),
        ObjectType::HeldAccounts => matters
            .flat_map(|m| {
                m.holds.iter().flat_map(move |h| {
                    h.accounts.iter().map(move |a| {
                        vec![
                            format!("{}/{}", h.hold_id, a.account_id),
                            m.matter.matter_id.to_string(),
                            h.hold_id.clone(),
                            a.account_id.to_string(),
                            a.hold_time.clone(),
                        ]
                    })
                })
            })
            .collect(),
        ObjectType::SavedQueries => matters
            .flat_map(|m| {
                m.saved_queries.iter().map(|q| {
                    vec![
                        q.saved_query_id.clone(),
                        q.matter_id.to_string(),
                        q.display_name.clone(),
                        q.create_time.clone(),
                        json_cell(&q.query),
                    ]
                })
            })
            .collect(),
        ObjectType::Exports => matters
            .flat_map(|m| {
                m.exports.iter().map(|e| {
                    vec![
                        e.id.clone(),
                        e.matter_id.to_string(),
                        e.name.clone(),
                        e.requester.email.to_string(),
                        e.create_time.clone(),
                        json_cell(&e.status).trim_matches('"').to_owned(),
                        e.stats.exported_artifact_count.to_string(),
                        e.stats.total_artifact_count.to_string(),
                        e.stats.failed_artifact_count.to_string(),
                        e.stats.size_in_bytes.to_string(),
                        opt(e.dir.as_deref()),
                        opt(e.error.as_deref()),
                        json_cell(&e.query),
                        json_cell(&e.export_options),
                        json_cell(&e.ediscovery),
                        json_cell(&e.files),
                    ]
                })
            })
            .collect(),
        ObjectType::RetentionRules => state
            .retention
            .iter()
            .map(|r| {
                vec![
                    r.rule_id.clone(),
                    r.corpus.as_str().to_owned(),
                    r.accounts.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
                    r.org_unit.as_ref().map(ToString::to_string).unwrap_or_default(),
                    opt(r.terms.as_deref()),
                    r.days.map(|d| d.to_string()).unwrap_or_default(),
                    r.create_time.clone(),
                ]
            })
            .collect(),
        ObjectType::Deletions => state
            .deletions
            .iter()
            .map(|(id, d)| vec![id.to_string(), d.actor.to_string(), d.time.clone()])
            .collect(),
        ObjectType::Backups => state
            .backup
            .history
            .iter()
            .map(|b| {
                vec![
                    b.backup_id.clone(),
                    b.actor.to_string(),
                    b.time.clone(),
                    b.file.clone(),
                    b.sha256.clone(),
                    b.records.to_string(),
                ]
            })
            .collect(),
        ObjectType::OrgExports => state
            .org_exports
            .iter()
            .map(|e| {
                vec![
                    e.export_id.clone(),
                    e.started_by.to_string(),
                    e.start_time.clone(),
                    e.expiry_time.clone(),
                    e.status.clone(),
                    e.forced.to_string(),
                    e.accounts.to_string(),
                    e.dir.clone(),
                    e.finish_time.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "OWNER",
        Role::Collaborator => "COLLABORATOR",
    }
}

/// Why a value cannot be written, for [`super::Rule::RestorableProperties`].
pub(crate) type Refusal = String;

/// Write `value` as `column` of the record `id` of `object`. A blank value clears what can be
/// cleared (a description, a hold's terms or days, making a rule indefinite); a value the
/// property cannot take is refused with the reason. `Ok(false)`: no such record.
pub(crate) fn set(
    state: &mut State,
    object: ObjectType,
    id: &str,
    column: &str,
    value: &str,
) -> Result<bool, Refusal> {
    match object {
        ObjectType::Matters => {
            let Some(m) = state.matters.get_mut(&MatterId(id.to_owned())) else {
                return Ok(false);
            };
            let holds = m.holds.len();
            let m = &mut m.matter;
            match column {
                "name" if value.trim().is_empty() => {
                    return Err("a matter needs a name: a blank name cannot be restored".into());
                }
                "name" => m.name = value.to_owned(),
                "description" => m.description = value.to_owned(),
                "state" => {
                    let to = MatterState::ALL
                        .into_iter()
                        .find(|s| s.as_str() == value)
                        .ok_or_else(|| format!("state {value:?} is not OPEN, CLOSED or DELETED"))?;
                    m.state = transition(m.state, to, holds)?;
                }
                _ => return Err(unknown(object, column)),
            }
        }
        ObjectType::Permissions => {
            let Some((matter, account)) = id.split_once('/') else { return Ok(false) };
            let Some(m) = state.matters.get_mut(&MatterId(matter.to_owned())) else {
                return Ok(false);
            };
            let Some(p) =
                m.matter.matter_permissions.iter_mut().find(|p| p.account_id.as_str() == account)
            else {
                return Ok(false);
            };
            match column {
                "role" => {
                    p.role = Role::parse(value)
                        .ok_or_else(|| format!("role {value:?} is not OWNER or COLLABORATOR"))?;
                }
                _ => return Err(unknown(object, column)),
            }
        }
        ObjectType::Holds => {
            let Some(h) = state
                .matters
                .values_mut()
                .flat_map(|m| m.holds.iter_mut())
                .find(|h| h.hold_id == id)
            else {
                return Ok(false);
            };
            if column == "name" {
                if value.trim().is_empty() {
                    return Err("a hold needs a name: a blank name cannot be restored".into());
                }
                h.name = value.to_owned();
                return Ok(true);
            }
            let corpus = h.corpus;
            let (CorpusQuery::MailQuery(t) | CorpusQuery::GroupsQuery(t)) = &mut h.query else {
                return Err(format!("{column} applies to mail and groups holds, not {corpus}"));
            };
            let day = |v: &str| -> Result<Option<String>, Refusal> {
                if v.is_empty() {
                    return Ok(None);
                }
                CivilDay::parse(v)
                    .map(|_| Some(v.to_owned()))
                    .ok_or_else(|| format!("{column} {v:?} is not a day (YYYY-MM-DD)"))
            };
            match column {
                "terms" => {
                    crate::query::parse(value).map_err(|e| format!("terms {value:?}: {e}"))?;
                    t.terms = value.to_owned();
                }
                "startTime" => t.start_time = day(value)?,
                "endTime" => t.end_time = day(value)?,
                _ => return Err(unknown(object, column)),
            }
        }
        ObjectType::SavedQueries => {
            let Some(q) = state
                .matters
                .values_mut()
                .flat_map(|m| m.saved_queries.iter_mut())
                .find(|q| q.saved_query_id == id)
            else {
                return Ok(false);
            };
            match column {
                "displayName" if value.trim().is_empty() => {
                    return Err("a saved query needs a name".into());
                }
                "displayName" => q.display_name = value.to_owned(),
                _ => return Err(unknown(object, column)),
            }
        }
        ObjectType::RetentionRules => {
            let Some(r) = state.retention.iter_mut().find(|r| r.rule_id == id) else {
                return Ok(false);
            };
            match column {
                "days" if value.is_empty() => r.days = None,
                "days" => {
                    r.days = Some(value.parse().map_err(|_| {
                        format!("days {value:?} is not a number of days (blank: indefinite)")
                    })?);
                }
                "terms" if value.is_empty() => r.terms = None,
                "terms" => {
                    if r.is_default() || r.corpus != crate::model::Corpus::Mail {
                        return Err("terms are for custom mail rules".into());
                    }
                    crate::query::parse(value).map_err(|e| format!("terms {value:?}: {e}"))?;
                    r.terms = Some(value.to_owned());
                }
                _ => return Err(unknown(object, column)),
            }
        }
        _ => return Err(unknown(object, column)),
    }
    Ok(true)
}

fn unknown(object: ObjectType, column: &str) -> Refusal {
    format!("{} has no restorable property {column:?}", object.name())
}

/// The state `from` may be restored to `to` when one step of Vault's table
/// ([`MatterState::after`]) leads there: CLOSED→OPEN (reopen), OPEN→CLOSED (close, only without
/// holds), CLOSED→DELETED (delete), DELETED→CLOSED (undelete). Anything else (DELETED→OPEN,
/// OPEN→DELETED) would skip a step Vault requires and is refused.
fn transition(from: MatterState, to: MatterState, holds: usize) -> Result<MatterState, Refusal> {
    if from == to {
        return Ok(to);
    }
    let step =
        [MatterAction::Close, MatterAction::Reopen, MatterAction::Delete, MatterAction::Undelete]
            .into_iter()
            .find(|a| from.after(*a) == Some(to));
    match step {
        Some(MatterAction::Close) if holds > 0 => Err(format!(
            "OPEN → CLOSED: the matter has {holds} holds (Vault closes only matters without holds)"
        )),
        Some(_) => Ok(to),
        None => Err(format!(
            "{} → {}: Vault allows no such transition in one step",
            from.as_str(),
            to.as_str()
        )),
    }
}

/// The refusal of restoring `column` of `object` at all (an id, an unknown name, a property
/// that is not restorable), or `None` when it may be restored.
pub(crate) fn not_restorable(object: ObjectType, column: &str) -> Option<String> {
    let known = object.header().join(", ");
    match object.columns().iter().find(|c| c.name == column) {
        None => Some(format!("{} has no property {column:?} (it has {known})", object.name())),
        Some(Column { restore: Restore::Id, .. }) => {
            Some(format!("{column} is the id of {} records and cannot be restored", object.name()))
        }
        Some(Column { restore: Restore::No(why), .. }) => {
            Some(format!("{}.{column} cannot be restored: {why}", object.name()))
        }
        Some(Column { restore: Restore::Yes, .. }) => None,
    }
}

/// After a restore: every matter keeps an owner.
pub(crate) fn check(state: &State) -> Result<(), Refusal> {
    for m in state.matters.values() {
        if !m.matter.matter_permissions.iter().any(|p| p.role == Role::Owner) {
            return Err(format!("matter {} would have no owner", m.matter.matter_id));
        }
    }
    Ok(())
}
