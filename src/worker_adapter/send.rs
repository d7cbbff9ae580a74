//! Sending payloads to LaunchDarkly with `fetch` and a timeout, and direct mode: delivery
//! within the request, following the core's decisions.

use super::http::{self, PostResult};
use super::platform::{log, now_ms};
use super::store;
use crate::api::{DeliveryReport, DeliveryResult};
use crate::config::Destination;
use crate::delivery::{
    direct_action, split_payload, AttemptResult, DeadLetter, DirectAction, QueuedPayload,
    RetryPolicy,
};
use crate::launchdarkly::bulk_headers;
use serde_json::json;
use std::time::Duration;
use worker::{Delay, Env};

/// One request to LaunchDarkly for `payload`, bounded by `timeout_ms`. A failed attempt gets a
/// log line of its own; a successful one is summed up in the request's or batch's line.
pub async fn attempt(
    destination: &Destination,
    payload: &QueuedPayload,
    timeout_ms: u64,
) -> AttemptResult {
    let url = destination
        .events_base
        .bulk_url(&destination.client_side_id);
    let headers = bulk_headers(&payload.payload_id);
    let started = now_ms();
    let result = match http::post(&url, &headers, &payload.body, timeout_ms).await {
        PostResult::Answered {
            status,
            retry_after,
        } => AttemptResult {
            status: Some(status),
            retry_after,
            error: None,
        },
        PostResult::TimedOut => AttemptResult {
            error: Some(format!("timed out after {timeout_ms} ms")),
            ..AttemptResult::default()
        },
        PostResult::Failed(error) => AttemptResult {
            error: Some(format!("network error: {error}")),
            ..AttemptResult::default()
        },
    };
    if !result
        .status
        .is_some_and(|status| (200..300).contains(&status))
    {
        log(json!({
            "log": "attempt",
            "level": "warn",
            "destination": destination.name,
            "payload_id": payload.payload_id,
            "events": payload.events,
            "attempt": payload.attempts + 1,
            "status": result.status,
            "error": result.error,
            "ms": now_ms() - started,
        }));
    }
    result
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
                    let configuration_error = reason.code.is_configuration_error();
                    let letter = DeadLetter {
                        payload: payload.clone(),
                        reason: reason.clone(),
                        dead_lettered_at: now_ms(),
                    };
                    report.result = match store::store(env, &letter).await {
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
