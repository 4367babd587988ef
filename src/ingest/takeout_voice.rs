//! Google Takeout's Voice export: `Voice/Calls/` holding one XHTML file per text conversation,
//! call or voicemail (`<who> - <Text|Placed|Received|Missed|Voicemail|Recorded> - <UTC>.html`,
//! `Group Conversation - <UTC>.html`), voicemail and recorded-call audio as `<same stem>.mp3`,
//! and MMS images and contact cards as `<same stem>-<n>-<m>.<ext>`.
//!
//! Each HTML file is one Voice record. What it is comes from its `<title>` ("Placed call to",
//! "Received call from", "Missed call from", "Voicemail from", "Recorded call with"; a text
//! conversation is an `hChatLog`); Google Voice records only incoming calls, so a recorded call
//! is an `INCOMING_CALL` (its `Recorded` label kept). Numbers come from the `tel:` links, the
//! owner's from the messages the page marks `Me`, times from the `title` of `published` and `dt`
//! elements (with their offsets), the duration from `duration` (`PT1M2S`), labels from the
//! `rel="tag"` links, `DELETED` when "User Deleted" is `True`, a voicemail's transcript from its
//! `full-text`. Parts: the audio first when there is some (Vault's main part of a voicemail),
//! then the page itself (kept byte for byte), the transcript, then the attachments. Files of the
//! folder that belong to no page are reported as notices, links are never followed.
//!
//! The page is read by a small tag scanner written here: the pages are generated XHTML, and the
//! crate's one HTML-to-text converter (`extract::html`) decodes the text it finds.

use super::entry::{self, Kind, NOT_REGULAR, SYMLINK};
use super::record::{Content, RawPart, RawRecord};
use super::walk;
use super::{IngestError, Item, Notice, Position, Rejection};
use crate::model::{Metadata, PartKind, SourceKind, SourceRef, VoiceKind, VoiceMeta, VoiceText};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest page read: real pages are a few KiB; a page this large is not Takeout's.
/// The largest page read: `Limits::takeout_file_bytes` of the default policy (the adapter is
/// not given the caller's `Limits` yet).
fn max_page() -> u64 {
    crate::Limits::default().takeout_file_bytes
}

/// The `Calls` folder under `path`: `path/Voice/Calls`, `path/Calls` or `path` itself.
fn calls_dir(path: &Path) -> Option<PathBuf> {
    [path.join("Voice").join("Calls"), path.join("Calls"), path.to_path_buf()]
        .into_iter()
        .find(|p| p.is_dir())
}

/// Every conversation, call and voicemail of the Takeout Voice export at `path` (a `Takeout`,
/// `Voice` or `Calls` folder).
pub fn items(path: &Path) -> Result<impl Iterator<Item = Item> + Send + use<>, IngestError> {
    let dir = calls_dir(path).ok_or_else(|| IngestError::NotTakeout {
        path: path.to_path_buf(),
        expected: "a Voice/Calls folder",
    })?;
    // One folder of files, listed once: pages are matched with their audio and attachments by
    // name. The listing is names only; each page is read when its turn comes.
    let mut pages = Vec::new();
    let mut others: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut early = Vec::new();
    for e in walk::walk(&dir) {
        match e {
            Err((p, reason)) => early.push(rejected(&p, reason)),
            Ok(e) if e.depth > 1 => early.push(Item::Notice(Notice {
                position: Position::file(&e.path),
                message: "not ingested: Takeout Voice keeps no files in subfolders".to_owned(),
            })),
            Ok(e) => match e.kind {
                Kind::Symlink => early.push(rejected(&e.path, SYMLINK.to_owned())),
                Kind::Other => early.push(rejected(&e.path, NOT_REGULAR.to_owned())),
                Kind::Dir => {}
                Kind::File => {
                    let (name, _) = entry::name_text(e.path.file_name().unwrap_or_default());
                    if name.to_ascii_lowercase().ends_with(".html") {
                        pages.push(e.path);
                    } else {
                        others.insert(name, e.path);
                    }
                }
            },
        }
    }
    // Which page each other file belongs to: `<stem>.mp3` or `<stem>-<n>-<m>.<ext>`.
    let mut belongs: BTreeMap<PathBuf, Vec<(String, PathBuf)>> = BTreeMap::new();
    let stems: BTreeMap<String, PathBuf> = pages
        .iter()
        .map(|p| {
            let (n, _) = entry::name_text(p.file_name().unwrap_or_default());
            (n.get(..n.len() - 5).unwrap_or_default().to_owned(), p.clone())
        })
        .collect();
    let mut orphans = Vec::new();
    for (name, path) in others {
        match owner_stem(&name).and_then(|s| stems.get(s)) {
            Some(page) => belongs.entry(page.clone()).or_default().push((name, path)),
            None => orphans.push(Item::Notice(Notice {
                position: Position::file(&path),
                message: "not ingested: belongs to no page of the export (no <stem>.html)"
                    .to_owned(),
            })),
        }
    }
    let owner = export_owner(&pages);
    let dir_s = dir.display().to_string();
    let records = pages.into_iter().map(move |p| {
        let files = belongs.remove(&p).unwrap_or_default();
        match page(&dir_s, &p, files, &owner) {
            Ok(r) => Item::Record(Box::new(r)),
            Err(reason) => rejected(&p, reason),
        }
    });
    Ok(early.into_iter().chain(records).chain(orphans))
}

/// The owner's numbers as the export's text conversations show them (the `tel:` of messages
/// marked `Me`). A call log or voicemail page never names the owner's number, but the export is
/// one account's, so these are its `OwnerPhoneNumbers` too (and what `to:` of an incoming call
/// and `from:` of an outgoing one match). Only conversation pages are read for it
/// (`<who> - Text - …`, `Group Conversation - …`); a page that cannot be read here is reported
/// when its turn comes.
fn export_owner(pages: &[PathBuf]) -> Vec<String> {
    let mut owner: Vec<String> = Vec::new();
    for p in pages {
        let (name, _) = entry::name_text(p.file_name().unwrap_or_default());
        if !(name.contains(" - Text - ") || name.starts_with("Group Conversation")) {
            continue;
        }
        let Ok((bytes, _)) = entry::read_regular_capped(p, max_page()) else { continue };
        let Ok(html) = std::str::from_utf8(&bytes) else { continue };
        for m in read_page(html).messages {
            if let Some(tel) = m.tel.filter(|t| !t.is_empty() && m.name.trim() == "Me")
                && !owner.contains(&tel)
            {
                owner.push(tel);
            }
        }
    }
    owner.sort();
    owner
}

fn rejected(path: &Path, reason: String) -> Item {
    Item::Rejected(Rejection { position: Position::file(path), reason })
}

/// The page stem a file name belongs to: `X.mp3` → `X`, `X-3-1.jpg` → `X`.
fn owner_stem(name: &str) -> Option<&str> {
    let (stem, _ext) = name.rsplit_once('.')?;
    if name.to_ascii_lowercase().ends_with(".mp3") && !is_numbered(stem) {
        return Some(stem);
    }
    let (rest, m) = stem.rsplit_once('-')?;
    let (base, n) = rest.rsplit_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(m) && digits(n)).then_some(base)
}

fn is_numbered(stem: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    stem.rsplit_once('-')
        .and_then(|(rest, m)| rest.rsplit_once('-').map(|(_, n)| digits(m) && digits(n)))
        .unwrap_or(false)
}

/// One tag or run of text.
#[derive(Debug)]
enum Tok<'a> {
    Open { name: String, attrs: Vec<(String, String)>, closed: bool },
    Close(String),
    Text(&'a str),
}

/// Tags and text of generated XHTML. Comments, declarations and processing instructions are
/// passed over; attribute values are entity-decoded.
fn tokens(html: &str) -> Vec<Tok<'_>> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let Some(lt) = memchr::memchr(b'<', &b[i..]).map(|n| i + n) else {
            out.push(Tok::Text(&html[i..]));
            break;
        };
        if lt > i {
            out.push(Tok::Text(&html[i..lt]));
        }
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(b.len(), |n| lt + n + 3);
            continue;
        }
        // The end of the tag: the first `>` outside quotes.
        let mut end = lt + 1;
        let mut quote = None;
        while end < b.len() {
            match (quote, b[end]) {
                (None, b'"' | b'\'') => quote = Some(b[end]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            end += 1;
        }
        let inner = &html[lt + 1..end.min(b.len())];
        i = (end + 1).min(b.len());
        if inner.starts_with('!') || inner.starts_with('?') {
            continue;
        }
        if let Some(name) = inner.strip_prefix('/') {
            out.push(Tok::Close(name.trim().to_ascii_lowercase()));
            continue;
        }
        let closed = inner.ends_with('/');
        let inner = inner.trim_end_matches('/');
        let name_len = inner.find(|c: char| c.is_whitespace()).unwrap_or(inner.len());
        let name = inner[..name_len].to_ascii_lowercase();
        out.push(Tok::Open { name, attrs: attrs(&inner[name_len..]), closed });
    }
    out
}

fn attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let key_len = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let key = rest[..key_len].to_ascii_lowercase();
        rest = rest[key_len..].trim_start();
        let mut value = String::new();
        if let Some(r) = rest.strip_prefix('=') {
            let r = r.trim_start();
            let (v, after) = match r.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &r[1..];
                    let e = body.find(q).unwrap_or(body.len());
                    (&body[..e], body.get(e + 1..).unwrap_or_default())
                }
                _ => {
                    let e = r.find(char::is_whitespace).unwrap_or(r.len());
                    (&r[..e], &r[e..])
                }
            };
            value = decode(v);
            rest = after.trim_start();
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// Character references decoded by the crate's HTML reader.
fn decode(s: &str) -> String {
    if s.contains('&') { crate::extract::html::html_text(s) } else { s.to_owned() }
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn has_class(attrs: &[(String, String)], class: &str) -> bool {
    attr(attrs, "class").is_some_and(|c| c.split_whitespace().any(|x| x == class))
}

const VOID: &[&str] = &["br", "img", "meta", "link", "hr", "input", "source"];

/// What a page says.
#[derive(Default, Debug)]
struct Page {
    title: String,
    chat_log: bool,
    published: Option<String>,
    duration: Option<String>,
    contributor_tel: Vec<String>,
    participants_tel: Vec<String>,
    labels: Vec<String>,
    deleted_text: String,
    transcript: String,
    audio: Option<String>,
    messages: Vec<PageMessage>,
}

#[derive(Default, Debug)]
struct PageMessage {
    at: Option<String>,
    tel: Option<String>,
    name: String,
    text: String,
}

fn read_page(html: &str) -> Page {
    let mut page = Page::default();
    // Open elements: (name, classes).
    let mut stack: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let inside = |stack: &[(String, Vec<(String, String)>)], name: &str, class: &str| {
        stack.iter().any(|(n, a)| n == name && (class.is_empty() || has_class(a, class)))
    };
    for t in tokens(html) {
        match t {
            Tok::Open { name, attrs, closed } => {
                match name.as_str() {
                    "div" if has_class(&attrs, "hChatLog") => page.chat_log = true,
                    "div" if has_class(&attrs, "message") => {
                        page.messages.push(PageMessage::default())
                    }
                    "abbr" if has_class(&attrs, "published") => {
                        page.published = attr(&attrs, "title").map(str::to_owned);
                    }
                    "abbr" if has_class(&attrs, "duration") => {
                        page.duration = attr(&attrs, "title").map(str::to_owned);
                    }
                    "abbr" if has_class(&attrs, "dt") && inside(&stack, "div", "message") => {
                        if let Some(m) = page.messages.last_mut() {
                            m.at = attr(&attrs, "title").map(str::to_owned);
                        }
                    }
                    "a" if has_class(&attrs, "tel") => {
                        let tel = attr(&attrs, "href").unwrap_or_default();
                        let tel = tel.strip_prefix("tel:").unwrap_or(tel).to_owned();
                        if inside(&stack, "div", "message") {
                            if let Some(m) = page.messages.last_mut() {
                                m.tel = Some(tel);
                            }
                        } else if inside(&stack, "div", "participants") {
                            page.participants_tel.push(tel);
                        } else if inside(&stack, "div", "contributor") {
                            page.contributor_tel.push(tel);
                        }
                    }
                    "audio" => page.audio = attr(&attrs, "src").map(str::to_owned),
                    _ => {}
                }
                if !closed && !VOID.contains(&name.as_str()) {
                    stack.push((name, attrs));
                }
            }
            Tok::Close(name) => {
                if let Some(at) = stack.iter().rposition(|(n, _)| *n == name) {
                    stack.truncate(at);
                }
            }
            Tok::Text(text) => {
                let top = stack.last();
                let in_class = |c: &str| top.is_some_and(|(_, a)| has_class(a, c));
                if top.is_some_and(|(n, _)| n == "title") {
                    page.title.push_str(text);
                } else if inside(&stack, "span", "full-text") {
                    page.transcript.push_str(&decode(text));
                } else if inside(&stack, "a", "")
                    && top.is_some_and(|(_, a)| attr(a, "rel") == Some("tag"))
                {
                    page.labels.push(decode(text).trim().to_owned());
                } else if inside(&stack, "div", "deletedStatusContainer") {
                    page.deleted_text.push_str(text);
                } else if inside(&stack, "div", "message")
                    && let Some(m) = page.messages.last_mut()
                {
                    if inside(&stack, "q", "") {
                        m.text.push_str(&decode(text));
                    } else if inside(&stack, "cite", "sender") && in_class("fn") {
                        m.name.push_str(&decode(text));
                    }
                }
            }
        }
    }
    page
}

/// `PT1H2M3S` as seconds.
fn iso_duration(s: &str) -> Option<u64> {
    let rest = s.strip_prefix("PT")?;
    let (mut total, mut num) = (0u64, String::new());
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                let unit = match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                // `as` saturates a huge or non-finite float; the sum saturates too, so a
                // hostile `PT99999…H` gives u64::MAX seconds, never an overflow.
                total = total.saturating_add((n * unit).round() as u64);
            }
            _ => return None,
        }
    }
    num.is_empty().then_some(total)
}

fn page(
    dir_s: &str,
    path: &Path,
    files: Vec<(String, PathBuf)>,
    export_owner: &[String],
) -> Result<RawRecord, String> {
    let (name, _) = entry::name_text(path.file_name().unwrap_or_default());
    let stem = name.get(..name.len().saturating_sub(5)).unwrap_or_default().to_owned();
    let (bytes, _) = entry::read_regular_capped(path, max_page())?;
    let html = std::str::from_utf8(&bytes)
        .map_err(|e| format!("not UTF-8 ({e}): not a Takeout Voice page"))?;
    let p = read_page(html);
    let title = p.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let kind = if title.starts_with("Placed call") {
        VoiceKind::OutgoingCall
    } else if title.starts_with("Received call") || title.starts_with("Recorded call") {
        VoiceKind::IncomingCall
    } else if title.starts_with("Missed call") {
        VoiceKind::MissedCall
    } else if title.starts_with("Voicemail") {
        VoiceKind::Voicemail
    } else if p.chat_log {
        VoiceKind::TextMessage
    } else {
        return Err(format!(
            "title {title:?}: not a Takeout Voice call, voicemail or conversation"
        ));
    };
    let mut owner = Vec::new();
    let mut participants: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, n: &str| {
        if !n.is_empty() && !list.iter().any(|x| x == n) {
            list.push(n.to_owned());
        }
    };
    for t in p.contributor_tel.iter().chain(&p.participants_tel) {
        add(&mut participants, t);
    }
    let mut texts = Vec::new();
    for m in &p.messages {
        let me = m.name.trim() == "Me";
        let tel = m.tel.clone().unwrap_or_default();
        if me {
            add(&mut owner, &tel);
        } else {
            add(&mut participants, &tel);
        }
        let at_s = m.at.as_deref().ok_or("a message without its time (abbr.dt)")?;
        let at = crate::model::time::parse_iso8601(at_s)
            .ok_or_else(|| format!("message time {at_s:?} is not an ISO 8601 time"))?;
        texts.push(VoiceText { at, from: tel, outgoing: me, text: m.text.trim().to_owned() });
    }
    if owner.is_empty() {
        owner = export_owner.to_vec();
    }
    let started = match (&p.published, texts.first()) {
        (Some(s), _) => crate::model::time::parse_iso8601(s)
            .ok_or_else(|| format!("published time {s:?} is not an ISO 8601 time"))?,
        (None, Some(t)) => t.at,
        (None, None) => return Err("no time: neither abbr.published nor a message".to_owned()),
    };
    let mut labels: Vec<String> = p.labels.into_iter().filter(|l| !l.is_empty()).collect();
    if p.deleted_text.split(':').nth(1).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        labels.push("DELETED".to_owned());
    }
    let duration_secs = match &p.duration {
        Some(d) => Some(iso_duration(d).ok_or_else(|| format!("duration {d:?} is not PT…S"))?),
        None => None,
    };
    let mut parts = Vec::new();
    let audio_name = p.audio.clone().or_else(|| Some(format!("{stem}.mp3")));
    let mut rest = Vec::new();
    for (fname, fpath) in files {
        if Some(&fname) == audio_name.as_ref() && parts.is_empty() {
            parts.push(RawPart {
                kind: PartKind::Audio,
                name: Some(fname),
                content_type: Some("audio/mpeg".to_owned()),
                content: Content::File(fpath),
            });
        } else {
            rest.push((fname, fpath));
        }
    }
    parts.push(RawPart {
        kind: PartKind::Message,
        name: Some(name.clone()),
        content_type: Some("text/html; charset=utf-8".to_owned()),
        content: Content::Inline(bytes.clone()),
    });
    let transcript = p.transcript.trim();
    if !transcript.is_empty() {
        parts.push(RawPart::text(PartKind::Transcript, transcript));
    }
    for (fname, fpath) in rest {
        let ctype = super::drive_folder::mime_of(&fname);
        parts.push(RawPart {
            kind: PartKind::Attachment,
            name: Some(fname),
            content_type: Some(ctype.to_owned()),
            content: Content::File(fpath),
        });
    }
    let meta = VoiceMeta {
        item_id: stem.clone(),
        kind,
        started,
        owner_numbers: owner,
        participant_numbers: participants,
        texts,
        duration_secs,
        labels,
    };
    Ok(RawRecord {
        source: SourceRef {
            kind: SourceKind::TakeoutVoice,
            path: dir_s.to_owned(),
            key: name,
            offset: None,
        },
        position: Position::file(path),
        meta: Metadata::Voice(Box::new(meta)),
        parts,
        account_claim: None,
        defects: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_duration_saturates_instead_of_overflowing() {
        assert_eq!(iso_duration("PT1H2M3S"), Some(3723));
        let huge = format!("PT{}H{}H", "9".repeat(30), "9".repeat(30));
        assert_eq!(iso_duration(&huge), Some(u64::MAX));
    }

    #[test]
    fn durations_and_stems() {
        assert_eq!(iso_duration("PT1M"), Some(60));
        assert_eq!(iso_duration("PT29M46S"), Some(1786));
        assert_eq!(iso_duration("PT1H"), Some(3600));
        assert_eq!(iso_duration("P1D"), None);
        assert_eq!(owner_stem("A - Voicemail - 2014Z.mp3"), Some("A - Voicemail - 2014Z"));
        assert_eq!(owner_stem("A - Text - 2021Z-5-1.vcf"), Some("A - Text - 2021Z"));
        assert_eq!(owner_stem("A - Text - 2021Z-16-1.jpg"), Some("A - Text - 2021Z"));
        assert_eq!(owner_stem("notes.txt"), None);
    }

    #[test]
    fn a_voicemail_page_reads() {
        let html = r##"<?xml version="1.0" ?><html><head><title>Voicemail from
X</title></head><body><div class="haudio"><div class="contributor vcard">Voicemail from
<a class="tel" href="tel:+12123214444"><span class="fn">X</span></a></div>
<abbr class="published" title="2014-05-16T19:54:27.000-07:00">May</abbr>
<span class="description"><span class="full-text">Hi, it&#39;s me.</span><span class="word">Hi</span></span>
<audio controls="controls" src="v.mp3"></audio><abbr class="duration" title="PT22S">x</abbr>
<div class="tags">Labels: <a rel="tag" href="#inbox">Inbox</a>, <a rel="tag" href="#v">Voicemail</a></div>
<div class="deletedStatusContainer">User Deleted:
True</div></div></body></html>"##;
        let p = read_page(html);
        assert_eq!(p.transcript, "Hi, it's me.");
        assert_eq!(p.contributor_tel, vec!["+12123214444"]);
        assert_eq!(p.labels, vec!["Inbox", "Voicemail"]);
        assert_eq!(p.audio.as_deref(), Some("v.mp3"));
        assert_eq!(p.duration.as_deref(), Some("PT22S"));
        assert!(p.deleted_text.contains("True"));
    }
}
