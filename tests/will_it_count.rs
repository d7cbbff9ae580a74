//! "Will it count?": a destination's metric catalogue (metric definitions, as `launchdarkly
//! pull` writes them) judges every LaunchDarkly event: the verdicts become warnings on the
//! outcome and the trace's key checks, and with `unknown_event_keys: "drop"` an event no metric
//! would count is not sent. The README's worked examples are here, verdict and fix.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

#[path = "common/pipeline.rs"]
mod pipeline_support;

use pipeline_support::{config, run};
use segment_ld_bridge::config::BridgeConfig;
use segment_ld_bridge::pipeline::{OutcomeStatus, Processed};
use serde_json::{json, Value};
use std::process::Command;

/// The catalogue `launchdarkly pull` writes for a project with a numeric metric and a
/// conversion metric on "Order Completed", both randomized by user, and a conversion metric
/// on "Signed Up" randomized by user or account.
fn metrics() -> Value {
    json!([
        {"key": "revenue", "name": "Revenue", "event_key": "Order Completed", "numeric": true,
         "randomization_units": ["user"], "unit_aggregation_type": "sum", "active_experiments": 1},
        {"key": "orders", "name": "Orders", "event_key": "Order Completed", "numeric": false,
         "randomization_units": ["user"], "active_experiments": 1},
        {"key": "signups", "name": "Sign-ups", "event_key": "Signed Up", "numeric": false,
         "randomization_units": ["user", "account"]}
    ])
}

fn destination(name: &str, policy: &str) -> Value {
    json!({"name": name, "client_side_id": format!("env-{name}"), "metrics": metrics(),
           "catalogue_source": {"project": "default", "environment": name,
                                "api_base": "https://app.launchdarkly.com", "pulled_at": "2026-11-30T13:30:00Z"},
           "unknown_event_keys": policy})
}

fn track(event: &str, properties: Value) -> Value {
    json!({"type": "track", "event": event, "userId": "u-1", "anonymousId": "anon-1",
           "messageId": format!("m-{event}"), "timestamp": "2025-06-01T00:00:00Z",
           "properties": properties})
}

fn codes(processed: &Processed, index: usize) -> Vec<&str> {
    processed.outcomes[index]
        .warnings
        .iter()
        .map(|w| w.code.as_str())
        .collect()
}

fn sent_to(processed: &Processed, destination: &str) -> Vec<usize> {
    processed
        .payloads
        .iter()
        .filter(|p| p.destination == destination)
        .flat_map(|p| p.event_indexes.clone())
        .collect()
}

/// The trace's key check of event `index` by `destination`, as JSON.
fn key_check(processed: &Processed, index: usize, destination: &str) -> Value {
    let trace = serde_json::to_value(&processed.traces[index]).unwrap();
    trace["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["key_checks"].as_array().cloned().unwrap_or_default())
        .find(|check| check["destination"] == destination)
        .unwrap_or_else(|| panic!("no key check of event {index} by {destination}"))
}

#[test]
fn verdicts_are_warnings_and_the_event_is_still_sent() {
    let config = config(json!({"destinations": [destination("production", "send")]}));
    let events = [
        track("Order Completed", json!({"revenue": 39.95})),
        track("Order Completed", json!({"total": 39.95})),
        track("Signed Up", json!({"value": 3})),
        json!({"type": "track", "event": "Signed Up", "anonymousId": "anon-2"}),
        track("order completed", json!({"revenue": 1})),
        track("Checkout Started", json!({})),
    ];
    let processed = run(&config, &events);
    for outcome in &processed.outcomes {
        assert_eq!(outcome.status, OutcomeStatus::Accepted, "{outcome:?}");
    }
    assert_eq!(sent_to(&processed, "production"), [0, 1, 2, 3, 4, 5]);
    assert_eq!(codes(&processed, 0), Vec::<&str>::new());
    assert_eq!(codes(&processed, 1), ["numeric_metric_without_value"]);
    assert_eq!(codes(&processed, 2), ["metric_value_ignored"]);
    // The preset maps an anonymous visitor to kind "user" too: counted.
    assert_eq!(codes(&processed, 3), Vec::<&str>::new());
    assert_eq!(codes(&processed, 4), ["event_key_near_miss"]);
    assert_eq!(codes(&processed, 5), ["unknown_event_key"]);
    assert_eq!(
        processed.outcomes[1].warnings[0].message,
        "\"Order Completed\" feeds the numeric metric \"revenue\" (Revenue) of \"production\", but the event has no metricValue: a numeric metric does not count it (map metric_value, e.g. to properties.revenue)"
    );
    assert_eq!(
        processed.outcomes[2].warnings[0].message,
        "\"Signed Up\" feeds only the conversion metric \"signups\" (Sign-ups) of \"production\": the event's metricValue is ignored (conversion metrics count events, not values)"
    );
}

#[test]
fn the_trace_shows_the_metrics_fed_and_every_verdict() {
    let config = config(json!({"destinations": [destination("production", "send")]}));
    let events = [
        track("Order Completed", json!({"revenue": 39.95})),
        track("Order Completed", json!({})),
        track("Nope", json!({})),
    ];
    let processed = run(&config, &events);
    let counted = key_check(&processed, 0, "production");
    assert_eq!(counted["result"], "known");
    assert_eq!(
        counted["metrics"],
        json!([
            {"key": "revenue", "name": "Revenue", "numeric": true, "randomization_units": ["user"], "counts": true},
            {"key": "orders", "name": "Orders", "numeric": false, "randomization_units": ["user"], "counts": true}
        ])
    );
    assert_eq!(counted["verdicts"], json!([]));
    assert_eq!(counted["counted"], true);
    assert_eq!(counted["sent"], true);
    let without_value = key_check(&processed, 1, "production");
    assert_eq!(without_value["metrics"][0]["counts"], false);
    assert_eq!(without_value["metrics"][1]["counts"], true);
    assert_eq!(
        without_value["verdicts"][0]["code"],
        "numeric_metric_without_value"
    );
    // The trace's verdicts are the outcome's warnings.
    assert_eq!(
        without_value["verdicts"],
        serde_json::to_value(&processed.outcomes[1].warnings).unwrap()
    );
    assert_eq!(without_value["counted"], true);
    let unknown = key_check(&processed, 2, "production");
    assert_eq!(unknown["result"], "unknown");
    assert_eq!(unknown["metrics"], json!([]));
    assert_eq!(unknown["verdicts"][0]["code"], "unknown_event_key");
    assert_eq!(unknown["counted"], false);
    assert_eq!(unknown["sent"], true);
}

#[test]
fn with_drop_only_what_a_metric_counts_is_sent() {
    let config = config(json!({
        "destinations": [destination("strict", "drop"), {"name": "open", "client_side_id": "env-open"}],
        "subscriptions": [
            {"name": "Track Event"},
            {"name": "Anonymous", "trigger": "event = \"Signed Up\"",
             "mapping": {"context_kind": "unauthenticatedUser", "user_key": {"@path": "$.anonymousId"},
                         "additional_context_keys": null, "event_name": "Signed Up (anonymous)"},
             "destinations": ["strict"]}
        ]
    }));
    let events = [
        track("Order Completed", json!({"revenue": 10})),
        // Counted by the conversion metric "orders": a warning, sent.
        track("Order Completed", json!({})),
        track("Order Placed", json!({})),
        track("Signed Up", json!({})),
    ];
    let processed = run(&config, &events);
    assert_eq!(sent_to(&processed, "strict"), [0, 1, 3]);
    assert_eq!(sent_to(&processed, "open"), [0, 1, 2, 3]);
    // Dropped for "strict", sent to "open": accepted, and the outcome names only "open".
    let placed = &processed.outcomes[2];
    assert_eq!(placed.status, OutcomeStatus::Accepted);
    assert_eq!(placed.destinations, ["open"]);
    assert_eq!(key_check(&processed, 2, "strict")["sent"], false);
    // The anonymous subscription's event is unknown to "strict" and dropped; the other is sent.
    assert_eq!(processed.outcomes[3].subscriptions, ["Track Event"]);
    assert_eq!(codes(&processed, 3), ["unknown_event_key"]);

    // Only "strict": an event no metric counts is skipped, with the verdict as its reason.
    let strict = config_with_only_strict();
    let events = [
        track("Order Completed", json!({"revenue": 10})),
        json!({"type": "track", "event": "Order Completed", "anonymousId": "anon-1", "properties": {"revenue": 10}}),
        track("Order Placed", json!({})),
    ];
    let processed = run(&strict, &events);
    assert_eq!(sent_to(&processed, "strict"), [0]);
    let uncounted = &processed.outcomes[1];
    assert_eq!(uncounted.status, OutcomeStatus::Skipped);
    assert_eq!(uncounted.reason.as_str(), "no_randomization_unit");
    assert_eq!(
        uncounted.message,
        "not sent: no metric of strict would count it (no_randomization_unit) (unknown_event_keys = \"drop\")"
    );
    assert_eq!(codes(&processed, 1), ["no_randomization_unit"]);
    let unknown = &processed.outcomes[2];
    assert_eq!(unknown.status, OutcomeStatus::Skipped);
    assert_eq!(unknown.reason.as_str(), "unknown_event_key");
    assert_eq!(
        unknown.message,
        "not sent: the event key is not a known metric event key of strict (unknown_event_keys = \"drop\")"
    );
}

/// One destination, "strict", whose mapping sends an event without `userId` as
/// `unauthenticatedUser` only.
fn config_with_only_strict() -> BridgeConfig {
    config(json!({
        "destinations": [destination("strict", "drop")],
        "subscriptions": [{"name": "Track Event",
            "mapping": {"context_kind": {"@if": {"exists": {"@path": "$.userId"}, "then": "user",
                                                 "else": "unauthenticatedUser"}},
                        "additional_context_keys": null}}]
    }))
}

#[test]
fn a_dropped_event_names_each_destination_with_its_reason() {
    let config = config(json!({
        "destinations": [
            destination("a", "drop"),
            {"name": "b", "client_side_id": "env-b", "metric_event_keys": ["Other"], "unknown_event_keys": "drop"},
            destination("c", "drop")
        ]
    }));
    let processed = run(&config, &[track("Order Completed", json!({}))]);
    // "a" and "c": the numeric metric needs a value, but "orders" counts it.
    assert_eq!(sent_to(&processed, "a"), [0]);
    let numeric_only = config_numeric_only();
    let processed = run(&numeric_only, &[track("Order Completed", json!({}))]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Skipped);
    assert_eq!(outcome.reason.as_str(), "numeric_metric_without_value");
    assert_eq!(
        outcome.message,
        "not sent: no metric of a, c would count it (numeric_metric_without_value); the event key is not a known metric event key of b (unknown_event_keys = \"drop\")"
    );
    assert_eq!(
        codes(&processed, 0),
        [
            "numeric_metric_without_value",
            "unknown_event_key",
            "numeric_metric_without_value"
        ]
    );
    assert!(processed.payloads.is_empty());
}

fn config_numeric_only() -> BridgeConfig {
    let numeric = json!([{"key": "revenue", "name": "Revenue", "event_key": "Order Completed",
                          "numeric": true, "randomization_units": ["user"]}]);
    config(json!({
        "destinations": [
            {"name": "a", "client_side_id": "env-a", "metrics": numeric, "unknown_event_keys": "drop"},
            {"name": "b", "client_side_id": "env-b", "metric_event_keys": ["Other"], "unknown_event_keys": "drop"},
            {"name": "c", "client_side_id": "env-c", "metrics": numeric, "unknown_event_keys": "drop"}
        ]
    }))
}

#[test]
fn a_destination_two_subscriptions_drop_for_is_named_once() {
    let config = config(json!({
        "destinations": [destination("strict", "drop")],
        "subscriptions": [{"name": "one"}, {"name": "two"}]
    }));
    let processed = run(&config, &[track("Order Placed", json!({}))]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Skipped);
    assert_eq!(
        outcome.message,
        "not sent: the event key is not a known metric event key of strict (unknown_event_keys = \"drop\")"
    );
    assert_eq!(
        codes(&processed, 0),
        ["unknown_event_key", "unknown_event_key"]
    );
}

#[test]
fn without_a_catalogue_nothing_is_judged() {
    let config = config(json!({"destinations": [{"name": "p", "client_side_id": "env"}]}));
    let processed = run(&config, &[track("Anything", json!({}))]);
    assert!(processed.outcomes[0].warnings.is_empty());
    let trace = serde_json::to_value(&processed.traces[0]).unwrap();
    assert_eq!(trace["subscriptions"][0]["key_checks"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// The README's worked examples ("Will it count?" → "Worked examples"): verdict, then the fix.

/// A metric randomized by `user`; the mapping sends anonymous visitors as `unauthenticatedUser`
/// only.
#[test]
fn worked_example_a_metric_randomized_by_user_and_an_event_with_only_unauthenticated_user() {
    let document = |mapping: Value| {
        json!({
            "destinations": [{"name": "production", "client_side_id": "env-1",
                "metrics": [{"key": "checkout-conversion", "name": "Checkout conversion",
                             "event_key": "Order Completed", "numeric": false,
                             "randomization_units": ["user"]}]}],
            "subscriptions": [{"name": "Track Event", "mapping": mapping}]
        })
    };
    let event = json!({"type": "track", "event": "Order Completed", "userId": "u-1042",
                       "anonymousId": "anon-7"});
    let anonymous = json!({"context_kind": "unauthenticatedUser",
                           "user_key": {"@path": "$.anonymousId"},
                           "additional_context_keys": null});
    let processed = run(&config(document(anonymous)), std::slice::from_ref(&event));
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Accepted);
    assert_eq!(
        serde_json::to_value(&outcome.warnings).unwrap(),
        json!([{"code": "no_randomization_unit",
                "message": "none of the event's context kinds (unauthenticatedUser) is a randomization unit of the conversion metric \"checkout-conversion\" (Checkout conversion, randomized by user) of \"production\" using \"Order Completed\": LaunchDarkly will not attribute it to an experiment (map a context key of a randomization unit's kind)"}])
    );
    // The fix: send the user's key as kind "user" (Segment's preset: userId, else anonymousId),
    // keeping the anonymous id as unauthenticatedUser.
    let processed = run(&config(document(Value::Null)), &[event]);
    assert!(processed.outcomes[0].warnings.is_empty());
    let body: Value = serde_json::from_str(&processed.payloads[0].body).unwrap();
    assert_eq!(
        body[0]["contextKeys"],
        json!({"unauthenticatedUser": "anon-7", "user": "u-1042"})
    );
}

/// A numeric metric fed an event without revenue: the order total is in `properties.total`.
#[test]
fn worked_example_a_numeric_metric_fed_an_event_without_revenue() {
    let document = |mapping: Value| {
        json!({
            "destinations": [{"name": "production", "client_side_id": "env-1",
                "metrics": [{"key": "revenue", "name": "Revenue", "event_key": "Order Completed",
                             "numeric": true, "randomization_units": ["user"],
                             "unit_aggregation_type": "sum"}]}],
            "subscriptions": [{"name": "Track Event", "mapping": mapping}]
        })
    };
    let event = json!({"type": "track", "event": "Order Completed", "userId": "u-1042",
                       "properties": {"total": 45.9}});
    let processed = run(&config(document(Value::Null)), std::slice::from_ref(&event));
    assert_eq!(
        serde_json::to_value(&processed.outcomes[0].warnings).unwrap(),
        json!([{"code": "numeric_metric_without_value",
                "message": "\"Order Completed\" feeds the numeric metric \"revenue\" (Revenue) of \"production\", but the event has no metricValue: a numeric metric does not count it (map metric_value, e.g. to properties.revenue)"}])
    );
    // The fix: map metric_value to where the amount is.
    let fixed = json!({"metric_value": {"@path": "$.properties.total"}});
    let processed = run(&config(document(fixed)), &[event]);
    assert!(processed.outcomes[0].warnings.is_empty());
    let body: Value = serde_json::from_str(&processed.payloads[0].body).unwrap();
    assert_eq!(body[0]["metricValue"], 45.9);
}

// ---------------------------------------------------------------------------------------------
// The CLI: `preview` shows the verdicts, `check` the catalogue and where it was pulled from.

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("segment-ld-bridge-verdicts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}

#[test]
fn preview_shows_the_verdicts_and_check_the_catalogue() {
    let document = json!({
        "destinations": [destination("production", "drop")],
        "sources": [{"name": "web", "write_keys": ["wk"], "default": true}]
    });
    let config_file = temp_file("config.json", &document.to_string());
    let events = json!([
        track("Order Completed", json!({"revenue": 10})),
        track("Order Completed", json!({}))
    ]);
    let events_file = temp_file("events.json", &events.to_string());
    let output = Command::new(env!("CARGO_BIN_EXE_segment-ld-bridge"))
        .args(["preview", events_file.to_str().unwrap(), "--config"])
        .arg(&config_file)
        .args(["--received-at", "1750000000000"])
        .output()
        .expect("the CLI runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["outcomes"][0].get("warnings"), None);
    assert_eq!(
        printed["outcomes"][1]["warnings"][0]["code"],
        "numeric_metric_without_value"
    );
    assert_eq!(printed["outcomes"][1]["status"], "accepted");

    let output = Command::new(env!("CARGO_BIN_EXE_segment-ld-bridge"))
        .args(["check", "--config"])
        .arg(&config_file)
        .output()
        .expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("catalogue of \"production\": 2 event keys, 3 metric definitions; unknown_event_keys = \"drop\"; pulled from project \"default\", environment \"production\" (https://app.launchdarkly.com) at 2026-11-30T13:30:00Z"),
        "{stdout}"
    );
}
