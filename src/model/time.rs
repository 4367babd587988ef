//! Time: the only user of `jiff`. Stored times are seconds since the epoch in UTC; this module
//! renders them for each output format and resolves IANA time zones from the bundled database,
//! so results never depend on the host's zoneinfo.

use jiff::Timestamp;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use std::sync::OnceLock;

fn ts(secs: i64) -> Option<Timestamp> {
    Timestamp::from_second(secs).ok()
}

/// `secs` as UTC civil time, for the fixed formats below, which an export writes several times
/// per record: written with `write!` instead of parsing a strftime pattern each time. Years
/// outside 0–9999 (which strftime writes with a sign or more digits) take the strftime path.
fn civil(secs: i64) -> Option<jiff::civil::DateTime> {
    let dt = ts(secs)?.to_zoned(TimeZone::UTC).datetime();
    (0..=9999).contains(&dt.year()).then_some(dt)
}

/// `YYYY-MM-DDTHH:MM:SS` of `dt`, then `tail`.
fn iso_with(dt: jiff::civil::DateTime, tail: &str) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{tail}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `2002-10-02T08:00:00Z` (metadata XML). `None` when out of range.
pub fn iso_utc(secs: i64) -> Option<String> {
    match civil(secs) {
        Some(dt) => Some(iso_with(dt, "Z")),
        None => ts(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
    }
}

/// `2002-10-02T08:00:00.000Z` (EDRM XML DateTime tags: milliseconds, as real Vault exports and
/// the review tools that parse them with `yyyy-MM-dd'T'HH:mm:ss.SSSZ` expect; we keep seconds, so
/// the milliseconds are always `000`).
pub fn iso_utc_millis(secs: i64) -> Option<String> {
    match civil(secs) {
        Some(dt) => Some(iso_with(dt, ".000Z")),
        None => ts(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()),
    }
}

/// `2002-10-02T08:00:00+0000` (metadata CSV, Java `SimpleDateFormat` `ZZZZ` style).
pub fn csv_utc(secs: i64) -> Option<String> {
    match civil(secs) {
        Some(dt) => Some(iso_with(dt, "+0000")),
        None => ts(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S+0000").to_string()),
    }
}

/// `Wed Oct  2 08:00:00 2002` (mbox `From ` lines, asctime in UTC).
pub fn asctime_utc(secs: i64) -> Option<String> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Some(dt) = civil(secs) else {
        return ts(secs).map(|t| t.strftime("%a %b %e %H:%M:%S %Y").to_string());
    };
    let day = DAYS.get(usize::from(dt.weekday().to_monday_zero_offset().unsigned_abs()));
    let month = MONTHS.get(usize::from(dt.month().unsigned_abs()).wrapping_sub(1));
    Some(format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {:04}",
        day.unwrap_or(&"???"),
        month.unwrap_or(&"???"),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.year()
    ))
}

/// `Sunday, November 18, 2018 at 6:02:21 PM UTC`: how Takeout's Chat export writes
/// `created_date` (and what `ingest::takeout_chat` reads back).
pub fn takeout_chat_utc(secs: i64) -> Option<String> {
    ts(secs).map(|t| t.strftime("%A, %B %-d, %Y at %-I:%M:%S %p UTC").to_string())
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

/// What a `Date` header says, read by [`parse_header_date`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderDate {
    /// The instant, UTC seconds; on the index's timeline ([`on_timeline`]).
    pub secs: i64,
    /// Whether the header named its zone in a way that could be read. When it did not (no zone,
    /// `GMT+1`, `Eastern Daylight Time`), the time was read as UTC and the record says so
    /// with `Defect::DateWithoutZone`.
    pub zone_read: bool,
    /// The year was written `01nn`, the classic Y2K bug of mailers that print C's `tm_year`
    /// (years since 1900) with four digits (`0102` for 2002), and was read as `19nn + 100`; the
    /// record says so with `Defect::DateYearRepaired`. Year 1 (`0001`) and the like stay
    /// unreadable: only `0100`–`0199` have this one known cause.
    pub year_repaired: bool,
}

/// Read a `Date` header value leniently: everything Python's `email.utils.parsedate_to_datetime`
/// reads (CPython `email/_parseaddr.py`, `_parsedate_tz`), with the year and zone rules below.
/// `None` when no date can be read from it, or the date is not on the index's timeline.
///
/// Why lenient: real mail is full of dates RFC 5322 forbids (no zone, `4:12:06 PM`, two-digit
/// years, `Sat Sep 21 08:18:08 2002`), and a record without a sent date can only be placed by its
/// delivery date. What is read, in order:
/// - comments (`(GMT)`, `(added by postmaster…)`) are removed, folding is white space, commas
///   separate like spaces;
/// - leading day names are skipped (`Mon`, `Monday`), and are never checked against the date;
/// - day and month in either order (`21 Sep`, `Sep 21`; month names in English, short or full,
///   any case), `21-Sep-02` as one word (RFC 850);
/// - year and time in either order (asctime writes the time first);
/// - the year by its own digits, as RFC 5322 §4.3 says: four digits as written (`0102` is year
///   102, not 2002), two digits 00–49 → 2000–2049 and 50–99 → 1950–1999, three digits + 1900.
///   (Python windows two digits at 69 instead of 50: no message in the corpus lies between.)
/// - the time as `h:m` or `h:m:s` (or with dots), one or two digits each; a leap second 60 is
///   read as 59; `AM`/`PM` after the time moves the hour (12 AM is 0, 1–11 PM add 12), where
///   Python reads `4:12:06 PM` as 04:12;
/// - the zone: `+hhmm`/`-hhmm` (`-0000` is UTC, RFC 5322 §3.3), `+hh:mm`, four digits without a
///   sign as east of UTC (as Python reads them), `+-0500` as -0500 (a mailer's `+` before a signed
///   offset; Python reads no zone), a zone glued to the time (`08:00:00+0100`), and
///   the names `UT`, `UTC`, `GMT`, `Z` and the North American `EST`…`PDT` of RFC 5322 plus
///   `AST`/`ADT` (as Python). Text after the zone is ignored (headers rewritten by filters carry
///   junk there). Anything else, or nothing, leaves the zone unread: the time is read as UTC
///   (`zone_read` false). That includes names Windows writes (`GMT Daylight Time` is UTC+1, not
///   GMT, so a name followed by `Daylight`, `Standard` or `Time` is not read), `GMT+1` (whose
///   sign POSIX and Windows read oppositely) and military letters other than `Z`
///   (RFC 5322 §4.3: their meaning was never agreed).
///
/// The day must exist in the calendar (31 February is no date, never 3 March).
pub fn parse_header_date(raw: &str) -> Option<HeaderDate> {
    let text = without_comments(raw);
    let mut words: Vec<&str> =
        text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let skip = words.iter().take_while(|w| is_day_name(w)).count();
    words.drain(..skip);
    // RFC 850: `21-Sep-02` is the day, month and year in one word.
    if let Some(first) = words.first().copied() {
        let parts: Vec<&str> = first.split('-').collect();
        if let [d, m, y] = parts[..]
            && !d.is_empty()
            && month(m).is_some()
            && !y.is_empty()
        {
            words.splice(0..1, [d, m, y]);
        }
    }
    let (day, mon) = match (words.first(), words.get(1)) {
        (Some(a), Some(b)) => match (month(a), month(b)) {
            (None, Some(m)) => (*a, m),
            (Some(m), None) => (*b, m),
            _ => return None,
        },
        _ => return None,
    };
    let (mut year, mut time) = (*words.get(2)?, *words.get(3)?);
    if year.contains(':') {
        (year, time) = (time, year);
    }
    let mut rest: Vec<&str> = words.get(4..).unwrap_or_default().to_vec();
    // A zone glued to the time: `08:00:00+0100`.
    if let Some(at) = time.find(['+', '-']).filter(|&at| at > 0) {
        rest.insert(0, &time[at..]);
        time = &time[..at];
    }
    let day = small_number(day.trim_end_matches('.'), 2)?;
    let year_digits = year.trim_end_matches('.');
    let mut year = rfc5322_year(year_digits.as_bytes())?;
    let year_repaired = year_digits.len() == 4 && (100..=199).contains(&year);
    if year_repaired {
        year += 1900;
    }
    let (mut hour, minute, second) = clock(time)?;
    if let Some(half) = rest.first().and_then(|w| half_day(w)) {
        rest.remove(0);
        hour = match (half, hour) {
            (HalfDay::Am, 12) => 0,
            (HalfDay::Pm, 1..=11) => hour + 12,
            _ => hour,
        };
    }
    let offset = header_zone(&rest);
    let civil = Civil { year, month: mon, day, hour, minute, second };
    let secs = civil_to_utc(civil, offset.unwrap_or(0)).filter(|&s| on_timeline(s))?;
    Some(HeaderDate { secs, zone_read: offset.is_some(), year_repaired })
}

/// `s` with RFC 5322 comments (nested, with `\` quoting) replaced by a space.
fn without_comments(s: &str) -> String {
    let (mut out, mut depth, mut quoted) = (String::with_capacity(s.len()), 0usize, false);
    for c in s.chars() {
        if depth > 0 {
            match c {
                _ if quoted => quoted = false,
                '\\' => quoted = true,
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(' ');
                    }
                }
                _ => {}
            }
        } else if c == '(' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

fn is_day_name(w: &str) -> bool {
    const DAYS: [&str; 7] =
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let w = w.trim_end_matches('.').to_ascii_lowercase();
    w.len() >= 3 && DAYS.iter().any(|d| d.starts_with(w.as_str()))
}

/// The month an English month name (short or full, any case) names.
fn month(w: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = w.trim_end_matches('.').to_ascii_lowercase();
    let at = MONTHS.iter().position(|m| w == m[..3] || w == *m)?;
    i8::try_from(at + 1).ok()
}

/// A number of one to `max_digits` ASCII digits.
fn small_number(w: &str, max_digits: usize) -> Option<i8> {
    if w.is_empty() || w.len() > max_digits || !w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    w.parse().ok()
}

/// `h:m`, `h:m:s` or the same with dots, one or two digits each: (hour, minute, second). A leap
/// second (60) is read as 59: the index keeps no leap seconds.
fn clock(w: &str) -> Option<(i8, i8, i8)> {
    let sep = if w.contains(':') { ':' } else { '.' };
    let fields: Vec<&str> = w.split(sep).collect();
    let (h, m, s) = match fields[..] {
        [h, m] => (h, m, "0"),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    let (h, m, s) = (small_number(h, 2)?, small_number(m, 2)?, small_number(s, 2)?);
    Some((h, m, if s == 60 { 59 } else { s }))
}

#[derive(Clone, Copy)]
enum HalfDay {
    Am,
    Pm,
}

fn half_day(w: &str) -> Option<HalfDay> {
    match w.to_ascii_lowercase().as_str() {
        "am" | "a.m." => Some(HalfDay::Am),
        "pm" | "p.m." => Some(HalfDay::Pm),
        _ => None,
    }
}

/// The zone the words after the time name, as seconds east of UTC; `None` when there is none
/// that can be read (see [`parse_header_date`]).
fn header_zone(rest: &[&str]) -> Option<i32> {
    let w = *rest.first()?;
    let hours_minutes = |digits: &str| -> Option<i32> {
        let (h, m) = (small_number(digits.get(..2)?, 2)?, small_number(digits.get(2..)?, 2)?);
        (h <= 23 && m <= 59).then(|| i32::from(h) * 3600 + i32::from(m) * 60)
    };
    let numeric = |digits: &str| -> Option<i32> {
        match digits.len() {
            4 => hours_minutes(digits),
            5 if digits.as_bytes()[2] == b':' => {
                hours_minutes(&format!("{}{}", digits.get(..2)?, digits.get(3..)?))
            }
            _ => None,
        }
    };
    // `+-0500`: a mailer that writes a `+` and then the signed offset; the Received headers of
    // such messages agree it means -0500 (mail-parser read it so too).
    if let Some(d) = w.strip_prefix("+-") {
        return numeric(d).map(|s| -s);
    }
    if let Some(d) = w.strip_prefix('+') {
        return numeric(d);
    }
    if let Some(d) = w.strip_prefix('-') {
        return numeric(d).map(|s| -s);
    }
    if w.bytes().all(|b| b.is_ascii_digit()) {
        return numeric(w);
    }
    // A Windows zone description (`GMT Daylight Time`, `Eastern Standard Time`) is not its
    // first word.
    if rest
        .get(1)
        .is_some_and(|n| ["daylight", "standard", "time"].iter().any(|x| n.eq_ignore_ascii_case(x)))
    {
        return None;
    }
    let hours = match w.to_ascii_uppercase().as_str() {
        "UT" | "UTC" | "GMT" | "Z" => 0,
        "AST" => -4,
        "ADT" => -3,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        _ => return None,
    };
    Some(hours * 3600)
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

/// UTC seconds rendered with a `strftime` format in the IANA zone `zone` (bundled database),
/// for formats whose readers expect local times (Chat exports write US Pacific times, as
/// Vault's do). `None` when the zone is unknown or the instant out of range.
pub fn format_in(secs: i64, zone: &str, fmt: &str) -> Option<String> {
    let tz = time_zone(zone)?;
    ts(secs).map(|t| t.to_zoned(tz).strftime(fmt).to_string())
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

/// Parse an ISO-8601 instant as UTC seconds: `2023-06-01T09:00:00Z`, with an offset
/// (`+02:00`), with fractional seconds (dropped), or a bare day `2023-06-01` (its midnight UTC).
/// For files people write (an organisation's account list), not for mail headers.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    let d = CivilDay::parse(s).filter(|_| s.len() == 10 && s.as_bytes()[4] == b'-')?;
    day_start(d, &Zone(TimeZone::UTC))
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
    fn fixed_formats_write_what_strftime_writes() {
        let strf = |secs: i64, pat: &str| ts(secs).map(|t| t.strftime(pat).to_string());
        // Edges of the fast path (year 0 and 9999, the epoch, leap days, negative seconds) and
        // a walk over four thousand years in steps that hit every weekday, month and hour.
        let mut cases = vec![
            0,
            -1,
            951_782_400,
            -62_167_219_200,
            -62_167_219_201,
            253_402_300_799,
            253_402_300_800,
            Timestamp::MIN.as_second(),
            Timestamp::MAX.as_second(),
        ];
        let mut t = -62_000_000_000i64;
        while t < 253_402_300_799 {
            cases.push(t);
            t += 3_999_999_937;
        }
        for secs in cases {
            assert_eq!(iso_utc(secs), strf(secs, "%Y-%m-%dT%H:%M:%SZ"), "{secs}");
            assert_eq!(iso_utc_millis(secs), strf(secs, "%Y-%m-%dT%H:%M:%S.000Z"), "{secs}");
            assert_eq!(csv_utc(secs), strf(secs, "%Y-%m-%dT%H:%M:%S+0000"), "{secs}");
            assert_eq!(asctime_utc(secs), strf(secs, "%a %b %e %H:%M:%S %Y"), "{secs}");
        }
    }

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
    fn iso8601_instants_and_days() {
        assert_eq!(parse_iso8601("2023-07-01T00:00:00Z"), Some(1_688_169_600));
        assert_eq!(parse_iso8601("2023-07-01T02:00:00+02:00"), Some(1_688_169_600));
        assert_eq!(parse_iso8601("2023-07-01T00:00:00.750Z"), Some(1_688_169_600));
        assert_eq!(parse_iso8601("2023-07-01"), Some(1_688_169_600));
        for bad in ["2023/07/01", "2023-02-30", "yesterday", "", "2023-07-01T00:00:00"] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
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
    fn header_dates_are_read_leniently() {
        let read = |s: &str| parse_header_date(s).map(|d| (d.secs, d.zone_read));
        let t = 1033545600; // 2002-10-02T08:00:00Z
        for (s, want) in [
            ("Wed, 02 Oct 2002 08:00:00 +0000", Some((t, true))),
            ("Wed, 02 Oct 2002 03:00:00 EST", Some((t, true))),
            ("Wed, 02 Oct 2002 04:00:00 edt (comment)", Some((t, true))),
            ("Wed,2 Oct 2002 10:00 +0200", Some((t, true))),
            ("02 Oct 02 08:00:00 -0000", Some((t, true))),
            ("Wed, 02 Oct 2002 08:00:00 UT", Some((t, true))),
            ("Wed, 02 Oct 2002 13:30:00 0530", Some((t, true))),
            ("Wed, 02 Oct 2002 09:00:00+01:00", Some((t, true))),
            ("Wed, 02-Oct-02 08:00:00 GMT", Some((t, true))),
            ("Wednesday, October 2, 2002 08:00:00 +0000", Some((t, true))),
            (
                "Wed, 02 Oct 2002 08:00:00 +0000\r\n\tMAILTO_TO_SPAM_ADDR version=2.40",
                Some((t, true)),
            ),
            // The zone is missing or cannot be read: UTC, said so.
            ("Wed, 02 Oct 2002 08:00:00", Some((t, false))),
            ("Wed, 02 Oct 2002 08:00:00 (GMT)", Some((t, false))),
            ("Wed Oct  2 08:00:00 2002", Some((t, false))),
            ("02 Oct 02 8:00:00 AM", Some((t, false))),
            ("02 Oct 02 8:0:0 GMT+1", Some((t, false))),
            ("Wed, 02 Oct 2002 03:00:00 +-0500", Some((t, true))),
            ("Wed, 02 Oct 02 08:00:00 GMT Daylight Time", Some((t, false))),
            ("Wed, 02 Oct 02 08:00:00 Eastern Daylight Time", Some((t, false))),
            ("Wed, 02 Oct 2002 08:00:00 01800", Some((t, false))),
            ("Wed, 02 Oct 2002 08:00:00 A", Some((t, false))),
            // Python reads this 04:12; it is 16:12.
            ("03 Jul 01 4:12:06 PM", Some((994176726, false))),
            ("03 Jul 01 12:47:50 AM", Some((994121270, false))),
            ("Tue, 06 Aug 2002 06:50:21 PM -0400", Some((1028674221, true))),
            ("Sun, 31 Dec 2016 23:59:60 +0000", Some((1483228799, true))),
            // Nothing to read, no such day, off the timeline.
            ("", None),
            ("garbage", None),
            ("2002/09/14 Sat 02:29:32 CDT", None),
            ("Mon, 31 Feb 2020 00:00:00 +0000", None),
            ("Wed, 02 Oct 2002 24:00:00 +0000", None),
            ("Tue, 27 Aug 0099 23:35:10 +0700", None),
            ("Fri, 1 Jan 9999 00:00:00 +0000", None),
            // `0102`: tm_year printed with four digits; read as 2002 (and flagged).
            ("Tue, 27 Aug 0102 23:35:10 +0700", Some((1030466110, true))),
        ] {
            assert_eq!(read(s), want, "{s:?}");
        }
        // Years by their own digits (RFC 5322 §4.3).
        assert_eq!(read("Fri, 1 Jan 99 00:00:00 +0000"), Some((915148800, true)));
        assert_eq!(read("Fri, 1 Jan 49 00:00:00 +0000"), Some((2493072000, true)));
        assert_eq!(read("Mon, 1 Jan 101 00:00:00 +0000"), Some((978307200, true)));
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
