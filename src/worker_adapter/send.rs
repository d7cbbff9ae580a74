//! Sending payloads to LaunchDarkly with `fetch` and a timeout, and direct mode: delivery
//! within the request, following the core's decisions.

use super::{dead_letters, log, now_ms};
use crate::api::{DeliveryReport, DeliveryResult};
use crate::config::Destination;
use crate::delivery::{
    direct_action, split_payload, AttemptResult, DeadLetter, DirectAction, QueuedPayload,
    RetryPolicy,
};
use crate::launchdarkly::outbound_request;
use futures_util::future::{select, Either};
use serde_json::json;
use std::time::Duration;
use worker::{
    wasm_bindgen::JsValue, AbortController, Delay, Env, Fetch, Headers, Method, Request,
    RequestInit,
};

/// One request to LaunchDarkly for `payload`, bounded by `timeout_ms`.
pub async fn attempt(
    destination: &Destination,
    payload: &QueuedPayload,
    timeout_ms: u64,
) -> AttemptResult {
    let outbound = outbound_request(
        &destination.events_base,
        &destination.client_side_id,
        payload.body.clone(),
        &payload.payload_id,
    );
    let started = now_ms();
    let result = match build(&outbound.url, &outbound.headers, &outbound.body) {
        Err(error) => AttemptResult {
            error: Some(format!("could not build the request: {error}")),
            ..AttemptResult::default()
        },
        Ok(request) => {
            let controller = AbortController::default();
            let signal = controller.signal();
            let fetcher = Fetch::Request(request);
            let fetch = Box::pin(fetcher.send_with_signal(&signal));
            let timeout = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
            let outcome = select(fetch, timeout).await;
            match outcome {
                Either::Left((Ok(response), _)) => AttemptResult {
                    status: Some(response.status_code()),
                    retry_after: response.headers().get("Retry-After").ok().flatten(),
                    error: None,
                },
                Either::Left((Err(error), _)) => AttemptResult {
                    error: Some(format!("network error: {error}")),
                    ..AttemptResult::default()
                },
                Either::Right(_) => {
                    controller.abort();
                    AttemptResult {
                        error: Some(format!("timed out after {timeout_ms} ms")),
                        ..AttemptResult::default()
                    }
                }
            }
        }
    };
    log(json!({
        "log": "attempt",
        "destination": destination.name,
        "payload_id": payload.payload_id,
        "events": payload.events,
        "attempt": payload.attempts + 1,
        "status": result.status,
        "error": result.error,
        "ms": now_ms() - started,
    }));
    result
}

fn build(url: &str, headers: &[(&str, String)], body: &str) -> worker::Result<Request> {
    let header_map = Headers::new();
    for (name, value) in headers {
        header_map.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(header_map)
        .with_body(Some(JsValue::from_str(body)));
    Request::new_with_init(url, &init)
}

/// Direct mode: delivers a payload within the request, following
/// [`direct_action`]. What cannot be delivered is dead-lettered when the cause is permanent and a
/// store is bound, and otherwise reported failed so the sender (Segment) retries with the same
/// payload ids.
pub async fn deliver_direct(
    env: &Env,
    destination: &Destination,
    payload: QueuedPayload,
    policy: &RetryPolicy,
) -> DeliveryReport {
    let mut report = DeliveryReport {
        status: None,
        error: None,
        attempts: 0,
        result: DeliveryResult::Delivered,
    };
    let mut work = vec![payload];
    while let Some(mut payload) = work.pop() {
        loop {
            let result = attempt(destination, &payload, policy.timeout_ms).await;
            payload.attempts += 1;
            payload.last_result = Some(result.describe());
            report.attempts += 1;
            report.status = result.status;
            report.error = result.error.clone();
            match direct_action(policy, payload.attempts, payload.events, &result, now_ms()) {
                DirectAction::Done => break,
                DirectAction::WaitAndRetry(seconds) => {
                    Delay::from(Duration::from_secs(u64::from(seconds))).await;
                }
                DirectAction::Split => {
                    work.extend(split_payload(&payload).into_iter().flatten());
                    break;
                }
                DirectAction::ReturnToSender { retry_after } => {
                    report.result = report.result.with_failure(false, retry_after);
                    break;
                }
                DirectAction::Keep(reason) => {
                    let configuration_error = reason.code == "launchdarkly_configuration_error";
                    let letter = DeadLetter {
                        payload: payload.clone(),
                        reason: reason.clone(),
                        dead_lettered_at: now_ms(),
                    };
                    report.result = match dead_letters::store(env, &letter).await {
                        Ok(()) if !matches!(report.result, DeliveryResult::Failed { .. }) => {
                            DeliveryResult::DeadLettered { reason }
                        }
                        Ok(()) => report.result.clone(),
                        Err(_) => report.result.with_failure(configuration_error, None),
                    };
                    break;
                }
            }
        }
    }
    report
}
