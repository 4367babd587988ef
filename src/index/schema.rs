//! The index schema for all five corpora. One document per record; `seq` ties it to the store.

use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, NumericOptions,
    STRING, Schema, TextFieldIndexing, TextOptions,
};

/// Name of the word tokenizer: split on anything not alphanumeric, lower-case, drop tokens longer
/// than [`MAX_TOKEN`] bytes (base64 runs and the like). No stemming, no stop words: eDiscovery
/// search is literal.
pub const WORDS: &str = "edisc_words";
/// Longest indexed token.
pub const MAX_TOKEN: usize = 100;

/// Every field, by role.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct Fields {
    /// Record sequence number: the deterministic order and the link to the store.
    pub seq: Field,
    pub doc_id: Field,
    pub corpus: Field,
    pub account: Field,
    /// The org unit and each ancestor (`/`, `/Legal`, `/Legal/EMEA`).
    pub org_unit: Field,
    /// Message-ID, lower case, without angle brackets.
    pub message_id: Field,
    /// Address words and display-name words.
    pub from: Field,
    pub to: Field,
    pub cc: Field,
    pub bcc: Field,
    /// Whole addresses, lower case.
    pub from_addr: Field,
    pub to_addr: Field,
    pub cc_addr: Field,
    pub bcc_addr: Field,
    pub subject: Field,
    pub body: Field,
    /// Labels, lower case, spaces as `-` (Gmail's `label:` form).
    pub label: Field,
    /// Attachment name words.
    pub filename: Field,
    pub attachments: Field,
    /// The record's date for ranges and `after:`/`before:`: sent, else received.
    pub date: Field,
    pub date_sent: Field,
    pub date_received: Field,
    pub size: Field,
    pub draft: Field,
    pub list: Field,
    pub delivered_to: Field,
    pub thread_id: Field,
    /// Drive, chat, voice (filled by their ingest sources).
    pub title: Field,
    pub owner: Field,
    pub doc_type: Field,
    pub shared_with: Field,
    pub participants: Field,
    pub phone: Field,
    /// Drive: the creator's address, lower case.
    pub creator: Field,
    /// Chat: the space id; Drive: the shared drive id (scope filters, never typed queries).
    pub room: Field,
    /// Drive: the whole title, lower case, spaces collapsed (`title:"exact title"`).
    pub title_exact: Field,
    /// Flags a scope filters on: `room` (a chat message of a named space), `shared_drive` (a
    /// Drive file in a shared drive), `texts`, `voicemails`, `call_logs` (Voice covered data).
    pub flags: Field,
}

/// Build the schema.
pub fn build() -> (Schema, Fields) {
    let mut sb = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let raw = STRING;
    let num = NumericOptions::default().set_indexed().set_fast();
    let date = DateOptions::from(INDEXED).set_fast().set_precision(DateTimePrecision::Seconds);
    let f = Fields {
        seq: sb
            .add_u64_field("seq", NumericOptions::default().set_indexed().set_fast().set_stored()),
        doc_id: sb.add_text_field("doc_id", STRING),
        corpus: sb.add_text_field("corpus", STRING | FAST),
        account: sb.add_text_field("account", STRING | FAST),
        org_unit: sb.add_text_field("org_unit", raw.clone()),
        message_id: sb.add_text_field("message_id", raw.clone()),
        from: sb.add_text_field("from", words.clone()),
        to: sb.add_text_field("to", words.clone()),
        cc: sb.add_text_field("cc", words.clone()),
        bcc: sb.add_text_field("bcc", words.clone()),
        from_addr: sb.add_text_field("from_addr", raw.clone()),
        to_addr: sb.add_text_field("to_addr", raw.clone()),
        cc_addr: sb.add_text_field("cc_addr", raw.clone()),
        bcc_addr: sb.add_text_field("bcc_addr", raw.clone()),
        subject: sb.add_text_field("subject", words.clone()),
        body: sb.add_text_field("body", words.clone()),
        label: sb.add_text_field("label", raw.clone()),
        filename: sb.add_text_field("filename", words.clone()),
        attachments: sb.add_u64_field("attachments", num.clone()),
        date: sb.add_date_field("date", date.clone()),
        date_sent: sb.add_date_field("date_sent", date.clone()),
        date_received: sb.add_date_field("date_received", date),
        size: sb.add_u64_field("size", num.clone()),
        draft: sb.add_u64_field("draft", num),
        list: sb.add_text_field("list", raw.clone()),
        delivered_to: sb.add_text_field("delivered_to", raw.clone()),
        thread_id: sb.add_text_field("thread_id", raw.clone()),
        title: sb.add_text_field("title", words.clone()),
        owner: sb.add_text_field("owner", raw.clone()),
        doc_type: sb.add_text_field("doc_type", raw.clone()),
        shared_with: sb.add_text_field("shared_with", raw.clone()),
        participants: sb.add_text_field("participants", words),
        phone: sb.add_text_field("phone", raw.clone()),
        creator: sb.add_text_field("creator", raw.clone()),
        room: sb.add_text_field("room", raw.clone()),
        title_exact: sb.add_text_field("title_exact", raw.clone()),
        flags: sb.add_text_field("flags", raw),
    };
    (sb.build(), f)
}

/// A label as `label:` matches it: lower case, spaces and `/` as `-`.
pub fn label_term(label: &str) -> String {
    label.trim().to_lowercase().replace([' ', '/'], "-")
}

/// A title as `title:"…"` matches it whole: lower case, runs of white space as one space.
pub fn exact_title(title: &str) -> String {
    title.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The `type:` terms of a Drive file: its Google document type, and the kind its MIME type
/// names (`pdf`, `image`, `video`, `audio`, `text`, `archive`, and `document`, `spreadsheet`,
/// `presentation` for office files), so `type:spreadsheet` finds a Sheet and an XLSX alike.
pub fn drive_types(doc_type: Option<crate::model::DocumentType>, mime: &str) -> Vec<&'static str> {
    use crate::model::DocumentType as D;
    let mut out = Vec::new();
    if let Some(d) = doc_type {
        out.push(match d {
            D::Document => "document",
            D::Spreadsheet => "spreadsheet",
            D::Presentation => "presentation",
            D::Form => "form",
            D::Drawing => "drawing",
            D::SitesPage => "site",
        });
    }
    let m = mime.to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or_default().trim();
    let kind = match m {
        "application/pdf" => Some("pdf"),
        "application/vnd.google-apps.document" => Some("document"),
        "application/vnd.google-apps.spreadsheet" => Some("spreadsheet"),
        "application/vnd.google-apps.presentation" => Some("presentation"),
        "application/vnd.google-apps.form" => Some("form"),
        "application/vnd.google-apps.drawing" => Some("drawing"),
        "application/vnd.google-apps.folder" => Some("folder"),
        "application/msword"
        | "application/rtf"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.oasis.opendocument.text" => Some("document"),
        "application/vnd.ms-excel"
        | "text/csv"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.oasis.opendocument.spreadsheet" => Some("spreadsheet"),
        "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.oasis.opendocument.presentation" => Some("presentation"),
        "application/zip"
        | "application/x-7z-compressed"
        | "application/gzip"
        | "application/x-tar"
        | "application/vnd.rar" => Some("archive"),
        _ if m.starts_with("image/") => Some("image"),
        _ if m.starts_with("video/") => Some("video"),
        _ if m.starts_with("audio/") => Some("audio"),
        _ if m.starts_with("text/") => Some("text"),
        _ => None,
    };
    if let Some(k) = kind
        && !out.contains(&k)
    {
        out.push(k);
    }
    out
}

/// The `type:` terms of a Voice item: its kind (`text_message`, `voicemail`, `incoming_call`,
/// `outgoing_call`, `missed_call`) and shorter words people type (`text`, `sms`, `incoming`,
/// `outgoing`, `missed`, `call`).
pub fn voice_types(kind: crate::model::VoiceKind) -> &'static [&'static str] {
    use crate::model::VoiceKind as K;
    match kind {
        K::TextMessage => &["text_message", "text", "sms"],
        K::Voicemail => &["voicemail"],
        K::IncomingCall => &["incoming_call", "incoming", "call"],
        K::OutgoingCall => &["outgoing_call", "outgoing", "call"],
        K::MissedCall => &["missed_call", "missed", "call"],
    }
}
