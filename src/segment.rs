//! The Segment event model: the fields every layer reads (`type`, `messageId`) and the identity
//! rule (a null or empty `userId`/`anonymousId` is absent). Imports nothing from the crate.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// A Segment event as the pipeline reads it: a JSON value, or the top-level fields read from an
/// event object's text (no map is built for them: see `inbound`), with the fields it inherits
/// from its batch (a Tracking API batch's `context` and `integrations`) where it lacks them.
#[derive(Clone, Copy, Debug)]
pub struct EventRef<'e> {
    read: Read<'e>,
    /// Fields taken where the event, an object, lacks them.
    inherited: Option<&'e Map<String, Value>>,
}

#[derive(Clone, Copy, Debug)]
enum Read<'e> {
    Value(&'e Value),
    /// An object's fields, in the text's order: each the index of its name in `names`, and
    /// its value.
    Fields {
        names: &'e [Box<str>],
        values: &'e [(u16, Value)],
    },
}

impl<'e> From<&'e Value> for EventRef<'e> {
    fn from(value: &'e Value) -> Self {
        EventRef {
            read: Read::Value(value),
            inherited: None,
        }
    }
}

impl<'e> EventRef<'e> {
    /// The object whose fields are `values`, each named by its index in `names`.
    pub fn fields(names: &'e [Box<str>], values: &'e [(u16, Value)]) -> Self {
        EventRef {
            read: Read::Fields { names, values },
            inherited: None,
        }
    }

    /// The same event, taking `inherited`'s fields where it lacks them.
    pub fn inheriting(self, inherited: &'e Map<String, Value>) -> Self {
        EventRef {
            inherited: (!inherited.is_empty()).then_some(inherited),
            ..self
        }
    }

    /// Whether the event is a JSON object.
    pub fn is_object(&self) -> bool {
        match self.read {
            Read::Value(value) => value.is_object(),
            Read::Fields { .. } => true,
        }
    }

    /// The event itself when it is not an object (else `None`).
    pub fn non_object(&self) -> Option<&'e Value> {
        match self.read {
            Read::Value(value) if !value.is_object() => Some(value),
            _ => None,
        }
    }

    /// The event as the one JSON value it is, when it is one (read as a value, and inheriting
    /// nothing it lacks): see [`EventRef::to_value`] for the others.
    pub fn as_value(&self) -> Option<&'e Value> {
        let Read::Value(value) = self.read else {
            return None;
        };
        match (value.as_object(), self.inherited) {
            (Some(object), Some(inherited))
                if inherited.keys().any(|key| !object.contains_key(key)) =>
            {
                None
            }
            _ => Some(value),
        }
    }

    /// A top-level field of an event object (`None` for a non-object).
    pub fn get(&self, name: &str) -> Option<&'e Value> {
        let own = match self.read {
            Read::Value(value) => crate::json::get(value.as_object()?, name),
            Read::Fields { names, values } => {
                field_position(names, values, name).and_then(|at| Some(&values.get(at)?.1))
            }
        };
        own.or_else(|| crate::json::get(self.inherited?, name))
    }

    /// The event as one JSON value: borrowed when it is one already (and inherits nothing it
    /// lacks), else built (the fields in order, then the inherited ones it lacks).
    pub fn to_value(&self) -> Cow<'e, Value> {
        if let Some(value) = self.as_value() {
            return Cow::Borrowed(value);
        }
        let mut object = match self.read {
            Read::Value(value) => value.as_object().cloned().unwrap_or_default(),
            Read::Fields { names, values } => {
                let mut object = Map::with_capacity(values.len());
                for (at, value) in values {
                    if let Some(name) = names.get(usize::from(*at)) {
                        object.insert(name.to_string(), value.clone());
                    }
                }
                object
            }
        };
        for (key, value) in self.inherited.into_iter().flatten() {
            object.entry(key.as_str()).or_insert_with(|| value.clone());
        }
        Cow::Owned(Value::Object(object))
    }
}

/// Where the field `name` lies in an event read as fields (`values`, each the index of its name
/// in `names` and its value).
pub(crate) fn field_position(
    names: &[Box<str>],
    values: &[(u16, Value)],
    name: &str,
) -> Option<usize> {
    values.iter().position(|(at, _)| {
        (names.get(usize::from(*at))).is_some_and(|known| crate::json::same_key(known, name))
    })
}

/// Sets the field at index `at` of an event read as fields: in place when it is there (a
/// repeated key keeps its first place, as in a map), else last.
pub(crate) fn set_field(values: &mut Vec<(u16, Value)>, at: u16, value: Value) {
    match values.iter_mut().find(|(known, _)| *known == at) {
        Some((_, slot)) => *slot = value,
        None => values.push((at, value)),
    }
}

/// The event's `type` (`track`, `page`, …), when it is a string.
pub fn event_type<'e>(event: impl Into<EventRef<'e>>) -> Option<&'e str> {
    event.into().get("type").and_then(Value::as_str)
}

/// The event's `messageId`, when it is a non-empty string.
pub fn message_id<'e>(event: impl Into<EventRef<'e>>) -> Option<&'e str> {
    (event.into().get("messageId"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
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

    /// An event read as fields: `names` by index, the values in the text's order.
    fn read_as_fields() -> (Vec<Box<str>>, Vec<(u16, Value)>) {
        let names = ["type", "userId", "context", "event"]
            .map(Box::from)
            .to_vec();
        let values = vec![(3, json!("Order")), (0, json!("track")), (1, Value::Null)];
        (names, values)
    }

    #[test]
    fn fields_read_the_same_as_the_value_they_stand_for() {
        let (names, values) = read_as_fields();
        let fields = EventRef::fields(&names, &values);
        let value = json!({"event": "Order", "type": "track", "userId": null});
        let whole = EventRef::from(&value);
        for name in ["type", "userId", "context", "event", "properties"] {
            assert_eq!(fields.get(name), whole.get(name), "{name}");
        }
        assert_eq!(fields.to_value().into_owned(), value);
        assert!(fields.is_object() && fields.non_object().is_none());
        // Only a value read as one is one without being built.
        assert!(fields.as_value().is_none());
        assert_eq!(whole.as_value(), Some(&value));
        assert!(matches!(whole.to_value(), Cow::Borrowed(_)));
        assert_eq!(event_type(fields), Some("track"));
        assert_eq!(message_id(fields), None);
    }

    #[test]
    fn an_event_takes_what_it_inherits_only_where_it_lacks_it() {
        let (names, values) = read_as_fields();
        let inherited = json!({"context": {"ip": "1"}, "event": "Batch"});
        let inherited = inherited.as_object().unwrap();
        let fields = EventRef::fields(&names, &values).inheriting(inherited);
        assert_eq!(fields.get("context"), Some(&json!({"ip": "1"})));
        assert_eq!(fields.get("event"), Some(&json!("Order")));
        assert_eq!(
            fields.to_value().into_owned(),
            json!({"event": "Order", "type": "track", "userId": null, "context": {"ip": "1"}})
        );
        // A value lacking an inherited field is built with it; one that has them all is not.
        let lacking = json!({"type": "track", "event": "E"});
        let event = EventRef::from(&lacking).inheriting(inherited);
        assert!(event.as_value().is_none());
        assert_eq!(event.to_value().into_owned()["context"]["ip"], "1");
        let complete = json!({"type": "track", "event": "E", "context": {}});
        let event = EventRef::from(&complete).inheriting(inherited);
        assert_eq!(event.as_value(), Some(&complete));
        assert_eq!(event.get("context"), Some(&json!({})));
        // Nothing is inherited by an event that is not an object.
        let null = Value::Null;
        let event = EventRef::from(&null).inheriting(inherited);
        assert_eq!(event.non_object(), Some(&Value::Null));
        assert_eq!(event.get("context"), None);
        assert_eq!(event.to_value().into_owned(), Value::Null);
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
