//! Compact JSON writing into a byte buffer, byte for byte as `serde_json::to_writer` writes it
//! (tested), with fewer calls per value and a fast scan of strings that need no escaping; the
//! object lookup every reader of events uses; and reading JSON text in one pass without
//! building it (`scan`: [`Members`], [`Items`], [`copy_object`]). A leaf module: other values
//! (the mapping engine's results) write themselves with these primitives.

use serde_json::{Map, Number, Value};

mod scan;
pub(crate) use scan::{copy_object, Items, Member, Members};

/// `object[key]`: a linear scan for the small objects events are made of (cheaper than hashing
/// the key), the hash index for larger ones.
pub(crate) fn get<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if object.len() <= 16 {
        // Lengths first: most keys differ in length, and that needs no call to compare.
        object
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, v)| v)
    } else {
        object.get(key)
    }
}

/// Where `name` is in the list `names` (compared as [`same_key`] compares): how a field, a
/// member looked up or a wanted member is found by its name's index.
pub(crate) fn name_index(names: &[Box<str>], name: &str) -> Option<usize> {
    names.iter().position(|known| same_key(known, name))
}

/// Whether two keys are the same: lengths first, then their bytes compared in words of eight
/// (the last word overlapping the one before) or four, or one by one below four. Keys are short:
/// this is faster than a call to `memcmp` in wasm, and than comparing byte by byte.
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |bytes: &[u8], at: usize| -> u64 {
        (bytes.get(at..).and_then(<[u8]>::first_chunk::<8>))
            .map_or(0, |word| u64::from_le_bytes(*word))
    };
    let half = |bytes: &[u8], at: usize| -> u32 {
        (bytes.get(at..).and_then(<[u8]>::first_chunk::<4>))
            .map_or(0, |word| u32::from_le_bytes(*word))
    };
    match a.len() {
        length @ 8.. => {
            (0..length - 8)
                .step_by(8)
                .all(|at| word(a, at) == word(b, at))
                && word(a, length - 8) == word(b, length - 8)
        }
        length @ 4.. => half(a, 0) == half(b, 0) && half(a, length - 4) == half(b, length - 4),
        _ => a.iter().zip(b).all(|(x, y)| x == y),
    }
}

/// Writes `value` as compact JSON.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => write_array(out, items, write_value),
        Value::Object(entries) => write_object(out, entries),
    }
}

/// Writes an object, its entries in order.
pub(crate) fn write_object(out: &mut String, entries: &Map<String, Value>) {
    write_members(
        out,
        entries.iter().map(|(key, value)| (key.as_str(), value)),
        write_value,
    );
}

/// Writes `[…]`: each item by `write`, separated by commas.
pub(crate) fn write_array<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    write: impl Fn(&mut String, T),
) {
    out.push('[');
    let mut first = true;
    for item in items {
        if !first {
            out.push(',');
        }
        first = false;
        write(out, item);
    }
    out.push(']');
}

/// Writes `{…}`: each key as a JSON string, each value by `write`, in order.
pub(crate) fn write_members<'k, T>(
    out: &mut String,
    members: impl IntoIterator<Item = (&'k str, T)>,
    write: impl Fn(&mut String, T),
) {
    out.push('{');
    let mut first = true;
    for (key, value) in members {
        if !first {
            out.push(',');
        }
        first = false;
        write_str(out, key);
        out.push(':');
        write(out, value);
    }
    out.push('}');
}

/// Writes a number as serde_json does: integers here, floats through `Number`'s `Display`
/// (serde_json's own shortest form, written without allocating a string).
pub(crate) fn write_number(out: &mut String, number: &Number) {
    if let Some(integer) = number.as_u64() {
        out.push_str(itoa::Buffer::new().format(integer));
    } else if let Some(integer) = number.as_i64() {
        out.push_str(itoa::Buffer::new().format(integer));
    } else {
        use std::fmt::Write;
        #[expect(
            clippy::let_underscore_must_use,
            reason = "writing to a String cannot fail"
        )]
        let _ = write!(out, "{number}");
    }
}

/// Writes a string in quotes, escaped as serde_json escapes it: `"`, `\\` and control characters.
pub(crate) fn write_str(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    if needs_escaping(text.as_bytes()) {
        write_escaped(out, text);
    } else {
        out.push_str(text);
    }
    out.push('"');
}

/// Whether `bytes` holds a `"`, a `\\` or a control character: eight bytes at a time, without
/// branches (most strings need no escaping, and are short).
pub(crate) fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of a byte of `x - ONES & !x` is set when that byte is zero (exact for "any").
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut words = bytes.chunks_exact(8);
    let mut found = 0;
    for word in &mut words {
        let mut array = [0; 8];
        array.copy_from_slice(word);
        let word = u64::from_ne_bytes(array);
        found |= (word.wrapping_sub(ONES * 0x20) & !word & HIGH)
            | zero(word ^ (ONES * u64::from(b'"')))
            | zero(word ^ (ONES * u64::from(b'\\')));
    }
    let tail = words
        .remainder()
        .iter()
        .fold(false, |found, &byte| found | needs_escape(byte));
    found != 0 || tail
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// `text` escaped; the bytes escaped are ASCII, so every cut is at a character boundary.
fn write_escaped(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The start of the bytes not written yet.
    let mut pending = 0;
    for (at, &byte) in text.as_bytes().iter().enumerate() {
        let short = match byte {
            b'"' => '"',
            b'\\' => '\\',
            0x08 => 'b',
            0x0c => 'f',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            0x00..=0x1f => 'u',
            _ => continue,
        };
        out.push_str(text.get(pending..at).unwrap_or_default());
        pending = at + 1;
        out.push('\\');
        out.push(short);
        if short == 'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out.push_str(text.get(pending..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    /// Keys compared in words are the same exactly when they are equal: every length up to 24,
    /// with one byte changed at every position, or the lengths differing.
    #[test]
    fn keys_compared_in_words_are_the_same_exactly_when_equal() {
        for length in 0..=24 {
            let key: String = (0..length).map(|i| char::from(b'a' + i as u8)).collect();
            assert!(same_key(&key, &key.clone()), "{key}");
            assert!(!same_key(&key, &format!("{key}z")), "{key}");
            for at in 0..length {
                let mut other = key.clone().into_bytes();
                other[at] = b'Z';
                let other = String::from_utf8(other).unwrap_or_default();
                assert!(!same_key(&key, &other), "{key} {other}");
            }
        }
    }

    use super::*;
    use serde_json::json;

    fn same_as_serde_json(value: &Value) {
        let mut ours = String::new();
        write_value(&mut ours, value);
        assert_eq!(ours, serde_json::to_string(value).unwrap());
    }

    /// Floats are written as serde_json writes them: prices, tiny and huge magnitudes, and
    /// 100,000 values spread over every exponent.
    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let mut floats = vec![
            19.99,
            0.1,
            -2.5,
            1e-7,
            1.5e300,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            bits = bits
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            floats.push(f64::from_bits(bits));
        }
        for float in floats.into_iter().filter(|float| float.is_finite()) {
            same_as_serde_json(&json!(float));
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for text in [
            String::new(),
            "plain".to_string(),
            "exactly8".to_string(),
            every_ascii.clone(),
            every_ascii.chars().rev().collect(),
            "é ü \u{2028} \u{7f} 😀 \"quoted\" back\\slash".repeat(3),
        ] {
            for shift in 0..9 {
                let shifted = format!("{}{text}{}", "x".repeat(shift), "y".repeat(shift));
                same_as_serde_json(&Value::String(shifted));
            }
        }
        for byte in 0u8..128 {
            let text = format!("abcdefg{}hijklmnop", char::from(byte));
            same_as_serde_json(&Value::String(text));
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        same_as_serde_json(&json!({
            "null": null, "t": true, "f": false, "": "",
            "numbers": [0, 1, -1, u64::MAX, i64::MIN, 1.5, -0.0, 1e21, 1.5e-7, 0.1, 25.0, 2.5e300],
            "nested": {"a": [{"b": []}, {}], "k\"ey\n": "v\u{1}"},
        }));
    }
}
