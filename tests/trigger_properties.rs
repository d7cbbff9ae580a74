//! Property tests for `segment_ld_bridge::trigger`: arbitrary text, token soups, parse trees
//! and events never panic, and the parser, the tree form and the explanations agree.
//!
//! A small seeded generator stands in for a property-testing crate (no extra dependency);
//! set `TRIGGER_PROPTEST_CASES` to run more cases and `TRIGGER_PROPTEST_SEED` to vary them.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::trigger::{evaluate, Trigger, MAX_AST_DEPTH, MAX_SOURCE_CHARS};
use serde_json::{json, Map, Value};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// The generator for one property, seeded from `TRIGGER_PROPTEST_SEED`.
fn rng(salt: u64) -> Rng {
    Rng::seeded("TRIGGER_PROPTEST_SEED", 0x5eed_u64, salt)
}

fn cases(default: usize) -> usize {
    std::env::var("TRIGGER_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

const CHARS: &[char] = &[
    'a', 'd', 'e', 'n', 'o', 'r', 't', 'l', 'u', 'y', 'p', 'x', 'T', 'I', '0', '1', '5', '9', ' ',
    ' ', '\t', '\n', '\r', '"', '"', '\'', '.', '.', ',', '(', ')', '[', ']', '!', '=', '=', '<',
    '>', '\\', '_', '-', '+', '*', '$', 'é', '中', '😀', '\u{0}', '\u{2028}',
];

const FRAGMENTS: &[&str] = &[
    "type",
    "event",
    "name",
    "userId",
    "properties",
    "traits",
    "context",
    "properties.a",
    "properties.a.b",
    "traits.b",
    "context.library.name",
    "properties.items",
    "contains",
    "match",
    "(",
    ")",
    "(",
    ")",
    ",",
    ".",
    "!",
    "=",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "and",
    "null",
    "true",
    "false",
    "\"track\"",
    "\"identify\"",
    "'x'",
    "\"a*\"",
    "\"*b\"",
    "\"😀x\"",
    "\"\"",
    "5",
    "0",
    "-",
    "1.5",
    "\\x",
    "\\0",
    "constructor",
    "length",
    "__proto__",
    "[0]",
    "typo",
    "\"Order Completed\"",
    "track",
    "\"5\"",
    "1e3",
    "+",
    "\\.",
    "\\😀",
    "'",
];

const KEYS: &[&str] = &[
    "type",
    "event",
    "name",
    "userId",
    "properties",
    "traits",
    "context",
    "a",
    "b",
    "x",
    "items",
    "library",
    "length",
    "0",
    "1",
    "value",
    "__proto__",
    "constructor",
    "b c",
    "",
];

const STRINGS: &[&str] = &[
    "track",
    "identify",
    "page",
    "Order Completed",
    "x",
    "a",
    "b",
    "",
    "😀x",
    "x😀",
    "5",
    "abc",
    "null",
    "true",
    "'x'",
    "=",
    "*b",
    "a*",
];

fn random_text(rng: &mut Rng) -> String {
    let len = rng.below(60);
    (0..len).map(|_| *rng.pick(CHARS)).collect()
}

fn token_soup(rng: &mut Rng) -> String {
    let len = rng.below(16);
    let mut out = String::new();
    for _ in 0..len {
        let fragment = rng.pick::<&str>(FRAGMENTS);
        out.push_str(fragment);
        if rng.chance(70) {
            out.push(' ');
        }
    }
    out
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth == 0 { 5 } else { 7 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(*rng.pick(&[-1.0, 0.0, 1.0, 5.0, 10.0, 100.0, 1.5, 123.0, 1e21])),
        3 | 4 => Value::from(*rng.pick(STRINGS)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => random_object(rng, depth - 1),
    }
}

fn random_object(rng: &mut Rng, depth: usize) -> Value {
    let mut m = Map::new();
    for _ in 0..rng.below(5) {
        m.insert((*rng.pick(KEYS)).to_owned(), random_value(rng, depth));
    }
    Value::Object(m)
}

fn random_event(rng: &mut Rng) -> Value {
    if rng.chance(5) {
        return random_value(rng, 2);
    }
    let mut m = Map::new();
    m.insert(
        "type".into(),
        Value::from(*rng.pick(&["track", "identify", "page", "group"])),
    );
    if rng.chance(80) {
        m.insert("event".into(), Value::from(*rng.pick(STRINGS)));
    }
    if rng.chance(50) {
        m.insert("userId".into(), random_value(rng, 0));
    }
    for key in ["properties", "traits", "context"] {
        if rng.chance(70) {
            m.insert(key.into(), random_object(rng, 3));
        }
    }
    Value::Object(m)
}

fn random_ast(rng: &mut Rng, depth: usize) -> Value {
    if depth > 0 && rng.chance(30) {
        let children: Vec<Value> = (0..rng.below(4))
            .map(|_| random_ast(rng, depth - 1))
            .collect();
        let mut g = json!({"type": "group", "children": children});
        if rng.chance(90) {
            g["operator"] = Value::from(*rng.pick(&["and", "or", "xor"]));
        }
        return g;
    }
    if rng.chance(3) {
        return random_value(rng, 1);
    }
    let mut leaf = Map::new();
    let ty = *rng.pick(&[
        "event-type",
        "event",
        "name",
        "userId",
        "event-property",
        "event-trait",
        "event-context",
        "other",
    ]);
    leaf.insert("type".into(), Value::from(ty));
    if rng.chance(80) {
        let name = *rng.pick(&[
            "a",
            "a.b",
            "items[0]",
            "items.length",
            "x.0",
            "",
            ".",
            "b c",
        ]);
        leaf.insert("name".into(), Value::from(name));
    }
    if rng.chance(95) {
        let op = *rng.pick(&[
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "contains",
            "not_contains",
            "starts_with",
            "not_starts_with",
            "ends_with",
            "not_ends_with",
            "exists",
            "not_exists",
            "is_true",
            "is_false",
            "number_equals",
            "number_not_equals",
            "bogus",
        ]);
        leaf.insert("operator".into(), Value::from(op));
    }
    if rng.chance(80) {
        leaf.insert("value".into(), random_value(rng, 1));
    }
    Value::Object(leaf)
}

/// Everything that can be asked of a trigger, on one event, must hold together.
fn exercise(t: &Trigger, event: &Value) {
    let matched = t.matches(event);
    let score = t.mismatch_score(event);
    match t.explain(event) {
        None => {
            assert!(
                matched,
                "{}: explain says match, matches says no",
                t.source()
            );
            assert_eq!(score, 0, "{}", t.source());
        }
        Some(m) => {
            assert!(!matched, "{}: explain on a matching event", t.source());
            assert!(m.score >= 1 && m.score == score, "{}", t.source());
            assert!(!m.failed.is_empty(), "{}", t.source());
            for f in &m.failed {
                assert!(!f.to_string().is_empty());
            }
        }
    }
}

/// The tree form is a fixed point: `from_ast(to_ast())` gives the same tree back, and (when
/// no value was lost to JSON: NaN, lone surrogates) the same answers.
fn round_trip(t: &Trigger, events: &[Value]) {
    let ast = t.to_ast();
    let again = match Trigger::from_ast(&ast) {
        Ok(a) => a,
        Err(e) => panic!("{}: from_ast(to_ast()) failed: {e} on {ast}", t.source()),
    };
    assert_eq!(again.to_ast(), ast, "{}", t.source());
    let lossy = ast.to_string().contains("\"value\":null") || ast.to_string().contains('\u{fffd}');
    if !lossy {
        for e in events {
            assert_eq!(
                t.matches(e),
                again.matches(e),
                "{} vs {} on {e}",
                t.source(),
                again.source()
            );
        }
    }
}

fn check_source(src: &str, rng: &mut Rng) {
    match Trigger::parse(src) {
        Err(e) => {
            assert!(e.position <= src.chars().count(), "{src:?}: {e:?}");
            assert!(!e.message.is_empty() && !e.expected.is_empty(), "{src:?}");
            assert!(e.to_string().contains(&format!("position {}", e.position)));
            assert_eq!(evaluate(src, &json!({})), Err(e));
        }
        Ok(t) => {
            assert_eq!(t.source(), src);
            let events: Vec<Value> = (0..4).map(|_| random_event(rng)).collect();
            for e in &events {
                exercise(&t, e);
                assert_eq!(evaluate(src, e), Ok(t.matches(e)));
            }
            exercise(&t, &Value::Null);
            assert!(!t.matches(&Value::Null) || t.to_ast()["children"] == json!([]));
            round_trip(&t, &events);
            let _ = t.warnings();
        }
    }
}

#[test]
fn arbitrary_text_never_panics() {
    let mut rng = rng(1);
    for _ in 0..cases(20_000) {
        let src = random_text(&mut rng);
        check_source(&src, &mut rng);
    }
}

#[test]
fn token_soups_never_panic() {
    let mut rng = rng(2);
    let mut parsed = 0;
    for _ in 0..cases(20_000) {
        let src = token_soup(&mut rng);
        parsed += usize::from(Trigger::parse(&src).is_ok());
        check_source(&src, &mut rng);
    }
    // The soup must reach the parser's interesting paths, not only lexer errors.
    assert!(parsed > 1_000, "only {parsed} soups parsed");
}

#[test]
fn arbitrary_parse_trees_never_panic() {
    let mut rng = rng(3);
    let mut accepted = 0;
    for _ in 0..cases(20_000) {
        let ast = random_ast(&mut rng, 4);
        if let Ok(t) = Trigger::from_ast(&ast) {
            accepted += 1;
            let events: Vec<Value> = (0..4).map(|_| random_event(&mut rng)).collect();
            for e in &events {
                exercise(&t, e);
            }
            round_trip(&t, &events);
        }
    }
    assert!(accepted > 1_000, "only {accepted} trees accepted");
}

#[test]
fn arbitrary_events_never_panic() {
    let triggers: Vec<Trigger> = [
        r#"type = "track" and event = "Order Completed""#,
        r#"type = "identify" or type = "track""#,
        r#"properties.a != null and (properties.a.b = 5 or traits.x = "x")"#,
        r#"contains(event, "😀") or match(properties.a, "😀x") or match(event, "x*")"#,
        r"properties.items.length > 1 and properties.items.\0 = null",
        r#"context.library.name = "a" and userId = true and name != null"#,
        r#"properties.constructor != null or traits.__proto__ = null"#,
        r#"!contains(properties.a, "b") and !match(event, "*b") and properties.value <= 10"#,
        r#"properties.value = 1e21 and properties.value != 5 and properties.b\ c = "x""#,
        r#"type = "track" or ()"#,
    ]
    .iter()
    .map(|s| Trigger::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
    .collect();
    let mut rng = rng(4);
    for _ in 0..cases(20_000) {
        let event = random_event(&mut rng);
        for t in &triggers {
            exercise(t, &event);
        }
    }
}

#[test]
fn nesting_and_length_are_capped() {
    let deep_parens = "(".repeat(200_000);
    assert!(Trigger::parse(&deep_parens).is_err());
    let nested = format!("{}type = \"track\"{}", "(".repeat(1_000), ")".repeat(1_000));
    assert!(Trigger::parse(&nested).is_err());
    let long = "type = \"track\" or ".repeat(MAX_SOURCE_CHARS / 10);
    let e = Trigger::parse(&long).expect_err("over the length cap");
    assert_eq!(e.position, MAX_SOURCE_CHARS);
    // A long trigger under the cap works.
    let many = format!("{}type = \"track\"", "type = \"page\" or ".repeat(3_000));
    let t = Trigger::parse(&many).expect("3,001 conditions");
    assert!(t.matches(&json!({"type": "track"})));
    assert_eq!(t.mismatch_score(&json!({"type": "x"})), 1);

    let mut ast = json!({"type": "event-type", "operator": "=", "value": "track"});
    for _ in 0..(MAX_AST_DEPTH * 4) {
        ast = json!({"type": "group", "operator": "and", "children": [ast]});
    }
    assert!(Trigger::from_ast(&ast).is_err());
    let mut value = json!(1);
    for _ in 0..(MAX_AST_DEPTH * 4) {
        value = json!([value]);
    }
    let leaf = json!({"type": "group", "operator": "and", "children": [
        {"type": "event-property", "name": "a", "operator": "=", "value": value}
    ]});
    assert!(Trigger::from_ast(&leaf).is_err());
}

/// Per-event cost of a typical trigger. Run with
/// `cargo test --release --test trigger_properties -- --ignored --nocapture`.
#[test]
#[ignore]
fn evaluation_speed() {
    let t = Trigger::parse(
        r#"type = "track" and (event = "Order Completed" or event = "Checkout Started") and properties.revenue > 10 and context.library.name != null"#,
    )
    .expect("parses");
    let event = json!({
        "type": "track", "event": "Checkout Started", "userId": "u1",
        "properties": {"revenue": 42.5, "currency": "USD", "products": [{"id": "a"}]},
        "context": {"library": {"name": "analytics.js", "version": "1.0"}, "ip": "1.1.1.1"}
    });
    let n = 1_000_000;
    let start = std::time::Instant::now();
    let mut hits = 0usize;
    for _ in 0..n {
        hits += usize::from(t.matches(std::hint::black_box(&event)));
    }
    let per = start.elapsed().as_nanos() as f64 / f64::from(n);
    assert_eq!(hits, n as usize);
    println!("matches: {per:.1} ns per event");
    let start = std::time::Instant::now();
    for _ in 0..10_000 {
        std::hint::black_box(Trigger::parse(std::hint::black_box(t.source())).is_ok());
    }
    println!(
        "parse: {:.1} µs per trigger",
        start.elapsed().as_micros() as f64 / 10_000.0
    );
}
