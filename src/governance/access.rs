//! Who may do what: every action names an actor, and each check that fails is a refusal naming
//! its [`Rule`], logged like any other outcome.
//!
//! - The actor must be a user or service account of the imported organisation
//!   ([`Rule::OrgImportedFirst`], [`Rule::ActorInOrg`]).
//! - Administrators import the organisation, create matters and read the whole audit log
//!   ([`Rule::AdminOnly`]); being an administrator gives no access inside a matter.
//! - Inside a matter only its owner and collaborators act, and see it at all
//!   ([`Rule::MatterMembersOnly`]); changing who they are, deleting and undeleting are the
//!   owner's ([`Rule::OwnerOnly`]). A permission removed is gone for the next action.
//! - What a matter's state allows is the table in [`super::matter::MatterState::after`]
//!   ([`Rule::MatterState`]).

use super::matter::{MatterAction, MatterFile, MatterId, Role};
use super::org::{AccountType, OrgAccount};
use super::state::Tx;
use super::{GovernanceError, Rule};
use crate::model::Account;
use serde_json::{Value, json};

/// What an action needs of the actor inside a matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// Owner or collaborator.
    Member,
    /// Owner.
    Owner,
}

impl Tx {
    /// The actor, checked to be a user or service account of the organisation.
    pub(crate) fn actor(&self, actor: &Account) -> Result<&OrgAccount, GovernanceError> {
        let Some(org) = self.org() else {
            return Err(self.refuse(
                Rule::OrgImportedFirst,
                "no organisation has been imported (ediscovery org import)",
            ));
        };
        match org.get(actor) {
            Some(a) if matches!(a.kind, AccountType::User | AccountType::ServiceAccount) => Ok(a),
            Some(a) => Err(self.refuse(
                Rule::ActorInOrg,
                format!("{actor} is a {} account, which cannot act", a.kind.as_str()),
            )),
            None => Err(self.refuse(
                Rule::ActorInOrg,
                format!("{actor} is not an account of the organisation"),
            )),
        }
    }

    /// The actor, checked to be an administrator.
    pub(crate) fn admin(&self, actor: &Account) -> Result<(), GovernanceError> {
        if self.actor(actor)?.admin {
            Ok(())
        } else {
            Err(self.refuse(Rule::AdminOnly, format!("{actor} is not an administrator")))
        }
    }

    /// The matter, checked that the actor may take `action` in it: a known actor, a member (or
    /// the owner), and a state that allows the action.
    pub(crate) fn allowed(
        &self,
        actor: &Account,
        id: &MatterId,
        action: MatterAction,
    ) -> Result<&MatterFile, GovernanceError> {
        self.actor(actor)?;
        let m = self.matter_file(id)?;
        let need = action.needs();
        match (m.matter.role_of(actor), need) {
            (None, _) => {
                return Err(self.refuse(
                    Rule::MatterMembersOnly,
                    format!("{actor} is neither the owner nor a collaborator of matter {id}"),
                ));
            }
            (Some(Role::Collaborator), Need::Owner) => {
                return Err(self.refuse(
                    Rule::OwnerOnly,
                    format!(
                        "{} in matter {id} is for its owner; {actor} is a collaborator",
                        action.name()
                    ),
                ));
            }
            _ => {}
        }
        if m.matter.state.after(action).is_none() {
            return Err(self.refuse(
                Rule::MatterState,
                format!(
                    "{} is not allowed in a {} matter ({id})",
                    action.name(),
                    m.matter.state.as_str()
                ),
            ));
        }
        Ok(m)
    }

    /// Check that the actor may take `action` in the matter, without taking it (a dry run, a
    /// plan): logged only when refused.
    pub fn authorize(
        &mut self,
        actor: &Account,
        id: &MatterId,
        action: MatterAction,
    ) -> Result<(), GovernanceError> {
        let params = json!({"action": action.name()});
        self.read(actor, "matter.authorize", Some(id), params, |tx| {
            tx.allowed(actor, id, action).map(|_| ())
        })
    }

    /// Run an action and log it, whatever it returns: `f` gives the result and the outcome to
    /// log; an error is logged as refused (with its rule) or failed. The state changes `f` made
    /// are kept only when it succeeds: a failed action changes nothing.
    pub(crate) fn act<T>(
        &mut self,
        actor: &Account,
        action: &str,
        matter: Option<&MatterId>,
        parameters: Value,
        f: impl FnOnce(&mut Tx) -> Result<(T, Value), GovernanceError>,
    ) -> Result<T, GovernanceError> {
        let before = self.state.clone();
        match f(self) {
            Ok((t, mut outcome)) => {
                if let Value::Object(o) = &mut outcome {
                    o.insert("status".to_owned(), json!("ok"));
                } else {
                    outcome = json!({"status": "ok", "result": outcome});
                }
                self.log(actor, action, matter, parameters, outcome)?;
                Ok(t)
            }
            Err(e) => {
                self.state = before;
                self.log(actor, action, matter, parameters, failure(&e))?;
                Err(e)
            }
        }
    }

    /// Run a read: logged only when refused or failed (a read changes nothing, and a log of
    /// every look would drown the actions).
    pub(crate) fn read<T>(
        &mut self,
        actor: &Account,
        action: &str,
        matter: Option<&MatterId>,
        parameters: Value,
        f: impl FnOnce(&Tx) -> Result<T, GovernanceError>,
    ) -> Result<T, GovernanceError> {
        match f(self) {
            Ok(t) => Ok(t),
            Err(e) => {
                self.log(actor, action, matter, parameters, failure(&e))?;
                Err(e)
            }
        }
    }
}

/// The logged outcome of an error.
pub(crate) fn failure(e: &GovernanceError) -> Value {
    match e {
        GovernanceError::Refused { rule, reason } => {
            json!({"status": "refused", "rule": rule.code(), "reason": reason})
        }
        other => json!({"status": "failed", "error": other.to_string()}),
    }
}
