use segment_ld_bridge::mapping::Mapping;
use serde_json::json;
use std::time::Instant;
#[test]
#[ignore]
fn bench() {
    let mapping = json!({
        "user_key": {"@if": {"exists": {"@path": "$.userId"}, "then": {"@path": "$.userId"}, "else": {"@path": "$.anonymousId"}}},
        "user_id": {"@path": "$.userId"},
        "anonymous_id": {"@path": "$.anonymousId"},
        "event_name": {"@path": "$.event"},
        "metric_value": {"@path": "$.properties.revenue"},
        "properties": {"@path": "$.properties"},
        "timestamp": {"@path": "$.timestamp"},
        "context_kind": "user",
        "label": {"@template": "{{event}} by {{userId}}"},
        "lower": {"@case": {"operator": "lower", "value": {"@path": "$.event"}}},
    });
    let payload = json!({
        "type": "track", "event": "Order Completed", "userId": "user-1234", "anonymousId": "anon-5678",
        "timestamp": "2024-01-01T00:00:00.000Z", "messageId": "m-1",
        "properties": {"revenue": 42.5, "currency": "USD", "products": [{"id": "p1", "price": 10}, {"id": "p2", "price": 32.5}], "coupon": null},
        "context": {"library": {"name": "analytics.js", "version": "2.0"}, "ip": "1.2.3.4", "userAgent": "Mozilla/5.0"}
    });
    let m = Mapping::compile(&mapping).unwrap();
    let n = 200_000;
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..n { total += m.apply(&payload).unwrap().as_object().unwrap().len(); }
    let el = start.elapsed();
    println!("apply: {:?} per event ({total})", el / n);
    let start = Instant::now();
    for _ in 0..1 { let _ = Mapping::compile(&mapping).unwrap(); }
    println!("compile: {:?}", start.elapsed() / (n/10));
}
