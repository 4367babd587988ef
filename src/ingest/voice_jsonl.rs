//! Our Voice JSON Lines format (`docs/formats/voice-jsonl.md`): one item per line (a text
//! conversation, a voicemail or a call), with its owner and participant numbers, its texts, a
//! voicemail's audio and transcript as content files under the root, duration and labels.
//!
//! Parts: a voicemail's audio is its main part, its transcript next; a text conversation or call
//! without files has one part made here, its messages (or the call) as lines of UTF-8 text, so
//! every item has bytes with a `Hash`. The source key is the item id. An item whose `account` is
//! not the custodian being ingested is rejected rather than filed under the wrong person.

use super::content;
use super::jsonl;
use super::record::{Content, RawPart, RawRecord};
use super::{IngestError, Item};
use crate::model::{Metadata, PartKind, SourceKind, SourceRef, VoiceKind, VoiceMeta, VoiceText};
use serde::Deserialize;
use std::path::Path;

/// The header's `format`.
pub const FORMAT: &str = "ediscovery.voice";

/// One line: one item.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    item_id: String,
    account: String,
    #[serde(rename = "type")]
    kind: VoiceKind,
    started: String,
    #[serde(default)]
    owner_numbers: Vec<String>,
    #[serde(default)]
    participant_numbers: Vec<String>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    audio: Option<String>,
    #[serde(default)]
    transcript: Option<String>,
    #[serde(default)]
    duration_secs: Option<u64>,
    #[serde(default)]
    labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    at: String,
    from: String,
    outgoing: bool,
    text: String,
}

/// The items of the Voice JSON Lines file `path`, content paths under `root`.
pub fn items(
    path: &Path,
    root: &Path,
    limits: &crate::Limits,
) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    jsonl::items::<Line>(path, root, FORMAT, limits, record)
}

fn record(path: &Path, root: &Path, n: u64, l: Line) -> Result<RawRecord, String> {
    if l.item_id.trim().is_empty() {
        return Err("item_id is empty".to_owned());
    }
    let started = jsonl::time("started", &l.started)?;
    let texts = l
        .messages
        .into_iter()
        .map(|m| {
            Ok(VoiceText {
                at: jsonl::time("messages.at", &m.at)?,
                from: m.from,
                outgoing: m.outgoing,
                text: m.text,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    match l.kind {
        VoiceKind::TextMessage if texts.is_empty() => {
            return Err("a TEXT_MESSAGE item needs its messages".to_owned());
        }
        VoiceKind::TextMessage => {}
        _ if !texts.is_empty() => {
            return Err(format!("messages belong to TEXT_MESSAGE items, not {}", l.kind.as_str()));
        }
        _ => {}
    }
    if l.kind != VoiceKind::Voicemail && (l.audio.is_some() || l.transcript.is_some()) {
        return Err(format!(
            "audio and transcript belong to VOICEMAIL items, not {}",
            l.kind.as_str()
        ));
    }
    let mut parts = Vec::new();
    if let Some(a) = &l.audio {
        let r = content::resolve(root, a)?;
        parts.push(RawPart {
            kind: PartKind::Audio,
            name: Path::new(a).file_name().map(|f| f.to_string_lossy().into_owned()),
            content_type: Some(audio_type(a).to_owned()),
            content: Content::File(r.path),
        });
    }
    if let Some(t) = &l.transcript {
        let r = content::resolve(root, t)?;
        parts.push(RawPart {
            kind: PartKind::Transcript,
            name: Path::new(t).file_name().map(|f| f.to_string_lossy().into_owned()),
            content_type: Some("text/plain".to_owned()),
            content: Content::File(r.path),
        });
    }
    let meta = VoiceMeta {
        item_id: l.item_id.clone(),
        kind: l.kind,
        started,
        owner_numbers: l.owner_numbers,
        participant_numbers: l.participant_numbers,
        texts,
        duration_secs: l.duration_secs,
        labels: l.labels,
    };
    if parts.is_empty() {
        parts.push(RawPart::text(PartKind::Message, &render(&meta)));
    }
    Ok(RawRecord {
        source: SourceRef {
            kind: SourceKind::VoiceJsonl,
            path: path.display().to_string(),
            key: l.item_id,
            offset: None,
        },
        position: jsonl::at(path, n),
        meta: Metadata::Voice(Box::new(meta)),
        parts,
        account_claim: Some(l.account),
        defects: Vec::new(),
    })
}

/// The MIME type of a voicemail recording, by its extension (Voice records MP3).
fn audio_type(name: &str) -> &'static str {
    let ext = Path::new(name).extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("wav") => "audio/wav",
        Some("ogg" | "opus") => "audio/ogg",
        Some("m4a" | "mp4") => "audio/mp4",
        Some("flac") => "audio/flac",
        _ => "audio/mpeg",
    }
}

/// A text conversation's or call's bytes when no file holds them: one line per message
/// (`time<TAB>from<TAB>text`, the text's line breaks kept as `\n` escapes), or one line
/// describing the call. Deterministic, so the same item always has the same `Hash`.
pub fn render(v: &VoiceMeta) -> String {
    let when = |t: i64| crate::model::time::iso_utc(t).unwrap_or_else(|| t.to_string());
    let mut out = String::new();
    if v.texts.is_empty() {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            when(v.started),
            v.kind.as_str(),
            v.participant_numbers.join(","),
            v.duration_secs.map_or_else(String::new, |d| format!("{d}s"))
        ));
    }
    for t in &v.texts {
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            when(t.at),
            t.from,
            t.text.replace('\\', "\\\\").replace('\n', "\\n")
        ));
    }
    out
}
