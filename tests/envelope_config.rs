//! The Segment envelope's settings in the configuration document: defaults, values, every
//! problem at its location, the warnings, and the summary.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::{read_document, BridgeConfig, ConfigProblem, VAR_BRIDGE_CONFIG};
use segment_ld_bridge::envelope::{WithoutConsent, DEFAULT_INTEGRATION_NAMES};
use serde_json::{json, Value};

fn problems(document: Value) -> Vec<(String, String)> {
    read_document(&document)
        .err()
        .unwrap_or_else(|| panic!("{document} has problems"))
        .into_iter()
        .map(|p| (p.location, p.message))
        .collect()
}

fn locations(document: Value) -> Vec<String> {
    problems(document)
        .into_iter()
        .map(|(location, _)| location)
        .collect()
}

fn with_destination(extra: Value) -> Value {
    let mut destination = json!({"name": "prod", "client_side_id": "env-1"});
    for (key, value) in extra.as_object().unwrap() {
        destination[key] = value.clone();
    }
    json!({"destinations": [destination]})
}

fn with_subscription(extra: Value) -> Value {
    let mut subscription = json!({"name": "Orders"});
    for (key, value) in extra.as_object().unwrap() {
        subscription[key] = value.clone();
    }
    json!({"destinations": [{"name": "prod", "client_side_id": "env-1"}],
           "subscriptions": [subscription]})
}

#[test]
fn without_settings_the_envelope_has_its_defaults_and_costs_nothing() {
    let config = read_document(&with_destination(json!({}))).unwrap();
    let rules = &config.destinations[0].envelope;
    assert_eq!(rules.integration_names, DEFAULT_INTEGRATION_NAMES);
    assert!(rules.required_consent.is_empty());
    assert_eq!(rules.without_consent, WithoutConsent::Send);
    assert!(!rules.checks_consent());
    let subscription = &config.subscriptions[0];
    assert_eq!(subscription.envelope.filter, None);
    assert_eq!(subscription.envelope.sampling, None);
    // An empty deny list is no filter either.
    let config = read_document(&with_subscription(json!({"deny_properties": []}))).unwrap();
    assert_eq!(config.subscriptions[0].envelope.filter, None);
}

#[test]
fn destination_settings_are_read() {
    let config = read_document(&with_destination(json!({
        "integration_names": ["LaunchDarkly EU", "Webhooks"],
        "required_consent": ["Analytics", "DataSharing"],
        "without_consent": "skip"
    })))
    .unwrap();
    let rules = &config.destinations[0].envelope;
    assert_eq!(rules.integration_names, ["LaunchDarkly EU", "Webhooks"]);
    assert_eq!(rules.required_consent, ["Analytics", "DataSharing"]);
    assert_eq!(rules.without_consent, WithoutConsent::Skip);
    // [] ignores the integrations object; "send" is the default written out.
    let config = read_document(&with_destination(json!({
        "integration_names": [], "without_consent": "send"
    })))
    .unwrap();
    assert!(config.destinations[0].envelope.integration_names.is_empty());
    assert_eq!(
        config.destinations[0].envelope.without_consent,
        WithoutConsent::Send
    );
    assert!(config.warnings.is_empty());
}

#[test]
fn destination_problems_are_located() {
    let found = problems(with_destination(json!({
        "integration_names": ["LaunchDarkly", 7, "All", ""],
        "required_consent": "Analytics",
        "without_consent": "maybe"
    })));
    assert_eq!(
        found,
        [
            (
                "destinations[0].integration_names[1]".to_string(),
                "must be a string, not a number".to_string()
            ),
            (
                "destinations[0].integration_names[2]".to_string(),
                "\"All\" is Segment's switch for every destination, not a destination's name: list the names events use for this destination ([] ignores the integrations object)".to_string()
            ),
            (
                "destinations[0].integration_names[3]".to_string(),
                "must not be empty".to_string()
            ),
            (
                "destinations[0].required_consent".to_string(),
                "must be an array of strings, not a string".to_string()
            ),
            (
                "destinations[0].without_consent".to_string(),
                "\"maybe\" is not a choice; use \"send\" (the default: events without consent preferences are sent) or \"skip\"".to_string()
            ),
        ]
    );
    assert_eq!(
        locations(with_destination(
            json!({"required_consent": ["Analytics", " "], "without_consent": true})
        )),
        [
            "destinations[0].required_consent[1]",
            "destinations[0].without_consent"
        ]
    );
    assert_eq!(
        locations(with_destination(
            json!({"integration_names": {"LaunchDarkly": true}})
        )),
        ["destinations[0].integration_names"]
    );
}

#[test]
fn names_with_spaces_at_their_ends_are_warned_about() {
    let config = read_document(&with_destination(json!({
        "integration_names": ["LaunchDarkly "], "required_consent": [" Analytics"]
    })))
    .unwrap();
    let warnings: Vec<&str> = config
        .warnings
        .iter()
        .map(|w| w.location.as_str())
        .collect();
    assert_eq!(
        warnings,
        [
            "destinations[0].integration_names[0]",
            "destinations[0].required_consent[0]"
        ]
    );
    assert!(config.warnings[0].message.contains("matched exactly"));
}

#[test]
fn subscription_settings_are_read() {
    let config = read_document(&with_subscription(json!({
        "allow_properties": ["revenue", "address.*"],
        "deny_properties": ["address.street"],
        "sample_rate": 0.25
    })))
    .unwrap();
    let rules = &config.subscriptions[0].envelope;
    let filter = rules.filter.as_ref().unwrap();
    let allow: Vec<&str> = filter.allow().unwrap().iter().map(|p| p.as_str()).collect();
    assert_eq!(allow, ["revenue", "address.*"]);
    assert_eq!(filter.deny()[0].as_str(), "address.street");
    let sampling = rules.sampling.as_ref().unwrap();
    assert_eq!(sampling.rate, 0.25);
    assert_eq!(sampling.context_kind.as_deref(), Some("user"));
    // The bounds are included; an integer is a number; an empty allow list keeps nothing.
    for rate in [json!(0), json!(1), json!(0.0), json!(1.0)] {
        let config = read_document(&with_subscription(json!({"sample_rate": rate}))).unwrap();
        assert!(
            config.subscriptions[0].envelope.sampling.is_some(),
            "{rate}"
        );
    }
    let config = read_document(&with_subscription(
        json!({"allow_properties": [], "sample_rate": null}),
    ))
    .unwrap();
    assert_eq!(
        config.subscriptions[0]
            .envelope
            .filter
            .as_ref()
            .unwrap()
            .allow()
            .map(<[_]>::len),
        Some(0)
    );
    assert_eq!(config.subscriptions[0].envelope.sampling, None);
    // The sampled key is the mapping's context kind's.
    let config = read_document(&with_subscription(json!({
        "sample_rate": 0.5, "mapping": {"context_kind": "account"}
    })))
    .unwrap();
    assert_eq!(
        config.subscriptions[0]
            .envelope
            .sampling
            .as_ref()
            .unwrap()
            .context_kind
            .as_deref(),
        Some("account")
    );
}

#[test]
fn subscription_problems_are_located() {
    let found = problems(with_subscription(json!({
        "allow_properties": ["ok", "a..b", 3, "ad*"],
        "deny_properties": [""],
        "sample_rate": 1.5
    })));
    let expected: Vec<(&str, &str)> = vec![
        (
            "subscriptions[0].allow_properties[2]",
            "must be a string, not a number",
        ),
        (
            "subscriptions[0].allow_properties[1]",
            "\"a..b\" has an empty part (two dots in a row, or a dot at an end)",
        ),
        (
            "subscriptions[0].allow_properties[3]",
            "\"ad*\": '*' stands for one whole key (address.*, *.email), not for part of one",
        ),
        (
            "subscriptions[0].deny_properties[0]",
            "must not be empty: write a property name, or a dot path such as address.city",
        ),
        (
            "subscriptions[0].sample_rate",
            "1.5 is out of range: a share from 0 (send none) to 1 (send all)",
        ),
    ];
    assert_eq!(
        found,
        expected
            .into_iter()
            .map(|(l, m)| (l.to_string(), m.to_string()))
            .collect::<Vec<_>>()
    );
    for (rate, message) in [
        (
            json!(-0.1),
            "-0.1 is out of range: a share from 0 (send none) to 1 (send all)",
        ),
        (
            json!("0.5"),
            "must be a number from 0 (send none) to 1 (send all), not a string",
        ),
        (
            json!(true),
            "must be a number from 0 (send none) to 1 (send all), not a boolean",
        ),
    ] {
        assert_eq!(
            problems(with_subscription(json!({"sample_rate": rate}))),
            [(
                "subscriptions[0].sample_rate".to_string(),
                message.to_string()
            )]
        );
    }
    assert_eq!(
        locations(with_subscription(json!({"deny_properties": "email"}))),
        ["subscriptions[0].deny_properties"]
    );
}

#[test]
fn a_path_through_properties_is_warned_about_when_data_is_the_properties() {
    let config = read_document(&with_subscription(json!({
        "deny_properties": ["properties.email", "email"]
    })))
    .unwrap();
    assert_eq!(config.warnings.len(), 1);
    assert_eq!(
        config.warnings[0].location,
        "subscriptions[0].deny_properties[0]"
    );
    assert!(
        config.warnings[0]
            .message
            .contains("did you mean \"email\""),
        "{}",
        config.warnings[0].message
    );
    // With a mapping that makes data something else, `properties` may be a real key.
    let config = read_document(&with_subscription(json!({
        "allow_properties": ["properties.email"],
        "mapping": {"event_properties": {"properties": {"@path": "$.properties"}}}
    })))
    .unwrap();
    assert!(config.warnings.is_empty());
}

#[test]
fn problems_in_bridge_config_are_located_under_it() {
    let document = with_destination(json!({"without_consent": "never"}));
    let problems =
        BridgeConfig::from_vars(|name| (name == VAR_BRIDGE_CONFIG).then(|| document.to_string()))
            .unwrap_err();
    assert!(problems
        .iter()
        .any(|p: &ConfigProblem| p.location == "BRIDGE_CONFIG.destinations[0].without_consent"));
}

#[test]
fn unknown_settings_name_the_new_ones() {
    let found = problems(with_subscription(json!({"sample": 0.5})));
    assert_eq!(found[0].0, "subscriptions[0].sample");
    assert!(
        found[0]
            .1
            .contains("allow_properties, deny_properties, sample_rate"),
        "{}",
        found[0].1
    );
    let found = problems(with_destination(json!({"consent": ["A"]})));
    assert!(
        found[0]
            .1
            .contains("integration_names, required_consent, without_consent"),
        "{}",
        found[0].1
    );
}

#[test]
fn the_summary_shows_the_settings() {
    let mut document = with_subscription(json!({
        "allow_properties": ["revenue"], "deny_properties": ["email"], "sample_rate": 0.5
    }));
    document["destinations"][0]["required_consent"] = json!(["Analytics"]);
    let config = read_document(&document).unwrap();
    let summary = config.summary();
    assert_eq!(
        summary["destinations"][0]["integration_names"],
        json!(DEFAULT_INTEGRATION_NAMES)
    );
    assert_eq!(
        summary["destinations"][0]["required_consent"],
        json!(["Analytics"])
    );
    assert_eq!(summary["destinations"][0]["without_consent"], json!("send"));
    let subscription = &summary["subscriptions"][0];
    assert_eq!(subscription["allow_properties"], json!(["revenue"]));
    assert_eq!(subscription["deny_properties"], json!(["email"]));
    assert_eq!(subscription["sample_rate"], json!(0.5));
    let plain = read_document(&with_destination(json!({})))
        .unwrap()
        .summary();
    let subscription = &plain["subscriptions"][0];
    assert_eq!(subscription["allow_properties"], Value::Null);
    assert_eq!(subscription["deny_properties"], json!([]));
    assert_eq!(subscription["sample_rate"], Value::Null);
}
