//! Chat, Drive and Voice rendered the way Google Takeout writes them, pure (no I/O): the
//! records' metadata in, file names and bytes out. `write.rs` decides the order and reads the
//! stored bytes; what is rendered here is what our own Takeout adapters
//! (`ingest::takeout_chat`, `ingest::takeout_voice`) read back, so an organisation export is
//! also a source a collection can be rebuilt from.
//!
//! Every name is built from [`SafeName`] components under a fixed product folder and made
//! unique by [`Names`], so no title, space name or number can put an entry outside its folder
//! or overwrite another.

use crate::export::SafeName;
use crate::model::time;
use crate::model::{ChatMeta, ConversationType, VoiceKind, VoiceMeta};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Entry names already used in one account's export, compared without case (an archive is
/// often unpacked on a case-insensitive file system).
#[derive(Default)]
pub(crate) struct Names {
    used: HashSet<String>,
    /// Per `dir` + `name` (lower case), the number to try next: a thousand attachments called
    /// `image.png` cost a thousand tries, not half a million.
    next: HashMap<String, u64>,
}

impl Names {
    /// `dir` + `name`, or, when taken, `dir` + `stem(n).ext` with the first free `n` from 1.
    /// `dir` ends in `/`; `name` is already safe.
    pub(crate) fn unique(&mut self, dir: &str, name: &str) -> String {
        let (stem, ext) = match name.rfind('.') {
            Some(dot) if dot > 0 => name.split_at(dot),
            _ => (name, ""),
        };
        let key = format!("{dir}{name}").to_lowercase();
        let mut n = self.next.get(&key).copied().unwrap_or(0);
        loop {
            let candidate =
                if n == 0 { format!("{dir}{name}") } else { format!("{dir}{stem}({n}){ext}") };
            n += 1;
            if self.used.insert(candidate.to_lowercase()) {
                self.next.insert(key, n);
                return candidate;
            }
        }
    }
}

/// The last path segment of an id (`spaces/AAAA` → `AAAA`), made safe.
fn id_name(id: &str) -> SafeName {
    SafeName::new(id.rsplit('/').next().unwrap_or(id))
}

/// A space's folder name as Takeout writes it: `DM <id>` for direct messages, `Space <id>`
/// otherwise (`ingest::takeout_chat` reads the conversation type back from the first word and
/// the id from the rest).
pub(crate) fn chat_folder(meta: &ChatMeta) -> String {
    let kind = match meta.conversation {
        Some(ConversationType::DirectMessage) => "DM",
        _ => "Space",
    };
    format!("{kind} {}", id_name(&meta.space_id))
}

/// `group_info.json`: the space's name (when it has one) and its members.
pub(crate) fn group_info_json(meta: &ChatMeta) -> Vec<u8> {
    let members: Vec<serde_json::Value> =
        meta.participants.iter().map(|p| json!({ "email": p, "user_type": "Human" })).collect();
    let mut v = json!({ "members": members });
    if let Some(name) = &meta.space_name {
        v["name"] = json!(name);
    }
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}

/// Opens a `messages.json` entry; messages are joined by [`JSON_SEP`] and it is closed by
/// [`JSON_TAIL`], so every zip's copy of a space's `messages.json` is a whole JSON document
/// even when the space continues in the next zip.
pub(crate) const JSON_HEAD: &[u8] = b"{\n  \"messages\": [\n    ";
/// Between two messages of a `messages.json` entry.
pub(crate) const JSON_SEP: &[u8] = b",\n    ";
/// Closes a `messages.json` entry.
pub(crate) const JSON_TAIL: &[u8] = b"\n  ]\n}\n";

/// One message of `messages.json`: creator, `created_date` in Takeout's words, `text`,
/// `topic_id`, `message_id`, and `attached_files` as (original name, file name beside it).
pub(crate) fn chat_message_json(
    meta: &ChatMeta,
    text: &str,
    attached: &[(String, String)],
) -> Vec<u8> {
    let mut creator = json!({ "email": meta.sender, "user_type": "Human" });
    if let Some(name) = &meta.sender_name {
        creator["name"] = json!(name);
    }
    let mut v = json!({
        "creator": creator,
        "created_date": time::takeout_chat_utc(meta.created).unwrap_or_default(),
        "text": text,
        "message_id": meta.message_id,
    });
    if let Some(t) = &meta.thread_id {
        v["topic_id"] = json!(t);
    }
    if let Some(d) = meta.deleted.and_then(time::takeout_chat_utc) {
        v["deleted_date"] = json!(d);
    }
    if !attached.is_empty() {
        v["attached_files"] =
            attached.iter().map(|(o, e)| json!({ "original_name": o, "export_name": e })).collect();
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

/// An attachment's file name beside `messages.json`: `File-<safe name>` (never one of the two
/// JSON files).
pub(crate) fn attachment_name(name: Option<&str>) -> String {
    format!("File-{}", SafeName::new(name.unwrap_or("attachment")))
}

/// Takeout's word for a Voice item in its file name.
fn voice_word(kind: VoiceKind) -> &'static str {
    match kind {
        VoiceKind::TextMessage => "Text",
        VoiceKind::Voicemail => "Voicemail",
        VoiceKind::IncomingCall => "Received",
        VoiceKind::OutgoingCall => "Placed",
        VoiceKind::MissedCall => "Missed",
    }
}

/// A Voice page's file stem: `<number> - <Text|Voicemail|Received|Placed|Missed> - <time>`,
/// the time as Takeout writes it (`2024-01-02T10_00_00Z`); a text conversation with several
/// others is a `Group Conversation - <time>`.
pub(crate) fn voice_stem(meta: &VoiceMeta) -> String {
    let at = time::iso_utc(meta.started).unwrap_or_default().replace(':', "_");
    let at = SafeName::new(&at);
    if meta.kind == VoiceKind::TextMessage && meta.participant_numbers.len() > 1 {
        return format!("Group Conversation - {at}");
    }
    let who = meta.participant_numbers.first().map_or("Unknown", String::as_str);
    format!("{} - {} - {at}", SafeName::new(who), voice_word(meta.kind))
}

/// Text made safe inside HTML elements and double-quoted attributes.
pub(crate) fn escape(s: &str) -> String {
    crate::format::html::escape(s)
}

/// `<a class="tel" href="tel:…"><span class="fn">name</span></a>`.
fn tel(number: &str, name: &str) -> String {
    format!(
        "<a class=\"tel\" href=\"tel:{}\"><span class=\"fn\">{}</span></a>",
        escape(number),
        escape(name)
    )
}

/// One Voice item as a page the way Takeout writes it (the hCard/hAudio classes
/// `ingest::takeout_voice` reads): the title says what it is, `abbr.published` when, the
/// participants as `tel:` links, a conversation's messages (`Me` for the owner's), a call's
/// `abbr.duration`, a voicemail's transcript and its `<audio>` (`audio`: the `.mp3` beside the
/// page), the labels. Everything taken from the record is escaped.
pub(crate) fn voice_html(
    meta: &VoiceMeta,
    audio: Option<&str>,
    transcript: Option<&str>,
) -> String {
    let who = meta.participant_numbers.first().map_or("", String::as_str);
    let title = match meta.kind {
        VoiceKind::TextMessage => format!("Conversation with {who}"),
        VoiceKind::Voicemail => format!("Voicemail from {who}"),
        VoiceKind::IncomingCall => format!("Received call from {who}"),
        VoiceKind::OutgoingCall => format!("Placed call to {who}"),
        VoiceKind::MissedCall => format!("Missed call from {who}"),
    };
    let iso = time::iso_utc(meta.started).unwrap_or_default();
    let mut h = String::new();
    h.push_str("<?xml version=\"1.0\" ?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n<meta charset=\"utf-8\" />\n<title>");
    h.push_str(&escape(&title));
    h.push_str("</title>\n</head>\n<body>\n");
    if meta.kind == VoiceKind::TextMessage {
        h.push_str("<div class=\"hChatLog hfeed\">\n");
        for m in &meta.texts {
            let at = time::iso_utc(m.at).unwrap_or_default();
            let name = if m.outgoing { "Me" } else { m.from.as_str() };
            h.push_str(&format!(
                "<div class=\"message\"><abbr class=\"dt\" title=\"{}\">{}</abbr>:\n<cite class=\"sender vcard\">{}</cite>:\n<q>{}</q>\n</div>\n",
                escape(&at),
                escape(&at),
                tel(&m.from, name),
                escape(&m.text)
            ));
        }
        h.push_str("</div>\n");
        if meta.texts.is_empty() {
            h.push_str(&format!(
                "<abbr class=\"published\" title=\"{0}\">{0}</abbr>\n",
                escape(&iso)
            ));
        }
        h.push_str("<div class=\"participants\">Group conversation with:\n");
        let list: Vec<String> = meta.participant_numbers.iter().map(|n| tel(n, n)).collect();
        h.push_str(&list.join(", "));
        h.push_str("\n</div>\n");
    } else {
        let class = if meta.kind == VoiceKind::Voicemail { "haudio" } else { "hcall" };
        h.push_str(&format!("<div class=\"{class}\">\n<div class=\"contributor vcard\">"));
        h.push_str(&escape(title.trim_end_matches(who).trim_end()));
        h.push('\n');
        for n in &meta.participant_numbers {
            h.push_str(&tel(n, n));
            h.push('\n');
        }
        h.push_str("</div>\n");
        h.push_str(&format!("<abbr class=\"published\" title=\"{0}\">{0}</abbr>\n", escape(&iso)));
        if let Some(d) = meta.duration_secs {
            h.push_str(&format!(
                "<abbr class=\"duration\" title=\"PT{d}S\">({d} seconds)</abbr>\n"
            ));
        }
        if let Some(t) = transcript.filter(|t| !t.trim().is_empty()) {
            h.push_str(&format!(
                "<span class=\"description\"><span class=\"full-text\">{}</span></span>\n",
                escape(t)
            ));
        }
        if let Some(a) = audio {
            h.push_str(&format!("<audio controls=\"controls\" src=\"{}\"></audio>\n", escape(a)));
        }
        h.push_str("</div>\n");
    }
    if !meta.labels.is_empty() {
        let tags: Vec<String> = meta
            .labels
            .iter()
            .filter(|l| l.as_str() != "DELETED")
            .map(|l| format!("<a rel=\"tag\" href=\"#{0}\">{0}</a>", escape(l)))
            .collect();
        h.push_str(&format!("<div class=\"tags\">Labels: {}</div>\n", tags.join(", ")));
    }
    let deleted = meta.labels.iter().any(|l| l == "DELETED");
    h.push_str(&format!(
        "<div class=\"deletedStatusContainer\">User Deleted: {}</div>\n</body>\n</html>\n",
        if deleted { "True" } else { "False" }
    ));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_without_case_and_safe() {
        let mut n = Names::default();
        assert_eq!(n.unique("D/", "a.txt"), "D/a.txt");
        assert_eq!(n.unique("D/", "A.txt"), "D/A(1).txt");
        assert_eq!(n.unique("D/", "a.txt"), "D/a(2).txt");
        assert_eq!(n.unique("D/", "x"), "D/x");
        assert_eq!(n.unique("D/", "x"), "D/x(1)");
        // A name taken by a title of its own is skipped, and many copies stay distinct.
        assert_eq!(n.unique("D/", "y(1)"), "D/y(1)");
        assert_eq!(n.unique("D/", "y"), "D/y");
        assert_eq!(n.unique("D/", "y"), "D/y(2)");
        let many: HashSet<String> = (0..2_000).map(|_| n.unique("E/", "image.png")).collect();
        assert_eq!(many.len(), 2_000);
        assert_eq!(attachment_name(Some("../../etc/passwd")), "File-__._etc_passwd");
    }

    #[test]
    fn chat_dates_read_back() {
        let s = time::takeout_chat_utc(1_542_564_141).unwrap();
        assert_eq!(s, "Sunday, November 18, 2018 at 6:02:21 PM UTC");
        assert_eq!(crate::ingest::takeout_chat::takeout_date(&s), Some(1_542_564_141));
        let s = time::takeout_chat_utc(1_429_059_068).unwrap();
        assert_eq!(crate::ingest::takeout_chat::takeout_date(&s), Some(1_429_059_068));
    }
}
