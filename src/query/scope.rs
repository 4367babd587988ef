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

/// Which data a search looks at, as Vault's `dataScope`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataScope {
    /// Every record (`ALL_DATA`).
    #[default]
    All,
    /// Only records a hold of an open matter keeps (`HELD_DATA`). The scope only says so: which
    /// records those are is resolved by the governance layer and handed to the search as a
    /// [`crate::search::HeldSet`]; a search without one refuses, never falling back to all data.
    Held,
}

impl DataScope {
    /// Vault's name: `ALL_DATA`, `HELD_DATA`.
    pub fn vault_name(self) -> &'static str {
        match self {
            DataScope::All => "ALL_DATA",
            DataScope::Held => "HELD_DATA",
        }
    }
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
    /// All data, or only held data.
    pub data_scope: DataScope,
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
            data_scope: DataScope::All,
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

/// Voice data a search covers (Vault's `coveredData`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VoiceData {
    /// Text conversations (`TEXT_MESSAGES`).
    Texts,
    /// Voicemails (`VOICEMAILS`).
    Voicemails,
    /// Calls: incoming, outgoing, missed (`CALL_LOGS`).
    CallLogs,
}

impl VoiceData {
    /// Every kind, in Vault's order.
    pub const ALL: [VoiceData; 3] = [VoiceData::Texts, VoiceData::Voicemails, VoiceData::CallLogs];

    /// Vault's name.
    pub fn vault_name(self) -> &'static str {
        match self {
            VoiceData::Texts => "TEXT_MESSAGES",
            VoiceData::Voicemails => "VOICEMAILS",
            VoiceData::CallLogs => "CALL_LOGS",
        }
    }

    /// `texts`, `voicemails`, `call-logs` (or Vault's names), any case.
    pub fn parse(s: &str) -> Option<VoiceData> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "texts" | "text_messages" | "text" => Some(VoiceData::Texts),
            "voicemails" | "voicemail" => Some(VoiceData::Voicemails),
            "call_logs" | "calls" | "call_log" => Some(VoiceData::CallLogs),
            _ => None,
        }
    }
}

/// The corpus-specific options of a search, as Vault's `driveOptions`, `hangoutsChatOptions` and
/// `voiceOptions`. A separate value from [`Scope`] (which every corpus shares) and carried by the
/// search request; like the scope, never query text, and ANDed in as a filter.
///
/// The defaults include everything (shared drives, rooms, all Voice data), unlike the Vault API's
/// `false` defaults: a caller that does not know of an option must not lose records silently.
/// An option that is not at its default on a search of another corpus is an error, not ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusOptions {
    /// Drive: include files in shared drives (`includeSharedDrives`).
    pub include_shared_drives: bool,
    /// Chat: include rooms — named spaces and group chats made since December 2020
    /// (`includeRooms`); direct messages are always included.
    pub include_rooms: bool,
    /// Voice: what data is covered (`coveredData`); empty means all three.
    pub voice_data: Vec<VoiceData>,
    /// Chat: only these spaces (space ids as `RoomID`, e.g. `spaces/AAAA1234`); empty means
    /// every space of the accounts searched. Vault's search by rooms.
    pub rooms: Vec<String>,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            include_shared_drives: true,
            include_rooms: true,
            voice_data: Vec::new(),
            rooms: Vec::new(),
        }
    }
}

impl CorpusOptions {
    /// The options from the command line's flags (`--exclude-shared-drives`, `--exclude-rooms`,
    /// `--voice-data texts,voicemails,call-logs`, `--rooms ID,…`), checked against `corpus`.
    pub fn from_flags(
        corpus: Corpus,
        exclude_shared_drives: bool,
        exclude_rooms: bool,
        voice_data: &[String],
        rooms: &[String],
    ) -> Result<CorpusOptions, ScopeError> {
        let voice_data = voice_data
            .iter()
            .map(|v| {
                VoiceData::parse(v).ok_or_else(|| ScopeError::BadFlag {
                    flag: "--voice-data",
                    value: v.clone(),
                    expected: "use texts, voicemails or call-logs".to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(r) = rooms.iter().find(|r| r.trim().is_empty()) {
            return Err(ScopeError::BadFlag {
                flag: "--rooms",
                value: r.clone(),
                expected: "space ids such as spaces/AAAA1234".to_owned(),
            });
        }
        let o = CorpusOptions {
            include_shared_drives: !exclude_shared_drives,
            include_rooms: !exclude_rooms,
            voice_data,
            rooms: rooms.iter().map(|r| r.trim().to_owned()).collect(),
        };
        o.check(corpus)?;
        Ok(o)
    }

    /// An option set for another corpus than `corpus` is an error naming its flag.
    pub fn check(&self, corpus: Corpus) -> Result<(), ScopeError> {
        let wrong = |flag: &'static str, for_corpus: &str| ScopeError::BadFlag {
            flag,
            value: corpus.as_str().to_owned(),
            expected: format!("only for --corpus {for_corpus}"),
        };
        if !self.include_shared_drives && corpus != Corpus::Drive {
            return Err(wrong("--exclude-shared-drives", "drive"));
        }
        if !self.include_rooms && corpus != Corpus::Chat {
            return Err(wrong("--exclude-rooms", "chat"));
        }
        if !self.voice_data.is_empty() && corpus != Corpus::Voice {
            return Err(wrong("--voice-data", "voice"));
        }
        if !self.rooms.is_empty() && corpus != Corpus::Chat {
            return Err(wrong("--rooms", "chat"));
        }
        Ok(())
    }

    /// The Voice data covered: the listed kinds, or all three.
    pub fn voice_covered(&self) -> Vec<VoiceData> {
        if self.voice_data.is_empty() { VoiceData::ALL.to_vec() } else { self.voice_data.clone() }
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
    /// A [`ScopeSpec`] field (named by its flag) with a value it does not take.
    #[error("{flag} {value}: {expected}")]
    BadFlag {
        /// The flag, e.g. `--start`.
        flag: &'static str,
        /// What was typed.
        value: String,
        /// What the flag takes, or why the value is wrong.
        expected: String,
    },
    /// More than one of `--accounts`, `--org-unit`, `--entire-org`.
    #[error("give only one of --accounts, --org-unit, --entire-org")]
    SeveralMethods,
}

/// A scope as typed: the command line's scope flags (or another front end's form fields) as
/// strings, nothing checked yet. [`ScopeSpec::to_scope`] is the one translation to a [`Scope`];
/// `export::ExportRequest::from_spec` builds the Vault-shaped request from the same spec, so a
/// search and an export given the same flags look at the same records. Each field is named after
/// its flag, and errors name the flag (`--start 2023-13-01: …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeSpec {
    /// `--corpus`: `mail`, `groups`, `chat`, `drive` or `voice`.
    pub corpus: String,
    /// `--accounts`: account addresses (for groups, group addresses).
    pub accounts: Vec<String>,
    /// `--org-unit`: an org unit path; its accounts and those below.
    pub org_unit: Option<String>,
    /// `--entire-org`: the whole organisation (also what no method at all means).
    pub entire_org: bool,
    /// `--start`: first day included, `YYYY-MM-DD` (or `YYYY/MM/DD`) in `time_zone`.
    pub start: Option<String>,
    /// `--end`: last day included, in `time_zone`.
    pub end: Option<String>,
    /// `--time-zone`: an IANA name.
    pub time_zone: String,
    /// `--exclude-drafts`.
    pub exclude_drafts: bool,
    /// `--vault-rounding`: Vault's ±30-minute mail day boundaries.
    pub vault_rounding: bool,
    /// `--data-scope`: `all` (the default) or `held`.
    pub data_scope: String,
}

impl Default for ScopeSpec {
    /// All mail of the whole organisation, UTC days (the flags' defaults).
    fn default() -> Self {
        ScopeSpec {
            corpus: "mail".to_owned(),
            accounts: Vec::new(),
            org_unit: None,
            entire_org: false,
            start: None,
            end: None,
            time_zone: "UTC".to_owned(),
            exclude_drafts: false,
            vault_rounding: false,
            data_scope: "all".to_owned(),
        }
    }
}

impl ScopeSpec {
    /// The typed scope, every field checked: the corpus, each account, the days, the time zone,
    /// at most one method, and a range that is not empty.
    pub fn to_scope(&self) -> Result<Scope, ScopeError> {
        let bad = |flag: &'static str, value: &str, expected: String| ScopeError::BadFlag {
            flag,
            value: value.to_owned(),
            expected,
        };
        let corpus = Corpus::parse(&self.corpus).ok_or_else(|| {
            bad("--corpus", &self.corpus, "use mail, groups, chat, drive or voice".to_owned())
        })?;
        let methods = usize::from(!self.accounts.is_empty())
            + usize::from(self.org_unit.is_some())
            + usize::from(self.entire_org);
        if methods > 1 {
            return Err(ScopeError::SeveralMethods);
        }
        let method = if let Some(ou) = &self.org_unit {
            Method::OrgUnit(OrgUnit::new(ou))
        } else if !self.accounts.is_empty() {
            Method::Accounts(
                self.accounts
                    .iter()
                    .map(|s| Account::new(s).map_err(|e| bad("--accounts", s, e.to_string())))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            Method::EntireOrg
        };
        let day = |s: &Option<String>, flag: &'static str| {
            s.as_deref()
                .map(|d| {
                    CivilDay::parse(d)
                        .ok_or_else(|| bad(flag, d, "not a day (use YYYY-MM-DD)".to_owned()))
                })
                .transpose()
        };
        let scope = Scope {
            corpus,
            method,
            start: day(&self.start, "--start")?,
            end: day(&self.end, "--end")?,
            time_zone: self.time_zone.clone(),
            exclude_drafts: self.exclude_drafts,
            vault_rounding: self.vault_rounding,
            data_scope: match self.data_scope.to_ascii_lowercase().as_str() {
                "all" | "all_data" => DataScope::All,
                "held" | "held_data" => DataScope::Held,
                _ => {
                    return Err(bad(
                        "--data-scope",
                        &self.data_scope,
                        "use all or held".to_owned(),
                    ));
                }
            },
        };
        scope.zone().map_err(|_| {
            bad(
                "--time-zone",
                &self.time_zone,
                "not an IANA time zone name (such as America/New_York)".to_owned(),
            )
        })?;
        scope.bounds()?;
        Ok(scope)
    }
}
