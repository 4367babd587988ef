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

/// A phone number in E.164 (`+17323215555`) from any common way of writing it: spaces, dots,
/// dashes and brackets are dropped, `tel:` is dropped, `00` and `011` (the international
/// prefixes of most countries and of North America) become `+`. Google Voice numbers are North
/// American, so a number of 10 digits, or of 11 starting with `1`, is read as one (`+1…`); any
/// other number without a `+` (a short code such as `22000`) is kept as its digits, because no
/// country can be assumed for it. `None` when there are no digits, or when letters are mixed in
/// (`1-800-FLOWERS` cannot be matched reliably, so it is not guessed at).
///
/// Used on both sides, at indexing and on query values, so `from:(732) 321-5555` finds what
/// Takeout wrote as `+17323215555`.
pub fn e164(number: &str) -> Option<String> {
    let s = number.trim();
    let s = s.strip_prefix("tel:").unwrap_or(s);
    let mut plus = false;
    let mut digits = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '+' if i == 0 => plus = true,
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    if digits.is_empty() {
        return None;
    }
    if plus {
        return Some(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("011").or_else(|| digits.strip_prefix("00")) {
        return (!rest.is_empty()).then(|| format!("+{rest}"));
    }
    Some(match digits.len() {
        10 => format!("+1{digits}"),
        11 if digits.starts_with('1') => format!("+{digits}"),
        _ => digits,
    })
}

#[cfg(test)]
mod tests {
    use super::e164;

    #[test]
    fn common_notations_become_e164() {
        for s in [
            "+17323215555",
            "+1 732-321-5555",
            "(732) 321-5555",
            "732.321.5555",
            "1-732-321-5555",
            "17323215555",
            "tel:+17323215555",
            "011 1 732 321 5555",
            "001-732-321-5555",
        ] {
            assert_eq!(e164(s).as_deref(), Some("+17323215555"), "{s}");
        }
        assert_eq!(e164("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(e164("22000").as_deref(), Some("22000"));
        assert_eq!(e164(""), None);
        assert_eq!(e164("tel:"), None);
        assert_eq!(e164("1-800-FLOWERS"), None);
    }
}
