//! The bridge's HTTP API as pure decisions: routing, JSON errors, and the answer to Segment
//! once deliveries are done. The Worker adapter only moves bytes.

use crate::config::{BridgeConfig, ConfigProblem, SourceHint, WebhookCredentials};
use crate::inbound::{basic_auth_write_key, read_events, read_tracking_call, Limits, TrackingCall};
use crate::launchdarkly::DeliveryVerdict;
use crate::pipeline::{process_received, OutcomeStatus, Processed};
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

/// Routes a request by method and path; unknown paths get 404, wrong methods 405.
pub fn route(method: &str, path: &str) -> Result<Route, ApiResponse> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let (route, allowed): (Route, &[&str]) = if path == "/health" {
        (Route::Health, &["GET", "HEAD"])
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

fn add_cors(response: &mut ApiResponse) {
    for (name, value) in CORS_HEADERS {
        response.headers.push((name, value.to_string()));
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
    let (received, route) = match route {
        Route::TrackingApi(call) => {
            let tracking = match read_tracking_call(*call, request.body, limits) {
                Ok(tracking) => tracking,
                Err(error) => {
                    return refuse(ApiResponse::error(400, error.code(), error.to_string()))
                }
            };
            let write_key = basic_auth_write_key(request.authorization).or(tracking.write_key);
            let Some(write_key) = write_key else {
                return refuse(ApiResponse::error(
                    401,
                    "missing_write_key",
                    "send the source's write key with HTTP Basic auth (the write key as user name, no password) or as writeKey in the body",
                ));
            };
            match config.route(SourceHint::WriteKey(&write_key)) {
                Ok(route) => (tracking.received, route),
                Err(error) => {
                    return refuse(ApiResponse::error(error.status, error.code, error.message))
                }
            }
        }
        Route::Webhook { source_id } => {
            let credentials = WebhookCredentials {
                source_id: source_id.as_deref(),
                signature: request.signature,
                body: request.body,
            };
            let route = match config.route_webhook(credentials) {
                Ok(route) => route,
                Err(error) => {
                    return refuse(ApiResponse::error(error.status, error.code, error.message))
                }
            };
            match read_events(request.body, limits) {
                Ok(received) => (received, route),
                Err(error) => {
                    return refuse(ApiResponse::error(400, error.code(), error.to_string()))
                }
            }
        }
        Route::Health | Route::Preflight => {
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

/// `/health`: version and a configuration summary, never a secret. 503 when misconfigured.
pub fn health(config: Result<&BridgeConfig, &[ConfigProblem]>) -> ApiResponse {
    match config {
        Ok(config) => ApiResponse::json(
            200,
            json!({
                "status": "ok",
                "name": "segment-ld-bridge",
                "version": VERSION,
                "config": config.summary(),
            }),
        ),
        Err(problems) => misconfigured(problems),
    }
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

/// What happened to one planned delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    /// LaunchDarkly's HTTP status, or `None` when no response came (network error, timeout).
    pub status: Option<u16>,
    /// The network error, when there was one (never contains secrets).
    pub error: Option<String>,
}

/// The answer to Segment once every planned delivery was attempted. 200 when all went well;
/// 502 when a delivery failed (Segment retries, and the payload ids make the retry idempotent);
/// 400 when every event was rejected.
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
            let verdict = DeliveryVerdict::from_status(report.status);
            let mut entry = json!({
                "destination": planned.destination,
                "url": planned.request.url,
                "payload_id": planned.request.header("X-LaunchDarkly-Payload-ID"),
                "events": planned.event_indexes.len(),
                "status": report.status,
                "result": verdict,
            });
            if let Some(error) = &report.error {
                entry["error"] = json!(error);
            }
            entry
        })
        .collect();
    let failed = processed
        .deliveries
        .iter()
        .zip(reports)
        .find(|(_, report)| {
            DeliveryVerdict::from_status(report.status) != DeliveryVerdict::Delivered
        });
    let accepted = processed.count(OutcomeStatus::Accepted);
    let rejected = processed.count(OutcomeStatus::Rejected);
    let mut body = json!({
        "received": processed.outcomes.len(),
        "accepted": accepted,
        "skipped": processed.count(OutcomeStatus::Skipped),
        "rejected": rejected,
        "outcomes": processed.outcomes,
        "deliveries": deliveries,
    });
    let status = if let Some((_, report)) = failed {
        let verdict = DeliveryVerdict::from_status(report.status);
        let (code, message) = match verdict {
            DeliveryVerdict::ConfigurationError => (
                "launchdarkly_configuration_error",
                "LaunchDarkly refused the events: check the client-side ID and events host; the request may be retried once that is fixed",
            ),
            _ => (
                "delivery_failed",
                "LaunchDarkly did not accept the events; retry the request (the payload id makes a retry safe)",
            ),
        };
        body["error"] = error_body(code, message)["error"].take();
        502
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
    ApiResponse::json(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
