//! The scope flags search and export share. They become a [`ScopeSpec`] as typed; the library
//! checks it and turns it into a `Scope` (search) or a Vault request (export), the same way.

use clap::Args;
use ediscovery::model::Corpus;
use ediscovery::query::{CorpusOptions, ScopeError, ScopeSpec};

#[derive(Args)]
pub struct ScopeArgs {
    /// mail, groups, chat, drive or voice.
    #[arg(long, default_value = "mail")]
    corpus: String,
    /// Comma-separated accounts.
    #[arg(long, value_delimiter = ',', group = "method")]
    accounts: Vec<String>,
    /// An org unit path: its accounts and those below.
    #[arg(long, group = "method")]
    org_unit: Option<String>,
    /// The whole organisation (the default when no accounts or org unit are given).
    #[arg(long, group = "method")]
    entire_org: bool,
    /// First day included (YYYY-MM-DD), in --time-zone.
    #[arg(long)]
    start: Option<String>,
    /// Last day included (YYYY-MM-DD), in --time-zone.
    #[arg(long)]
    end: Option<String>,
    /// IANA time zone for day boundaries and after:/before: dates.
    #[arg(long, default_value = "UTC")]
    time_zone: String,
    /// Leave drafts out.
    #[arg(long)]
    exclude_drafts: bool,
    /// Reproduce Vault's ±30-minute mail day boundaries.
    #[arg(long)]
    vault_rounding: bool,
    /// all, or held: only what holds of open matters keep (needs --matter).
    #[arg(long, default_value = "all", requires = "matter")]
    data_scope: String,
    /// Drive: leave out files in shared drives (Vault's includeSharedDrives off).
    #[arg(long)]
    exclude_shared_drives: bool,
    /// Chat: leave out rooms (named spaces and group chats since Dec 2020; Vault's includeRooms
    /// off).
    #[arg(long)]
    exclude_rooms: bool,
    /// Voice: comma-separated covered data: texts, voicemails, call-logs (default: all).
    #[arg(long, value_delimiter = ',')]
    voice_data: Vec<String>,
    /// Chat: only these spaces (comma-separated space ids, e.g. spaces/AAAA1234).
    #[arg(long, value_delimiter = ',')]
    rooms: Vec<String>,
}

impl ScopeArgs {
    /// The corpus options (shared drives, rooms, Voice data), checked against `corpus`.
    pub fn options(&self, corpus: Corpus) -> Result<CorpusOptions, ScopeError> {
        CorpusOptions::from_flags(
            corpus,
            self.exclude_shared_drives,
            self.exclude_rooms,
            &self.voice_data,
            &self.rooms,
        )
    }

    /// The flags as typed; `ScopeSpec::to_scope` and `ExportRequest::from_spec` check them.
    pub fn spec(&self) -> ScopeSpec {
        ScopeSpec {
            corpus: self.corpus.clone(),
            accounts: self.accounts.clone(),
            org_unit: self.org_unit.clone(),
            entire_org: self.entire_org,
            start: self.start.clone(),
            end: self.end.clone(),
            time_zone: self.time_zone.clone(),
            exclude_drafts: self.exclude_drafts,
            vault_rounding: self.vault_rounding,
            data_scope: self.data_scope.clone(),
        }
    }
}
