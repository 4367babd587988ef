//! The organisation: who exists, where they sit, who administers.
//!
//! Imported from a CSV with the header `Account,OrgUnit,Type,Created,Admin` (as an admin console
//! exports its user list): `Type` is `USER`, `GROUP`, `SERVICE_ACCOUNT` or `CUSTOMER`, `Created`
//! an ISO-8601 instant or day, `Admin` `true` or `false`. Every error names the file and line.
//! Org-unit holds resolve their accounts from this list when they are evaluated, never when they
//! are created, so an account that joins the unit later is held from the next import on.

use super::state::Tx;
use super::{GovernanceError, Rule};
use crate::digest::Sha256;
use crate::model::time;
use crate::model::{Account, OrgUnit};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// The header an organisation file must start with.
pub const ORG_HEADER: [&str; 5] = ["Account", "OrgUnit", "Type", "Created", "Admin"];

/// Longest row read from an organisation file.
const MAX_ROW: u64 = 64 * 1024;

/// The kind of an account, as the admin console says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountType {
    /// A person: may act, hold data, be held.
    User,
    /// A Google Group (held by Groups holds).
    Group,
    /// A service account: may act (an embedding product's automation), not be held.
    ServiceAccount,
    /// Customer-owned data (shared drives): neither acts nor is held by account.
    Customer,
}

impl AccountType {
    fn parse(s: &str) -> Option<AccountType> {
        match s.trim() {
            "USER" => Some(AccountType::User),
            "GROUP" => Some(AccountType::Group),
            "SERVICE_ACCOUNT" => Some(AccountType::ServiceAccount),
            "CUSTOMER" => Some(AccountType::Customer),
            _ => None,
        }
    }

    /// The file's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::User => "USER",
            AccountType::Group => "GROUP",
            AccountType::ServiceAccount => "SERVICE_ACCOUNT",
            AccountType::Customer => "CUSTOMER",
        }
    }
}

/// One account of the organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgAccount {
    /// The address.
    pub account: Account,
    /// Its org unit.
    pub org_unit: OrgUnit,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: AccountType,
    /// When it was created, UTC seconds.
    pub created: i64,
    /// Whether it administers the organisation (creates matters, imports the organisation,
    /// reads the whole audit log).
    pub admin: bool,
}

/// The organisation's accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    accounts: BTreeMap<Account, OrgAccount>,
}

impl Org {
    /// Parse an organisation file; `path` names it in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Org, GovernanceError> {
        let err = |line: u64, reason: String| GovernanceError::Org {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let io = |e: std::io::Error| err(0, e.to_string());
        let mut r = crate::format::csv::RowReader::new(bytes, MAX_ROW).map_err(io)?;
        let header: Vec<&str> = r.header().iter().map(|h| h.trim()).collect();
        if header != ORG_HEADER {
            return Err(err(
                1,
                format!("header {:?}: expected {}", r.header().join(","), ORG_HEADER.join(",")),
            ));
        }
        let mut accounts: BTreeMap<Account, OrgAccount> = BTreeMap::new();
        let mut lines: BTreeMap<Account, u64> = BTreeMap::new();
        while let Some((line, cells)) = r.next_row_at().map_err(io)? {
            if cells.len() != ORG_HEADER.len() {
                return Err(err(
                    line,
                    format!("{} cells, expected {}", cells.len(), ORG_HEADER.len()),
                ));
            }
            let cell = |i: usize| crate::format::csv::unguard(cells[i].trim());
            let account = Account::new(cell(0)).map_err(|e| err(line, format!("Account: {e}")))?;
            let ou = cell(1);
            if !ou.starts_with('/') {
                return Err(err(
                    line,
                    format!("OrgUnit {ou:?}: expected a path from the root, such as /Sales"),
                ));
            }
            let kind = AccountType::parse(cell(2)).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "Type {:?}: expected USER, GROUP, SERVICE_ACCOUNT or CUSTOMER",
                        cell(2)
                    ),
                )
            })?;
            let created = time::parse_iso8601(cell(3)).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "Created {:?}: expected an ISO-8601 time such as 2023-06-01T09:00:00Z",
                        cell(3)
                    ),
                )
            })?;
            let admin = match cell(4).to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                other => return Err(err(line, format!("Admin {other:?}: expected true or false"))),
            };
            if admin && kind != AccountType::User {
                return Err(err(
                    line,
                    format!("Admin true on a {} account: only users administer", kind.as_str()),
                ));
            }
            if let Some(first) = lines.insert(account.clone(), line) {
                return Err(err(
                    line,
                    format!("{account} is listed again (first on line {first})"),
                ));
            }
            accounts.insert(
                account.clone(),
                OrgAccount { account, org_unit: OrgUnit::new(ou), kind, created, admin },
            );
        }
        Ok(Org { accounts })
    }

    /// The account, if the organisation has it.
    pub fn get(&self, account: &Account) -> Option<&OrgAccount> {
        self.accounts.get(account)
    }

    /// Whether `account` is an administrator.
    pub fn is_admin(&self, account: &Account) -> bool {
        self.get(account).is_some_and(|a| a.admin)
    }

    /// The accounts of `kind` in `unit` or below it, in address order.
    pub fn under(&self, unit: &OrgUnit, kind: AccountType) -> Vec<Account> {
        self.accounts
            .values()
            .filter(|a| {
                a.kind == kind && a.org_unit.with_ancestors().iter().any(|u| u == unit.as_str())
            })
            .map(|a| a.account.clone())
            .collect()
    }

    /// Every account, in address order.
    pub fn accounts(&self) -> impl Iterator<Item = &OrgAccount> + '_ {
        self.accounts.values()
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// True when there is no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

/// What an import changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrgImport {
    /// Accounts in the new file.
    pub accounts: usize,
    /// Administrators among them.
    pub admins: usize,
    /// Accounts not in the previous organisation.
    pub added: usize,
    /// Accounts of the previous organisation no longer listed.
    pub removed: usize,
    /// Accounts whose org unit, type or admin flag changed.
    pub changed: usize,
    /// SHA-256 of the file as read.
    pub sha256: Sha256,
}

impl Tx {
    /// Replace the organisation with the file at `path` (its bytes `bytes`). Who may: an
    /// administrator of the current organisation; for the first import, an administrator in the
    /// file itself. Either way the importer must stay an administrator, so no import can leave
    /// the organisation without one ([`Rule::ImporterStaysAdmin`]).
    pub fn import_org(
        &mut self,
        actor: &Account,
        path: &Path,
        bytes: &[u8],
    ) -> Result<OrgImport, GovernanceError> {
        let sha = Sha256::of(bytes);
        let params = json!({"file": path.display().to_string(), "sha256": sha});
        self.act(actor, "org.import", None, params, |tx| {
            if let Some(old) = tx.org()
                && !old.is_admin(actor)
            {
                return Err(tx.refuse(
                    Rule::AdminOnly,
                    format!("{actor} is not an administrator of the organisation"),
                ));
            }
            let new = Org::parse(path, bytes)?;
            if !new.is_admin(actor) {
                return Err(tx.refuse(
                    Rule::ImporterStaysAdmin,
                    format!("{actor} would not be an administrator of the imported organisation"),
                ));
            }
            let old = tx.org().cloned().unwrap_or_default();
            let mut r = OrgImport {
                accounts: new.len(),
                admins: new.accounts().filter(|a| a.admin).count(),
                sha256: sha,
                ..OrgImport::default()
            };
            for a in new.accounts() {
                match old.get(&a.account) {
                    None => r.added += 1,
                    Some(o) if o != a => r.changed += 1,
                    Some(_) => {}
                }
            }
            r.removed = old.accounts().filter(|a| new.get(&a.account).is_none()).count();
            tx.state.org = Some(new);
            tx.touch();
            let outcome = serde_json::to_value(&r).unwrap_or_default();
            Ok((r, outcome))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Org, GovernanceError> {
        Org::parse(Path::new("org.csv"), text.as_bytes())
    }

    fn line_of(e: GovernanceError) -> (u64, String) {
        match e {
            GovernanceError::Org { line, reason, .. } => (line, reason),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn parses_accounts_units_and_resolves_units_downwards() {
        let org = parse(
            "Account,OrgUnit,Type,Created,Admin\n\
             Admin@Example.org,/,USER,2020-01-01T00:00:00Z,true\n\
             bob@example.org,/Sales,USER,2021-02-03,false\n\
             carol@example.org,/Sales/EMEA/,USER,2021-02-03T10:00:00+01:00,FALSE\n\
             deals@example.org,/Sales,GROUP,2021-02-03,false\n\
             \"bot@example.org\",/Ops,SERVICE_ACCOUNT,2022-01-01,false\n",
        )
        .unwrap();
        assert_eq!(org.len(), 5);
        let admin = Account::new("admin@example.org").unwrap();
        assert!(org.is_admin(&admin));
        let sales = org.under(&OrgUnit::new("/Sales"), AccountType::User);
        let names: Vec<&str> = sales.iter().map(Account::as_str).collect();
        assert_eq!(names, ["bob@example.org", "carol@example.org"]);
        assert_eq!(org.under(&OrgUnit::new("/Sales/EMEA"), AccountType::User).len(), 1);
        assert_eq!(org.under(&OrgUnit::new("/Sales"), AccountType::Group).len(), 1);
        assert_eq!(org.under(&OrgUnit::root(), AccountType::User).len(), 3);
        let carol = org.get(&Account::new("carol@example.org").unwrap()).unwrap();
        assert_eq!(carol.created, 1_612_342_800);
        assert_eq!(carol.org_unit.as_str(), "/Sales/EMEA");
    }

    #[test]
    fn errors_name_the_line() {
        let h = "Account,OrgUnit,Type,Created,Admin\n";
        assert_eq!(line_of(parse("Account,Unit,Type,Created,Admin\n").unwrap_err()).0, 1);
        let cases = [
            (
                "a@x.org,/,USER,2020-01-01,true\nnot-an-address,/,USER,2020-01-01,false\n",
                3,
                "Account",
            ),
            ("a@x.org,Sales,USER,2020-01-01,true\n", 2, "OrgUnit"),
            ("a@x.org,/,ROBOT,2020-01-01,true\n", 2, "Type"),
            ("a@x.org,/,USER,last year,true\n", 2, "Created"),
            ("a@x.org,/,USER,2020-01-01,yes\n", 2, "Admin"),
            ("g@x.org,/,GROUP,2020-01-01,true\n", 2, "only users"),
            ("a@x.org,/,USER,2020-01-01,true\nA@x.org,/,USER,2020-01-01,true\n", 3, "line 2"),
            // A quoted cell spanning two lines moves the next row's line on.
            ("a@x.org,\"/\nX\",USER,2020-01-01,true\nb@x.org,/,USER,then,false\n", 4, "Created"),
        ];
        for (rows, line, what) in cases {
            let (l, reason) = line_of(parse(&format!("{h}{rows}")).unwrap_err());
            assert_eq!(l, line, "{rows:?}: {reason}");
            assert!(reason.contains(what), "{rows:?}: {reason}");
        }
        let (l, reason) = line_of(parse(&format!("{h}a@x.org,/,USER\n")).unwrap_err());
        assert_eq!(l, 2, "{reason}");
    }
}
