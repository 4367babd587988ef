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
        phone: sb.add_text_field("phone", raw),
    };
    (sb.build(), f)
}

/// A label as `label:` matches it: lower case, spaces and `/` as `-`.
pub fn label_term(label: &str) -> String {
    label.trim().to_lowercase().replace([' ', '/'], "-")
}
