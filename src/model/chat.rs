//! Chat message metadata, shaped after what a Vault Chat export says of a message
//! (`../shared/spec/vault-export-facts.md` §5: `RoomID`, `RoomName`, `ConversationType`,
//! `Participants`, edits and deletions). One record is one chat message; the export groups
//! messages into conversation documents, so nothing here is per-document.

use serde::{Deserialize, Serialize};

/// What kind of conversation a message was sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationType {
    /// A named space (Vault `ConversationType` "Room").
    Space,
    /// A group chat: "Room" when created after early December 2020, "Group Direct Message"
    /// before (see `created_before_dec_2020` on [`ChatMeta`]).
    GroupChat,
    /// A one-to-one direct message ("1:1 Direct Message").
    DirectMessage,
}

/// One earlier version of an edited message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEdit {
    /// When this version was replaced (seconds since the epoch, UTC).
    pub at: i64,
    /// The text it had before the edit.
    pub previous_text: String,
}

/// Metadata of one chat message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMeta {
    /// The space, group chat or DM (`RoomID`), e.g. `spaces/AAAA1234`.
    pub space_id: String,
    /// The space's name (`RoomName`); none for DMs and older group chats, whose `RoomName` is
    /// made from the participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_name: Option<String>,
    /// The kind of conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationType>,
    /// A group chat created before early December 2020 (Vault calls it a "Group Direct
    /// Message" and names it by its participants).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_before_dec_2020: bool,
    /// The thread (for in-line threaded spaces: the top-level message's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The message id (the short form Vault renders in `data-id`).
    pub message_id: String,
    /// The sender's address.
    pub sender: String,
    /// The sender's display name, when the source gives one (Takeout's `creator.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// When it was sent (seconds since the epoch, UTC).
    pub created: i64,
    /// Every participant's address (`Participants`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// Earlier versions, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<ChatEdit>,
    /// When the sender deleted it, if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<i64>,
}
