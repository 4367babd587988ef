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

fn tzdb() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Look up an IANA time zone (`America/New_York`, `UTC`) in the bundled database.
pub fn time_zone(name: &str) -> Option<TimeZone> {
    tzdb().get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
