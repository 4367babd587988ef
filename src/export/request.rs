//! The export request, shaped like the Vault API's `Export` resource (camelCase JSON), plus our
//! own options.

use crate::format::zip::Compression;
use crate::model::time::CivilDay;
use crate::model::{Account, Corpus, OrgUnit};
use crate::query::{Method, Scope};
use serde::{Deserialize, Serialize};

/// An export request (`ediscovery export --request FILE.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// Export name: every file starts with it.
    pub name: String,
    /// What to search.
    pub query: VaultQuery,
    /// Format options.
    #[serde(default)]
    pub export_options: ExportOptions,
    /// Options of this implementation.
    #[serde(default)]
    pub ediscovery: Options,
}

/// Vault's `Query`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultQuery {
    /// `MAIL`, `GROUPS` (exportable today), `HANGOUTS_CHAT`, `DRIVE`, `VOICE`.
    pub corpus: String,
    /// `ALL_DATA` (default); `HELD_DATA` needs holds (not yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_scope: Option<String>,
    /// `ACCOUNT`, `ORG_UNIT`, `ENTIRE_ORG`.
    #[serde(default, alias = "method")]
    pub search_method: String,
    /// For `ACCOUNT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_info: Option<AccountInfo>,
    /// For `ORG_UNIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_unit_info: Option<OrgUnitInfo>,
    /// The Vault query text.
    #[serde(default)]
    pub terms: String,
    /// First day (its date part, `YYYY-MM-DD…`, in `timeZone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Last day included (its date part, in `timeZone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Mail options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_options: Option<MailQueryOptions>,
}

/// `accountInfo`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Account addresses.
    pub emails: Vec<String>,
}

/// `orgUnitInfo`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgUnitInfo {
    /// The org unit path (we use paths as ids).
    pub org_unit_id: String,
}

/// `mailOptions` of a query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailQueryOptions {
    /// Leave drafts out.
    #[serde(default)]
    pub exclude_drafts: bool,
}

/// `exportOptions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportOptions {
    /// `mailOptions.exportFormat` (also used for groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_options: Option<MailExportOptions>,
}

/// `exportOptions.mailOptions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailExportOptions {
    /// `MBOX` (default) or `PST` (not supported yet).
    #[serde(default)]
    pub export_format: Option<String>,
}

/// Options of this implementation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// `deflate` (default) or `store`.
    pub compression: Compression,
    /// An account's mbox continues in a new zip past this many bytes (Vault: 10 GB).
    pub split_size: u64,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Vault's ±30-minute mail day boundaries.
    #[serde(default)]
    pub vault_rounding: bool,
    /// Line endings of the exported messages: `original` (byte-exact, the default) or `crlf`.
    #[serde(default)]
    pub line_endings: LineEndings,
    /// Prefix CSV cells that a spreadsheet would run as a formula with `'` (the default: people
    /// open these files in spreadsheets); off for machine pipelines, which read the `'` as data.
    /// The XML is never guarded.
    #[serde(default = "yes")]
    pub csv_formula_guard: bool,
}

fn yes() -> bool {
    true
}

/// Line endings of exported messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEndings {
    /// The bytes as ingested.
    #[default]
    Original,
    /// Every bare LF becomes CRLF, as in Gmail's own exports (tools such as got-your-back expect
    /// it). `FileSize` and `Hash` then describe the exported bytes; the ingest-time MD5 is kept
    /// in the `IngestHash` tag and column.
    Crlf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compression: Compression::Deflate,
            split_size: 10_000_000_000,
            threads: 0,
            vault_rounding: false,
            line_endings: LineEndings::Original,
            csv_formula_guard: true,
        }
    }
}

impl ExportRequest {
    /// Read a request from JSON, refusing one nested deeper than `limits.json_depth` before any
    /// parser sees it.
    pub fn from_json(bytes: &[u8], limits: &crate::Limits) -> Result<ExportRequest, RequestError> {
        crate::check_json_depth(bytes, limits.json_depth)
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        serde_json::from_slice(bytes).map_err(|e| RequestError::Invalid(e.to_string()))
    }
}

/// A request that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Something in the request is wrong.
    #[error("export request: {0}")]
    Invalid(String),
    /// Something valid that this version cannot do yet.
    #[error("export request: {0} is not supported yet")]
    NotSupported(String),
}

impl ExportRequest {
    /// The corpus, checked exportable.
    pub fn corpus(&self) -> Result<Corpus, RequestError> {
        match self.query.corpus.to_ascii_uppercase().as_str() {
            "MAIL" => Ok(Corpus::Mail),
            "GROUPS" => Ok(Corpus::Groups),
            "HANGOUTS_CHAT" | "DRIVE" | "VOICE" => {
                Err(RequestError::NotSupported(format!("exporting corpus {}", self.query.corpus)))
            }
            other => Err(RequestError::Invalid(format!("unknown corpus {other:?}"))),
        }
    }

    /// Check what this version cannot do and build the search scope.
    pub fn scope(&self) -> Result<Scope, RequestError> {
        let corpus = self.corpus()?;
        if let Some(f) =
            self.export_options.mail_options.as_ref().and_then(|m| m.export_format.as_deref())
            && !f.eq_ignore_ascii_case("MBOX")
        {
            return Err(if f.eq_ignore_ascii_case("PST") {
                RequestError::NotSupported("exportFormat PST".into())
            } else {
                RequestError::Invalid(format!("exportFormat {f:?} (use MBOX)"))
            });
        }
        match self.query.data_scope.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ALL_DATA") | Some("DATA_SCOPE_UNSPECIFIED") => {}
            Some("HELD_DATA") => {
                return Err(RequestError::NotSupported("dataScope HELD_DATA (holds)".into()));
            }
            Some(other) => return Err(RequestError::NotSupported(format!("dataScope {other}"))),
        }
        let method = match self.query.search_method.to_ascii_uppercase().as_str() {
            "ACCOUNT" => {
                let emails =
                    self.query.account_info.as_ref().map(|a| a.emails.clone()).unwrap_or_default();
                let accounts = emails
                    .iter()
                    .map(|e| Account::new(e).map_err(|e| RequestError::Invalid(e.to_string())))
                    .collect::<Result<Vec<_>, _>>()?;
                Method::Accounts(accounts)
            }
            "ORG_UNIT" => {
                let ou =
                    self.query.org_unit_info.as_ref().ok_or_else(|| {
                        RequestError::Invalid("ORG_UNIT needs orgUnitInfo".into())
                    })?;
                Method::OrgUnit(OrgUnit::new(&ou.org_unit_id))
            }
            "ENTIRE_ORG" => Method::EntireOrg,
            other => {
                return Err(RequestError::Invalid(format!(
                    "searchMethod {other:?} (use ACCOUNT, ORG_UNIT or ENTIRE_ORG)"
                )));
            }
        };
        let day = |s: &Option<String>, what: &str| -> Result<Option<CivilDay>, RequestError> {
            s.as_deref()
                .map(|t| {
                    CivilDay::parse(t.get(..10).unwrap_or(t)).ok_or_else(|| {
                        RequestError::Invalid(format!("{what} {t:?}: expected YYYY-MM-DD…"))
                    })
                })
                .transpose()
        };
        Ok(Scope {
            corpus,
            method,
            start: day(&self.query.start_time, "startTime")?,
            end: day(&self.query.end_time, "endTime")?,
            time_zone: self.query.time_zone.clone().unwrap_or_else(|| "UTC".to_owned()),
            exclude_drafts: self.query.mail_options.as_ref().is_some_and(|m| m.exclude_drafts),
            vault_rounding: self.ediscovery.vault_rounding,
        })
    }
}
