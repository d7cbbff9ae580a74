//! Delivery decisions, as pure functions: how payloads are bounded, what to do after each
//! attempt (LaunchDarkly's SDK rules: 2xx done; 400, 408, 429, 5xx, timeouts and network errors
//! retried, honouring `Retry-After`; 413 split; 401, 403, 404 are configuration errors), the
//! queued-payload and dead-letter records, and how a payload is split in two.

use crate::config::ConfigProblem;
use crate::launchdarkly::{uuid_v5, DeliveryVerdict};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// Bounds on one LaunchDarkly payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadLimits {
    /// Events in one payload.
    pub max_events: usize,
    /// Bytes of one payload's body.
    pub max_bytes: usize,
}

impl PayloadLimits {
    /// 500 events or 512 KiB, well under what LaunchDarkly's SDKs send in one flush.
    pub const DEFAULT: PayloadLimits = PayloadLimits {
        max_events: 500,
        max_bytes: 512 * 1024,
    };
}

/// When to try again, and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Durable mode: the wait before each retry, in seconds; the number of retries is its length.
    pub queue_delays_seconds: Vec<u32>,
    /// Direct mode: attempts within one request (LaunchDarkly's SDKs: 2, one second apart).
    pub direct_attempts: u32,
    /// Direct mode: the longest wait between attempts, in milliseconds; a longer `Retry-After`
    /// ends the request with a retryable answer instead.
    pub direct_max_wait_ms: u64,
    /// The timeout of one request to LaunchDarkly, in milliseconds.
    pub timeout_ms: u64,
}

/// Durable retries: the wait list (seconds), comma-separated.
pub const VAR_RETRY_DELAYS: &str = "DELIVERY_RETRY_DELAYS";
/// The timeout of one request to LaunchDarkly, in milliseconds.
pub const VAR_TIMEOUT_MS: &str = "DELIVERY_TIMEOUT_MS";

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            // About 3.9 hours in all, like Segment's own four hours of retries.
            queue_delays_seconds: vec![10, 30, 120, 300, 900, 1800, 3600, 7200],
            direct_attempts: 2,
            direct_max_wait_ms: 2_000,
            timeout_ms: 10_000,
        }
    }
}

impl RetryPolicy {
    /// The default policy with `DELIVERY_RETRY_DELAYS` and `DELIVERY_TIMEOUT_MS` applied.
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<RetryPolicy, Vec<ConfigProblem>> {
        let mut policy = RetryPolicy::default();
        let mut problems = Vec::new();
        if let Some(text) = lookup(VAR_RETRY_DELAYS).filter(|t| !t.trim().is_empty()) {
            let delays: Result<Vec<u32>, _> =
                text.split(',').map(|d| d.trim().parse::<u32>()).collect();
            match delays {
                Ok(delays) if !delays.is_empty() && delays.len() <= 100 && delays.iter().all(|d| *d <= 43_200) => {
                    policy.queue_delays_seconds = delays;
                }
                _ => problems.push(ConfigProblem {
                    location: VAR_RETRY_DELAYS.to_string(),
                    message: format!("{text:?} is not a list of 1 to 100 waits in seconds (each at most 43200, Cloudflare Queues' longest delay), e.g. \"10,60,300\""),
                }),
            }
        }
        if let Some(text) = lookup(VAR_TIMEOUT_MS).filter(|t| !t.trim().is_empty()) {
            match text.trim().parse::<u64>() {
                Ok(ms) if (100..=60_000).contains(&ms) => policy.timeout_ms = ms,
                _ => problems.push(ConfigProblem {
                    location: VAR_TIMEOUT_MS.to_string(),
                    message: format!(
                        "{text:?} is not a timeout between 100 and 60000 milliseconds"
                    ),
                }),
            }
        }
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(problems)
        }
    }
}

/// What one attempt got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttemptResult {
    /// LaunchDarkly's status, or `None` (network error, timeout).
    pub status: Option<u16>,
    /// Its `Retry-After` header.
    pub retry_after: Option<String>,
    /// The network error or timeout, when there was no response.
    pub error: Option<String>,
}

impl AttemptResult {
    /// A short description for logs and dead letters: `HTTP 503` or the error.
    pub fn describe(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no response".to_string(),
        }
    }
}

/// Why a payload was given up on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterReason {
    /// `launchdarkly_configuration_error`, `retries_exhausted` or `payload_too_large`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// LaunchDarkly accepted the payload.
    Delivered,
    /// Try the same payload (same payload id) again after this many seconds.
    RetryAfter(u32),
    /// 413: send it again as two halves.
    Split,
    /// Give up on it and keep it, with the reason.
    DeadLetter(DeadLetterReason),
}

/// Decides the next step after attempt number `attempt` (1-based) of a payload of `events`
/// events, given the waits allowed (`delays[i]` before retry `i + 1`).
pub fn next_step(
    delays_seconds: &[u32],
    attempt: u32,
    events: usize,
    result: &AttemptResult,
    now_ms: i64,
) -> NextStep {
    match DeliveryVerdict::from_status(result.status) {
        DeliveryVerdict::Delivered => NextStep::Delivered,
        DeliveryVerdict::TooLarge if events > 1 => NextStep::Split,
        DeliveryVerdict::TooLarge => NextStep::DeadLetter(DeadLetterReason {
            code: "payload_too_large".to_string(),
            message: "LaunchDarkly answered 413 for a single event: it is too large to deliver".to_string(),
        }),
        DeliveryVerdict::ConfigurationError => NextStep::DeadLetter(DeadLetterReason {
            code: "launchdarkly_configuration_error".to_string(),
            message: format!(
                "LaunchDarkly answered {}: check the destination's client-side ID and events host, then replay",
                result.describe()
            ),
        }),
        DeliveryVerdict::Retry => match delays_seconds.get(attempt.saturating_sub(1) as usize) {
            Some(delay) => {
                let asked = result
                    .retry_after
                    .as_deref()
                    .and_then(|value| retry_after_seconds(value, now_ms))
                    .unwrap_or(0);
                NextStep::RetryAfter((*delay).max(asked).min(43_200))
            }
            None => NextStep::DeadLetter(DeadLetterReason {
                code: "retries_exhausted".to_string(),
                message: format!(
                    "gave up after {attempt} attempts; the last one got {}",
                    result.describe()
                ),
            }),
        },
    }
}

/// What direct mode (delivery within the request) does after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectAction {
    /// Delivered.
    Done,
    /// Wait this many seconds, then try again within the request.
    WaitAndRetry(u32),
    /// Send the two halves.
    Split,
    /// Give the payload back to the sender (answer retryable), with the wait to ask for.
    ReturnToSender {
        /// Seconds to put in `Retry-After`, when LaunchDarkly named them.
        retry_after: Option<u32>,
    },
    /// A permanent failure: keep it in the dead-letter store with the reason.
    Keep(DeadLetterReason),
}

/// Direct mode's decision after attempt number `attempt` (1-based): the SDKs' rules with
/// `policy.direct_attempts` attempts, waits no longer than `policy.direct_max_wait_ms`.
pub fn direct_action(
    policy: &RetryPolicy,
    attempt: u32,
    events: usize,
    result: &AttemptResult,
    now_ms: i64,
) -> DirectAction {
    let delays = vec![1u32; policy.direct_attempts.saturating_sub(1) as usize];
    match next_step(&delays, attempt, events, result, now_ms) {
        NextStep::Delivered => DirectAction::Done,
        NextStep::Split => DirectAction::Split,
        NextStep::RetryAfter(seconds) if u64::from(seconds) * 1000 <= policy.direct_max_wait_ms => {
            DirectAction::WaitAndRetry(seconds.max(1))
        }
        NextStep::RetryAfter(seconds) => DirectAction::ReturnToSender {
            retry_after: Some(seconds),
        },
        NextStep::DeadLetter(reason) if reason.code == "retries_exhausted" => {
            DirectAction::ReturnToSender { retry_after: None }
        }
        NextStep::DeadLetter(reason) => DirectAction::Keep(reason),
    }
}

/// Seconds to wait from a `Retry-After` header: delta-seconds, or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`) relative to `now_ms`.
pub fn retry_after_seconds(value: &str, now_ms: i64) -> Option<u32> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.min(u64::from(u32::MAX)) as u32);
    }
    let at_ms = http_date_millis(value)?;
    let seconds = (at_ms - now_ms).max(0) / 1000;
    Some(seconds.min(i64::from(u32::MAX)) as u32)
}

/// Unix milliseconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date_millis(value: &str) -> Option<i64> {
    let mut parts = value.split_whitespace();
    let _weekday = parts.next()?;
    let day = parts.next()?;
    let month = match parts.next()? {
        "Jan" => "01",
        "Feb" => "02",
        "Mar" => "03",
        "Apr" => "04",
        "May" => "05",
        "Jun" => "06",
        "Jul" => "07",
        "Aug" => "08",
        "Sep" => "09",
        "Oct" => "10",
        "Nov" => "11",
        "Dec" => "12",
        _ => return None,
    };
    let year = parts.next()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || day.len() != 2 || year.len() != 4 {
        return None;
    }
    crate::timestamp::parse_iso8601_millis(&format!("{year}-{month}-{day}T{time}Z"))
}

/// A payload waiting in the delivery queue (durable mode). Sent as JSON text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedPayload {
    /// Format version (1).
    pub v: u32,
    /// The destination's name; its URL is looked up when delivering, so a fixed client-side ID
    /// applies to payloads already queued.
    pub destination: String,
    /// `X-LaunchDarkly-Payload-ID`, the same on every attempt.
    pub payload_id: String,
    /// The JSON array of custom events.
    pub body: String,
    /// How many events it carries.
    pub events: usize,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was first queued (Unix ms).
    pub queued_at: i64,
    /// What the last attempt got, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<String>,
}

/// A payload given up on, kept with its reason until it is replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The payload, as it was.
    pub payload: QueuedPayload,
    /// Why it was given up on.
    pub reason: DeadLetterReason,
    /// When (Unix ms).
    pub dead_lettered_at: i64,
}

/// The two halves of a payload LaunchDarkly found too large, each with its own payload id
/// derived from the parent's (so a retried split carries the same ids). `None` for fewer than
/// two events or a body that is not a JSON array.
pub fn split_payload(payload: &QueuedPayload) -> Option<[QueuedPayload; 2]> {
    let items: Vec<&RawValue> = serde_json::from_str(&payload.body).ok()?;
    if items.len() < 2 {
        return None;
    }
    let (first, second) = items.split_at(items.len() / 2);
    let half = |events: &[&RawValue], part: &str| -> QueuedPayload {
        let parts: Vec<&str> = events.iter().map(|raw| raw.get()).collect();
        let parent = Uuid::parse_str(&payload.payload_id).unwrap_or(Uuid::nil());
        QueuedPayload {
            payload_id: uuid_v5(&parent, part.as_bytes()).to_string(),
            body: format!("[{}]", parts.join(",")),
            events: events.len(),
            attempts: 0,
            last_result: None,
            ..payload.clone()
        }
    };
    Some([half(first, "1"), half(second, "2")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Option<u16>, retry_after: Option<&str>) -> AttemptResult {
        AttemptResult {
            status,
            retry_after: retry_after.map(str::to_string),
            error: status.is_none().then(|| "connection refused".to_string()),
        }
    }

    #[test]
    fn next_steps_follow_the_sdks() {
        let delays = [10, 30];
        assert_eq!(
            next_step(&delays, 1, 3, &result(Some(202), None), 0),
            NextStep::Delivered
        );
        assert_eq!(
            next_step(&delays, 1, 3, &result(Some(503), None), 0),
            NextStep::RetryAfter(10)
        );
        assert_eq!(
            next_step(&delays, 2, 3, &result(None, None), 0),
            NextStep::RetryAfter(30)
        );
        assert_eq!(
            next_step(&delays, 1, 3, &result(Some(429), Some("120")), 0),
            NextStep::RetryAfter(120)
        );
        assert_eq!(
            next_step(&delays, 1, 3, &result(Some(400), None), 0),
            NextStep::RetryAfter(10)
        );
        assert_eq!(
            next_step(&delays, 1, 3, &result(Some(413), None), 0),
            NextStep::Split
        );
        let exhausted = next_step(&delays, 3, 3, &result(Some(500), None), 0);
        assert!(
            matches!(exhausted, NextStep::DeadLetter(ref r) if r.code == "retries_exhausted" && r.message.contains("HTTP 500"))
        );
        for status in [401, 403, 404] {
            let step = next_step(&delays, 1, 3, &result(Some(status), None), 0);
            assert!(
                matches!(step, NextStep::DeadLetter(ref r) if r.code == "launchdarkly_configuration_error")
            );
        }
        let single = next_step(&delays, 1, 1, &result(Some(413), None), 0);
        assert!(matches!(single, NextStep::DeadLetter(ref r) if r.code == "payload_too_large"));
    }

    #[test]
    fn direct_mode_retries_once_then_returns_the_payload() {
        let policy = RetryPolicy::default();
        let outage = result(Some(503), None);
        assert_eq!(
            direct_action(&policy, 1, 2, &outage, 0),
            DirectAction::WaitAndRetry(1)
        );
        assert_eq!(
            direct_action(&policy, 2, 2, &outage, 0),
            DirectAction::ReturnToSender { retry_after: None }
        );
        let throttled = result(Some(429), Some("30"));
        assert_eq!(
            direct_action(&policy, 1, 2, &throttled, 0),
            DirectAction::ReturnToSender {
                retry_after: Some(30)
            }
        );
        assert_eq!(
            direct_action(&policy, 1, 2, &result(Some(413), None), 0),
            DirectAction::Split
        );
        assert_eq!(
            direct_action(&policy, 1, 2, &result(Some(202), None), 0),
            DirectAction::Done
        );
        assert!(matches!(
            direct_action(&policy, 1, 2, &result(Some(401), None), 0),
            DirectAction::Keep(ref r) if r.code == "launchdarkly_configuration_error"
        ));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after_seconds("120", 0), Some(120));
        let now = crate::timestamp::parse_iso8601_millis("2015-10-21T07:27:00Z").unwrap();
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(60)
        );
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2015 07:26:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_seconds("soon", now), None);
    }

    #[test]
    fn splits_keep_every_event_once_with_derived_ids() {
        let payload = QueuedPayload {
            v: 1,
            destination: "d".into(),
            payload_id: "6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63".into(),
            body: r#"[{"key":"a"},{"key":"b"},{"key":"c"}]"#.into(),
            events: 3,
            attempts: 2,
            queued_at: 5,
            last_result: Some("HTTP 413".into()),
        };
        let [first, second] = split_payload(&payload).unwrap();
        assert_eq!(first.body, r#"[{"key":"a"}]"#);
        assert_eq!(second.body, r#"[{"key":"b"},{"key":"c"}]"#);
        assert_eq!((first.events, second.events), (1, 2));
        assert_ne!(first.payload_id, second.payload_id);
        assert_eq!(
            split_payload(&payload).unwrap()[0].payload_id,
            first.payload_id,
            "deterministic"
        );
        assert_eq!(first.attempts, 0);
        assert!(split_payload(&first).is_none());
    }

    #[test]
    fn policy_from_vars() {
        let policy = RetryPolicy::from_vars(|name| match name {
            VAR_RETRY_DELAYS => Some("1, 2,3".into()),
            VAR_TIMEOUT_MS => Some("500".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(policy.queue_delays_seconds, [1, 2, 3]);
        assert_eq!(policy.timeout_ms, 500);
        let problems = RetryPolicy::from_vars(|name| match name {
            VAR_RETRY_DELAYS => Some("soon".into()),
            VAR_TIMEOUT_MS => Some("5".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(problems.len(), 2);
    }
}
