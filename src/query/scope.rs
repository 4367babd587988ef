//! Where a search looks. The scope is never query text: it travels as this value and the index
//! ANDs it in as a mandatory filter, so nothing typed in a query can reach outside it.

use crate::model::time::{self, CivilDay};
use crate::model::{Account, Corpus, OrgUnit};

/// Whose data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// These accounts (for groups: group addresses).
    Accounts(Vec<Account>),
    /// Every account in this org unit and below.
    OrgUnit(OrgUnit),
    /// Everyone.
    EntireOrg,
}

/// A search scope, like the Vault API's `Query` minus its `terms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Which corpus.
    pub corpus: Corpus,
    /// Whose data.
    pub method: Method,
    /// First day included, in `time_zone`.
    pub start: Option<CivilDay>,
    /// Last day included, in `time_zone`.
    pub end: Option<CivilDay>,
    /// IANA time zone for the day boundaries and `after:`/`before:` dates.
    pub time_zone: String,
    /// Leave drafts out (mail).
    pub exclude_drafts: bool,
    /// Reproduce Vault's mail boundaries: Gmail send times are rounded to the hour, so Vault's
    /// range runs from 23:30 the day before `start` to 00:30 the day after `end`.
    pub vault_rounding: bool,
}

impl Scope {
    /// Everything of `corpus` in the whole organisation, UTC days.
    pub fn entire_org(corpus: Corpus) -> Scope {
        Scope {
            corpus,
            method: Method::EntireOrg,
            start: None,
            end: None,
            time_zone: "UTC".to_owned(),
            exclude_drafts: false,
            vault_rounding: false,
        }
    }

    /// These accounts' `corpus`, UTC days.
    pub fn accounts(corpus: Corpus, accounts: Vec<Account>) -> Scope {
        Scope { method: Method::Accounts(accounts), ..Scope::entire_org(corpus) }
    }

    /// The effective UTC bounds `[from, to)` in seconds.
    pub fn bounds(&self) -> Result<(Option<i64>, Option<i64>), ScopeError> {
        let zone = self.zone()?;
        let round = if self.vault_rounding && matches!(self.corpus, Corpus::Mail | Corpus::Groups) {
            30 * 60
        } else {
            0
        };
        let from = match self.start {
            Some(d) => Some(time::day_start(d, &zone).ok_or(ScopeError::BadDay(d))? - round),
            None => None,
        };
        let to = match self.end {
            Some(d) => {
                let next = d.next().ok_or(ScopeError::BadDay(d))?;
                Some(time::day_start(next, &zone).ok_or(ScopeError::BadDay(d))? + round)
            }
            None => None,
        };
        if let (Some(a), Some(b)) = (from, to)
            && a >= b
        {
            return Err(ScopeError::EmptyRange);
        }
        if let Method::Accounts(a) = &self.method
            && a.is_empty()
        {
            return Err(ScopeError::NoAccounts);
        }
        Ok((from, to))
    }

    /// The scope's time zone.
    pub fn zone(&self) -> Result<time::Zone, ScopeError> {
        time::zone(&self.time_zone)
            .ok_or_else(|| ScopeError::UnknownTimeZone(self.time_zone.clone()))
    }
}

/// A scope that cannot be searched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// Not an IANA time zone name.
    #[error("unknown time zone {0:?} (use an IANA name such as America/New_York)")]
    UnknownTimeZone(String),
    /// The end day is before the start day.
    #[error("the date range is empty: the end is before the start")]
    EmptyRange,
    /// An account search with no accounts.
    #[error("an account search needs at least one account")]
    NoAccounts,
    /// A day that cannot be placed in the time zone.
    #[error("day {0} cannot be placed in the time zone")]
    BadDay(CivilDay),
}
