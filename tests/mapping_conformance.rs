//! Runs Segment's own mapping-kit test vectors (`shared/conformance/segment-mapping-kit.json`):
//! every `transform_cases`, `render_cases`, `get_cases` and `validate_fixtures` entry.

use segment_ld_bridge::mapping::{self, MappingError};
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/conformance/segment-mapping-kit.json"
);

/// Cases where this engine deliberately differs from Segment, with the reason. Each listed case
/// is asserted to really differ, so the list stays honest.
const DELIBERATE_DIFFERENCES: &[(&str, &str)] = &[];

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("reading {VECTORS}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {VECTORS}: {e}"))
}

/// Deep equality as JavaScript's `toEqual` sees JSON: numbers by value, object keys unordered.
fn js_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| js_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| js_equal(v, w)))
        }
        _ => a == b,
    }
}

fn str_field<'a>(case: &'a Value, key: &str) -> &'a str {
    case.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Checks one transform case; `Err` describes how the result differs from Segment's.
fn check_transform(case: &Value) -> Result<(), String> {
    let mapping = &case["mapping"];
    let payload = &case["payload"];
    let result = mapping::transform(mapping, payload);
    if case.get("expect_error").and_then(Value::as_bool) == Some(true) {
        return match result {
            Ok(v) => Err(format!("expected an error, got {v}")),
            Err(e) => match case.get("error_contains").and_then(Value::as_str) {
                Some(want) if !e.to_string().contains(want) => {
                    Err(format!("error {e:?} does not contain {want:?}"))
                }
                _ => Ok(()),
            },
        };
    }
    let expected = &case["expected"];
    match result {
        Ok(v) if js_equal(&v, expected) => Ok(()),
        Ok(v) => Err(format!("got {v}, expected {expected}")),
        Err(e) => Err(format!("error {e}, expected {expected}")),
    }
}

#[test]
fn transform_cases() {
    let vectors = vectors();
    let cases = vectors["transform_cases"].as_array().cloned().unwrap_or_default();
    assert!(cases.len() >= 110, "expected the 110 transform vectors, found {}", cases.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let id = str_field(case, "id");
        let outcome = check_transform(case);
        match (DELIBERATE_DIFFERENCES.iter().find(|(d, _)| *d == id), outcome) {
            (None, Ok(())) => passed += 1,
            (None, Err(why)) => failures.push(format!("{id} ({}): {why}", str_field(case, "test"))),
            (Some(_), Ok(())) => failures.push(format!("{id} is listed as a deliberate difference but passes")),
            (Some(_), Err(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(passed + DELIBERATE_DIFFERENCES.len(), cases.len());
}

#[test]
fn deliberate_differences_are_known_cases() {
    let vectors = vectors();
    let ids: Vec<&str> = vectors["transform_cases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| str_field(c, "id"))
        .collect();
    for (id, reason) in DELIBERATE_DIFFERENCES {
        assert!(ids.contains(id), "{id} is not a transform case");
        assert!(!reason.is_empty(), "{id} needs a reason");
    }
}

#[test]
fn render_cases() {
    let vectors = vectors();
    let cases = vectors["render_cases"]["cases"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 9);
    for case in &cases {
        let template = str_field(case, "template");
        let got = mapping::render(template, &case["data"]);
        assert_eq!(
            got.as_deref().ok(),
            case["output"].as_str(),
            "render({template:?}, {})",
            case["data"]
        );
    }
}

#[test]
fn get_cases() {
    let vectors = vectors();
    let obj = &vectors["get_cases"]["obj"];
    let cases = vectors["get_cases"]["cases"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 16);
    for case in &cases {
        let got = match &case["path"] {
            Value::String(path) => mapping::get(obj, path),
            Value::Array(keys) => {
                let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
                mapping::get_keys(obj, &keys)
            }
            other => panic!("unexpected path {other}"),
        };
        let want = if case.get("expected_is_undefined").and_then(Value::as_bool) == Some(true) {
            None
        } else {
            Some(&case["expected"])
        };
        assert_eq!(got, want, "get(obj, {})", case["path"]);
    }
}

#[test]
fn validate_fixtures() {
    let vectors = vectors();
    let fixtures = &vectors["validate_fixtures"];
    let valid = fixtures["valid"].as_array().cloned().unwrap_or_default();
    let invalid = fixtures["invalid"].as_array().cloned().unwrap_or_default();
    assert_eq!((valid.len(), invalid.len()), (17, 14));
    for fixture in &valid {
        let result = mapping::validate(&fixture["mapping"]);
        assert!(result.is_ok(), "{}: {:?}", str_field(fixture, "file"), result);
        assert!(mapping::Mapping::compile(&fixture["mapping"]).is_ok());
    }
    for fixture in &invalid {
        let file = str_field(fixture, "file");
        let errors = match mapping::validate(&fixture["mapping"]) {
            Ok(()) => panic!("{file}: expected a validation error"),
            Err(errors) => errors,
        };
        let messages: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        match &fixture["expectError"] {
            Value::String(want) => assert!(
                errors.to_string().contains(want.as_str()),
                "{file}: {messages:?} does not contain {want:?}"
            ),
            Value::Array(wants) => {
                let wants: Vec<&str> = wants.iter().filter_map(Value::as_str).collect();
                assert_eq!(messages, wants, "{file}");
            }
            other => panic!("{file}: unexpected expectError {other}"),
        }
        // The same errors come out of compile and transform.
        assert_eq!(mapping::Mapping::compile(&fixture["mapping"]).err(), Some(errors.clone()));
        let payload = serde_json::json!({});
        match mapping::transform(&fixture["mapping"], &payload) {
            Err(MappingError::Invalid(e)) => assert_eq!(e, errors, "{file}"),
            other => panic!("{file}: transform gave {other:?}"),
        }
    }
}
