//! Compact JSON writing into a byte buffer, byte for byte as `serde_json::to_writer` writes it
//! (tested), with fewer calls per value and a fast scan of strings that need no escaping.

use serde_json::{Map, Number, Value};

/// Writes `value` as compact JSON.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(entries) => write_object(out, entries),
    }
}

/// Writes an object, its entries in order.
pub(crate) fn write_object(out: &mut Vec<u8>, entries: &Map<String, Value>) {
    out.push(b'{');
    for (position, (key, value)) in entries.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

/// Writes a number: integers here, floats (rare) through serde_json.
pub(crate) fn write_number(out: &mut Vec<u8>, number: &Number) {
    if let Some(integer) = number.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes());
    } else if let Some(integer) = number.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(integer).as_bytes());
    } else {
        let _ = serde_json::to_writer(out, number); // ok: writing to a Vec cannot fail
    }
}

/// Writes a string in quotes, escaped as serde_json escapes it: `"`, `\` and control characters.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // The start of the bytes not written yet.
    let mut pending = 0;
    for (number, chunk) in bytes.chunks(8).enumerate() {
        if let Ok(word) = <[u8; 8]>::try_from(chunk) {
            if !needs_escape(u64::from_ne_bytes(word)) {
                continue;
            }
        }
        for (offset, &byte) in chunk.iter().enumerate() {
            let short = match byte {
                b'"' => b'"',
                b'\\' => b'\\',
                0x08 => b'b',
                0x0c => b'f',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x00..=0x1f => b'u',
                _ => continue,
            };
            let at = number * 8 + offset;
            out.extend_from_slice(bytes.get(pending..at).unwrap_or_default());
            pending = at + 1;
            out.extend_from_slice(&[b'\\', short]);
            if short == b'u' {
                let (high, low) = (HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 15)]);
                out.extend_from_slice(&[b'0', b'0', high, low]);
            }
        }
    }
    out.extend_from_slice(bytes.get(pending..).unwrap_or_default());
    out.push(b'"');
}

/// Whether any of the eight bytes of `word` is `"`, `\` or a control character (below 0x20).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte's high bit is set in `x - ONES & !x` when it is zero (exact for "any byte").
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    below_space | zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))
        != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_as_serde_json(value: &Value) {
        let mut ours = Vec::new();
        write_value(&mut ours, value);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(value).unwrap()
        );
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
