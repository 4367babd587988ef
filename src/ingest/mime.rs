//! Reading a message's headers, parts and attachment names: the only caller of `mail-parser`.
//!
//! Nothing here changes or rejects the bytes: whatever can be read becomes metadata, whatever
//! cannot becomes a [`Defect`] on the record. A panic inside the parser (none is known) is caught
//! and turned into [`Defect::Unparseable`], so one hostile message cannot stop an ingest.

use crate::model::{Attachment, Defect, MailMeta, Mailbox};
use mail_parser::{Address, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders};
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

/// A parser that decodes only the headers ingest reads. Left empty, mail-parser fully parses
/// every registered header, `Received` chains included, which cost more than the rest of the
/// header work together on real mail; everything else stays raw (and `header_raw` still sees it).
fn parser() -> &'static MessageParser {
    static P: OnceLock<MessageParser> = OnceLock::new();
    P.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .with_address_headers()
            .with_message_ids()
            .header_date(HeaderName::Date)
            .header_text(HeaderName::Subject)
            .header_text(HeaderName::Other("Delivered-To".into()))
            .default_header_raw()
    })
}

/// At most this much decoded body text is indexed per message (Vault indexes about the first
/// megabyte); the stored bytes are never cut.
pub const MAX_BODY_TEXT: usize = 4 << 20;

/// What was read from one message.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Header metadata.
    pub meta: MailMeta,
    /// Decoded body text (HTML converted to text), for the index only.
    pub body: String,
    /// What was wrong.
    pub defects: Vec<Defect>,
    /// Raw `X-Gmail-Labels` value, unfolded, when present.
    pub gmail_labels: Option<String>,
}

/// Read `bytes` as an RFC 5322 message.
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut defects = Vec::new();
    if std::str::from_utf8(header_block(bytes)).is_err() {
        defects.push(Defect::InvalidUtf8Header);
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| parser().parse(bytes).map(|m| read(&m))));
    let mut out = match parsed {
        Ok(Some(p)) => p,
        Ok(None) | Err(_) => {
            defects.push(Defect::Unparseable);
            let mut body = String::from_utf8_lossy(bytes).into_owned();
            truncate_at_char(&mut body, MAX_BODY_TEXT);
            Parsed { body, ..Parsed::default() }
        }
    };
    if out.meta.message_id.is_none() && !defects.contains(&Defect::Unparseable) {
        defects.push(Defect::MissingMessageId);
    }
    if out.meta.date_sent.is_none() && !defects.contains(&Defect::Unparseable) {
        defects.push(Defect::BadDate);
    }
    defects.append(&mut out.defects);
    out.defects = defects;
    out
}

/// The bytes before the first empty line.
pub fn header_block(bytes: &[u8]) -> &[u8] {
    let lf = memchr::memmem::find(bytes, b"\n\n");
    let crlf = memchr::memmem::find(bytes, b"\r\n\r\n");
    let end = match (lf, crlf) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => bytes.len(),
    };
    &bytes[..end]
}

fn read(m: &Message<'_>) -> Parsed {
    let meta = MailMeta {
        message_id: m.message_id().map(strip_angles).filter(|s| !s.is_empty()),
        from: mailboxes(m.from().into_iter()),
        to: mailboxes(m.all_to()),
        cc: mailboxes(m.all_cc()),
        bcc: mailboxes(m.all_bcc()),
        subject: m.subject().map(str::to_owned),
        date_sent: m.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp()),
        // The newest Received header's date: the text after its last `;`.
        date_received: first_raw(m, HeaderName::Received)
            .as_deref()
            .and_then(|r| r.rsplit_once(';'))
            .and_then(|(_, date)| crate::model::time::parse_rfc2822(&unfold(date))),
        attachments: attachments(m),
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        list_id: first_raw(m, HeaderName::ListId).map(|v| list_id(&v)).filter(|s| !s.is_empty()),
        delivered_to: m
            .header_values("Delivered-To")
            .filter_map(|v| v.as_text())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        thread_id: first_raw(m, HeaderName::Other("X-GM-THRID".into()))
            .map(|s| s.trim().to_owned()),
        ..MailMeta::default()
    };
    let mut body = String::new();
    for i in 0..m.text_body_count() {
        if let Some(t) = m.body_text(i) {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(&t);
            if body.len() >= MAX_BODY_TEXT {
                truncate_at_char(&mut body, MAX_BODY_TEXT);
                break;
            }
        }
    }
    Parsed {
        meta,
        body,
        defects: Vec::new(),
        gmail_labels: first_raw(m, HeaderName::Other("X-Gmail-Labels".into())).map(|v| unfold(&v)),
    }
}

/// The parts a reader sees as attachments: every leaf part with a file name or
/// `Content-Disposition: attachment`, and every attached message. (mail-parser's own
/// `attachments()` lists every part that is not a body, unnamed PGP signatures included, and
/// misses named inline text parts, which it treats as bodies.)
fn attachments(m: &Message<'_>) -> Vec<Attachment> {
    m.parts
        .iter()
        .filter(|p| !p.is_multipart())
        .filter(|p| {
            p.is_message()
                || p.attachment_name().is_some()
                || p.content_disposition()
                    .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
        })
        .map(|p| Attachment {
            name: p.attachment_name().map(str::to_owned),
            content_type: p
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{}", c.ctype(), sub).to_lowercase(),
                    None => c.ctype().to_lowercase(),
                })
                .unwrap_or_else(|| {
                    if p.is_message() { "message/rfc822" } else { "text/plain" }.to_owned()
                }),
            size: p.len() as u64,
        })
        .collect()
}

/// The raw value of the first header called `name` (mail-parser's `header_raw` gives the last, and
/// nothing when the value is not UTF-8). Decoded lossily: the bytes stay untouched in the store.
fn first_raw<'a>(m: &'a Message<'_>, name: HeaderName<'_>) -> Option<Cow<'a, str>> {
    let h = m.headers().iter().find(|h| h.name == name)?;
    let raw = m.raw_message().get(h.offset_start as usize..h.offset_end as usize)?;
    Some(String::from_utf8_lossy(raw))
}

fn mailboxes<'a, 'x: 'a>(addrs: impl Iterator<Item = &'a Address<'x>>) -> Vec<Mailbox> {
    addrs
        .flat_map(|a| a.iter())
        .map(|a| Mailbox {
            name: a.name().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            address: a.address().map(|s| s.trim().to_owned()).unwrap_or_default(),
        })
        .filter(|mb| mb.name.is_some() || !mb.address.is_empty())
        .collect()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<Cow<'_, str>> = match v {
        HeaderValue::Text(t) => vec![t.clone()],
        HeaderValue::TextList(l) => l.clone(),
        _ => Vec::new(),
    };
    list.iter().map(|s| strip_angles(s)).filter(|s| !s.is_empty()).collect()
}

fn strip_angles(s: &str) -> String {
    s.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned()
}

fn unfold(s: &str) -> String {
    s.split(['\r', '\n']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// `List-Id: Friendly name <list.example.com>` → `list.example.com`.
fn list_id(raw: &str) -> String {
    let s = unfold(raw);
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].trim().to_owned(),
        _ => s.trim().to_owned(),
    }
}

fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers_and_parts() {
        let msg = b"Message-ID: <a@b>\r\nFrom: \"Ann\" <ann@x.com>\r\nTo: b@y.com, Cee <c@z.com>\r\n\
Subject: =?ISO-8859-1?Q?caf=E9?=\r\nDate: Wed, 02 Oct 2002 08:00:00 +0000\r\nList-Id: Dev <dev.x.com>\r\n\
Content-Type: multipart/mixed; boundary=xx\r\n\r\n--xx\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>world</b></p>\r\n\
--xx\r\nContent-Type: application/pdf; name=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\n\r\n%PDF\r\n--xx--\r\n";
        let p = parse(msg);
        assert!(p.defects.is_empty(), "{:?}", p.defects);
        assert_eq!(p.meta.message_id.as_deref(), Some("a@b"));
        assert_eq!(p.meta.from[0].name.as_deref(), Some("Ann"));
        assert_eq!(p.meta.to.len(), 2);
        assert_eq!(p.meta.subject.as_deref(), Some("café"));
        assert_eq!(p.meta.date_sent, Some(1033545600));
        assert_eq!(p.meta.list_id.as_deref(), Some("dev.x.com"));
        assert_eq!(p.meta.attachments[0].name.as_deref(), Some("résumé.pdf"));
        assert_eq!(p.meta.attachments[0].content_type, "application/pdf");
        assert!(p.body.contains("Hello") && p.body.contains("world") && !p.body.contains("<b>"));
    }

    #[test]
    fn received_date_is_the_newest_hop() {
        let msg = b"Received: from a by b;\r\n\tWed, 02 Oct 2002 09:00:00 +0100\r\n\
Received: from c by d; Tue, 01 Oct 2002 00:00:00 +0000\r\nMessage-ID: <r@x>\r\n\r\nbody\r\n";
        assert_eq!(parse(msg).meta.date_received, Some(1033545600));
        assert_eq!(parse(b"Received: no date here\n\nx").meta.date_received, None);
        // Raw headers that are not UTF-8 are still read (lossily), the first occurrence wins.
        let p = parse(b"X-Gmail-Labels: Inbox,Caf\xe9\nX-Gmail-Labels: Spam\n\nx");
        assert_eq!(p.gmail_labels.as_deref(), Some("Inbox,Caf\u{FFFD}"));
    }

    #[test]
    fn never_fails_on_garbage() {
        for input in [&b""[..], b"\0\0\0", b"\xff\xfe:\xff\n\n\xff", b"no colon here"] {
            let p = parse(input);
            assert!(!p.defects.is_empty());
        }
    }
}
