//! Reading a message's headers, parts and attachment names: the only caller of `mail-parser`.
//!
//! Nothing here changes or rejects the bytes: whatever can be read becomes metadata, whatever
//! cannot becomes a [`Defect`] on the record. A panic inside the parser (none is known) is caught
//! and turned into [`Defect::Unparseable`], so one hostile message cannot stop an ingest.
//!
//! Nesting is bounded before parsing: a message nested deeper than [`Limits::mime_depth`] is
//! parsed only up to the part that passes the limit (see `depth.rs`) and carries
//! [`Defect::MimeTooDeep`]; a parsed message is dropped level by level, never recursively.
//!
//! `Date` is read from mail-parser's fields but checked against the header's own year digits and
//! the calendar (see [`date_sent`]): a date is kept as written or marked [`Defect::BadDate`],
//! never silently moved to another day.

use super::depth;
use crate::Limits;
use crate::model::{Attachment, Defect, MailMeta, Mailbox};
use mail_parser::{
    Address, DateTime, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders, PartType,
};
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

/// Read `bytes` as an RFC 5322 message, within the default [`Limits`].
pub fn parse(bytes: &[u8]) -> Parsed {
    parse_within(bytes, &Limits::default())
}

/// Read `bytes` as an RFC 5322 message, parsing no deeper than `limits.mime_depth`.
pub fn parse_within(bytes: &[u8], limits: &Limits) -> Parsed {
    let limit = limits.mime_depth;
    let mut defects = Vec::new();
    if std::str::from_utf8(header_block(bytes)).is_err() {
        defects.push(Defect::InvalidUtf8Header);
    }
    // Only the bytes above the first too-deep part are parsed; the record keeps them all.
    let cut = depth::too_deep_at(bytes, limit);
    let input = cut.map_or(bytes, |at| &bytes[..at]);
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        parser().parse(input).map(|m| {
            let read = read(&m);
            (read, drop_flat(m))
        })
    }));
    let mut out = match parsed {
        Ok(Some((p, deepest))) => {
            // The pre-scan mirrors the parser; should they ever disagree, still say so.
            if cut.is_some() || deepest > limit {
                defects.push(Defect::MimeTooDeep { limit });
            }
            p
        }
        Ok(None) | Err(_) => {
            defects.push(Defect::Unparseable);
            if cut.is_some() {
                defects.push(Defect::MimeTooDeep { limit });
            }
            let mut body = String::from_utf8_lossy(input).into_owned();
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

/// A part body in base64 (`base64`) or quoted-printable (otherwise), decoded with mail-parser's
/// own decoders so that the depth pre-scan sees what the parser will see; base64 skips every
/// byte outside its alphabet, as mail-parser's MIME decoder does. `None` when it cannot decode.
pub(super) fn decode_transfer(base64: bool, body: &[u8]) -> Option<Vec<u8>> {
    if base64 {
        let alphabet: Vec<u8> = body
            .iter()
            .copied()
            .filter(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b))
            .collect();
        mail_parser::decoders::base64::base64_decode(&alphabet)
    } else {
        mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
    }
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
        message_id: first_raw(m, HeaderName::MessageId).and_then(|raw| message_id(&raw)),
        from: mailboxes(m.from().into_iter()),
        to: mailboxes(m.all_to()),
        cc: mailboxes(m.all_cc()),
        bcc: mailboxes(m.all_bcc()),
        subject: m.subject().map(str::to_owned),
        date_sent: date_sent(m),
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

/// Drops a parsed message without recursion and returns how many messages deep it nested.
/// mail-parser keeps an attached message as a `Message` inside its parent, and the compiler's drop
/// of that chain recurses once per level: 40,000 levels overflowed the stack. Here each nested
/// message is moved out onto a heap work list first, so depth costs heap, not stack.
fn drop_flat(m: Message<'_>) -> usize {
    let mut pending = vec![(m, 0usize)];
    let mut deepest = 0;
    while let Some((mut m, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        for part in &mut m.parts {
            if let PartType::Message(inner) = std::mem::take(&mut part.body) {
                pending.push((inner, depth + 1));
            }
        }
    }
    deepest
}

/// When the message was sent, UTC seconds, from the last `Date` header (the one mail-parser
/// reads), or `None` (and so [`Defect::BadDate`]) when it names no real instant.
///
/// mail-parser reads the year's digits as a number and then windows 0–99 into 1950–2049, so a
/// year written `0001` became 2001; and it takes days up to 31 in any month (31 February became
/// 2 or 3 March). Here the year is taken from the header's own digits instead: four digits are
/// the year as written, two digits are windowed as RFC 5322 §4.3 says (00–49 → 2000–2049,
/// 50–99 → 1950–1999), three digits are added to 1900. The day must exist in the calendar and
/// the instant must lie on the timeline the index holds (years 1678 to 2262, see
/// [`crate::model::time::on_timeline`]); otherwise there is no date sent (`BadDate`, and the
/// record is placed by its delivery date). So `0001`, `0102` (a client's 2002), 1600 and 9999
/// are all `BadDate`, none becomes another date.
fn date_sent(m: &Message<'_>) -> Option<i64> {
    let h = m.headers().iter().rev().find(|h| h.name == HeaderName::Date)?;
    let dt = h.value.as_datetime()?;
    let raw = m.raw_message().get(h.offset_start as usize..h.offset_end as usize)?;
    let year = match written_year(raw) {
        Some(digits) => crate::model::time::rfc5322_year(digits)?,
        None => i32::from(dt.year),
    };
    timestamp(dt, year).filter(|&secs| crate::model::time::on_timeline(secs))
}

/// The digits of the year in a `Date` value, found the way mail-parser's date reader finds the
/// year: text before the first digit (the weekday) is skipped, comments are skipped, a `;`
/// starts over, and the third space-separated field from the first digit is the year. `None` when
/// that field holds no digits, or digits split by other characters (mail-parser's own year is
/// then kept as it is).
fn written_year(raw: &[u8]) -> Option<&[u8]> {
    let (mut field, mut in_field, mut started, mut comments) = (0usize, false, false, 0usize);
    let mut year: Option<(usize, usize)> = None;
    for (i, &b) in raw.iter().enumerate() {
        if comments > 0 {
            match b {
                b'(' => comments += 1,
                b')' => comments -= 1,
                _ => {}
            }
            continue;
        }
        let mut next_field = false;
        match b {
            b'0'..=b'9' => {
                if field == 2 {
                    let (start, _) = year.unwrap_or((i, i));
                    year = Some((start, i + 1));
                }
                (started, in_field) = (true, true);
            }
            b'(' => {
                comments += 1;
                in_field = false;
                continue;
            }
            b';' => {
                (field, in_field, started, year) = (0, false, false, None);
                continue;
            }
            // A zone sign ends the date part; the year, if any, has been read.
            b'+' | b'-' => field = 6,
            b':' if in_field && started && (field == 3 || field == 4) => next_field = true,
            b' ' | b'\t' | b'\n' if in_field && started => next_field = true,
            b'a'..=b'z' | b'A'..=b'Z' => in_field = true,
            _ => {}
        }
        if next_field {
            field += 1;
            in_field = false;
        }
    }
    let (start, end) = year?;
    // Digits must be contiguous to be one number as written.
    raw[start..end].iter().all(u8::is_ascii_digit).then(|| &raw[start..end])
}

/// `dt` with `year`, as UTC seconds, when that day and time exist.
fn timestamp(dt: &DateTime, year: i32) -> Option<i64> {
    let sign = if dt.tz_before_gmt { -1 } else { 1 };
    let offset = sign * (i32::from(dt.tz_hour) * 3600 + i32::from(dt.tz_minute) * 60);
    let fields = [dt.month, dt.day, dt.hour, dt.minute, dt.second].map(i8::try_from);
    let [Ok(month), Ok(day), Ok(hour), Ok(minute), Ok(second)] = fields else { return None };
    let civil = crate::model::time::Civil { year, month, day, hour, minute, second };
    crate::model::time::civil_to_utc(civil, offset)
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

/// A Message-ID header value as every later stage keeps it: unfolded (RFC 5322 §2.2.3: a line
/// break followed by white space is white space), the text between the first `<` and its `>`
/// (or the whole value when there are no brackets), white space inside removed (a msg-id holds
/// none; what is there came from folding). IDs without `@` (`<0UW3Y47e27xw>`) are kept as they
/// are; mail-parser's own reading folded the line break into the value or dropped such IDs.
fn message_id(raw: &str) -> Option<String> {
    let v = raw.trim();
    let inner = match v.find('<') {
        Some(a) => {
            let rest = v.get(a + 1..).unwrap_or("");
            rest.find('>').map_or(rest, |b| rest.get(..b).unwrap_or(rest))
        }
        None => v,
    };
    let id: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    (!id.is_empty()).then_some(id)
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
    fn message_ids_are_unfolded_and_kept_without_at() {
        for (raw, want) in [
            (" <a@b>", Some("a@b")),
            ("\r\n <folded@x>", Some("folded@x")),
            ("\n\t<fol\n ded@x>", Some("folded@x")),
            (" <0UW3Y47e27xw>", Some("0UW3Y47e27xw")),
            (" bare@id", Some("bare@id")),
            (" <a@b> (comment)", Some("a@b")),
            ("  ", None),
            (" <>", None),
        ] {
            assert_eq!(message_id(raw).as_deref(), want, "{raw:?}");
        }
        let p = parse(b"Message-ID:\r\n <folded-4@sample.example>\r\nSubject: x\r\n\r\nbody\r\n");
        assert_eq!(p.meta.message_id.as_deref(), Some("folded-4@sample.example"));
        let p = parse(b"Message-ID: <0UW3Y47e27xw>\nSubject: x\n\nbody\n");
        assert_eq!(p.meta.message_id.as_deref(), Some("0UW3Y47e27xw"));
    }

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
