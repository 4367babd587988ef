//! The export request, shaped like the Vault API's `Export` resource (camelCase JSON), plus our
//! own options.

use crate::format::zip::Compression;
use crate::model::time::CivilDay;
use crate::model::{Account, Corpus, OrgUnit};
use crate::query::{DataScope, Method, Scope, ScopeError, ScopeSpec};
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
    /// `ALL_DATA` (default) or `HELD_DATA` (only what holds keep: the governance layer resolves
    /// which records those are and hands the search a held set).
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
    /// `driveOptions` (Drive exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_options: Option<DriveExportOptions>,
}

/// `exportOptions.driveOptions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveExportOptions {
    /// `includeAccessInfo`: sort users with indirect access (through a group, the domain or a
    /// public link) into `Collaborators` and `Viewers` by their role; off (Vault's default) puts
    /// them all in `Others`.
    #[serde(default)]
    pub include_access_info: bool,
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
    /// Check each message read from the store against its ingest-time MD5 (a second MD5 pass
    /// over every exported byte) instead of the CRC-32 recorded with it. Blobs stored before
    /// CRCs were recorded are always checked by MD5. Either way `verify` re-hashes the output.
    #[serde(default)]
    pub recheck_md5: bool,
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
            recheck_md5: false,
        }
    }
}

impl VaultQuery {
    /// The Vault query for `scope` and the query text `terms`: the inverse of
    /// [`ExportRequest::scope`] (which also needs `vault_rounding`, an option of ours, not of the
    /// query). Days are written `YYYY-MM-DD`, accounts and org units as normalised.
    pub fn from_scope(scope: &Scope, terms: &str) -> VaultQuery {
        let (search_method, account_info, org_unit_info) = match &scope.method {
            Method::Accounts(a) => (
                "ACCOUNT",
                Some(AccountInfo { emails: a.iter().map(|a| a.as_str().to_owned()).collect() }),
                None,
            ),
            Method::OrgUnit(ou) => {
                ("ORG_UNIT", None, Some(OrgUnitInfo { org_unit_id: ou.as_str().to_owned() }))
            }
            Method::EntireOrg => ("ENTIRE_ORG", None, None),
        };
        VaultQuery {
            corpus: vault_corpus(scope.corpus).to_owned(),
            // ALL_DATA is the default and left out, so requests written before data scopes
            // existed read and write the same.
            data_scope: (scope.data_scope != DataScope::All)
                .then(|| scope.data_scope.vault_name().to_owned()),
            search_method: search_method.to_owned(),
            account_info,
            org_unit_info,
            terms: terms.to_owned(),
            start_time: scope.start.map(|d| d.to_string()),
            end_time: scope.end.map(|d| d.to_string()),
            time_zone: Some(scope.time_zone.clone()),
            mail_options: Some(MailQueryOptions { exclude_drafts: scope.exclude_drafts }),
        }
    }
}

/// Vault's name of a corpus (`corpus` in its `Query`).
pub fn vault_corpus(corpus: Corpus) -> &'static str {
    match corpus {
        Corpus::Mail => "MAIL",
        Corpus::Groups => "GROUPS",
        Corpus::Chat => "HANGOUTS_CHAT",
        Corpus::Drive => "DRIVE",
        Corpus::Voice => "VOICE",
    }
}

impl ExportRequest {
    /// The request the scope flags `spec` and the query `terms` describe, named `name`, with
    /// default export options. The spec is checked as [`ScopeSpec::to_scope`] checks it (errors
    /// name the flag), and the request's [`scope`](ExportRequest::scope) is that same scope.
    pub fn from_spec(
        name: &str,
        spec: &ScopeSpec,
        terms: &str,
    ) -> Result<ExportRequest, ScopeError> {
        let scope = spec.to_scope()?;
        Ok(ExportRequest {
            name: name.to_owned(),
            query: VaultQuery::from_scope(&scope, terms),
            export_options: ExportOptions::default(),
            ediscovery: Options { vault_rounding: scope.vault_rounding, ..Options::default() },
        })
    }

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
            "HANGOUTS_CHAT" => Ok(Corpus::Chat),
            "DRIVE" => Ok(Corpus::Drive),
            "VOICE" => Ok(Corpus::Voice),
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
        let data_scope =
            match self.query.data_scope.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None | Some("ALL_DATA") | Some("DATA_SCOPE_UNSPECIFIED") => DataScope::All,
                Some("HELD_DATA") => DataScope::Held,
                Some(other) => {
                    return Err(RequestError::NotSupported(format!("dataScope {other}")));
                }
            };
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
            data_scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ScopeSpec {
        ScopeSpec::default()
    }

    /// A spec gives the same scope directly and through the Vault request it builds.
    fn same_both_ways(spec: &ScopeSpec) -> Scope {
        let direct = spec.to_scope().unwrap();
        let req = ExportRequest::from_spec("N", spec, "subject:x").unwrap();
        assert_eq!(req.query.terms, "subject:x");
        assert_eq!(req.scope().unwrap(), direct, "{spec:?} → {req:?}");
        // And through the request's JSON, as `export --request` reads it back.
        let json = serde_json::to_vec(&req).unwrap();
        let back = ExportRequest::from_json(&json, &crate::Limits::default()).unwrap();
        assert_eq!(back.scope().unwrap(), direct);
        direct
    }

    #[test]
    fn spec_to_scope_and_spec_to_request_to_scope_agree_for_every_method() {
        let s = same_both_ways(&spec());
        assert_eq!(s, Scope::entire_org(Corpus::Mail));
        let s = same_both_ways(&ScopeSpec { entire_org: true, ..spec() });
        assert_eq!(s.method, Method::EntireOrg);
        let s = same_both_ways(&ScopeSpec {
            accounts: vec!["Alice@Example.com".into(), "bob@example.com".into()],
            ..spec()
        });
        assert_eq!(
            s.method,
            Method::Accounts(vec![
                Account::new("alice@example.com").unwrap(),
                Account::new("bob@example.com").unwrap()
            ])
        );
        let s = same_both_ways(&ScopeSpec { org_unit: Some("Legal//EMEA/".into()), ..spec() });
        assert_eq!(s.method, Method::OrgUnit(OrgUnit::new("/Legal/EMEA")));
        let s = same_both_ways(&ScopeSpec {
            corpus: "groups".into(),
            accounts: vec!["team@example.com".into()],
            ..spec()
        });
        assert_eq!(s.corpus, Corpus::Groups);
    }

    #[test]
    fn spec_with_days_zone_drafts_and_rounding_agrees_both_ways() {
        for method in [
            ScopeSpec { entire_org: true, ..spec() },
            ScopeSpec { accounts: vec!["a@example.com".into()], ..spec() },
            ScopeSpec { org_unit: Some("/Sales".into()), ..spec() },
        ] {
            let full = ScopeSpec {
                start: Some("2023/03/06".into()),
                end: Some("2023-03-12".into()),
                time_zone: "America/New_York".into(),
                exclude_drafts: true,
                vault_rounding: true,
                ..method
            };
            let s = same_both_ways(&full);
            assert_eq!(s.start, CivilDay::new(2023, 3, 6));
            assert_eq!(s.end, CivilDay::new(2023, 3, 12));
            assert_eq!(s.time_zone, "America/New_York");
            assert!(s.exclude_drafts && s.vault_rounding);
            let req = ExportRequest::from_spec("N", &full, "").unwrap();
            assert_eq!(req.query.start_time.as_deref(), Some("2023-03-06"));
            assert!(req.ediscovery.vault_rounding);
            let only_start = ScopeSpec { end: None, ..full.clone() };
            same_both_ways(&only_start);
        }
    }

    #[test]
    fn spec_errors_name_the_flag() {
        let err = |s: ScopeSpec| s.to_scope().unwrap_err().to_string();
        assert!(err(ScopeSpec { corpus: "mial".into(), ..spec() }).starts_with("--corpus mial: "));
        assert!(
            err(ScopeSpec { accounts: vec!["not an address".into()], ..spec() })
                .starts_with("--accounts not an address: not an account address")
        );
        assert!(
            err(ScopeSpec { start: Some("2023-02-29".into()), ..spec() })
                .starts_with("--start 2023-02-29: ")
        );
        assert!(err(ScopeSpec { end: Some("soon".into()), ..spec() }).starts_with("--end soon: "));
        assert!(
            err(ScopeSpec { time_zone: "Mars/Base".into(), ..spec() })
                .starts_with("--time-zone Mars/Base: not an IANA time zone")
        );
        assert_eq!(
            ScopeSpec { org_unit: Some("/".into()), entire_org: true, ..spec() }.to_scope(),
            Err(ScopeError::SeveralMethods)
        );
        assert_eq!(
            ScopeSpec {
                start: Some("2023-03-07".into()),
                end: Some("2023-03-06".into()),
                ..spec()
            }
            .to_scope(),
            Err(ScopeError::EmptyRange)
        );
        // The request builder refuses the same way, before any request exists.
        let bad = ScopeSpec { corpus: "mial".into(), ..spec() };
        assert_eq!(
            ExportRequest::from_spec("N", &bad, "").unwrap_err(),
            bad.to_scope().unwrap_err()
        );
    }

    #[test]
    fn held_data_scope_travels_through_the_request_and_other_scopes_are_refused() {
        let held = ScopeSpec { data_scope: "held".into(), ..spec() };
        let s = same_both_ways(&held);
        assert_eq!(s.data_scope, DataScope::Held);
        let req = ExportRequest::from_spec("N", &held, "").unwrap();
        assert_eq!(req.query.data_scope.as_deref(), Some("HELD_DATA"));
        // ALL_DATA is left out of the request, as before data scopes existed.
        let all = ExportRequest::from_spec("N", &spec(), "").unwrap();
        assert_eq!(all.query.data_scope, None);
        assert_eq!(all.scope().unwrap().data_scope, DataScope::All);
        let mut other = all.clone();
        other.query.data_scope = Some("UNPROCESSED_DATA".into());
        assert!(matches!(other.scope(), Err(RequestError::NotSupported(_))));
        let err = ScopeSpec { data_scope: "mine".into(), ..spec() }.to_scope().unwrap_err();
        assert!(err.to_string().starts_with("--data-scope mine: use all or held"), "{err}");
    }

    #[test]
    fn chat_drive_and_voice_are_exportable() {
        for (c, want) in
            [("chat", Corpus::Chat), ("drive", Corpus::Drive), ("voice", Corpus::Voice)]
        {
            let req = ExportRequest::from_spec("N", &ScopeSpec { corpus: c.into(), ..spec() }, "")
                .unwrap();
            assert_eq!(req.scope().unwrap().corpus, want, "{c}");
        }
    }
}
