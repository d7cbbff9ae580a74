//! JavaScript semantics both engines (mapping-kit and triggers) rely on, implemented once:
//! `Number.prototype.toString` ([`number_to_string`]), `Number(string)` ([`string_to_number`]),
//! `String(v)` and `Number(v)` of a JSON value ([`write_value_string`], [`value_to_number`]),
//! the JSON value of a number ([`number_to_json`]), white space as `String.prototype.trim`
//! and `/\s/` see it ([`is_whitespace`]), truthiness ([`truthy`]), array indexes
//! ([`array_index`]), and strings as UTF-16 code units: their length ([`utf16_len`]), a slice
//! ([`utf16_slice`]) and the code units one by one ([`utf16_units`]).
//!
//! Tested once, here, with a table of vectors for both engines' needs; the engines' own tests
//! and Segment's conformance vectors exercise them through the engines.
//!
//! A leaf module: it uses nothing from the rest of the crate. Where an engine follows a rule
//! of its own instead (liquidjs' character classes and `toNumber`, fql-ts' white space), that
//! rule lives, named, next to the engine.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde_json::{Number, Value};

/// JavaScript's `WhiteSpace` and `LineTerminator` characters: what `String.prototype.trim`
/// removes, what `Number(s)` ignores around the number and what `\s` matches in a regular
/// expression. Unlike [`char::is_whitespace`], it includes U+FEFF and excludes U+0085.
pub(crate) fn is_whitespace(c: char) -> bool {
    match c {
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' => true,
        c if c.is_ascii() => false,
        '\u{a0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200a}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202f}'
        | '\u{205f}'
        | '\u{3000}'
        | '\u{feff}' => true,
        _ => false,
    }
}

/// `s.trim()`.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(is_whitespace)
}

/// The array index a property key denotes, as JavaScript reads `array[key]`: a canonical
/// numeric string (`"0"`, `"12"`; not `"01"`, `"+1"`, `"-1"`, `"1.0"` or `" 1"`) below
/// 2^32 - 1.
pub(crate) fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b.first() == Some(&b'0') {
        return None;
    }
    key.parse::<u32>().ok().filter(|&index| index < u32::MAX)
}

/// `s.length`: the length of a string in UTF-16 code units.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `s.slice(from, to)`, the UTF-16 code units `from..to` of `s` (both clamped to its length;
/// empty when `from >= to`). Half of a character outside the Basic Multilingual Plane, a lone
/// surrogate in JavaScript, is U+FFFD: what LaunchDarkly keeps of the lone surrogate Segment
/// would send. Borrowed unless a character is cut.
pub(crate) fn utf16_slice(s: &str, from: usize, to: usize) -> Cow<'_, str> {
    if from >= to {
        return Cow::Borrowed("");
    }
    let (mut start, mut end) = (s.len(), s.len());
    let (mut cut_first, mut cut_last) = (false, false);
    let mut started = false;
    let mut unit = 0;
    for (at, c) in s.char_indices() {
        let next = unit + c.len_utf16();
        if !started && from < next {
            started = true;
            // `from` is this character's second half when it is not its start.
            cut_first = from > unit;
            start = if cut_first { at + c.len_utf8() } else { at };
        }
        if started && to < next {
            // `to` ends inside this character (after its first half) or before it.
            cut_last = to > unit;
            end = at;
            break;
        }
        unit = next;
    }
    let kept = s.get(start..end.max(start)).unwrap_or_default();
    if !cut_first && !cut_last {
        return Cow::Borrowed(kept);
    }
    let half = |cut: bool| if cut { "\u{FFFD}" } else { "" };
    Cow::Owned([half(cut_first), kept, half(cut_last)].concat())
}

/// The UTF-16 code units of `s`, each as the text JavaScript's `s[i]` gives (a character outside
/// the Basic Multilingual Plane is two U+FFFD, as [`utf16_slice`] says why).
pub(crate) fn utf16_units(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(|c| {
        let halves = if c.len_utf16() == 2 {
            [char::REPLACEMENT_CHARACTER; 2]
        } else {
            [c, c]
        };
        halves.into_iter().take(c.len_utf16())
    })
}

/// Truthiness of a JSON value (`Boolean(v)`): `null`, `false`, `0` and `""` are falsy.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => number_is_truthy(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Truthiness of a number: false for `0`, `-0` and `NaN`.
pub(crate) fn number_is_truthy(x: f64) -> bool {
    !(x == 0.0 || x.is_nan())
}

// ---------------------------------------------------------------------------------------
// Arithmetic

/// `Math.round(x)`: the whole number nearest `x`, halves towards +∞ (`-2.5` is `-2`), `-0`
/// for `x` from -0.5 to -0; not-a-number, infinities and whole numbers as they are.
pub(crate) fn math_round(x: f64) -> f64 {
    let floor = x.floor();
    // Exact: a double past 2^52 is whole (so 0 here), and one under it keeps every bit of its
    // fraction. Infinities and not-a-number give not-a-number, under 0.5: `floor`, themselves.
    let rounded = if x - floor >= 0.5 { floor + 1.0 } else { floor };
    if rounded == 0.0 && x < 0.0 {
        -0.0
    } else {
        rounded
    }
}

/// V8's `Math.pow(10, -n)` for `n` from 1 to 22, as bits: fdlibm's results, five of which
/// (n = 4, 5, 17, 20, 21) are a unit off the double nearest 10^-n (`Math.pow(10, -4)` is
/// 0.00009999999999999999, where `1e-4` is 0.0001).
const V8_NEGATIVE_POWERS_OF_TEN: [u64; 22] = [
    0x3fb9_9999_9999_999a,
    0x3f84_7ae1_47ae_147b,
    0x3f50_624d_d2f1_a9fc,
    0x3f1a_36e2_eb1c_432c,
    0x3ee4_f8b5_88e3_68f0,
    0x3eb0_c6f7_a0b5_ed8d,
    0x3e7a_d7f2_9abc_af48,
    0x3e45_798e_e230_8c3a,
    0x3e11_2e0b_e826_d695,
    0x3ddb_7cdf_d9d7_bdbb,
    0x3da5_fd7f_e179_6495,
    0x3d71_9799_812d_ea11,
    0x3d3c_25c2_6849_7682,
    0x3d06_849b_86a1_2b9b,
    0x3cd2_03af_9ee7_5616,
    0x3c9c_d2b2_97d8_89bc,
    0x3c67_0ef5_4646_d496,
    0x3c32_725d_d1d2_43ac,
    0x3bfd_83c9_4fb6_d2ac,
    0x3bc7_9ca1_0c92_4224,
    0x3b92_e3b4_0a0e_9b50,
    0x3b5e_3920_1017_5ee6,
];

/// `Math.pow(10, n)` as V8 (Node, workerd, Chromium) computes it for whole `n` from -22 to 22:
/// the exact power for 0 to 22, [`V8_NEGATIVE_POWERS_OF_TEN`] below 0. Other `n` (fractions,
/// beyond ±22) take the platform's `powf`, which may differ from V8's in the last bit.
pub(crate) fn pow10(n: f64) -> f64 {
    if n.fract() == 0.0 && (-22.0..=22.0).contains(&n) {
        let whole = n as i32;
        if whole >= 0 {
            // 10^0 to 10^22 are doubles, and every product on the way is exact.
            return (0..whole).fold(1.0, |power, _| power * 10.0);
        }
        let index = usize::try_from(-whole - 1).unwrap_or(0);
        if let Some(bits) = V8_NEGATIVE_POWERS_OF_TEN.get(index) {
            return f64::from_bits(*bits);
        }
    }
    10f64.powf(n)
}

// ---------------------------------------------------------------------------------------
// Number to text

/// The text of a number, without allocating: what [`number_to_string`] returns. Derefs to
/// `&str`.
#[derive(Clone, Copy)]
pub(crate) struct NumberText {
    bytes: [u8; NumberText::CAPACITY],
    len: usize,
}

impl NumberText {
    /// Enough for every double (`-1.7976931348623157e+308` and `-0.0000012345678901234567`
    /// have 24 and 25 characters) and for every `u64` and `i64`.
    const CAPACITY: usize = 32;

    fn new() -> NumberText {
        NumberText {
            bytes: [0; NumberText::CAPACITY],
            len: 0,
        }
    }

    fn from_str(text: &str) -> NumberText {
        let mut out = NumberText::new();
        out.push(text.as_bytes());
        out
    }

    /// Appends ASCII bytes; what would not fit is dropped (never happens: see `CAPACITY`).
    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(NumberText::CAPACITY);
        if let (Some(to), Some(from)) = (
            self.bytes.get_mut(self.len..end),
            bytes.get(..end - self.len),
        ) {
            to.copy_from_slice(from);
            self.len = end;
        }
    }

    fn push_zeros(&mut self, count: usize) {
        for _ in 0..count {
            self.push(b"0");
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.len + s.len() > NumberText::CAPACITY {
            return Err(fmt::Error);
        }
        self.push(s.as_bytes());
        Ok(())
    }
}

impl Deref for NumberText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for NumberText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NumberText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<&str> for NumberText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `Number::toString(x)` (ECMAScript `Number::toString`, radix 10): the shortest digits that
/// read back as `x`, in plain notation for decimal exponents from -7 to 21 exclusive
/// (`0.000001`, `100000000000000000000`), in exponent notation outside (`1e-7`, `1e+21`,
/// `1.5e+300`); `-0` is `0`, and `NaN`, `Infinity`, `-Infinity`.
pub(crate) fn number_to_string(x: f64) -> NumberText {
    if x.is_nan() {
        return NumberText::from_str("NaN");
    }
    if x == 0.0 {
        return NumberText::from_str("0");
    }
    if x.is_infinite() {
        return NumberText::from_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    }
    let (digits, n) = shortest_digits(x.abs());
    let digits = digits.as_str().as_bytes();
    // The value is 0.<digits> × 10^n, with k digits.
    let k = digits.len() as i32;
    let mut out = NumberText::new();
    if x < 0.0 {
        out.push(b"-");
    }
    if k <= n && n <= 21 {
        out.push(digits);
        out.push_zeros((n - k) as usize);
    } else if 0 < n && n <= 21 {
        let (head, tail) = digits.split_at(n as usize);
        out.push(head);
        out.push(b".");
        out.push(tail);
    } else if -6 < n && n <= 0 {
        out.push(b"0.");
        out.push_zeros((-n) as usize);
        out.push(digits);
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push(first);
        if !rest.is_empty() {
            out.push(b".");
            out.push(rest);
        }
        let e = n - 1;
        out.push(if e < 0 { b"e-" } else { b"e+" });
        out.push(itoa::Buffer::new().format(e.unsigned_abs()).as_bytes());
    }
    out
}

/// The shortest decimal digits of a finite positive `x` that read back as `x` (no leading or
/// trailing zeros), and `n` such that `x` is `0.<digits> × 10^n`. The digits come from
/// serde_json's float printer (Ryū), which prints `123.45`, `1e23`, `1.5e-7` or `100.0`.
fn shortest_digits(x: f64) -> (NumberText, i32) {
    let mut printed = NumberText::new();
    let written = match Number::from_f64(x) {
        Some(number) => fmt::Write::write_fmt(&mut printed, format_args!("{number}")).is_ok(),
        None => false,
    };
    if !written {
        return (NumberText::from_str("0"), 0);
    }
    let text = printed.as_str();
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = NumberText::new();
    digits.push(int.as_bytes());
    digits.push(frac.as_bytes());
    let all = digits.as_str();
    let leading = all.len() - all.trim_start_matches('0').len();
    let n = int.len() as i32 - leading as i32 + exponent;
    (NumberText::from_str(all.trim_matches('0')), n)
}

/// `String(n)` for a JSON number: [`number_to_string`] of the double JavaScript's `JSON.parse`
/// would have read (integers beyond 2^53 are rounded to it), with a fast path for the
/// integers a double holds exactly.
pub(crate) fn json_number_to_string(n: &Number) -> NumberText {
    const SAFE: u64 = 1 << 53;
    if let Some(u) = n.as_u64() {
        if u <= SAFE {
            return NumberText::from_str(itoa::Buffer::new().format(u));
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= SAFE {
            return NumberText::from_str(itoa::Buffer::new().format(i));
        }
    }
    number_to_string(n.as_f64().unwrap_or(f64::NAN))
}

/// The JSON value of a number as `JSON.stringify` writes it: an integer when it is one (within
/// 2^53), `null` for `NaN` and the infinities, otherwise the double.
pub(crate) fn number_to_json(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        Value::from(x as i64)
    } else {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// `String(v)` for a JSON value, handed to `put` in pieces: `null` is `"null"`, arrays are
/// joined with `,` (`null` items as `""`), objects are `"[object Object]"`. A value nested
/// deeper than `max_depth` (the top level is depth 0) gives `too_deep()` instead.
pub(crate) fn write_value_string<E>(
    v: &Value,
    max_depth: usize,
    put: &mut impl FnMut(&str) -> Result<(), E>,
    too_deep: &impl Fn() -> E,
) -> Result<(), E> {
    write_value_string_at(v, 0, max_depth, put, too_deep)
}

/// [`write_value_string`] of a value at `depth`; the recursion is bounded by `max_depth`.
fn write_value_string_at<E>(
    v: &Value,
    depth: usize,
    max_depth: usize,
    put: &mut impl FnMut(&str) -> Result<(), E>,
    too_deep: &impl Fn() -> E,
) -> Result<(), E> {
    if depth > max_depth {
        return Err(too_deep());
    }
    match v {
        Value::Null => put("null"),
        Value::Bool(b) => put(if *b { "true" } else { "false" }),
        Value::Number(n) => put(&json_number_to_string(n)),
        Value::String(s) => put(s),
        Value::Object(_) => put("[object Object]"),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    put(",")?;
                }
                if !item.is_null() {
                    write_value_string_at(item, depth + 1, max_depth, put, too_deep)?;
                }
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text to number

/// `Number(s)` for a string (ECMAScript `StringToNumber`): JavaScript white space around the
/// number is ignored, an empty string is `0`; `0x`, `0o` and `0b` prefixes (without a sign),
/// `Infinity` with an optional sign, and decimal literals (`12`, `-1.5`, `.5`, `5.`, `1e3`)
/// are numbers; anything else (`inf`, `nan`, `1_000`, `0x` alone, `-0x1`) is `NaN`.
///
/// Decimal literals are read by serde_json's number parser, the one that reads the events'
/// numbers, so that a `"0.3"` here and a `0.3` in an event are the same double; with its
/// `float_roundtrip` feature it rounds every literal correctly, as JavaScript does (`902e-116`
/// is 9.02e-114).
pub(crate) fn string_to_number(s: &str) -> f64 {
    let s = trim(s);
    let b = s.as_bytes();
    if b.is_empty() {
        return 0.0;
    }
    if let (Some(b'0'), Some(prefix), Some(rest)) = (b.first(), b.get(1), s.get(2..)) {
        let radix = match prefix {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            return radix_integer(rest, radix);
        }
    }
    let (negative, unsigned) = match b.first() {
        Some(b'-') => (true, s.get(1..).unwrap_or_default()),
        Some(b'+') => (false, s.get(1..).unwrap_or_default()),
        _ => (false, s),
    };
    let magnitude = if unsigned == "Infinity" {
        f64::INFINITY
    } else if is_decimal_literal(unsigned) {
        parse_decimal(unsigned)
    } else {
        return f64::NAN;
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// The digits of a `0x`/`0o`/`0b` literal after the prefix, correctly rounded to a double
/// (`NaN` when there is no digit or a digit is not one of the radix). The digits are
/// gathered exactly into 128 bits; below those, only whether any bit is set matters for the
/// rounding, so it is kept as a sticky bit.
fn radix_integer(digits: &str, radix: u32) -> f64 {
    if digits.is_empty() {
        return f64::NAN;
    }
    let bits_per_digit = radix.trailing_zeros();
    let mut mantissa: u128 = 0;
    let mut dropped_bits: i32 = 0;
    let mut sticky = false;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            return f64::NAN;
        };
        if mantissa.leading_zeros() >= bits_per_digit {
            mantissa = (mantissa << bits_per_digit) | u128::from(d);
        } else {
            dropped_bits = dropped_bits.saturating_add(bits_per_digit as i32);
            sticky |= d != 0;
        }
    }
    // At least 125 significant bits when bits were dropped: the sticky bit decides a tie.
    let rounded = (mantissa | u128::from(sticky)) as f64;
    if dropped_bits == 0 {
        return rounded;
    }
    // 2^dropped_bits; the value is at least 2^125 here, so beyond 2^1023 it is Infinity.
    match u64::try_from(dropped_bits.saturating_add(1023)) {
        Ok(biased) if biased < 2047 => rounded * f64::from_bits(biased << 52),
        _ => f64::INFINITY,
    }
}

/// `StrUnsignedDecimalLiteral` without `Infinity`: `1`, `1.`, `.5`, `1.5e-3`.
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let digits_from = |i: usize| {
        b.get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_digits = digits_from(0);
    let mut i = int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digits_from(i);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = digits_from(i);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

/// Reads a checked decimal literal as JSON (`.5` as `0.5`, `5.` as `5`, `007` as `7`).
fn parse_decimal(s: &str) -> f64 {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => s.split_at(at),
        None => (s, ""),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let int = int.trim_start_matches('0');
    let mut json = String::with_capacity(s.len() + 2);
    json.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        json.push('.');
        json.push_str(frac);
    }
    json.push_str(exponent);
    // The only way a checked literal fails is overflow: JavaScript gives Infinity.
    serde_json::from_str::<f64>(&json).unwrap_or(f64::INFINITY)
}

/// `Number(v)` for a JSON value: `null` is `0`, booleans `0`/`1`, strings as
/// [`string_to_number`], objects `NaN`, and arrays through their `String(v)`: `[]` is `0`,
/// `[x]` is `Number(String(x))`, and two items or more are `NaN` (their text has a comma).
pub(crate) fn value_to_number(v: &Value) -> f64 {
    let mut v = v;
    let mut in_array = false;
    loop {
        return match v {
            // `String([null])` is `''`.
            Value::Null => 0.0,
            // `String([true])` is `'true'`.
            Value::Bool(_) if in_array => f64::NAN,
            Value::Bool(b) => f64::from(u8::from(*b)),
            // `String([-0])` is `'0'`.
            Value::Number(n) if in_array => n.as_f64().map_or(f64::NAN, |x| x + 0.0),
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) => string_to_number(s),
            Value::Object(_) => f64::NAN,
            Value::Array(items) => match items.as_slice() {
                [] => 0.0,
                [only] => {
                    v = only;
                    in_array = true;
                    continue;
                }
                _ => f64::NAN,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `Math.round` as Node gives it: halves towards +∞, `-0` just below zero.
    #[test]
    fn math_round_is_javascripts() {
        let cases = [
            (2.5, 3.0),
            (-2.5, -2.0),
            (-2.6, -3.0),
            (1.4999999999999998, 1.0),
            (0.49999999999999994, 0.0),
            (125.49999999999999, 125.0),
            (4_503_599_627_370_497.0, 4_503_599_627_370_497.0),
            (f64::INFINITY, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NEG_INFINITY),
            (0.0, 0.0),
            (0.3, 0.0),
        ];
        for (x, want) in cases {
            assert_eq!(math_round(x).to_bits(), want.to_bits(), "{x}");
        }
        for x in [-0.4, -0.5, -0.0] {
            assert_eq!(math_round(x).to_bits(), (-0.0f64).to_bits(), "{x}");
        }
        assert!(math_round(f64::NAN).is_nan());
    }

    /// `Math.pow(10, n)` as Node gives it: exact from 0 to 22, V8's own below 0.
    #[test]
    fn pow10_is_v8s() {
        for n in 0..=22 {
            assert_eq!(
                pow10(f64::from(n)),
                format!("1e{n}").parse::<f64>().unwrap(),
                "{n}"
            );
        }
        for n in 1..=22 {
            let nearest = format!("1e-{n}").parse::<f64>().unwrap();
            // V8 is a unit off the nearest double for these five.
            let off = [4, 5, 17, 20, 21].contains(&n);
            assert_eq!(pow10(-f64::from(n)) != nearest, off, "{n}");
            assert!((pow10(-f64::from(n)) / nearest - 1.0).abs() < 1e-15, "{n}");
        }
        assert_eq!(pow10(-4.0), 0.000_099_999_999_999_999_99);
        assert_eq!(pow10(2.5), 10f64.powf(2.5));
        assert_eq!(pow10(400.0), f64::INFINITY);
        assert_eq!(pow10(-400.0), 0.0);
        assert!(pow10(f64::NAN).is_nan());
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (100.0, "100"),
            (25.0, "25"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e23, "1e+23"),
            (4.722366482869645e21, "4.722366482869645e+21"),
            (0.000001, "0.000001"),
            (0.0000015, "0.0000015"),
            (-0.0000012345678901234567, "-0.0000012345678901234567"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992"),
            // Exactly halfway between two shortest candidates: the even one (Rust's `{:e}`
            // prints the other). 906.34259033203125, -730.38116455078125, 233115890514796.125.
            (f64::from_bits(0x408c_52bd_a000_0000), "906.3425903320312"),
            (f64::from_bits(0xc086_d30c_a000_0000), "-730.3811645507812"),
            (f64::from_bits(0x42ea_8090_bb0f_6d84), "233115890514796.12"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, want) in cases {
            assert_eq!(number_to_string(*x), *want, "{x:e}");
        }
    }

    #[test]
    fn json_numbers_print_as_javascript_prints_them() {
        let cases: &[(Value, &str)] = &[
            (json!(0), "0"),
            (json!(-7), "-7"),
            (json!(9007199254740992_u64), "9007199254740992"),
            (json!(-9007199254740992_i64), "-9007199254740992"),
            // Beyond 2^53, the double JSON.parse reads.
            (json!(9007199254740993_u64), "9007199254740992"),
            (json!(-9007199254740993_i64), "-9007199254740992"),
            (json!(u64::MAX), "18446744073709552000"),
            (json!(i64::MIN), "-9223372036854776000"),
            (json!(2.5), "2.5"),
            (json!(1e21), "1e+21"),
        ];
        for (v, want) in cases {
            let Value::Number(n) = v else {
                panic!("{v} is not a number")
            };
            assert_eq!(json_number_to_string(n), *want, "{v}");
        }
    }

    #[test]
    fn strings_convert_to_numbers_as_javascript_converts_them() {
        let cases: &[(&str, f64)] = &[
            ("", 0.0),
            (" \t\n ", 0.0),
            ("  12 ", 12.0),
            (
                "\u{feff}\u{a0}\u{2028}\u{3000}7\u{202f}\u{205f}\u{1680}\u{2000}\u{200a}",
                7.0,
            ),
            ("5.", 5.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("+5", 5.0),
            ("-0", -0.0),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("2.5e-3", 0.0025),
            ("007", 7.0),
            ("0.3", 0.3),
            ("123456789.125", 123456789.125),
            ("1e400", f64::INFINITY),
            ("-1e400", f64::NEG_INFINITY),
            ("1e-400", 0.0),
            ("Infinity", f64::INFINITY),
            ("+Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("0x10", 16.0),
            ("0XfF", 255.0),
            ("0b101", 5.0),
            ("0B11", 3.0),
            ("0o17", 15.0),
            ("0O7", 7.0),
            ("0xFFFFFFFFFFFFFFFFFF", 4.722366482869645e21),
            // Rounded once, to nearest (2^60 + 129 is nearer 2^60 + 256 than 2^60).
            ("0x1000000000000081", 1152921504606847232.0),
            ("0x1000000000000080", 1152921504606846976.0),
            ("0x1000000000000180", 1152921504606847488.0),
            (
                "0x100000000000000000000000000000000000001",
                5.70899077082384e45,
            ),
        ];
        for (s, want) in cases {
            let got = string_to_number(s);
            assert!(
                got == *want && got.is_sign_negative() == want.is_sign_negative(),
                "Number({s:?}) is {want:e}, not {got:e}"
            );
        }
        let hex_overflow = format!("0x{}", "f".repeat(300));
        assert_eq!(string_to_number(&hex_overflow), f64::INFINITY);
        for s in [
            "-",
            "+",
            ".",
            "abc",
            "1e",
            "1e+",
            "e5",
            ".e1",
            "inf",
            "-inf",
            "infinity",
            "nan",
            "NaN",
            "-0x10",
            "+0x10",
            "0x",
            "0b2",
            "0o8",
            "0xg",
            "1_000",
            "1 000",
            "Infinityx",
            "--1",
            "1.2.3",
            "\u{85}1",
            "\u{180e}1",
        ] {
            assert!(string_to_number(s).is_nan(), "Number({s:?}) is NaN");
        }
    }

    #[test]
    fn values_convert_to_numbers_and_strings_as_javascript_converts_them() {
        let cases: &[(Value, f64, &str)] = &[
            (json!(null), 0.0, "null"),
            (json!(true), 1.0, "true"),
            (json!(false), 0.0, "false"),
            (json!(" 2.5 "), 2.5, " 2.5 "),
            (json!(1e21), 1e21, "1e+21"),
            (json!({"a": 1}), f64::NAN, "[object Object]"),
            (json!([]), 0.0, ""),
            (json!([null]), 0.0, ""),
            (json!([[[]]]), 0.0, ""),
            (json!([" 5 "]), 5.0, " 5 "),
            (json!([[7]]), 7.0, "7"),
            (json!([true]), f64::NAN, "true"),
            (json!([{}]), f64::NAN, "[object Object]"),
            (json!([1, 2]), f64::NAN, "1,2"),
            (json!([null, null]), f64::NAN, ","),
            (json!([1, [2, [3, null]], "x"]), f64::NAN, "1,2,3,,x"),
        ];
        for (v, number, text) in cases {
            let got = value_to_number(v);
            assert!(
                got == *number || (got.is_nan() && number.is_nan()),
                "Number({v}) is {number}, not {got}"
            );
            let mut out = String::new();
            let written = write_value_string(
                v,
                8,
                &mut |piece: &str| {
                    out.push_str(piece);
                    Ok(())
                },
                &|| "too deep",
            );
            assert_eq!((written, out.as_str()), (Ok(()), *text), "String({v})");
        }
        assert!(value_to_number(&json!([-0.0])).is_sign_positive());
        let deep = json!([[[1]]]);
        let mut ignore = |_: &str| Ok(());
        assert_eq!(
            write_value_string(&deep, 3, &mut ignore, &|| "deep"),
            Ok(())
        );
        assert_eq!(
            write_value_string(&deep, 2, &mut ignore, &|| "deep"),
            Err("deep")
        );
    }

    #[test]
    fn numbers_become_the_json_values_json_stringify_writes() {
        assert_eq!(number_to_json(3.0), json!(3));
        assert_eq!(number_to_json(-0.0), json!(0));
        assert_eq!(number_to_json(2.5), json!(2.5));
        assert_eq!(number_to_json(1e300), json!(1e300));
        assert_eq!(
            number_to_json(9007199254740992.0),
            json!(9007199254740992.0)
        );
        assert_eq!(number_to_json(f64::NAN), Value::Null);
        assert_eq!(number_to_json(f64::NEG_INFINITY), Value::Null);
    }

    #[test]
    fn white_space_is_javascripts() {
        let js_space = "\t\n\u{b}\u{c}\r \u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\
                        \u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\
                        \u{205f}\u{3000}\u{feff}";
        assert!(js_space.chars().all(is_whitespace));
        for c in [
            '\u{85}', '\u{180e}', '\u{200b}', '\u{1c}', 'a', '0', '\u{0}',
        ] {
            assert!(!is_whitespace(c), "{c:?}");
        }
        // Every character outside the list is not white space.
        let listed: Vec<char> = js_space.chars().collect();
        for c in (0..=0x3000).filter_map(char::from_u32) {
            assert_eq!(is_whitespace(c), listed.contains(&c), "{c:?}");
        }
        assert_eq!(trim("\u{feff} a b\u{3000}\n"), "a b");
        assert_eq!(trim("\u{85}a\u{85}"), "\u{85}a\u{85}");
    }

    #[test]
    fn truthiness_is_javascripts() {
        for falsy in [json!(null), json!(false), json!(0), json!(-0.0), json!("")] {
            assert!(!truthy(&falsy), "{falsy}");
        }
        for truthy_value in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!("0"),
            json!(" "),
            json!("false"),
            json!([]),
            json!({}),
        ] {
            assert!(truthy(&truthy_value), "{truthy_value}");
        }
        assert!(!number_is_truthy(f64::NAN));
        assert!(number_is_truthy(f64::NEG_INFINITY));
    }

    #[test]
    fn array_indexes_are_canonical_numeric_strings() {
        for (key, index) in [
            ("0", 0),
            ("7", 7),
            ("12", 12),
            ("4294967294", 4_294_967_294),
        ] {
            assert_eq!(array_index(key), Some(index), "{key:?}");
        }
        for key in [
            "",
            "01",
            "00",
            "+1",
            "-1",
            "1.0",
            " 1",
            "1 ",
            "1e2",
            "0x1",
            "length",
            "4294967295",
            "4294967296",
            "99999999999",
        ] {
            assert_eq!(array_index(key), None, "{key:?}");
        }
    }

    #[test]
    fn string_length_counts_utf16_code_units() {
        assert_eq!(utf16_len(""), 0);
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("😀"), 2);
    }

    /// `s.slice(from, to)` in Node, lone surrogates made U+FFFD (`toWellFormed`).
    #[test]
    fn a_slice_counts_utf16_code_units_and_a_cut_half_is_a_replacement_character() {
        let s = "a😀b𐐀";
        for (from, to, want) in [
            (0, 0, ""),
            (0, 1, "a"),
            (0, 2, "a\u{FFFD}"),
            (0, 3, "a😀"),
            (1, 2, "\u{FFFD}"),
            (1, 3, "😀"),
            (2, 3, "\u{FFFD}"),
            (2, 4, "\u{FFFD}b"),
            (1, 6, "😀b𐐀"),
            (2, 6, "\u{FFFD}b𐐀"),
            (3, 6, "b𐐀"),
            (5, 6, "\u{FFFD}"),
            (6, 9, ""),
            (4, 2, ""),
            (0, 99, s),
        ] {
            let got = utf16_slice(s, from, to);
            assert_eq!(got, want, "{from}..{to}");
            // Borrowed unless a character is cut.
            assert_eq!(matches!(got, Cow::Borrowed(_)), !want.contains('\u{FFFD}'));
        }
        let units: String = utf16_units("x😀é").collect();
        assert_eq!(units, "x\u{FFFD}\u{FFFD}é");
    }
}
