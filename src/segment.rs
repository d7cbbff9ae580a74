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

/// Which top-level fields of an event a configuration reads: the pipeline builds values only
/// for those, and skips the rest of each event unparsed (most of a typical event is `context`,
/// which the preset never reads).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FieldsRead {
    /// Every field (a mapping that reads the whole event, or one the bridge cannot analyse).
    #[default]
    All,
    /// These fields only, in no particular order.
    Only(Vec<Box<str>>),
}

/// The fields the pipeline itself reads from every event: its type, its `messageId` (payload
/// ids) and its identity (normalised before mapping).
pub const PIPELINE_FIELDS: [&str; 4] = ["type", "messageId", "userId", "anonymousId"];

impl FieldsRead {
    /// The fields the pipeline itself reads ([`PIPELINE_FIELDS`]).
    pub fn pipeline() -> Self {
        FieldsRead::Only(
            PIPELINE_FIELDS
                .iter()
                .map(|field| Box::from(*field))
                .collect(),
        )
    }

    /// Whether `field` is read.
    pub fn contains(&self, field: &str) -> bool {
        match self {
            FieldsRead::All => true,
            FieldsRead::Only(fields) => fields.iter().any(|known| &**known == field),
        }
    }

    /// Adds `field`.
    pub fn add(&mut self, field: &str) {
        if let FieldsRead::Only(fields) = self {
            if !fields.iter().any(|known| &**known == field) {
                fields.push(field.into());
            }
        }
    }

    /// Adds every field `other` reads.
    pub fn merge(&mut self, other: &FieldsRead) {
        match other {
            FieldsRead::All => *self = FieldsRead::All,
            FieldsRead::Only(fields) => {
                for field in fields {
                    self.add(field);
                }
            }
        }
    }
}

/// How a configuration reads an event's `properties`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PropertiesRead {
    /// Built into values, like every other field read.
    #[default]
    Built,
    /// Copied whole into LaunchDarkly's `data` as JSON text, with values built only for the
    /// top-level properties named here: every mapping copies `properties` whole and otherwise
    /// only looks up these members (Segment's preset: `revenue` and `value`), and nothing else
    /// reads them. An event whose `properties` cannot be copied so is built as with `Built`.
    Copied(Vec<Box<str>>),
}

impl PropertiesRead {
    /// Both ways of reading: copied only when both copy, with both's members.
    pub fn merge(&mut self, other: &PropertiesRead) {
        match (&mut *self, other) {
            (PropertiesRead::Copied(mine), PropertiesRead::Copied(theirs)) => {
                for key in theirs {
                    if !mine.contains(key) {
                        mine.push(key.clone());
                    }
                }
            }
            _ => *self = PropertiesRead::Built,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_read_grow_to_all() {
        let mut read = FieldsRead::pipeline();
        assert!(read.contains("type") && read.contains("userId"));
        assert!(!read.contains("context"));
        read.add("properties");
        read.add("properties");
        assert_eq!(
            read,
            FieldsRead::Only(
                ["type", "messageId", "userId", "anonymousId", "properties"]
                    .map(Box::from)
                    .to_vec()
            )
        );
        read.merge(&FieldsRead::Only(vec!["event".into()]));
        assert!(read.contains("event"));
        read.merge(&FieldsRead::All);
        assert_eq!(read, FieldsRead::All);
        read.add("x");
        assert!(read.contains("context"));
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
