//! Segment timestamps to LaunchDarkly `creationDate` (Unix milliseconds).
//!
//! Segment sends ISO-8601 strings (`2022-03-30T17:24:58Z`, `2024-05-06T07:08:09.123+02:00`).
//! Segment's destination parses an event's with dayjs, which reads text without a trailing `Z`
//! in a form of its own when it can (`2024/05/06`, `20240506`, `2024-05-06T07`) and other text
//! with JavaScript's `Date` (`May 6, 2024`, RFC 2822 dates): both are read here as they are there
//! ([`event_timestamp_millis`]). Settings and documents are read as ISO 8601 only
//! ([`parse_iso8601_millis`]): a date (`2024-05-06`; the month and the day may have one digit),
//! optionally followed by `T`, `t` or a space, a time with minutes or seconds (two digits each)
//! and any number of fractional digits after `.` or `,` (fractions of a millisecond dropped), and
//! an optional `Z`, `z`, `±hh`, `±hhmm` or `±hh:mm` offset (no offset means UTC, the Worker's
//! time zone). An event's JSON number is taken as Unix milliseconds, as dayjs takes it.

mod js_date;

pub use js_date::date_parse_millis;
use serde_json::Value;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// Unix milliseconds for a Segment `timestamp` value, or `None` when it is absent or unparsable:
/// text as [`event_timestamp_millis`] reads it; a number's fraction is dropped, and from
/// beyond ±8.64e15 (JavaScript's date limit, which is a date) it is `None`.
pub fn unix_millis(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::String(text) => event_timestamp_millis(text),
        Value::Number(number) => number
            .as_f64()
            .filter(|ms| ms.is_finite() && ms.abs() <= 8.64e15)
            .map(|ms| ms.trunc() as i64),
        _ => None,
    }
}

/// Unix milliseconds as JavaScript's `Date.prototype.toISOString` writes them
/// (`2024-05-06T07:08:09.123Z`; years outside 0–9999 as a sign and six digits,
/// `-271821-04-20T00:00:00.000Z`), for any `i64`.
pub fn iso8601_millis(ms: i64) -> String {
    const DAY_MS: i64 = 86_400_000;
    let (days, ms_of_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    // Howard Hinnant's `civil_from_days`; |days| < 1.1e11, so nothing here overflows.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!(
            "{}{:06}",
            if year < 0 { '-' } else { '+' },
            year.unsigned_abs()
        )
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

/// Unix milliseconds for an event's timestamp text as Segment's destination reads it (dayjs):
/// text that does not end in `Z` and has dayjs' own form is read as dayjs reads it
/// ([`dayjs_form_millis`]), except more than eight digits alone; other text as dayjs hands it to
/// JavaScript's `Date` ([`date_parse_millis`]); what neither reads (Segment's schema step then
/// refuses the event), as ISO 8601 where it is ([`parse_iso8601_millis`]: `+02`, a decimal
/// comma). `None` when it does not parse.
pub fn event_timestamp_millis(text: &str) -> Option<i64> {
    canonical_millis(text.as_bytes())
        .or_else(|| {
            if is_unix_time_text(text) {
                return None;
            }
            let zulu = text.ends_with(['Z', 'z']);
            (!zulu)
                .then(|| dayjs_form_millis(text))
                .flatten()
                .or_else(|| date_parse_millis(text))
        })
        .or_else(|| parse_in_full(text))
}

/// Unix milliseconds for an ISO-8601 date-time string (the forms of the module documentation,
/// surrounding whitespace ignored), or `None` when it does not parse: the strict reading, for
/// settings and documents (an event's timestamp is read by [`event_timestamp_millis`]).
pub fn parse_iso8601_millis(text: &str) -> Option<i64> {
    canonical_millis(text.as_bytes()).or_else(|| parse_in_full(text))
}

/// More than eight digits alone: Unix seconds or milliseconds sent as text, which dayjs reads
/// as a year, a month, a day and a time (`"1714979289"` is in the year 1714, and Segment's
/// schema step refuses the longest). Not a date here: the receive time, as for other text that
/// is none, rather than a date centuries away that the timestamp window would refuse.
fn is_unix_time_text(text: &str) -> bool {
    text.len() > 8 && text.bytes().all(|b| b.is_ascii_digit())
}

/// dayjs' own reading of a string that does not end in `Z` (its `REGEX_PARSE`,
/// `^(\d{4})[-/]?(\d{1,2})?[-/]?(\d{0,2})[Tt\s]*(\d{1,2})?:?(\d{1,2})?:?(\d{1,2})?[.:]?(\d+)?$`):
/// a year of four digits, then a month, a day, hours, minutes and seconds of up to two digits
/// each, every one optional, and a fraction of which the first three digits are milliseconds
/// (`.5` is 5 ms). The parts go to JavaScript's `new Date(y, m - 1, d, h, min, s, ms)`, which
/// carries them over (`2024-02-31` is 2 March, month 13 is January of the next year, month 0
/// December of the year before) and reads years 0 to 99 as 1900 to 1999, in the local time
/// zone: UTC, the Worker's, as dayjs reads it on Segment's servers. `None` for any other form.
fn dayjs_form_millis(text: &str) -> Option<i64> {
    let parts = DayjsParts::read(text)?;
    // `d[2] - 1 || 0`: no month, or month 1, is January.
    let month = parts.month.map_or(0, |month| month - 1);
    // `d[3] || 1`: an empty day is the first; a day of "0" is the one before it.
    let day = parts.day.unwrap_or(1);
    let year = if (0..=99).contains(&parts.year) {
        1900 + parts.year
    } else {
        parts.year
    };
    let days = days_from_civil(year + month.div_euclid(12), month.rem_euclid(12) + 1, day);
    let ms = days * 86_400_000
        + parts.hour * 3_600_000
        + parts.minute * 60_000
        + parts.second * 1000
        + parts.millisecond;
    (ms.abs() <= 8_640_000_000_000_000).then_some(ms)
}

/// The numbers of a string of dayjs' form (see [`dayjs_form_millis`]); absent parts as
/// JavaScript has them (`undefined` month, empty day), the others as numbers.
#[derive(Debug, PartialEq)]
struct DayjsParts {
    year: i64,
    month: Option<i64>,
    day: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    millisecond: i64,
}

impl DayjsParts {
    /// Matches the regular expression as JavaScript does (greedy, the first match in its order
    /// of trying). `[Tt\s]*` and the final `(\d+)?$` can only take all they see (nothing after
    /// them matches what they leave), so the search tries a few splits of digits only, each in
    /// constant time but for one skip of `[Tt\s]*`: linear in the text, however long.
    fn read(text: &str) -> Option<DayjsParts> {
        let text = RegexText::new(text);
        if !(0..4).all(|at| text.digit(at)) {
            return None;
        }
        for first_separator in text.optional(4, &['-', '/']) {
            let month_at = 4 + usize::from(*first_separator);
            // `(\d{1,2})?`: two digits, one, or none (undefined).
            for month_len in text.runs(month_at, 2) {
                let at = month_at + month_len;
                for second_separator in text.optional(at, &['-', '/']) {
                    let day_at = at + usize::from(*second_separator);
                    for day_len in text.runs(day_at, 2) {
                        let day_end = day_at + day_len;
                        if let Some([hour, minute, second, millisecond]) = text.time(day_end) {
                            return Some(DayjsParts {
                                year: text.number(0, 4),
                                month: (month_len > 0).then(|| text.number(month_at, at)),
                                day: (day_len > 0).then(|| text.number(day_at, day_end)),
                                hour,
                                minute,
                                second,
                                millisecond,
                            });
                        }
                    }
                }
            }
        }
        None
    }
}

/// A string's characters, as dayjs' regular expression reads them.
struct RegexText {
    chars: Vec<char>,
    /// Where the digits that end the text begin: `(\d+)?$` matches from there on.
    final_digits: usize,
}

impl RegexText {
    fn new(text: &str) -> RegexText {
        let chars: Vec<char> = text.chars().collect();
        let trailing = chars
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        RegexText {
            final_digits: chars.len() - trailing,
            chars,
        }
    }

    /// `\d` at `at`.
    fn digit(&self, at: usize) -> bool {
        self.chars.get(at).is_some_and(char::is_ascii_digit)
    }

    /// The number the digits from `from` to `to` write.
    fn number(&self, from: usize, to: usize) -> i64 {
        self.chars.get(from..to).map_or(0, |digits| {
            digits
                .iter()
                .fold(0, |n, c| n * 10 + i64::from(c.to_digit(10).unwrap_or(0)))
        })
    }

    /// The lengths `\d{0,max}` may take at `at`, longest first.
    fn runs(&self, at: usize, max: usize) -> impl Iterator<Item = usize> {
        let available = (0..max).take_while(|k| self.digit(at + k)).count();
        (0..=available).rev()
    }

    /// Whether `[…]?` of `wanted` takes the character at `at`, in JavaScript's order of trying:
    /// yes then no when it is one of them, else no.
    fn optional(&self, at: usize, wanted: &[char]) -> &'static [bool] {
        if self.chars.get(at).is_some_and(|c| wanted.contains(c)) {
            &[true, false]
        } else {
            &[false]
        }
    }

    /// `[Tt\s]*(\d{1,2})?:?(\d{1,2})?:?(\d{1,2})?[.:]?(\d+)?$` from `at`: hours, minutes,
    /// seconds and milliseconds (`(d[7] || '0').substring(0, 3)`), or `None`.
    fn time(&self, at: usize) -> Option<[i64; 4]> {
        let skipped = self
            .chars
            .get(at..)?
            .iter()
            .take_while(|c| matches!(c, 'T' | 't') || crate::js::is_whitespace(**c))
            .count();
        let hour_at = at + skipped;
        for hour_len in self.runs(hour_at, 2) {
            let hour_end = hour_at + hour_len;
            for colon in self.optional(hour_end, &[':']) {
                let minute_at = hour_end + usize::from(*colon);
                for minute_len in self.runs(minute_at, 2) {
                    let minute_end = minute_at + minute_len;
                    for colon in self.optional(minute_end, &[':']) {
                        let second_at = minute_end + usize::from(*colon);
                        for second_len in self.runs(second_at, 2) {
                            let second_end = second_at + second_len;
                            for point in self.optional(second_end, &['.', ':']) {
                                // `(\d+)?$`: the rest, all digits (or nothing).
                                let rest = second_end + usize::from(*point);
                                if rest >= self.final_digits {
                                    return Some([
                                        self.number(hour_at, hour_end),
                                        self.number(minute_at, minute_end),
                                        self.number(second_at, second_end),
                                        self.number(rest, rest + (self.chars.len() - rest).min(3)),
                                    ]);
                                }
                            }
                        }
                    }
                }
            }
        }
        None
    }
}

/// Days from 1970-01-01 to `day` of `month` (1 to 12) of `year`, where a `day` past the month's
/// end (or below 1) carries over as `Date` carries it: Howard Hinnant's `days_from_civil` (the
/// inverse of the one in [`iso8601_millis`]). The Euclidean division counts year 0's January
/// and February (in March-based year -1) right; nothing overflows for years within ±10^12.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year_of_march = year - i64::from(month <= 2);
    let (era, year_of_era) = (year_of_march.div_euclid(400), year_of_march.rem_euclid(400));
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// [`parse_iso8601_millis`] for the form Segment's libraries send (JavaScript's `toISOString`,
/// `2024-05-06T07:08:09.123Z`), computed directly: `None` for anything else, which is then
/// parsed in full (the same milliseconds: tested over every month and edge of the form). About
/// a quarter of the instructions of the full parse, which goes through `time`'s types.
fn canonical_millis(text: &[u8]) -> Option<i64> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1, b'.', f0, f1, f2, b'Z'] =
        *text
    else {
        return None;
    };
    let year = number(&[y0, y1, y2, y3])?;
    let month = number(&[m0, m1])?;
    let day = number(&[d0, d1])?;
    let (hour, minute, second) = (number(&[h0, h1])?, number(&[n0, n1])?, number(&[s0, s1])?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(
        days_from_civil(year, month, day) * 86_400_000
            + hour * 3_600_000
            + minute * 60_000
            + second * 1000
            + number(&[f0, f1, f2])?,
    )
}

/// The number the ASCII digits `digits` write (`None` for any other byte).
fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0, |number, byte| {
        let digit = byte.wrapping_sub(b'0');
        (digit < 10).then_some(number * 10 + i64::from(digit))
    })
}

/// [`parse_iso8601_millis`] for every form it accepts.
fn parse_in_full(text: &str) -> Option<i64> {
    let mut cursor = Cursor::new(text.trim());
    let year = cursor.digits(4, 4)? as i32;
    cursor.require(b'-')?;
    let month = Month::try_from(cursor.digits(1, 2)? as u8).ok()?;
    cursor.require(b'-')?;
    let day = cursor.digits(1, 2)? as u8;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let (time, offset) = if cursor.at_end() {
        (Time::MIDNIGHT, UtcOffset::UTC)
    } else {
        if !(cursor.eat(b'T') || cursor.eat(b't') || cursor.eat(b' ')) {
            return None;
        }
        let time = parse_time(&mut cursor)?;
        let offset = parse_offset(&mut cursor)?;
        if !cursor.at_end() {
            return None;
        }
        (time, offset)
    };
    let moment = PrimitiveDateTime::new(date, time).assume_offset(offset);
    // The nanoseconds since the epoch divided by a million, rounded toward zero, without the
    // 128-bit arithmetic of `unix_timestamp_nanos` (emulated, and slow, in wasm).
    let seconds = moment.unix_timestamp();
    let nanos = i64::from(moment.nanosecond());
    let floor = seconds.checked_mul(1000)?.checked_add(nanos / 1_000_000)?;
    Some(if floor < 0 && nanos % 1_000_000 != 0 {
        floor + 1
    } else {
        floor
    })
}

fn parse_time(cursor: &mut Cursor<'_>) -> Option<Time> {
    let hour = cursor.digits(2, 2)? as u8;
    cursor.require(b':')?;
    let minute = cursor.digits(2, 2)? as u8;
    let mut second = 0;
    let mut nanos = 0u32;
    if cursor.eat(b':') {
        second = cursor.digits(2, 2)? as u8;
        if cursor.eat(b'.') || cursor.eat(b',') {
            let fraction = cursor.take_while(|b| b.is_ascii_digit());
            if fraction.is_empty() {
                return None;
            }
            for (place, digit) in fraction.iter().take(9).enumerate() {
                nanos += u32::from(digit - b'0') * 10u32.pow(8 - place as u32);
            }
        }
    }
    Time::from_hms_nano(hour, minute, second, nanos).ok()
}

fn parse_offset(cursor: &mut Cursor<'_>) -> Option<UtcOffset> {
    if cursor.at_end() {
        return Some(UtcOffset::UTC);
    }
    if cursor.eat(b'Z') || cursor.eat(b'z') {
        return Some(UtcOffset::UTC);
    }
    let sign: i8 = if cursor.eat(b'+') {
        1
    } else if cursor.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = cursor.digits(2, 2)? as i8;
    let minutes = if cursor.at_end() {
        0
    } else {
        cursor.eat(b':');
        cursor.digits(2, 2)? as i8
    };
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// A byte cursor over an ASCII date-time string.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            position: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.position >= self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.position) == Some(&byte) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn require(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.position;
        while self.bytes.get(self.position).is_some_and(|b| keep(*b)) {
            self.position += 1;
        }
        &self.bytes[start..self.position]
    }

    /// Reads between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.position;
        let mut number = 0u32;
        while self.position - start < max {
            match self.bytes.get(self.position) {
                Some(b) if b.is_ascii_digit() => {
                    number = number * 10 + u32::from(b - b'0');
                    self.position += 1;
                }
                _ => break,
            }
        }
        (self.position - start >= min).then_some(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dayjs 1.11.23 in Node with TZ=UTC (`dayjs(text).valueOf()`), Segment's reading.
    #[test]
    fn dayjs_forms_are_read_as_dayjs_reads_them() {
        let cases: [(&str, i64); 25] = [
            ("2024/05/06", 1_714_953_600_000),
            ("20240506", 1_714_953_600_000),
            ("2024-5-6", 1_714_953_600_000),
            ("2024-02-31", 1_709_337_600_000),
            ("2024-05-06 07:08", 1_714_979_280_000),
            ("2024-05-06T07", 1_714_978_800_000),
            ("2024-05-06T07:08:09.5", 1_714_979_289_005),
            ("2024-05-06T07:08:09.123456", 1_714_979_289_123),
            ("2024-13-01", 1_735_689_600_000),
            ("2024-00-10", 1_702_166_400_000),
            ("2024-05-00", 1_714_435_200_000),
            ("0099-01-01", 915_148_800_000),
            ("2024", 1_704_067_200_000),
            ("2024-05", 1_714_521_600_000),
            ("2024-05-06t07:08:09", 1_714_979_289_000),
            ("2024-05-06T07:08:09", 1_714_979_289_000),
            ("2024-05-06  T 07:08", 1_714_979_280_000),
            ("2024-05-06T7:8:9", 1_714_979_289_000),
            ("2024-05-06T07:08:09:5", 1_714_979_289_005),
            ("2024-05-06T07:08:09.", 1_714_979_289_000),
            ("2024-05-06T25:61:61", 1_715_047_321_000),
            ("2024/5/6 7:8", 1_714_979_280_000),
            ("2024-05-06\n07:08", 1_714_979_280_000),
            // Not dayjs' form (an offset, a trailing Z): ISO 8601, as `new Date` reads it.
            ("2024-05-06T07:08:09.123+02:00", 1_714_972_089_123),
            ("2024-05-06T07:08:09.123z", 1_714_979_289_123),
        ];
        for (text, ms) in cases {
            assert_eq!(event_timestamp_millis(text), Some(ms), "{text:?}");
        }
        for text in [
            "2024-05-06x",
            "202",
            "24-05-06",
            "2024-05-06T07:08:09.1x",
            "２０２４",
        ] {
            assert_eq!(dayjs_form_millis(text), None, "{text:?}");
        }
        // Unix time as text: dayjs' form, but not read as one (year 1714 and worse).
        for text in ["1714979289", "1714979289123", "202405060"] {
            assert!(dayjs_form_millis(text).is_some(), "{text:?}");
            assert_eq!(event_timestamp_millis(text), None, "{text:?}");
        }
        assert_eq!(event_timestamp_millis("20240506"), Some(1_714_953_600_000));
        // What dayjs hands to JavaScript's `Date` (text ending in `Z`, or not of its form), as
        // V8 reads it (Node 20, TZ=UTC); what neither reads (Segment then refuses the event) as
        // ISO 8601 where it is.
        for (text, ms) in [
            ("May 6, 2024", 1_714_953_600_000),
            ("Mon, 06 May 2024 07:08:09 GMT", 1_714_979_289_000),
            ("2024-02-30T00:00:00Z", 1_709_251_200_000),
            ("2024-05-06T24:00:00Z", 1_715_040_000_000),
            ("2024-05-06T07:08:09+02", 1_714_972_089_000),
            ("2024-05-06T07:08:09,5Z", 1_714_979_289_500),
        ] {
            assert_eq!(event_timestamp_millis(text), Some(ms), "{text:?}");
        }
        assert_eq!(event_timestamp_millis("May 6 2024 13 PM"), None);
        // Settings and documents are read strictly: ISO 8601 only.
        assert_eq!(parse_iso8601_millis("20240506"), None);
        assert_eq!(parse_iso8601_millis("2024-13-01"), None);
        assert_eq!(
            parse_iso8601_millis("2024-05-06T07:08:09.5"),
            Some(1_714_979_289_500)
        );
        // Linear in the text: the longest a 32 KB event holds, each way the search can fail.
        let started = std::time::Instant::now();
        for tail in ["x", " x", ":x", ".x"] {
            for filler in ["9", " ", "T"] {
                let text = format!("2024-05-06T07:08:09{}{tail}", filler.repeat(32_000));
                assert_eq!(dayjs_form_millis(&text), None);
            }
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let long = format!("2024-05-06T07:08:09.{}", "1".repeat(32_000));
        assert_eq!(dayjs_form_millis(&long), Some(1_714_979_289_111));
        assert_eq!(
            DayjsParts::read("2024-05"),
            Some(DayjsParts {
                year: 2024,
                month: Some(5),
                day: None,
                hour: 0,
                minute: 0,
                second: 0,
                millisecond: 0
            })
        );
    }
    use serde_json::json;

    /// The direct reading of `toISOString`'s form gives what the full parse gives, for every
    /// month of leap and common years, days and times at and past their edges, and refuses what
    /// is not that form (which the full parse then reads).
    #[test]
    fn the_form_segment_sends_is_read_directly_as_in_full() {
        let mut read = 0;
        for year in [
            0, 1, 4, 99, 100, 400, 1600, 1899, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999,
        ] {
            for month in 0..=13 {
                for day in [0, 1, 9, 10, 28, 29, 30, 31, 32] {
                    for (hour, minute, second) in [
                        (0, 0, 0),
                        (23, 59, 59),
                        (24, 0, 0),
                        (0, 60, 0),
                        (0, 0, 60),
                        (12, 34, 56),
                    ] {
                        for fraction in ["000", "001", "999", "123"] {
                            let text = format!(
                                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{fraction}Z"
                            );
                            let direct = canonical_millis(text.as_bytes());
                            assert_eq!(direct, parse_in_full(&text), "{text}");
                            read += usize::from(direct.is_some());
                            if let Some(ms) = direct {
                                assert_eq!(iso8601_millis(ms), text);
                            }
                        }
                    }
                }
            }
        }
        assert!(read > 10_000, "{read}");
        for other in [
            "2024-05-06T07:08:09.123z",
            "2024-05-06t07:08:09.123Z",
            "2024-05-06T07:08:09.12Z",
            "2024-05-06T07:08:09.1234Z",
            "2024-05-06T07:08:09Z",
            " 2024-05-06T07:08:09.123Z",
            "2024-05-06T07:08:09.123+00:00",
            "2024-5-06T07:08:09.1234Z",
            "2024-05-06T07:08:09.12aZ",
            "+02024-05-06T07:08:09.123Z",
        ] {
            assert_eq!(canonical_millis(other.as_bytes()), None, "{other}");
        }
        assert_eq!(
            parse_iso8601_millis("2024-05-06T07:08:09.123Z"),
            Some(1_714_979_289_123)
        );
    }

    #[test]
    fn parses_utc_with_and_without_fraction() {
        assert_eq!(
            parse_iso8601_millis("2022-03-30T17:24:58Z"),
            Some(1_648_661_098_000)
        );
        assert_eq!(
            parse_iso8601_millis("2024-05-06T07:08:09.123Z"),
            Some(1_714_979_289_123)
        );
        assert_eq!(
            parse_iso8601_millis("2024-05-06T07:08:09.123456789Z"),
            Some(1_714_979_289_123)
        );
    }

    #[test]
    fn milliseconds_are_rounded_toward_zero_on_both_sides_of_the_epoch() {
        for text in [
            "1969-12-31T23:59:59.9985Z",
            "1969-12-31T23:59:59.999Z",
            "1969-12-31T23:59:58.0000001Z",
            "1970-01-01T00:00:00.0015Z",
            "1970-01-01T00:00:00.0005Z",
            "1969-12-31T23:59:59.9995Z",
            "1900-01-01T00:00:00.000999999+01:00",
            "0000-01-01T00:00:00.5005Z",
            "9999-12-31T23:59:59.999999999-23:59",
        ] {
            let moment =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .unwrap();
            let expected = i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).unwrap();
            assert_eq!(parse_iso8601_millis(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn applies_offsets() {
        assert_eq!(
            parse_iso8601_millis("2024-05-06T09:08:09.123+02:00"),
            Some(1_714_979_289_123)
        );
        assert_eq!(
            parse_iso8601_millis("2024-05-06T02:08:09.123-0500"),
            Some(1_714_979_289_123)
        );
        assert_eq!(
            parse_iso8601_millis("2024-05-06T09:08:09.123+02"),
            Some(1_714_979_289_123)
        );
    }

    #[test]
    fn accepts_date_only_space_separator_and_no_offset() {
        assert_eq!(parse_iso8601_millis("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_iso8601_millis("2024-01-01 00:00:00"),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            parse_iso8601_millis("2024-01-01T00:00"),
            Some(1_704_067_200_000)
        );
    }

    #[test]
    fn accepts_lower_case_letters_a_decimal_comma_and_one_digit_months_and_days() {
        assert_eq!(
            parse_iso8601_millis(" 2024-5-6t07:08:09,123z "),
            Some(1_714_979_289_123)
        );
        assert_eq!(
            parse_iso8601_millis("2024-05-06T07:08:09.1239Z"),
            Some(1_714_979_289_123)
        );
        assert_eq!(parse_iso8601_millis("2024-05-06T7:08:09Z"), None);
        assert_eq!(parse_iso8601_millis("24-05-06"), None);
    }

    #[test]
    fn rejects_garbage_and_impossible_dates() {
        for text in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00Zjunk",
            "2024-01-01T00:00:00.Z",
            "2024-01-01X00:00:00Z",
        ] {
            assert_eq!(parse_iso8601_millis(text), None, "{text:?}");
        }
    }

    #[test]
    fn writes_iso_text_as_javascript_does() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (946_684_800_000, "2000-01-01T00:00:00.000Z"),
            (946_684_799_999, "1999-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_714_979_289_123, "2024-05-06T07:08:09.123Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (253_402_300_800_000, "+010000-01-01T00:00:00.000Z"),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
            (-62_167_219_200_001, "-000001-12-31T23:59:59.999Z"),
            (8_640_000_000_000_000, "+275760-09-13T00:00:00.000Z"),
            (-8_640_000_000_000_000, "-271821-04-20T00:00:00.000Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(iso8601_millis(ms), text, "{ms}");
        }
        for ms in [i64::MIN, i64::MAX] {
            assert!(iso8601_millis(ms).ends_with('Z'), "{ms}: no overflow");
        }
    }

    #[test]
    fn iso_text_parses_back() {
        for ms in [
            0,
            1,
            -1,
            951_868_799_999,
            1_714_979_289_123,
            253_402_300_799_999,
        ] {
            assert_eq!(parse_iso8601_millis(&iso8601_millis(ms)), Some(ms), "{ms}");
        }
    }

    #[test]
    fn numbers_are_milliseconds_and_other_types_are_absent() {
        assert_eq!(
            unix_millis(Some(&json!(1_648_661_098_000u64))),
            Some(1_648_661_098_000)
        );
        assert_eq!(unix_millis(Some(&json!(null))), None);
        assert_eq!(unix_millis(Some(&json!({"a": 1}))), None);
        assert_eq!(unix_millis(Some(&json!(1e300))), None);
        // JavaScript's limits are dates (Segment sends them); a millisecond beyond is not.
        assert_eq!(
            unix_millis(Some(&json!(-8.64e15))),
            Some(-8_640_000_000_000_000)
        );
        assert_eq!(
            unix_millis(Some(&json!(8.64e15))),
            Some(8_640_000_000_000_000)
        );
        assert_eq!(unix_millis(Some(&json!(-8_640_000_000_000_001i64))), None);
        assert_eq!(unix_millis(Some(&json!(8_640_000_000_000_001i64))), None);
        assert_eq!(
            unix_millis(Some(&json!(-8_639_999_999_999_999.0))),
            Some(-8_639_999_999_999_999)
        );
        assert_eq!(unix_millis(Some(&json!(1.9))), Some(1));
        assert_eq!(unix_millis(None), None);
    }
}
