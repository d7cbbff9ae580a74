//! Every way Segment data reaches the bridge, as the pure request planning decides it: limits,
//! content types, webhook signatures, the HTTP Tracking API and its write keys, CORS.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::api::{
    self, ApiResponse, DeliveryReport, DeliveryResult, IngestPlan, IngestRequest, OutcomeDetail,
    Route,
};
use segment_ld_bridge::config::BridgeConfig;
use segment_ld_bridge::inbound::{sign, Limits};
use segment_ld_bridge::pipeline::OutcomeStatus;
use serde_json::{json, Value};

const SECRET_WEB: &str = "web-shared-secret";
const SECRET_IOS: &str = "ios-shared-secret";

fn config() -> BridgeConfig {
    let document = json!({
        "destinations": [
            {"name": "web-env", "client_side_id": "web-env"},
            {"name": "ios-env", "client_side_id": "ios-env"}
        ],
        "sources": [
            {"name": "web", "source_ids": ["web"], "write_keys": ["wk-web"], "webhook_secret": "WEB_SECRET",
             "destinations": ["web-env"]},
            {"name": "ios", "write_keys": ["wk-ios"], "webhook_secret": "IOS_SECRET", "destinations": ["ios-env"],
             "accept_batched_webhooks": true},
            {"name": "open", "source_ids": ["open"], "destinations": ["web-env"], "allow_unsigned": true}
        ]
    })
    .to_string();
    BridgeConfig::from_vars(|name| match name {
        "BRIDGE_CONFIG" => Some(document.clone()),
        "WEB_SECRET" => Some(SECRET_WEB.to_string()),
        "IOS_SECRET" => Some(SECRET_IOS.to_string()),
        _ => None,
    })
    .expect("valid configuration")
}

struct Call<'a> {
    method: &'a str,
    path: &'a str,
    content_type: Option<&'a str>,
    authorization: Option<&'a str>,
    signature: Option<String>,
    body: Vec<u8>,
}

fn post(path: &str, body: impl Into<Vec<u8>>) -> Call<'_> {
    Call {
        method: "POST",
        path,
        content_type: Some("application/json"),
        authorization: None,
        signature: None,
        body: body.into(),
    }
}

/// Runs a call through routing and planning; deliveries all "succeed" with 202.
fn answer(config: &BridgeConfig, call: &Call<'_>, limits: &Limits) -> (ApiResponse, Vec<String>) {
    let route = match api::route(call.method, call.path) {
        Ok(Route::Preflight) => return (api::preflight(), Vec::new()),
        Ok(route) => route,
        Err(response) => return (response, Vec::new()),
    };
    let request = IngestRequest {
        content_type: call.content_type,
        authorization: call.authorization,
        signature: call.signature.as_deref(),
        body: &call.body,
        outcomes: OutcomeDetail::All,
    };
    match api::plan_ingest(config, &route, &request, limits, 0) {
        IngestPlan::Respond(response) => (response, Vec::new()),
        IngestPlan::Deliver(delivery) => {
            let reports: Vec<_> = delivery
                .processed
                .payloads
                .iter()
                .map(|_| DeliveryReport {
                    status: Some(202),
                    error: None,
                    attempts: 1,
                    result: DeliveryResult::Delivered,
                })
                .collect();
            let destinations = delivery
                .processed
                .payloads
                .iter()
                .map(|d| d.destination.clone())
                .collect();
            (api::finish(&delivery, &reports), destinations)
        }
    }
}

fn track(event: &str) -> Value {
    json!({"type": "track", "event": event, "userId": "u-1", "messageId": event})
}

fn code(response: &ApiResponse) -> &'static str {
    response.error_code().map_or("", |code| code.as_str())
}

#[test]
fn webhook_signatures_single_events() {
    let config = config();
    let body = track("A").to_string();
    let mut call = post("/segment/web", body.clone());
    call.signature = Some(sign(SECRET_WEB.as_bytes(), body.as_bytes()));
    let (response, destinations) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(destinations, ["web-env"]);

    call.signature = Some(sign(b"forged", body.as_bytes()));
    let (forged, destinations) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!((forged.status, code(&forged)), (401, "invalid_signature"));
    assert!(destinations.is_empty(), "nothing is delivered");

    call.signature = None;
    let (unsigned, _) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(
        (unsigned.status, code(&unsigned)),
        (401, "missing_signature")
    );

    let mut tampered = post("/segment/web", track("B").to_string());
    tampered.signature = Some(sign(SECRET_WEB.as_bytes(), body.as_bytes()));
    let (response, _) = answer(&config, &tampered, &Limits::SEGMENT);
    assert_eq!(response.status, 401);
    let text = response.body.to_string();
    assert!(
        !text.contains(SECRET_WEB) && !text.contains(SECRET_IOS),
        "{text}"
    );
}

#[test]
fn webhook_signatures_batches_sign_the_first_event() {
    let config = config();
    // Segment's batched body: JSON.stringify of the array, signed over JSON.stringify(body[0]).
    let first = track("A").to_string();
    let body = format!("[{first},{}]", track("B"));
    let mut call = post("/segment", body.clone());
    call.signature = Some(sign(SECRET_IOS.as_bytes(), first.as_bytes()));
    let (response, destinations) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        destinations,
        ["ios-env"],
        "the secret that signed names the source"
    );
    assert_eq!(response.to_json()["accepted"], 2);

    call.signature = Some(sign(SECRET_IOS.as_bytes(), body.as_bytes()));
    let (whole_body, _) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(
        whole_body.status, 401,
        "Segment signs the first element, not the array"
    );
    // A source that does not accept batched webhooks refuses them: the events after the first
    // are not covered by the signature, so a captured request could carry forged ones.
    let mut call = post("/segment", body.clone());
    call.signature = Some(sign(SECRET_WEB.as_bytes(), first.as_bytes()));
    let (refused, _) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(
        (refused.status, code(&refused)),
        (401, "batched_webhook_refused")
    );
    assert!(refused.to_json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("1 events"));
    // A batch of one is covered whole.
    let mut call = post("/segment/web", format!("[{first}]"));
    call.signature = Some(sign(SECRET_WEB.as_bytes(), first.as_bytes()));
    assert_eq!(answer(&config, &call, &Limits::SEGMENT).0.status, 200);
}

#[test]
fn unsigned_requests_to_open_sources_pass_and_others_need_a_source() {
    let config = config();
    let (open, destinations) = answer(
        &config,
        &post("/segment/open", track("A").to_string()),
        &Limits::SEGMENT,
    );
    assert_eq!(open.status, 200);
    assert_eq!(destinations, ["web-env"]);
    let (nameless, _) = answer(
        &config,
        &post("/segment", track("A").to_string()),
        &Limits::SEGMENT,
    );
    assert_eq!((nameless.status, code(&nameless)), (400, "source_required"));
}

#[test]
fn tracking_api_write_keys_by_basic_auth_or_body() {
    let config = config();
    let mut call = post(
        "/v1/track",
        json!({"event": "Signed Up", "userId": "u"}).to_string(),
    );
    call.authorization = Some("Basic d2std2ViOg=="); // "wk-web:"
    let (response, destinations) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.to_json()["success"], true);
    assert_eq!(destinations, ["web-env"]);
    assert!(response
        .headers
        .contains(&("Access-Control-Allow-Origin", "*".to_string())));

    let body =
        json!({"batch": [track("A"), {"type": "page", "userId": "u"}], "writeKey": "wk-ios"});
    let (batch, destinations) = answer(
        &config,
        &post("/v1/batch", body.to_string()),
        &Limits::SEGMENT,
    );
    assert_eq!(batch.status, 200);
    assert_eq!(destinations, ["ios-env"]);
    assert_eq!(
        batch.to_json()["outcomes"][1]["status"],
        "skipped",
        "non-track calls are accepted and skipped"
    );

    let identify = json!({"userId": "u", "traits": {"plan": "pro"}, "writeKey": "wk-web"});
    let (identify, _) = answer(
        &config,
        &post("/v1/identify", identify.to_string()),
        &Limits::SEGMENT,
    );
    assert_eq!(identify.status, 200);
    assert_eq!(identify.to_json()["success"], true);
    assert_eq!(
        identify.to_json()["outcomes"][0]["reason"],
        "not_a_track_event"
    );
}

#[test]
fn tracking_api_refuses_unknown_or_missing_write_keys() {
    let config = config();
    let mut call = post(
        "/v1/track",
        json!({"event": "E", "userId": "u"}).to_string(),
    );
    call.authorization = Some("Basic bm9wZTo="); // "nope:"
    let (unknown, destinations) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!((unknown.status, code(&unknown)), (401, "unknown_write_key"));
    assert_eq!(unknown.to_json()["success"], false);
    assert!(destinations.is_empty());
    assert!(!unknown.body.to_string().contains("nope"));
    let (missing, _) = answer(&config, &post("/v1/track", "{}"), &Limits::SEGMENT);
    assert_eq!((missing.status, code(&missing)), (401, "missing_write_key"));
}

#[test]
fn cors_preflight() {
    let config = config();
    let mut call = post("/v1/batch", "");
    call.method = "OPTIONS";
    let (preflight, _) = answer(&config, &call, &Limits::SEGMENT);
    assert_eq!(preflight.status, 204);
    let headers: Vec<&str> = preflight.headers.iter().map(|(name, _)| *name).collect();
    assert!(headers.contains(&"Access-Control-Allow-Methods"));
    assert!(headers.contains(&"Access-Control-Allow-Headers"));
}

#[test]
fn every_limit_and_error_status() {
    let config = config();
    let limits = Limits::SEGMENT;
    let with_key = |path: &'static str, body: String| {
        let mut call = post(path, body);
        call.authorization = Some("Basic d2std2ViOg==");
        call
    };
    // 32 KB per event.
    let big_event =
        json!({"event": "E", "userId": "u", "properties": {"blob": "x".repeat(33 * 1024)}});
    let (response, _) = answer(
        &config,
        &with_key("/v1/track", big_event.to_string()),
        &limits,
    );
    assert_eq!((response.status, code(&response)), (400, "event_too_large"));
    assert!(response.to_json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("32 KB"));
    // Inside a batch, the oversized event is rejected alone.
    let mut oversized = big_event.clone();
    oversized["type"] = json!("track");
    let batch = json!({"batch": [track("A"), oversized, track("C")]});
    let (response, _) = answer(&config, &with_key("/v1/batch", batch.to_string()), &limits);
    assert_eq!(response.status, 200);
    let statuses: Vec<&str> = response
        .ingest()
        .expect("an ingest answer")
        .outcomes
        .iter()
        .map(|o| o.reason.as_str())
        .collect();
    assert_eq!(statuses, ["track_event", "event_too_large", "track_event"]);
    // 500 KB per request.
    let heavy: Vec<Value> = (0..20)
        .map(|i| json!({"type": "track", "event": format!("E{i}"), "userId": "u", "properties": {"blob": "x".repeat(30 * 1024)}}))
        .collect();
    let (response, _) = answer(
        &config,
        &with_key("/v1/batch", json!({"batch": heavy}).to_string()),
        &limits,
    );
    assert_eq!(
        (response.status, code(&response)),
        (413, "request_too_large")
    );
    // 2,500 events per batch.
    let many: Vec<Value> = (0..2_501).map(|_| json!({})).collect();
    let (response, _) = answer(
        &config,
        &with_key("/v1/batch", json!({"batch": many}).to_string()),
        &limits,
    );
    assert_eq!((response.status, code(&response)), (400, "too_many_events"));
    // Malformed JSON 400, wrong content type 415, wrong method 405, unknown path 404.
    let (response, _) = answer(
        &config,
        &with_key("/v1/track", "{\"event\":".to_string()),
        &limits,
    );
    assert_eq!((response.status, code(&response)), (400, "malformed_json"));
    // Bytes that are not UTF-8, in an event, a batch or an envelope: malformed JSON too.
    for body in [
        &b"{\"event\":\"E\xff\",\"userId\":\"u\"}"[..],
        b"[{\"event\":\"E\",\"userId\":\"\xc3\"}]",
        b"{\"batch\":[{\"event\":\"E\",\"userId\":\"u\"}],\"context\":\"\xe2\x82\"}",
    ] {
        let mut call = post("/v1/batch", body.to_vec());
        call.authorization = Some("Basic d2std2ViOg==");
        let (response, _) = answer(&config, &call, &limits);
        assert_eq!(
            (response.status, code(&response)),
            (400, "malformed_json"),
            "{body:?}"
        );
        assert!(
            response.to_json()["error"]["message"]
                .as_str()
                .is_some_and(|message| message.contains("line 1")),
            "{}",
            response.body
        );
    }
    let mut form = with_key("/v1/track", "event=E".to_string());
    form.content_type = Some("application/x-www-form-urlencoded");
    let (response, _) = answer(&config, &form, &limits);
    assert_eq!(
        (response.status, code(&response)),
        (415, "unsupported_media_type")
    );
    let mut text_plain = with_key(
        "/v1/track",
        json!({"event": "E", "userId": "u"}).to_string(),
    );
    text_plain.content_type = Some("text/plain;charset=UTF-8");
    let (response, _) = answer(&config, &text_plain, &limits);
    assert_eq!(response.status, 200, "analytics.js sends text/plain");
    let mut get = with_key("/v1/track", String::new());
    get.method = "GET";
    let (response, _) = answer(&config, &get, &limits);
    assert_eq!(
        (response.status, code(&response)),
        (405, "method_not_allowed")
    );
    let (response, _) = answer(&config, &post("/v2/track", "{}"), &limits);
    assert_eq!((response.status, code(&response)), (404, "not_found"));
}

#[test]
fn a_bad_event_in_a_batch_never_blocks_the_others() {
    let config = config();
    let body = json!({"writeKey": "wk-web", "batch": [track("A"), {"type": "track", "userId": "u"}, "junk", track("D")]});
    let (response, destinations) = answer(
        &config,
        &post("/v1/batch", body.to_string()),
        &Limits::SEGMENT,
    );
    assert_eq!(response.status, 200);
    assert_eq!(destinations, ["web-env"]);
    assert_eq!(response.to_json()["accepted"], 2);
    assert_eq!(response.to_json()["rejected"], 2);
    let _ = OutcomeStatus::Accepted;
}

#[test]
fn simple_configuration_with_a_shared_secret_and_a_write_key() {
    let config = BridgeConfig::from_vars(|name| match name {
        "LD_CLIENT_SIDE_ID" => Some("env".into()),
        "SEGMENT_SHARED_SECRET" => Some("s3cret".into()),
        "SEGMENT_WRITE_KEY" => Some("wk".into()),
        _ => None,
    })
    .expect("valid");
    let body = track("A").to_string();
    let (unsigned, _) = answer(&config, &post("/segment", body.clone()), &Limits::SEGMENT);
    assert_eq!(unsigned.status, 401);
    let mut signed = post("/segment", body.clone());
    signed.signature = Some(sign(b"s3cret", body.as_bytes()));
    assert_eq!(answer(&config, &signed, &Limits::SEGMENT).0.status, 200);
    let mut api_call = post(
        "/v1/track",
        json!({"event": "E", "userId": "u"}).to_string(),
    );
    api_call.authorization = Some("Basic d2s6"); // "wk:"
    assert_eq!(answer(&config, &api_call, &Limits::SEGMENT).0.status, 200);
    let health = api::health(
        Ok(&config),
        api::HealthView {
            admin: true,
            dev_mode: false,
            catalogue: None,
        },
    )
    .body
    .to_string();
    assert!(
        !health.contains("s3cret") && !health.contains("\"wk\""),
        "{health}"
    );
}
