//! Which accounts an organisation export holds, of which type, in which folder: pure, from the
//! organisation file and the collection's (corpus, account) list.

use super::report::{AccountKind, LeftOutAccount};
use crate::export::SafeName;
use crate::governance::{AccountType, Org, OrgExportRules};
use crate::model::time;
use crate::model::{Account, Corpus};
use std::collections::{BTreeMap, BTreeSet};

/// One account to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedAccount {
    /// The address.
    pub account: Account,
    /// Its type in the report.
    pub kind: AccountKind,
    /// Its folder in the archive: its [`SafeName`], made unique (`_2`, `_3`…) when two
    /// addresses sanitise to the same name.
    pub folder: String,
    /// The corpora it has records in.
    pub corpora: Vec<Corpus>,
}

fn kind_of(t: AccountType) -> AccountKind {
    match t {
        AccountType::User => AccountKind::User,
        AccountType::Group => AccountKind::Group,
        AccountType::Customer => AccountKind::CustomerOwned,
        AccountType::ServiceAccount => AccountKind::ServiceAccount,
    }
}

/// Every account of `org` and every account with records (`held`: the collection's (corpus,
/// account) keys), sorted by address; accounts created less than the rules' minimum age before
/// `start` left out and listed. An account with records that the organisation file does not
/// list is data without an owner in the organisation: a "Service account" row.
pub fn plan(
    org: &Org,
    held: impl IntoIterator<Item = (Corpus, Account)>,
    start: i64,
    rules: &OrgExportRules,
) -> (Vec<PlannedAccount>, Vec<LeftOutAccount>) {
    let mut corpora: BTreeMap<Account, BTreeSet<Corpus>> = BTreeMap::new();
    for a in org.accounts() {
        corpora.entry(a.account.clone()).or_default();
    }
    for (c, a) in held {
        corpora.entry(a).or_default().insert(c);
    }
    let mut out = Vec::new();
    let mut left_out = Vec::new();
    let mut folders = BTreeSet::new();
    for (account, cs) in corpora {
        let known = org.get(&account);
        let kind = known.map_or(AccountKind::ServiceAccount, |a| kind_of(a.kind));
        if let Some(a) = known
            && a.created > start.saturating_sub(rules.min_account_age_secs)
        {
            left_out.push(LeftOutAccount {
                id: account.to_string(),
                account_type: kind,
                created: time::iso_utc(a.created).unwrap_or_default(),
                reason: format!(
                    "created less than {} hours before the export started",
                    rules.min_account_age_secs / 3600
                ),
            });
            continue;
        }
        let base = SafeName::new(account.as_str()).to_string();
        let mut folder = base.clone();
        let mut n = 1;
        while !folders.insert(folder.clone()) {
            n += 1;
            folder = format!("{base}_{n}");
        }
        out.push(PlannedAccount { account, kind, folder, corpora: cs.into_iter().collect() });
    }
    (out, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_unique_safe_names_and_new_accounts_are_left_out() {
        let csv = "Account,OrgUnit,Type,Created,Admin\n\
                   admin@x,/,USER,2020-01-01,true\n\
                   \"a/b@x\",/,USER,2020-01-01,false\n\
                   a_b@x,/,GROUP,2020-01-01,false\n\
                   new@x,/,USER,2026-01-09T23:00:00Z,false\n\
                   drives@x,/,CUSTOMER,2020-01-01,false\n";
        let org = Org::parse(std::path::Path::new("org.csv"), csv.as_bytes()).unwrap();
        let stray = Account::new("../etc@x").unwrap();
        let start = 1_768_003_200; // 2026-01-10T00:00:00Z
        let (accounts, left) = plan(
            &org,
            [(Corpus::Mail, stray.clone()), (Corpus::Groups, Account::new("a_b@x").unwrap())],
            start,
            &OrgExportRules::default(),
        );
        let got: Vec<(&str, &str, AccountKind)> =
            accounts.iter().map(|a| (a.account.as_str(), a.folder.as_str(), a.kind)).collect();
        assert_eq!(
            got,
            [
                ("../etc@x", "__etc@x", AccountKind::ServiceAccount),
                ("a/b@x", "a_b@x", AccountKind::User),
                ("a_b@x", "a_b@x_2", AccountKind::Group),
                ("admin@x", "admin@x", AccountKind::User),
                ("drives@x", "drives@x", AccountKind::CustomerOwned),
            ]
        );
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, "new@x");
        assert!(left[0].reason.contains("24 hours"));
    }
}
