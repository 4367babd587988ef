//! Chat exports: conversations as mbox documents in the layout of real Vault Chat exports
//! (`../shared/spec/vault-export-facts.md` §5 and §19.2).
//!
//! - Plan ([`plan_documents`]): per account, every chat message of each conversation (space)
//!   holding a match is read once, and [`super::chat_context`] picks the context and cuts the
//!   documents; conversations newest matching message first, messages of a document in the
//!   order the real HTML shows (threads together). Each document gets its token
//!   `<SPACEID>-MBI-FLAT:<timestamp>`: the first message minus 12 hours in US Pacific time with
//!   microseconds, as Vault writes it. Our sources carry seconds, so the microseconds are free
//!   and number documents that would otherwise share a token (two custodians' copies of one
//!   conversation): the token links an mbox message to its metadata, so it must be unique.
//! - Run ([`write_documents`]): one mbox message per document — `Message-ID`/`Subject` the token,
//!   `Date` in Pacific time, `Received: by 0.0.0.0 with HTTP; …`, `multipart/mixed` with one
//!   quoted-printable `text/html` part rendering the conversation (`<div data-id="ID">` per
//!   message) and one base64 part per attachment; CRLF throughout. Edits and deletions, which
//!   Vault documents as exported, are rendered as extra divs inside the message's div, so the
//!   structure readers of real exports parse is unchanged.
//! - Metadata ([`write_listing`]): one `Document` per conversation document with `RoomID`,
//!   `RoomName`, `ConversationType`, `Participants`, the four chat date tags, and ours:
//!   `Account`, `MessageCount`, `MatchedMessageCount` (what the balance counts: context
//!   messages are exported but were not found by the search) and `DocIDs` (every message's).

use super::chat_context::{self, ChatMessage, ContextRules};
use super::corpus_zip::{self, Rendered, Units, part_bytes};
use super::files::FileOut;
use super::metadata;
use super::mime;
use super::plan::{ChatDocPlan, ExportPlan, FileKind, ZipPlan};
use super::run::{BlobSource, Failure, Outcomes, RecordOutcome};
use super::summary::WrittenFile;
use super::tables::Tables;
use super::{ExportError, planned_record};
use crate::digest::Md5;
use crate::format::csv::CsvWriter;
use crate::format::xml::{ExternalFile, Tag};
use crate::model::{
    Account, ChatMeta, ConversationType, Corpus, DocId, Metadata, PartKind, Record, time,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::path::Path;

/// Vault writes chat tokens and `Date` headers in US Pacific time.
const PACIFIC: &str = "America/Los_Angeles";

/// Chat `error.csv` columns (Vault's, then class and retry query).
pub const ERROR_COLUMNS: [&str; 7] = [
    "Document ID",
    "Filename",
    "Conversation Type",
    "Room name",
    "Error description",
    "Failure class",
    "Retry query",
];

/// One message as the plan needs it.
struct Msg {
    seq: u64,
    created: i64,
    id: String,
    thread: Option<String>,
    size: u64,
}

/// Replace the per-account zips [`ExportPlan::assign`] made from the hits with Chat's: every
/// conversation holding a match becomes documents (context included), zips split between
/// documents at the split size. Messages `hidden` names (deleted items the search left out,
/// by seq and DocId) are not brought back as context either.
pub fn plan_documents(
    plan: &mut ExportPlan,
    store: &Tables<'_>,
    hidden: &dyn Fn(u64, &crate::model::DocId) -> bool,
) -> Result<(), ExportError> {
    let rules = ContextRules::default();
    let mut by_account: BTreeMap<Account, BTreeSet<u64>> = BTreeMap::new();
    for z in std::mem::take(&mut plan.zips) {
        by_account.entry(z.account).or_default().extend(z.records);
    }
    let mut used = BTreeSet::new();
    let mut zips: Vec<ZipPlan> = Vec::new();
    for (account, matched) in by_account {
        let mut convs: BTreeMap<String, Vec<Msg>> = BTreeMap::new();
        for seq in store.seqs_of(Corpus::Chat, &account)? {
            let Some(r) = store.get(seq)? else { continue };
            if hidden(seq, &r.doc_id) {
                continue;
            }
            let size = r.stored_bytes();
            if let Metadata::Chat(c) = r.meta {
                let c = *c;
                convs.entry(c.space_id).or_default().push(Msg {
                    seq,
                    created: c.created,
                    id: c.message_id,
                    thread: c.thread_id,
                    size,
                });
            }
        }
        convs.retain(|_, ms| ms.iter().any(|m| matched.contains(&m.seq)));
        let sizes: HashMap<u64, u64> = convs.values().flatten().map(|m| (m.seq, m.size)).collect();
        let ctx: BTreeMap<String, Vec<ChatMessage>> = convs
            .iter()
            .map(|(space, ms)| {
                let ids: HashMap<&str, u64> = ms.iter().map(|m| (m.id.as_str(), m.seq)).collect();
                let msgs = ms
                    .iter()
                    .map(|m| ChatMessage {
                        id: m.seq,
                        created: m.created,
                        reply_to: m
                            .thread
                            .as_deref()
                            .filter(|t| *t != m.id)
                            .and_then(|t| ids.get(t).copied()),
                        matched: matched.contains(&m.seq),
                    })
                    .collect();
                (space.clone(), msgs)
            })
            .collect();
        drop(convs);
        let first_zip = zips.len();
        for (space, d) in chat_context::export_order(&ctx, rules) {
            // Rendered size, roughly: base64 and quoted-printable grow the bytes by a third, and
            // each message's HTML frame adds about 400 bytes.
            let stored: u64 = d.messages.iter().filter_map(|s| sizes.get(s)).sum();
            let bytes = stored / 3 * 4 + 400 * d.messages.len() as u64 + 2048;
            let start_new = match zips.last() {
                Some(z) if zips.len() > first_zip => {
                    z.bytes + bytes > plan.split_size && !z.documents.is_empty()
                }
                _ => true,
            };
            if start_new {
                let part = if zips.len() > first_zip { zips.len() - first_zip + 1 } else { 1 };
                zips.push(ZipPlan {
                    file: String::new(),
                    account: account.clone(),
                    part: u32::try_from(part).unwrap_or(u32::MAX),
                    entry: String::new(),
                    records: Vec::new(),
                    sizes: Vec::new(),
                    bytes: 0,
                    latest: None,
                    names: Vec::new(),
                    documents: Vec::new(),
                });
            }
            let Some(z) = zips.last_mut() else { continue };
            let hits: Vec<u64> =
                d.messages.iter().copied().filter(|s| matched.contains(s)).collect();
            z.records.extend(&hits);
            z.sizes.extend(hits.iter().map(|s| sizes.get(s).copied().unwrap_or(0)));
            z.bytes += bytes;
            z.latest = z.latest.max(Some(d.last));
            z.documents.push(ChatDocPlan {
                file_name: token(&space, d.first, &mut used),
                messages: d.messages,
                matched: hits,
            });
        }
    }
    for (i, z) in zips.iter_mut().enumerate() {
        z.file = format!("{}-{}.zip", plan.name, i + 1);
    }
    super::plan::name_entries(&plan.name, &mut zips);
    plan.zips = zips;
    plan.list_files();
    Ok(())
}

/// `<SPACEID>-MBI-FLAT:<first − 12 h in Pacific time>.<micros>`, unique among `used`. The space
/// id is its last path segment (`spaces/AAAA` → `AAAA`) in the characters readers of real
/// exports match (`[A-Za-z0-9_-]`).
fn token(space_id: &str, first: i64, used: &mut BTreeSet<String>) -> String {
    let last = space_id.rsplit('/').next().unwrap_or(space_id);
    let mut id: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(80)
        .collect();
    if id.is_empty() {
        id.push_str("space");
    }
    let at = first.saturating_sub(12 * 3600);
    let local = time::format_in(at, PACIFIC, "%Y-%m-%dT%H:%M:%S")
        .unwrap_or_else(|| "1970-01-01T00:00:00".to_owned());
    for micros in 0..1_000_000u32 {
        let t = format!("{id}-MBI-FLAT:{local}.{micros:06}");
        if used.insert(t.clone()) {
            return t;
        }
    }
    // A million documents of one space starting in the same second: name by count instead.
    let t = format!("{id}-MBI-FLAT:{local}.n{}", used.len());
    used.insert(t.clone());
    t
}

/// The chat metadata of a record in a Chat export (the store admits only chat metadata on chat
/// records, so this fails only on a broken invariant).
fn chat_of(r: &Record) -> Result<&ChatMeta, Failure> {
    match &r.meta {
        Metadata::Chat(c) => Ok(c),
        _ => Err(Failure {
            class: super::run::FailureClass::NonTransient,
            reason: format!("record {} has no chat metadata", r.doc_id),
        }),
    }
}

/// A date as the real HTML shows it: `September 28, 2022 at 1:01:10 PM UTC` (U+202F before
/// AM/PM), in UTC so readers agree with the metadata.
fn html_date(t: i64) -> String {
    time::format_in(t, "UTC", "%B %-d, %Y at %-I:%M:%S\u{202f}%p UTC")
        .or_else(|| time::iso_utc(t))
        .unwrap_or_default()
}

/// One rendered document: the message bytes and the instant its `From ` line carries.
struct Document {
    bytes: Vec<u8>,
    from_line_date: i64,
}

/// Render document `d` as one MIME message.
fn render(d: &ChatDocPlan, store: &Tables<'_>, source: &dyn BlobSource) -> Rendered<Document> {
    let mut recs = Vec::with_capacity(d.messages.len());
    for &seq in &d.messages {
        recs.push(planned_record(store, seq)?);
    }
    Ok(render_records(d, &recs, source))
}

fn render_records(
    d: &ChatDocPlan,
    recs: &[Record],
    source: &dyn BlobSource,
) -> Result<Document, Failure> {
    let metas: Vec<&ChatMeta> = recs.iter().map(chat_of).collect::<Result<_, _>>()?;
    // In-line replies of a thread whose top-level message is in this document, counted per
    // thread for the `N Replies` marker.
    let tops: BTreeSet<&str> = metas.iter().map(|c| c.message_id.as_str()).collect();
    let reply_of = |c: &ChatMeta| -> Option<String> {
        c.thread_id.as_deref().filter(|t| *t != c.message_id && tops.contains(t)).map(str::to_owned)
    };
    let mut replies: HashMap<String, usize> = HashMap::new();
    for c in &metas {
        if let Some(t) = reply_of(c) {
            *replies.entry(t).or_default() += 1;
        }
    }
    let mut marked = BTreeSet::new();
    let mut html = String::from("<html><head><meta content='text/html; charset=UTF-8'/></head>\n");
    let mut attachments = Vec::new();
    for (r, c) in recs.iter().zip(&metas) {
        let text = part_bytes(source, r, r.parts.main(), true)?;
        let reply = reply_of(c);
        if let Some(t) = &reply {
            if marked.insert(t.clone()) {
                let n = replies.get(t).copied().unwrap_or(1);
                let word = if n == 1 { "Reply" } else { "Replies" };
                html.push_str(&format!(
                    "<div style=\"padding-left:40px\"><div>{n} {word}</div></div>\n"
                ));
            }
            html.push_str("<div style=\"padding-left:40px\">");
        }
        html.push_str("<div data-id=\"");
        mime::html_escape(&c.message_id, &mut html);
        html.push_str("\"><div><div><span style=\"font-weight:700\">");
        mime::html_escape(&c.sender, &mut html);
        html.push_str("\u{a0}</span>");
        html.push_str(&html_date(c.created));
        html.push_str("</div><div style=\"white-space:pre-wrap;width:100%\">");
        mime::html_escape(&String::from_utf8_lossy(&text), &mut html);
        html.push_str("</div>");
        for (i, p) in r.parts.iter().enumerate().filter(|(_, p)| p.kind == PartKind::Attachment) {
            let bytes = part_bytes(source, r, p, i == 0)?;
            let name = p.name.clone().unwrap_or_else(|| format!("attachment-{i}"));
            html.push_str("<div>");
            mime::html_escape(&name, &mut html);
            html.push_str("</div>");
            let ctype = p.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
            attachments.push((name, ctype, bytes));
        }
        for e in &c.edits {
            html.push_str("<div style=\"color:#5f6368\">Edited ");
            html.push_str(&html_date(e.at));
            html.push_str("; earlier text: <span style=\"white-space:pre-wrap\">");
            mime::html_escape(&e.previous_text, &mut html);
            html.push_str("</span></div>");
        }
        if let Some(t) = c.deleted {
            html.push_str("<div style=\"color:#5f6368\">Deleted by the sender ");
            html.push_str(&html_date(t));
            html.push_str("</div>");
        }
        html.push_str("</div></div>");
        if reply.is_some() {
            html.push_str("</div>");
        }
        html.push('\n');
    }
    html.push_str("</html>\n");

    let first = metas.iter().map(|c| c.created).min().unwrap_or(0);
    let first_sender = metas.first().map(|c| c.sender.as_str()).unwrap_or("");
    let participants = participants(&metas);
    let boundary = format!("----=_Part_0_{}", &Md5::of(d.file_name.as_bytes()).to_hex()[..12]);
    let mut m = Vec::with_capacity(html.len() * 11 / 10 + 1024);
    let mut h = |k: &str, v: &str| {
        m.extend_from_slice(k.as_bytes());
        m.extend_from_slice(b": ");
        m.extend_from_slice(mime::one_line(v).as_bytes());
        m.extend_from_slice(b"\r\n");
    };
    h("Message-ID", &format!("<{}>", d.file_name));
    h("Subject", &d.file_name);
    h(
        "Date",
        &time::format_in(first, PACIFIC, "%a, %-d %b %Y %H:%M:%S %z (%Z)").unwrap_or_default(),
    );
    h("From", first_sender);
    h("To", &participants.join(", "));
    h(
        "Received",
        &format!(
            "by 0.0.0.0 with HTTP; {}",
            time::format_in(first, PACIFIC, "%a %b %d %H:%M:%S %Z %Y").unwrap_or_default()
        ),
    );
    h("MIME-Version", "1.0");
    h("Content-Type", &format!("multipart/mixed; boundary=\"{boundary}\""));
    m.extend_from_slice(b"\r\n");
    let open = format!("--{boundary}\r\n");
    m.extend_from_slice(open.as_bytes());
    m.extend_from_slice(
        b"Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
    );
    mime::quoted_printable(html.as_bytes(), &mut m);
    for (name, ctype, bytes) in &attachments {
        m.extend_from_slice(open.as_bytes());
        let q = mime::quoted(name);
        let head = format!(
            "Content-Type: {}; name={q}\r\nContent-Disposition: attachment; filename={q}\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            mime::one_line(ctype)
        );
        m.extend_from_slice(head.as_bytes());
        mime::base64(bytes, &mut m);
    }
    m.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(Document { bytes: m, from_line_date: first.saturating_sub(12 * 3600) })
}

/// Everyone in the conversation: the participants the messages list and every sender, sorted.
fn participants(metas: &[&ChatMeta]) -> Vec<String> {
    let set: BTreeSet<&str> = metas
        .iter()
        .flat_map(|c| c.participants.iter().map(String::as_str).chain([c.sender.as_str()]))
        .filter(|s| !s.is_empty())
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Render and write every document of zip `z`; each matched message's outcome (the document's
/// size and MD5 ride on its first match, which the metadata reads back).
pub fn write_documents(
    _plan: &ExportPlan,
    z: &ZipPlan,
    store: &Tables<'_>,
    source: &dyn BlobSource,
    put: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    outcomes: &mut Outcomes,
) -> Units {
    for d in &z.documents {
        match render(d, store, source)? {
            Ok(doc) => {
                let (size, md5) = (doc.bytes.len() as u64, Md5::of(&doc.bytes));
                let framed = corpus_zip::frame(&d.file_name, doc.from_line_date, &doc.bytes);
                if let Err(e) = put(&framed) {
                    return Ok(Err(e));
                }
                for (i, &seq) in d.matched.iter().enumerate() {
                    let first = i == 0;
                    let out = corpus_zip::exported(
                        first.then_some((size, md5)),
                        if first { size } else { 0 },
                    );
                    outcomes.push(seq, out);
                }
            }
            Err(f) => {
                let f = Failure {
                    reason: format!("conversation document {}: {}", d.file_name, f.reason),
                    ..f
                };
                for &s in &d.matched {
                    outcomes.push(s, RecordOutcome::Failed(f.clone()));
                }
            }
        }
    }
    Ok(Ok(()))
}

/// Vault's `RoomName`: the space's name; "Group chat" for group chats made since December
/// 2020; else the participants.
fn room_name(c: &ChatMeta, participants: &[String]) -> String {
    match (&c.space_name, c.conversation) {
        (Some(n), _) => n.clone(),
        (None, Some(ConversationType::GroupChat)) if !c.created_before_dec_2020 => {
            "Group chat".to_owned()
        }
        _ => participants.join(","),
    }
}

/// Vault's `ConversationType`.
fn conversation_type(c: &ChatMeta) -> &'static str {
    match c.conversation {
        Some(ConversationType::Space) | None => "Room",
        Some(ConversationType::GroupChat) if c.created_before_dec_2020 => "Group Direct Message",
        Some(ConversationType::GroupChat) => "Room",
        Some(ConversationType::DirectMessage) => "1:1 Direct Message",
    }
}

/// A document's DocID: derived from its account and token (unique, deterministic); not any
/// message's (the messages' are in the `DocIDs` tag).
fn document_id(account: &Account, token: &str) -> String {
    let key = format!("chat-document\u{0}{account}\u{0}{token}");
    DocId::from_bytes(Md5::of(key.as_bytes()).0).to_string()
}

/// Write `metadata.xml` for a Chat export: a `Document` per exported conversation document
/// (one whose first match carries its size and MD5 in `converted`), its messages decoded one
/// document at a time. The file and the characters XML replaced.
pub fn write_listing(
    plan: &ExportPlan,
    store: &Tables<'_>,
    converted: &HashMap<u64, (u64, Md5)>,
    out: &Path,
) -> Result<(Vec<WrittenFile>, u64), ExportError> {
    let name = plan.file_of(FileKind::MetadataXml);
    let path = out.join(&name);
    let io_err = |source| ExportError::Io { path: path.clone(), source };
    let f = FileOut::create(out, &name, FileKind::MetadataXml).map_err(io_err)?;
    let mut x = metadata::xml_start(plan, f).map_err(io_err)?;
    for z in &plan.zips {
        for d in &z.documents {
            let Some((size, md5)) = d.matched.first().and_then(|s| converted.get(s)) else {
                continue;
            };
            let mut recs = Vec::with_capacity(d.messages.len());
            for &seq in &d.messages {
                recs.push(planned_record(store, seq)?);
            }
            let metas: Vec<&ChatMeta> = recs.iter().filter_map(|r| chat_of(r).ok()).collect();
            let Some(first) = metas.first() else { continue };
            let people = participants(&metas);
            let times: Vec<i64> = metas.iter().map(|c| c.created).collect();
            let iso =
                |t: Option<&i64>| t.and_then(|t| time::iso_utc_millis(*t)).unwrap_or_default();
            let (lo, hi) = (iso(times.iter().min()), iso(times.iter().max()));
            let doc_ids: Vec<String> = recs.iter().map(|r| r.doc_id.to_string()).collect();
            let (count, matched) = (d.messages.len().to_string(), d.matched.len().to_string());
            let room = room_name(first, &people);
            let people = people.join(",");
            let doc_ids = doc_ids.join(",");
            let tags = [
                Tag { name: "Account", data_type: "Text", value: z.account.as_str() },
                Tag { name: "RoomID", data_type: "Text", value: &first.space_id },
                Tag { name: "RoomName", data_type: "Text", value: &room },
                Tag {
                    name: "ConversationType",
                    data_type: "Text",
                    value: conversation_type(first),
                },
                Tag { name: "Participants", data_type: "LongText", value: &people },
                Tag { name: "#DateFirstMessageSent", data_type: "DateTime", value: &lo },
                Tag { name: "#DateLastMessageSent", data_type: "DateTime", value: &hi },
                Tag { name: "#DateFirstMessageReceived", data_type: "DateTime", value: &lo },
                Tag { name: "#DateLastMessageReceived", data_type: "DateTime", value: &hi },
                Tag { name: "Labels", data_type: "Text", value: "" },
                Tag { name: "MessageCount", data_type: "Integer", value: &count },
                Tag { name: "MatchedMessageCount", data_type: "Integer", value: &matched },
                Tag { name: "DocIDs", data_type: "LongText", value: &doc_ids },
            ];
            let tags: Vec<Tag<'_>> = tags
                .into_iter()
                .filter(|t| !(t.data_type == "DateTime" && t.value.is_empty()))
                .collect();
            let hash = md5.to_hex();
            let file = ExternalFile { name: &d.file_name, size: *size, hash: &hash };
            x.document(&document_id(&z.account, &d.file_name), &tags, &file).map_err(io_err)?;
        }
    }
    let (f, replaced) = x.finish().map_err(io_err)?;
    Ok((vec![f.finish().map_err(io_err)?], replaced))
}

/// Chat `error.csv`: a row per failed matched message, with its document's token, conversation
/// type and room name. Chat messages have no Message-ID to search for, so the retry query is
/// empty and the description says to retry by Document ID (`--retry-from`).
pub fn write_errors(
    plan: &ExportPlan,
    failed: &[(&Record, &Failure)],
    guard: bool,
    w: impl Write,
) -> io::Result<()> {
    let token_of: HashMap<u64, &str> = plan
        .zips
        .iter()
        .flat_map(|z| &z.documents)
        .flat_map(|d| d.matched.iter().map(move |s| (*s, d.file_name.as_str())))
        .collect();
    let mut c = CsvWriter::with_guard(w, &ERROR_COLUMNS, guard)?;
    for (r, f) in failed {
        let (kind, room) = match chat_of(r) {
            Ok(m) => (conversation_type(m).to_owned(), room_name(m, &participants(&[m]))),
            Err(_) => (String::new(), String::new()),
        };
        c.row(&[
            r.doc_id.to_string(),
            token_of.get(&r.seq).copied().unwrap_or("").to_owned(),
            kind,
            room,
            format!(
                "{}; a chat message has no Message-ID to search for: retry it by Document ID with --retry-from",
                f.reason
            ),
            f.class.as_str().to_owned(),
            String::new(),
        ])?;
    }
    c.finish().map(|_| ())
}
