//! Events are parsed into values only in the fields a configuration reads, and only as far as it
//! reads them (issue 14): proof, on Segment's own vectors, that the analysis never leaves out a
//! field or a member that changes a result. Each mapping, trigger and destination case is run
//! on the whole event and on the event cut down to what was found read; the results must be the
//! same.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::{BridgeConfig, Destination};
use segment_ld_bridge::inbound::{self, Limits};
use segment_ld_bridge::mapping::Mapping;
use segment_ld_bridge::pipeline::{self, Events, Options};
use segment_ld_bridge::segment::FieldsRead;
use segment_ld_bridge::track_event::{mapping_fields_read, TrackEventMapping};
use segment_ld_bridge::trigger::Trigger;
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `text` read as the Worker reads it: values for the configuration's fields only, and
/// `properties` as the configuration reads them.
fn read_as_the_worker(config: &BridgeConfig, text: &str) -> inbound::ReceivedEvents {
    inbound::read_events(
        text.as_bytes(),
        &Limits::SEGMENT,
        config.fields_read(),
        config.properties_read(),
    )
    .unwrap()
}

/// The event as far as `read` reads it: the fields it reads, each cut to what it reads of it.
fn cut(event: &Value, read: &FieldsRead) -> Value {
    read.cut(event)
}

#[test]
fn mappings_read_no_field_the_analysis_leaves_out() {
    let vectors = vectors("segment-mapping-kit.json");
    let mut bounded = 0;
    let mut cut_inside = 0;
    for case in vectors["transform_cases"].as_array().unwrap() {
        let Ok(mapping) = Mapping::compile(&case["mapping"]) else {
            continue;
        };
        let mut read = FieldsRead::Only(Default::default());
        mapping_fields_read(&case["mapping"], &mut read);
        if read != FieldsRead::All {
            bounded += 1;
        }
        let payload = &case["payload"];
        let whole = mapping.apply(payload).map_err(|e| e.to_string());
        let part = mapping
            .apply(&cut(payload, &read))
            .map_err(|e| e.to_string());
        assert_eq!(whole, part, "{}: read {read:?}", case["id"]);
        // Cut inside a field, not only in the fields left out.
        let fields_only = match payload {
            Value::Object(object) => Value::Object(
                (object.iter())
                    .filter(|(key, _)| read.contains(key))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect(),
            ),
            other => other.clone(),
        };
        if cut(payload, &read) != fields_only {
            cut_inside += 1;
        }
    }
    assert!(bounded > 50, "only {bounded} mappings bounded");
    // Segment's payloads are small: two are cut inside (arbitrary ones: mapping_properties.rs).
    assert!(
        cut_inside >= 2,
        "only {cut_inside} payloads cut inside a field"
    );
}

/// Every `@liquid` template of `tests/mapping_liquid.rs`'s liquidjs vectors, and more, reads
/// nothing its analysis leaves out: rendered on the whole payload and on the payload cut to
/// what it reads, it gives the same output.
#[test]
fn liquid_templates_read_no_member_the_analysis_leaves_out() {
    let data = serde_json::json!({
        "properties": {"name": "Ada", "n": 3, "total": 27.5, "tags": ["a", "b"],
                       "obj": {"k": 1, "size": 9, "first": "f"}, "empty": {}, "key": "name",
                       "products": [{"sku": "s1", "price": 2}, {"sku": "s2"}]},
        "traits": {"email": "A@B.com", "size": 4},
        "context": {"page": {"url": "https://x.example/p"}, "ip": "1.2.3.4"},
        "size": 7
    });
    let mut bounded = 0;
    for template in [
        "{{ properties.name }} {{ properties.n | plus: traits.size }}",
        "{{ properties.obj.size }} {{ properties.empty.size }} {{ properties.tags.size }}",
        "{{ context.page.size }} {{ context.size }}",
        "{{ properties.obj.first }} {{ properties.tags.first }} {{ properties.tags.last }}",
        "{{ properties.products[1].sku }} {{ properties.products.first.price }}",
        "{{ properties[properties.key] }} {{ properties.obj['k'] }}",
        "{% if properties.total > 20 and traits.email contains '@' %}gold{% else %}x{% endif %}",
        "{% if properties.empty == empty %}e{% endif %}{% unless context.page %}n{% endunless %}",
        "{% assign t = properties.total %}{% capture c %}{{ t }}/{{ size }}{% endcapture %}{{ c }}",
        "{% assign properties = traits %}{{ properties.email }}",
        "{{ properties.tags | join: context.ip }} {{ properties.obj | size }}",
        "{{ properties }} {{ context.page }} {{ missing.x.y }}",
        "{% for x in properties.tags %}{{ x }}{% endfor %}",
    ] {
        let mapping = serde_json::json!({"out": {"@liquid": template}});
        let mut read = FieldsRead::Only(Default::default());
        mapping_fields_read(&mapping, &mut read);
        if read != FieldsRead::All {
            bounded += 1;
        }
        let Ok(compiled) = Mapping::compile(&mapping) else {
            continue;
        };
        let whole = compiled.apply(&data).map_err(|e| e.to_string());
        let part = compiled
            .apply(&cut(&data, &read))
            .map_err(|e| e.to_string());
        assert_eq!(whole, part, "{template}: read {read:?}");
    }
    assert!(bounded >= 10, "only {bounded} templates bounded");
}

#[test]
fn triggers_read_no_field_the_analysis_leaves_out() {
    let vectors = vectors("segment-fql.json");
    for case in vectors["evaluate_fql_cases"].as_array().unwrap() {
        let Ok(trigger) = Trigger::parse(case["fql"].as_str().unwrap()) else {
            continue;
        };
        let read = trigger.fields_read();
        let event = &case["event"];
        assert_eq!(
            trigger.matches(event),
            trigger.matches(&cut(event, &read)),
            "{}: {read:?}",
            case["id"]
        );
    }
}

/// The destination's cases from JSON text, as the Worker reads them (only the fields the
/// configuration reads), against the parsed event: the same outcome and the same bytes.
#[test]
fn the_worker_path_sends_the_same_bytes_as_the_whole_event() {
    let vectors = vectors("segment-launchdarkly-destination.json");
    for case in vectors["cases"].as_array().unwrap() {
        let settings = &case["settings"];
        let destination = Destination::new(
            settings["client_id"].as_str().unwrap(),
            settings["events_host_name"].as_str().unwrap_or(""),
        )
        .unwrap();
        let mapping = match case.get("mapping") {
            Some(overrides) => TrackEventMapping::with_overrides(overrides).unwrap(),
            None => TrackEventMapping::preset().unwrap(),
        };
        let config = BridgeConfig::single(destination, mapping);
        let route = pipeline::every_destination(&config);
        let options = Options::at(1_750_000_000_000);
        let event = case["event"].clone();
        let whole = pipeline::process(
            &config,
            &route,
            Events::Parsed(std::slice::from_ref(&event)),
            options,
        );
        let text = Value::Array(vec![event]).to_string();
        let received = read_as_the_worker(&config, &text);
        let read = pipeline::process(
            &config,
            &route,
            Events::Received(&received, &Limits::SEGMENT),
            options,
        );
        assert_eq!(whole.outcomes, read.outcomes, "{}", case["name"]);
        assert_eq!(
            whole.payloads.iter().map(|p| &p.body).collect::<Vec<_>>(),
            read.payloads.iter().map(|p| &p.body).collect::<Vec<_>>(),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn the_preset_reads_no_context() {
    let config = BridgeConfig::single(
        Destination::new("env", "").unwrap(),
        TrackEventMapping::preset().unwrap(),
    );
    let read = config.fields_read();
    for field in [
        "type",
        "event",
        "userId",
        "anonymousId",
        "messageId",
        "properties",
        "timestamp",
    ] {
        assert!(read.contains(field), "{field}");
    }
    // `integrations` addresses destinations (the Segment envelope); it is small.
    assert!(read.contains("integrations"));
    for field in ["context", "traits", "writeKey", "sentAt"] {
        assert!(!read.contains(field), "{field}");
    }
}

/// Consent lives in `context`: a destination that checks it makes the bridge read `context`,
/// and the Worker's path decides as the parsed event does.
#[test]
fn consent_and_integrations_are_read_where_the_envelope_needs_them() {
    use segment_ld_bridge::config::read_document;
    let config = read_document(&serde_json::json!({
        "destinations": [{"name": "d", "client_side_id": "env", "required_consent": ["Analytics"]}],
        "sources": [{"name": "s", "allow_unsigned": true, "default": true}]
    }))
    .unwrap();
    assert!(config.fields_read().contains("context"));
    assert!(config.fields_read().contains("integrations"));
    let events = serde_json::json!([
        {"type": "track", "event": "E", "userId": "u1",
         "context": {"consent": {"categoryPreferences": {"Analytics": true}}}},
        {"type": "track", "event": "E", "userId": "u2",
         "context": {"consent": {"categoryPreferences": {"Analytics": false}}}},
        {"type": "track", "event": "E", "userId": "u3", "integrations": {"LaunchDarkly": false},
         "context": {"consent": {"categoryPreferences": {"Analytics": true}}}}
    ]);
    let route = pipeline::every_destination(&config);
    let options = Options::at(1_750_000_000_000);
    let parsed = events.as_array().unwrap().clone();
    let whole = pipeline::process(&config, &route, Events::Parsed(&parsed), options);
    let text = events.to_string();
    let received = read_as_the_worker(&config, &text);
    let read = pipeline::process(
        &config,
        &route,
        Events::Received(&received, &Limits::SEGMENT),
        options,
    );
    let reasons: Vec<&str> = read.outcomes.iter().map(|o| o.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["track_event", "no_consent", "disabled_by_integrations"]
    );
    assert_eq!(whole.outcomes, read.outcomes);
}

/// `properties` copied as JSON text (the preset copies them whole into `data`): for every
/// shape of `properties`, the Worker's path sends the bytes and gives the outcomes of the
/// parsed event, including where the copy is refused (a repeated key, an escape in a key) and
/// where the event cannot be read (a number out of range: the same message).
#[test]
fn copied_properties_send_the_bytes_of_the_built_value() {
    use segment_ld_bridge::segment::PropertiesRead;
    let config = BridgeConfig::single(
        Destination::new("env", "").unwrap(),
        TrackEventMapping::preset().unwrap(),
    );
    assert_eq!(
        config.properties_read(),
        &PropertiesRead::Copied(vec!["revenue".into(), "value".into()])
    );
    let properties = [
        r#"{}"#,
        r#"{ "revenue" : 2.50, "currency":"USD", "n": [1, -0, 1E2, 0.1, 18446744073709551616] }"#,
        r#"{"value": "3", "text": "tab\t \u00e9 \/ \" \\ \ud83d\ude00 é"}"#,
        r#"{"revenue": 1, "revenue": 2, "value": 3}"#,
        r#"{"k\u0065y": 1, "revenue": 4}"#,
        r#"{"revenue": null, "value": {"nested": [{"deep": true}]}}"#,
        r#"{"revenue": "12.5"}"#,
        r#"{"revenue": -1e308, "other": 1e-320}"#,
        r#"[1, 2]"#,
        r#""text""#,
        r#"null"#,
        r#"17"#,
    ];
    let mut text = String::from("[");
    for (at, properties) in properties.iter().enumerate() {
        text.push_str(&format!(
            r#"{{"type":"track","event":"E{at}","userId":"u{at}","messageId":"m{at}","properties":{properties}}},"#
        ));
    }
    // Repeated `properties`: the last counts, copied or not.
    text.push_str(
        r#"{"type":"track","event":"R","userId":"u","properties":{"a":1},"properties":{"b":2}},"#,
    );
    text.push_str(
        r#"{"type":"track","event":"S","userId":"u","properties":{"a":1},"properties":[3]},"#,
    );
    // Identity normalised (an empty userId): the event is copied before it is mapped.
    text.push_str(
        r#"{"type":"track","event":"N","userId":"","anonymousId":"a","properties":{"revenue":5}},"#,
    );
    // Out of range: unreadable, alone.
    text.push_str(r#"{"type":"track","event":"X","userId":"u","properties":{"revenue":1e400}}]"#);
    let parsed = inbound::parse_events(text.replace("1e400", "1").as_bytes()).unwrap();
    let route = pipeline::every_destination(&config);
    let options = Options::at(1_750_000_000_000);
    let received = read_as_the_worker(&config, &text);
    // Copied where they can be, built where they cannot.
    let copied: Vec<bool> = (0..received.events.len())
        .map(|index| received.copied_properties(index).is_some())
        .collect();
    assert_eq!(
        copied,
        [
            true, true, true, false, false, true, true, true, false, false, false, false, true,
            false, true, false
        ]
    );
    assert_eq!(received.unreadable.len(), 1);
    let read = pipeline::process(
        &config,
        &route,
        Events::Received(&received, &Limits::SEGMENT),
        options,
    );
    let whole = pipeline::process(&config, &route, Events::Parsed(&parsed), options);
    let last = parsed.len() - 1;
    assert_eq!(whole.outcomes[..last], read.outcomes[..last]);
    assert_eq!(read.outcomes[last].reason.as_str(), "unreadable_event");
    assert!(read.outcomes[last].message.contains("number out of range"));
    let bodies = |processed: &pipeline::Processed| -> Vec<String> {
        processed.payloads.iter().map(|p| p.body.clone()).collect()
    };
    // The parsed request's last event (its number made readable) is accepted; the rest match.
    let whole_body: Value = serde_json::from_str(&bodies(&whole)[0]).unwrap();
    let read_body: Value = serde_json::from_str(&bodies(&read)[0]).unwrap();
    let whole_events = whole_body.as_array().unwrap();
    assert_eq!(
        &whole_events[..whole_events.len() - 1],
        read_body.as_array().unwrap().as_slice()
    );
    let body = &bodies(&read)[0];
    assert!(body.contains(r#""data":{"revenue":2.5,"currency":"USD","n":[1,-0.0,100.0,0.1,1.8446744073709552e+19]}"#), "{body}");
    // Byte for byte: the same events written by the parsed path.
    let without_last = format!("{}]", &text[..text.rfind(",{").unwrap()]);
    let parsed = inbound::parse_events(without_last.as_bytes()).unwrap();
    let whole = pipeline::process(&config, &route, Events::Parsed(&parsed), options);
    assert_eq!(bodies(&whole), bodies(&read));
}

/// What makes `properties` built again: a trigger or a mapping that reads them other than by
/// members, or a mapping the fast path cannot take.
#[test]
fn properties_are_copied_only_where_nothing_else_reads_them() {
    use segment_ld_bridge::config::read_document;
    use segment_ld_bridge::segment::PropertiesRead;
    let read = |subscription: Value| {
        read_document(&serde_json::json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "subscriptions": [subscription],
            "sources": [{"name": "s", "allow_unsigned": true, "default": true}]
        }))
        .unwrap()
        .properties_read()
        .clone()
    };
    let copied =
        |keys: &[&str]| PropertiesRead::Copied(keys.iter().map(|k| Box::from(*k)).collect());
    assert_eq!(
        read(serde_json::json!({"name": "p", "destinations": ["d"]})),
        copied(&["revenue", "value"])
    );
    assert_eq!(
        read(serde_json::json!({"name": "p", "destinations": ["d"],
            "mapping": {"metric_value": {"@path": "$.properties.total.amount"}, "user_key": {"@path": "$.properties.account"}}})),
        copied(&["account", "total"])
    );
    for subscription in [
        serde_json::json!({"name": "t", "destinations": ["d"], "trigger": "type = \"track\" and properties.total > 1"}),
        serde_json::json!({"name": "w", "destinations": ["d"], "mapping": {"metric_value": {"@path": "$.properties"}}}),
        serde_json::json!({"name": "e", "destinations": ["d"], "mapping": {"event_properties": {"@path": "$.context"}}}),
        serde_json::json!({"name": "l", "destinations": ["d"], "mapping": {"event_name": {"@template": "{{event}}!"}}}),
        serde_json::json!({"name": "r", "destinations": ["d"], "mapping": {"user_key": {"@path": "$."}}}),
    ] {
        assert_eq!(
            read(subscription.clone()),
            PropertiesRead::Built,
            "{subscription}"
        );
    }
}
