//! Our chat JSON Lines format (`docs/formats/chat-jsonl.md`): one message per line, with its
//! space, thread, sender, times, text (and HTML), attachments as content files under the root,
//! edit history and deletion.
//!
//! The record's main part is the message text (UTF-8 `text/plain`, empty for an attachment-only
//! message), then the HTML when given, then each attachment: so the text is searchable, the HTML
//! and files are kept byte for byte, and each has its own `Hash`. The source key is
//! `space id/message id`: the same message ingested again from another file is already present.

use super::content;
use super::jsonl;
use super::record::{Content, RawPart, RawRecord};
use super::{IngestError, Item};
use crate::model::{
    ChatEdit, ChatMeta, ConversationType, Metadata, PartKind, SourceKind, SourceRef,
};
use serde::Deserialize;
use std::path::Path;

/// The header's `format`.
pub const FORMAT: &str = "ediscovery.chat";

/// One line: one message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    space: Space,
    #[serde(default)]
    thread_id: Option<String>,
    message_id: String,
    sender: String,
    #[serde(default)]
    sender_name: Option<String>,
    created: String,
    text: String,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    edits: Vec<Edit>,
    #[serde(default)]
    deleted: Option<String>,
    participants: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Space {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type")]
    kind: SpaceType,
    #[serde(default)]
    created_before_dec_2020: bool,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum SpaceType {
    Space,
    GroupChat,
    DirectMessage,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attachment {
    path: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    at: String,
    previous_text: String,
}

/// The messages of the chat JSON Lines file `path`, content paths under `root`.
pub fn items(
    path: &Path,
    root: &Path,
    limits: &crate::Limits,
) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    jsonl::items::<Line>(path, root, FORMAT, limits, record)
}

fn non_empty(field: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() { Err(format!("{field} is empty")) } else { Ok(()) }
}

fn record(path: &Path, root: &Path, n: u64, l: Line) -> Result<RawRecord, String> {
    non_empty("space.id", &l.space.id)?;
    non_empty("message_id", &l.message_id)?;
    non_empty("sender", &l.sender)?;
    let created = jsonl::time("created", &l.created)?;
    let deleted = l.deleted.as_deref().map(|d| jsonl::time("deleted", d)).transpose()?;
    let edits = l
        .edits
        .into_iter()
        .map(|e| {
            Ok(ChatEdit { at: jsonl::time("edits.at", &e.at)?, previous_text: e.previous_text })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut parts = vec![RawPart::text(PartKind::Message, &l.text)];
    if let Some(h) = &l.html {
        parts.push(RawPart {
            kind: PartKind::Message,
            name: None,
            content_type: Some("text/html; charset=utf-8".to_owned()),
            content: Content::Inline(h.as_bytes().to_vec()),
        });
    }
    for a in &l.attachments {
        let r = content::resolve(root, &a.path)?;
        let name = a
            .name
            .clone()
            .or_else(|| Path::new(&a.path).file_name().map(|f| f.to_string_lossy().into_owned()));
        parts.push(RawPart {
            kind: PartKind::Attachment,
            name,
            content_type: a.content_type.clone(),
            content: Content::File(r.path),
        });
    }
    let meta = ChatMeta {
        space_id: l.space.id.clone(),
        space_name: l.space.name,
        conversation: Some(match l.space.kind {
            SpaceType::Space => ConversationType::Space,
            SpaceType::GroupChat => ConversationType::GroupChat,
            SpaceType::DirectMessage => ConversationType::DirectMessage,
        }),
        created_before_dec_2020: l.space.created_before_dec_2020,
        thread_id: l.thread_id,
        message_id: l.message_id.clone(),
        sender: l.sender,
        sender_name: l.sender_name,
        created,
        participants: l.participants,
        edits,
        deleted,
    };
    Ok(RawRecord {
        source: SourceRef {
            kind: SourceKind::ChatJsonl,
            path: path.display().to_string(),
            key: format!("{}/{}", l.space.id, l.message_id),
            offset: None,
        },
        position: jsonl::at(path, n),
        meta: Metadata::Chat(Box::new(meta)),
        parts,
        account_claim: None,
        defects: Vec::new(),
    })
}
