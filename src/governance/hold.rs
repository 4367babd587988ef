//! Holds as Vault has them: a corpus, accounts *or* an org unit, and a corpus query (terms and a
//! date range for mail and groups; shared drives for Drive; rooms for Chat; covered data for
//! Voice). Which records a hold keeps is worked out when asked ([`super::held`]), never stored.

use super::matter::{MatterAction, MatterId};
use super::org::AccountType;
use super::state::Tx;
use super::{GovernanceError, Rule, new_id};
use crate::model::time::{self, CivilDay};
use crate::model::{Account, Corpus, OrgUnit};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A held account (Vault's `HeldAccount`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldAccount {
    /// The account (its address).
    pub account_id: Account,
    /// When it was put on hold.
    pub hold_time: String,
}

/// A held org unit (Vault's `HeldOrgUnit`): its accounts are those below it in the organisation
/// when the hold is evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldOrgUnit {
    /// The unit's path.
    pub org_unit_id: OrgUnit,
    /// When it was put on hold.
    pub hold_time: String,
}

/// Terms and dates of a mail or groups hold (Vault's `HeldMailQuery` / `HeldGroupsQuery`). The
/// days are UTC days, both included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsQuery {
    /// A Vault query; empty: everything.
    #[serde(default)]
    pub terms: String,
    /// First day held, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Last day held, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
}

/// Voice data a hold covers (Vault's `coveredData`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CoveredData {
    /// Text messages.
    TextMessages,
    /// Voicemails.
    Voicemails,
    /// Call logs.
    CallLogs,
}

impl CoveredData {
    /// Parse Vault's name (any case).
    pub fn parse(s: &str) -> Option<CoveredData> {
        match s.trim().to_ascii_uppercase().as_str() {
            "TEXT_MESSAGES" => Some(CoveredData::TextMessages),
            "VOICEMAILS" => Some(CoveredData::Voicemails),
            "CALL_LOGS" => Some(CoveredData::CallLogs),
            _ => None,
        }
    }
}

/// A hold's corpus query (Vault's `CorpusQuery`: one of, by corpus). Drive, Chat and Voice
/// options are kept and shown; this version has no ingest for those corpora, so they do not
/// narrow what such a hold keeps (all of its accounts' records of the corpus).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CorpusQuery {
    /// Gmail.
    MailQuery(TermsQuery),
    /// Groups.
    GroupsQuery(TermsQuery),
    /// Drive.
    #[serde(rename_all = "camelCase")]
    DriveQuery {
        /// Also hold files in shared drives the accounts can reach.
        include_shared_drive_files: bool,
    },
    /// Chat.
    #[serde(rename_all = "camelCase")]
    HangoutsChatQuery {
        /// Also hold messages in rooms (spaces) the accounts are in.
        include_rooms: bool,
    },
    /// Voice.
    #[serde(rename_all = "camelCase")]
    VoiceQuery {
        /// What is held.
        covered_data: Vec<CoveredData>,
    },
}

impl CorpusQuery {
    /// The terms and days, for mail and groups.
    pub fn terms(&self) -> Option<&TermsQuery> {
        match self {
            CorpusQuery::MailQuery(t) | CorpusQuery::GroupsQuery(t) => Some(t),
            _ => None,
        }
    }
}

/// A hold (Vault's `Hold`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    /// Its id.
    pub hold_id: String,
    /// Its name.
    pub name: String,
    /// When it last changed.
    pub update_time: String,
    /// Which corpus it holds.
    pub corpus: Corpus,
    /// Held accounts (empty for an org-unit hold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<HeldAccount>,
    /// The held org unit (none for an accounts hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit: Option<HeldOrgUnit>,
    /// What of the corpus it holds.
    pub query: CorpusQuery,
}

/// A hold as asked for; [`Tx::create_hold`] checks it against its corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHold {
    /// Its name.
    pub name: String,
    /// Its corpus.
    pub corpus: Corpus,
    /// Accounts to hold (for groups: group addresses).
    pub accounts: Vec<Account>,
    /// Or an org unit.
    pub org_unit: Option<OrgUnit>,
    /// Mail, groups: a Vault query.
    pub terms: Option<String>,
    /// Mail, groups: first day (UTC).
    pub start: Option<CivilDay>,
    /// Mail, groups: last day (UTC).
    pub end: Option<CivilDay>,
    /// Drive: include shared drives.
    pub include_shared_drives: bool,
    /// Chat: include rooms.
    pub include_rooms: bool,
    /// Voice: covered data (empty: all three).
    pub covered_data: Vec<CoveredData>,
}

impl NewHold {
    /// A hold of these accounts' `corpus`, nothing narrowed.
    pub fn accounts(name: &str, corpus: Corpus, accounts: Vec<Account>) -> NewHold {
        NewHold {
            name: name.to_owned(),
            corpus,
            accounts,
            org_unit: None,
            terms: None,
            start: None,
            end: None,
            include_shared_drives: false,
            include_rooms: false,
            covered_data: Vec::new(),
        }
    }

    /// A hold of an org unit's `corpus`, nothing narrowed.
    pub fn org_unit(name: &str, corpus: Corpus, unit: OrgUnit) -> NewHold {
        NewHold { org_unit: Some(unit), ..NewHold::accounts(name, corpus, Vec::new()) }
    }

    /// The corpus query, refusing options of another corpus ([`Rule::HoldOptionsFitCorpus`]).
    fn query(&self) -> Result<CorpusQuery, (Rule, String)> {
        let terms_like = self.terms.is_some() || self.start.is_some() || self.end.is_some();
        let wrong = |what: &str| {
            (Rule::HoldOptionsFitCorpus, format!("{what} does not apply to a {} hold", self.corpus))
        };
        if terms_like && !matches!(self.corpus, Corpus::Mail | Corpus::Groups) {
            return Err(wrong("terms or a date range"));
        }
        if self.include_shared_drives && self.corpus != Corpus::Drive {
            return Err(wrong("include shared drives"));
        }
        if self.include_rooms && self.corpus != Corpus::Chat {
            return Err(wrong("include rooms"));
        }
        if !self.covered_data.is_empty() && self.corpus != Corpus::Voice {
            return Err(wrong("covered data"));
        }
        let t = || TermsQuery {
            terms: self.terms.clone().unwrap_or_default(),
            start_time: self.start.map(|d| d.to_string()),
            end_time: self.end.map(|d| d.to_string()),
        };
        Ok(match self.corpus {
            Corpus::Mail => CorpusQuery::MailQuery(t()),
            Corpus::Groups => CorpusQuery::GroupsQuery(t()),
            Corpus::Drive => {
                CorpusQuery::DriveQuery { include_shared_drive_files: self.include_shared_drives }
            }
            Corpus::Chat => CorpusQuery::HangoutsChatQuery { include_rooms: self.include_rooms },
            Corpus::Voice => CorpusQuery::VoiceQuery {
                covered_data: if self.covered_data.is_empty() {
                    vec![CoveredData::TextMessages, CoveredData::Voicemails, CoveredData::CallLogs]
                } else {
                    self.covered_data.clone()
                },
            },
        })
    }
}

/// The kind of account a hold of `corpus` holds: groups hold groups, the rest users.
pub(crate) fn held_kind(corpus: Corpus) -> AccountType {
    if corpus == Corpus::Groups { AccountType::Group } else { AccountType::User }
}

/// What became of one account of an add or remove request (Vault's per-account status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HeldStatus {
    /// Put on hold.
    Added,
    /// Was on hold already.
    AlreadyHeld,
    /// Taken off hold.
    Removed,
    /// Was not on hold.
    NotHeld,
    /// Not an account of the organisation.
    UnknownAccount,
    /// An account of another kind than the hold's corpus holds (a group on a mail hold).
    WrongType,
}

/// One account's status in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatus {
    /// The account.
    pub account: Account,
    /// What became of it.
    pub status: HeldStatus,
}

impl Tx {
    fn hold_index(&self, id: &MatterId, hold: &str) -> Result<usize, GovernanceError> {
        self.matter_file(id)?.holds.iter().position(|h| h.hold_id == hold).ok_or_else(|| {
            GovernanceError::NotFound { what: "hold", id: format!("{hold} in matter {id}") }
        })
    }

    /// The index of a hold whose accounts are named (not an org unit's): the only kind whose
    /// accounts a batch may change.
    fn accounts_hold_index(&self, id: &MatterId, hold: &str) -> Result<usize, GovernanceError> {
        let i = self.hold_index(id, hold)?;
        if self.matter_file(id)?.holds[i].org_unit.is_some() {
            return Err(self.refuse(
                Rule::HoldAccountsFitCorpus,
                format!("hold {hold} holds an org unit: its accounts come from the organisation"),
            ));
        }
        Ok(i)
    }

    /// The status `account` would get if added to a hold of `corpus`.
    fn fit(&self, account: &Account, corpus: Corpus) -> Option<HeldStatus> {
        match self.org().and_then(|o| o.get(account)) {
            None => Some(HeldStatus::UnknownAccount),
            Some(a) if a.kind != held_kind(corpus) => Some(HeldStatus::WrongType),
            Some(_) => None,
        }
    }

    /// Create a hold in an open matter. Accounts must be of the organisation and of the kind
    /// the corpus holds (groups for groups, users otherwise), or the hold names an org unit
    /// (not for groups, as Vault); terms and dates only for mail and groups, and the terms
    /// must parse.
    pub fn create_hold(
        &mut self,
        actor: &Account,
        id: &MatterId,
        new: &NewHold,
    ) -> Result<Hold, GovernanceError> {
        let params = json!({
            "name": new.name, "corpus": new.corpus, "accounts": new.accounts,
            "orgUnit": new.org_unit, "terms": new.terms,
            "start": new.start.map(|d| d.to_string()), "end": new.end.map(|d| d.to_string()),
            "includeSharedDrives": new.include_shared_drives, "includeRooms": new.include_rooms,
            "coveredData": new.covered_data,
        });
        self.act(actor, "hold.create", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::Holds)?;
            let query = new.query().map_err(|(rule, why)| tx.refuse(rule, why))?;
            if new.name.trim().is_empty() {
                return Err(GovernanceError::Invalid("a hold needs a name".to_owned()));
            }
            if let Some(t) = query.terms() {
                crate::query::parse(&t.terms)
                    .map_err(|e| GovernanceError::Invalid(format!("--terms {:?}: {e}", t.terms)))?;
                if let (Some(s), Some(e)) = (new.start, new.end)
                    && e < s
                {
                    return Err(GovernanceError::Invalid(format!(
                        "the hold's date range is empty: {e} is before {s}"
                    )));
                }
            }
            let now = time::iso_utc(tx.now()).unwrap_or_default();
            let (accounts, org_unit) = match (&new.org_unit, new.accounts.is_empty()) {
                (Some(_), false) | (None, true) => {
                    return Err(tx.refuse(
                        Rule::HoldAccountsFitCorpus,
                        "a hold names accounts or an org unit, exactly one of them",
                    ));
                }
                (Some(_), true) if new.corpus == Corpus::Groups => {
                    return Err(tx.refuse(
                        Rule::HoldAccountsFitCorpus,
                        "a groups hold lists group accounts, not an org unit",
                    ));
                }
                (Some(ou), true) => (
                    Vec::new(),
                    Some(HeldOrgUnit { org_unit_id: ou.clone(), hold_time: now.clone() }),
                ),
                (None, false) => {
                    let mut held: Vec<HeldAccount> = Vec::new();
                    for a in &new.accounts {
                        if let Some(s) = tx.fit(a, new.corpus) {
                            return Err(tx.refuse(
                                Rule::HoldAccountsFitCorpus,
                                format!(
                                    "{a}: {} (a {} hold holds {} accounts of the organisation)",
                                    if s == HeldStatus::UnknownAccount {
                                        "not an account of the organisation"
                                    } else {
                                        "an account of another type"
                                    },
                                    new.corpus,
                                    held_kind(new.corpus).as_str()
                                ),
                            ));
                        }
                        if !held.iter().any(|h| &h.account_id == a) {
                            held.push(HeldAccount {
                                account_id: a.clone(),
                                hold_time: now.clone(),
                            });
                        }
                    }
                    (held, None)
                }
            };
            let hold = Hold {
                hold_id: new_id(tx, "hold", &new.name),
                name: new.name.clone(),
                update_time: now,
                corpus: new.corpus,
                accounts,
                org_unit,
                query,
            };
            tx.matter_file_mut(id)?.holds.push(hold.clone());
            tx.touch();
            Ok((hold.clone(), json!({"holdId": hold.hold_id})))
        })
    }

    /// The holds of a matter.
    pub fn holds(&mut self, actor: &Account, id: &MatterId) -> Result<Vec<Hold>, GovernanceError> {
        self.read(actor, "hold.list", Some(id), json!({}), |tx| {
            Ok(tx.allowed(actor, id, MatterAction::View)?.holds.clone())
        })
    }

    /// One hold of a matter.
    pub fn hold(
        &mut self,
        actor: &Account,
        id: &MatterId,
        hold: &str,
    ) -> Result<Hold, GovernanceError> {
        self.read(actor, "hold.show", Some(id), json!({"holdId": hold}), |tx| {
            let m = tx.allowed(actor, id, MatterAction::View)?;
            let i = tx.hold_index(id, hold)?;
            Ok(m.holds[i].clone())
        })
    }

    /// Put accounts on an accounts hold, in one batch: a status per account, in request order
    /// (unknown accounts and accounts of the wrong type are not added, and say so).
    pub fn add_held_accounts(
        &mut self,
        actor: &Account,
        id: &MatterId,
        hold: &str,
        accounts: &[Account],
    ) -> Result<Vec<AccountStatus>, GovernanceError> {
        let params = json!({"holdId": hold, "accounts": accounts});
        self.act(actor, "hold.add-accounts", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::Holds)?;
            let i = tx.accounts_hold_index(id, hold)?;
            let h = &tx.matter_file(id)?.holds[i];
            let corpus = h.corpus;
            let now = time::iso_utc(tx.now()).unwrap_or_default();
            let mut statuses = Vec::with_capacity(accounts.len());
            let mut added = Vec::new();
            for a in accounts {
                let already = h.accounts.iter().any(|x| &x.account_id == a)
                    || added.iter().any(|x: &HeldAccount| &x.account_id == a);
                let status = match tx.fit(a, corpus) {
                    Some(s) => s,
                    None if already => HeldStatus::AlreadyHeld,
                    None => {
                        added.push(HeldAccount { account_id: a.clone(), hold_time: now.clone() });
                        HeldStatus::Added
                    }
                };
                statuses.push(AccountStatus { account: a.clone(), status });
            }
            let n = added.len();
            let h = &mut tx.matter_file_mut(id)?.holds[i];
            if n > 0 {
                h.accounts.extend(added);
                h.update_time = now;
            }
            tx.touch();
            Ok((statuses.clone(), json!({"added": n, "statuses": statuses})))
        })
    }

    /// Take accounts off an accounts hold, in one batch: a status per account, in request order.
    pub fn remove_held_accounts(
        &mut self,
        actor: &Account,
        id: &MatterId,
        hold: &str,
        accounts: &[Account],
    ) -> Result<Vec<AccountStatus>, GovernanceError> {
        let params = json!({"holdId": hold, "accounts": accounts});
        self.act(actor, "hold.remove-accounts", Some(id), params, |tx| {
            tx.allowed(actor, id, MatterAction::Holds)?;
            let i = tx.accounts_hold_index(id, hold)?;
            let now = time::iso_utc(tx.now()).unwrap_or_default();
            let h = &mut tx.matter_file_mut(id)?.holds[i];
            let mut statuses = Vec::with_capacity(accounts.len());
            for a in accounts {
                let before = h.accounts.len();
                h.accounts.retain(|x| &x.account_id != a);
                let status = if h.accounts.len() < before {
                    HeldStatus::Removed
                } else {
                    HeldStatus::NotHeld
                };
                statuses.push(AccountStatus { account: a.clone(), status });
            }
            let n = statuses.iter().filter(|s| s.status == HeldStatus::Removed).count();
            if n > 0 {
                h.update_time = now;
            }
            tx.touch();
            Ok((statuses.clone(), json!({"removed": n, "statuses": statuses})))
        })
    }

    /// Delete a hold: what it kept is no longer kept by it.
    pub fn delete_hold(
        &mut self,
        actor: &Account,
        id: &MatterId,
        hold: &str,
    ) -> Result<Hold, GovernanceError> {
        self.act(actor, "hold.delete", Some(id), json!({"holdId": hold}), |tx| {
            tx.allowed(actor, id, MatterAction::Holds)?;
            let i = tx.hold_index(id, hold)?;
            let h = tx.matter_file_mut(id)?.holds.remove(i);
            tx.touch();
            Ok((h, json!({})))
        })
    }
}
