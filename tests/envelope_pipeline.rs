//! The Segment envelope in the pipeline: outcomes, warnings, payloads and the trace for events
//! an `integrations` object, consent, sampling or property filters keep from LaunchDarkly.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

#[path = "common/pipeline.rs"]
mod pipeline_support;

use pipeline_support::{config, run, RECEIVED_AT as T};
use segment_ld_bridge::config::{BridgeConfig, SourceHint};
use segment_ld_bridge::envelope::{sample_position, DropReason};
use segment_ld_bridge::inbound::{read_tracking_call, Limits, TrackingCall};
use segment_ld_bridge::pipeline::{self, Events, Options, OutcomeStatus, Processed};
use serde_json::{json, Value};

fn order(user: &str) -> Value {
    json!({"type": "track", "event": "Order Completed", "userId": user, "anonymousId": "anon-1",
           "messageId": format!("m-{user}"), "timestamp": "2025-01-01T00:00:00Z",
           "properties": {"revenue": 10, "email": "ann@example.com", "plan": "pro",
                          "address": {"city": "Paris", "street": "1 rue X"}}})
}

fn with(mut event: Value, key: &str, value: Value) -> Value {
    event[key] = value;
    event
}

fn sent_events(processed: &Processed, destination: &str) -> Vec<Value> {
    processed
        .payloads
        .iter()
        .filter(|p| p.destination == destination)
        .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.body).unwrap())
        .collect()
}

fn one_destination() -> BridgeConfig {
    config(json!({"destinations": [{"name": "prod", "client_side_id": "env-1"}]}))
}

#[test]
fn launchdarkly_false_skips_the_event_and_nothing_is_sent() {
    let config = one_destination();
    let event = with(order("u-1"), "integrations", json!({"LaunchDarkly": false}));
    let processed = run(&config, &[event]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Skipped);
    assert_eq!(outcome.reason, "disabled_by_integrations");
    assert_eq!(
        outcome.message,
        r#"not sent to "prod": the event's integrations object turns "LaunchDarkly" off"#
    );
    assert!(processed.payloads.is_empty());
    assert!(outcome.warnings.is_empty());
    // Every default name counts; so does All: false, unless a name turns it on again.
    for (integrations, sent) in [
        (json!({"LaunchDarkly (Actions)": false}), false),
        (json!({"segment-ld-bridge": false}), false),
        (json!({"All": false}), false),
        (json!({"All": false, "LaunchDarkly": true}), true),
        (
            json!({"All": false, "LaunchDarkly (Actions)": {"some": "option"}}),
            true,
        ),
        (json!({"launchdarkly": false}), true),
        (json!({"Mixpanel": false}), true),
        (json!({}), true),
    ] {
        let event = with(order("u-1"), "integrations", integrations.clone());
        let processed = run(&config, &[event]);
        assert_eq!(
            processed.payloads.len(),
            usize::from(sent),
            "{integrations}"
        );
        let expected = if sent {
            "track_event"
        } else {
            "disabled_by_integrations"
        };
        assert_eq!(processed.outcomes[0].reason, expected, "{integrations}");
    }
}

#[test]
fn an_event_closed_everywhere_is_not_even_mapped() {
    // No context key: it would be rejected, but Segment would not have handed it to
    // LaunchDarkly at all.
    let config = one_destination();
    let event = json!({"type": "track", "event": "E", "integrations": {"All": false}});
    let processed = run(&config, &[event]);
    assert_eq!(processed.outcomes[0].status, OutcomeStatus::Skipped);
    assert_eq!(processed.outcomes[0].reason, "disabled_by_integrations");
    let trace = &processed.traces[0].subscriptions[0];
    assert!(trace.matched);
    assert_eq!(trace.event, None);
    let rejection = trace.rejection.as_ref().unwrap();
    assert_eq!(rejection.code, "disabled_by_integrations");
    let envelope = trace.envelope.as_ref().unwrap();
    assert_eq!(envelope.destinations[0].destination, "prod");
    assert!(!envelope.destinations[0].passes);
    assert_eq!(envelope.sampling, None);
    assert_eq!(envelope.dropped_properties, None);
}

fn two_destinations() -> BridgeConfig {
    config(json!({
        "destinations": [
            {"name": "prod", "client_side_id": "env-1"},
            {"name": "eu", "client_side_id": "env-2", "integration_names": ["LaunchDarkly EU"],
             "required_consent": ["Analytics"]}
        ]
    }))
}

#[test]
fn skipped_by_one_destination_and_sent_to_another_is_accepted_with_a_warning() {
    let config = two_destinations();
    let consented = json!({"consent": {"categoryPreferences": {"Analytics": true}}});
    let event = with(
        with(order("u-1"), "integrations", json!({"LaunchDarkly": false})),
        "context",
        consented.clone(),
    );
    let processed = run(&config, std::slice::from_ref(&event));
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Accepted);
    assert_eq!(outcome.destinations, ["eu"]);
    assert_eq!(outcome.warnings.len(), 1);
    assert_eq!(outcome.warnings[0].code, "disabled_by_integrations");
    assert!(outcome.warnings[0]
        .message
        .starts_with("not sent to \"prod\""));
    assert!(sent_events(&processed, "prod").is_empty());
    assert_eq!(sent_events(&processed, "eu").len(), 1);
    // The other way round: consent refused for eu, prod takes it.
    let refused = json!({"consent": {"categoryPreferences": {"Analytics": false}}});
    let processed = run(&config, &[with(order("u-1"), "context", refused)]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.destinations, ["prod"]);
    assert_eq!(outcome.warnings[0].code, "no_consent");
    assert_eq!(
        outcome.warnings[0].message,
        r#"not sent to "eu": no consent for "Analytics" (context.consent.categoryPreferences must set each to true)"#
    );
    // Both closed: skipped, with both reasons in order of the destinations.
    let both = with(
        with(order("u-1"), "integrations", json!({"LaunchDarkly": false})),
        "context",
        json!({"consent": {"categoryPreferences": {}}}),
    );
    let processed = run(&config, &[both]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Skipped);
    assert_eq!(outcome.reason, "disabled_by_integrations");
    assert!(outcome.message.contains("not sent to \"prod\""));
    assert!(outcome.message.contains("; not sent to \"eu\": no consent"));
    assert!(processed.payloads.is_empty());
}

#[test]
fn consent_follows_required_categories_and_without_consent() {
    let config = config(json!({
        "destinations": [
            {"name": "lenient", "client_side_id": "env-1", "required_consent": ["Analytics"]},
            {"name": "strict", "client_side_id": "env-2", "required_consent": ["Analytics"],
             "without_consent": "skip"}
        ]
    }));
    let cases = [
        // No consent object: lenient sends (the default), strict skips.
        (json!(null), vec!["lenient"]),
        (json!({"consent": {}}), vec!["lenient"]),
        (
            json!({"consent": {"categoryPreferences": {"Analytics": true}}}),
            vec!["lenient", "strict"],
        ),
        (
            json!({"consent": {"categoryPreferences": {"Analytics": false}}}),
            vec![],
        ),
        (
            json!({"consent": {"categoryPreferences": {"Advertising": true}}}),
            vec![],
        ),
    ];
    for (context, expected) in cases {
        let event = if context.is_null() {
            order("u-1")
        } else {
            with(order("u-1"), "context", context.clone())
        };
        let processed = run(&config, &[event]);
        let destinations: Vec<&str> = processed
            .payloads
            .iter()
            .map(|p| p.destination.as_str())
            .collect();
        assert_eq!(destinations, expected, "{context}");
        if expected.is_empty() {
            assert_eq!(processed.outcomes[0].reason, "no_consent", "{context}");
        } else if expected.len() == 1 {
            assert_eq!(processed.outcomes[0].warnings[0].code, "no_consent");
        }
    }
}

#[test]
fn batch_level_integrations_and_context_count_for_each_item() {
    let config = config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1", "required_consent": ["Analytics"]}],
        "sources": [{"name": "web", "write_keys": ["wk"]}]
    }));
    let body = br#"{"writeKey": "wk", "integrations": {"LaunchDarkly": false},
        "context": {"consent": {"categoryPreferences": {"Analytics": true}}},
        "batch": [
          {"type": "track", "event": "A", "userId": "u"},
          {"type": "track", "event": "B", "userId": "u", "integrations": {}},
          {"type": "track", "event": "C", "userId": "u", "integrations": {}, "context": {}},
          {"type": "track", "event": "D", "userId": "u", "integrations": {},
           "context": {"consent": {"categoryPreferences": {"Analytics": false}}}}
        ]}"#;
    let limits = Limits::SEGMENT;
    let request = read_tracking_call(
        TrackingCall::Batch,
        body,
        &limits,
        config.fields_read(),
        config.properties_read(),
    )
    .unwrap();
    let route = config.route(SourceHint::WriteKey("wk")).unwrap();
    let processed = pipeline::process(
        &config,
        &route,
        Events::Received(&request.received, &limits),
        Options::at(T),
    );
    let reasons: Vec<&str> = processed
        .outcomes
        .iter()
        .map(|o| o.reason.as_str())
        .collect();
    // A takes the batch's integrations; B its own (and the batch's consent); C has no consent
    // object (sent, without_consent is send); D refused consent.
    assert_eq!(
        reasons,
        [
            "disabled_by_integrations",
            "track_event",
            "track_event",
            "no_consent"
        ]
    );
    assert_eq!(processed.payloads[0].event_indexes, [1, 2]);
}

#[test]
fn denied_properties_never_leave_the_bridge_and_the_trace_says_which_and_why() {
    let config = config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [{"name": "Orders", "deny_properties": ["email", "address.street"]}]
    }));
    let processed = run(&config, &[order("u-1")]);
    assert_eq!(processed.outcomes[0].reason, "track_event");
    let body = &processed.payloads[0].body;
    assert!(!body.contains("ann@example.com"), "{body}");
    assert!(!body.contains("1 rue X"), "{body}");
    let sent = &sent_events(&processed, "prod")[0];
    assert_eq!(
        sent["data"],
        json!({"revenue": 10, "plan": "pro", "address": {"city": "Paris"}})
    );
    // The metric value still comes from the event (filters apply to data only).
    assert_eq!(sent["metricValue"], json!(10));
    let envelope = processed.traces[0].subscriptions[0]
        .envelope
        .as_ref()
        .unwrap();
    let dropped = envelope.dropped_properties.as_ref().unwrap();
    assert_eq!(dropped.len(), 2);
    assert_eq!(dropped[0].path, "email");
    assert_eq!(dropped[0].reason, DropReason::Denied);
    assert_eq!(dropped[0].by.as_deref(), Some("email"));
    assert_eq!(dropped[1].path, "address.street");
    // The trace's LaunchDarkly event is the filtered one too.
    let traced = processed.traces[0].subscriptions[0].event.as_ref().unwrap();
    assert_eq!(serde_json::to_value(&traced.data).unwrap(), sent["data"]);
    // The trace serialises the decisions.
    let json = serde_json::to_value(&processed.traces[0]).unwrap();
    assert_eq!(
        json["subscriptions"][0]["envelope"]["dropped_properties"][0],
        json!({"path": "email", "reason": "denied", "by": "email"})
    );
}

#[test]
fn allowed_properties_keep_only_what_they_name() {
    let config = config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [{"name": "Orders", "allow_properties": ["revenue", "address.*"],
                           "deny_properties": ["address.street"]}]
    }));
    let processed = run(&config, &[order("u-1")]);
    assert_eq!(
        sent_events(&processed, "prod")[0]["data"],
        json!({"revenue": 10, "address": {"city": "Paris"}})
    );
    let dropped = processed.traces[0].subscriptions[0]
        .envelope
        .as_ref()
        .unwrap()
        .dropped_properties
        .clone()
        .unwrap();
    let listed: Vec<(&str, DropReason)> = dropped
        .iter()
        .map(|d| (d.path.as_str(), d.reason))
        .collect();
    assert_eq!(
        listed,
        [
            ("email", DropReason::NotAllowed),
            ("plan", DropReason::NotAllowed),
            ("address.street", DropReason::Denied)
        ]
    );
}

#[test]
fn filters_apply_to_mapped_data_per_subscription() {
    let config = config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [
            {"name": "Filtered", "deny_properties": ["who.email"],
             "mapping": {"event_properties": {"who": {"email": {"@path": "$.properties.email"},
                                                       "plan": {"@path": "$.properties.plan"}}}}},
            {"name": "Plain", "mapping": {"event_name": "plain"}}
        ]
    }));
    let processed = run(&config, &[order("u-1")]);
    let sent = sent_events(&processed, "prod");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["data"], json!({"who": {"plan": "pro"}}));
    assert_eq!(sent[1]["data"]["email"], json!("ann@example.com"));
}

#[test]
fn payload_ids_stay_deterministic_and_skipped_events_are_in_no_payload() {
    let config = config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [{"name": "Orders", "deny_properties": ["email"]}]
    }));
    let events = [
        order("u-1"),
        with(order("u-2"), "integrations", json!({"LaunchDarkly": false})),
        order("u-3"),
    ];
    let first = run(&config, &events);
    let again = run(&config, &events);
    assert_eq!(first.payloads.len(), 1);
    assert_eq!(first.payloads[0].payload_id, again.payloads[0].payload_id);
    assert_eq!(first.payloads[0].body, again.payloads[0].body);
    assert_eq!(first.payloads[0].event_indexes, [0, 2]);
    assert!(!first.payloads[0].body.contains("u-2"));
    // The same events without the skipped one: the same payload.
    let without = run(&config, &[order("u-1"), order("u-3")]);
    assert_eq!(without.payloads[0].body, first.payloads[0].body);
    assert_eq!(without.payloads[0].payload_id, first.payloads[0].payload_id);
}

fn sampled(rate: f64) -> BridgeConfig {
    config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [{"name": "Orders", "sample_rate": rate}]
    }))
}

#[test]
fn sampling_keeps_the_same_users_every_time() {
    let users: Vec<String> = (0..300).map(|n| format!("user-{n}")).collect();
    let events: Vec<Value> = users.iter().map(|user| order(user)).collect();
    let half = run(&sampled(0.5), &events);
    for (user, outcome) in users.iter().zip(&half.outcomes) {
        let kept = sample_position(user) < 0.5;
        let expected = if kept { "track_event" } else { "sampled_out" };
        assert_eq!(outcome.reason, expected, "{user}");
    }
    let kept = half.count(OutcomeStatus::Accepted);
    assert!((120..180).contains(&kept), "{kept}");
    // The same users, again and in another order: the same verdicts.
    let mut reversed = events.clone();
    reversed.reverse();
    let again = run(&sampled(0.5), &reversed);
    for (outcome, back) in half.outcomes.iter().zip(again.outcomes.iter().rev()) {
        assert_eq!(outcome.reason, back.reason);
    }
    // Everyone at 1, no one at 0.
    assert_eq!(
        run(&sampled(1.0), &events).count(OutcomeStatus::Accepted),
        300
    );
    let none = run(&sampled(0.0), &events);
    assert_eq!(none.count(OutcomeStatus::Skipped), 300);
    assert!(none.payloads.is_empty());
    let outcome = &none.outcomes[0];
    assert_eq!(outcome.reason, "sampled_out");
    assert!(
        outcome
            .message
            .starts_with("sampled out: context key \"user-0\""),
        "{}",
        outcome.message
    );
    // The trace shows the verdict, and the event that was made.
    let subscription = &none.traces[0].subscriptions[0];
    let decision = subscription
        .envelope
        .as_ref()
        .unwrap()
        .sampling
        .as_ref()
        .unwrap();
    assert_eq!(decision.context_key, "user-0");
    assert_eq!(decision.position, sample_position("user-0"));
    assert!(!decision.kept);
    assert!(subscription.event.is_some());
}

#[test]
fn the_key_of_the_mappings_context_kind_decides_not_the_anonymous_id() {
    // One user on two devices: always in or always out together.
    let config = sampled(0.5);
    for user in ["user-1", "user-2", "user-3", "user-4"] {
        let devices = [
            with(order(user), "anonymousId", json!("device-a")),
            with(order(user), "anonymousId", json!("device-b")),
        ];
        let processed = run(&config, &devices);
        assert_eq!(
            processed.outcomes[0].reason, processed.outcomes[1].reason,
            "{user}"
        );
    }
    // With another context kind, that kind's key decides.
    let accounts = config_with_kind();
    let event = with(order("user-1"), "properties", json!({"account": "acme"}));
    let processed = run(&accounts, &[event]);
    let decision = processed.traces[0].subscriptions[0]
        .envelope
        .as_ref()
        .unwrap()
        .sampling
        .clone()
        .unwrap();
    assert_eq!(decision.context_key, "acme");
}

fn config_with_kind() -> BridgeConfig {
    config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [{"name": "Accounts", "sample_rate": 0.5,
                           "mapping": {"context_kind": "account",
                                       "user_key": {"@path": "$.properties.account"}}}]
    }))
}

#[test]
fn a_sampled_out_subscription_warns_when_another_sends() {
    let config = config(json!({
        "destinations": [{"name": "prod", "client_side_id": "env-1"}],
        "subscriptions": [
            {"name": "Sampled", "sample_rate": 0},
            {"name": "All", "mapping": {"event_name": "all"}}
        ]
    }));
    let processed = run(&config, &[order("u-1")]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Accepted);
    assert_eq!(outcome.subscriptions, ["All"]);
    assert_eq!(outcome.warnings.len(), 1);
    assert_eq!(outcome.warnings[0].code, "sampled_out");
    assert!(outcome.warnings[0]
        .message
        .starts_with("subscription \"Sampled\": sampled out"));
    assert_eq!(sent_events(&processed, "prod").len(), 1);
}

#[test]
fn a_rejection_stays_a_rejection_and_the_envelope_adds_warnings() {
    let config = config(json!({
        "destinations": [
            {"name": "prod", "client_side_id": "env-1"},
            {"name": "other", "client_side_id": "env-2", "integration_names": ["Other"]}
        ],
        "subscriptions": [
            {"name": "Prod only", "destinations": ["prod"]},
            {"name": "Broken", "destinations": ["other"],
             "mapping": {"metric_value": {"@path": "$.properties.plan"}}}
        ]
    }));
    let event = with(order("u-1"), "integrations", json!({"LaunchDarkly": false}));
    let processed = run(&config, &[event]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Rejected);
    assert_eq!(outcome.reason, "invalid_metric_value");
    assert_eq!(outcome.warnings.len(), 1);
    assert_eq!(outcome.warnings[0].code, "disabled_by_integrations");
}

#[test]
fn without_envelope_settings_the_trace_shows_open_gates_only() {
    let config = one_destination();
    let processed = run(&config, &[order("u-1")]);
    let envelope = processed.traces[0].subscriptions[0]
        .envelope
        .as_ref()
        .unwrap();
    assert!(envelope.destinations[0].passes);
    assert_eq!(
        serde_json::to_value(envelope).unwrap(),
        json!({"destinations": [{"destination": "prod", "integrations": {"result": "default"},
                                 "consent": {"result": "not_checked"}, "passes": true}]})
    );
    // Without a trace, the same outcome and payload.
    let untraced = pipeline::process(
        &config,
        &pipeline::every_destination(&config),
        Events::Parsed(&[order("u-1")]),
        Options::at(T),
    );
    assert_eq!(untraced.outcomes, processed.outcomes);
    assert_eq!(untraced.payloads, processed.payloads);
    // An unmatched subscription has no envelope in its trace.
    let page = run(&config, &[json!({"type": "page", "userId": "u"})]);
    assert_eq!(page.traces[0].subscriptions[0].envelope, None);
}

#[test]
fn the_catalogue_is_not_asked_about_destinations_the_envelope_closed() {
    let config = config(json!({
        "destinations": [
            {"name": "prod", "client_side_id": "env-1", "metric_event_keys": ["Signed Up"]},
            {"name": "other", "client_side_id": "env-2", "integration_names": []}
        ]
    }));
    let event = with(order("u-1"), "integrations", json!({"All": false}));
    let processed = run(&config, &[event]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.destinations, ["other"]);
    let codes: Vec<&str> = outcome.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["disabled_by_integrations"]);
}
