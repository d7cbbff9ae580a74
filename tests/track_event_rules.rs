//! The Track Event rules of issue #2, one test per rule, through the whole pipeline.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::{BridgeConfig, Destination};
use segment_ld_bridge::inbound::{self, Limits};
use segment_ld_bridge::pipeline::{self, OutcomeStatus, Processed};
use segment_ld_bridge::track_event::{TimestampWindow, TrackEventMapping};
use serde_json::{json, Value};

#[path = "common/rng.rs"]
#[allow(dead_code)] // this file draws numbers only
mod rng;
use rng::Rng;

/// 2025-06-15T15:06:40.000Z: after every timestamp below that is accepted (the default window
/// allows timestamps at most 1 day after the receive time).
const RECEIVED_AT: i64 = 1_750_000_000_000;
const DAY_MS: i64 = 86_400_000;

fn process_with(events: &[Value], overrides: Option<Value>) -> Processed {
    let mapping = match overrides {
        Some(overrides) => TrackEventMapping::with_overrides(&overrides).expect("valid mapping"),
        None => TrackEventMapping::preset().expect("preset"),
    };
    let config = BridgeConfig::single(Destination::new("env-1", "").expect("destination"), mapping);
    pipeline::process(
        &config,
        &pipeline::every_destination(&config),
        pipeline::Events::Parsed(events),
        pipeline::Options::at(RECEIVED_AT),
    )
}

fn process(events: &[Value]) -> Processed {
    process_with(events, None)
}

/// The single LaunchDarkly event produced for one Segment event.
fn sent(event: Value) -> Value {
    let processed = process(&[event]);
    assert_eq!(
        processed.outcomes[0].status,
        OutcomeStatus::Accepted,
        "{:?}",
        processed.outcomes
    );
    let body: Value = serde_json::from_str(&processed.payloads[0].body).expect("JSON");
    body[0].clone()
}

fn rejection(event: Value) -> (String, String) {
    let processed = process(&[event]);
    let outcome = &processed.outcomes[0];
    assert_eq!(outcome.status, OutcomeStatus::Rejected, "{outcome:?}");
    assert!(processed.payloads.is_empty());
    (outcome.reason.to_string(), outcome.message.clone())
}

fn track(extra: Value) -> Value {
    let mut event = json!({"type": "track", "event": "E", "userId": "u"});
    for (key, value) in extra.as_object().expect("object") {
        if value.is_null() && key.starts_with('-') {
            event.as_object_mut().expect("object").remove(&key[1..]);
        } else {
            event[key] = value.clone();
        }
    }
    event
}

#[test]
fn only_track_events_produce_metric_events() {
    for kind in ["page", "screen", "identify", "group", "alias"] {
        let processed = process(&[json!({"type": kind, "userId": "u", "event": "E"})]);
        let outcome = &processed.outcomes[0];
        assert_eq!(outcome.status, OutcomeStatus::Skipped, "{kind}");
        assert_eq!(outcome.reason, "not_a_track_event");
        assert!(
            outcome.message.contains("custom metrics"),
            "{}",
            outcome.message
        );
        assert!(outcome.message.contains("page views, screens and clicks"));
        assert!(processed.payloads.is_empty());
    }
    let (reason, _) = rejection(json!({"event": "E", "userId": "u"}));
    assert_eq!(reason, "missing_type");
}

#[test]
fn the_event_key_is_the_event_name_byte_for_byte() {
    for name in [" Order  Completed ", "order completed", "Ünïcödé ✓", "a\tb"] {
        assert_eq!(sent(track(json!({"event": name})))["key"], name);
    }
    assert_eq!(
        rejection(track(json!({"event": ""}))).0,
        "missing_event_name"
    );
    assert_eq!(
        rejection(track(json!({"-event": null}))).0,
        "missing_event_name"
    );
    assert_eq!(
        rejection(track(json!({"event": null}))).0,
        "missing_event_name"
    );
    assert_eq!(
        rejection(track(json!({"event": {"a": 1}}))).0,
        "invalid_event_name"
    );
    // Segment's string coercion: a numeric event name becomes its string.
    assert_eq!(sent(track(json!({"event": 42})))["key"], "42");
}

#[test]
fn the_context_key_is_user_id_else_anonymous_id() {
    let both = sent(track(json!({"userId": "u-1", "anonymousId": "a-1"})));
    assert_eq!(
        both["contextKeys"],
        json!({"unauthenticatedUser": "a-1", "user": "u-1"})
    );
    for missing in [
        json!({"-userId": null}),
        json!({"userId": null}),
        json!({"userId": ""}),
    ] {
        let mut extra = missing.clone();
        extra["anonymousId"] = json!("a-2");
        let event = sent(track(extra));
        assert_eq!(
            event["contextKeys"],
            json!({"unauthenticatedUser": "a-2", "user": "a-2"}),
            "{missing}"
        );
    }
    let only_user = sent(track(json!({"userId": "u-3"})));
    assert_eq!(only_user["contextKeys"], json!({"user": "u-3"}));
    for empty_anonymous in [json!(null), json!("")] {
        let event = sent(track(
            json!({"userId": "u-4", "anonymousId": empty_anonymous}),
        ));
        assert_eq!(
            event["contextKeys"],
            json!({"user": "u-4"}),
            "never \"null\" or empty"
        );
    }
    let (reason, message) = rejection(track(json!({"-userId": null, "anonymousId": ""})));
    assert_eq!(reason, "missing_context_key");
    assert!(message.contains("userId") && message.contains("anonymousId"));
}

#[test]
fn non_string_ids_become_strings_as_segment_does() {
    let event = sent(track(json!({"userId": 123, "anonymousId": 4.5})));
    assert_eq!(
        event["contextKeys"],
        json!({"unauthenticatedUser": "4.5", "user": "123"})
    );
    let event = sent(track(json!({"userId": true})));
    assert_eq!(event["contextKeys"]["user"], "true");
    assert_eq!(
        rejection(track(json!({"userId": {"id": 1}}))).0,
        "invalid_context_key"
    );
    // Segment's schema step (AJV's `coerceTypes: "array"`) reads an array of one item as the
    // item; two items are still no string.
    let event = sent(track(json!({"userId": [1]})));
    assert_eq!(event["contextKeys"]["user"], "1");
    assert_eq!(
        rejection(track(json!({"userId": [1, 2]}))).0,
        "invalid_context_key"
    );
}

#[test]
fn the_metric_value_is_revenue_else_value() {
    let value_of =
        |properties: Value| sent(track(json!({"properties": properties})))["metricValue"].clone();
    assert_eq!(
        value_of(json!({"revenue": 19.99, "value": 3})),
        json!(19.99)
    );
    assert_eq!(value_of(json!({"value": 3})), json!(3));
    assert_eq!(value_of(json!({"revenue": null, "value": 3})), json!(3));
    assert_eq!(value_of(json!({"revenue": "39.95"})), json!(39.95));
    assert_eq!(value_of(json!({"value": "-2"})), json!(-2));
    assert_eq!(value_of(json!({"value": "1e3"})), json!(1000));
    // Segment's schema step: JavaScript's `Number(s)`, booleans as 1 and 0, one item as itself.
    assert_eq!(value_of(json!({"value": "0x10"})), json!(16));
    assert_eq!(value_of(json!({"value": " "})), json!(0));
    assert_eq!(value_of(json!({"revenue": true})), json!(1));
    assert_eq!(value_of(json!({"revenue": false})), json!(0));
    assert_eq!(value_of(json!({"revenue": ["2.5"]})), json!(2.5));
    assert_eq!(value_of(json!({"revenue": 0})), json!(0));
    let absent = sent(track(json!({"properties": {"plan": "pro"}})));
    assert!(absent.get("metricValue").is_none(), "left out when absent");
    for bad in [
        json!("lots"),
        json!({"amount": 1}),
        json!([1, 2]),
        json!([[1]]),
        json!("-0x10"),
    ] {
        let (reason, message) = rejection(track(json!({"properties": {"revenue": bad}})));
        assert_eq!(reason, "invalid_metric_value");
        assert!(
            message.starts_with("Metric Value must be a number"),
            "{message}"
        );
    }
}

/// The LaunchDarkly body sent for `text`, one event read as the Worker reads a request, which
/// must be accepted.
fn sent_from_text(config: &BridgeConfig, text: &str) -> String {
    let received = inbound::read_events(
        text.as_bytes(),
        &Limits::SEGMENT,
        config.fields_read(),
        config.properties_read(),
    )
    .expect("readable");
    let processed = pipeline::process(
        config,
        &pipeline::every_destination(config),
        pipeline::Events::Received(&received, &Limits::SEGMENT),
        pipeline::Options::at(RECEIVED_AT),
    );
    assert_eq!(processed.count(OutcomeStatus::Accepted), 1, "{text}");
    processed.payloads[0].body.clone()
}

/// Numbers reach LaunchDarkly as the doubles JavaScript reads from the same text (Segment's
/// destination runs `JSON.parse`, which rounds correctly): random doubles, sent as their
/// shortest text as JavaScript clients send them, come out as that text again, whether read as
/// the Worker reads a request (a `properties` copied whole by the preset, a member a custom
/// mapping reads, the metric value from a number or from a string). serde_json without its
/// `float_roundtrip` feature read about one in eight of these a unit in the last place off.
#[test]
fn numbers_reach_launchdarkly_as_javascript_reads_them() {
    let preset = BridgeConfig::single(
        Destination::new("env-1", "").expect("destination"),
        TrackEventMapping::preset().expect("preset"),
    );
    let custom = BridgeConfig::single(
        Destination::new("env-1", "").expect("destination"),
        TrackEventMapping::with_overrides(&json!({
            "metric_value": {"@path": "$.properties.text"},
            "event_properties": {"copied": {"@path": "$.properties.number"}}
        }))
        .expect("valid mapping"),
    );
    // Known cases: JavaScript reads `902e-116` as 9.02e-114; 0.1 + 0.2 prints with 17 digits.
    let mut texts = vec!["9.02e-114".to_string(), "0.30000000000000004".to_string()];
    let mut rng = Rng::seeded("NUMBER_SEED", 14, 1);
    while texts.len() < 2_000 {
        let number = f64::from_bits(rng.next());
        // Within the metric value's limit (±(2^53 - 1)), as prices and amounts are.
        if number.is_finite() && (1e-6..1e9).contains(&number.abs()) {
            texts.push(serde_json::to_string(&number).expect("a finite number"));
        }
    }
    let mut long = 0;
    for text in &texts {
        long += usize::from(text.trim_start_matches('-').len() > 16);
        let event = format!(
            r#"{{"type":"track","event":"Paid","userId":"u-1","properties":{{"number":{text},"text":"{text}","revenue":{text}}}}}"#
        );
        let body = sent_from_text(&preset, &event);
        assert!(body.contains(&format!(r#""metricValue":{text}"#)), "{body}");
        assert!(body.contains(&format!(r#""number":{text},"#)), "{body}");
        let body = sent_from_text(&custom, &event);
        assert!(body.contains(&format!(r#""metricValue":{text}"#)), "{body}");
        assert!(body.contains(&format!(r#""copied":{text}"#)), "{body}");
    }
    // Most are past the 15 significant digits that are read and written as they are.
    assert!(long > 1_000, "only {long} numbers of 17 or more characters");
}

/// A numeric metric from the number of items in an array (`$.properties.products.length`, an
/// own property of arrays in JavaScript that Segment's paths read), or of characters in a
/// string, read as the Worker reads a request: the top-level `userId`, `properties` looked up
/// member by member, and an empty array whose `length` is 0.
#[test]
fn a_metric_value_may_be_the_length_of_an_array_or_a_string() {
    let config = BridgeConfig::single(
        Destination::new("env-1", "").expect("destination"),
        TrackEventMapping::with_overrides(&json!({
            "metric_value": {"@path": "$.properties.products.length"},
            "event_properties": {
                "user_chars": {"@path": "$.userId.length"},
                "none": {"@path": "$.properties.none.length"},
                "tag_count": {"@template": "{{properties.tags.length}}"},
            }
        }))
        .expect("valid mapping"),
    );
    // The `userId` without an escape (read as its characters) and with one.
    for user_id in ["u-\u{1F600}", r"u-\ud83d\ude00"] {
        let text = format!(
            r#"{{"type":"track","event":"Paid","userId":"{user_id}","properties":{{"products":[{{"sku":"a"}},{{"sku":"b"}},{{"sku":"c"}}],"none":[],"tags":["x","y"]}}}}"#
        );
        let body: Value = serde_json::from_str(&sent_from_text(&config, &text)).expect("JSON");
        assert_eq!(body[0]["metricValue"], json!(3), "{body}");
        assert_eq!(
            body[0]["data"],
            json!({"user_chars": 4, "none": 0, "tag_count": "2"}),
            "{body}"
        );
    }
}

/// Issue: per event, not per batch. A metric value beyond 2^53 - 1 (JavaScript's
/// Number.MAX_SAFE_INTEGER) either side of zero rejects its event only.
#[test]
fn metric_values_beyond_max_safe_integer_reject_their_event_only() {
    let value_of = |revenue: Value| {
        sent(track(json!({"properties": {"revenue": revenue}})))["metricValue"].clone()
    };
    assert_eq!(
        value_of(json!(9_007_199_254_740_991i64)),
        json!(9_007_199_254_740_991i64)
    );
    assert_eq!(
        value_of(json!(-9_007_199_254_740_991i64)),
        json!(-9_007_199_254_740_991i64)
    );
    assert_eq!(
        value_of(json!("9007199254740991")),
        json!(9_007_199_254_740_991i64)
    );
    // As written (serde_json's default float parsing is not exact at 16 digits).
    let processed = process(&[track(
        json!({"properties": {"revenue": 9_007_199_254_740_991.0}}),
    )]);
    assert!(
        (processed.payloads[0].body).contains(r#""metricValue":9007199254740991.0,"#),
        "{}",
        processed.payloads[0].body
    );
    let out_of_range = [
        json!(1e308),
        json!(-1e308),
        json!(9_007_199_254_740_992i64),
        json!(-9_007_199_254_740_992i64),
        json!(9_007_199_254_740_992.0),
        json!(u64::MAX),
        json!("9007199254740992"),
        json!("1e400"),
        json!("-1e400"),
    ];
    for bad in &out_of_range {
        let (reason, message) = rejection(track(json!({"properties": {"revenue": bad}})));
        assert_eq!(reason, "invalid_metric_value", "{bad}");
        assert!(
            message.contains("from -9007199254740991 to 9007199254740991")
                && message.contains("Number.MAX_SAFE_INTEGER"),
            "{bad}: {message}"
        );
    }
    // `Number("Infinity")` is a number, Infinity, which JSON cannot hold (Segment sends null).
    for infinite in [json!("Infinity"), json!("-Infinity")] {
        let (reason, message) = rejection(track(json!({"properties": {"value": infinite}})));
        assert_eq!(reason, "invalid_metric_value", "{infinite}");
        assert!(message.contains("outside that range"), "{message}");
    }
    for nan_like in [json!("NaN"), json!("nan")] {
        let (reason, message) = rejection(track(json!({"properties": {"value": nan_like}})));
        assert_eq!(reason, "invalid_metric_value", "{nan_like}");
        assert_eq!(
            message,
            "Metric Value must be a number but it was a string."
        );
    }
    // NaN cannot be written in JSON: serde_json makes it null, so `value` is used instead.
    assert_eq!(value_of(json!(f64::NAN)), Value::Null, "no metricValue");
    let events = [
        track(json!({"event": "A", "properties": {"revenue": 1e308}})),
        track(json!({"event": "B", "properties": {"revenue": 5}})),
        track(json!({"event": "C", "properties": {"revenue": -1e308}})),
    ];
    let processed = process(&events);
    let statuses: Vec<_> = processed.outcomes.iter().map(|o| o.status).collect();
    use OutcomeStatus::*;
    assert_eq!(statuses, [Rejected, Accepted, Rejected]);
    assert_eq!(processed.payloads[0].event_indexes, [1]);
}

/// Issue: per event, not per batch. A timestamp before 2000-01-01T00:00:00Z or more than
/// 1 day after the receive time rejects its event only; the message names the window and
/// the timestamp, nothing else of the event.
#[test]
fn timestamps_outside_the_window_reject_their_event_only() {
    let date_of =
        |timestamp: Value| sent(track(json!({"timestamp": timestamp})))["creationDate"].clone();
    assert_eq!(
        date_of(json!("2000-01-01T00:00:00Z")),
        json!(946_684_800_000i64)
    );
    assert_eq!(
        date_of(json!("2025-06-16T15:06:40.000Z")),
        json!(RECEIVED_AT + DAY_MS)
    );
    assert_eq!(
        date_of(json!(RECEIVED_AT + DAY_MS)),
        json!(RECEIVED_AT + DAY_MS)
    );
    let window = "from 2000-01-01T00:00:00.000Z to 2025-06-16T15:06:40.000Z (1 day after the request was received)";
    for (timestamp, iso) in [
        (
            json!("1999-12-31T23:59:59.999Z"),
            "1999-12-31T23:59:59.999Z",
        ),
        (json!(946_684_799_999i64), "1999-12-31T23:59:59.999Z"),
        (
            json!("2025-06-16T15:06:40.001Z"),
            "2025-06-16T15:06:40.001Z",
        ),
        (json!(RECEIVED_AT + DAY_MS + 1), "2025-06-16T15:06:40.001Z"),
        (json!("9999-12-31T23:59:59Z"), "9999-12-31T23:59:59.000Z"),
        (
            json!(-8_639_999_999_999_999i64),
            "-271821-04-20T00:00:00.001Z",
        ),
        // JavaScript's limits, read as its `Date` reads them (dayjs hands text ending in `Z` on).
        (json!(-8.64e15), "-271821-04-20T00:00:00.000Z"),
        (
            json!("-271821-04-20T00:00:00.000Z"),
            "-271821-04-20T00:00:00.000Z",
        ),
        (
            json!("+275760-09-13T00:00:00.000Z"),
            "+275760-09-13T00:00:00.000Z",
        ),
    ] {
        let (reason, message) = rejection(track(
            json!({"timestamp": timestamp, "userId": "secret-user", "event": "Secret Event"}),
        ));
        assert_eq!(reason, "timestamp_out_of_range", "{timestamp}");
        assert!(message.contains(&format!("timestamp {iso} ")), "{message}");
        assert!(message.contains(window), "{message}");
        assert!(
            !message.contains("secret") && !message.contains("Secret"),
            "{message}"
        );
    }
    // Unparsable, as before: the receive time (beyond JavaScript's dates among them).
    for unparsable in [
        json!("-271821-04-19T23:59:59.999Z"),
        json!("+275760-09-13T00:00:00.001Z"),
        json!(-8_640_000_000_000_001i64),
    ] {
        assert_eq!(date_of(unparsable), json!(RECEIVED_AT));
    }
    let events = [
        track(json!({"event": "A", "timestamp": "1999-12-31T23:59:59.999Z"})),
        track(json!({"event": "B", "timestamp": "2000-01-01T00:00:00Z"})),
        track(json!({"event": "C", "timestamp": "9999-12-31T23:59:59.999Z"})),
    ];
    let processed = process(&events);
    let statuses: Vec<_> = processed.outcomes.iter().map(|o| o.status).collect();
    use OutcomeStatus::*;
    assert_eq!(statuses, [Rejected, Accepted, Rejected]);
    assert_eq!(processed.payloads[0].event_indexes, [1]);
}

#[test]
fn the_timestamp_window_is_settable() {
    let window = TimestampWindow {
        earliest_ms: RECEIVED_AT - DAY_MS,
        max_future_ms: 0,
    };
    let mapping = TrackEventMapping::preset()
        .expect("preset")
        .with_timestamp_window(window);
    assert_eq!(
        TrackEventMapping::preset()
            .expect("preset")
            .timestamp_window(),
        TimestampWindow::DEFAULT
    );
    let config = BridgeConfig::single(Destination::new("env-1", "").expect("destination"), mapping);
    let events = [
        track(json!({"timestamp": RECEIVED_AT - DAY_MS - 1})),
        track(json!({"timestamp": RECEIVED_AT - DAY_MS})),
        track(json!({"timestamp": RECEIVED_AT})),
        track(json!({"timestamp": RECEIVED_AT + 1})),
    ];
    let processed = pipeline::process(
        &config,
        &pipeline::every_destination(&config),
        pipeline::Events::Parsed(&events),
        pipeline::Options::at(RECEIVED_AT),
    );
    let reasons: Vec<_> = processed
        .outcomes
        .iter()
        .map(|o| o.reason.to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "timestamp_out_of_range",
            "track_event",
            "track_event",
            "timestamp_out_of_range"
        ]
    );
}

#[test]
fn creation_date_is_the_timestamp_in_ms_or_the_receive_time() {
    let date_of =
        |timestamp: Value| sent(track(json!({"timestamp": timestamp})))["creationDate"].clone();
    assert_eq!(
        date_of(json!("2022-03-30T17:24:58Z")),
        json!(1_648_661_098_000i64)
    );
    assert_eq!(
        date_of(json!("2024-05-06T09:08:09.123+02:00")),
        json!(1_714_979_289_123i64)
    );
    assert_eq!(
        date_of(json!("2024-05-06T07:08:09.123456Z")),
        json!(1_714_979_289_123i64)
    );
    assert_eq!(date_of(json!("not a date")), json!(RECEIVED_AT));
    assert_eq!(date_of(json!(null)), json!(RECEIVED_AT));
    let missing = sent(track(json!({})));
    assert_eq!(missing["creationDate"], json!(RECEIVED_AT));
}

#[test]
fn data_is_the_properties_or_an_empty_object() {
    let properties = json!({"b": 1, "a": {"nested": [1, 2]}, "revenue": 5});
    let event = sent(track(json!({"properties": properties.clone()})));
    assert_eq!(event["data"], properties);
    assert_eq!(
        serde_json::to_string(&event["data"]).expect("JSON"),
        r#"{"b":1,"a":{"nested":[1,2]},"revenue":5}"#,
        "key order kept"
    );
    assert_eq!(sent(track(json!({})))["data"], json!({}));
    assert_eq!(sent(track(json!({"properties": null})))["data"], json!({}));
    let (reason, _) = rejection(track(json!({"properties": "text"})));
    assert_eq!(reason, "invalid_event_properties");
}

#[test]
fn several_accepted_events_go_out_in_one_payload_and_bad_ones_do_not_block_them() {
    let events = [
        track(json!({"event": "A", "messageId": "m-1"})),
        json!("not an event"),
        track(json!({"event": "B", "messageId": "m-2"})),
        track(json!({"event": ""})),
        track(json!({"event": "C"})),
    ];
    let processed = process(&events);
    assert_eq!(processed.payloads.len(), 1);
    assert_eq!(processed.payloads[0].event_indexes, [0, 2, 4]);
    let body: Value = serde_json::from_str(&processed.payloads[0].body).expect("JSON");
    let keys: Vec<_> = body
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["key"].clone())
        .collect();
    assert_eq!(keys, [json!("A"), json!("B"), json!("C")]);
    let statuses: Vec<_> = processed.outcomes.iter().map(|o| o.status).collect();
    use OutcomeStatus::*;
    assert_eq!(statuses, [Accepted, Rejected, Accepted, Rejected, Accepted]);
}

#[test]
fn invalid_context_kinds_are_rejected_before_they_reach_launchdarkly() {
    let processed = process_with(&[track(json!({}))], Some(json!({"context_kind": "multi"})));
    assert_eq!(processed.outcomes[0].reason, "invalid_context_kind");
    let processed = process_with(
        &[track(json!({"properties": {"org": "o-1"}}))],
        Some(json!({"additional_context_keys": {"my org": {"@path": "$.properties.org"}}})),
    );
    assert_eq!(processed.outcomes[0].reason, "invalid_context_kind");
    // An empty context kind means "user", as in Segment (`context_kind || 'user'`).
    let processed = process_with(&[track(json!({}))], Some(json!({"context_kind": ""})));
    assert_eq!(processed.outcomes[0].status, OutcomeStatus::Accepted);
}

#[test]
fn mapping_overrides_are_checked() {
    assert!(
        TrackEventMapping::with_overrides(&json!({"eventName": {"@path": "$.event"}})).is_err()
    );
    assert!(TrackEventMapping::with_overrides(&json!({"event_name": null})).is_err());
    assert!(TrackEventMapping::with_overrides(&json!(["not", "an", "object"])).is_err());
    assert!(TrackEventMapping::with_overrides(&json!({"event_name": {"@nope": 1}})).is_err());
}

#[test]
fn large_requests_are_cut_into_bounded_payloads() {
    // Segment's largest batch of small events is one payload; the pipeline (which takes more
    // than a request's 2,500) cuts at 2,500 events.
    let events: Vec<Value> = (0..6_000)
        .map(|i| track(json!({"event": format!("E{i}"), "messageId": format!("m-{i}")})))
        .collect();
    let sizes = |processed: &segment_ld_bridge::pipeline::Processed| -> Vec<usize> {
        processed
            .payloads
            .iter()
            .map(|d| d.event_indexes.len())
            .collect()
    };
    assert_eq!(sizes(&process(&events[..2_500])), [2_500]);
    let processed = process(&events);
    assert_eq!(sizes(&processed), [2_500, 2_500, 1_000]);
    assert_eq!(processed.payloads[1].event_indexes[0], 2_500);
    let ids: std::collections::HashSet<_> =
        processed.payloads.iter().map(|d| d.payload_id).collect();
    assert_eq!(ids.len(), 3);
    let big_properties = json!({"blob": "x".repeat(200 * 1024)});
    let heavy: Vec<Value> = (0..5)
        .map(|i| track(json!({"event": format!("H{i}"), "properties": big_properties.clone()})))
        .collect();
    let processed = process(&heavy);
    let sizes: Vec<usize> = processed
        .payloads
        .iter()
        .map(|d| d.event_indexes.len())
        .collect();
    assert_eq!(sizes, [2, 2, 1], "at most 512 KiB per payload");
    assert!(processed
        .payloads
        .iter()
        .all(|d| d.body.len() <= 512 * 1024));
}
