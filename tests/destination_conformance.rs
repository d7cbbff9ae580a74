//! Segment's own LaunchDarkly (Actions) destination, recorded by running its published code
//! (`tests/vectors/segment-launchdarkly-destination.json`): every case, event by event.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::{BridgeConfig, Destination};
use segment_ld_bridge::pipeline::{self, OutcomeStatus};
use segment_ld_bridge::track_event::TrackEventMapping;
use serde_json::{json, Value};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/segment-launchdarkly-destination.json"
);

/// Cases where the bridge deliberately differs from Segment, with the reason. Each one is
/// checked below: the difference must really occur, and the stated workaround must give
/// Segment's exact body.
const DELIBERATE_DIFFERENCES: &[(&str, &str)] = &[(
    "segment test 3: custom kind and additional key",
    "A mapping is laid over the preset field by field (issue #2: absent keys keep the preset), so \
     the absent event_properties keeps the preset $.properties; Segment stores complete mappings, \
     where an absent field is unmapped. Writing \"event_properties\": null gives Segment's body.",
)];

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS).expect("the conformance file is readable");
    serde_json::from_str(&text).expect("the conformance file is JSON")
}

fn run(case: &Value, mapping_override: Option<Value>) -> pipeline::Processed {
    let settings = &case["settings"];
    let destination = Destination::new(
        settings["client_id"].as_str().expect("client_id"),
        settings["events_host_name"].as_str().unwrap_or(""),
    )
    .expect("valid settings");
    let mapping = match mapping_override.as_ref().or(case.get("mapping")) {
        Some(overrides) => TrackEventMapping::with_overrides(overrides).expect("valid mapping"),
        None => TrackEventMapping::preset().expect("preset"),
    };
    let config = BridgeConfig::single(destination, mapping);
    // A fixed receive time (2025-06-15), distinct from every timestamp in the file and after
    // them all: timestamps more than 1 day after the receive time are rejected.
    pipeline::process(
        &config,
        &pipeline::every_destination(&config),
        pipeline::Events::Parsed(std::slice::from_ref(&case["event"])),
        pipeline::Options::at(1_750_000_000_000),
    )
}

fn sent_body(processed: &pipeline::Processed) -> Value {
    assert_eq!(processed.payloads.len(), 1, "one request");
    serde_json::from_str(&processed.payloads[0].body).expect("JSON body")
}

#[test]
fn every_case_matches_segment_or_is_a_listed_difference() {
    let vectors = vectors();
    let cases = vectors["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 11, "the file changed: review the cases");
    let mut passed = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let expect = &case["expect"];
        let processed = run(case, None);
        if expect.get("rejected").is_some() {
            let outcome = &processed.outcomes[0];
            assert_eq!(outcome.status, OutcomeStatus::Rejected, "{name}");
            assert!(processed.payloads.is_empty(), "{name}");
            let segment_error = expect["segment_error"].as_str().expect("segment_error");
            let expected_reason = if segment_error.contains("'event_name'") {
                "missing_event_name"
            } else {
                assert_eq!(
                    outcome.message, segment_error,
                    "{name}: Segment's own message"
                );
                "invalid_metric_value"
            };
            assert_eq!(outcome.reason, expected_reason, "{name}");
            passed += 1;
            continue;
        }
        assert_eq!(
            processed.outcomes[0].status,
            OutcomeStatus::Accepted,
            "{name}"
        );
        let request = &processed.payloads[0];
        assert_eq!(request.url, expect["url"].as_str().expect("url"), "{name}");
        let body = sent_body(&processed);
        if let Some((_, reason)) = DELIBERATE_DIFFERENCES.iter().find(|(n, _)| *n == name) {
            assert_ne!(
                body, expect["body"],
                "{name} is listed as different but matches: {reason}"
            );
            let mut mapping = case["mapping"].clone();
            mapping["event_properties"] = Value::Null;
            assert_eq!(
                sent_body(&run(case, Some(mapping))),
                expect["body"],
                "{name} with the workaround"
            );
        } else {
            assert_eq!(body, expect["body"], "{name}");
        }
        passed += 1;
    }
    assert_eq!(passed, cases.len());
}

#[test]
fn segment_headers_are_sent_plus_a_payload_id_and_our_user_agent() {
    let vectors = vectors();
    let processed = run(&vectors["cases"][0], None);
    let payload = &processed.payloads[0];
    let headers = payload.headers();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_ref())
    };
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("x-launchdarkly-event-schema"), Some("4"));
    assert_eq!(header("user-agent"), Some("segment-ld-bridge/0.1.0"));
    let id = header("x-launchdarkly-payload-id").expect("payload id");
    assert_eq!(uuid_version(id), Some('5'));
    assert_eq!(id, payload.payload_id.to_string());
    assert_eq!(header("authorization"), None);
    assert_eq!(serde_json::to_value(payload).unwrap()["method"], "POST");
}

fn uuid_version(id: &str) -> Option<char> {
    (id.len() == 36).then(|| id.chars().nth(14)).flatten()
}

#[test]
fn the_files_deliberate_differences_hold() {
    let vectors = vectors();
    let listed = vectors["meta"]["deliberate_differences"]
        .as_array()
        .expect("list");
    assert_eq!(listed.len(), 3, "the file's list changed: review it");
    let base = json!({"settings": {"client_id": "c"}, "event": {
        "type": "track", "event": "E", "timestamp": "2024-01-01T00:00:00Z"}});
    // 1. An explicit null anonymousId is left out, never sent as "null".
    let mut case = base.clone();
    case["event"]["userId"] = json!("u");
    case["event"]["anonymousId"] = Value::Null;
    assert_eq!(
        sent_body(&run(&case, None))[0]["contextKeys"],
        json!({"user": "u"})
    );
    // 2. An empty userId falls back to anonymousId instead of being rejected.
    let mut case = base.clone();
    case["event"]["userId"] = json!("");
    case["event"]["anonymousId"] = json!("a");
    assert_eq!(
        sent_body(&run(&case, None))[0]["contextKeys"],
        json!({"unauthenticatedUser": "a", "user": "a"})
    );
}
