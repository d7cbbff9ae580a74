//! The bridge's mapping engine and triggers against Segment's own code as an oracle: random
//! mappings of every directive, and random `@liquid` templates on everyday values, evaluated by
//! `@segment/actions-core`'s `transform` (liquidjs 10.27.2 with Segment's options), and random
//! triggers evaluated by `@segment/destination-subscriptions` (`parseFql`, `validate`) in Node
//! (`bench/mapping-oracle.mjs`), must give the same results here: the same value or match, or
//! an error on both sides. Needs Node and the packages `scripts/setup.sh` installs in `bench/`, so the
//! tests are ignored by a bare `cargo test`; `scripts/test.sh` runs them (`-- --ignored`).
//! `ORACLE_SEED` replays other cases (the seed of a run is in its failure message).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::mapping::Mapping;
use segment_ld_bridge::trigger;
use serde_json::Value;
use std::process::Command;

#[path = "common/js_equal.rs"]
mod js_equal;
use js_equal::js_equal;

/// Cases of `kind` from the oracle: its payload and `{mapping, result | error}` each.
fn oracle(kind: &str, seed: u64, count: usize) -> Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("node")
        .arg(format!("{root}/bench/mapping-oracle.mjs"))
        .args([kind, &seed.to_string(), &count.to_string()])
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    assert!(
        output.status.success(),
        "bench/mapping-oracle.mjs failed (scripts/setup.sh installs Segment's packages in bench/): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the oracle prints JSON")
}

/// Runs every case through the engine; the cases whose result differs from the oracle's.
fn differences(kind: &str, count: usize) -> (u64, usize, Vec<String>) {
    let seed = std::env::var("ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    let cases = oracle(kind, seed, count);
    let payload = &cases["payload"];
    let cases = cases["cases"].as_array().expect("cases");
    let mut differ = Vec::new();
    for case in cases {
        let mapping = &case["mapping"];
        let got = Mapping::compile(mapping)
            .map_err(|e| e.to_string())
            .and_then(|m| m.apply(payload).map_err(|e| e.to_string()));
        let same = match (&got, case.get("result"), case.get("error")) {
            (Ok(value), Some(want), None) => js_equal(value, want),
            (Err(_), None, Some(_)) => true,
            _ => false,
        };
        if !same {
            differ.push(format!("{mapping}\n  bridge: {got:?}\n  Segment: {case}"));
        }
    }
    (seed, cases.len(), differ)
}

fn assert_same(kind: &str, count: usize) {
    let (seed, total, differ) = differences(kind, count);
    assert_eq!(total, count, "the oracle gave every case");
    assert!(
        differ.is_empty(),
        "{} of {total} {kind} cases differ from Segment's (ORACLE_SEED={seed}):\n{}",
        differ.len(),
        differ
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
#[ignore = "needs Node and bench/node_modules: scripts/test.sh runs it"]
fn mappings_give_what_segments_mapping_kit_gives() {
    assert_same("mappings", 4_000);
}

#[test]
#[ignore = "needs Node and bench/node_modules: scripts/test.sh runs it"]
fn liquid_gives_what_liquidjs_gives() {
    assert_same("liquid", 4_000);
}

#[test]
#[ignore = "needs Node and bench/node_modules: scripts/test.sh runs it"]
fn triggers_match_what_segments_fql_matches() {
    let seed = std::env::var("ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    let oracle = oracle("triggers", seed, 4_000);
    let events = oracle["events"].as_array().expect("events");
    let cases = oracle["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4_000, "the oracle gave every case");
    let mut differ = Vec::new();
    let mut matched = 0;
    for case in cases {
        let source = case["trigger"].as_str().expect("a trigger");
        let got: Result<Vec<bool>, String> = events
            .iter()
            .map(|event| trigger::evaluate(source, event).map_err(|e| e.to_string()))
            .collect();
        let same = match (&got, case.get("matches")) {
            // `null`: Segment's `validate` threw on this event (not compared).
            (Ok(ours), Some(Value::Array(theirs))) => {
                matched += ours.iter().filter(|m| **m).count();
                ours.iter()
                    .zip(theirs)
                    .all(|(a, b)| b.is_null() || Some(*a) == b.as_bool())
            }
            (Err(_), None) => true,
            _ => false,
        };
        if !same {
            differ.push(format!("{source}\n  bridge: {got:?}\n  Segment: {case}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} triggers differ from Segment's (ORACLE_SEED={seed}):\n{}",
        differ.len(),
        cases.len(),
        differ
            .iter()
            .take(400)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The cases are not all misses.
    assert!(matched > 1_000, "only {matched} matches");
}
