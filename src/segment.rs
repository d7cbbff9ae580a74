//! Segment events as they arrive: one event, a JSON array of events, or `{"batch": [...]}`.

use serde_json::{Map, Value};
use std::fmt;

/// Why a request body could not be read as Segment events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundError {
    /// The body is not JSON.
    MalformedJson(String),
    /// The body is JSON but neither an event, an array of events nor `{"batch": [...]}`.
    NotEvents(&'static str),
}

impl InboundError {
    /// The machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            InboundError::MalformedJson(_) => "malformed_json",
            InboundError::NotEvents(_) => "invalid_body",
        }
    }
}

impl fmt::Display for InboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InboundError::MalformedJson(detail) => {
                write!(f, "the request body is not valid JSON: {detail}")
            }
            InboundError::NotEvents(what) => write!(
                f,
                "the request body is {what}; send one Segment event object, a JSON array of events, or {{\"batch\": [...]}}"
            ),
        }
    }
}

impl std::error::Error for InboundError {}

/// Reads a request body into its events, in order, without size limits (see
/// [`crate::inbound::read_events`] for Segment's). Elements that are not objects are kept: they
/// are rejected one by one later, without blocking the others.
pub fn parse_events(body: &[u8]) -> Result<Vec<Value>, InboundError> {
    match crate::inbound::read_events(body, &crate::inbound::Limits::NONE) {
        Ok(received) => Ok(received.events),
        Err(crate::inbound::ReadError::Inbound(error)) => Err(error),
        // ok: unreachable, `Limits::NONE` cannot be exceeded
        Err(crate::inbound::ReadError::Limit(error)) => {
            Err(InboundError::MalformedJson(error.to_string()))
        }
    }
}

/// The event's `type` (`track`, `page`, …), when it is a string.
pub fn event_type(event: &Value) -> Option<&str> {
    field(event, "type").and_then(Value::as_str)
}

/// The event's `messageId`, when it is a non-empty string.
pub fn message_id(event: &Value) -> Option<&str> {
    field(event, "messageId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

/// A field of an event object.
fn field<'v>(event: &'v Value, name: &str) -> Option<&'v Value> {
    crate::json::get(event.as_object()?, name)
}

/// Applies LaunchDarkly's correlation rule to the identity fields: a `userId` or `anonymousId`
/// that is `null` or `""` counts as absent, so the preset's `@if exists` falls back from
/// `userId` to `anonymousId` and no `"null"` or empty context key is ever sent.
pub fn normalize_identity(event: &mut Map<String, Value>) {
    for field in ["userId", "anonymousId"] {
        if matches!(event.get(field), Some(Value::Null))
            || event.get(field) == Some(&Value::from(""))
        {
            event.remove(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_three_shapes() {
        let one = parse_events(br#"{"type":"track","event":"A"}"#).unwrap();
        assert_eq!(one, vec![json!({"type":"track","event":"A"})]);
        let array = parse_events(br#"[{"event":"A"},{"event":"B"}]"#).unwrap();
        assert_eq!(array.len(), 2);
        let batch = parse_events(br#"{"batch":[{"event":"A"},3],"writeKey":"k"}"#).unwrap();
        assert_eq!(batch, vec![json!({"event":"A"}), json!(3)]);
    }

    #[test]
    fn an_event_with_a_batch_property_stays_an_event() {
        let events = parse_events(br#"{"type":"track","event":"A","batch":[1]}"#).unwrap();
        assert_eq!(
            events,
            vec![json!({"type":"track","event":"A","batch":[1]})]
        );
    }

    #[test]
    fn rejects_non_events() {
        assert_eq!(parse_events(b"{").unwrap_err().code(), "malformed_json");
        assert_eq!(parse_events(b"").unwrap_err().code(), "malformed_json");
        assert_eq!(parse_events(b"42").unwrap_err().code(), "invalid_body");
        assert_eq!(parse_events(b"null").unwrap_err().code(), "invalid_body");
        assert_eq!(
            parse_events(br#"{"batch":{}}"#).unwrap_err().code(),
            "invalid_body"
        );
    }

    #[test]
    fn identity_normalisation_drops_null_and_empty_ids() {
        let mut event = json!({"userId": "", "anonymousId": null, "event": "x"});
        normalize_identity(event.as_object_mut().unwrap());
        assert_eq!(event, json!({"event": "x"}));
        let mut event = json!({"userId": 0, "anonymousId": "a"});
        normalize_identity(event.as_object_mut().unwrap());
        assert_eq!(event, json!({"userId": 0, "anonymousId": "a"}));
    }
}
