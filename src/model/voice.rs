//! Voice item metadata, shaped after Vault's Voice export tags
//! (`../shared/spec/vault-export-facts.md` §7.2: `ConversationType`, `OwnerPhoneNumbers`,
//! `ParticipantPhoneNumbers`, the four first/last sent/received dates, `Labels`). A voicemail's
//! audio and transcript are the record's parts, not metadata.

use serde::{Deserialize, Serialize};

/// Vault's `ConversationType` of a Voice item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VoiceKind {
    /// A text conversation.
    TextMessage,
    /// A voicemail.
    Voicemail,
    /// An answered incoming call.
    IncomingCall,
    /// An outgoing call.
    OutgoingCall,
    /// A missed call.
    MissedCall,
}

impl VoiceKind {
    /// The value of Vault's `ConversationType` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            VoiceKind::TextMessage => "TEXT_MESSAGE",
            VoiceKind::Voicemail => "VOICEMAIL",
            VoiceKind::IncomingCall => "INCOMING_CALL",
            VoiceKind::OutgoingCall => "OUTGOING_CALL",
            VoiceKind::MissedCall => "MISSED_CALL",
        }
    }
}

/// One text of a text conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceText {
    /// When it was sent or received, seconds since the epoch.
    pub at: i64,
    /// The sending number.
    pub from: String,
    /// Sent by the owner (otherwise received).
    pub outgoing: bool,
    /// The text.
    pub text: String,
}

/// Metadata of one Voice item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceMeta {
    /// The item id (Vault's `FileName`, the Subject of the exported item).
    pub item_id: String,
    /// What it is.
    pub kind: VoiceKind,
    /// When it began: the call or voicemail, or the first text (seconds since the epoch).
    pub started: i64,
    /// The owner's numbers (several if the number changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_numbers: Vec<String>,
    /// The other parties' numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participant_numbers: Vec<String>,
    /// A text conversation's messages, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texts: Vec<VoiceText>,
    /// A call's or voicemail's length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// Conversation labels (`DELETED` on deleted conversations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}
