//! Identities: [`DocId`], [`Account`], [`OrgUnit`].

use crate::digest::{Md5, Md5Hasher};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A record's identity: deterministic, so the same source ingested into a fresh collection gives
/// the same ids and the same export twice gives byte-identical files.
///
/// It is the MD5 of `corpus, account, source key, content MD5` (NUL-separated), shown as 32
/// lowercase hex digits. The source key (mbox file name and ordinal, Maildir unique name, .eml
/// path) tells two identical messages at different places apart; the content hash makes a changed
/// message at the same place a different record.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocId(Md5);

impl DocId {
    /// Derive the id of a record.
    pub fn derive(corpus: &str, account: &Account, source_key: &str, content: &Md5) -> DocId {
        let mut h = Md5Hasher::new();
        for part in [corpus.as_bytes(), account.as_str().as_bytes(), source_key.as_bytes()] {
            h.update(part);
            h.update(&[0]);
        }
        h.update(&content.0);
        DocId(h.finish())
    }

    /// The 16 bytes of the id (as stored in fixed-width rows).
    pub fn bytes(&self) -> [u8; 16] {
        self.0.0
    }

    /// The id whose bytes these are (read back from a fixed-width row).
    pub fn from_bytes(b: [u8; 16]) -> DocId {
        DocId(Md5(b))
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocId({})", self.0)
    }
}

impl FromStr for DocId {
    type Err = crate::digest::ParseMd5Error;
    fn from_str(s: &str) -> Result<DocId, Self::Err> {
        s.parse().map(DocId)
    }
}

/// A custodian account (a user's or a group's address), normalised to lower case.
///
/// Only the shape of an address is checked (`local@domain`, no whitespace or control characters);
/// the name is never trusted as a path: export naming sanitises it separately.
///
/// Shared, not copied, when cloned: a search of millions of hits clones its account into every
/// hit, and an export plans from those hits, so a `String` here was a heap allocation per hit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Account(std::sync::Arc<str>);

/// Why a text is not an account address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an account address (local@domain, no spaces or control characters): {0:?}")]
pub struct AccountError(pub String);

impl Account {
    /// Parse and normalise (trim, lower case).
    pub fn new(s: &str) -> Result<Account, AccountError> {
        let t = s.trim().to_lowercase();
        let valid = match t.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid { Ok(Account(t.into())) } else { Err(AccountError(s.to_owned())) }
    }
    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

impl TryFrom<String> for Account {
    type Error = AccountError;
    fn try_from(s: String) -> Result<Account, AccountError> {
        Account::new(&s)
    }
}

impl From<Account> for String {
    fn from(a: Account) -> String {
        a.0.to_string()
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Account({})", self.0)
    }
}

/// An organisational unit path such as `/Legal/EMEA`; `/` is the root.
///
/// Stored normalised: leading `/`, no trailing `/`, no empty segments. A search by org unit
/// matches the unit and everything below it, as Vault does.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct OrgUnit(String);

impl OrgUnit {
    /// Normalise a path; anything is accepted.
    pub fn new(path: &str) -> OrgUnit {
        let segs: Vec<&str> = path.split('/').map(str::trim).filter(|s| !s.is_empty()).collect();
        OrgUnit(format!("/{}", segs.join("/")))
    }
    /// The root unit `/`.
    pub fn root() -> OrgUnit {
        OrgUnit("/".to_owned())
    }
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// This unit and all its ancestors, root first: `/`, `/Legal`, `/Legal/EMEA`.
    pub fn with_ancestors(&self) -> Vec<String> {
        let mut out = vec!["/".to_owned()];
        let mut cur = String::new();
        for seg in self.0.split('/').filter(|s| !s.is_empty()) {
            cur.push('/');
            cur.push_str(seg);
            out.push(cur.clone());
        }
        out
    }
}

impl Default for OrgUnit {
    fn default() -> Self {
        OrgUnit::root()
    }
}

impl From<String> for OrgUnit {
    fn from(s: String) -> OrgUnit {
        OrgUnit::new(&s)
    }
}

impl From<OrgUnit> for String {
    fn from(o: OrgUnit) -> String {
        o.0
    }
}

impl fmt::Display for OrgUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrgUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgUnit({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_normalise_and_reject() {
        assert_eq!(Account::new(" Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
        for bad in ["", "alice", "@x", "a@", "a b@x", "a@b@c", "a\u{7}@x"] {
            assert!(Account::new(bad).is_err(), "{bad:?}");
        }
        // Path-looking accounts are valid addresses; naming must sanitise them, not the model.
        assert!(Account::new("../x@y").is_ok());
    }

    #[test]
    fn org_units_normalise() {
        assert_eq!(OrgUnit::new("Legal//EMEA/").as_str(), "/Legal/EMEA");
        assert_eq!(OrgUnit::new("").as_str(), "/");
        assert_eq!(OrgUnit::new("/a/b").with_ancestors(), ["/", "/a", "/a/b"]);
    }

    #[test]
    fn doc_ids_are_deterministic_and_distinct() {
        let a = Account::new("a@x").unwrap();
        let m = Md5::of(b"m");
        let d1 = DocId::derive("mail", &a, "mbox:x:1", &m);
        assert_eq!(d1, DocId::derive("mail", &a, "mbox:x:1", &m));
        assert_ne!(d1, DocId::derive("mail", &a, "mbox:x:2", &m));
        assert_ne!(d1, DocId::derive("groups", &a, "mbox:x:1", &m));
        assert_eq!(d1.to_string().parse::<DocId>().unwrap(), d1);
    }
}
