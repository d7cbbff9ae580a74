// The core's wasm test cases, included by tests/wasm_node.rs and tests/wasm_browser.rs.

use segment_ld_bridge::config::{BridgeConfig, Destination};
use segment_ld_bridge::pipeline::{self, OutcomeStatus};
use segment_ld_bridge::inbound;
use segment_ld_bridge::track_event::TrackEventMapping;
use serde_json::{json, Value};
use wasm_bindgen_test::wasm_bindgen_test;

const DESTINATION_VECTORS: &str =
    include_str!("../vectors/segment-launchdarkly-destination.json");

fn config(client_side_id: &str, host: &str, mapping: Option<&Value>) -> BridgeConfig {
    let mapping = match mapping {
        Some(overrides) => TrackEventMapping::with_overrides(overrides),
        None => TrackEventMapping::preset(),
    };
    BridgeConfig::single(
        Destination::new(client_side_id, host).expect("valid destination"),
        mapping.expect("valid mapping"),
    )
}

#[wasm_bindgen_test]
fn destination_vectors_that_segment_accepts_map_identically_in_wasm() {
    let vectors: Value = serde_json::from_str(DESTINATION_VECTORS).expect("vectors are JSON");
    let mut compared = 0;
    for case in vectors["cases"].as_array().expect("cases") {
        let expect = &case["expect"];
        if expect.get("rejected").is_some() || case.get("mapping").is_some() {
            continue;
        }
        let settings = &case["settings"];
        let config = config(
            settings["client_id"].as_str().expect("client_id"),
            settings["events_host_name"].as_str().unwrap_or(""),
            None,
        );
        // After every timestamp in the file (later than 1 day after receipt is rejected).
        let processed = pipeline::process(&config, &pipeline::every_destination(&config), pipeline::Events::Parsed(std::slice::from_ref(&case["event"])), pipeline::Options::at(1_750_000_000_000));
        let request = &processed.payloads[0];
        assert_eq!(
            request.url,
            expect["url"].as_str().expect("url"),
            "{}",
            case["name"]
        );
        let body: Value = serde_json::from_str(&request.body).expect("body is JSON");
        assert_eq!(body, expect["body"], "{}", case["name"]);
        compared += 1;
    }
    assert!(compared >= 6, "compared {compared} cases");
}

#[wasm_bindgen_test]
fn a_batch_is_read_and_each_event_gets_an_outcome() {
    let body =
        br#"{"batch":[{"type":"track","event":"A","userId":"u"},{"type":"page","userId":"u"},7]}"#;
    let events = inbound::parse_events(body).expect("a batch");
    let processed = pipeline::process(&config("env", "eu", None), &pipeline::every_destination(&config("env", "eu", None)), pipeline::Events::Parsed(&events), pipeline::Options::at(1_700_000_000_000));
    let statuses: Vec<_> = processed.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            OutcomeStatus::Accepted,
            OutcomeStatus::Skipped,
            OutcomeStatus::Rejected
        ]
    );
    let request = &processed.payloads[0];
    assert_eq!(
        request.url,
        "https://events.eu.launchdarkly.com/events/bulk/env"
    );
    let body: Value = serde_json::from_str(&request.body).expect("body is JSON");
    assert_eq!(body[0]["creationDate"], json!(1_700_000_000_000i64));
}

#[wasm_bindgen_test]
fn a_custom_mapping_runs_in_wasm() {
    let overrides = json!({"event_name": {"@template": "{{event}}:{{properties.plan}}"}});
    let events = [
        json!({"type":"track","event":"Signed Up","userId":"u","properties":{"plan":"pro","value":2}}),
    ];
    let processed = pipeline::process(&config("env", "", Some(&overrides)), &pipeline::every_destination(&config("env", "", Some(&overrides))), pipeline::Events::Parsed(&events), pipeline::Options::at(0));
    let body: Value =
        serde_json::from_str(&processed.payloads[0].body).expect("body is JSON");
    assert_eq!(body[0]["key"], "Signed Up:pro");
    assert_eq!(body[0]["metricValue"], 2);
}

/// JSON strings are scanned eight bytes at a time (`json::scan::plain_run`): in wasm too,
/// wherever a quote, a backslash, a control character or UTF-8 falls in those words, events
/// are read as serde_json reads them, and a raw control character is refused.
#[wasm_bindgen_test]
fn strings_read_in_wasm_are_the_ones_serde_json_reads() {
    for length in 0..40 {
        for special in ["\\\"", "\\\\", "\\n", "\\u0001", "é", "\u{7f}", "😀", " "] {
            let text = format!("{}{special}{}", "a".repeat(length), "z".repeat(length % 17));
            let body = format!(r#"[{{"type":"track","event":"{text}","k{text}":"{text}"}}]"#);
            let events = inbound::parse_events(body.as_bytes()).expect("JSON");
            let expected: Vec<Value> = serde_json::from_str(&body).expect("JSON");
            assert_eq!(events, expected, "{body}");
        }
        for control in ['\u{0}', '\u{1}', '\n', '\u{1f}'] {
            let body = format!(r#"[{{"event":"{}{control}b"}}]"#, "a".repeat(length));
            assert!(inbound::parse_events(body.as_bytes()).is_err(), "{length} {control:?}");
        }
    }
}
