//! The playground's browser bindings (src/playground.rs), in headless Chromium:
//! `wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver --mode no-install
//!  -- --no-default-features --features playground --test wasm_playground`.
#![cfg(all(target_arch = "wasm32", feature = "playground"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::read_document;
use segment_ld_bridge::pipeline;
use segment_ld_bridge::playground::{import_mapping, parse_json, preset, run, version};
use segment_ld_bridge::track_event::{preset_fields, FIELDS};
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const RECEIVED_AT: f64 = 1_750_000_000_000.0;

/// A JavaScript answer as JSON (through the browser's own JSON.stringify: plain objects only).
fn json_of(value: JsValue) -> Value {
    let text = js_sys::JSON::stringify(&value)
        .expect("the bindings answer plain, serializable objects")
        .as_string()
        .expect("a string");
    serde_json::from_str(&text).expect("JSON")
}

fn run_json(config: &Value, events: &Value) -> Value {
    json_of(run(
        &config.to_string(),
        &events.to_string(),
        None,
        Some(RECEIVED_AT),
    ))
}

fn one_destination() -> Value {
    json!({"destinations": [{"name": "production", "client_side_id": "env-1", "events_host": "us"}]})
}

fn purchase() -> Value {
    json!({
        "type": "track",
        "event": "Order Completed",
        "userId": "u-1",
        "anonymousId": "anon-1",
        "messageId": "m-1",
        "timestamp": "2024-05-06T07:08:09.123Z",
        "properties": {"revenue": 39.95, "value": 3, "total": "120.50"}
    })
}

fn field<'a>(answer: &'a Value, event: usize, subscription: usize, name: &str) -> &'a Value {
    answer["events"][event]["subscriptions"][subscription]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["field"] == name)
        .expect("the field")
}

fn locations(answer: &Value) -> Vec<String> {
    answer["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["location"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[wasm_bindgen_test]
fn preset_is_segments_track_event_preset() {
    let preset = json_of(preset());
    assert_eq!(preset["trigger"], "type = \"track\"");
    assert_eq!(preset["subscription_name"], "Track Event");
    assert_eq!(preset["mapping"], Value::Object(preset_fields()));
    let names: Vec<&str> = preset["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, FIELDS);
    let event_name = &preset["fields"][3];
    assert_eq!(event_name["label"], "Event Name");
    assert_eq!(event_name["output"], "key");
    assert_eq!(event_name["required"], true);
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn run_gives_the_exact_request_the_pipeline_plans() {
    let config = one_destination();
    let answer = run_json(&config, &purchase());
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["problems"], json!([]));
    assert_eq!(
        answer["counts"],
        json!({"received": 1, "accepted": 1, "skipped": 0, "rejected": 0})
    );
    let planned = pipeline::process(
        &read_document(&config).expect("valid"),
        &pipeline::every_destination(&read_document(&config).expect("valid")),
        pipeline::Events::Parsed(&[purchase()]),
        pipeline::Options::at(RECEIVED_AT as i64),
    );
    let request = &planned.payloads[0];
    let delivery = &answer["deliveries"][0];
    assert_eq!(delivery["destination"], "production");
    assert_eq!(delivery["method"], "POST");
    assert_eq!(
        delivery["url"],
        "https://events.launchdarkly.com/events/bulk/env-1"
    );
    assert_eq!(delivery["url"], request.url.as_str());
    assert_eq!(delivery["body"], request.body.as_str());
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    assert_eq!(delivery["headers"], json!(headers));
    assert_eq!(delivery["event_indexes"], json!([0]));
    let body: Value = serde_json::from_str(delivery["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!([{
            "kind": "custom",
            "key": "Order Completed",
            "contextKeys": {"unauthenticatedUser": "anon-1", "user": "u-1"},
            "creationDate": 1714979289123_i64,
            "metricValue": 39.95,
            "data": {"revenue": 39.95, "value": 3, "total": "120.50"}
        }])
    );
    assert_eq!(
        answer["outcomes"],
        serde_json::to_value(&planned.outcomes).unwrap()
    );
    assert_eq!(answer["events"][0]["subscriptions"][0]["event"], body[0]);
}

#[wasm_bindgen_test]
fn provenance_names_the_path_and_the_branch_taken() {
    let answer = run_json(&one_destination(), &purchase());
    let metric = field(&answer, 0, 0, "metric_value");
    assert_eq!(
        metric["via"],
        "@if exists(@path $.properties.revenue) → then: @path $.properties.revenue"
    );
    assert_eq!(metric["output"], "metricValue");
    assert_eq!(metric["value"], 39.95);
    assert_eq!(metric["customized"], false);
    assert_eq!(
        metric["mapping"],
        preset_fields().get("metric_value").cloned().unwrap()
    );
    let key = field(&answer, 0, 0, "user_key");
    assert_eq!(
        key["via"],
        "@if exists(@path $.userId) → then: @path $.userId"
    );
    assert_eq!(key["output"], "contextKeys.user");
    assert_eq!(field(&answer, 0, 0, "event_name")["via"], "@path $.event");
    assert_eq!(field(&answer, 0, 0, "event_name")["output"], "key");
    assert_eq!(
        field(&answer, 0, 0, "additional_context_keys")["output"],
        "contextKeys.unauthenticatedUser"
    );
    assert_eq!(
        field(&answer, 0, 0, "context_kind")["via"],
        "the constant \"user\""
    );
    assert_eq!(
        field(&answer, 0, 0, "timestamp")["note"],
        "1714979289123 (Unix ms)"
    );

    // The else branches: no revenue, no userId (null does not exist for `@if exists`).
    let mut event = purchase();
    event["properties"] = json!({"value": "25"});
    event["userId"] = Value::Null;
    let answer = run_json(&one_destination(), &event);
    let metric = field(&answer, 0, 0, "metric_value");
    assert_eq!(
        metric["via"],
        "@if exists(@path $.properties.revenue) → else: @path $.properties.value"
    );
    assert_eq!(metric["value"], "25");
    assert!(metric["note"]
        .as_str()
        .unwrap()
        .contains("numeric string \"25\" is sent as a number"));
    let key = field(&answer, 0, 0, "user_key");
    assert_eq!(
        key["via"],
        "@if exists(@path $.userId) → else: @path $.anonymousId"
    );
    // `@if exists` falls back from a null userId by itself (the via says so): no note.
    assert!(key.get("note").is_none_or(Value::is_null), "{key}");
    let body: Value =
        serde_json::from_str(answer["deliveries"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body[0]["metricValue"], 25);
    assert_eq!(
        body[0]["contextKeys"],
        json!({"unauthenticatedUser": "anon-1", "user": "anon-1"})
    );
}

#[wasm_bindgen_test]
fn provenance_follows_custom_fields_and_says_what_is_missing() {
    let config = json!({
        "destinations": [{"name": "production", "client_side_id": "env-1"}],
        "subscriptions": [{"name": "Accounts", "trigger": "type = \"track\"", "mapping": {
            "context_kind": "account",
            "metric_value": {"@path": "$.properties.total"},
            "event_properties": null,
            "timestamp": {"@path": "$.sentAt"}
        }}]
    });
    let answer = run_json(&config, &purchase());
    assert_eq!(answer["ok"], true, "{answer}");
    let metric = field(&answer, 0, 0, "metric_value");
    assert_eq!(metric["via"], "@path $.properties.total");
    assert_eq!(metric["customized"], true);
    assert_eq!(
        field(&answer, 0, 0, "user_key")["output"],
        "contextKeys.account"
    );
    let properties = field(&answer, 0, 0, "event_properties");
    assert_eq!(properties["via"], "unmapped");
    assert_eq!(properties["state"], "missing");
    assert_eq!(properties["note"], "not mapped: data is {}");
    let timestamp = field(&answer, 0, 0, "timestamp");
    assert_eq!(timestamp["state"], "missing");
    assert_eq!(
        timestamp["note"],
        "no value: creationDate is the receive time"
    );
    let event = &answer["events"][0]["subscriptions"][0]["event"];
    assert_eq!(event["creationDate"], RECEIVED_AT as i64);
    assert_eq!(event["metricValue"], 120.5);
    assert_eq!(event["data"], json!({}));
}

#[wasm_bindgen_test]
fn rejections_and_skips_say_why() {
    let events = json!([
        {"type": "track", "event": "Order Completed", "messageId": "x", "properties": {"revenue": "lots"}},
        {"type": "page", "name": "Pricing", "userId": "u-1"},
        {"type": "track", "event": "Order Completed", "userId": "u-1", "properties": {"revenue": "lots"}},
        42
    ]);
    let answer = run_json(&one_destination(), &events);
    assert_eq!(answer["ok"], true, "{answer}");
    let outcomes = answer["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[0]["status"], "rejected");
    assert_eq!(outcomes[0]["reason"], "missing_context_key");
    assert_eq!(outcomes[1]["status"], "skipped");
    assert_eq!(outcomes[1]["reason"], "not_a_track_event");
    assert_eq!(outcomes[2]["reason"], "invalid_metric_value");
    assert_eq!(outcomes[3]["reason"], "invalid_event");
    assert_eq!(answer["deliveries"], json!([]));
    let rejected = &answer["events"][0]["subscriptions"][0];
    assert_eq!(rejected["rejection"]["code"], "missing_context_key");
    assert_eq!(
        field(&answer, 0, 0, "user_key")["note"],
        "no value: the event is rejected (no context key)"
    );
    assert_eq!(
        field(&answer, 2, 0, "metric_value")["note"],
        "the event is rejected: Metric Value must be a number but it was a string."
    );
    let page = &answer["events"][1]["subscriptions"][0];
    assert_eq!(page["matched"], false);
    assert_eq!(page["failed"][0]["condition"], "type = \"track\"");
    assert_eq!(page["failed"][0]["actual"], "\"page\"");
    assert!(answer["events"][3]["subscriptions"][0]
        .get("failed")
        .is_none());
}

#[wasm_bindgen_test]
fn metric_keys_are_checked_exactly_with_near_misses() {
    let config = json!({"destinations": [
        {"name": "production", "client_side_id": "env-1",
         "metric_event_keys": ["Order Completed", "Signed Up", "checkout-started"]},
        {"name": "strict", "client_side_id": "env-2",
         "metric_event_keys": ["Order Completed"], "unknown_event_keys": "drop"}
    ]});
    let events = json!([
        {"type": "track", "event": "Order Completed", "userId": "u"},
        {"type": "track", "event": "order completed", "userId": "u"},
        {"type": "track", "event": "checkout_started ", "userId": "u"},
        {"type": "track", "event": "Something Else", "userId": "u"}
    ]);
    let answer = run_json(&config, &events);
    let checks = answer["key_checks"].as_array().unwrap();
    let of = |index: usize, destination: &str| {
        checks
            .iter()
            .find(|c| c["event_index"] == index && c["destination"] == destination)
            .unwrap_or_else(|| panic!("check {index} {destination}"))
    };
    assert_eq!(of(0, "production")["result"], "known");
    assert_eq!(of(1, "production")["result"], "near_miss");
    assert_eq!(of(1, "production")["suggestion"], "Order Completed");
    assert_eq!(of(1, "production")["difference"], "case");
    assert_eq!(of(1, "production")["sent"], true);
    assert_eq!(of(1, "strict")["sent"], false);
    assert_eq!(of(2, "production")["suggestion"], "checkout-started");
    assert_eq!(of(2, "production")["difference"], "whitespace, punctuation");
    assert_eq!(of(3, "production")["result"], "unknown");
    let near_miss = &answer["outcomes"][1]["warnings"][0];
    assert_eq!(near_miss["code"], "event_key_near_miss");
    assert!(near_miss["message"]
        .as_str()
        .unwrap()
        .contains("but \"Order Completed\" is (differs in case)"));
    assert_eq!(
        answer["catalogues"][0]["unfed"],
        json!(["Signed Up", "checkout-started"])
    );
    assert_eq!(answer["catalogues"][1]["unknown_event_keys"], "drop");
    // The strict destination only receives the known key.
    let strict = answer["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["destination"] == "strict")
        .unwrap();
    assert_eq!(strict["event_indexes"], json!([0]));
}

#[wasm_bindgen_test]
fn problems_are_located_where_they_are() {
    let config = json!({
        "destinations": [{"name": "production", "client_side_id": "has space", "events_host": "ftp://x"}],
        "subscriptions": [{
            "name": "Track Event",
            "trigger": "type = \"track\" and (",
            "destinations": ["staging"],
            "mapping": {
                "event_name": {"@path": 42},
                "user_key": null,
                "eventName": "x",
                "metric_value": {"@if": {"exists": {"@path": "$.a"}, "then": {"@template": 1}}}
            }
        }]
    });
    let answer = run_json(&config, &json!({"type": "track"}));
    assert_eq!(answer["ok"], false);
    let found = locations(&answer);
    for expected in [
        "destinations[0].client_side_id",
        "destinations[0].events_host",
        "subscriptions[0].trigger",
        "subscriptions[0].destinations[0]",
        "subscriptions[0].mapping.event_name",
        "subscriptions[0].mapping.user_key",
        "subscriptions[0].mapping.eventName",
        "subscriptions[0].mapping.metric_value",
    ] {
        assert!(
            found.iter().any(|l| l == expected),
            "{expected} in {found:?}"
        );
    }
    assert!(
        !found.iter().any(|l| l == "subscriptions[0].mapping"),
        "the whole-mapping problem is replaced by the located ones: {found:?}"
    );
    let event_name = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["location"] == "subscriptions[0].mapping.event_name")
        .unwrap();
    assert_eq!(
        event_name["message"],
        "/@path should be a string or a mapping directive but it is a number."
    );
    let metric = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["location"] == "subscriptions[0].mapping.metric_value")
        .unwrap();
    assert!(metric["message"]
        .as_str()
        .unwrap()
        .starts_with("/@if/then/@template "));
}

#[wasm_bindgen_test]
fn json_syntax_errors_have_a_line_and_column() {
    let answer = json_of(run(
        "{\"destinations\": [",
        "{\"type\": \"track\",\n \"event\": }",
        None,
        Some(RECEIVED_AT),
    ));
    assert_eq!(answer["ok"], false);
    let problems = answer["problems"].as_array().unwrap();
    assert_eq!(problems[0]["location"], "config");
    assert_eq!(problems[1]["location"], "event");
    assert_eq!(problems[1]["line"], 2);
    assert_eq!(problems[1]["column"], 11);
    assert!(problems[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("not valid JSON: expected value"));

    let config = one_destination().to_string();
    let empty = json_of(run(&config, "  ", None, None));
    assert_eq!(
        empty["problems"][0]["message"],
        "empty: write a Segment event, or pick a sample"
    );
    let no_events = json_of(run(&config, "[]", None, None));
    assert_eq!(
        no_events["problems"][0]["message"],
        "no events: the array is empty"
    );
    let not_events = json_of(run(&config, "\"hello\"", None, None));
    assert_eq!(not_events["problems"][0]["location"], "event");
    assert!(not_events["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("the request body is a string"));

    assert_eq!(
        json_of(parse_json("[1, {\"a\": null}]"))["value"],
        json!([1, {"a": null}])
    );
    let bad = json_of(parse_json("{\n  \"a\": 1,\n}"));
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["line"], 3);
}

#[wasm_bindgen_test]
fn sources_route_like_the_worker() {
    let config = json!({
        "destinations": [
            {"name": "staging", "client_side_id": "env-s"},
            {"name": "production", "client_side_id": "env-p"}
        ],
        "sources": [{"name": "web", "source_ids": ["web"], "destinations": ["production"]}]
    })
    .to_string();
    let event = purchase().to_string();
    let routed = json_of(run(&config, &event, Some("web".into()), Some(RECEIVED_AT)));
    assert_eq!(
        routed["route"],
        json!({"source": "web", "destinations": ["production"]})
    );
    assert_eq!(routed["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(routed["deliveries"][0]["destination"], "production");
    let unknown = json_of(run(&config, &event, Some("ios".into()), Some(RECEIVED_AT)));
    assert_eq!(unknown["problems"][0]["location"], "source");
    assert_eq!(unknown["problems"][0]["code"], "unknown_source");
    let unnamed = json_of(run(&config, &event, None, Some(RECEIVED_AT)));
    assert_eq!(unnamed["problems"][0]["code"], "source_required");
}

#[wasm_bindgen_test]
fn imports_what_segment_gives() {
    // A field mapping, as in Segment's mapping JSON: absent fields become unmapped.
    let plain = json_of(import_mapping(
        r#"{"event_name": {"@path": "$.properties.metric"}, "user_key": {"@path": "$.userId"}}"#,
        true,
    ));
    assert_eq!(plain["ok"], true);
    let found = &plain["subscriptions"][0];
    assert_eq!(
        found["mapping"]["event_name"],
        json!({"@path": "$.properties.metric"})
    );
    assert_eq!(found["mapping"]["metric_value"], Value::Null);
    assert_eq!(
        found["unmapped"],
        json!([
            "context_kind",
            "additional_context_keys",
            "metric_value",
            "event_properties",
            "timestamp"
        ])
    );
    assert_eq!(found["name"], Value::Null);

    // Laid over the preset instead.
    let over = json_of(import_mapping(r#"{"event_name": "x"}"#, false));
    let found = &over["subscriptions"][0];
    assert_eq!(
        found["mapping"]["metric_value"],
        preset_fields()["metric_value"]
    );
    assert_eq!(found["kept_preset"].as_array().unwrap().len(), 6);

    // A preset or subscription, and an API answer with several, one of another action.
    let api = json_of(import_mapping(
        &json!({"data": {"subscriptions": [
            {"name": "Track Event", "trigger": "type = \"track\"", "enabled": false, "actionSlug": "trackEvent",
             "settings": {"event_name": {"@path": "$.event"}, "metric_value": {"@path": "$.properties.total"}, "batch_size": 10}},
            {"name": "Alias User", "subscribe": "type = \"identify\"", "partnerAction": "aliasUser",
             "mapping": {"user_key": {"@path": "$.userId"}}}
        ]}})
        .to_string(),
        true,
    ));
    assert_eq!(api["ok"], true, "{api}");
    let subscriptions = api["subscriptions"].as_array().unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0]["name"], "Track Event");
    assert_eq!(subscriptions[0]["trigger"], "type = \"track\"");
    assert_eq!(subscriptions[0]["enabled"], false);
    assert_eq!(subscriptions[0]["ignored"], json!(["batch_size"]));
    assert_eq!(subscriptions[0]["kept_preset"], json!(["user_key"]));
    assert!(api["notes"][0]
        .as_str()
        .unwrap()
        .contains("\"Alias User\" left out"));

    let preset_form = json_of(import_mapping(
        r#"{"name": "Track Event", "subscribe": "type = \"track\"", "partnerAction": "trackEvent", "mapping": {"event_name": {"@path": "$.event"}}}"#,
        true,
    ));
    assert_eq!(
        preset_form["subscriptions"][0]["trigger"],
        "type = \"track\""
    );

    let broken = json_of(import_mapping("{\"event_name\": ", true));
    assert_eq!(broken["ok"], false);
    assert_eq!(broken["problems"][0]["location"], "import");
    assert_eq!(broken["problems"][0]["line"], 1);
    let unrelated = json_of(import_mapping(r#"{"hello": "world"}"#, true));
    assert_eq!(unrelated["ok"], false);
    assert!(unrelated["problems"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("no Track Event mapping found"));
}

#[wasm_bindgen_test]
fn hostile_input_gives_answers_not_exceptions() {
    let config = one_destination().to_string();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for events in [
        deep.as_str(),
        "1e999",
        "{\"type\": \"track\", \"event\": \"\\ud800\"}",
        "{\"type\": 5}",
        "[null, true, {}]",
        "{\"batch\": 3}",
    ] {
        let answer = json_of(run(&config, events, None, Some(f64::NAN)));
        assert!(answer["ok"].is_boolean(), "{events:.40}: {answer}");
    }
    for config in ["null", "[]", "{\"destinations\": {}}", deep.as_str()] {
        let answer = json_of(run(config, "{}", None, None));
        assert_eq!(answer["ok"], false, "{config:.40}");
        assert!(!answer["problems"].as_array().unwrap().is_empty());
    }
    let deep_mapping = json!({
        "destinations": [{"name": "p", "client_side_id": "e"}],
        "subscriptions": [{"name": "s", "mapping": {"event_properties": {"@if": {"exists": {"@if": {"exists": {"@path": "$.a"}, "then": 1}}, "then": {"@json": {"mode": "encode", "value": {"@path": "$.properties"}}}}}}}]
    });
    let answer = run_json(&deep_mapping, &purchase());
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(import_mapping(&deep, true).is_object());
}

/// One implementation of every rule: the playground's answer and the Worker's (the core's
/// `plan_ingest` and `finish`, as `POST /segment/{source}` runs them) for the same events and
/// configuration agree on every outcome, every payload (id, URL, exact body) and, event by
/// event, on the LaunchDarkly events the trace shows.
#[wasm_bindgen_test]
fn the_playground_shows_what_the_worker_does() {
    use segment_ld_bridge::api::{
        self, DeliveryReport, IngestPlan, IngestRequest, OutcomeDetail, Route,
    };
    use segment_ld_bridge::inbound::Limits;
    let config = json!({
        "destinations": [
            {"name": "production", "client_side_id": "env-1",
             "metric_event_keys": ["Order Completed"], "unknown_event_keys": "drop"},
            {"name": "staging", "client_side_id": "env-2", "events_host": "eu"}
        ],
        "sources": [{"name": "web", "source_ids": ["web"], "allow_unsigned": true}],
        "subscriptions": [
            {"name": "orders", "trigger": "type = \"track\"", "destinations": ["production", "staging"]},
            {"name": "accounts", "trigger": "event = \"Order Completed\"",
             "mapping": {"context_kind": "account", "user_key": {"@path": "$.properties.account"}},
             "destinations": ["staging"]}
        ]
    });
    let events = json!([
        purchase(),
        {"type": "track", "event": "Order Complete", "userId": "u-2", "messageId": "m-2"},
        {"type": "track", "event": "Order Completed", "messageId": "m-3", "properties": {"account": "a-1"}},
        {"type": "page", "name": "Home", "userId": "u-1"},
        {"type": "track", "event": "Signed Up", "userId": "u-3", "properties": {"revenue": "lots"}},
        7
    ]);
    let body = events.to_string();
    let playground = json_of(run(
        &config.to_string(),
        &body,
        Some("web".to_string()),
        Some(RECEIVED_AT),
    ));
    assert_eq!(playground["ok"], true, "{playground}");
    let bridge = read_document(&config).expect("valid");
    let route = Route::Webhook {
        source_id: Some("web".to_string()),
    };
    let request = IngestRequest {
        content_type: Some("application/json"),
        authorization: None,
        signature: None,
        body: body.as_bytes(),
        outcomes: OutcomeDetail::All,
    };
    let IngestPlan::Deliver(delivery) = api::plan_ingest(
        &bridge,
        &route,
        &request,
        &Limits::SEGMENT,
        RECEIVED_AT as i64,
    ) else {
        panic!("the Worker should deliver");
    };
    let reports: Vec<DeliveryReport> = delivery
        .processed
        .payloads
        .iter()
        .map(|_| DeliveryReport::queued())
        .collect();
    let worker = api::finish(&delivery, &reports).to_json();
    assert_eq!(playground["outcomes"], worker["outcomes"]);
    let reasons: Vec<&str> = worker["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "track_event",
            "track_event",
            "track_event",
            "not_a_track_event",
            "invalid_metric_value",
            "invalid_event"
        ]
    );
    let deliveries = playground["deliveries"].as_array().unwrap();
    assert_eq!(
        deliveries.len(),
        worker["deliveries"].as_array().unwrap().len()
    );
    for (shown, sent) in deliveries
        .iter()
        .zip(worker["deliveries"].as_array().unwrap())
    {
        assert_eq!(shown["payload_id"], sent["payload_id"]);
        assert_eq!(shown["url"], sent["url"]);
        assert_eq!(shown["destination"], sent["destination"]);
    }
    for (shown, planned) in deliveries.iter().zip(&delivery.processed.payloads) {
        assert_eq!(shown["body"], planned.body.as_str());
        assert_eq!(shown["event_indexes"], json!(planned.event_indexes));
    }
    // Every LaunchDarkly event the trace shows is in the payload of each destination it names.
    for trace in playground["events"].as_array().unwrap() {
        for subscription in trace["subscriptions"].as_array().unwrap() {
            let Some(event) = subscription.get("event") else {
                continue;
            };
            for name in subscription["destinations"].as_array().unwrap() {
                let sent_or_dropped = deliveries.iter().any(|d| {
                    d["destination"] == *name && {
                        let body: Value =
                            serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
                        body.as_array().unwrap().contains(event)
                    }
                });
                let dropped = subscription["key_checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|check| check["destination"] == *name && check["sent"] == false);
                assert!(sent_or_dropped || dropped, "{event} to {name}");
                assert!(!(sent_or_dropped && dropped), "{event} to {name}");
            }
        }
    }
}

/// A catalogue pulled from LaunchDarkly: the playground shows, per event, the metrics it feeds,
/// whether each counts it, every verdict, and where the catalogue came from.
#[wasm_bindgen_test]
fn a_pulled_catalogue_shows_the_metrics_fed_and_every_verdict() {
    let config = json!({"destinations": [{
        "name": "production", "client_side_id": "env-1",
        "metrics": [
            {"key": "revenue", "name": "Revenue", "event_key": "Order Completed", "numeric": true,
             "randomization_units": ["user"], "unit_aggregation_type": "sum", "active_experiments": 1},
            {"key": "signups", "name": "Sign-ups", "event_key": "Signed Up", "numeric": false,
             "randomization_units": ["account"]}
        ],
        "catalogue_source": {"project": "default", "environment": "production",
                             "api_base": "https://app.launchdarkly.com", "pulled_at": "2026-11-30T13:30:00Z"},
        "unknown_event_keys": "drop"
    }]});
    let events = json!([
        purchase(),
        {"type": "track", "event": "Order Completed", "userId": "u-2"},
        {"type": "track", "event": "Signed Up", "userId": "u-3", "properties": {"value": 1}}
    ]);
    let answer = run_json(&config, &events);
    assert_eq!(answer["ok"], true, "{answer}");
    let checks = answer["key_checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[0]["metrics"][0]["key"], "revenue");
    assert_eq!(checks[0]["metrics"][0]["name"], "Revenue");
    assert_eq!(checks[0]["metrics"][0]["counts"], true);
    assert_eq!(checks[0]["verdicts"], json!([]));
    assert_eq!(checks[0]["sent"], true);
    assert_eq!(checks[1]["metrics"][0]["counts"], false);
    assert_eq!(
        checks[1]["verdicts"][0]["code"],
        "numeric_metric_without_value"
    );
    assert_eq!(checks[1]["counted"], false);
    assert_eq!(checks[1]["sent"], false);
    let codes: Vec<&str> = checks[2]["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["no_randomization_unit", "metric_value_ignored"]);
    assert!(checks[2]["verdicts"][0]["message"]
        .as_str()
        .unwrap()
        .contains("\"signups\" (Sign-ups, randomized by account)"));
    // The outcomes say the same: skipped with the verdict when nothing is sent.
    assert_eq!(answer["outcomes"][0]["status"], "accepted");
    assert_eq!(answer["outcomes"][1]["status"], "skipped");
    assert_eq!(
        answer["outcomes"][1]["reason"],
        "numeric_metric_without_value"
    );
    assert_eq!(answer["outcomes"][2]["reason"], "no_randomization_unit");
    assert_eq!(answer["outcomes"][2]["warnings"], checks[2]["verdicts"]);
    // The catalogue, with its metrics and source.
    let catalogue = &answer["catalogues"][0];
    assert_eq!(catalogue["keys"], json!(["Order Completed", "Signed Up"]));
    assert_eq!(
        catalogue["metrics"][1]["randomization_units"],
        json!(["account"])
    );
    assert_eq!(catalogue["source"]["project"], "default");
    assert_eq!(answer["summary"]["destinations"][0]["metrics"], 2);
    // A located problem in a metric definition.
    let mut broken = config.clone();
    broken["destinations"][0]["metrics"][1]["randomization_units"] = json!(["multi"]);
    let answer = run_json(&broken, &events);
    assert_eq!(answer["ok"], false);
    assert_eq!(
        locations(&answer),
        ["destinations[0].metrics[1].randomization_units[0]"]
    );
}

/// The playground and the Worker agree on what the catalogue's verdicts keep from LaunchDarkly.
#[wasm_bindgen_test]
fn the_playground_and_the_worker_agree_on_verdicts() {
    use segment_ld_bridge::api::{self, DeliveryReport, IngestPlan, IngestRequest, Route};
    use segment_ld_bridge::inbound::Limits;
    let config = json!({
        "destinations": [
            {"name": "production", "client_side_id": "env-1", "unknown_event_keys": "drop",
             "metrics": [{"key": "revenue", "name": "Revenue", "event_key": "Order Completed",
                          "numeric": true, "randomization_units": ["user"]}]},
            {"name": "staging", "client_side_id": "env-2"}
        ],
        "sources": [{"name": "web", "source_ids": ["web"], "allow_unsigned": true}]
    });
    let events = json!([
        purchase(),
        {"type": "track", "event": "Order Completed", "userId": "u-2", "messageId": "m-2"},
        {"type": "track", "event": "Signed Up", "userId": "u-3", "messageId": "m-3"}
    ]);
    let body = events.to_string();
    let playground = json_of(run(
        &config.to_string(),
        &body,
        Some("web".to_string()),
        Some(RECEIVED_AT),
    ));
    let bridge = read_document(&config).expect("valid");
    let request = IngestRequest {
        content_type: Some("application/json"),
        authorization: None,
        signature: None,
        body: body.as_bytes(),
        outcomes: api::OutcomeDetail::All,
    };
    let route = Route::Webhook {
        source_id: Some("web".to_string()),
    };
    let IngestPlan::Deliver(delivery) = api::plan_ingest(
        &bridge,
        &route,
        &request,
        &Limits::SEGMENT,
        RECEIVED_AT as i64,
    ) else {
        panic!("the Worker should deliver");
    };
    let reports: Vec<DeliveryReport> = delivery
        .processed
        .payloads
        .iter()
        .map(|_| DeliveryReport::queued())
        .collect();
    let worker = api::finish(&delivery, &reports).to_json();
    assert_eq!(playground["outcomes"], worker["outcomes"]);
    assert_eq!(
        worker["outcomes"][1]["warnings"][0]["code"],
        "numeric_metric_without_value"
    );
    let indexes = |answer: &Value, destination: &str| -> Vec<Value> {
        answer["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["destination"] == destination)
            .flat_map(|d| d["event_indexes"].as_array().cloned().unwrap_or_default())
            .collect()
    };
    assert_eq!(indexes(&playground, "production"), [json!(0)]);
    assert_eq!(
        indexes(&playground, "staging"),
        [json!(0), json!(1), json!(2)]
    );
    for (shown, planned) in playground["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&delivery.processed.payloads)
    {
        assert_eq!(shown["body"], planned.body.as_str());
        assert_eq!(shown["payload_id"], planned.payload_id.to_string());
    }
}

#[wasm_bindgen_test]
fn the_envelope_shows_what_the_worker_does() {
    use segment_ld_bridge::api::{self, DeliveryReport, IngestPlan, IngestRequest, Route};
    use segment_ld_bridge::inbound::Limits;
    let config = json!({
        "destinations": [
            {"name": "production", "client_side_id": "env-1"},
            {"name": "consented", "client_side_id": "env-2", "integration_names": ["Consented"],
             "required_consent": ["Analytics"], "without_consent": "skip"}
        ],
        "sources": [{"name": "web", "source_ids": ["web"], "allow_unsigned": true}],
        "subscriptions": [
            {"name": "orders", "deny_properties": ["email"], "allow_properties": ["revenue", "email", "address.city"]},
            {"name": "sampled", "sample_rate": 0, "mapping": {"event_name": "sampled"}}
        ]
    });
    let with_pii = json!({"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "m-1",
        "timestamp": "2024-05-06T07:08:09.123Z",
        "properties": {"revenue": 5, "email": "a@b.c", "plan": "pro", "address": {"city": "Paris", "street": "x"}}});
    let mut opted_out = with_pii.clone();
    opted_out["messageId"] = json!("m-2");
    opted_out["integrations"] = json!({"LaunchDarkly": false});
    let mut consented = with_pii.clone();
    consented["messageId"] = json!("m-3");
    consented["integrations"] = json!({"All": false, "Consented": true});
    consented["context"] = json!({"consent": {"categoryPreferences": {"Analytics": true}}});
    let events = json!([with_pii, opted_out, consented]);
    let body = events.to_string();
    let playground = json_of(run(
        &config.to_string(),
        &body,
        Some("web".to_string()),
        Some(RECEIVED_AT),
    ));
    assert_eq!(playground["ok"], true, "{playground}");
    let bridge = read_document(&config).expect("valid");
    let request = IngestRequest {
        content_type: Some("application/json"),
        authorization: None,
        signature: None,
        body: body.as_bytes(),
        outcomes: api::OutcomeDetail::All,
    };
    let route = Route::Webhook {
        source_id: Some("web".to_string()),
    };
    let IngestPlan::Deliver(delivery) = api::plan_ingest(
        &bridge,
        &route,
        &request,
        &Limits::SEGMENT,
        RECEIVED_AT as i64,
    ) else {
        panic!("the Worker should deliver");
    };
    let reports: Vec<DeliveryReport> = (delivery.processed.payloads.iter())
        .map(|_| DeliveryReport::queued())
        .collect();
    let worker = api::finish(&delivery, &reports).to_json();
    assert_eq!(playground["outcomes"], worker["outcomes"]);
    let reasons: Vec<&str> = (worker["outcomes"].as_array().unwrap().iter())
        .map(|o| o["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["track_event", "disabled_by_integrations", "track_event"]
    );
    let deliveries = playground["deliveries"].as_array().unwrap();
    for (shown, sent) in deliveries
        .iter()
        .zip(worker["deliveries"].as_array().unwrap())
    {
        assert_eq!(shown["payload_id"], sent["payload_id"]);
        assert_eq!(shown["destination"], sent["destination"]);
    }
    for (shown, planned) in deliveries.iter().zip(&delivery.processed.payloads) {
        assert_eq!(shown["body"], planned.body.as_str());
        assert!(!planned.body.contains("a@b.c"), "{}", planned.body);
        assert!(!planned.body.contains("\"plan\""), "{}", planned.body);
    }
    // The trace: dropped properties with why, the sampling verdict, each destination's gates.
    let orders = &playground["events"][0]["subscriptions"][0]["envelope"];
    assert_eq!(
        orders["dropped_properties"],
        json!([
            {"path": "email", "reason": "denied", "by": "email"},
            {"path": "plan", "reason": "not_allowed"},
            {"path": "address.street", "reason": "not_allowed"}
        ])
    );
    let sampled = &playground["events"][0]["subscriptions"][1]["envelope"]["sampling"];
    assert_eq!(sampled["kept"], false);
    assert_eq!(sampled["context_key"], "u-1");
    let gates = &playground["events"][1]["subscriptions"][0]["envelope"]["destinations"];
    assert_eq!(
        gates[0]["integrations"],
        json!({"result": "disabled", "name": "LaunchDarkly"})
    );
    assert_eq!(
        gates[1]["consent"],
        json!({"result": "no_preferences", "sent": false})
    );
    assert_eq!(
        playground["events"][1]["subscriptions"][0]["rejection"]["code"],
        "disabled_by_integrations"
    );
    let gates = &playground["events"][2]["subscriptions"][0]["envelope"]["destinations"];
    assert_eq!(gates[0]["passes"], false);
    assert_eq!(
        gates[1]["integrations"],
        json!({"result": "enabled", "name": "Consented"})
    );
    assert_eq!(gates[1]["consent"], json!({"result": "given"}));
    assert_eq!(gates[1]["passes"], true);
    // The summary shows the settings.
    assert_eq!(
        playground["summary"]["destinations"][1]["required_consent"],
        json!(["Analytics"])
    );
}

#[wasm_bindgen_test]
fn envelope_problems_are_located() {
    let config = json!({
        "destinations": [{"name": "production", "client_side_id": "env-1",
                          "integration_names": ["All"], "without_consent": "never"}],
        "subscriptions": [{"name": "orders", "deny_properties": ["a..b"], "sample_rate": 2}]
    });
    let answer = run_json(&config, &purchase());
    assert_eq!(answer["ok"], false);
    assert_eq!(
        locations(&answer),
        [
            "destinations[0].integration_names[0]",
            "destinations[0].without_consent",
            "subscriptions[0].deny_properties[0]",
            "subscriptions[0].sample_rate"
        ]
    );
}
