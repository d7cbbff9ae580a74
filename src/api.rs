//! The bridge's HTTP API as pure decisions: routing, JSON errors, and the answer to Segment
//! once deliveries are done. The Worker adapter only moves bytes.

use crate::config::{BridgeConfig, ConfigProblem, RoutingError, SourceHint, SourceRoute};
use crate::delivery::DeadLetterReason;
use crate::inbound::{
    basic_auth_write_key, body_write_key, check_request_size, read_events, read_tracking_call,
    signed_part, strip_scheme, verify_signature, Limits, SignatureError, TrackingCall,
};
use crate::pipeline::{process_received, OutcomeStatus, Processed};
use serde::Serialize;
use serde_json::{json, Value};

/// The bridge's version, as `/health` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A JSON response: status, extra headers and body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Value,
}

impl ApiResponse {
    /// A JSON response without extra headers.
    pub fn json(status: u16, body: Value) -> Self {
        ApiResponse {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// `{"error": {"code", "message"}}` with `status`.
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::json(status, error_body(code, &message.into()))
    }
}

fn error_body(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`.
    Health,
    /// `POST /segment` or `POST /segment/{source_id}`: Segment webhooks.
    Webhook {
        /// The source named in the path.
        source_id: Option<String>,
    },
    /// `POST /v1/track`, …, `/v1/batch`: Segment's HTTP Tracking API.
    TrackingApi(TrackingCall),
    /// `OPTIONS` on a Tracking API path: a CORS preflight.
    Preflight,
    /// `/admin/dead-letters…`: the dead-letter store (needs the admin token).
    Admin(AdminAction),
    /// `GET /dev/recent`: the last requests this isolate handled (dev mode or admin token).
    Recent,
}

/// What an admin request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminAction {
    /// `GET /admin/dead-letters`.
    ListDeadLetters,
    /// `POST /admin/dead-letters/replay` (body `{"payload_ids": [...]}`, or empty for all).
    ReplayDeadLetters,
    /// `DELETE /admin/dead-letters/{payload_id}`.
    DeleteDeadLetter(String),
}

/// CORS headers of the Tracking API, so analytics.js in a browser can send here.
pub const CORS_HEADERS: [(&str, &str); 4] = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "Content-Type, Authorization",
    ),
    ("Access-Control-Max-Age", "86400"),
];

/// The path of a serialised request URL, without query or fragment (`/` when it has none).
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |at| &url[at + 3..]);
    let path = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// Routes a request by method and path; unknown paths get 404, wrong methods 405.
pub fn route(method: &str, path: &str) -> Result<Route, ApiResponse> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let (route, allowed): (Route, &[&str]) = if path == "/health" {
        (Route::Health, &["GET", "HEAD"])
    } else if path == "/dev/recent" {
        (Route::Recent, &["GET"])
    } else if path == "/admin/dead-letters" {
        (Route::Admin(AdminAction::ListDeadLetters), &["GET"])
    } else if path == "/admin/dead-letters/replay" {
        (Route::Admin(AdminAction::ReplayDeadLetters), &["POST"])
    } else if let Some(id) = path
        .strip_prefix("/admin/dead-letters/")
        .filter(|id| !id.contains('/'))
    {
        (
            Route::Admin(AdminAction::DeleteDeadLetter(id.to_string())),
            &["DELETE"],
        )
    } else if path == "/segment" {
        (Route::Webhook { source_id: None }, &["POST"])
    } else if let Some(id) = path
        .strip_prefix("/segment/")
        .filter(|id| !id.contains('/'))
    {
        (
            Route::Webhook {
                source_id: Some(id.to_string()),
            },
            &["POST"],
        )
    } else if let Some(call) = TrackingCall::from_path(path) {
        if method == "OPTIONS" {
            return Ok(Route::Preflight);
        }
        (Route::TrackingApi(call), &["POST", "OPTIONS"])
    } else {
        return Err(ApiResponse::error(
            404,
            "not_found",
            format!("no route {path}; send Segment events to POST /segment, /segment/{{source_id}} or /v1/{{track,batch,...}} (GET /health reports status)"),
        ));
    };
    if allowed.contains(&method) {
        Ok(route)
    } else {
        let mut response = ApiResponse::error(
            405,
            "method_not_allowed",
            format!("{path} accepts {}, not {method}", allowed.join(", ")),
        );
        response.headers.push(("Allow", allowed.join(", ")));
        if matches!(route, Route::TrackingApi(_)) {
            add_cors(&mut response);
        }
        Err(response)
    }
}

/// The answer to a CORS preflight.
pub fn preflight() -> ApiResponse {
    let mut response = ApiResponse::json(204, Value::Null);
    add_cors(&mut response);
    response
}

/// Adds the Tracking API's CORS headers.
pub fn add_cors(response: &mut ApiResponse) {
    for (name, value) in CORS_HEADERS {
        response.headers.push((name, value.to_string()));
    }
}

/// The Worker secret that enables the admin routes.
pub const VAR_ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// `true` opens `/dev/recent` without the admin token (local development only).
pub const VAR_DEV_MODE: &str = "DEV_MODE";

/// Checks `Authorization: Bearer <admin token>` in constant time. Without a configured token the
/// admin routes do not exist (404).
pub fn check_admin(
    admin_token: Option<&str>,
    authorization: Option<&str>,
) -> Result<(), ApiResponse> {
    let Some(token) = admin_token.filter(|token| !token.is_empty()) else {
        return Err(ApiResponse::error(
            404,
            "admin_disabled",
            format!("the admin routes are disabled: set the Worker secret {VAR_ADMIN_TOKEN} to enable them"),
        ));
    };
    let given = authorization
        .and_then(|header| strip_scheme(header, "Bearer"))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        let mut response = ApiResponse::error(
            401,
            "unauthorized",
            "send the admin token as Authorization: Bearer <token>",
        );
        response
            .headers
            .push(("WWW-Authenticate", "Bearer".to_string()));
        Err(response)
    }
}

/// Whether `a` equals `b`, in a time that depends only on `b`'s length (the secret's).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = a.len() ^ b.len();
    for (index, byte) in b.iter().enumerate() {
        difference |= usize::from(a.get(index).copied().unwrap_or(0) ^ byte);
    }
    difference == 0
}

/// The payload ids a replay request names (`{"payload_ids": [...]}`); `None` (no body, or `{}`)
/// means all. Anything else is refused rather than read as "all".
pub fn replay_selection(body: &[u8]) -> Result<Option<Vec<String>>, ApiResponse> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Selection {
        payload_ids: Option<Vec<String>>,
    }
    if body.trim_ascii().is_empty() {
        return Ok(None);
    }
    match serde_json::from_slice::<Selection>(body) {
        Ok(Selection { payload_ids }) => Ok(payload_ids),
        Err(_) => Err(ApiResponse::error(
            400,
            "invalid_body",
            "send {\"payload_ids\": [\"...\"]} to replay some dead letters, or no body to replay them all",
        )),
    }
}

/// What the adapter knows of an incoming request to an ingest route.
#[derive(Clone, Copy, Debug)]
pub struct IngestRequest<'a> {
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `X-Signature` header.
    pub signature: Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
}

/// What to do with an ingest request: answer now, or deliver and then answer with [`finish`].
#[derive(Debug)]
pub enum IngestPlan {
    /// Answer at once (an error, or nothing to deliver is decided by [`finish`] too).
    Respond(ApiResponse),
    /// Deliver `processed.deliveries`, then call [`finish`].
    Deliver(Delivery),
}

/// Processed events waiting for their delivery reports.
#[derive(Debug)]
pub struct Delivery {
    /// Outcomes and requests.
    pub processed: Processed,
    /// The request came through the Tracking API (Segment-like answer, CORS).
    pub tracking_api: bool,
}

/// Decides what to do with a request to `/segment…` or `/v1/…`: content type, limits, source
/// and authentication, then the events themselves. Pure: the adapter does the I/O.
pub fn plan_ingest(
    config: &BridgeConfig,
    route: &Route,
    request: &IngestRequest<'_>,
    limits: &Limits,
    received_at_ms: i64,
) -> IngestPlan {
    let tracking_api = matches!(route, Route::TrackingApi(_));
    let refuse = |mut response: ApiResponse| {
        if tracking_api {
            response.body["success"] = json!(false);
            add_cors(&mut response);
        }
        IngestPlan::Respond(response)
    };
    if let Some(content_type) = request.content_type {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(media.as_str(), "application/json" | "text/plain" | "") {
            return refuse(ApiResponse::error(
                415,
                "unsupported_media_type",
                format!("Content-Type {media:?} is not accepted; send JSON with Content-Type: application/json"),
            ));
        }
    }
    // Limits before anything is read, authentication before anything is parsed.
    if let Err(error) = check_request_size(request.body.len(), limits) {
        return refuse(ApiResponse::error(413, error.code(), error.to_string()));
    }
    let (received, route) = match route {
        Route::TrackingApi(call) => {
            let write_key = basic_auth_write_key(request.authorization)
                .or_else(|| body_write_key(request.body));
            let Some(write_key) = write_key else {
                return refuse(ApiResponse::error(
                    401,
                    "missing_write_key",
                    "send the source's write key with HTTP Basic auth (the write key as user name, no password) or as writeKey in the body",
                ));
            };
            let route = match config.route(SourceHint::WriteKey(&write_key)) {
                Ok(route) => route,
                Err(error) => return refuse(routing_error(error)),
            };
            match read_tracking_call(*call, request.body, limits) {
                Ok(tracking) => (tracking.received, route),
                Err(error) => {
                    return refuse(ApiResponse::error(400, error.code(), error.to_string()))
                }
            }
        }
        Route::Webhook { source_id } => {
            let route = match authenticate_webhook(
                config,
                source_id.as_deref(),
                request.signature,
                request.body,
            ) {
                Ok(route) => route,
                Err(response) => return refuse(response),
            };
            match read_events(request.body, limits) {
                Ok(received) => (received, route),
                Err(error) => {
                    return refuse(ApiResponse::error(400, error.code(), error.to_string()))
                }
            }
        }
        Route::Health | Route::Preflight | Route::Admin(_) | Route::Recent => {
            return IngestPlan::Respond(ApiResponse::error(
                404,
                "not_found",
                "not an ingest route",
            ));
        }
    };
    let processed = process_received(config, &route, &received, limits, received_at_ms);
    IngestPlan::Deliver(Delivery {
        processed,
        tracking_api,
    })
}

fn routing_error(error: RoutingError) -> ApiResponse {
    ApiResponse::error(error.status, error.code.as_str(), error.message)
}

/// Finds the source of a webhook and authenticates the request before its body is parsed: the
/// source named in the URL, else the source whose shared secret signed the body, else the
/// default source. A source with a secret needs a valid `X-Signature` (and refuses batched
/// webhooks, whose signature covers only the first event, unless it accepts them); one without
/// needs `allow_unsigned`. A write key never opens a webhook route.
pub fn authenticate_webhook(
    config: &BridgeConfig,
    source_id: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<SourceRoute, ApiResponse> {
    let refuse = |error: SignatureError| ApiResponse::error(401, error.code(), error.message());
    let source = match source_id {
        Some(id) => config.source_with_id(id).ok_or_else(|| {
            ApiResponse::error(404, "unknown_source", format!("no source has the id {id:?}"))
        })?,
        None if signature.is_some()
            && config.sources.iter().any(|s| s.webhook_secret.is_some()) =>
        {
            config
                .sources
                .iter()
                .filter(|s| s.webhook_secret.is_some())
                .find(|s| {
                    s.webhook_secret
                        .as_ref()
                        .is_some_and(|secret| verify_signature(secret.expose(), body, signature).is_ok())
                })
                .ok_or_else(|| refuse(SignatureError::Mismatch))?
        }
        None => config.default_source().ok_or_else(|| {
            ApiResponse::error(
                400,
                "source_required",
                "this bridge routes by Segment source: post to /segment/{source_id} or sign the request with a source's shared secret",
            )
        })?,
    };
    match &source.webhook_secret {
        Some(secret) => {
            verify_signature(secret.expose(), body, signature).map_err(refuse)?;
            let unsigned_events = signed_part(body).unsigned_events;
            if unsigned_events > 0 && !source.accept_batched_webhooks {
                return Err(ApiResponse::error(
                    401,
                    "batched_webhook_refused",
                    format!("this batched webhook carries {} events that its signature does not cover (Segment signs only the first); turn batching off in Segment's webhook destination, or set accept_batched_webhooks on the source", unsigned_events),
                ));
            }
        }
        None if source.allow_unsigned => {}
        None => {
            return Err(ApiResponse::error(
                401,
                "unsigned_refused",
                "this route accepts only webhooks signed with the source's shared secret, and none is configured: set the source's webhook_secret (SEGMENT_SHARED_SECRET in the simple configuration), or allow_unsigned (SEGMENT_ALLOW_UNSIGNED = \"true\") for local development",
            ))
        }
    }
    Ok(BridgeConfig::route_of(source))
}

/// Who is asking for `/health`, and in which mode the bridge runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthView {
    /// The request carried the admin token: the configuration summary and its problems are
    /// shown.
    pub admin: bool,
    /// `DEV_MODE` is on (said to everyone).
    pub dev_mode: bool,
}

/// `/health`: status, version and whether dev mode is on for anyone; the configuration summary
/// (never a secret) or its problems only with the admin token. 503 when misconfigured.
pub fn health(config: Result<&BridgeConfig, &[ConfigProblem]>, view: HealthView) -> ApiResponse {
    let mut response = match config {
        Ok(_) => ApiResponse::json(
            200,
            json!({"status": "ok", "name": "segment-ld-bridge", "version": VERSION}),
        ),
        Err(problems) => {
            let mut response = misconfigured(problems);
            response.body["status"] = json!("misconfigured");
            if !view.admin {
                response.body["problems"] = json!(problems.len());
            }
            response
        }
    };
    response.body["dev_mode"] = json!(view.dev_mode);
    if let (true, Ok(config)) = (view.admin, config) {
        response.body["config"] = config.summary();
    }
    response
}

/// 503 listing every configuration problem: the bridge refuses events rather than drop them.
pub fn misconfigured(problems: &[ConfigProblem]) -> ApiResponse {
    let mut response = ApiResponse::error(
        503,
        "invalid_configuration",
        "the bridge is not configured correctly, so it refuses events rather than lose them; fix the problems listed",
    );
    response.body["problems"] = json!(problems);
    response.body["version"] = json!(VERSION);
    response
}

/// How one planned delivery ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum DeliveryResult {
    /// LaunchDarkly accepted every event of it.
    Delivered,
    /// Durable mode: queued; the queue consumer delivers it.
    Queued,
    /// Given up on and kept in the dead-letter store with the reason (replay it once fixed).
    DeadLettered {
        /// Why.
        reason: DeadLetterReason,
    },
    /// Not delivered and not kept: the sender must retry (Segment does, for hours).
    Failed {
        /// A configuration error (401, 403, 404) rather than an outage.
        configuration_error: bool,
        /// Seconds the sender should wait, when known.
        retry_after: Option<u32>,
    },
}

impl DeliveryResult {
    /// This result after one more part of the delivery failed: any failure makes the whole
    /// delivery failed (the sender retries it all; payload ids make that safe).
    pub fn with_failure(
        &self,
        configuration_error: bool,
        retry_after: Option<u32>,
    ) -> DeliveryResult {
        match self {
            DeliveryResult::Failed {
                configuration_error: before,
                retry_after: waited,
            } => DeliveryResult::Failed {
                configuration_error: *before || configuration_error,
                retry_after: (*waited).max(retry_after),
            },
            _ => DeliveryResult::Failed {
                configuration_error,
                retry_after,
            },
        }
    }
}

/// What happened to one planned delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    /// LaunchDarkly's last HTTP status, or `None` when no response came.
    pub status: Option<u16>,
    /// The last network error or timeout (never contains secrets).
    pub error: Option<String>,
    /// Requests made to LaunchDarkly for it.
    pub attempts: u32,
    /// How it ended.
    pub result: DeliveryResult,
}

impl DeliveryReport {
    /// A report for a payload that was queued (durable mode).
    pub fn queued() -> Self {
        DeliveryReport {
            status: None,
            error: None,
            attempts: 0,
            result: DeliveryResult::Queued,
        }
    }
}

/// The answer to Segment once every planned delivery was attempted. 200 when all went well;
/// 503 (with `Retry-After`) or 502 when a delivery failed and nothing kept it (Segment retries,
/// and the payload ids make the retry idempotent); 400 when every event was rejected.
pub fn finish(delivery: &Delivery, reports: &[DeliveryReport]) -> ApiResponse {
    let mut response = ingest_response(&delivery.processed, reports);
    if delivery.tracking_api {
        response.body["success"] = json!(response.status == 200);
        add_cors(&mut response);
    }
    response
}

/// The answer once every planned delivery of `processed` was attempted (see [`finish`]).
pub fn ingest_response(processed: &Processed, reports: &[DeliveryReport]) -> ApiResponse {
    let deliveries: Vec<Value> = processed
        .deliveries
        .iter()
        .zip(reports)
        .map(|(planned, report)| {
            let mut entry = json!({
                "destination": planned.destination,
                "url": planned.request.url,
                "payload_id": planned.request.header("X-LaunchDarkly-Payload-ID"),
                "events": planned.event_indexes.len(),
                "status": report.status,
                "attempts": report.attempts,
            });
            if let (Some(fields), Ok(Value::Object(result))) =
                (entry.as_object_mut(), serde_json::to_value(&report.result))
            {
                fields.extend(result);
            }
            if let Some(error) = &report.error {
                entry["error"] = json!(error);
            }
            entry
        })
        .collect();
    let failures: Vec<&DeliveryResult> = reports
        .iter()
        .map(|report| &report.result)
        .filter(|result| matches!(result, DeliveryResult::Failed { .. }))
        .collect();
    let accepted = processed.count(OutcomeStatus::Accepted);
    let rejected = processed.count(OutcomeStatus::Rejected);
    let dead_lettered = reports
        .iter()
        .filter(|report| matches!(report.result, DeliveryResult::DeadLettered { .. }))
        .count();
    let mut body = json!({
        "received": processed.outcomes.len(),
        "accepted": accepted,
        "skipped": processed.count(OutcomeStatus::Skipped),
        "rejected": rejected,
        "outcomes": processed.outcomes,
        "deliveries": deliveries,
    });
    if dead_lettered > 0 {
        body["dead_lettered"] = json!(dead_lettered);
    }
    let mut headers = Vec::new();
    let status = if !failures.is_empty() {
        let configuration_error = failures.iter().any(|result| {
            matches!(
                result,
                DeliveryResult::Failed {
                    configuration_error: true,
                    ..
                }
            )
        });
        let retry_after = failures
            .iter()
            .filter_map(|result| match result {
                DeliveryResult::Failed { retry_after, .. } => *retry_after,
                _ => None,
            })
            .max();
        let (status, code, message) = if configuration_error {
            (
                502,
                "launchdarkly_configuration_error",
                "LaunchDarkly refused the events (401, 403 or 404): check the client-side ID and events host; retrying the request is safe once that is fixed",
            )
        } else {
            (
                503,
                "delivery_failed",
                "LaunchDarkly did not accept the events; retry the request later (the payload ids make a retry safe)",
            )
        };
        if let Some(seconds) = retry_after {
            headers.push(("Retry-After", seconds.to_string()));
        }
        body["error"] = error_body(code, message)["error"].take();
        status
    } else if rejected > 0 && rejected == processed.outcomes.len() {
        body["error"] = error_body(
            "all_events_rejected",
            "no event in the request could become a LaunchDarkly event; see outcomes",
        )["error"]
            .take();
        400
    } else {
        200
    };
    ApiResponse {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn paths_of_request_urls() {
        assert_eq!(path_of("http://127.0.0.1:8787/segment?x=1"), "/segment");
        assert_eq!(path_of("https://a.example/v1/track#f"), "/v1/track");
        assert_eq!(path_of("https://a.example/segment/src-1"), "/segment/src-1");
        assert_eq!(path_of("https://a.example"), "/");
        assert_eq!(path_of("https://a.example?q"), "/");
    }

    #[test]
    fn routes() {
        assert_eq!(
            route("POST", "/segment"),
            Ok(Route::Webhook { source_id: None })
        );
        assert_eq!(
            route("POST", "/segment/"),
            Ok(Route::Webhook { source_id: None })
        );
        assert_eq!(
            route("POST", "/segment/web"),
            Ok(Route::Webhook {
                source_id: Some("web".to_string())
            })
        );
        assert_eq!(route("POST", "/segment/a/b").unwrap_err().status, 404);
        assert_eq!(route("GET", "/health"), Ok(Route::Health));
        let wrong = route("GET", "/segment").unwrap_err();
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.body["error"]["code"], "method_not_allowed");
        assert_eq!(wrong.headers, vec![("Allow", "POST".to_string())]);
        let missing = route("POST", "/nope").unwrap_err();
        assert_eq!(missing.status, 404);
        assert_eq!(missing.body["error"]["code"], "not_found");
    }

    use crate::inbound::sign;

    fn config_of(document: Value) -> BridgeConfig {
        let text = document.to_string();
        BridgeConfig::from_vars(|name| match name {
            "BRIDGE_CONFIG" => Some(text.clone()),
            "WEB_SECRET" => Some("web-secret".to_string()),
            "APP_SECRET" => Some("app-secret".to_string()),
            _ => None,
        })
        .expect("valid configuration")
    }

    fn sources() -> BridgeConfig {
        config_of(json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [
                {"name": "web", "source_ids": ["web"], "webhook_secret": "WEB_SECRET"},
                {"name": "app", "webhook_secret": "APP_SECRET", "accept_batched_webhooks": true},
                {"name": "server", "write_keys": ["wk"], "default": true},
                {"name": "dev", "source_ids": ["dev"], "allow_unsigned": true}
            ]
        }))
    }

    fn code(response: &ApiResponse) -> (u16, &str) {
        (
            response.status,
            response.body["error"]["code"].as_str().unwrap_or(""),
        )
    }

    fn webhook(
        config: &BridgeConfig,
        id: Option<&str>,
        signature: Option<&str>,
        body: &str,
    ) -> Result<String, (u16, String)> {
        authenticate_webhook(config, id, signature, body.as_bytes())
            .map(|route| route.source.unwrap_or_default())
            .map_err(|response| {
                let (status, code) = code(&response);
                (status, code.to_string())
            })
    }

    #[test]
    fn webhooks_are_authenticated_or_explicitly_open() {
        let config = sources();
        let event = r#"{"type":"track","event":"E","userId":"u"}"#;
        let web = sign(b"web-secret", event.as_bytes());
        let app = sign(b"app-secret", event.as_bytes());
        let refused = |status: u16, code: &str| Err((status, code.to_string()));
        // Named by the URL: its own secret, and only that one.
        assert_eq!(
            webhook(&config, Some("web"), Some(&web), event),
            Ok("web".into())
        );
        assert_eq!(
            webhook(&config, Some("web"), Some(&app), event),
            refused(401, "invalid_signature")
        );
        assert_eq!(
            webhook(&config, Some("web"), None, event),
            refused(401, "missing_signature")
        );
        assert_eq!(
            webhook(&config, Some("nope"), Some(&web), event),
            refused(404, "unknown_source")
        );
        // Named by the secret that signed it.
        assert_eq!(webhook(&config, None, Some(&app), event), Ok("app".into()));
        assert_eq!(webhook(&config, None, Some(&web), event), Ok("web".into()));
        assert_eq!(
            webhook(&config, None, Some("00"), event),
            refused(401, "invalid_signature")
        );
        // Unsigned to the default source, which has only a write key: refused.
        assert_eq!(
            webhook(&config, None, None, event),
            refused(401, "unsigned_refused")
        );
        // Explicitly open.
        assert_eq!(webhook(&config, Some("dev"), None, event), Ok("dev".into()));
        // Batched: refused unless the source accepts them; a batch of one is signed whole.
        let batch = format!("[{event},{event}]");
        let first = sign(b"web-secret", event.as_bytes());
        assert_eq!(
            webhook(&config, Some("web"), Some(&first), &batch),
            refused(401, "batched_webhook_refused")
        );
        assert_eq!(
            webhook(&config, Some("web"), Some(&first), &format!("[{event}]")),
            Ok("web".into())
        );
        let first = sign(b"app-secret", event.as_bytes());
        assert_eq!(
            webhook(&config, None, Some(&first), &batch),
            Ok("app".into())
        );
        // No default source: the request must name one.
        let named = config_of(json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [{"name": "dev", "source_ids": ["dev"], "allow_unsigned": true}]
        }));
        assert_eq!(
            webhook(&named, None, None, event),
            refused(400, "source_required")
        );
        // A signature with no secret configured anywhere goes to the default source.
        let open = config_of(json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [{"name": "dev", "default": true, "allow_unsigned": true}]
        }));
        assert_eq!(webhook(&open, None, Some(&web), event), Ok("dev".into()));
    }

    fn ingest(
        config: &BridgeConfig,
        route: &Route,
        authorization: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        limits: &Limits,
    ) -> (u16, String) {
        let request = IngestRequest {
            content_type: Some("application/json"),
            authorization,
            signature,
            body,
        };
        match plan_ingest(config, route, &request, limits, 0) {
            IngestPlan::Respond(response) => {
                let (status, code) = code(&response);
                (status, code.to_string())
            }
            IngestPlan::Deliver(delivery) => {
                (200, format!("{}", delivery.processed.outcomes.len()))
            }
        }
    }

    #[test]
    fn limits_come_before_authentication_and_authentication_before_parsing() {
        let config = sources();
        let small = Limits {
            max_request_bytes: 50,
            ..Limits::SEGMENT
        };
        let webhook = Route::Webhook {
            source_id: Some("web".into()),
        };
        let batch = Route::TrackingApi(TrackingCall::Batch);
        let big = format!(r#"{{"type":"track","event":"{}"}}"#, "x".repeat(60));
        // Too large: refused before the signature is computed or the write key looked at.
        assert_eq!(
            ingest(&config, &webhook, None, Some("00"), big.as_bytes(), &small),
            (413, "request_too_large".into())
        );
        assert_eq!(
            ingest(&config, &batch, None, None, big.as_bytes(), &small),
            (413, "request_too_large".into())
        );
        // Not JSON, and no credentials: 401, not 400.
        assert_eq!(
            ingest(&config, &batch, None, None, b"{not json", &Limits::SEGMENT),
            (401, "missing_write_key".into())
        );
        assert_eq!(
            ingest(
                &config,
                &webhook,
                None,
                None,
                b"{not json",
                &Limits::SEGMENT
            ),
            (401, "missing_signature".into())
        );
        let basic = |key: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
            )
        };
        assert_eq!(
            ingest(
                &config,
                &batch,
                Some(&basic("other")),
                None,
                b"{not json",
                &Limits::SEGMENT
            ),
            (401, "unknown_write_key".into())
        );
        // An empty write key is no write key.
        assert_eq!(
            ingest(
                &config,
                &batch,
                Some(&basic("")),
                None,
                br#"{"batch":[]}"#,
                &Limits::SEGMENT
            ),
            (401, "missing_write_key".into())
        );
        // Authenticated: now the body is parsed.
        assert_eq!(
            ingest(
                &config,
                &batch,
                Some(&basic("wk")),
                None,
                b"{not json",
                &Limits::SEGMENT
            ),
            (400, "malformed_json".into())
        );
        assert_eq!(
            ingest(
                &config,
                &batch,
                None,
                None,
                br#"{"writeKey":"wk","batch":[{}]}"#,
                &Limits::SEGMENT
            ),
            (200, "1".into())
        );
        let track = Route::TrackingApi(TrackingCall::Single("page"));
        assert_eq!(
            ingest(
                &config,
                &track,
                None,
                None,
                br#"{"writeKey":"wk","name":"Home"}"#,
                &Limits::SEGMENT
            ),
            (200, "1".into())
        );
        // Exactly at the limit is read.
        let at = format!(r#"{{"writeKey":"wk","batch":[{}]}}"#, " ".repeat(20));
        let exact = Limits {
            max_request_bytes: at.len(),
            ..Limits::SEGMENT
        };
        assert_eq!(
            ingest(&config, &batch, None, None, at.as_bytes(), &exact),
            (200, "0".into())
        );
    }

    #[test]
    fn the_admin_check_takes_exactly_the_token() {
        let refused = |token: Option<&str>, header: Option<&str>| {
            check_admin(token, header).map_err(|response| {
                let (status, code) = code(&response);
                (status, code.to_string(), response.headers.clone())
            })
        };
        assert_eq!(refused(None, Some("Bearer x")).unwrap_err().0, 404);
        assert_eq!(
            refused(Some(""), Some("Bearer ")).unwrap_err().1,
            "admin_disabled"
        );
        for header in ["Bearer tok-1", "bearer tok-1", " BEARER  tok-1 "] {
            assert_eq!(refused(Some("tok-1"), Some(header)), Ok(()), "{header}");
        }
        for header in [
            None,
            Some("Bearer tok-"),
            Some("Bearer tok-12"),
            Some("Bearer "),
            Some("Basic tok-1"),
            Some("tok-1"),
            Some("Bearer TOK-1"),
        ] {
            let (status, code, headers) = refused(Some("tok-1"), header).unwrap_err();
            assert_eq!((status, code.as_str()), (401, "unauthorized"), "{header:?}");
            assert_eq!(headers, vec![("WWW-Authenticate", "Bearer".to_string())]);
        }
    }

    #[test]
    fn constant_time_comparison_is_equality() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"secret", b"secret"));
        for other in [
            &b"secreT"[..],
            b"Secret",
            b"secre",
            b"secrets",
            b"",
            b"secret\0",
        ] {
            assert!(!constant_time_eq(other, b"secret"), "{other:?}");
        }
        assert!(!constant_time_eq(b"x", b""));
        assert!(!constant_time_eq(b"\0", b""));
    }

    #[test]
    fn replay_refuses_a_body_it_does_not_understand() {
        assert_eq!(replay_selection(b""), Ok(None));
        assert_eq!(replay_selection(b" \n"), Ok(None));
        assert_eq!(replay_selection(b"{}"), Ok(None));
        assert_eq!(
            replay_selection(br#"{"payload_ids": ["a", "b"]}"#),
            Ok(Some(vec!["a".to_string(), "b".to_string()]))
        );
        assert_eq!(
            replay_selection(br#"{"payload_ids": []}"#),
            Ok(Some(Vec::new()))
        );
        for body in [
            &br#"{"ids": ["a"]}"#[..],
            b"[1]",
            b"[]",
            br#"{"payload_ids": [1]}"#,
            br#"{"payload_ids": "a"}"#,
            b"null",
            b"{",
        ] {
            let response = replay_selection(body).unwrap_err();
            assert_eq!(code(&response), (400, "invalid_body"), "{body:?}");
        }
    }

    #[test]
    fn health_shows_details_only_with_the_admin_token() {
        let config = sources();
        let public = health(
            Ok(&config),
            HealthView {
                admin: false,
                dev_mode: false,
            },
        );
        assert_eq!(public.status, 200);
        let fields: Vec<&String> = public.body.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["status", "name", "version", "dev_mode"]);
        assert_eq!(public.body["dev_mode"], false);
        let admin = health(
            Ok(&config),
            HealthView {
                admin: true,
                dev_mode: true,
            },
        );
        assert_eq!(admin.body["dev_mode"], true);
        assert_eq!(
            admin.body["config"]["sources"][0]["source_ids"],
            json!(["web"])
        );
        let problems = [ConfigProblem {
            location: "sources".into(),
            message: "m".into(),
        }];
        let public = health(
            Err(&problems),
            HealthView {
                admin: false,
                dev_mode: false,
            },
        );
        assert_eq!(public.status, 503);
        assert_eq!(public.body["status"], "misconfigured");
        assert_eq!(public.body["problems"], 1);
        let admin = health(
            Err(&problems),
            HealthView {
                admin: true,
                dev_mode: false,
            },
        );
        assert_eq!(admin.body["problems"][0]["location"], "sources");
    }

    #[test]
    fn every_tracking_route_and_its_methods() {
        for path in [
            "/v1/track",
            "/v1/identify",
            "/v1/page",
            "/v1/screen",
            "/v1/group",
            "/v1/alias",
            "/v1/batch",
        ] {
            assert!(
                matches!(route("POST", path), Ok(Route::TrackingApi(_))),
                "{path}"
            );
            assert_eq!(route("OPTIONS", path), Ok(Route::Preflight));
            let wrong = route("GET", path).unwrap_err();
            assert_eq!(wrong.status, 405);
            assert!(wrong
                .headers
                .iter()
                .any(|(name, _)| *name == "Access-Control-Allow-Origin"));
        }
        assert_eq!(route("GET", "/dev/recent"), Ok(Route::Recent));
        assert_eq!(
            route("GET", "/admin/dead-letters"),
            Ok(Route::Admin(AdminAction::ListDeadLetters))
        );
        assert_eq!(
            route("POST", "/admin/dead-letters/replay"),
            Ok(Route::Admin(AdminAction::ReplayDeadLetters))
        );
        assert_eq!(
            route("DELETE", "/admin/dead-letters/abc"),
            Ok(Route::Admin(AdminAction::DeleteDeadLetter("abc".into())))
        );
        assert_eq!(
            route("DELETE", "/admin/dead-letters/a/b")
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(route("POST", "/health").unwrap_err().status, 405);
        assert_eq!(route("HEAD", "/health"), Ok(Route::Health));
    }

    #[test]
    fn paths_of_short_urls() {
        assert_eq!(path_of("http://a/x"), "/x");
        assert_eq!(path_of("http://a"), "/");
        assert_eq!(path_of("/segment?x"), "/segment");
    }

    #[test]
    fn failures_combine_into_the_worst() {
        let failed = |configuration_error, retry_after| DeliveryResult::Failed {
            configuration_error,
            retry_after,
        };
        assert_eq!(
            DeliveryResult::Delivered.with_failure(false, Some(5)),
            failed(false, Some(5))
        );
        assert_eq!(
            DeliveryResult::Queued.with_failure(true, None),
            failed(true, None)
        );
        assert_eq!(
            failed(true, Some(3)).with_failure(false, Some(9)),
            failed(true, Some(9))
        );
        assert_eq!(
            failed(false, Some(9)).with_failure(true, None),
            failed(true, Some(9))
        );
        assert_eq!(
            failed(false, None).with_failure(false, None),
            failed(false, None)
        );
    }

    fn answer_of(body: &[u8], reports: impl Fn(usize) -> DeliveryReport) -> ApiResponse {
        let config = sources();
        let request = IngestRequest {
            content_type: None,
            authorization: None,
            signature: None,
            body,
        };
        let route = Route::Webhook {
            source_id: Some("dev".into()),
        };
        match plan_ingest(
            &config,
            &route,
            &request,
            &Limits::SEGMENT,
            1_750_000_000_000,
        ) {
            IngestPlan::Respond(response) => response,
            IngestPlan::Deliver(delivery) => {
                let reports: Vec<DeliveryReport> = (0..delivery.processed.deliveries.len())
                    .map(&reports)
                    .collect();
                finish(&delivery, &reports)
            }
        }
    }

    #[test]
    fn the_answer_counts_dead_letters_and_refuses_only_when_every_event_was_rejected() {
        let event = br#"[{"type":"track","event":"E","userId":"u"}]"#;
        let delivered = |_| DeliveryReport {
            status: Some(202),
            error: None,
            attempts: 1,
            result: DeliveryResult::Delivered,
        };
        let answer = answer_of(event, delivered);
        assert_eq!(answer.status, 200);
        assert!(answer.body.get("dead_lettered").is_none());
        let dead = |_| DeliveryReport {
            status: Some(403),
            error: None,
            attempts: 1,
            result: DeliveryResult::DeadLettered {
                reason: DeadLetterReason {
                    code: crate::delivery::DeadLetterCode::LaunchdarklyConfigurationError,
                    message: "m".into(),
                },
            },
        };
        let answer = answer_of(event, dead);
        assert_eq!(
            (answer.status, &answer.body["dead_lettered"]),
            (200, &json!(1))
        );
        // No events at all is not "every event rejected".
        assert_eq!(answer_of(b"[]", delivered).status, 200);
        // One rejected, one skipped: not every event was rejected.
        let mixed = br#"[{"type":"track","userId":"u"},{"type":"page","userId":"u"}]"#;
        assert_eq!(answer_of(mixed, delivered).status, 200);
        let rejected = br#"[{"type":"track","userId":"u"},{"type":"track"}]"#;
        let answer = answer_of(rejected, delivered);
        assert_eq!(code(&answer), (400, "all_events_rejected"));
    }
}
