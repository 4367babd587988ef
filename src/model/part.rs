//! [`Part`]: one stored blob of a record, typed by what it is to the record.
//!
//! A mail message is one part (its RFC 822 bytes); a Drive file is one part (the file), later
//! with its extracted text; a voicemail is audio *and* a transcript; a chat message may carry
//! attachments. Each part is its own MD5-addressed blob, so identical attachments or files are
//! stored once and every part has its own Vault `Hash`.

use super::BlobRef;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a part is to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PartKind {
    /// A whole message as received (mail, group mail: RFC 822 bytes; chat: the message body).
    Message,
    /// A file's content (Drive).
    File,
    /// Audio (a voicemail's recording).
    Audio,
    /// Text made from another part (a voicemail's transcript).
    Transcript,
    /// A file sent with a message (chat attachments).
    Attachment,
}

impl PartKind {
    /// The name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Message => "message",
            PartKind::File => "file",
            PartKind::Audio => "audio",
            PartKind::Transcript => "transcript",
            PartKind::Attachment => "attachment",
        }
    }
}

impl fmt::Display for PartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored blob of a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// What it is.
    pub kind: PartKind,
    /// Its file name, when it has one (attachments, Drive files, voicemail audio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its `type/subtype`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where its bytes are.
    pub blob: BlobRef,
}

impl Part {
    /// A part with neither name nor content type.
    pub fn new(kind: PartKind, blob: BlobRef) -> Part {
        Part { kind, name: None, content_type: None, blob }
    }
}

/// A record's parts: never empty, the first is the record's *main* part — the one a Vault
/// export's `FileName`, `FileSize` and `Hash` describe (the message, the Drive file, the
/// voicemail audio). Non-empty by construction (and checked when read back), so no reader has to
/// ask what a record without bytes would mean. Serialized as a JSON array, main part first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    main: Part,
    rest: Vec<Part>,
}

impl Parts {
    /// Parts whose main part is `main`.
    pub fn new(main: Part) -> Parts {
        Parts { main, rest: Vec::new() }
    }

    /// Add a part after the ones already there.
    pub fn push(&mut self, part: Part) {
        self.rest.push(part);
    }

    /// The main part.
    pub fn main(&self) -> &Part {
        &self.main
    }

    /// Every part, main first.
    pub fn iter(&self) -> impl Iterator<Item = &Part> + '_ {
        self.into_iter()
    }

    /// How many parts (at least 1).
    pub fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// Always `false`: there is always a main part. (For the `len`/`is_empty` pair.)
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl<'a> IntoIterator for &'a Parts {
    type Item = &'a Part;
    type IntoIter = std::iter::Chain<std::iter::Once<&'a Part>, std::slice::Iter<'a, Part>>;
    fn into_iter(self) -> Self::IntoIter {
        std::iter::once(&self.main).chain(self.rest.iter())
    }
}

impl Serialize for Parts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Parts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Parts, D::Error> {
        let mut all = Vec::<Part>::deserialize(d)?.into_iter();
        let main =
            all.next().ok_or_else(|| serde::de::Error::custom("a record has at least one part"))?;
        Ok(Parts { main, rest: all.collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Md5;

    fn blob(n: u8) -> BlobRef {
        BlobRef { md5: Md5::of(&[n]), size: 1, pack: 0, offset: u64::from(n), crc32: None }
    }

    #[test]
    fn parts_read_back_and_refuse_empty() {
        let mut p = Parts::new(Part::new(PartKind::Audio, blob(1)));
        p.push(Part {
            kind: PartKind::Transcript,
            name: Some("t.txt".into()),
            content_type: Some("text/plain".into()),
            blob: blob(2),
        });
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.starts_with("[{\"kind\":\"audio\""), "{json}");
        let back: Parts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.main().kind, PartKind::Audio);
        assert_eq!(back.len(), 2);
        let err = serde_json::from_str::<Parts>("[]").unwrap_err().to_string();
        assert!(err.contains("at least one part"), "{err}");
    }
}
