//! The Segment envelope against Segment: every case of `tests/vectors/segment-envelope.json`
//! (the `integrations` object and consent, transcribed from analytics-next's tests and derived
//! from Segment's documentation; origins and licences in `tests/vectors/README.md`), run
//! through the whole pipeline: each destination gets the event, or not and why.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::read_document;
use segment_ld_bridge::pipeline::{self, OutcomeStatus};
use serde_json::{json, Value};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/segment-envelope.json"
);

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS).expect("the conformance file is readable");
    serde_json::from_str(&text).expect("the conformance file is JSON")
}

/// The case's event: a track event with the case's `integrations` and `context`.
fn event_of(case: &Value) -> Value {
    let mut event = json!({"type": "track", "event": "Conformance", "userId": "u-1",
                           "messageId": "m-1", "timestamp": "2025-01-01T00:00:00Z"});
    for (key, value) in case["event"].as_object().expect("event") {
        event[key] = value.clone();
    }
    event
}

/// A configuration with one LaunchDarkly destination per Segment destination of the case.
fn config_of(case: &Value) -> Value {
    let destinations: Vec<Value> = case["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .enumerate()
        .map(|(index, destination)| {
            let mut out = json!({
                "name": destination["name"],
                "client_side_id": format!("env-{index}"),
                "integration_names": destination["integration_names"],
            });
            for key in ["required_consent", "without_consent"] {
                if let Some(value) = destination.get(key) {
                    out[key] = value.clone();
                }
            }
            out
        })
        .collect();
    json!({"destinations": destinations})
}

#[test]
fn every_case_sends_or_skips_as_segment_does() {
    let vectors = vectors();
    let cases = vectors["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 37, "the file changed: review the cases");
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let config = read_document(&config_of(case))
            .unwrap_or_else(|problems| panic!("{name}: {problems:?}"));
        let event = event_of(case);
        let processed = pipeline::process(
            &config,
            &pipeline::every_destination(&config),
            pipeline::Events::Parsed(std::slice::from_ref(&event)),
            pipeline::Options::at(1_750_000_000_000).traced(),
        );
        let outcome = &processed.outcomes[0];
        let gates = processed.traces[0].subscriptions[0]
            .envelope
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: the trace has the envelope"));
        let mut first_skip = None;
        let mut sent_anywhere = false;
        for destination in case["destinations"].as_array().expect("destinations") {
            let target = destination["name"].as_str().expect("name");
            let expect = destination["expect"].as_str().expect("expect");
            let sent = processed.payloads.iter().any(|p| p.destination == target);
            let gate = gates
                .destinations
                .iter()
                .find(|gate| gate.destination == target)
                .unwrap_or_else(|| panic!("{name}: a gate for {target}"));
            let decided = if !gate.consent.allows() {
                "no_consent"
            } else if !gate.integrations.allows() {
                "disabled_by_integrations"
            } else {
                "sent"
            };
            assert_eq!(decided, expect, "{name}: {target}: {gate:?}");
            assert_eq!(sent, expect == "sent", "{name}: {target}");
            assert_eq!(gate.passes, sent, "{name}: {target}");
            if sent {
                sent_anywhere = true;
                continue;
            }
            first_skip.get_or_insert(expect);
            // The outcome names every destination the event did not reach, with the reason.
            let said = format!("not sent to {target:?}");
            let named = if outcome.status == OutcomeStatus::Accepted {
                outcome
                    .warnings
                    .iter()
                    .any(|w| w.code.as_str() == expect && w.message.starts_with(&said))
            } else {
                outcome.message.contains(&said)
            };
            assert!(named, "{name}: {target}: {outcome:?}");
            checked += 1;
        }
        if sent_anywhere {
            assert_eq!(outcome.status, OutcomeStatus::Accepted, "{name}");
        } else {
            assert_eq!(outcome.status, OutcomeStatus::Skipped, "{name}");
            assert_eq!(Some(outcome.reason.as_str()), first_skip, "{name}");
            assert!(processed.payloads.is_empty(), "{name}");
        }
    }
    assert_eq!(checked, 36, "destinations that skip the event");
}

#[test]
fn every_case_names_its_origin() {
    let vectors = vectors();
    let sources = vectors["meta"]["sources"].as_array().expect("sources");
    let commits: Vec<&str> = sources
        .iter()
        .map(|s| s["commit"].as_str().expect("commit"))
        .collect();
    for case in vectors["cases"].as_array().expect("cases") {
        let origin = case["origin"].as_str().expect("origin");
        assert!(
            commits.iter().any(|commit| origin.contains(commit)),
            "{origin}"
        );
        for destination in case["destinations"].as_array().expect("destinations") {
            assert!(["sent", "disabled_by_integrations", "no_consent"]
                .contains(&destination["expect"].as_str().expect("expect")));
        }
    }
    for source in sources {
        assert!(source["licence"].is_string());
    }
}
