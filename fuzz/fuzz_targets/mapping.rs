//! The mapping engine: Segment's mapping-kit directives, templates and the Track Event preset.
//! Input: `<mapping JSON> 0xFF <payload JSON>` (the first 0xFF splits; JSON text never holds
//! that byte). Nothing may panic; validation and compilation agree; applying is repeatable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use segment_ld_bridge::mapping::{self, Mapping};
use segment_ld_bridge::track_event::{TrackEventMapping, FIELDS};
use serde_json::{json, Value};

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
        let _ = m.apply_optional(&payload);
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
