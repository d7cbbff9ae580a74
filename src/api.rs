//! The bridge's HTTP API as pure decisions: routing, JSON errors, and the answer to Segment
//! once deliveries are done. The Worker adapter only moves bytes.

use crate::config::{BridgeConfig, ConfigProblem};
use crate::launchdarkly::DeliveryVerdict;
use crate::pipeline::{OutcomeStatus, Processed};
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
    /// `POST /segment` or `POST /segment/{source_id}`: Segment events in.
    Ingest {
        /// The source named in the path.
        source_id: Option<String>,
    },
}

/// Routes a request by method and path; unknown paths get 404, wrong methods 405.
pub fn route(method: &str, path: &str) -> Result<Route, ApiResponse> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let (route, allowed): (Route, &[&str]) = match path {
        "/health" => (Route::Health, &["GET", "HEAD"]),
        "/segment" => (Route::Ingest { source_id: None }, &["POST"]),
        _ if path.starts_with("/segment/") && !path["/segment/".len()..].contains('/') => (
            Route::Ingest {
                source_id: Some(path["/segment/".len()..].to_string()),
            },
            &["POST"],
        ),
        _ => {
            return Err(ApiResponse::error(
                404,
                "not_found",
                format!("no route {path}; send Segment events to POST /segment or /segment/{{source_id}} (GET /health reports status)"),
            ))
        }
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
        Err(response)
    }
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
            Ok(Route::Ingest { source_id: None })
        );
        assert_eq!(
            route("POST", "/segment/"),
            Ok(Route::Ingest { source_id: None })
        );
        assert_eq!(
            route("POST", "/segment/web"),
            Ok(Route::Ingest {
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
