//! Voice exports (`../shared/spec/vault-export-facts.md` §7): one zip per account holding
//! `NAME-<account>.mbox`, one message per item — a text conversation's texts, a call's log line,
//! a voicemail's log line with its audio (MP3) and transcript attached. Its `Subject` is the
//! item's `FileName` (Vault: "file ID that matches the Subject"); we use the form every export
//! of ours links messages by (`<millis>-<DocID as UUID>.mbox`, unique). A `Document` per item
//! with every documented tag; no count file; `error.csv` in Vault's Voice shape (`Account`,
//! `Failed Conversation Count`).
//!
//! Vault's Voice mbox header layout is not documented (facts §18.7): ours is a plain
//! `multipart/mixed` message, CRLF, with the owner as `To` and the other party as `From` (the
//! reverse for outgoing calls and for conversations the owner began).

use super::corpus_zip::{self, Units, part_bytes};
use super::metadata::Converted;
use super::mime;
use super::naming::message_file_name;
use super::plan::ZipPlan;
use super::run::{BlobSource, Failure, Outcomes, RecordOutcome};
use super::summary::Balance;
use super::tables::Tables;
use crate::digest::Md5;
use crate::format::csv::CsvWriter;
use crate::format::xml::{EdrmWriter, ExternalFile, Tag};
use crate::model::{Metadata, PartKind, Record, VoiceKind, VoiceMeta, time};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Voice `error.csv` columns (Vault's: accounts where not every item was exported).
pub const ERROR_COLUMNS: [&str; 2] = ["Account", "Failed Conversation Count"];

fn voice_of(r: &Record) -> Result<&VoiceMeta, Failure> {
    match &r.meta {
        Metadata::Voice(v) => Ok(v),
        _ => Err(Failure {
            class: super::run::FailureClass::NonTransient,
            reason: format!("record {} has no Voice metadata", r.doc_id),
        }),
    }
}

/// `1:02:03` / `2:03`.
fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// The readable body of an item: its texts, or its call line. `main` is the record's main part.
fn body(v: &VoiceMeta, r: &Record, main: &[u8]) -> String {
    let when = |t: i64| time::rfc2822_utc(t).unwrap_or_default();
    let others = v.participant_numbers.join(", ");
    let mut s = String::new();
    match v.kind {
        VoiceKind::TextMessage => {
            for t in &v.texts {
                let dir = if t.outgoing { "sent" } else { "received" };
                s.push_str(&format!("{} ({dir}, {}):\n{}\n\n", t.from, when(t.at), t.text));
            }
            if v.texts.is_empty() {
                // The conversation as its source rendered it (the record's message part).
                if r.parts.main().kind == PartKind::Message {
                    s.push_str(&String::from_utf8_lossy(main));
                }
            }
        }
        kind => {
            let what = match kind {
                VoiceKind::Voicemail => "Voicemail from",
                VoiceKind::IncomingCall => "Incoming call from",
                VoiceKind::OutgoingCall => "Outgoing call to",
                _ => "Missed call from",
            };
            s.push_str(&format!("{what} {others} at {}", when(v.started)));
            if let Some(d) = v.duration_secs {
                s.push_str(&format!(" ({})", duration(d)));
            }
            s.push('\n');
        }
    }
    s
}

/// Render one item as a MIME message (CRLF); its `Subject` and `Message-ID` are its FileName.
fn render(r: &Record, source: &dyn BlobSource) -> Result<Vec<u8>, Failure> {
    let v = voice_of(r)?;
    let file_name = message_file_name(r);
    let owner = v.owner_numbers.join(", ");
    let others = v.participant_numbers.join(", ");
    let outgoing = v.kind == VoiceKind::OutgoingCall || v.texts.first().is_some_and(|t| t.outgoing);
    let (from, to) = if outgoing { (&owner, &others) } else { (&others, &owner) };
    // The main part is read and checked even where the body is made from the metadata: an item
    // whose stored bytes are gone or damaged fails rather than exporting without them.
    let main = part_bytes(source, r, r.parts.main(), true)?;
    let text = body(v, r, &main);
    let boundary = format!("----=_Part_0_{}", &Md5::of(file_name.as_bytes()).to_hex()[..12]);
    let mut m = Vec::with_capacity(text.len() + 1024);
    let mut h = |k: &str, val: &str| {
        m.extend_from_slice(k.as_bytes());
        m.extend_from_slice(b": ");
        m.extend_from_slice(mime::one_line(val).as_bytes());
        m.extend_from_slice(b"\r\n");
    };
    h("Message-ID", &format!("<{file_name}>"));
    h("Subject", &file_name);
    h("Date", &time::rfc2822_utc(v.started).unwrap_or_default());
    h("From", from);
    h("To", to);
    h("X-Voice-Conversation-Type", v.kind.as_str());
    h("MIME-Version", "1.0");
    h("Content-Type", &format!("multipart/mixed; boundary=\"{boundary}\""));
    m.extend_from_slice(b"\r\n");
    let open = format!("--{boundary}\r\n");
    m.extend_from_slice(open.as_bytes());
    m.extend_from_slice(
        b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
    );
    mime::quoted_printable(text.as_bytes(), &mut m);
    for (i, p) in r.parts.iter().enumerate() {
        if !matches!(p.kind, PartKind::Audio | PartKind::Transcript | PartKind::Attachment) {
            continue;
        }
        let bytes = if i == 0 { main.clone() } else { part_bytes(source, r, p, false)? };
        let default = match p.kind {
            PartKind::Audio => ("voicemail.mp3", "audio/mpeg"),
            PartKind::Transcript => ("transcript.txt", "text/plain; charset=UTF-8"),
            _ => ("attachment", "application/octet-stream"),
        };
        let name = mime::quoted(p.name.as_deref().unwrap_or(default.0));
        let ctype = mime::one_line(p.content_type.as_deref().unwrap_or(default.1));
        m.extend_from_slice(open.as_bytes());
        m.extend_from_slice(
            format!(
                "Content-Type: {ctype}; name={name}\r\nContent-Disposition: attachment; filename={name}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            )
            .as_bytes(),
        );
        mime::base64(&bytes, &mut m);
    }
    m.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(m)
}

/// Render and write every item of zip `z`; each outcome carries the message's size and MD5
/// (what its `Document` describes).
pub fn write_items(
    z: &ZipPlan,
    store: &Tables<'_>,
    source: &dyn BlobSource,
    put: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    outcomes: &mut Outcomes,
) -> Units {
    for &seq in &z.records {
        let r = super::planned_record(store, seq)?;
        match render(&r, source) {
            Ok(msg) => {
                let (size, md5) = (msg.len() as u64, Md5::of(&msg));
                let framed = corpus_zip::frame(&message_file_name(&r), r.date().unwrap_or(0), &msg);
                if let Err(e) = put(&framed) {
                    return Ok(Err(e));
                }
                outcomes.push(seq, corpus_zip::exported(Some((size, md5)), size));
            }
            Err(f) => outcomes.push(seq, RecordOutcome::Failed(f)),
        }
    }
    Ok(Ok(()))
}

/// One Voice item's `Document`. `converted` is the rendered message's size and MD5.
pub fn xml_document<W: Write>(
    x: &mut EdrmWriter<W>,
    r: &Record,
    converted: Converted<'_>,
) -> io::Result<()> {
    let v = voice_of(r).map_err(|f| io::Error::new(io::ErrorKind::InvalidInput, f.reason))?;
    let iso = |t: Option<i64>| t.and_then(time::iso_utc_millis).unwrap_or_default();
    // Texts: first and last sent (by the owner) and received; calls and voicemails: all four
    // the start, as Vault documents.
    let (sent, received): (Vec<i64>, Vec<i64>) = if v.kind == VoiceKind::TextMessage {
        (
            v.texts.iter().filter(|t| t.outgoing).map(|t| t.at).collect(),
            v.texts.iter().filter(|t| !t.outgoing).map(|t| t.at).collect(),
        )
    } else {
        (vec![v.started], vec![v.started])
    };
    let first_sent = iso(sent.iter().min().copied());
    let last_sent = iso(sent.iter().max().copied());
    let first_received = iso(received.iter().min().copied());
    let last_received = iso(received.iter().max().copied());
    let (owners, others, labels) = (
        v.owner_numbers.join(","),
        v.participant_numbers.join(","),
        super::metadata::labels(&v.labels),
    );
    let duration = v.duration_secs.map(|d| d.to_string()).unwrap_or_default();
    let tags = [
        Tag { name: "Account", data_type: "Text", value: r.account.as_str() },
        Tag { name: "#Author", data_type: "Text", value: r.account.as_str() },
        Tag { name: "#DateFirstMessageSent", data_type: "DateTime", value: &first_sent },
        Tag { name: "#DateLastMessageSent", data_type: "DateTime", value: &last_sent },
        Tag { name: "#DateFirstMessageReceived", data_type: "DateTime", value: &first_received },
        Tag { name: "#DateLastMessageReceived", data_type: "DateTime", value: &last_received },
        Tag { name: "ConversationType", data_type: "Text", value: v.kind.as_str() },
        Tag { name: "ParticipantPhoneNumbers", data_type: "LongText", value: &others },
        Tag { name: "OwnerPhoneNumbers", data_type: "LongText", value: &owners },
        Tag { name: "Labels", data_type: "Text", value: &labels },
        Tag { name: "ItemID", data_type: "Text", value: &v.item_id },
        Tag { name: "DurationSeconds", data_type: "Integer", value: &duration },
    ];
    let tags: Vec<Tag<'_>> =
        tags.into_iter().filter(|t| !(t.data_type == "DateTime" && t.value.is_empty())).collect();
    let (size, hash) = match converted {
        Some((s, h)) => (*s, h.to_hex()),
        None => (r.blob().size, r.blob().md5.to_hex()),
    };
    let file_name = message_file_name(r);
    x.document(&r.doc_id.to_string(), &tags, &ExternalFile { name: &file_name, size, hash: &hash })
}

/// Voice `error.csv`: one row per account with items not exported (Vault's Voice report has no
/// per-item rows or error codes).
pub fn write_errors(
    balances: &BTreeMap<String, Balance>,
    guard: bool,
    w: impl Write,
) -> io::Result<()> {
    let mut c = CsvWriter::with_guard(w, &ERROR_COLUMNS, guard)?;
    for b in balances.values().filter(|b| b.failed() > 0) {
        c.row(&[b.account.clone(), b.failed().to_string()])?;
    }
    c.finish().map(|_| ())
}
