//! Delivery decisions, as pure functions: how payloads are bounded, what to do after each
//! attempt (LaunchDarkly's SDK rules: 2xx done; 413 split; 400, 408, 429, any status outside
//! 2xx–4xx (5xx …), timeouts and network errors retried, honouring `Retry-After`; the other 4xx
//! (401, 403, 404 …) are configuration errors), the queued-payload and dead-letter records, how a
//! payload is split in two and cut into queue messages, and the dead-letter store's keys, expiry
//! and pages.

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
    /// 2,500 events (Segment's largest batch: a request is one payload per destination unless
    /// its events pass 512 KiB) or 512 KiB. The bytes bound what LaunchDarkly receives; each
    /// payload more is a subrequest more, which cost the Worker about 8% of its CPU on Segment's
    /// largest batch when it was cut in five (500 events each).
    pub const DEFAULT: PayloadLimits = PayloadLimits {
        max_events: 2_500,
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
    /// What kind of failure, as a stable code.
    pub code: DeadLetterCode,
    /// For people.
    pub message: String,
}

/// The stable code of a [`DeadLetterReason`], written in snake case (`retries_exhausted`) in
/// dead letters, logs and answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterCode {
    /// LaunchDarkly answered a 4xx other than 400, 408, 413 and 429 (401, 403, 404 …): the
    /// destination's client-side ID or events host is wrong.
    LaunchdarklyConfigurationError,
    /// Every retry the policy allows failed.
    RetriesExhausted,
    /// LaunchDarkly answered 413 for a payload of fewer than two events: it cannot be split.
    PayloadTooLarge,
    /// Durable mode: the payload's destination is no longer configured.
    UnknownDestination,
    /// Durable mode: a delivery-queue message that is not a queued payload.
    UnreadableMessage,
    /// Durable mode: the delivery consumer failed on the payload until the platform moved it to
    /// the dead-letter queue.
    ConsumerFailed,
    /// A code this version does not write, read from a letter kept by another version: kept as
    /// it was, so the letter can still be listed, replayed and deleted. Reading gives the
    /// variants above for their codes, never this one.
    #[serde(untagged)]
    Other(String),
}

impl DeadLetterCode {
    /// The code as written: `retries_exhausted`, or an [`DeadLetterCode::Other`] code as it was.
    pub fn as_str(&self) -> &str {
        match self {
            DeadLetterCode::LaunchdarklyConfigurationError => "launchdarkly_configuration_error",
            DeadLetterCode::RetriesExhausted => "retries_exhausted",
            DeadLetterCode::PayloadTooLarge => "payload_too_large",
            DeadLetterCode::UnknownDestination => "unknown_destination",
            DeadLetterCode::UnreadableMessage => "unreadable_message",
            DeadLetterCode::ConsumerFailed => "consumer_failed",
            DeadLetterCode::Other(code) => code,
        }
    }

    /// Whether the destination's configuration (client-side ID, events host) is at fault rather
    /// than an outage: fixing it and replaying delivers the payload.
    pub fn is_configuration_error(&self) -> bool {
        matches!(self, DeadLetterCode::LaunchdarklyConfigurationError)
    }
}

impl std::fmt::Display for DeadLetterCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// Decides the next step after attempt number `attempt` (1-based; 0 reads as 1) of a payload of
/// `events` events, given the waits allowed (`delays_seconds[i]` before retry `i + 1`). A retry
/// waits the policy's wait or the `Retry-After` LaunchDarkly asked for, whichever is longer, at
/// most 43200 seconds (Cloudflare Queues' longest delay); with no wait left, the payload is
/// given up on.
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
            code: DeadLetterCode::PayloadTooLarge,
            message: "LaunchDarkly answered 413 for a single event: it is too large to deliver".to_string(),
        }),
        DeliveryVerdict::ConfigurationError => NextStep::DeadLetter(DeadLetterReason {
            code: DeadLetterCode::LaunchdarklyConfigurationError,
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
                code: DeadLetterCode::RetriesExhausted,
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

/// Direct mode's decision after attempt number `attempt` (1-based): [`next_step`] with
/// `policy.direct_attempts` attempts one second apart. A longer `Retry-After` is waited for when
/// it is at most `policy.direct_max_wait_ms`, else the payload goes back to the sender with that
/// wait; so does a payload whose attempts are spent. Permanent failures are kept.
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
        NextStep::DeadLetter(reason) => match reason.code {
            DeadLetterCode::RetriesExhausted => DirectAction::ReturnToSender { retry_after: None },
            DeadLetterCode::LaunchdarklyConfigurationError
            | DeadLetterCode::PayloadTooLarge
            | DeadLetterCode::UnknownDestination
            | DeadLetterCode::UnreadableMessage
            | DeadLetterCode::ConsumerFailed
            | DeadLetterCode::Other(_) => DirectAction::Keep(reason),
        },
    }
}

/// Seconds to wait from a `Retry-After` header: delta-seconds, or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`) relative to `now_ms` (a past one is 0); at most
/// `u32::MAX`. `None` for anything else.
pub fn retry_after_seconds(value: &str, now_ms: i64) -> Option<u32> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.min(u64::from(u32::MAX)) as u32);
    }
    let at_ms = http_date_millis(value)?;
    let seconds = (at_ms - now_ms).max(0) / 1000;
    Some(seconds.min(i64::from(u32::MAX)) as u32)
}

/// Unix milliseconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`; the weekday is not
/// checked).
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
    if parts.next()? != "GMT" || parts.next().is_some() || day.len() != 2 || year.len() != 4 {
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
    /// `X-LaunchDarkly-Payload-ID`, the same on every attempt: a UUID, except in the letter of
    /// an unreadable queue message (the queue's message id) or of an earlier version.
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

/// How long dead letters are kept, in days (decimals allowed); default 30.
pub const VAR_DEAD_LETTER_TTL_DAYS: &str = "DEAD_LETTER_TTL_DAYS";
/// 30 days, in seconds.
pub const DEFAULT_DEAD_LETTER_TTL_SECONDS: u64 = 30 * 86_400;
/// Workers KV's shortest expiration TTL.
const MIN_TTL_SECONDS: u64 = 60;
/// The longest TTL accepted: ten years.
const MAX_TTL_DAYS: f64 = 3_650.0;

/// The dead-letter TTL in seconds from `DEAD_LETTER_TTL_DAYS` (absent or blank: 30 days): a
/// number of days from 60 seconds' worth to 3650.
pub fn dead_letter_ttl_seconds(value: Option<&str>) -> Result<u64, ConfigProblem> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(DEFAULT_DEAD_LETTER_TTL_SECONDS);
    };
    let seconds = text
        .parse::<f64>()
        .ok()
        .filter(|days| (0.0..=MAX_TTL_DAYS).contains(days))
        .map(|days| (days * 86_400.0).round() as u64)
        .filter(|seconds| *seconds >= MIN_TTL_SECONDS);
    seconds.ok_or_else(|| ConfigProblem {
        location: VAR_DEAD_LETTER_TTL_DAYS.to_string(),
        message: format!(
            "{text:?} is not a number of days between 0.0007 (60 seconds, Workers KV's shortest expiration) and 3650"
        ),
    })
}

/// The prefix of every dead-letter key.
pub const DEAD_LETTER_PREFIX: &str = "dead-letter:";

/// The store's key of a dead letter: `dead-letter:{payload_id}:{destination}`, so the same
/// payload id kept for two destinations is two letters, and a payload id's letters share a
/// prefix ([`dead_letter_id_prefix`]).
pub fn dead_letter_key(payload_id: &str, destination: &str) -> String {
    format!("{}{destination}", dead_letter_id_prefix(payload_id))
}

/// The prefix of every key of one payload id: `dead-letter:{payload_id}:`.
pub fn dead_letter_id_prefix(payload_id: &str) -> String {
    format!("{DEAD_LETTER_PREFIX}{payload_id}:")
}

/// One page of the dead-letter store: `?cursor=...&limit=N` of an admin URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Where the previous page ended (the store's list cursor), or the start.
    pub cursor: Option<String>,
    /// Letters per page, 1 to [`PageRequest::MAX_LIMIT`].
    pub limit: u32,
}

impl PageRequest {
    /// Letters per page when `limit` is absent.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The largest page; a larger `limit` is lowered to it.
    pub const MAX_LIMIT: u32 = 100;

    /// Reads `cursor` and `limit` from the query of `url` (percent-decoded; an empty cursor and
    /// other parameters ignored; a `limit` above [`PageRequest::MAX_LIMIT`] lowered to it).
    /// `Err` holds a `limit` that is not a positive integer up to `u64::MAX`.
    pub fn from_url(url: &str) -> Result<PageRequest, InvalidLimit> {
        let query = url
            .split('#')
            .next()
            .and_then(|url| url.split_once('?'))
            .map_or("", |(_, query)| query);
        let mut page = PageRequest {
            cursor: None,
            limit: PageRequest::DEFAULT_LIMIT,
        };
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match name {
                "cursor" if !value.is_empty() => page.cursor = Some(value),
                "limit" => {
                    let limit = value
                        .parse::<u64>()
                        .ok()
                        .filter(|limit| *limit > 0)
                        .ok_or(InvalidLimit(value))?;
                    page.limit = limit.min(u64::from(PageRequest::MAX_LIMIT)) as u32;
                }
                _ => {}
            }
        }
        Ok(page)
    }
}

/// A page's `limit` that is not a positive integer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("limit {0:?} is not a positive integer")]
pub struct InvalidLimit(pub String);

/// `%XX` escapes decoded (a malformed one kept as it is; `+` kept, since cursors may hold it;
/// bytes that are not UTF-8 become U+FFFD).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| text.get(at + 1..at + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
        QueuedPayload {
            payload_id: child_payload_id(&payload.payload_id, part),
            body: format!("[{}]", parts.join(",")),
            events: events.len(),
            attempts: 0,
            last_result: None,
            ..payload.clone()
        }
    };
    Some([half(first, "1"), half(second, "2")])
}

/// The id of part `part` of the payload `parent`: the UUIDv5 of `part` in the parent's UUID, or,
/// for a parent id that is not a UUID, of `{parent}/{part}` in the nil UUID (so two such parents
/// never give their parts the same ids).
fn child_payload_id(parent: &str, part: &str) -> String {
    match Uuid::parse_str(parent) {
        Ok(parent) => uuid_v5(&parent, part.as_bytes()),
        Err(_) => uuid_v5(&Uuid::nil(), format!("{parent}/{part}").as_bytes()),
    }
    .to_string()
}

/// The largest queued message, in bytes of its JSON: Cloudflare Queues take messages of up to
/// 128 KB; the margin leaves room for a dead letter's reason around the payload.
pub const MAX_QUEUED_BYTES: usize = 120_000;

/// Why a payload could not be cut into queue messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueFitError {
    /// A piece over the limit that cannot be split: one event, or a body that is not a JSON array.
    #[error(
        "the payload {payload_id} is {bytes} bytes as a queue message (at most {max_bytes}) and cannot be split"
    )]
    Unsplittable {
        /// The piece's payload id.
        payload_id: String,
        /// Its size as JSON.
        bytes: usize,
        /// The limit.
        max_bytes: usize,
    },
    /// The payload could not be written as JSON.
    #[error("the payload cannot be written as JSON: {0}")]
    Json(String),
}

/// `payload` as queue messages (its JSON), each at most `max_bytes`: the payload itself when it
/// fits, else its halves from [`split_payload`], halved again until each fits, in event order.
/// The same payload always gives the same pieces and payload ids; the pieces keep the parent's
/// attempts and last result (cutting is transport, not a new delivery).
pub fn queue_messages(
    payload: &QueuedPayload,
    max_bytes: usize,
) -> Result<Vec<String>, QueueFitError> {
    let mut pending = vec![payload.clone()];
    let mut messages = Vec::new();
    while let Some(piece) = pending.pop() {
        let json = serde_json::to_string(&piece).map_err(|e| QueueFitError::Json(e.to_string()))?;
        if json.len() <= max_bytes {
            messages.push(json);
            continue;
        }
        let Some(halves) = split_payload(&piece) else {
            return Err(QueueFitError::Unsplittable {
                payload_id: piece.payload_id,
                bytes: json.len(),
                max_bytes,
            });
        };
        for half in halves.into_iter().rev() {
            pending.push(QueuedPayload {
                attempts: piece.attempts,
                last_result: piece.last_result.clone(),
                ..half
            });
        }
    }
    Ok(messages)
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
            matches!(exhausted, NextStep::DeadLetter(DeadLetterReason { code: DeadLetterCode::RetriesExhausted, ref message }) if message.contains("HTTP 500"))
        );
        for status in [401, 403, 404] {
            let step = next_step(&delays, 1, 3, &result(Some(status), None), 0);
            assert!(matches!(
                step,
                NextStep::DeadLetter(DeadLetterReason {
                    code: DeadLetterCode::LaunchdarklyConfigurationError,
                    ..
                })
            ));
        }
        let single = next_step(&delays, 1, 1, &result(Some(413), None), 0);
        assert!(matches!(
            single,
            NextStep::DeadLetter(DeadLetterReason {
                code: DeadLetterCode::PayloadTooLarge,
                ..
            })
        ));
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
            DirectAction::Keep(DeadLetterReason {
                code: DeadLetterCode::LaunchdarklyConfigurationError,
                ..
            })
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
        assert_eq!((first.attempts, second.attempts), (0, 0));
        assert_eq!(
            (first.last_result.as_deref(), second.last_result.as_deref()),
            (None, None)
        );
        assert_eq!((first.queued_at, first.destination.as_str()), (5, "d"));
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

    fn queued(id: &str, body: String, events: usize) -> QueuedPayload {
        QueuedPayload {
            v: 1,
            destination: "main".into(),
            payload_id: id.into(),
            body,
            events,
            attempts: 0,
            queued_at: 1,
            last_result: None,
        }
    }

    /// `count` small custom events, each naming its index.
    fn events_body(count: usize) -> String {
        let events: Vec<String> = (0..count)
            .map(|i| format!(r#"{{"kind":"custom","key":"Order Completed","contextKeys":{{"user":"user-{i}"}},"creationDate":1714979289123,"data":{{"seq":{i},"note":"a \"quoted\" note"}}}}"#))
            .collect();
        format!("[{}]", events.join(","))
    }

    fn seqs(messages: &[String]) -> Vec<u64> {
        messages
            .iter()
            .flat_map(|text| {
                let piece: QueuedPayload = serde_json::from_str(text).unwrap();
                let events: Vec<serde_json::Value> = serde_json::from_str(&piece.body).unwrap();
                assert_eq!(piece.events, events.len());
                events
                    .into_iter()
                    .map(|e| e["data"]["seq"].as_u64().unwrap())
            })
            .collect()
    }

    const ID: &str = "6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63";

    #[test]
    fn a_payload_that_fits_is_one_message_unchanged() {
        let payload = queued(ID, events_body(3), 3);
        let messages = queue_messages(&payload, MAX_QUEUED_BYTES).unwrap();
        assert_eq!(messages, [serde_json::to_string(&payload).unwrap()]);
        // Exactly at the limit still fits; one byte less does not.
        let exact = messages[0].len();
        assert_eq!(queue_messages(&payload, exact).unwrap().len(), 1);
        assert_eq!(queue_messages(&payload, exact - 1).unwrap().len(), 2);
    }

    #[test]
    fn large_payloads_are_cut_into_messages_under_the_limit_in_order() {
        // The largest payload: about 512 KiB as sent (more as escaped JSON text).
        let mut body = events_body(500);
        let pad = (512 * 1024 - body.len()) / 500;
        body = body.replace("a \\\"quoted\\\" note", &"n".repeat(pad));
        assert!(body.len() > 500 * 1024 && body.len() <= 512 * 1024);
        let payload = QueuedPayload {
            attempts: 3,
            last_result: Some("HTTP 503".into()),
            ..queued(ID, body, 500)
        };
        let messages = queue_messages(&payload, MAX_QUEUED_BYTES).unwrap();
        assert!(messages.len() >= 5, "{} messages", messages.len());
        assert!(messages.iter().all(|m| m.len() <= MAX_QUEUED_BYTES));
        assert_eq!(seqs(&messages), (0..500).collect::<Vec<_>>());
        let pieces: Vec<QueuedPayload> = messages
            .iter()
            .map(|m| serde_json::from_str(m).unwrap())
            .collect();
        let ids: std::collections::HashSet<&str> =
            pieces.iter().map(|p| p.payload_id.as_str()).collect();
        assert_eq!(ids.len(), pieces.len(), "every piece has its own id");
        assert!(!ids.contains(ID));
        for piece in &pieces {
            assert_eq!(
                (piece.attempts, piece.destination.as_str(), piece.queued_at),
                (3, "main", 1)
            );
            assert_eq!(piece.last_result.as_deref(), Some("HTTP 503"));
        }
        assert_eq!(
            queue_messages(&payload, MAX_QUEUED_BYTES).unwrap(),
            messages,
            "the same payload gives the same pieces and ids"
        );
    }

    #[test]
    fn pieces_are_the_halves_of_halves() {
        let payload = queued(ID, events_body(4), 4);
        let whole = serde_json::to_string(&payload).unwrap().len();
        let messages = queue_messages(&payload, whole * 2 / 3).unwrap();
        let [first, second] = split_payload(&payload).unwrap();
        assert_eq!(
            messages,
            [
                serde_json::to_string(&first).unwrap(),
                serde_json::to_string(&second).unwrap()
            ]
        );
        let quarters: Vec<String> = [first, second]
            .iter()
            .flat_map(|half| split_payload(half).unwrap())
            .map(|quarter| serde_json::to_string(&quarter).unwrap())
            .collect();
        let largest = quarters.iter().map(String::len).max().unwrap();
        assert_eq!(queue_messages(&payload, largest).unwrap(), quarters);
        assert_eq!(seqs(&quarters), [0, 1, 2, 3]);
    }

    #[test]
    fn an_event_too_large_for_a_message_is_an_error() {
        let payload = queued(ID, events_body(2), 2);
        let error = queue_messages(&payload, 50).unwrap_err();
        assert!(matches!(
            error,
            QueueFitError::Unsplittable { ref payload_id, max_bytes: 50, bytes } if payload_id != ID && bytes > 50
        ));
        assert!(error.to_string().contains("cannot be split"));
        let not_events = queued(ID, "{\"a\":1}".into(), 1);
        assert_eq!(
            queue_messages(&not_events, 10),
            Err(QueueFitError::Unsplittable {
                payload_id: ID.into(),
                bytes: serde_json::to_string(&not_events).unwrap().len(),
                max_bytes: 10
            })
        );
        assert_eq!(
            QueueFitError::Unsplittable {
                payload_id: "p".into(),
                bytes: 51,
                max_bytes: 50
            }
            .to_string(),
            "the payload p is 51 bytes as a queue message (at most 50) and cannot be split"
        );
        assert_eq!(
            QueueFitError::Json("x".into()).to_string(),
            "the payload cannot be written as JSON: x"
        );
    }

    #[test]
    fn child_ids_are_derived_from_any_parent_id() {
        let parent = Uuid::parse_str(ID).unwrap();
        assert_eq!(
            child_payload_id(ID, "1"),
            uuid_v5(&parent, b"1").to_string()
        );
        assert_ne!(
            child_payload_id("msg-a", "1"),
            child_payload_id("msg-b", "1")
        );
        assert_ne!(
            child_payload_id("msg-a", "1"),
            child_payload_id("msg-a", "2")
        );
        assert_eq!(
            child_payload_id("msg-a", "1"),
            uuid_v5(&Uuid::nil(), b"msg-a/1").to_string()
        );
    }

    #[test]
    fn dead_letter_ttl() {
        assert_eq!(dead_letter_ttl_seconds(None), Ok(30 * 86_400));
        assert_eq!(dead_letter_ttl_seconds(Some("  ")), Ok(30 * 86_400));
        assert_eq!(dead_letter_ttl_seconds(Some("7")), Ok(7 * 86_400));
        assert_eq!(dead_letter_ttl_seconds(Some(" 0.5 ")), Ok(43_200));
        assert_eq!(dead_letter_ttl_seconds(Some("3650")), Ok(3650 * 86_400));
        // 60 seconds is KV's minimum: 0.0007 days is 60.48 s, 0.00069 is 59.6 s (rounds to 60).
        assert_eq!(dead_letter_ttl_seconds(Some("0.0007")), Ok(60));
        assert_eq!(dead_letter_ttl_seconds(Some("0.00069")), Ok(60));
        for bad in ["0", "0.0006", "-1", "3650.5", "NaN", "inf", "soon"] {
            let problem = dead_letter_ttl_seconds(Some(bad)).unwrap_err();
            assert_eq!(problem.location, VAR_DEAD_LETTER_TTL_DAYS, "{bad}");
            assert!(problem.message.contains(bad), "{bad}");
        }
    }

    #[test]
    fn dead_letter_keys() {
        assert_eq!(dead_letter_key("p-1", "main"), "dead-letter:p-1:main");
        assert_eq!(dead_letter_id_prefix("p-1"), "dead-letter:p-1:");
        assert!(dead_letter_key("p-1", "main").starts_with(DEAD_LETTER_PREFIX));
        assert_ne!(dead_letter_key("p-1", "a"), dead_letter_key("p-1", "b"));
        assert!(!dead_letter_key("p-10", "a").starts_with(&dead_letter_id_prefix("p-1")));
    }

    #[test]
    fn page_requests() {
        let page = |url: &str| PageRequest::from_url(url);
        let default = PageRequest {
            cursor: None,
            limit: 50,
        };
        assert_eq!(page("https://x/admin/dead-letters"), Ok(default.clone()));
        assert_eq!(page("https://x/admin/dead-letters?"), Ok(default.clone()));
        assert_eq!(
            page("https://x/admin/dead-letters?cursor=&other=1"),
            Ok(default.clone())
        );
        assert_eq!(
            page("https://x/a?limit=3&cursor=AbC%2B%2f%3D+x=#limit=9"),
            Ok(PageRequest {
                cursor: Some("AbC+/=+x=".into()),
                limit: 3
            })
        );
        assert_eq!(page("/a?limit=100").map(|p| p.limit), Ok(100));
        assert_eq!(page("/a?limit=101").map(|p| p.limit), Ok(100));
        assert_eq!(page("/a?limit=99999999999999999999").ok(), None);
        assert_eq!(page("/a?limit=1").map(|p| p.limit), Ok(1));
        for bad in ["0", "-1", "x", ""] {
            let error = page(&format!("/a?limit={bad}")).unwrap_err();
            assert_eq!(error, InvalidLimit(bad.into()));
            assert_eq!(
                error.to_string(),
                format!("limit {bad:?} is not a positive integer")
            );
        }
        assert_eq!(
            page("/a?cursor=%zz%4").unwrap().cursor.as_deref(),
            Some("%zz%4")
        );
        assert_eq!(
            page("/a?cursor=%+1").unwrap().cursor.as_deref(),
            Some("%+1")
        );
        assert_eq!(
            page("/a?cursor=%C3%A9").unwrap().cursor.as_deref(),
            Some("é")
        );
        assert_eq!(page("/a?cursor").unwrap().cursor, None);
    }

    #[test]
    fn payload_limits_are_2500_events_or_512_kib() {
        assert_eq!(
            PayloadLimits::DEFAULT,
            PayloadLimits {
                max_events: 2_500,
                max_bytes: 524_288
            }
        );
    }

    #[test]
    fn retry_delays_are_bounded() {
        let delays = |text: &str| {
            RetryPolicy::from_vars(|name| (name == VAR_RETRY_DELAYS).then(|| text.to_string()))
                .map(|policy| policy.queue_delays_seconds)
        };
        assert_eq!(delays("43200"), Ok(vec![43_200]));
        assert_eq!(delays(&vec!["0"; 100].join(",")).map(|d| d.len()), Ok(100));
        assert_eq!(
            delays("  "),
            Ok(RetryPolicy::default().queue_delays_seconds)
        );
        for bad in ["43201", "1,43201", "43201,1", ",", "1,,2", "-1"] {
            let problems = delays(bad).unwrap_err();
            assert_eq!(problems[0].location, VAR_RETRY_DELAYS, "{bad}");
        }
        assert!(delays(&vec!["0"; 101].join(",")).is_err());
        let timeout = |text: &str| {
            RetryPolicy::from_vars(|name| (name == VAR_TIMEOUT_MS).then(|| text.to_string()))
                .map(|policy| policy.timeout_ms)
        };
        assert_eq!(timeout(" 100 "), Ok(100));
        assert_eq!(timeout("60000"), Ok(60_000));
        assert_eq!(timeout(""), Ok(10_000));
        for bad in ["99", "60001", "ten"] {
            assert_eq!(
                timeout(bad).unwrap_err()[0].location,
                VAR_TIMEOUT_MS,
                "{bad}"
            );
        }
        assert_eq!(RetryPolicy::from_vars(|_| None), Ok(RetryPolicy::default()));
        assert_eq!(
            RetryPolicy::default()
                .queue_delays_seconds
                .iter()
                .sum::<u32>(),
            13_960,
            "about four hours of retries"
        );
    }

    #[test]
    fn dead_letter_codes_are_written_in_snake_case() {
        let codes = [
            (
                DeadLetterCode::LaunchdarklyConfigurationError,
                "launchdarkly_configuration_error",
            ),
            (DeadLetterCode::RetriesExhausted, "retries_exhausted"),
            (DeadLetterCode::PayloadTooLarge, "payload_too_large"),
            (DeadLetterCode::UnknownDestination, "unknown_destination"),
            (DeadLetterCode::UnreadableMessage, "unreadable_message"),
            (DeadLetterCode::ConsumerFailed, "consumer_failed"),
            (DeadLetterCode::Other("x".into()), "x"),
        ];
        for (code, text) in codes {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            let json = format!("{text:?}");
            assert_eq!(serde_json::to_string(&code).unwrap(), json);
            assert_eq!(serde_json::from_str::<DeadLetterCode>(&json).unwrap(), code);
            assert_eq!(
                code.is_configuration_error(),
                code == DeadLetterCode::LaunchdarklyConfigurationError,
                "{text}"
            );
        }
        // A known code never reads as `Other`; a code that is not a string does not read.
        assert_ne!(
            serde_json::from_str::<DeadLetterCode>("\"retries_exhausted\"").unwrap(),
            DeadLetterCode::Other("retries_exhausted".into())
        );
        assert!(serde_json::from_str::<DeadLetterCode>("1").is_err());
    }

    #[test]
    fn stored_dead_letters_read_and_write_back_byte_for_byte() {
        let stored = [
            r#"{"payload":{"v":1,"destination":"main","payload_id":"6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63","body":"[]","events":0,"attempts":9,"queued_at":1,"last_result":"HTTP 503"},"reason":{"code":"retries_exhausted","message":"gave up after 9 attempts; the last one got HTTP 503"},"dead_lettered_at":2}"#,
            // An earlier version's letter: any payload id, a code this version does not write.
            r#"{"payload":{"v":1,"destination":"a","payload_id":"legacy-id","body":"[]","events":0,"attempts":1,"queued_at":1},"reason":{"code":"x","message":"y"},"dead_lettered_at":1}"#,
        ];
        for text in stored {
            let letter: DeadLetter = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&letter).unwrap(), text);
        }
        let letter: DeadLetter = serde_json::from_str(stored[0]).unwrap();
        assert_eq!(letter.reason.code, DeadLetterCode::RetriesExhausted);
        let legacy: DeadLetter = serde_json::from_str(stored[1]).unwrap();
        assert_eq!(legacy.reason.code, DeadLetterCode::Other("x".into()));
    }

    #[test]
    fn attempts_are_described() {
        assert_eq!(result(Some(503), None).describe(), "HTTP 503");
        assert_eq!(result(None, None).describe(), "connection refused");
        assert_eq!(AttemptResult::default().describe(), "no response");
        let both = AttemptResult {
            status: Some(500),
            error: Some("x".into()),
            ..AttemptResult::default()
        };
        assert_eq!(both.describe(), "HTTP 500");
    }

    #[test]
    fn every_retry_decision() {
        let delays = [10, 30, 300];
        let step = |attempt, events, status, retry_after| {
            next_step(&delays, attempt, events, &result(status, retry_after), 0)
        };
        // The wait is the policy's, or Retry-After when longer, capped at 12 hours.
        assert_eq!(step(1, 2, Some(429), Some("5")), NextStep::RetryAfter(10));
        assert_eq!(step(1, 2, Some(429), Some("11")), NextStep::RetryAfter(11));
        assert_eq!(
            step(3, 2, Some(429), Some("43201")),
            NextStep::RetryAfter(43_200)
        );
        assert_eq!(
            step(3, 2, Some(503), Some("soon")),
            NextStep::RetryAfter(300)
        );
        for status in [400, 408, 429, 500, 502, 503, 504] {
            assert_eq!(
                step(1, 2, Some(status), None),
                NextStep::RetryAfter(10),
                "{status}"
            );
        }
        assert_eq!(step(3, 2, None, None), NextStep::RetryAfter(300));
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(
                step(9, 2, Some(status), None),
                NextStep::Delivered,
                "{status}"
            );
        }
        let exhausted = step(4, 2, None, None);
        assert_eq!(
            exhausted,
            NextStep::DeadLetter(DeadLetterReason {
                code: DeadLetterCode::RetriesExhausted,
                message: "gave up after 4 attempts; the last one got connection refused".into(),
            })
        );
        // No retries at all: the first failure is the last.
        assert!(matches!(
            next_step(&[], 1, 2, &result(Some(500), None), 0),
            NextStep::DeadLetter(DeadLetterReason {
                code: DeadLetterCode::RetriesExhausted,
                ..
            })
        ));
        // Attempt 0 (never sent) reads the first wait, as attempt 1 does.
        assert_eq!(step(0, 2, Some(500), None), NextStep::RetryAfter(10));
        assert_eq!(step(1, 2, Some(413), None), NextStep::Split);
        assert!(matches!(
            step(1, 1, Some(413), None),
            NextStep::DeadLetter(DeadLetterReason {
                code: DeadLetterCode::PayloadTooLarge,
                ..
            })
        ));
        assert!(matches!(
            step(1, 0, Some(413), None),
            NextStep::DeadLetter(DeadLetterReason {
                code: DeadLetterCode::PayloadTooLarge,
                ..
            })
        ));
        assert_eq!(
            step(1, 2, Some(404), None),
            NextStep::DeadLetter(DeadLetterReason {
                code: DeadLetterCode::LaunchdarklyConfigurationError,
                message: "LaunchDarkly answered HTTP 404: check the destination's client-side ID and events host, then replay".into(),
            })
        );
    }

    #[test]
    fn direct_mode_waits_only_briefly() {
        let policy = RetryPolicy {
            direct_attempts: 3,
            direct_max_wait_ms: 2_000,
            ..RetryPolicy::default()
        };
        let throttled = |after: &str| result(Some(429), Some(after));
        assert_eq!(
            direct_action(&policy, 1, 2, &throttled("2"), 0),
            DirectAction::WaitAndRetry(2)
        );
        assert_eq!(
            direct_action(&policy, 1, 2, &throttled("3"), 0),
            DirectAction::ReturnToSender {
                retry_after: Some(3)
            }
        );
        assert_eq!(
            direct_action(&policy, 2, 2, &throttled("0"), 0),
            DirectAction::WaitAndRetry(1)
        );
        assert_eq!(
            direct_action(&policy, 3, 2, &throttled("0"), 0),
            DirectAction::ReturnToSender { retry_after: None }
        );
        let single_attempt = RetryPolicy {
            direct_attempts: 1,
            ..policy.clone()
        };
        assert_eq!(
            direct_action(&single_attempt, 1, 2, &throttled("1"), 0),
            DirectAction::ReturnToSender { retry_after: None }
        );
        let no_attempts = RetryPolicy {
            direct_attempts: 0,
            ..policy.clone()
        };
        assert_eq!(
            direct_action(&no_attempts, 1, 2, &throttled("1"), 0),
            DirectAction::ReturnToSender { retry_after: None }
        );
        let patient = RetryPolicy {
            direct_max_wait_ms: 3_000,
            ..policy.clone()
        };
        assert_eq!(
            direct_action(&patient, 1, 2, &throttled("3"), 0),
            DirectAction::WaitAndRetry(3)
        );
        assert!(matches!(
            direct_action(&policy, 1, 1, &result(Some(413), None), 0),
            DirectAction::Keep(DeadLetterReason {
                code: DeadLetterCode::PayloadTooLarge,
                ..
            })
        ));
    }

    #[test]
    fn retry_after_http_dates_in_every_month() {
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        for (index, month) in months.iter().enumerate() {
            let now = crate::timestamp::parse_iso8601_millis(&format!(
                "2025-{:02}-15T12:00:00Z",
                index + 1
            ))
            .unwrap();
            assert_eq!(
                retry_after_seconds(&format!("Mon, 15 {month} 2025 12:01:30 GMT"), now),
                Some(90),
                "{month}"
            );
        }
    }

    #[test]
    fn retry_after_forms_that_are_refused_or_bounded() {
        let now = crate::timestamp::parse_iso8601_millis("2015-10-21T07:27:00Z").unwrap();
        assert_eq!(retry_after_seconds(" 7 ", now), Some(7));
        assert_eq!(retry_after_seconds("0", now), Some(0));
        assert_eq!(retry_after_seconds("4294967296", now), Some(u32::MAX));
        assert_eq!(retry_after_seconds("99999999999999999999", now), None);
        assert_eq!(retry_after_seconds("-5", now), None);
        assert_eq!(retry_after_seconds("", now), None);
        // 999 ms ahead is 0 whole seconds; 1,000 ms is one.
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2015 07:27:01 GMT", now - 999 + 1000),
            Some(0)
        );
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2015 07:27:01 GMT", now),
            Some(1)
        );
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2215 07:27:00 GMT", now),
            Some(u32::MAX),
            "a date centuries away is capped"
        );
        for bad in [
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 21 Oct 2015 07:28:00",
            "Wed, 21 Oct 2015 07:28:00 GMT extra",
            "Wed, 1 Oct 2015 07:28:00 GMT",
            "Wed, 021 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 15 07:28:00 GMT",
            "Wed, 21 Oct 02015 07:28:00 GMT",
            "Wed, 21 October 2015 07:28:00 GMT",
            "Wed, 21 oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 7:28 GMT",
            "Wed, 21 Oct 2015",
            "Wed, 21 Oct",
            "Wed, 21",
            "Wed,",
        ] {
            assert_eq!(retry_after_seconds(bad, now), None, "{bad}");
        }
    }
}
