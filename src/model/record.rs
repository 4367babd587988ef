//! [`Record`]: one item of evidence, its source, its stored bytes and its metadata.

use super::{Account, ChatMeta, DocId, DriveMeta, OrgUnit, Parts, VoiceMeta};
use crate::digest::Md5;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The Vault corpora. Chat, Drive and Voice records are filled by later ingest sources; the types
/// already carry them so the store, index and export never special-case mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Corpus {
    /// Gmail.
    Mail,
    /// Google Groups (the account is the group's address).
    Groups,
    /// Google Chat.
    Chat,
    /// Google Drive.
    Drive,
    /// Google Voice.
    Voice,
}

impl Corpus {
    /// Every corpus, in Vault's order.
    pub const ALL: [Corpus; 5] =
        [Corpus::Mail, Corpus::Groups, Corpus::Chat, Corpus::Drive, Corpus::Voice];

    /// The lower-case name used on the command line, in the index and in DocId derivation.
    pub fn as_str(self) -> &'static str {
        match self {
            Corpus::Mail => "mail",
            Corpus::Groups => "groups",
            Corpus::Chat => "chat",
            Corpus::Drive => "drive",
            Corpus::Voice => "voice",
        }
    }

    /// Parse a lower-case name (`mail`, `groups`, `chat`, `drive`, `voice`).
    pub fn parse(s: &str) -> Option<Corpus> {
        Corpus::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Corpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of source a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// An mbox file (mboxrd quoting undone).
    Mbox,
    /// A Gmail Takeout mbox (`X-Gmail-Labels`, `X-GM-THRID`).
    Takeout,
    /// A Maildir or Maildir++ tree.
    Maildir,
    /// A folder of `.eml` files.
    Eml,
    /// Our chat JSON Lines format (`docs/formats/chat-jsonl.md`).
    #[serde(rename = "chat_jsonl")]
    ChatJsonl,
    /// Our Drive JSON Lines format (`docs/formats/drive-jsonl.md`).
    #[serde(rename = "drive_jsonl")]
    DriveJsonl,
    /// Our Voice JSON Lines format (`docs/formats/voice-jsonl.md`).
    #[serde(rename = "voice_jsonl")]
    VoiceJsonl,
    /// Google Takeout's Chat export (`Google Chat/Groups/<space>/messages.json`).
    #[serde(rename = "takeout_chat")]
    TakeoutChat,
    /// Google Takeout's Voice export (`Voice/Calls/*.html` and their audio and images).
    #[serde(rename = "takeout_voice")]
    TakeoutVoice,
    /// A plain folder tree read as one custodian's Drive.
    #[serde(rename = "drive_folder")]
    DriveFolder,
}

/// Where a record came from, precise enough to find it again by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// The kind of source.
    pub kind: SourceKind,
    /// The source file or folder as given to ingest.
    pub path: String,
    /// The stable key within the source that goes into the DocId (mbox: `file name#ordinal`;
    /// Maildir: `folder/unique-name` without flags; eml: the relative path).
    pub key: String,
    /// For mbox: byte offset of the `From ` line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// Where a record's original bytes live in the collection's pack files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// MD5 of the bytes (Vault's `Hash`).
    pub md5: Md5,
    /// Length in bytes (Vault's `FileSize`).
    pub size: u64,
    /// Pack file number.
    pub pack: u32,
    /// Offset inside the pack.
    pub offset: u64,
    /// CRC-32 of the bytes, recorded when they were stored (absent on blobs stored before it
    /// was): lets an export check what it reads without a second MD5 pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<u32>,
}

/// Something about a record that was not as it should be, kept with the record so exports and
/// reports can say so. None of these stops a record from being stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Defect {
    /// The last mbox message ended without the blank separator line: the file was cut short.
    Truncated,
    /// No `Message-ID` header.
    MissingMessageId,
    /// Another record of this account in the same ingest has the same Message-ID.
    DuplicateMessageId {
        /// The first record seen with that Message-ID.
        first: DocId,
    },
    /// Header bytes that were not valid UTF-8 (decoded lossily for metadata; bytes unchanged).
    InvalidUtf8Header,
    /// mail-parser could not parse the message structure; only raw headers were read.
    Unparseable,
    /// The `Date` header was missing or could not be read.
    BadDate,
    /// The `Date` header was read, but not its time zone (none, or one that means different
    /// things to different readers: `GMT+1`, `Eastern Daylight Time`): the time was
    /// taken as UTC, so the sent date may be off by up to a day's fraction. Without this a
    /// reviewer could not tell such a date from one the sender stated in UTC.
    DateWithoutZone,
    /// MIME parts nested deeper than `Limits::mime_depth`: the bytes are stored whole, but
    /// metadata and index text come only from the parts above the limit.
    MimeTooDeep {
        /// The limit in force when the record was ingested.
        limit: usize,
    },
    /// The `Date` year was written `01nn` (`0102`): a mailer printed C's `tm_year`, years since
    /// 1900, with four digits. Read as `20nn`; the header itself is unchanged.
    DateYearRepaired,
    /// The file's content is not searchable, or not all of it: a type Vault does not search
    /// (image, audio, video, archive, binary), encrypted content, an image-only PDF, or a
    /// part that could not be read. The bytes are stored whole all the same; without this a
    /// search that misses the file would look like evidence that its words are not in it.
    TextNotExtracted {
        /// Why, with the part and position where known (`extract::ExtractError`'s message).
        reason: String,
    },
    /// Only the first part of the file's text is searchable: a cap of `Limits` was reached
    /// (Vault too searches only the first 100 pages).
    TextTruncated {
        /// The `Limits` field that cut it (`extract_text_bytes`, `extract_pages`, …).
        cap: String,
        /// Its value then.
        limit: u64,
    },
}

impl Defect {
    /// The defect's kind as written in reports and JSON (`bad_date`, `mime_too_deep`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Defect::Truncated => "truncated",
            Defect::MissingMessageId => "missing_message_id",
            Defect::DuplicateMessageId { .. } => "duplicate_message_id",
            Defect::InvalidUtf8Header => "invalid_utf8_header",
            Defect::Unparseable => "unparseable",
            Defect::BadDate => "bad_date",
            Defect::DateWithoutZone => "date_without_zone",
            Defect::MimeTooDeep { .. } => "mime_too_deep",
            Defect::DateYearRepaired => "date_year_repaired",
            Defect::TextNotExtracted { .. } => "text_not_extracted",
            Defect::TextTruncated { .. } => "text_truncated",
        }
    }
}

/// An address with its display name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Display name, decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Address as written (case kept).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, self.address.is_empty()) {
            (Some(n), false) => write!(f, "{n} <{}>", self.address),
            (Some(n), true) => f.write_str(n),
            (None, _) => f.write_str(&self.address),
        }
    }
}

/// An attachment's name, type and decoded size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name (RFC 2231 / 2047 decoded), when the part has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
}

/// Mail and group-mail metadata, read from the headers at ingest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMeta {
    /// Message-ID without angle brackets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// From.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<Mailbox>,
    /// To.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Mailbox>,
    /// Cc.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Mailbox>,
    /// Bcc.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<Mailbox>,
    /// Subject, decoded; control characters kept (writers must filter for their format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `Date` header, seconds since the epoch (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_sent: Option<i64>,
    /// When the mailbox received it: mbox envelope date, Maildir delivery time, else the newest
    /// `Received` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_received: Option<i64>,
    /// Labels: system labels with `^` (`^INBOX`, `^UNREAD`…), user labels as named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// In-Reply-To ids, without angle brackets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_reply_to: Vec<String>,
    /// References ids, without angle brackets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// A draft (Maildir `D`, Takeout `Draft` label, `^DRAFT`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_draft: bool,
    /// Gmail thread id (`X-GM-THRID`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// mbox envelope sender (`From sender date`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_sender: Option<String>,
    /// `List-Id` (for `list:`), without angle brackets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    /// `Delivered-To` addresses (for `deliveredto:`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered_to: Vec<String>,
}

/// Metadata per corpus: what was read from a record, in the shape its Vault export describes.
/// Mail and groups share [`MailMeta`]. Boxed so a record's size does not follow the largest.
///
/// Serialized internally tagged (`{"type": "mail", …fields}`), the tag first. Deserialized by
/// hand: serde's derive for internally tagged enums buffers every field of the map into its
/// generic `Content` tree before building the variant, which was the largest single cost of
/// decoding a record; with the tag first (as we always write it) the variant's fields are read
/// straight from the map. A map whose tag comes later is still read, through a JSON value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Metadata {
    /// Mail or group mail.
    Mail(Box<MailMeta>),
    /// A chat message.
    Chat(Box<ChatMeta>),
    /// A Drive file.
    Drive(Box<DriveMeta>),
    /// A Voice item.
    Voice(Box<VoiceMeta>),
}

/// [`Metadata`]'s tag values.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum MetadataKind {
    Mail,
    Chat,
    Drive,
    Voice,
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MetadataVisitor)
    }
}

struct MetadataVisitor;

impl MetadataVisitor {
    fn variant<'de, D: serde::Deserializer<'de>>(
        kind: MetadataKind,
        fields: D,
    ) -> Result<Metadata, D::Error> {
        Ok(match kind {
            MetadataKind::Mail => Metadata::Mail(Box::new(MailMeta::deserialize(fields)?)),
            MetadataKind::Chat => Metadata::Chat(Box::new(ChatMeta::deserialize(fields)?)),
            MetadataKind::Drive => Metadata::Drive(Box::new(DriveMeta::deserialize(fields)?)),
            MetadataKind::Voice => Metadata::Voice(Box::new(VoiceMeta::deserialize(fields)?)),
        })
    }
}

impl<'de> serde::de::Visitor<'de> for MetadataVisitor {
    type Value = Metadata;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map with a \"type\" of mail, chat, drive or voice")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
        use serde::de::Error;
        let first: Option<String> = map.next_key()?;
        if first.as_deref() == Some("type") {
            let kind: MetadataKind = map.next_value()?;
            return Self::variant(kind, serde::de::value::MapAccessDeserializer::new(map));
        }
        // The tag is not first: gather the map, then read it as the derive would.
        let mut all = serde_json::Map::new();
        if let Some(k) = first {
            let v: serde_json::Value = map.next_value()?;
            all.insert(k, v);
        }
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            all.insert(k, v);
        }
        let kind = all.remove("type").ok_or_else(|| A::Error::missing_field("type"))?;
        let kind = MetadataKind::deserialize(kind).map_err(A::Error::custom)?;
        Self::variant(kind, serde_json::Value::Object(all)).map_err(A::Error::custom)
    }
}

impl Metadata {
    /// The mail metadata, when this is a mail record.
    pub fn mail(&self) -> Option<&MailMeta> {
        match self {
            Metadata::Mail(m) => Some(m),
            _ => None,
        }
    }

    /// Does this metadata belong to records of `corpus`? (Mail metadata to mail and groups,
    /// each other kind to its own corpus.) The store refuses a record where it does not, so an
    /// export never renders, say, a Drive file as an empty mail row.
    pub fn fits(&self, corpus: Corpus) -> bool {
        matches!(
            (self, corpus),
            (Metadata::Mail(_), Corpus::Mail | Corpus::Groups)
                | (Metadata::Chat(_), Corpus::Chat)
                | (Metadata::Drive(_), Corpus::Drive)
                | (Metadata::Voice(_), Corpus::Voice)
        )
    }

    /// The date a record is placed by on a timeline (see [`Record::date`]).
    pub fn date(&self) -> Option<i64> {
        match self {
            Metadata::Mail(m) => m.date_sent.or(m.date_received),
            Metadata::Chat(c) => Some(c.created),
            Metadata::Drive(d) => d.modified.or(d.created),
            Metadata::Voice(v) => Some(v.started),
        }
    }
}

/// One item of evidence: who holds it, where it came from, where its original bytes are, and what
/// was read from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Deterministic identity.
    pub doc_id: DocId,
    /// Position in the collection (0, 1, 2… in commit order); the index's deterministic order.
    pub seq: u64,
    /// Corpus.
    pub corpus: Corpus,
    /// Custodian account (for groups, the group address).
    pub account: Account,
    /// The account's org unit at ingest.
    pub org_unit: OrgUnit,
    /// Where it came from.
    pub source: SourceRef,
    /// Its stored blobs, the main one first (the message, the file, the voicemail audio).
    pub parts: Parts,
    /// What was read from it.
    pub meta: Metadata,
    /// What was wrong with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<Defect>,
}

impl Record {
    /// The mail metadata, when this is a mail or groups record.
    pub fn mail(&self) -> Option<&MailMeta> {
        self.meta.mail()
    }

    /// The date the record is placed by on a timeline (scopes, ordering, export names), the
    /// one place it is decided: mail sent, else received; a chat message's send time; a Drive
    /// file's last modification, else creation; a Voice item's start. `None` when unknown.
    pub fn date(&self) -> Option<i64> {
        self.meta.date()
    }

    /// The main part's blob: the bytes Vault's `FileName`, `FileSize` and `Hash` describe.
    pub fn blob(&self) -> &BlobRef {
        &self.parts.main().blob
    }

    /// Bytes of all its parts (an account's stored size counts each of them).
    pub fn stored_bytes(&self) -> u64 {
        self.parts.iter().fold(0u64, |n, p| n.saturating_add(p.blob.size))
    }
}

/// A member of a Google Group, as `group-membership.csv` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    /// The member's address.
    pub member: String,
    /// The group's address.
    pub group: String,
    /// When the member joined (as given).
    pub join_time: String,
    /// `MEMBER`, `MANAGER` or `OWNER`.
    pub role: String,
    /// `USER` or `GROUP`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_reads_back_with_its_tag_first_or_anywhere() {
        let mail = Metadata::Mail(Box::new(MailMeta {
            message_id: Some("<a@b>".into()),
            from: vec![Mailbox { name: Some("A".into()), address: "a@b".into() }],
            subject: Some("s".into()),
            date_sent: Some(1),
            ..MailMeta::default()
        }));
        let chat = Metadata::Chat(Box::default());
        let drive = Metadata::Drive(Box::default());
        for m in [mail, chat, drive] {
            // As we write it: the tag first (the direct path).
            let text = serde_json::to_string(&m).unwrap();
            assert!(text.starts_with("{\"type\":"), "{text}");
            assert_eq!(serde_json::from_str::<Metadata>(&text).unwrap(), m);
            // Through a JSON value, whose keys are sorted: the tag comes later (the other path).
            let v = serde_json::to_value(&m).unwrap();
            assert_eq!(serde_json::from_value::<Metadata>(v).unwrap(), m);
        }
        let late: Metadata = serde_json::from_str(r#"{"subject":"s","type":"mail"}"#).unwrap();
        assert_eq!(late.mail().and_then(|m| m.subject.as_deref()), Some("s"));
        for bad in [r#"{"type":"fax"}"#, r#"{"subject":"s"}"#, r#"{"type":"mail","from":3}"#, "[]"]
        {
            assert!(serde_json::from_str::<Metadata>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defect_kinds_are_their_serde_tags() {
        let all = [
            Defect::Truncated,
            Defect::MissingMessageId,
            Defect::DuplicateMessageId {
                first: "0123456789abcdef0123456789abcdef"
                    .parse()
                    .unwrap_or_else(|_| unreachable!()),
            },
            Defect::InvalidUtf8Header,
            Defect::Unparseable,
            Defect::BadDate,
            Defect::DateWithoutZone,
            Defect::MimeTooDeep { limit: 1 },
            Defect::DateYearRepaired,
            Defect::TextNotExtracted { reason: "image".into() },
            Defect::TextTruncated { cap: "extract_pages".into(), limit: 100 },
        ];
        for d in all {
            let v = serde_json::to_value(&d).unwrap_or_default();
            assert_eq!(v["kind"], d.kind());
        }
    }
}
