//! A mirror of ediscovery's `model::Record` with the SAME serde attributes (so JSON decode cost is
//! comparable), plus small newtypes standing in for DocId/Account/OrgUnit/Md5.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Md5(pub [u8; 16]);

const HEX: &[u8; 16] = b"0123456789abcdef";
impl Md5 {
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.0 {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }
}
impl std::str::FromStr for Md5 {
    type Err = String;
    fn from_str(s: &str) -> Result<Md5, String> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return Err("md5 length".into());
        }
        let mut out = [0u8; 16];
        let v = |c: u8| -> Result<u8, String> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                _ => Err("hex".into()),
            }
        };
        for i in 0..16 {
            out[i] = (v(b[2 * i])? << 4) | v(b[2 * i + 1])?;
        }
        Ok(Md5(out))
    }
}
// Exactly as the crate does it: always a hex string (even in non-human-readable formats).
impl Serialize for Md5 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
impl<'de> Deserialize<'de> for Md5 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Md5, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
#[serde(transparent)]
pub struct DocId(pub Md5);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
#[serde(try_from = "String", into = "String")]
pub struct Account(pub String);
impl TryFrom<String> for Account {
    type Error = String;
    fn try_from(s: String) -> Result<Account, String> {
        // Like Account::new: trim, lower case, local@domain, no spaces/control chars.
        let t = s.trim().to_lowercase();
        match t.split_once('@') {
            Some((l, d)) if !l.is_empty() && !d.is_empty() && !t.chars().any(|c| c.is_whitespace() || c.is_control()) => Ok(Account(t)),
            _ => Err(format!("not an account {s:?}")),
        }
    }
}
impl From<Account> for String {
    fn from(a: Account) -> String {
        a.0
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
#[serde(from = "String", into = "String")]
pub struct OrgUnit(pub String);
impl From<String> for OrgUnit {
    fn from(s: String) -> OrgUnit {
        let segs: Vec<&str> = s.split('/').map(str::trim).filter(|s| !s.is_empty()).collect();
        OrgUnit(format!("/{}", segs.join("/")))
    }
}
impl From<OrgUnit> for String {
    fn from(o: OrgUnit) -> String {
        o.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Corpus { Mail, Groups, Chat, Drive, Voice }

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind { Mbox, Takeout, Maildir, Eml }

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub path: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub md5: Md5,
    pub size: u64,
    pub pack: u32,
    pub offset: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Defect {
    Truncated,
    MissingMessageId,
    DuplicateMessageId { first: DocId },
    InvalidUtf8Header,
    Unparseable,
    BadDate,
    MimeTooDeep { limit: usize },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<Mailbox>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Mailbox>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Mailbox>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<Mailbox>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_sent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_received: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_reply_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_draft: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered_to: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Metadata {
    Mail(Box<MailMeta>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub doc_id: DocId,
    pub seq: u64,
    pub corpus: Corpus,
    pub account: Account,
    pub org_unit: OrgUnit,
    pub source: SourceRef,
    pub blob: BlobRef,
    pub meta: Metadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<Defect>,
}

impl Record {
    pub fn mail(&self) -> &MailMeta {
        match &self.meta {
            Metadata::Mail(m) => m,
        }
    }
}
