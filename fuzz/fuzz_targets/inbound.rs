//! The inbound parser and the whole request path: any bytes as a Segment webhook body, a
//! Tracking API body, an `X-Signature` or an `Authorization` header. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use segment_ld_bridge::api::{
    self, DeliveryReport, IngestPlan, IngestRequest, OutcomeDetail, Route,
};
use segment_ld_bridge::config::{read_document, BridgeConfig};
use segment_ld_bridge::inbound::{self, Limits, TrackingCall};
use segment_ld_bridge::segment::{FieldsRead, PropertiesRead, ValueRead};
use serde_json::json;
use std::sync::OnceLock;

/// Small limits, so the per-event, per-request and event-count refusals are reachable with
/// inputs of a few KB.
const SMALL: Limits = Limits {
    max_request_bytes: 4096,
    max_event_bytes: 512,
    max_events: 8,
};

const CALLS: [TrackingCall; 7] = [
    TrackingCall::Batch,
    TrackingCall::Single("track"),
    TrackingCall::Single("identify"),
    TrackingCall::Single("page"),
    TrackingCall::Single("screen"),
    TrackingCall::Single("group"),
    TrackingCall::Single("alias"),
];

struct Configs {
    /// The minimal document: one destination, the Track Event preset, one default source open to
    /// unsigned webhooks.
    minimal: BridgeConfig,
    /// Sources with write keys and source ids, and subscriptions with triggers and mappings.
    routed: BridgeConfig,
}

fn configs() -> &'static Configs {
    static CONFIGS: OnceLock<Configs> = OnceLock::new();
    CONFIGS.get_or_init(|| Configs {
        minimal: read_document(&json!({"destinations": [{"name": "d", "client_side_id": "c"}],
                                       "sources": [{"name": "dev", "default": true, "allow_unsigned": true}]}))
            .expect("the minimal configuration is valid"),
        routed: read_document(&json!({
            "destinations": [
                {"name": "d", "client_side_id": "c", "metric_event_keys": ["Order Completed"]},
                {"name": "e", "client_side_id": "e", "events_host": "https://events.example.com",
                 "required_consent": ["Analytics"]}
            ],
            "subscriptions": [
                {"name": "Track Event", "destinations": ["d"]},
                {"name": "revenue", "trigger": "type = \"track\" and properties.revenue exists",
                 "mapping": {"event_name": {"@template": "{{event}} revenue"},
                             "metric_value": {"@path": "$.properties.revenue"}},
                 "destinations": ["e"]},
                {"name": "off", "trigger": "event = \"X\"", "enabled": false, "destinations": ["d", "e"]}
            ],
            "sources": [
                {"name": "web", "source_ids": ["web"], "write_keys": ["wk"], "destinations": ["d"],
                 "allow_unsigned": true},
                {"name": "all", "write_keys": ["wk2"], "destinations": ["d", "e"], "default": true}
            ]
        }))
        .expect("the routed configuration is valid"),
    })
}

/// A body read whole and read with `properties` copied: the same verdicts on each event, and
/// each copy the text serde_json writes for the value read whole.
fn same_reading(whole: &inbound::ReceivedEvents, copying: &inbound::ReceivedEvents) {
    assert_eq!(whole.events.len(), copying.events.len());
    assert_eq!(whole.oversized, copying.oversized);
    assert_eq!(whole.unreadable, copying.unreadable);
    for (index, full) in whole.values().iter().enumerate() {
        if let Some(text) = copying.copied_properties(index) {
            let written = serde_json::to_string(&full["properties"]).expect("writes");
            assert_eq!(text, written);
        }
        // The other fields read (as fields, without a map, where `properties` are copied) are
        // the values read whole.
        let unread = copying.oversized.contains(&index)
            || copying.unreadable.iter().any(|(at, _)| *at == index);
        if let (false, Some(whole), Some(read)) = (unread, whole.event(index), copying.event(index)) {
            assert_eq!(whole.is_object(), read.is_object());
            for name in &copying.names {
                if &**name != "properties" {
                    assert_eq!(read.get(name), whole.get(name), "{name}");
                }
            }
        }
    }
}

/// Fields read in part: `context` in two members, `properties` in `revenue` and in the `sku`
/// and `price` of each of its `products`, `traits` in one member.
fn partial() -> &'static FieldsRead {
    static PARTIAL: OnceLock<FieldsRead> = OnceLock::new();
    PARTIAL.get_or_init(|| {
        let mut read = FieldsRead::pipeline();
        read.add_path("context", &["campaign", "source"]);
        read.add_path("context", &["consent", "categoryPreferences"]);
        read.add_path("properties", &["revenue"]);
        let mut item = ValueRead::NOTHING;
        item.add_path(&["sku"]);
        item.add_path(&["price"]);
        read.add_path_read("properties", &["products"], &ValueRead::Items(Box::new(item)));
        read.add_path("traits", &["plan"]);
        read
    })
}

/// Plans a request and, when there is something to deliver, answers as if every delivery
/// was queued (the report constructor least likely to change).
fn plan(config: &BridgeConfig, route: &Route, request: &IngestRequest<'_>, limits: &Limits) {
    if let IngestPlan::Deliver(delivery) = api::plan_ingest(config, route, request, limits, 0) {
        let reports: Vec<DeliveryReport> = delivery
            .processed
            .payloads
            .iter()
            .map(|_| DeliveryReport::queued())
            .collect();
        let _ = api::finish(&delivery, &reports);
        let _ = api::finish(&delivery, &[]);
    }
}

fuzz_target!(|data: &[u8]| {
    let configs = configs();
    let text = std::str::from_utf8(data).ok();

    // The parsers on their own.
    for limits in [&Limits::SEGMENT, &SMALL] {
        let whole = inbound::read_events(data, limits, &FieldsRead::All, &PropertiesRead::Built);
        if let Ok(received) = &whole {
            assert!(received.events.len() <= limits.max_events);
            assert!(received
                .oversized
                .iter()
                .all(|&i| i < received.events.len()));
        }
        // Reading only some fields, as a configuration reads them and in part (members of
        // objects, items of arrays alike): the same verdict on the body, the same sizes, and
        // every event read whole, cut to what is read, is the event read so (whichever reader
        // read it).
        for selected in [configs.routed.fields_read(), partial()] {
            let some = inbound::read_events(data, limits, selected, &PropertiesRead::Built);
            assert_eq!(whole.is_ok(), some.is_ok());
            if let (Ok(whole), Ok(some)) = (&whole, &some) {
                assert_eq!(whole.events.len(), some.events.len());
                assert_eq!(whole.oversized, some.oversized);
                assert_eq!(whole.unreadable, some.unreadable);
                for (index, (full, part)) in whole.values().iter().zip(&some.values()).enumerate() {
                    if whole.unreadable.iter().any(|(at, _)| *at == index) {
                        continue;
                    }
                    match (full, part) {
                        (serde_json::Value::Object(_), serde_json::Value::Object(_)) => {
                            assert_eq!(&selected.cut(full), part);
                        }
                        (full, part) => assert_eq!(full, part),
                    }
                }
            }
        }
        // `properties` copied as text (the preset): the same verdicts, and each copy is the
        // text serde_json writes for the value read whole.
        let preset = &configs.minimal;
        let copying = inbound::read_events(data, limits, preset.fields_read(), preset.properties_read());
        assert_eq!(whole.is_ok(), copying.is_ok());
        if let (Ok(whole), Ok(copying)) = (&whole, &copying) {
            same_reading(whole, copying);
        }
        // The same for a Tracking API batch, read in one pass where it can be.
        let whole_batch = inbound::read_tracking_call(
            TrackingCall::Batch,
            data,
            limits,
            &FieldsRead::All,
            &PropertiesRead::Built,
        );
        let copying_batch = inbound::read_tracking_call(
            TrackingCall::Batch,
            data,
            limits,
            preset.fields_read(),
            preset.properties_read(),
        );
        assert_eq!(whole_batch.is_ok(), copying_batch.is_ok());
        if let (Ok(whole), Ok(copying)) = (&whole_batch, &copying_batch) {
            same_reading(&whole.received, &copying.received);
        }
        for call in CALLS {
            if let Ok(request) = inbound::read_tracking_call(call, data, limits, &FieldsRead::All, &PropertiesRead::Built) {
                // Every event, with what it takes from its batch.
                for index in 0..request.received.events.len() {
                    assert!(request.received.event(index).is_some());
                }
            }
        }
    }
    let _ = inbound::signed_bytes(data);
    let _ = inbound::body_write_key(data);
    let signed = inbound::signed_part(data);
    assert!(signed.bytes.len() <= data.len());
    let _ = inbound::verify_signature(b"secret", data, Some("00"));
    let _ = inbound::verify_signature(b"secret", data, text);
    let _ = inbound::basic_auth_write_key(text);
    if let Some(text) = text {
        let _ = inbound::TrackingCall::from_path(text);
        let _ = api::route("POST", text);
    }
    // A body signed correctly is always accepted by the signature check.
    let signature = inbound::sign(b"secret", inbound::signed_bytes(data));
    assert!(inbound::verify_signature(b"secret", data, Some(&signature)).is_ok());

    // The whole request path.
    let webhook = Route::Webhook { source_id: None };
    let request = IngestRequest {
        content_type: Some("application/json"),
        authorization: None,
        signature: None,
        body: data,
        outcomes: OutcomeDetail::Notable,
    };
    plan(&configs.minimal, &webhook, &request, &Limits::SEGMENT);
    plan(&configs.minimal, &webhook, &request, &SMALL);
    plan(&configs.routed, &webhook, &request, &Limits::SEGMENT);
    plan(
        &configs.routed,
        &Route::Webhook {
            source_id: Some("web".to_string()),
        },
        &request,
        &Limits::SEGMENT,
    );
    // The Tracking API, with the write key in a Basic header ("wk:") or only in the body.
    for call in [TrackingCall::Batch, TrackingCall::Single("track")] {
        let route = Route::TrackingApi(call);
        let authorized = IngestRequest {
            authorization: Some("Basic d2s6"),
            ..request
        };
        plan(&configs.routed, &route, &authorized, &Limits::SEGMENT);
        plan(&configs.routed, &route, &request, &SMALL);
    }
    // The bytes as the headers instead of the body.
    if let Some(text) = text {
        let headers = IngestRequest {
            content_type: Some(text),
            authorization: Some(text),
            signature: Some(text),
            body: br#"{"type":"track","event":"E","userId":"u"}"#,
            outcomes: OutcomeDetail::All,
        };
        plan(
            &configs.routed,
            &Route::TrackingApi(TrackingCall::Batch),
            &headers,
            &SMALL,
        );
        plan(&configs.routed, &webhook, &headers, &SMALL);
    }
});
