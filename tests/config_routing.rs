//! The configuration document: destinations, subscriptions with triggers, source routing, the
//! metric key catalogue, and every problem reported at once.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::{read_document, BridgeConfig, SourceHint};
use segment_ld_bridge::pipeline::{self, OutcomeStatus, Processed};
use serde_json::{json, Value};

fn config(document: Value) -> BridgeConfig {
    read_document(&document).unwrap_or_else(|problems| panic!("{problems:?}"))
}

fn problems(document: Value) -> Vec<(String, String)> {
    match read_document(&document) {
        Ok(_) => panic!("the document should be invalid"),
        Err(problems) => problems
            .into_iter()
            .map(|p| (p.location, p.message))
            .collect(),
    }
}

fn run(config: &BridgeConfig, hint: SourceHint<'_>, events: &[Value]) -> Processed {
    let route = config.route(hint).expect("routed");
    pipeline::process(
        config,
        &route,
        pipeline::Events::Parsed(events),
        pipeline::Options::at(1_700_000_000_000),
    )
}

fn bodies(processed: &Processed) -> Vec<(String, String, Vec<String>)> {
    processed
        .payloads
        .iter()
        .map(|d| {
            let body: Value = serde_json::from_str(&d.body).expect("JSON");
            let keys = body
                .as_array()
                .expect("array")
                .iter()
                .map(|e| e["key"].as_str().expect("key").to_string())
                .collect();
            (d.destination.clone(), d.url.clone(), keys)
        })
        .collect()
}

fn two_environments() -> Value {
    json!({
        "destinations": [
            {"name": "staging", "client_side_id": "env-staging", "events_host": "http://127.0.0.1:1"},
            {"name": "production", "client_side_id": "env-prod", "events_host": "eu"}
        ],
        "sources": [
            {"name": "web-staging", "source_ids": ["web-staging"], "destinations": ["staging"]},
            {"name": "web", "source_ids": ["web"], "write_keys": ["wk-secret-1"], "destinations": ["production"], "default": true}
        ]
    })
}

fn track(event: &str, user: &str) -> Value {
    json!({"type": "track", "event": event, "userId": user, "messageId": format!("{event}-{user}")})
}

#[test]
fn two_sources_reach_their_own_environments() {
    let config = config(two_environments());
    let staging = run(
        &config,
        SourceHint::SourceId("web-staging"),
        &[track("A", "u")],
    );
    assert_eq!(
        bodies(&staging),
        [(
            "staging".into(),
            "http://127.0.0.1:1/events/bulk/env-staging".into(),
            vec!["A".into()]
        )]
    );
    let production = run(
        &config,
        SourceHint::WriteKey("wk-secret-1"),
        &[track("B", "u")],
    );
    assert_eq!(
        bodies(&production),
        [(
            "production".into(),
            "https://events.eu.launchdarkly.com/events/bulk/env-prod".into(),
            vec!["B".into()]
        )]
    );
    let default = run(&config, SourceHint::None, &[track("C", "u")]);
    assert_eq!(default.payloads[0].destination, "production");
    assert_eq!(default.outcomes[0].destinations, ["production"]);
}

#[test]
fn unknown_sources_are_refused_and_secrets_never_echoed() {
    let config = config(two_environments());
    let unknown = config.route(SourceHint::SourceId("mobile")).unwrap_err();
    assert_eq!(unknown.code.as_str(), "unknown_source");
    let bad_key = config.route(SourceHint::WriteKey("wk-wrong")).unwrap_err();
    assert_eq!(bad_key.code.as_str(), "unknown_write_key");
    assert!(!bad_key.message.contains("wk-wrong"));
    let summary = config.summary().to_string();
    assert!(!summary.contains("wk-secret-1"), "{summary}");
    assert!(summary.contains("\"write_keys\":1"));
    let mut no_default = two_environments();
    no_default["sources"][1]["default"] = json!(false);
    let config = self::config(no_default);
    assert_eq!(
        config.route(SourceHint::None).unwrap_err().code.as_str(),
        "source_required"
    );
}

#[test]
fn without_sources_every_request_reaches_every_destination() {
    let mut document = two_environments();
    document.as_object_mut().expect("object").remove("sources");
    let config = config(document);
    let processed = run(&config, SourceHint::None, &[track("A", "u")]);
    let destinations: Vec<_> = bodies(&processed)
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    assert_eq!(destinations, ["staging", "production"]);
}

#[test]
fn every_matching_enabled_subscription_produces_one_event() {
    let config = config(json!({
        "destinations": [
            {"name": "staging", "client_side_id": "s"},
            {"name": "production", "client_side_id": "p"}
        ],
        "subscriptions": [
            {"name": "All tracks", "trigger": "type = \"track\""},
            {"name": "Big orders", "trigger": "type = \"track\" and event = \"Order Completed\" and properties.total > 100",
             "mapping": {"event_name": "big-order", "metric_value": {"@path": "$.properties.total"}},
             "destinations": ["production"]},
            {"name": "Disabled", "trigger": "type = \"track\"", "enabled": false,
             "mapping": {"event_name": "never"}}
        ]
    }));
    let mut big = track("Order Completed", "u");
    big["properties"] = json!({"total": 150});
    let mut small = track("Order Completed", "v");
    small["properties"] = json!({"total": 50});
    let processed = run(&config, SourceHint::None, &[big, small]);
    assert_eq!(
        bodies(&processed),
        [
            (
                "staging".into(),
                "https://events.launchdarkly.com/events/bulk/s".into(),
                vec!["Order Completed".into(), "Order Completed".into()]
            ),
            (
                "production".into(),
                "https://events.launchdarkly.com/events/bulk/p".into(),
                vec![
                    "Order Completed".into(),
                    "big-order".into(),
                    "Order Completed".into()
                ]
            ),
        ]
    );
    assert_eq!(
        processed.outcomes[0].subscriptions,
        ["All tracks", "Big orders"]
    );
    assert_eq!(processed.outcomes[1].subscriptions, ["All tracks"]);
    let production = &processed.payloads[1];
    assert_eq!(production.event_indexes, [0, 0, 1]);
    let body: Value = serde_json::from_str(&production.body).expect("JSON");
    assert_eq!(body[1]["metricValue"], json!(150));
}

#[test]
fn payload_ids_differ_per_destination_and_stay_stable_per_content() {
    let config = config(json!({"destinations": [
        {"name": "a", "client_side_id": "a"}, {"name": "b", "client_side_id": "b"}]}));
    let first = run(&config, SourceHint::None, &[track("A", "u")]);
    let again = run(&config, SourceHint::None, &[track("A", "u")]);
    let ids = |p: &Processed| -> Vec<String> {
        p.payloads
            .iter()
            .map(|d| {
                let headers = d.headers();
                let header = headers
                    .iter()
                    .find(|(name, _)| *name == "X-LaunchDarkly-Payload-ID");
                assert_eq!(header.expect("id").1, d.payload_id.to_string());
                d.payload_id.to_string()
            })
            .collect()
    };
    assert_eq!(ids(&first), ids(&again));
    assert_ne!(ids(&first)[0], ids(&first)[1]);
}

#[test]
fn an_event_matching_nothing_is_skipped_naming_the_closest_trigger() {
    let config = config(json!({
        "destinations": [{"name": "d", "client_side_id": "d"}],
        "subscriptions": [
            {"name": "Orders", "trigger": "type = \"track\" and event = \"Order Completed\""},
            {"name": "Signups", "trigger": "type = \"track\" and event = \"Signed Up\" and properties.plan = \"pro\""}
        ]
    }));
    let processed = run(&config, SourceHint::None, &[track("Order Complete", "u")]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Skipped);
    assert_eq!(outcome.reason, "no_matching_subscription");
    assert!(
        outcome.message.contains("\"Orders\""),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("event = \"Order Completed\""),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("Order Complete"),
        "{}",
        outcome.message
    );
    let page = run(
        &config,
        SourceHint::None,
        &[json!({"type": "page", "userId": "u"})],
    );
    assert_eq!(page.outcomes[0].reason, "not_a_track_event");
}

#[test]
fn disabled_subscriptions_match_nothing() {
    let config = config(json!({
        "destinations": [{"name": "d", "client_side_id": "d"}],
        "subscriptions": [{"name": "Off", "enabled": false}]
    }));
    let processed = run(&config, SourceHint::None, &[track("A", "u")]);
    assert_eq!(processed.outcomes[0].reason, "no_subscription");
    assert!(processed.payloads.is_empty());
    assert_eq!(
        config.warnings[0].message,
        "every subscription is disabled: events will be skipped"
    );
}

#[test]
fn the_catalogue_reports_unknown_keys_and_near_misses() {
    let config = config(json!({"destinations": [
        {"name": "report", "client_side_id": "r", "metric_event_keys": ["Order Completed"]},
        {"name": "strict", "client_side_id": "s", "metric_event_keys": ["Order Completed"], "unknown_event_keys": "drop"}
    ]}));
    let processed = run(
        &config,
        SourceHint::None,
        &[
            track("Order Completed", "u"),
            track("order completed", "u"),
            track("Refund", "u"),
        ],
    );
    assert!(processed.outcomes[0].warnings.is_empty());
    let near = &processed.outcomes[1];
    assert_eq!(near.status, OutcomeStatus::Accepted);
    assert_eq!(near.destinations, ["report"]);
    assert_eq!(near.warnings[0].code, "event_key_near_miss");
    assert!(
        near.warnings[0]
            .message
            .contains("\"Order Completed\" is (differs in case)"),
        "{}",
        near.warnings[0].message
    );
    assert_eq!(near.warnings.len(), 2, "one per destination");
    let unknown = &processed.outcomes[2];
    assert_eq!(unknown.warnings[0].code, "unknown_event_key");
    let keys: Vec<_> = bodies(&processed)
        .into_iter()
        .map(|(name, _, keys)| (name, keys))
        .collect();
    assert_eq!(
        keys,
        [
            (
                "report".into(),
                vec![
                    "Order Completed".to_string(),
                    "order completed".into(),
                    "Refund".into()
                ]
            ),
            ("strict".into(), vec!["Order Completed".to_string()]),
        ]
    );
    let only_strict = self::config(json!({"destinations": [
        {"name": "strict", "client_side_id": "s", "metric_event_keys": ["X"], "unknown_event_keys": "drop"}]}));
    let dropped = run(&only_strict, SourceHint::None, &[track("Y", "u")]);
    assert_eq!(dropped.outcomes[0].status, OutcomeStatus::Skipped);
    assert_eq!(dropped.outcomes[0].reason, "unknown_event_key");
}

#[test]
fn configuration_errors_are_reported_all_at_once_with_locations() {
    let found = problems(json!({
        "destinations": [
            {"name": "a", "client_side_id": "bad/id", "events_host": "ftp://x"},
            {"name": "a", "client_side_id": "ok", "metric_event_keys": "nope", "colour": "blue"},
            "not an object"
        ],
        "subscriptions": [
            {"name": "s", "trigger": "type = \"track\" and (", "destinations": ["nowhere"]},
            {"trigger": "type = \"track\"", "mapping": {"event_name": {"@nope": 1}}, "enabled": "yes"}
        ],
        "sources": [{"name": "x"}],
        "extra": 1
    }));
    let locations: Vec<&str> = found
        .iter()
        .map(|(location, _)| location.as_str())
        .collect();
    assert_eq!(
        locations,
        [
            "extra",
            "destinations[0].client_side_id",
            "destinations[0].events_host",
            "destinations[1].colour",
            "destinations[1].name",
            "destinations[1].metric_event_keys",
            "destinations[2]",
            "subscriptions[0].trigger",
            "subscriptions[0].destinations[0]",
            "subscriptions[1].name",
            "subscriptions[1].mapping",
            "subscriptions[1].enabled",
            "sources[0]",
        ]
    );
    let trigger_problem = &found[7].1;
    assert!(trigger_problem.contains("position"), "{trigger_problem}");
    assert!(found[8].1.contains("no destination is named \"nowhere\""));
    assert!(problems(json!({}))[0].0 == "destinations");
}

#[test]
fn variables_build_the_same_configuration() {
    let document = json!({"destinations": [{"name": "d", "client_side_id": "abc"}],
                          "sources": [{"name": "dev", "default": true, "allow_unsigned": true}]})
    .to_string();
    let config =
        BridgeConfig::from_vars(|name| (name == "BRIDGE_CONFIG").then(|| document.clone()))
            .expect("valid");
    assert_eq!(config.destinations[0].name, "d");
    assert_eq!(config.subscriptions[0].name, "Track Event");
    let both = BridgeConfig::from_vars(|name| match name {
        "BRIDGE_CONFIG" => Some(document.clone()),
        "LD_CLIENT_SIDE_ID" => Some("x".into()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(both[0].location, "LD_CLIENT_SIDE_ID");
    let broken = BridgeConfig::from_vars(|name| {
        (name == "BRIDGE_CONFIG").then(|| r#"{"destinations": [{}]}"#.to_string())
    })
    .unwrap_err();
    assert_eq!(broken[0].location, "BRIDGE_CONFIG.destinations[0].name");
}

#[test]
fn a_document_that_authenticates_nothing_is_refused_by_the_worker() {
    let document = json!({"destinations": [{"name": "d", "client_side_id": "abc"}]}).to_string();
    let problems =
        BridgeConfig::from_vars(|name| (name == "BRIDGE_CONFIG").then(|| document.clone()))
            .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].location, "sources");
    // The playground and `preview` still read it: only a deployment needs authentication.
    assert!(read_document(&serde_json::from_str(&document).unwrap()).is_ok());
    // A source with only a URL id authenticates nothing: allowed, with a warning.
    let config = read_document(&json!({
        "destinations": [{"name": "d", "client_side_id": "abc"}],
        "sources": [{"name": "web", "source_ids": ["web"]}, {"name": "app", "write_keys": ["wk"]}]
    }))
    .expect("valid");
    assert_eq!(config.warnings.len(), 1);
    assert_eq!(config.warnings[0].location, "sources[0]");
    // Conflicting or misplaced switches, and secrets pasted where a name belongs.
    let found = problems_of(json!({
        "destinations": [{"name": "d", "client_side_id": "abc"}],
        "sources": [
            {"name": "a", "webhook_secret": "A_SECRET", "allow_unsigned": true},
            {"name": "b", "write_keys": ["wk"], "accept_batched_webhooks": true},
            {"name": "c", "webhook_secret": "whsec_9f8e7d6c5b4a"},
            {"name": "d", "webhook_secret": "C_SECRET", "allow_unsigned": "yes"}
        ]
    }));
    let locations: Vec<&str> = found.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        locations,
        [
            "sources[0].allow_unsigned",
            "sources[1].accept_batched_webhooks",
            "sources[2].webhook_secret",
            "sources[3].allow_unsigned"
        ]
    );
    assert!(found
        .iter()
        .all(|(_, message)| !message.contains("9f8e7d6c5b4a")));
}

fn problems_of(document: Value) -> Vec<(String, String)> {
    match read_document(&document) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .into_iter()
            .map(|p| (p.location, p.message))
            .collect(),
    }
}
