//! Time: the only user of `jiff`. Stored times are seconds since the epoch in UTC; this module
//! renders them for each output format and resolves IANA time zones from the bundled database,
//! so results never depend on the host's zoneinfo.

use jiff::Timestamp;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use std::sync::OnceLock;

fn ts(secs: i64) -> Option<Timestamp> {
    Timestamp::from_second(secs).ok()
}

/// `2002-10-02T08:00:00Z` (metadata XML). `None` when out of range.
pub fn iso_utc(secs: i64) -> Option<String> {
    ts(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// `2002-10-02T08:00:00.000Z` (EDRM XML DateTime tags: milliseconds, as real Vault exports and
/// the review tools that parse them with `yyyy-MM-dd'T'HH:mm:ss.SSSZ` expect; we keep seconds, so
/// the milliseconds are always `000`).
pub fn iso_utc_millis(secs: i64) -> Option<String> {
    ts(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string())
}

/// `2002-10-02T08:00:00+0000` (metadata CSV, Java `SimpleDateFormat` `ZZZZ` style).
pub fn csv_utc(secs: i64) -> Option<String> {
    ts(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S+0000").to_string())
}

/// `Wed Oct  2 08:00:00 2002` (mbox `From ` lines, asctime in UTC).
pub fn asctime_utc(secs: i64) -> Option<String> {
    ts(secs).map(|t| t.strftime("%a %b %e %H:%M:%S %Y").to_string())
}

/// `Wed, 2 Oct 2002 08:00:00 +0000` (RFC 2822, UTC).
pub fn rfc2822_utc(secs: i64) -> Option<String> {
    ts(secs).and_then(|t| jiff::fmt::rfc2822::to_string(&t.to_zoned(TimeZone::UTC)).ok())
}

/// Parse an asctime date as found on mbox `From ` lines (`Wed Oct  2 08:00:00 2002`, optionally
/// followed by a zone or year variant), as UTC seconds.
pub fn parse_asctime(s: &str) -> Option<i64> {
    let words: Vec<&str> = s.split_whitespace().collect();
    // Weekday Month Day HH:MM:SS Year, sometimes with a numeric zone before or after the year.
    if words.len() < 5 {
        return None;
    }
    let year = words[4..].iter().find(|w| w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()))?;
    let text = format!("{} {} {} {}", words[1], words[2], words[3], year);
    let dt = jiff::civil::DateTime::strptime("%b %d %H:%M:%S %Y", &text).ok()?;
    dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp().as_second())
}

/// Parse an RFC 2822 date (obsolete zone names included), as UTC seconds.
pub fn parse_rfc2822(s: &str) -> Option<i64> {
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(s.trim()).ok().map(|t| t.as_second())
}

/// A date and time of day as written in a header, before its zone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year as written (proleptic Gregorian; 1 is year 1, not 2001).
    pub year: i32,
    /// Month 1–12.
    pub month: i8,
    /// Day of month.
    pub day: i8,
    /// Hour 0–23.
    pub hour: i8,
    /// Minute 0–59.
    pub minute: i8,
    /// Second 0–59.
    pub second: i8,
}

/// `civil` at `offset` seconds east of UTC, as UTC seconds. `None` when that day or time does
/// not exist (31 February, 24:00) or lies outside the instants every output can render
/// (-9999-01-02T01:59:59Z to 9999-12-30T22:00:00Z): such a date is not moved to a neighbouring
/// one.
pub fn civil_to_utc(civil: Civil, offset: i32) -> Option<i64> {
    let year = i16::try_from(civil.year).ok()?;
    let (mo, d, h, mi, s) = (civil.month, civil.day, civil.hour, civil.minute, civil.second);
    let dt = jiff::civil::DateTime::new(year, mo, d, h, mi, s, 0).ok()?;
    let zone = TimeZone::fixed(jiff::tz::Offset::from_seconds(offset).ok()?);
    dt.to_zoned(zone).ok().map(|z| z.timestamp().as_second())
}

/// Can a sent date be placed on the timeline? Only instants the index holds can (tantivy keeps
/// dates as `i64` nanoseconds: 1677-09-21 to 2262-04-11). A header date outside them is no date
/// (`BadDate`): the record is then placed by its delivery date, as for any unreadable `Date`,
/// instead of dropping out of every date search.
pub fn on_timeline(secs: i64) -> bool {
    const LIMIT: i64 = i64::MAX / 1_000_000_000;
    (-LIMIT..=LIMIT).contains(&secs)
}

/// The year that the digits of an RFC 5322 date's year field name: four digits as written, two
/// digits 00–49 → 2000–2049 and 50–99 → 1950–1999, three digits + 1900 (the obsolete syntax of
/// RFC 5322 §4.3). `None` for no digits or more than four.
pub fn rfc5322_year(digits: &[u8]) -> Option<i32> {
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0i32, |v, &b| v * 10 + i32::from(b - b'0'));
    Some(match digits.len() {
        4 => value,
        3 => value + 1900,
        _ if value < 50 => value + 2000,
        _ => value + 1900,
    })
}

/// A calendar day (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDay {
    /// Year.
    pub year: i16,
    /// Month 1–12.
    pub month: i8,
    /// Day of month.
    pub day: i8,
}

impl CivilDay {
    /// A checked day.
    pub fn new(year: i16, month: i8, day: i8) -> Option<CivilDay> {
        valid_date(year, month, day).then_some(CivilDay { year, month, day })
    }

    /// Parse `YYYY-MM-DD` or `YYYY/MM/DD`.
    pub fn parse(s: &str) -> Option<CivilDay> {
        let p: Vec<&str> = s.trim().split(['-', '/']).collect();
        if p.len() != 3 || p[0].len() != 4 {
            return None;
        }
        CivilDay::new(p[0].parse().ok()?, p[1].parse().ok()?, p[2].parse().ok()?)
    }

    /// The day after.
    pub fn next(self) -> Option<CivilDay> {
        let d = jiff::civil::Date::new(self.year, self.month, self.day).ok()?.tomorrow().ok()?;
        Some(CivilDay { year: d.year(), month: d.month(), day: d.day() })
    }
}

impl std::fmt::Display for CivilDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Is this a real calendar day?
pub fn valid_date(year: i16, month: i8, day: i8) -> bool {
    jiff::civil::Date::new(year, month, day).is_ok()
}

/// A resolved time zone.
#[derive(Clone, Debug)]
pub struct Zone(TimeZone);

/// Look up an IANA zone in the bundled database.
pub fn zone(name: &str) -> Option<Zone> {
    time_zone(name).map(Zone)
}

/// The first instant of `day` in `zone`, as UTC seconds. DST-correct: where midnight does not
/// exist (a spring-forward gap at 00:00) it is the first instant after the gap.
pub fn day_start(day: CivilDay, zone: &Zone) -> Option<i64> {
    let d = jiff::civil::Date::new(day.year, day.month, day.day).ok()?;
    d.to_zoned(zone.0.clone()).ok()?.start_of_day().ok().map(|z| z.timestamp().as_second())
}

/// `now` moved back by whole calendar units (in UTC), for `older_than:`/`newer_than:`.
pub fn back_by(now: i64, years: i64, months: i64, days: i64) -> Option<i64> {
    let z = ts(now)?.to_zoned(TimeZone::UTC);
    let span =
        jiff::Span::new().try_years(years).ok()?.try_months(months).ok()?.try_days(days).ok()?;
    z.checked_sub(span).ok().map(|z| z.timestamp().as_second())
}

/// Render UTC seconds in a zone: `2023-07-01 00:00:00 EDT (-04:00)`.
pub fn show_in(secs: i64, zone: &Zone) -> Option<String> {
    ts(secs).map(|t| t.to_zoned(zone.0.clone()).strftime("%Y-%m-%d %H:%M:%S %Z (%:z)").to_string())
}

/// UTC calendar fields of an instant: (year, month, day, hour, minute, second).
pub fn civil_utc(secs: i64) -> Option<(i32, u8, u8, u8, u8, u8)> {
    let d = ts(secs)?.to_zoned(TimeZone::UTC).datetime();
    let b = |v: i8| u8::try_from(v).ok();
    Some((
        i32::from(d.year()),
        b(d.month())?,
        b(d.day())?,
        b(d.hour())?,
        b(d.minute())?,
        b(d.second())?,
    ))
}

/// Now, UTC seconds.
pub fn now() -> i64 {
    Timestamp::now().as_second()
}

fn tzdb() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Look up an IANA time zone (`America/New_York`, `UTC`) in the bundled database.
fn time_zone(name: &str) -> Option<TimeZone> {
    tzdb().get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_starts_across_dst() {
        let ny = zone("America/New_York").unwrap();
        // 2023-03-12 is the spring-forward day in New York: midnight is still EST (-05:00).
        assert_eq!(day_start(CivilDay::new(2023, 3, 12).unwrap(), &ny), Some(1678597200));
        // The next day starts in EDT (-04:00): only 23 hours later.
        assert_eq!(day_start(CivilDay::new(2023, 3, 13).unwrap(), &ny), Some(1678680000));
        let ams = zone("Europe/Amsterdam").unwrap();
        // 2023-10-29 falls back at 03:00: that day is 25 hours long.
        let a = day_start(CivilDay::new(2023, 10, 29).unwrap(), &ams).unwrap();
        let b = day_start(CivilDay::new(2023, 10, 30).unwrap(), &ams).unwrap();
        assert_eq!(b - a, 25 * 3600);
        assert_eq!(back_by(1688169600, 0, 1, 0), Some(1685577600)); // 2023-07-01 → 2023-06-01
        assert_eq!(CivilDay::parse("2024/02/29").map(|d| d.to_string()), Some("2024-02-29".into()));
        assert!(CivilDay::parse("2023-02-29").is_none());
    }

    #[test]
    fn header_years_and_civil_times() {
        assert_eq!(rfc5322_year(b"0001"), Some(1));
        assert_eq!(rfc5322_year(b"49"), Some(2049));
        assert_eq!(rfc5322_year(b"50"), Some(1950));
        assert_eq!(rfc5322_year(b"101"), Some(2001));
        assert_eq!(rfc5322_year(b"12345"), None);
        let c = Civil { year: 2002, month: 10, day: 2, hour: 3, minute: 0, second: 0 };
        assert_eq!(civil_to_utc(c, -5 * 3600), Some(1033545600));
        assert_eq!(civil_to_utc(Civil { month: 2, day: 31, ..c }, 0), None);
        assert_eq!(civil_to_utc(Civil { year: 10_000, ..c }, 0), None);
        let year =
            |y| civil_to_utc(Civil { year: y, month: 1, day: 1, ..c }, 0).is_some_and(on_timeline);
        assert!(year(1678) && year(2262) && !year(1677) && !year(2263));
    }

    #[test]
    fn formats() {
        let t = 1033545600; // 2002-10-02T08:00:00Z
        assert_eq!(iso_utc(t).unwrap(), "2002-10-02T08:00:00Z");
        assert_eq!(csv_utc(t).unwrap(), "2002-10-02T08:00:00+0000");
        assert_eq!(asctime_utc(t).unwrap(), "Wed Oct  2 08:00:00 2002");
        assert_eq!(parse_asctime("Wed Oct  2 08:00:00 2002"), Some(t));
        assert_eq!(parse_asctime("Wed Oct 02 08:00:00 +0000 2002"), Some(t));
        assert_eq!(parse_rfc2822("Wed, 02 Oct 2002 03:00:00 EST"), Some(t));
        assert_eq!(parse_rfc2822("garbage"), None);
        assert_eq!(parse_rfc2822(&rfc2822_utc(t).unwrap()), Some(t));
        assert!(time_zone("Europe/Amsterdam").is_some());
        assert!(time_zone("Mars/Olympus").is_none());
    }
}
