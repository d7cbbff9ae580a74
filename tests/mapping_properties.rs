//! Property tests for `segment_ld_bridge::mapping`: arbitrary mappings, payloads, templates,
//! Liquid templates and paths never panic, stay within the engine's limits and return quickly;
//! deep and huge inputs give errors, not stack overflows.
//!
//! A small seeded generator stands in for a property-testing crate (no extra dependency);
//! set `MAPPING_PROPTEST_CASES` to run more cases and `MAPPING_PROPTEST_SEED` to vary them.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use std::time::{Duration, Instant};

use segment_ld_bridge::mapping::{
    self, Mapping, MappingError, MAX_MAPPING_DEPTH, MAX_PAYLOAD_DEPTH,
};
use serde_json::{json, Map, Value};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// The generator for one property, seeded from `MAPPING_PROPTEST_SEED`.
fn rng(salt: u64) -> Rng {
    Rng::seeded("MAPPING_PROPTEST_SEED", 0x6d61_7070_u64, salt)
}

fn cases() -> usize {
    std::env::var("MAPPING_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000)
}

const KEYS: &[&str] = &[
    "a",
    "b",
    "properties",
    "traits",
    "event",
    "0",
    "1",
    "x y",
    "",
    "@path",
    "_metadata",
    "length",
    "mapping",
    "__segment_internal_directive",
];
const PATHS: &[&str] = &[
    "$.",
    "",
    ".",
    "$",
    "$.a",
    "$.a.b",
    "a[0]",
    "$.properties.x",
    "['a'].b",
    "a[b]",
    "$.a.0.b",
    "$.$.a",
    "]]",
    "[[",
    "\"'",
    "$.properties.items[1].id",
    "..",
    "$.properties.items",
    "$.id",
];
const STRINGS: &[&str] = &[
    "",
    "a",
    "lower",
    "upper",
    "left",
    "right",
    "encode",
    "decode",
    "ENCODE",
    "-",
    "+",
    "aaa",
    "{{a}}",
    "{{{a}}}",
    "{{ a.b }}",
    "x{{}}y",
    "{%",
    "{{",
    "ß",
    "日本",
    "\u{1F600}",
    "$&$$",
    "true",
];
const DIRECTIVES: &[&str] = &[
    "@path",
    "@template",
    "@literal",
    "@if",
    "@case",
    "@replace",
    "@arrayPath",
    "@json",
    "@flatten",
    "@merge",
    "@transform",
    "@excludeWhenNull",
    "@liquid",
    "@oops",
];
const LIQUID_SOUP: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "-",
    " ",
    "a",
    "a.b",
    "|",
    "upcase",
    "plus: 1",
    "if",
    "endif",
    "else",
    "elsif",
    "unless",
    "endunless",
    "assign x = 1",
    "capture c",
    "endcapture",
    "raw",
    "endraw",
    "comment",
    "endcomment",
    "for",
    "'s'",
    "\"",
    "==",
    "and",
    "or",
    "not",
    "contains",
    "nil",
    "empty",
    "blank",
    "(1..3)",
    "[0]",
    "size",
    "first",
    "default: 'd'",
    "map",
    "date",
    "x",
];

fn random_scalar(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(rng.below(5) as i64 - 1),
        3 => json!(0.5),
        _ => Value::String(rng.pick(STRINGS).to_string()),
    }
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 || rng.chance(40) {
        return random_scalar(rng);
    }
    if rng.chance(50) {
        Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        )
    } else {
        let mut m = Map::new();
        for _ in 0..rng.below(4) {
            m.insert(rng.pick(KEYS).to_string(), random_value(rng, depth - 1));
        }
        Value::Object(m)
    }
}

/// A mapping built mostly from directives with plausible (and sometimes wrong) options.
fn random_mapping(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 || rng.chance(20) {
        return if rng.chance(50) {
            json!({"@path": rng.pick(PATHS)})
        } else {
            random_value(rng, 1)
        };
    }
    let sub = |rng: &mut Rng| random_mapping(rng, depth - 1);
    let directive = *rng.pick(DIRECTIVES);
    let options = match directive {
        "@path" | "@template" => {
            if rng.chance(80) {
                Value::String(
                    if directive == "@path" {
                        rng.pick(PATHS)
                    } else {
                        rng.pick(STRINGS)
                    }
                    .to_string(),
                )
            } else {
                sub(rng)
            }
        }
        "@if" => {
            let mut m = Map::new();
            m.insert(
                if rng.chance(70) { "exists" } else { "blank" }.into(),
                sub(rng),
            );
            if rng.chance(80) {
                m.insert("then".into(), sub(rng));
            }
            if rng.chance(80) {
                m.insert("else".into(), sub(rng));
            }
            Value::Object(m)
        }
        "@case" => json!({"operator": rng.pick(STRINGS), "value": sub(rng)}),
        "@replace" => json!({
            "pattern": rng.pick(STRINGS), "replacement": rng.pick(STRINGS),
            "pattern2": rng.pick(STRINGS), "value": sub(rng),
            "global": rng.chance(50), "ignorecase": rng.chance(50)
        }),
        "@arrayPath" => {
            if rng.chance(60) {
                json!([rng.pick(PATHS), sub(rng)])
            } else {
                json!([sub(rng), {"k": sub(rng), "v": {"@path": "$."}}])
            }
        }
        "@json" => json!({"mode": rng.pick(STRINGS), "value": sub(rng)}),
        "@flatten" => {
            json!({"separator": rng.pick(STRINGS), "value": sub(rng), "omitArrays": rng.chance(50)})
        }
        "@merge" => json!({
            "direction": rng.pick(STRINGS),
            "objects": (0..rng.below(4)).map(|_| sub(rng)).collect::<Vec<_>>()
        }),
        "@transform" => {
            json!({"apply": {"a": sub(rng), "b": sub(rng)}, "mapping": {"c": sub(rng)}})
        }
        "@liquid" => {
            let parts: Vec<&str> = (0..rng.below(12)).map(|_| *rng.pick(LIQUID_SOUP)).collect();
            Value::String(parts.concat())
        }
        _ => sub(rng),
    };
    let directive_node = json!({ directive: options });
    match rng.below(4) {
        0 => json!({"a": directive_node, "b": sub(rng)}),
        1 => json!([directive_node, sub(rng)]),
        _ => directive_node,
    }
}

fn random_payload(rng: &mut Rng) -> Value {
    let mut payload = Map::new();
    for _ in 0..rng.below(6) {
        payload.insert(rng.pick(KEYS).to_string(), random_value(rng, 4));
    }
    payload.insert(
        "properties".into(),
        json!({"x": random_value(rng, 3),
               "items": [{"id": 1, "a": {"b": 2, "c": 3}}, null, "s", {"id": null, "b": [{"id": 3}]}, [1, {"id": 4}]]}),
    );
    Value::Object(payload)
}

fn depth_of(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    max
}

/// Runs `f` and checks it finished within a generous time bound.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "{what} took {took:?}");
    out
}

#[test]
fn arbitrary_directive_mappings_never_panic() {
    let mut rng = rng(1);
    let mut compiled = 0;
    let mut applied = 0;
    for _ in 0..cases() {
        let mapping = random_mapping(&mut rng, 5);
        let payload = random_payload(&mut rng);
        let validated = mapping::validate(&mapping);
        let result = timed("compile", || Mapping::compile(&mapping));
        assert_eq!(
            validated.is_ok(),
            result.is_ok(),
            "validate and compile disagree on {mapping}"
        );
        if let Ok(m) = result {
            compiled += 1;
            if let Ok(out) = timed("apply", || m.apply(&payload)) {
                applied += 1;
                assert!(depth_of(&out) <= MAX_MAPPING_DEPTH + MAX_PAYLOAD_DEPTH + 2);
                // The same mapping gives the same result twice (no state between applies).
                assert_eq!(m.apply(&payload).ok(), Some(out));
            }
        }
        let _ = mapping::transform(&mapping, &payload);
    }
    // The generator must reach the resolver, not just the validator.
    assert!(compiled > cases() / 4, "only {compiled} mappings compiled");
    assert!(applied > cases() / 8, "only {applied} mappings applied");
}

/// What a mapping reads (`track_event::mapping_fields_read`: the fields, and of each the
/// members on the paths it reads) is all it reads: applied to an arbitrary payload and to the
/// payload cut to what was found read, an arbitrary mapping gives the same result or error.
#[test]
fn arbitrary_mappings_read_nothing_their_analysis_leaves_out() {
    use segment_ld_bridge::segment::FieldsRead;
    let mut rng = rng(9);
    let (mut bounded, mut cut_inside) = (0, 0);
    const LIQUID_PATHS: &[&str] = &[
        "a",
        "a.b",
        "a.size",
        "size",
        "a.b.size",
        "properties.x",
        "properties.x.a",
        "properties.x.size",
        "properties.items[0].id",
        "properties.items.first.id",
        "properties.items.size",
        "properties['x']",
        "a[b]",
        "a[properties.x]",
        "traits.0",
        "event",
    ];
    const ITEM_PATHS: &[&str] = &[
        "$.id", "$.a", "$.a.b", "$.b", "$.0", "$.", "$.b.0.id", "$.1.id",
    ];
    for case in 0..cases() {
        // A third arbitrary mappings, a third Liquid templates made of variables, a third
        // `@arrayPath`s whose item mappings read members of the items.
        let mapping = match case % 3 {
            0 => random_mapping(&mut rng, 4),
            1 => {
                let mut shape = Map::new();
                for at in 0..1 + rng.below(3) {
                    let value = match rng.below(3) {
                        0 => json!({"@path": rng.pick(ITEM_PATHS)}),
                        1 => {
                            json!({"@template": format!("{{{{{}}}}}", &rng.pick(ITEM_PATHS)[2..])})
                        }
                        _ => {
                            json!({"@arrayPath": [rng.pick(ITEM_PATHS), {"i": {"@path": rng.pick(ITEM_PATHS)}}]})
                        }
                    };
                    shape.insert(format!("k{at}"), value);
                }
                let root = *rng.pick(&[
                    "$.properties.items",
                    "$.properties.items.0",
                    "$.properties.x",
                    "$.properties",
                ]);
                json!({"@arrayPath": [root, shape]})
            }
            _ => {
                let mut template = String::new();
                for _ in 0..1 + rng.below(3) {
                    let (path, other) = (rng.pick(LIQUID_PATHS), rng.pick(LIQUID_PATHS));
                    template.push_str(&match rng.below(4) {
                        0 => format!("{{{{ {path} }}}}"),
                        1 => format!("{{% if {path} == {other} %}}y{{% else %}}n{{% endif %}}"),
                        2 => format!("{{{{ {path} | size }}}}-{{{{ {path} | default: {other} }}}}"),
                        _ => format!("{{% assign v = {path} %}}{{{{ v.a }}}}{{{{ {other} }}}}"),
                    });
                }
                json!({"out": {"@liquid": template}})
            }
        };
        let payload = random_payload(&mut rng);
        let mut read = FieldsRead::Only(Default::default());
        segment_ld_bridge::track_event::mapping_fields_read(&mapping, &mut read);
        let Ok(compiled) = Mapping::compile(&mapping) else {
            continue;
        };
        if read == FieldsRead::All {
            continue;
        }
        bounded += 1;
        let cut = read.cut(&payload);
        let fields_only: Map<String, Value> = (payload.as_object().into_iter().flatten())
            .filter(|(key, _)| read.contains(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if cut != Value::Object(fields_only) {
            cut_inside += 1;
        }
        let whole = compiled.apply(&payload).map_err(|e| e.to_string());
        let part = compiled.apply(&cut).map_err(|e| e.to_string());
        assert_eq!(whole, part, "{mapping} on {payload}: read {read:?}");
    }
    assert!(bounded > cases() / 4, "only {bounded} mappings bounded");
    assert!(
        cut_inside > cases() / 50,
        "only {cut_inside} payloads cut inside"
    );
}

#[test]
fn arbitrary_json_mappings_never_panic() {
    let mut rng = rng(2);
    for _ in 0..cases() {
        let mapping = random_value(&mut rng, 6);
        let payload = random_payload(&mut rng);
        let _ = mapping::validate(&mapping);
        let _ = timed("transform", || mapping::transform(&mapping, &payload));
        // Every payload type is accepted by get and render.
        let path = *rng.pick(PATHS);
        let _ = mapping::get(&payload, path);
    }
}

#[test]
fn non_object_payloads_are_rejected_with_segments_message() {
    let m = Mapping::compile(&json!({"a": 1})).expect("valid mapping");
    for (payload, ty) in [
        (json!(123), "number"),
        (json!([]), "array"),
        (json!(null), "null"),
        (json!("s"), "string"),
    ] {
        match m.apply(&payload) {
            Err(MappingError::Runtime(msg)) => {
                assert_eq!(msg, format!("data must be an object, got {ty}"))
            }
            other => panic!("{payload}: {other:?}"),
        }
    }
}

/// `{key: v}` built by moving `v` (the `json!` macro would serialise it recursively).
fn wrap(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), v);
    Value::Object(m)
}

fn nested_mapping(levels: usize) -> Value {
    let mut v = json!({"@path": "$.a"});
    for i in 0..levels {
        v = match i % 3 {
            0 => wrap("k", v),
            1 => Value::Array(vec![v]),
            _ => wrap("@literal", v),
        };
    }
    v
}

fn nested_payload(levels: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..levels {
        v = if i % 2 == 0 {
            wrap("a", v)
        } else {
            Value::Array(vec![v])
        };
    }
    wrap("a", v)
}

#[test]
fn deeply_nested_mappings_are_refused() {
    for levels in [MAX_MAPPING_DEPTH + 1, 500, 3000] {
        let mapping = nested_mapping(levels);
        let errors = Mapping::compile(&mapping).expect_err("too deep");
        assert!(errors.to_string().contains("nested too deeply"), "{errors}");
        assert!(matches!(
            mapping::transform(&mapping, &json!({})),
            Err(MappingError::Invalid(_))
        ));
    }
    assert!(Mapping::compile(&nested_mapping(MAX_MAPPING_DEPTH - 2)).is_ok());
}

#[test]
fn deeply_nested_payloads_give_errors_not_overflows() {
    let payload = nested_payload(2000);
    let mappings = [
        json!({"v": {"@path": "$."}}),
        json!({"v": {"@json": {"mode": "encode", "value": {"@path": "$."}}}}),
        json!({"v": {"@flatten": {"value": {"@path": "$."}, "separator": "."}}}),
        json!({"v": {"@excludeWhenNull": {"@path": "$."}}}),
        json!({"v": {"@template": "{{a}}"}}),
        json!({"v": {"@if": {"blank": {"@path": "$.a"}, "then": 1}}}),
        json!({"v": {"@merge": {"direction": "left", "objects": [{"@path": "$."}, {"x": 1}]}}}),
        json!({"v": {"@arrayPath": ["$.a", {"x": {"@path": "$."}}]}}),
        json!({"v": {"@transform": {"apply": {"p": {"@path": "$."}}, "mapping": {"@path": "$.p"}}}}),
        json!({"v": {"@liquid": "{{ a }}{{ a | json }}{% if a == a %}y{% endif %}"}}),
    ];
    for mapping in &mappings {
        let result = timed("deep payload", || mapping::transform(mapping, &payload));
        match result {
            Ok(_) | Err(MappingError::LimitExceeded { .. }) => {}
            Err(e) => panic!("{mapping}: unexpected {e}"),
        }
    }
    // Within the limit, the whole payload is copied through.
    let ok = nested_payload(MAX_PAYLOAD_DEPTH / 2);
    assert_eq!(
        mapping::transform(&json!({"@path": "$."}), &ok).ok(),
        Some(ok)
    );
}

#[test]
fn huge_inputs_are_bounded() {
    let big: Vec<Value> = (0..200_000)
        .map(|i| json!({"id": i, "name": "item"}))
        .collect();
    let payload = json!({"items": big});
    // Copying the payload a few times is fine; many times exceeds the output budget.
    let fan_out: Map<String, Value> = (0..40)
        .map(|i| (format!("k{i}"), json!({"@path": "$.items"})))
        .collect();
    let result = timed("fan out", || {
        mapping::transform(&Value::Object(fan_out), &payload)
    });
    assert!(
        matches!(result, Err(MappingError::LimitExceeded { .. })),
        "{:?}",
        result.map(|_| ())
    );
    let shaped = json!({"@arrayPath": ["$.items", {"a": {"@path": "$.id"}, "b": {"@template": "{{name}}-{{id}}"}}]});
    let _ = timed("array path", || {
        mapping::transform(&json!({"v": shaped}), &payload)
    });
    let templated = json!({"v": {"@template": "{{items}}{{items}}{{items}}"}});
    let _ = timed("template", || mapping::transform(&templated, &payload));
    // A huge mapping is refused before it is compiled.
    let wide: Map<String, Value> = (0..60_000).map(|i| (format!("k{i}"), json!(i))).collect();
    assert!(Mapping::compile(&Value::Object(wide)).is_err());
    // A huge template string is refused.
    let long = "{{a}}".repeat(20_000);
    assert!(Mapping::compile(&json!({"@template": long})).is_err());
    assert!(mapping::render(&long, &json!({"a": 1})).is_err());
}

#[test]
fn templates_render_like_plain_text_without_braces() {
    let mut rng = rng(3);
    let alphabet = ['{', '}', 'a', '.', ' ', '[', '0', ']', '$', 'é'];
    let payload = json!({"a": {"b": [1, 2]}, "0": "zero", " a ": 3});
    for _ in 0..cases() {
        let template: String = (0..rng.below(24)).map(|_| *rng.pick(&alphabet)).collect();
        let out = timed("render", || mapping::render(&template, &payload));
        let out = out.unwrap_or_else(|e| panic!("{template:?}: {e}"));
        if !template.contains('{') {
            assert_eq!(out, template);
        }
    }
}

#[test]
fn liquid_soup_never_panics() {
    let mut rng = rng(4);
    let payload = json!({"a": {"b": "x"}, "x": [1, 2, 3], "s": "hello"});
    let mut rendered = 0;
    for _ in 0..cases() {
        let parts: Vec<&str> = (0..rng.below(16)).map(|_| *rng.pick(LIQUID_SOUP)).collect();
        let mapping = json!({"v": {"@liquid": parts.join(if rng.chance(50) { " " } else { "" })}});
        if timed("liquid", || mapping::transform(&mapping, &payload)).is_ok() {
            rendered += 1;
        }
    }
    assert!(rendered > 0);
    // The 1000-character limit is Segment's.
    let long = json!({"v": {"@liquid": "a".repeat(1001)}});
    let err = mapping::transform(&long, &json!({})).expect_err("too long");
    assert!(err.to_string().contains("limited to 1000 characters"));
}

#[test]
fn replace_without_dollar_matches_str_replace() {
    let mut rng = rng(5);
    let alphabet = ['a', 'b', '-', '+', '.', ' ', '*'];
    for _ in 0..cases() {
        let text: String = (0..rng.below(20)).map(|_| *rng.pick(&alphabet)).collect();
        let pattern: String = (0..1 + rng.below(3))
            .map(|_| *rng.pick(&alphabet))
            .collect();
        let replacement: String = (0..rng.below(4))
            .map(|_| *rng.pick(&['x', 'y', '.']))
            .collect();
        let global = rng.chance(50);
        let mapping = json!({"@replace": {
            "pattern": pattern, "replacement": replacement, "global": global, "value": {"@path": "$.t"}
        }});
        let got = mapping::transform(&mapping, &json!({"t": text})).expect("valid replace");
        let want = if global {
            text.replace(&pattern, &replacement)
        } else {
            text.replacen(&pattern, &replacement, 1)
        };
        assert_eq!(
            got,
            json!(want),
            "{text:?} / {pattern:?} -> {replacement:?}"
        );
    }
}

#[test]
fn undefined_is_removed_from_objects_and_nulled_in_arrays() {
    let mut rng = rng(6);
    for _ in 0..cases() / 10 {
        let n = 1 + rng.below(5);
        let present: Vec<bool> = (0..n).map(|_| rng.chance(50)).collect();
        let mut payload = Map::new();
        let mut obj = Map::new();
        let mut arr = Vec::new();
        let mut want_obj = Map::new();
        let mut want_arr = Vec::new();
        for (i, &p) in present.iter().enumerate() {
            let key = format!("k{i}");
            if p {
                payload.insert(key.clone(), json!(i));
                want_obj.insert(key.clone(), json!(i));
                want_arr.push(json!(i));
            } else {
                want_arr.push(Value::Null);
            }
            obj.insert(key.clone(), json!({"@path": format!("$.{key}")}));
            arr.push(json!({"@path": format!("$.{key}")}));
        }
        let mapping = json!({"o": obj, "a": arr});
        let got = mapping::transform(&mapping, &Value::Object(payload)).expect("valid");
        assert_eq!(got, json!({"o": want_obj, "a": want_arr}));
    }
}

/// Found by the `mapping` fuzz target: non-ASCII text inside a Liquid tag used to cut a string
/// inside a character and panic.
#[test]
fn liquid_tags_with_non_ascii_text_never_panic() {
    for template in [
        "{{é",
        "{{ properties.café }}",
        "{% if é %}x{% endif %}",
        "{{ 'ü' | upcase }}",
    ] {
        let _ = mapping::transform(
            &json!({"v": {"@liquid": template}}),
            &json!({"properties": {"café": 1}}),
        );
    }
    let result = mapping::transform(
        &json!({"v": {"@liquid": "{{ properties.name }}"}}),
        &json!({"properties": {"name": "Zoë"}}),
    )
    .expect("renders");
    assert_eq!(result["v"], "Zoë");
}
