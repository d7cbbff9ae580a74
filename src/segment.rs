//! The Segment event model: the fields every layer reads (`type`, `messageId`) and the identity
//! rule (a null or empty `userId`/`anonymousId` is absent). Imports nothing from the crate.

use serde_json::{Map, Value};

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
    fn identity_normalisation_drops_null_and_empty_ids() {
        let mut event = json!({"userId": "", "anonymousId": null, "event": "x"});
        normalize_identity(event.as_object_mut().unwrap());
        assert_eq!(event, json!({"event": "x"}));
        let mut event = json!({"userId": 0, "anonymousId": "a"});
        normalize_identity(event.as_object_mut().unwrap());
        assert_eq!(event, json!({"userId": 0, "anonymousId": "a"}));
    }
}
