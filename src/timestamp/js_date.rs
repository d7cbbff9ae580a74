//! JavaScript's `Date.parse` as V8 reads a string (Node's engine: Segment's destination hands
//! dayjs' other text to `new Date(text)`), in UTC, the time zone of Segment's servers and of the
//! Worker.
//!
//! V8 first reads as much as it can of the ECMAScript date-time form
//! (`[±yy]yyyy[-MM[-DD]][THH:mm[:ss[.s…]][Z|±hh:mm|±hhmm]]`), then reads what is left as a legacy
//! date, in the manner of Safari: `May 6, 2024 07:08:09 GMT+0200`, `Mon, 06 May 2024 07:08:09
//! GMT`, `5/6/2024 7:08 PM`, `6 May 24`. Words are read by their first three letters (a month,
//! `am`/`pm`, `ut`, `utc`, `gmt`, `z` and the North American zones `est` … `pdt`; other words
//! are allowed only before the first number), text in parentheses is skipped, the numbers that
//! are not a time are a day, a month and a year in the order their values allow (a named month
//! takes the first number that can be a day as the day), a year of 0 to 49 is 2000 to 2049 and
//! one of 50 to 99 is 1950 to 1999, and a missing year is 2001. The rules are V8's own
//! (`src/date/dateparser*`), checked against Node by `tests/date_parse_differential.rs`.

use super::days_from_civil;

/// A missing value in the composers (V8's `kNone`).
const NONE: i32 = i32::MAX;

/// Unix milliseconds for `text` as JavaScript's `Date.parse` reads it in V8, in UTC, or `None`
/// where it reads `NaN` (text it does not read, or a moment beyond ±8.64e15 ms).
pub fn date_parse_millis(text: &str) -> Option<i64> {
    let mut scanner = Scanner::new(text);
    let mut day = DayParts::default();
    let mut time = TimeParts::default();
    let mut zone = ZoneParts::default();
    let mut token = read_iso_form(&mut scanner, &mut day, &mut time, &mut zone);
    let mut read_number = day.parts.count > 0;
    loop {
        match token {
            Token::End => break,
            Token::Invalid => return None,
            Token::Number { value, .. } => {
                read_number = true;
                read_legacy_number(&mut scanner, &mut day, &mut time, &mut zone, value)?;
            }
            Token::Word { kind, value, .. } => match kind {
                WordKind::AmPm if time.parts.count > 0 => time.hour_offset = value,
                WordKind::Month => {
                    day.named_month = value;
                    scanner.skip_symbol(b'-');
                }
                WordKind::TimeZone if read_number => zone.set_hours(value),
                // Other words only before the first number, and apart from it.
                _ if read_number || matches!(scanner.peek(), Token::Number { .. }) => return None,
                _ => {}
            },
            Token::Symbol(sign @ (b'+' | b'-')) if zone.is_utc() || time.parts.count > 0 => {
                read_number = true;
                read_legacy_offset(&mut scanner, &mut zone, sign)?;
            }
            Token::Symbol(b'+' | b'-' | b')') if read_number => return None,
            Token::Symbol(_) | Token::WhiteSpace | Token::Unknown => {}
        }
        token = scanner.next();
    }
    let (year, month, day_of_month) = day.write()?;
    let time_of_day = time.write()?;
    let offset_seconds = zone.write()?;
    // `MakeDay` reads years within a million of year 0 (later ones are `NaN` anyway).
    if !(-1_000_000..=1_000_000).contains(&year) {
        return None;
    }
    let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day_of_month));
    let ms = days * 86_400_000 + time_of_day - offset_seconds * 1000;
    (ms.abs() <= 8_640_000_000_000_000).then_some(ms)
}

/// A number of the legacy form, its `:`, `::` or `.` read after it: a time's part, the minutes
/// of an offset, or a part of the date. `None` where V8 gives up.
fn read_legacy_number(
    scanner: &mut Scanner<'_>,
    day: &mut DayParts,
    time: &mut TimeParts,
    zone: &mut ZoneParts,
    n: i32,
) -> Option<()> {
    if scanner.skip_symbol(b':') {
        if scanner.skip_symbol(b':') {
            // `n::`: hours and zero minutes.
            if time.parts.count > 0 {
                return None;
            }
            time.parts.add(n);
            time.parts.add(0);
        } else {
            time.parts.add(n).then_some(())?;
            if scanner.peek() == Token::Symbol(b'.') {
                scanner.next();
            }
        }
    // The `.` is consumed even where the time is not expecting `n` (as V8 consumes it).
    } else if scanner.skip_symbol(b'.') && time.expects(n) {
        time.parts.add(n);
        let Token::Number { value, length } = scanner.peek() else {
            return None;
        };
        scanner.next();
        time.add_final(milliseconds(value, length));
    } else if zone.expects_minutes(n) {
        zone.minute = n;
    } else if time.expects(n) {
        time.add_final(n);
        // The time must end here: at the end, a space, `Z` or a sign.
        match scanner.peek() {
            Token::End | Token::WhiteSpace | Token::Symbol(b'+' | b'-') => {}
            token if token.is_z() => {}
            _ => return None,
        }
    } else {
        day.parts.add(n).then_some(())?;
        scanner.skip_symbol(b'-');
    }
    Some(())
}

/// An offset of the legacy form after its sign (after `UTC`, `GMT`… or a time): `+2`, `+02`,
/// `+0200`, `+200`, or hours before a `:` (whose minutes may follow).
fn read_legacy_offset(scanner: &mut Scanner<'_>, zone: &mut ZoneParts, sign: u8) -> Option<()> {
    zone.sign = if sign == b'+' { 1 } else { -1 };
    let (n, length) = match scanner.peek() {
        Token::Number { value, length } => {
            scanner.next();
            (value, length)
        }
        _ => (0, 0),
    };
    if scanner.peek() == Token::Symbol(b':') {
        zone.hour = n;
        zone.minute = NONE;
    } else if length == 1 || length == 2 {
        zone.hour = n;
        zone.minute = 0;
    } else if length == 3 || length == 4 {
        zone.hour = n / 100;
        zone.minute = n % 100;
    } else {
        return None;
    }
    Some(())
}

/// Reads the ECMAScript date-time form as far as the text has it. `Token::End` when the text
/// is all of that form; `Token::Invalid` when it started a time (`T`) it did not finish; else
/// the token the legacy reading goes on from.
fn read_iso_form(
    scanner: &mut Scanner<'_>,
    day: &mut DayParts,
    time: &mut TimeParts,
    zone: &mut ZoneParts,
) -> Token {
    // The year: four digits, or a sign and six.
    match scanner.peek() {
        Token::Symbol(sign @ (b'+' | b'-')) => {
            let sign_token = scanner.next();
            let Some(year) = scanner.peek().fixed(6) else {
                return sign_token;
            };
            // `-000000` is not a year: the legacy reading goes on from the sign, past the digits.
            scanner.next();
            if sign == b'-' && year == 0 {
                return sign_token;
            }
            day.parts.add(if sign == b'-' { -year } else { year });
        }
        token => match token.fixed(4) {
            Some(year) => {
                scanner.next();
                day.parts.add(year);
            }
            None => return scanner.next(),
        },
    }
    if scanner.skip_symbol(b'-') {
        match scanner.peek().fixed(2).filter(|month| is_month(*month)) {
            Some(month) => {
                scanner.next();
                day.parts.add(month);
            }
            None => return scanner.next(),
        }
        if scanner.skip_symbol(b'-') {
            match scanner.peek().fixed(2).filter(|day| is_day(*day)) {
                Some(day_of_month) => {
                    scanner.next();
                    day.parts.add(day_of_month);
                }
                None => return scanner.next(),
            }
        }
    }
    match scanner.peek() {
        Token::End => {}
        Token::Word {
            kind: WordKind::TimeSeparator,
            ..
        } => {
            if read_iso_time(scanner, time, zone).is_none() {
                return Token::Invalid;
            }
        }
        _ => return scanner.next(),
    }
    // Without an offset, a date alone is UTC and a date and time local time: UTC here too.
    day.iso = true;
    Token::End
}

/// The ECMAScript form's time, from its `T` to the end of the text: `HH:mm[:ss[.s…]]`, then `Z`,
/// `±hh:mm` or `±hhmm`. `None` for anything else. The time's ranges (24:00 only with zeros) are
/// checked where it is written ([`TimeParts::write`]), as V8 checks them here: either way the
/// text is not a date.
fn read_iso_time(
    scanner: &mut Scanner<'_>,
    time: &mut TimeParts,
    zone: &mut ZoneParts,
) -> Option<()> {
    scanner.next();
    let mut two_digits = |scanner: &mut Scanner<'_>| {
        let n = scanner.peek().fixed(2)?;
        scanner.next();
        time.parts.add(n).then_some(())
    };
    two_digits(scanner)?;
    scanner.skip_symbol(b':').then_some(())?;
    two_digits(scanner)?;
    if scanner.skip_symbol(b':') {
        two_digits(scanner)?;
        if scanner.skip_symbol(b'.') {
            let Token::Number { value, length } = scanner.peek() else {
                return None;
            };
            scanner.next();
            time.parts.add(milliseconds(value, length));
        }
    }
    if scanner.peek().is_z() {
        scanner.next();
        zone.set_hours(0);
    } else if let Token::Symbol(sign @ (b'+' | b'-')) = scanner.peek() {
        scanner.next();
        zone.sign = if sign == b'+' { 1 } else { -1 };
        if let Some(hours_minutes) = scanner.peek().fixed(4) {
            scanner.next();
            let (hour, minute) = (hours_minutes / 100, hours_minutes % 100);
            (is_hour(hour) && is_minute(minute)).then_some(())?;
            zone.hour = hour;
            zone.minute = minute;
        } else {
            zone.hour = scanner.peek().fixed(2).filter(|hour| is_hour(*hour))?;
            scanner.next();
            scanner.skip_symbol(b':').then_some(())?;
            zone.minute = scanner
                .peek()
                .fixed(2)
                .filter(|minute| is_minute(*minute))?;
            scanner.next();
        }
    }
    (scanner.peek() == Token::End).then_some(())
}

/// Milliseconds from a fraction's digits: its first three significant ones (`5` is 500, `1234`
/// is 123), of a number read from at most nine digits.
fn milliseconds(value: i32, length: usize) -> i32 {
    match length {
        1 => value * 100,
        2 => value * 10,
        _ => value / 10_i32.pow(length.clamp(3, 9) as u32 - 3),
    }
}

fn is_month(n: i32) -> bool {
    (1..=12).contains(&n)
}

fn is_day(n: i32) -> bool {
    (1..=31).contains(&n)
}

fn is_hour(n: i32) -> bool {
    (0..=23).contains(&n)
}

/// Minutes and seconds.
fn is_minute(n: i32) -> bool {
    (0..=59).contains(&n)
}

/// Up to `N` numbers, in the order they were read.
#[derive(Debug)]
struct Numbers<const N: usize> {
    items: [i32; N],
    count: usize,
}

impl<const N: usize> Numbers<N> {
    /// Adds `n`; `false` when all `N` are there.
    fn add(&mut self, n: i32) -> bool {
        let Some(slot) = self.items.get_mut(self.count) else {
            return false;
        };
        *slot = n;
        self.count += 1;
        true
    }

    /// The numbers, those not read being `missing`.
    fn or(mut self, missing: i32) -> [i32; N] {
        for slot in self.items.iter_mut().skip(self.count) {
            *slot = missing;
        }
        self.items
    }
}

impl<const N: usize> Default for Numbers<N> {
    fn default() -> Self {
        Numbers {
            items: [0; N],
            count: 0,
        }
    }
}

/// The numbers of the date, and a named month.
#[derive(Debug)]
struct DayParts {
    parts: Numbers<3>,
    named_month: i32,
    /// Read in the ECMAScript form: year, month, day, and the year as it is.
    iso: bool,
}

impl Default for DayParts {
    fn default() -> Self {
        DayParts {
            parts: Numbers::default(),
            named_month: NONE,
            iso: false,
        }
    }
}

impl DayParts {
    /// The year, month (1 to 12) and day (1 to 31), the parts read in the order their values
    /// allow; missing ones are 1 (so a missing year is 2001).
    fn write(self) -> Option<(i32, i32, i32)> {
        if self.parts.count == 0 {
            return None;
        }
        let [first, second, third] = self.parts.or(1);
        let (year, month, day) = if self.named_month == NONE {
            if self.iso || !is_day(first) {
                (first, second, third)
            } else {
                (third, first, second)
            }
        } else if !is_day(first) {
            (first, self.named_month, second)
        } else {
            (second, self.named_month, first)
        };
        let year = match year {
            _ if self.iso => year,
            0..=49 => year + 2000,
            50..=99 => year + 1900,
            _ => year,
        };
        (is_month(month) && is_day(day)).then_some((year, month, day))
    }
}

/// The numbers of the time of day (hours, minutes, seconds, milliseconds) and an `am`/`pm`.
#[derive(Debug)]
struct TimeParts {
    parts: Numbers<4>,
    /// 0 for `am`, 12 for `pm`.
    hour_offset: i32,
}

impl Default for TimeParts {
    fn default() -> Self {
        TimeParts {
            parts: Numbers::default(),
            hour_offset: NONE,
        }
    }
}

impl TimeParts {
    /// Whether `n` can be the next part: minutes, seconds or milliseconds after the hours.
    fn expects(&self, n: i32) -> bool {
        match self.parts.count {
            1 | 2 => is_minute(n),
            3 => (0..=999).contains(&n),
            _ => false,
        }
    }

    /// Adds `n` as the last part: the parts after it are zero.
    fn add_final(&mut self, n: i32) {
        if self.parts.add(n) {
            self.parts.count = self.parts.items.len();
        }
    }

    /// Milliseconds into the day; 24:00 only with zeros.
    fn write(self) -> Option<i64> {
        let [mut hour, minute, second, millisecond] = self.parts.or(0);
        if self.hour_offset != NONE {
            if !(0..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + self.hour_offset;
        }
        let valid = is_hour(hour)
            && is_minute(minute)
            && is_minute(second)
            && (0..=999).contains(&millisecond);
        if !valid && (hour != 24 || minute != 0 || second != 0 || millisecond != 0) {
            return None;
        }
        Some(
            i64::from(hour) * 3_600_000
                + i64::from(minute) * 60_000
                + i64::from(second) * 1000
                + i64::from(millisecond),
        )
    }
}

/// The offset from UTC: a sign, hours and minutes.
#[derive(Debug)]
struct ZoneParts {
    sign: i32,
    hour: i32,
    minute: i32,
}

impl Default for ZoneParts {
    fn default() -> Self {
        ZoneParts {
            sign: NONE,
            hour: NONE,
            minute: NONE,
        }
    }
}

impl ZoneParts {
    /// A whole number of hours from UTC (a zone's name).
    fn set_hours(&mut self, hours: i32) {
        self.sign = if hours < 0 { -1 } else { 1 };
        self.hour = hours.abs();
        self.minute = 0;
    }

    /// Whether `n` is the minutes of an offset whose hours came before a `:`.
    fn expects_minutes(&self, n: i32) -> bool {
        self.hour != NONE && self.minute == NONE && is_minute(n)
    }

    fn is_utc(&self) -> bool {
        self.hour == 0 && self.minute == 0
    }

    /// The offset in seconds (0 without one: local time, UTC here). `None` beyond what V8
    /// holds: its seconds are counted in 32 bits, wrapping, and must stay below 2^31.
    fn write(self) -> Option<i64> {
        if self.sign == NONE {
            return Some(0);
        }
        let hour = if self.hour == NONE { 0 } else { self.hour };
        let minute = if self.minute == NONE { 0 } else { self.minute };
        let seconds = (hour as u32)
            .wrapping_mul(3600)
            .wrapping_add((minute as u32).wrapping_mul(60));
        let seconds = i64::from(i32::try_from(seconds).ok()?);
        Some(if self.sign < 0 { -seconds } else { seconds })
    }
}

/// What a word is, by its first three letters.
#[derive(Clone, Copy, Debug, PartialEq)]
enum WordKind {
    Other,
    Month,
    TimeZone,
    TimeSeparator,
    AmPm,
}

/// A token of the text.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    /// Digits: the number their first nine significant ones write, and how many there are.
    Number {
        value: i32,
        length: usize,
    },
    Symbol(u8),
    /// A word (a run of characters from `A` up): its kind, its value (a month's number, a zone's
    /// hours from UTC, 0 for `am` and 12 for `pm`) and its length.
    Word {
        kind: WordKind,
        value: i32,
        length: usize,
    },
    WhiteSpace,
    /// Any other character, or text in parentheses.
    Unknown,
    End,
    /// A time of the ECMAScript form that was not finished.
    Invalid,
}

impl Token {
    /// The number, when the token is a number of exactly `length` digits.
    fn fixed(self, length: usize) -> Option<i32> {
        match self {
            Token::Number {
                value,
                length: digits,
            } if digits == length => Some(value),
            _ => None,
        }
    }

    /// `Z` (or `z`) alone.
    fn is_z(self) -> bool {
        self == Token::Word {
            kind: WordKind::TimeZone,
            value: 0,
            length: 1,
        }
    }
}

/// The text's tokens, with one looked at ahead.
struct Scanner<'a> {
    input: Input<'a>,
    next: Token,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        let mut input = Input::new(text);
        let next = input.scan();
        Scanner { input, next }
    }

    fn peek(&self) -> Token {
        self.next
    }

    fn next(&mut self) -> Token {
        let token = self.next;
        self.next = self.input.scan();
        token
    }

    fn skip_symbol(&mut self, symbol: u8) -> bool {
        let skipped = self.next == Token::Symbol(symbol);
        if skipped {
            self.next();
        }
        skipped
    }
}

/// The text's UTF-16 code units, as V8 reads a string; a NUL ends it.
struct Input<'a> {
    units: std::str::EncodeUtf16<'a>,
    /// The current code unit; 0 at the end.
    unit: u32,
}

impl<'a> Input<'a> {
    fn new(text: &'a str) -> Self {
        let mut input = Input {
            units: text.encode_utf16(),
            unit: 0,
        };
        input.advance();
        input
    }

    /// Never inlined: each of the scanner's loops would carry a copy of the UTF-16 encoding.
    #[inline(never)]
    fn advance(&mut self) {
        self.unit = self.units.next().map_or(0, u32::from);
    }

    fn digit(&self) -> Option<i32> {
        char::from_u32(self.unit)
            .and_then(|c| c.to_digit(10))
            .map(|d| d as i32)
    }

    /// Whether the current code unit is part of a word: from `A` up, white space aside.
    fn in_word(&self) -> bool {
        self.unit >= u32::from(b'A') && !is_white_space(self.unit)
    }

    /// The next token. Never inlined: the scanner's every step would carry a copy (8.5 KB of
    /// the Worker's wasm otherwise; dates of this kind are rare).
    #[inline(never)]
    fn scan(&mut self) -> Token {
        if self.unit == 0 {
            return Token::End;
        }
        if self.digit().is_some() {
            // Nine significant digits at most: leading zeros are counted in the length only.
            let (mut value, mut length) = (0, 0);
            while self.unit == u32::from(b'0') {
                length += 1;
                self.advance();
            }
            let zeros = length;
            while let Some(digit) = self.digit() {
                if length - zeros < 9 {
                    value = value * 10 + digit;
                }
                length += 1;
                self.advance();
            }
            return Token::Number { value, length };
        }
        if let Ok(symbol @ (b':' | b'-' | b'+' | b'.' | b')')) = u8::try_from(self.unit) {
            self.advance();
            return Token::Symbol(symbol);
        }
        if self.in_word() {
            let mut prefix = [0u32; 3];
            let mut length = 0;
            while self.in_word() {
                if let Some(slot) = prefix.get_mut(length) {
                    *slot = self.unit | 0x20;
                }
                length += 1;
                self.advance();
            }
            let (kind, value) = keyword(prefix, length);
            return Token::Word {
                kind,
                value,
                length,
            };
        }
        if is_white_space(self.unit) {
            self.advance();
            return Token::WhiteSpace;
        }
        if self.unit == u32::from(b'(') {
            let mut depth = 0;
            loop {
                match self.unit {
                    0x29 => depth -= 1,
                    0x28 => depth += 1,
                    _ => {}
                }
                self.advance();
                if depth <= 0 || self.unit == 0 {
                    break;
                }
            }
            return Token::Unknown;
        }
        self.advance();
        Token::Unknown
    }
}

/// JavaScript's white space and line terminators below `A`, and its white space from `A` up
/// (Unicode's space separators and the byte order mark; the line separators U+2028 and U+2029
/// are read as words), as V8 tells them apart in a date.
fn is_white_space(unit: u32) -> bool {
    matches!(
        unit,
        0x09..=0x0d | 0x20 | 0xa0 | 0x1680 | 0x2000..=0x200a | 0x202f | 0x205f | 0x3000 | 0xfeff
    )
}

/// A word's kind and value by its first three letters, lower-cased (zero-padded), and its length:
/// a longer word is only ever a month.
fn keyword(prefix: [u32; 3], length: usize) -> (WordKind, i32) {
    let [Ok(a), Ok(b), Ok(c)] = prefix.map(u8::try_from) else {
        return (WordKind::Other, 0);
    };
    let month = match &[a, b, c] {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => 0,
    };
    if month > 0 {
        return (WordKind::Month, month);
    }
    if length > 3 {
        return (WordKind::Other, 0);
    }
    match &[a, b, c] {
        b"am\0" => (WordKind::AmPm, 0),
        b"pm\0" => (WordKind::AmPm, 12),
        b"ut\0" | b"utc" | b"z\0\0" | b"gmt" => (WordKind::TimeZone, 0),
        b"edt" => (WordKind::TimeZone, -4),
        b"est" | b"cdt" => (WordKind::TimeZone, -5),
        b"cst" | b"mdt" => (WordKind::TimeZone, -6),
        b"mst" | b"pdt" => (WordKind::TimeZone, -7),
        b"pst" => (WordKind::TimeZone, -8),
        b"t\0\0" => (WordKind::TimeSeparator, 0),
        _ => (WordKind::Other, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Date.parse` in Node 20 (V8 11.3), TZ=UTC: the forms of the module's documentation, V8's
    /// quirks and its limits.
    const NODE: &[(&str, Option<i64>)] = &[
        ("May 6, 2024", Some(1_714_953_600_000)),
        ("Mon, 06 May 2024 07:08:09 GMT", Some(1_714_979_289_000)),
        ("Mon, 06 May 2024 07:08:09 +0200", Some(1_714_972_089_000)),
        ("5/6/2024 7:08 PM", Some(1_715_022_480_000)),
        // A missing year is 2001; two-digit years are 2000 to 2049 and 1950 to 1999.
        ("May 6", Some(989_107_200_000)),
        ("6 May 24", Some(1_714_953_600_000)),
        ("Dec 25 95", Some(819_849_600_000)),
        ("24-05-06", None),
        ("2024-05-06T24:00:00Z", Some(1_715_040_000_000)),
        ("2024-05-06T24:00:01Z", None),
        ("2024-02-30T00:00:00Z", Some(1_709_251_200_000)),
        ("2024-05-06T07:08:09+02", None),
        ("2024-05-06T07:08:09,5Z", None),
        ("2024-05-06T07Z", None),
        ("2024-5-6T07:08Z", None),
        ("0024-05-06T00:00:00Z", Some(-61_398_950_400_000)),
        (
            "Tue May 06 2024 09:08:09 GMT+0200 (Central European Summer Time)",
            Some(1_714_979_289_000),
        ),
        ("-000000-01-01T00:00:00Z", None),
        ("+275760-09-13T00:00:00.000Z", Some(8_640_000_000_000_000)),
        ("+275760-09-13T00:00:00.001Z", None),
        // An offset's seconds are counted in 32 bits and must stay below 2^31.
        ("Jan 1 2000 00:00 GMT+596523:", Some(-1_200_798_000_000)),
        ("Jan 1 2000 00:00 GMT+596524:", None),
        ("\u{a0}2000", Some(946_684_800_000)),
        ("\u{e9}2000", None),
        ("2024-05-06\u{0}garbage", Some(1_714_953_600_000)),
        ("12:00 am May 6 2024", Some(1_714_953_600_000)),
        ("May 6 2024 12:30 PM EST", Some(1_715_016_600_000)),
        ("May 6 2024 13 PM", None),
        ("2024-05-06 07:08:09.123456Z", Some(1_714_979_289_123)),
        ("2024-05-06T07:08:09.5Z", Some(1_714_979_289_500)),
        ("Sunday, May 6 2024", Some(1_714_953_600_000)),
        ("2024 May 6", Some(1_714_953_600_000)),
        ("May 2024", Some(1_714_521_600_000)),
        ("6.5.2024", Some(1_717_545_600_000)),
        ("07:08 2024-05-06", Some(1_714_979_280_000)),
        ("2024-05-06T07:08Z", Some(1_714_979_280_000)),
        ("May 6 2024 7::", Some(1_714_978_800_000)),
        ("(comment) May 6 2024", Some(1_714_953_600_000)),
        ("May 6 2024 (comment", Some(1_714_953_600_000)),
        ("May 6 2024 )", None),
        ("May 6 2024 GMT+5:30", Some(1_714_933_800_000)),
        ("May 6 2024 07:08 +05:30", Some(1_714_959_480_000)),
        ("1 2 3 4", None),
        // Leading zeros are not among a number's nine significant digits.
        ("000000000001", Some(978_307_200_000)),
        ("0000002400000", None),
        // Offsets, zone names, `am`/`pm`, the order of the date's parts, and the ranges.
        ("6 May 2024 +0200", None),
        ("May 6 2024 UTC+0200", Some(1_714_946_400_000)),
        ("May 6 2024 10:00 GMT-0800", Some(1_715_018_400_000)),
        ("May 6 2024 10:00 GMT-8", Some(1_715_018_400_000)),
        ("May 6 2024 10:00 GMT-12345", None),
        ("May 6 2024 10:00 GMT+", None),
        ("May 6 2024 10:00 GMT+:30", Some(1_714_987_800_000)),
        ("May 6 2024 10:00:00.123", Some(1_714_989_600_123)),
        ("May 6 2024 10.30", None),
        ("10:00 PM May 6 2024", Some(1_715_032_800_000)),
        ("12 AM May 6 2024", None),
        ("May 6 2024 10:00:00:00", Some(1_714_989_600_000)),
        ("2024-05-06T10:00:00.000+05:30", Some(1_714_969_800_000)),
        ("2024-05-06T10:00:00+0530", Some(1_714_969_800_000)),
        ("2024-05-06T10:00:00-05:30", Some(1_715_009_400_000)),
        ("2024-05-06T10:00:00-0530", Some(1_715_009_400_000)),
        ("2024-05-06T24:01:00Z", None),
        ("2024-05-06T24:00:00.001Z", None),
        ("2024-05-06T24:00:00.000Z", Some(1_715_040_000_000)),
        ("2024-05-06T25:00:00Z", None),
        ("2024-05-06T10:00:00+2400", None),
        ("2024-05-06T10:00:00+05", None),
        ("+002024-05-06T10:00:00Z", Some(1_714_989_600_000)),
        ("-002024-05-06", Some(-126_027_619_200_000)),
        ("2024-05-06T10:00:00 Z", None),
        ("Tue, 2024-05-06", Some(1_714_953_600_000)),
        ("May 6 2024 10:00 z", Some(1_714_989_600_000)),
        ("6/5/2024 10:00 CET", None),
        ("May 32 2024", None),
        ("Feb 30 2024", Some(1_709_251_200_000)),
        ("13/6/2024", None),
        ("2024/13/6", None),
        ("30 2024 May", Some(1_717_027_200_000)),
        ("May 6 2024 24:00", Some(1_715_040_000_000)),
        ("May 6 2024 24:01", None),
        ("May 6 2024 12:00 AM", Some(1_714_953_600_000)),
        ("May 6 2024 12:00 PM", Some(1_714_996_800_000)),
        ("May 6 2024 0:30 PM", Some(1_714_998_600_000)),
        ("2024-05-06T10:60Z", None),
        ("2024-05-06T10:00:60Z", None),
        ("2024-13-06", None),
        ("2024-05-32", None),
        ("2024-05", Some(1_714_521_600_000)),
        ("2024-5", Some(1_714_521_600_000)),
        ("m-12", Some(1_007_164_800_000)),
        ("May 6 2024 10:00 +5", Some(1_714_971_600_000)),
        ("May 6 2024 10:00 -05:30", Some(1_715_009_400_000)),
        ("May 6 2024 10:00 EST+1", Some(1_714_986_000_000)),
        ("5 6 2024 7:08:09.5 PM", Some(1_715_022_489_500)),
        ("May-6-2024", Some(1_714_953_600_000)),
        ("6-May-2024", Some(1_714_953_600_000)),
        // Words after the first number are zone names or nothing; a time ends at the end, a
        // space, `Z` or a sign; `n::` only starts a time.
        ("2024 foo", None),
        ("2024-05-06 foo", None),
        ("2024-05 EST", Some(1_714_539_600_000)),
        ("EST May 6 2024 10:00", Some(1_714_989_600_000)),
        ("May 6 2024 10:00 7::", None),
        ("May 6 2024 10:00z", Some(1_714_989_600_000)),
        ("May 6 2024 10:00pm", None),
        ("May 6 2024 10:00:00Z", Some(1_714_989_600_000)),
        ("7:: May 6 2024", Some(1_714_546_806_000)),
        ("May 6 2024 10:00:00:123", Some(1_714_989_600_123)),
        ("May 6 2024 10:00:00:1234", Some(1_714_989_600_000)),
        // A sign starts an offset only after UTC (`+00:00`) or a time.
        ("May 6 2024 GMT+:30", Some(1_714_951_800_000)),
        ("May 6 2024 GMT+:30 +0100", None),
        // Every word V8 knows, and some it does not.
        ("May 6 2024 10:00 UT", Some(1_714_989_600_000)),
        ("May 6 2024 10:00 UTC", Some(1_714_989_600_000)),
        ("May 6 2024 10:00 GMT", Some(1_714_989_600_000)),
        ("May 6 2024 10:00 Z", Some(1_714_989_600_000)),
        ("May 6 2024 10:00 EST", Some(1_715_007_600_000)),
        ("May 6 2024 10:00 EDT", Some(1_715_004_000_000)),
        ("May 6 2024 10:00 CST", Some(1_715_011_200_000)),
        ("May 6 2024 10:00 CDT", Some(1_715_007_600_000)),
        ("May 6 2024 10:00 MST", Some(1_715_014_800_000)),
        ("May 6 2024 10:00 MDT", Some(1_715_011_200_000)),
        ("May 6 2024 10:00 PST", Some(1_715_018_400_000)),
        ("May 6 2024 10:00 PDT", Some(1_715_014_800_000)),
        ("May 6 2024 10:00 CET", None),
        ("May 6 2024 10:00 utcx", None),
        ("May 6 2024 10:00 gm", None),
        ("6 jan 2024", Some(1_704_499_200_000)),
        ("6 FEB 2024", Some(1_707_177_600_000)),
        ("6 Mar 2024", Some(1_709_683_200_000)),
        ("6 april 2024", Some(1_712_361_600_000)),
        ("6 May 2024", Some(1_714_953_600_000)),
        ("6 June 2024", Some(1_717_632_000_000)),
        ("6 jul 2024", Some(1_720_224_000_000)),
        ("6 AUGUST 2024", Some(1_722_902_400_000)),
        ("6 Sept 2024", Some(1_725_580_800_000)),
        ("6 oct 2024", Some(1_728_172_800_000)),
        ("6 November 2024", Some(1_730_851_200_000)),
        ("6 dec 2024", Some(1_733_443_200_000)),
        ("6 ja 2024", None),
        ("6 decx 2024", Some(1_733_443_200_000)),
        ("May 6 2024 10:00 am", Some(1_714_989_600_000)),
        ("May 6 2024 10:00 PM", Some(1_715_032_800_000)),
        ("May 6 2024 10:00 a", None),
        ("May 6 2024 10:00 pmx", None),
        ("May 6 2024 10:00 T", None),
    ];

    #[test]
    fn text_is_read_as_v8_reads_it() {
        for (text, expected) in NODE {
            assert_eq!(date_parse_millis(text), *expected, "{text:?}");
        }
    }

    /// One pass over the text: the longest a 32 KB event holds, in each token kind.
    #[test]
    fn long_text_is_read_in_linear_time() {
        let started = std::time::Instant::now();
        for filler in ["9", "(", ")", " ", "x", "-", "\u{a0}", "(("] {
            let text = format!("May 6 2024 {}", filler.repeat(32_000));
            let _ = date_parse_millis(&text);
            let text = format!("{}May 6 2024", filler.repeat(32_000));
            let _ = date_parse_millis(&text);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(date_parse_millis(&"9".repeat(32_000)), None);
    }

    #[test]
    fn fractions_keep_their_first_three_significant_digits() {
        assert_eq!(milliseconds(5, 1), 500);
        assert_eq!(milliseconds(12, 2), 120);
        assert_eq!(milliseconds(123, 3), 123);
        assert_eq!(milliseconds(1234, 4), 123);
        // Nine digits read; more counted but not read.
        assert_eq!(milliseconds(123_456_789, 12), 123);
    }
}
