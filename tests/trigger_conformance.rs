//! Runs every case of `tests/vectors/segment-fql.json` (Segment's destination-subscriptions
//! vectors, re-run upstream) against `segment_ld_bridge::trigger`, as its `meta` describes.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use std::collections::BTreeMap;

use segment_ld_bridge::trigger::{evaluate, Trigger};
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/segment-fql.json"
);

/// Cases where the bridge deliberately differs from Segment, with the reason. Every listed
/// case must really differ (checked below), so the list stays honest. Empty: the bridge
/// matches Segment on every vector.
const DIFFERENCES: &[(&str, &str)] = &[];

type Outcome = Result<(), String>;

fn load() -> Value {
    let text =
        std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("cannot read {VECTORS}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{VECTORS} is not JSON: {e}"))
}

fn cases<'a>(v: &'a Value, what: &str) -> &'a [Value] {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not an array"))
        .as_slice()
}

fn str_of<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("case without string {key}: {case}"))
}

fn bool_of(case: &Value, key: &str) -> bool {
    case[key]
        .as_bool()
        .unwrap_or_else(|| panic!("case without boolean {key}: {case}"))
}

/// `validate(parseFql(fql), event)`; an invalid trigger matches nothing.
fn check_fql(fql: &str, event: &Value, expected: bool) -> Outcome {
    let got = evaluate(fql, event).unwrap_or(false);
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{fql:?} on {event}: got {got}, expected {expected}"
        ))
    }
}

/// `parseFql(fql)` deep-equals `ast`; the tree also round-trips through `from_ast`.
fn check_parse(fql: &str, ast: &Value) -> Outcome {
    let t = Trigger::parse(fql).map_err(|e| format!("{fql:?}: parse error {e}"))?;
    if t.source() != fql {
        return Err(format!("{fql:?}: source() is {:?}", t.source()));
    }
    let got = t.to_ast();
    if got != *ast {
        return Err(format!("{fql:?}: parsed to {got}, expected {ast}"));
    }
    let again = Trigger::from_ast(ast).map_err(|e| format!("{fql:?}: from_ast error {e}"))?;
    if again.to_ast() != *ast {
        return Err(format!(
            "{fql:?}: from_ast(ast).to_ast() is {}",
            again.to_ast()
        ));
    }
    Ok(())
}

/// `validate(ast, event)`; an absent event (`undefined` upstream) is passed as `null`, which
/// the bridge, like Segment, never matches. A tree `from_ast` rejects matches nothing.
fn check_ast(ast: &Value, event: Option<&Value>, expected: bool) -> Outcome {
    let event = event.cloned().unwrap_or(Value::Null);
    let got = Trigger::from_ast(ast).is_ok_and(|t| t.matches(&event));
    if got == expected {
        Ok(())
    } else {
        Err(format!("{ast} on {event}: got {got}, expected {expected}"))
    }
}

fn check_error(fql: &str, message: Option<&str>) -> Outcome {
    match Trigger::parse(fql) {
        Ok(t) => Err(format!(
            "{fql:?}: expected an error, parsed to {}",
            t.to_ast()
        )),
        Err(e) => match message {
            Some(m) if !e.message.contains(m) => {
                Err(format!("{fql:?}: error {e:?} does not mention {m:?}"))
            }
            _ => Ok(()),
        },
    }
}

fn run_all(v: &Value) -> BTreeMap<String, Outcome> {
    let mut out = BTreeMap::new();

    for (i, c) in cases(&v["evaluate_fql_cases"], "evaluate_fql_cases")
        .iter()
        .enumerate()
    {
        let id = c["id"]
            .as_str()
            .map_or_else(|| i.to_string(), str::to_owned);
        out.insert(
            format!("evaluate_fql_cases/{id}"),
            check_fql(str_of(c, "fql"), &c["event"], bool_of(c, "expected")),
        );
    }

    for (i, c) in cases(&v["parse_cases"]["cases"], "parse_cases")
        .iter()
        .enumerate()
    {
        out.insert(
            format!("parse_cases/{i}"),
            check_parse(str_of(c, "fql"), &c["ast"]),
        );
    }

    let errors = &v["parse_error_cases"];
    for (i, c) in cases(&errors["cases"], "parse_error_cases")
        .iter()
        .enumerate()
    {
        let fql = str_of(c, "fql");
        let expect = &c["expect"];
        let outcome = if let Some(ast) = expect.get("ast") {
            check_parse(fql, ast)
        } else if let Some(m) = expect.get("error_message").and_then(Value::as_str) {
            check_error(fql, Some(m))
        } else if expect.get("error").is_some() {
            check_error(fql, None)
        } else {
            Err(format!("unknown expectation {expect}"))
        };
        out.insert(format!("parse_error_cases/{i}"), outcome);
    }
    let extra = cases(
        &errors["extra_from_destination_kit_test"],
        "extra_from_destination_kit_test",
    );
    for (i, c) in extra.iter().enumerate() {
        out.insert(
            format!("parse_error_cases/extra/{i}"),
            check_error(str_of(c, "fql"), None),
        );
    }

    for (i, c) in cases(&v["evaluate_ast_cases"]["cases"], "evaluate_ast_cases")
        .iter()
        .enumerate()
    {
        out.insert(
            format!("evaluate_ast_cases/{i}"),
            check_ast(&c["ast"], c.get("event"), bool_of(c, "expected")),
        );
    }

    let ast_only = cases(
        &v["ast_only_cases_without_fql_equivalent"],
        "ast_only_cases_without_fql_equivalent",
    );
    for (i, c) in ast_only.iter().enumerate() {
        out.insert(
            format!("ast_only_cases_without_fql_equivalent/{i}"),
            check_ast(&c["ast"], c.get("event"), bool_of(c, "expected")),
        );
    }

    let docs = &v["segment_docs_full_fql_examples"];
    let docs_event = &docs["event"];
    for (i, c) in cases(&docs["cases"], "segment_docs_full_fql_examples")
        .iter()
        .enumerate()
    {
        let fql = str_of(c, "fql");
        let tree = &c["destination_subscriptions_parse"];
        let parsed = match tree.as_str() {
            Some(err) if err.starts_with("error") => check_error(fql, None),
            Some(other) => Err(format!("unknown parse expectation {other:?}")),
            None => check_parse(fql, tree),
        };
        let evaluated = check_fql(
            fql,
            docs_event,
            bool_of(c, "destination_subscriptions_result"),
        );
        out.insert(
            format!("segment_docs_full_fql_examples/{i}"),
            parsed.and(evaluated),
        );
    }
    out
}

/// Checks one section of the file: every case passes, or is listed in `DIFFERENCES` and
/// really differs.
fn check_section(section: &str) {
    let outcomes = run_all(&load());
    let mut failures = Vec::new();
    let mut ran = 0usize;
    for (key, outcome) in outcomes
        .iter()
        .filter(|(k, _)| k.split('/').next() == Some(section))
    {
        ran += 1;
        let listed = DIFFERENCES.iter().find(|(k, _)| k == key);
        match (outcome, listed) {
            (Ok(()), None) | (Err(_), Some(_)) => {}
            (Err(e), None) => failures.push(format!("{key}: {e}")),
            (Ok(()), Some((_, reason))) => failures.push(format!(
                "{key} is listed as a deliberate difference ({reason}) but matches Segment: \
                 remove it from DIFFERENCES"
            )),
        }
    }
    println!(
        "{section}: {} of {ran} cases as expected",
        ran - failures.len()
    );
    // A renamed key in the file must not silently skip cases.
    assert!(ran > 0, "no case ran for {section}");
    assert!(
        failures.is_empty(),
        "{} of {ran} {section} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn evaluate_fql_cases() {
    check_section("evaluate_fql_cases");
}

#[test]
fn parse_cases() {
    check_section("parse_cases");
}

#[test]
fn parse_error_cases() {
    check_section("parse_error_cases");
}

#[test]
fn evaluate_ast_cases() {
    check_section("evaluate_ast_cases");
}

#[test]
fn ast_only_cases_without_fql_equivalent() {
    check_section("ast_only_cases_without_fql_equivalent");
}

#[test]
fn segment_docs_full_fql_examples() {
    check_section("segment_docs_full_fql_examples");
}

#[test]
fn differences_list_names_real_cases() {
    let outcomes = run_all(&load());
    for (key, reason) in DIFFERENCES {
        assert!(
            outcomes.contains_key(*key),
            "DIFFERENCES lists {key}, which is not a case"
        );
        assert!(!reason.is_empty(), "{key} needs a reason");
    }
}
