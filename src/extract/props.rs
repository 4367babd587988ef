//! What a file states about itself: author, title, dates (OOXML `docProps/core.xml`, ODF
//! `meta.xml`, the PDF `Info` dictionary). Drive ingest uses them where the source gives none.

use super::parts::ZipRead;
use super::xml::{Flow, Node};
use crate::model::time::{Civil, civil_to_utc};
use serde::Serialize;

/// Properties stored inside a file. Each is as the file states it: anyone could have
/// written them, so they describe the file, they do not prove anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Properties {
    /// The document's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Who created it (`dc:creator` in OOXML, `meta:initial-creator` in ODF, `Author` in PDF).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// Who saved it last (`cp:lastModifiedBy`, ODF `dc:creator`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
    /// When it was created, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// When it was last modified, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<i64>,
}

/// Which property an element holds, by the local names OOXML and ODF use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Creator,
    LastModifiedBy,
    Created,
    Modified,
}

/// Read a core-properties part: `docProps/core.xml` (`odf == false`) or ODF's `meta.xml`.
/// A missing or broken part gives no properties: they are a convenience, not the content.
pub(super) fn read(parts: &mut ZipRead<'_, '_>, entry: &str, odf: bool) -> Properties {
    let mut props = Properties::default();
    let mut current: Option<Field> = None;
    let mut value = String::new();
    let _ = parts.walk(entry, |node| {
        match node {
            Node::Open(e) => {
                value.clear();
                current = match (e.local(), odf) {
                    ("title", _) => Some(Field::Title),
                    ("creator", false) | ("initial-creator", true) => Some(Field::Creator),
                    ("lastModifiedBy", false) | ("creator", true) => Some(Field::LastModifiedBy),
                    ("created", false) | ("creation-date", true) => Some(Field::Created),
                    ("modified", false) | ("date", true) => Some(Field::Modified),
                    _ => None,
                };
            }
            // Property values are short; a hostile one is cut, not held whole.
            Node::Text(t) if current.is_some() && value.len() < 4096 => value.push_str(t),
            Node::Text(_) => {}
            Node::Close(_) => {
                let v = value.trim();
                match current.take() {
                    _ if v.is_empty() => {}
                    Some(Field::Title) => props.title = Some(v.to_owned()),
                    Some(Field::Creator) => props.creator = Some(v.to_owned()),
                    Some(Field::LastModifiedBy) => props.last_modified_by = Some(v.to_owned()),
                    Some(Field::Created) => props.created = iso_date(v),
                    Some(Field::Modified) => props.modified = iso_date(v),
                    None => {}
                }
                value.clear();
            }
        }
        Flow::Continue
    });
    props
}

/// Digits at the front of `s`, as a number, and the rest.
fn number(s: &str, len: usize) -> Option<(i32, &str)> {
    let d = s.get(..len)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((d.parse().ok()?, &s[len..]))
}

/// A W3C date-time as OOXML and ODF write them: `2017-03-05T10:29:54Z`, with an optional
/// fraction and an optional `±hh:mm` zone. A time without a zone (ODF often writes none) is
/// taken as UTC. `None` when it is not one, or names no real instant.
pub(super) fn iso_date(s: &str) -> Option<i64> {
    let (year, r) = number(s, 4)?;
    let (month, r) = number(r.strip_prefix('-')?, 2)?;
    let (day, r) = number(r.strip_prefix('-')?, 2)?;
    let (mut hour, mut minute, mut second, mut offset) = (0, 0, 0, 0);
    if let Some(r) = r.strip_prefix(['T', ' ']) {
        let (h, r) = number(r, 2)?;
        let (mi, r) = number(r.strip_prefix(':')?, 2)?;
        let (sec, r) = match r.strip_prefix(':') {
            Some(r) => number(r, 2)?,
            None => (0, r),
        };
        let r = match r.strip_prefix(['.', ',']) {
            Some(f) => f.trim_start_matches(|c: char| c.is_ascii_digit()),
            None => r,
        };
        offset = zone(r, ':')?;
        (hour, minute, second) = (h, mi, sec);
    }
    to_utc(year, month, day, hour, minute, second, offset)
}

/// A PDF date (PDF 32000 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`, every part after the year
/// optional, `O` one of `Z`, `+`, `-`; the apostrophes are often missing or trailing.
pub(super) fn pdf_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_prefix("D:").unwrap_or(s);
    let (year, mut r) = number(s, 4)?;
    let mut parts = [1, 1, 0, 0, 0];
    for p in &mut parts {
        match number(r, 2) {
            Some((v, rest)) => (*p, r) = (v, rest),
            None => break,
        }
    }
    let [month, day, hour, minute, second] = parts;
    let offset = zone(r.trim_end_matches('\''), '\'')?;
    to_utc(year, month, day, hour, minute, second, offset)
}

/// `Z`, nothing, or `±hh[sep]mm` / `±hh` → seconds east of UTC.
fn zone(r: &str, sep: char) -> Option<i32> {
    let r = r.trim();
    if r.is_empty() || r == "Z" {
        return Some(0);
    }
    let sign = match r.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, r) = number(&r[1..], 2)?;
    let r = r.strip_prefix(sep).unwrap_or(r);
    let m = if r.is_empty() { 0 } else { number(r, 2)?.0 };
    Some(sign * (h * 3600 + m * 60))
}

fn to_utc(y: i32, mo: i32, d: i32, h: i32, mi: i32, s: i32, offset: i32) -> Option<i64> {
    let small = |v: i32| i8::try_from(v).ok();
    let civil = Civil {
        year: y,
        month: small(mo)?,
        day: small(d)?,
        hour: small(h)?,
        minute: small(mi)?,
        second: small(s)?,
    };
    civil_to_utc(civil, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_written() {
        // 2017-03-05T10:29:54Z = 1488709794
        for s in [
            "2017-03-05T10:29:54Z",
            "2017-03-05T10:29:54",
            "2017-03-05T10:29:54.123456789",
            "2017-03-05T11:29:54+01:00",
            "2017-03-05T05:29:54.5-05:00",
        ] {
            assert_eq!(iso_date(s), Some(1488709794), "{s}");
        }
        assert_eq!(iso_date("2017-03-05"), Some(1488672000));
        for s in [
            "D:20170305102954Z",
            "D:20170305112954+01'00'",
            "D:20170305112954+01'00",
            "20170305102954",
        ] {
            assert_eq!(pdf_date(s), Some(1488709794), "{s}");
        }
        assert_eq!(pdf_date("D:2017"), Some(1483228800));
        for bad in
            ["", "2017-02-30T00:00:00Z", "yesterday", "2017-03-05T10:29:54 PST", "D:20171305"]
        {
            assert_eq!((iso_date(bad), pdf_date(bad)), (None, None), "{bad}");
        }
    }
}
