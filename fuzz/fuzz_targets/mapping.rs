//! The mapping engine: Segment's mapping-kit directives, templates and the Track Event preset.
//! Input: `<mapping JSON> 0xFF <payload JSON>` (the first 0xFF splits; JSON text never holds
//! that byte). Nothing may panic; validation and compilation agree; applying is repeatable; a
//! mapping applied to the payload cut to what its analysis says it reads gives the same.
//! The left side is also used as a `@liquid` template and as `@replace` options, and every
//! mapping also runs on a payload of extreme numbers and long strings, so filters and
//! directives often get their arguments from the event.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use segment_ld_bridge::mapping::{self, Mapping};
use segment_ld_bridge::segment::FieldsRead;
use segment_ld_bridge::track_event::{mapping_fields_read, TrackEventMapping, FIELDS};
use serde_json::{json, Value};

/// A payload whose properties are extreme numbers, long strings and mixed arrays.
fn extreme_payload() -> &'static Value {
    static PAYLOAD: OnceLock<Value> = OnceLock::new();
    PAYLOAD.get_or_init(|| {
        json!({"event": "E", "properties": {
            "s": "a".repeat(2_000), "sku": "abcdef", "r": "$'$&$`", "sigma": "ΣΑΣ ß ΐ",
            "len": 1e19, "huge": i64::MAX, "min": i64::MIN, "umax": u64::MAX,
            "neg": -1e308, "big": 1e308, "tiny": 5e-324, "nan": "NaN?", "zero": 0,
            "items": ["x", null, 1, [2, "y"], {"k": "v"}, -1e308],
        }})
    })
}

/// Applies a mapping that must compile to both payloads (no panic is the property).
fn apply_both(spec: &Value, payload: &Value) {
    if let Ok(m) = Mapping::compile(spec) {
        let _ = m.apply(payload);
        let _ = m.apply(extreme_payload());
    }
}

/// The left side as a `@liquid` template and as `@replace` options (pattern and replacement
/// taken from its first characters, applied to long strings and numbers of the event).
fn text_mappings(text: &str, payload: &Value) {
    apply_both(&json!({"v": {"@liquid": text}}), payload);
    let mut chars = text.chars();
    let pattern: String = chars.by_ref().take(1 + text.len() % 3).collect();
    let replacement: String = chars.take(9).collect();
    for value in ["$.properties.s", "$.properties.sigma", "$.properties.len"] {
        apply_both(
            &json!({"v": {"@replace": {"value": {"@path": value}, "pattern": pattern,
                "replacement": replacement, "global": text.len() % 2 == 0,
                "ignorecase": text.len() % 3 == 0}}}),
            payload,
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (left, right) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"{}"[..]),
    };
    let payload: Value = match serde_json::from_slice(right) {
        Ok(payload) => payload,
        Err(_) => json!({"event": "E", "properties": {"revenue": 1.5}}),
    };

    // The left side as a template, whether or not it is JSON.
    if let Ok(template) = std::str::from_utf8(left) {
        let _ = mapping::render(template, &payload);
        text_mappings(template, &payload);
    }

    let Ok(spec) = serde_json::from_slice::<Value>(left) else {
        return;
    };
    let validated = mapping::validate(&spec);
    let compiled = Mapping::compile(&spec);
    assert_eq!(
        validated.is_ok(),
        compiled.is_ok(),
        "validate and compile disagree: {validated:?} / {:?}",
        compiled.as_ref().err()
    );
    if let Ok(m) = &compiled {
        let first = m.apply(&payload);
        if let Ok(out) = &first {
            // No state between applies.
            assert_eq!(m.apply(&payload).ok().as_ref(), Some(out));
        }
        // What the mapping reads is all it reads: the payload cut to it gives the same.
        let mut read = FieldsRead::Only(Default::default());
        mapping_fields_read(&spec, &mut read);
        if read != FieldsRead::All {
            let cut = read.cut(&payload);
            assert_eq!(
                first.as_ref().map_err(ToString::to_string),
                m.apply(&cut).as_ref().map_err(ToString::to_string),
                "read {read:?}"
            );
        }
        let _ = m.apply_optional(&payload);
        let _ = m.apply(extreme_payload());
    }
    let _ = mapping::transform(&spec, &payload);

    // Through the Track Event preset: the spec as the whole overrides object, and as the
    // mapping of one field (chosen by the input's length).
    let field = FIELDS[data.len() % FIELDS.len()];
    for overrides in [spec.clone(), json!({ field: spec })] {
        if let Ok(preset) = TrackEventMapping::with_overrides(&overrides) {
            let _ = preset.map_event(&payload, 0);
            let _ = preset.map_event(&payload, i64::MAX);
            let _ = preset.map_event(&payload, i64::MIN);
        }
    }
});
