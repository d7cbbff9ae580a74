//! The Segment event model: the fields every layer reads (`type`, `messageId`) and the identity
//! rule (a null or empty `userId`/`anonymousId` is absent). Imports only `json`, the other leaf
//! (object lookups, and [`Names`], the list of fields a configuration reads).

pub use crate::json::{Names, ValueRead};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::ops::Range;

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
    /// its value (a string's characters kept in `text`, an object's members looked up named
    /// in `members`).
    Fields {
        names: &'e Names,
        values: &'e [(u16, StoredField)],
        text: &'e str,
        members: &'e [Box<str>],
    },
}

/// The value of a field of an event read as fields: built, a string without escapes kept
/// as its characters in text the event's reader holds (no `String` is allocated for it), or an
/// object of which only the members a mapping looks up were built (no map: see [`Members`]).
#[derive(Clone, Debug, PartialEq)]
pub enum StoredField {
    /// A JSON value.
    Value(Value),
    /// A string: its characters are these bytes of the reader's text.
    Text(Range<usize>),
    /// An object, of which only these members were read (its text is copied elsewhere: see
    /// `inbound`'s `properties`): each the index of its name in the reader's list of members
    /// looked up, and its value, in the text's order.
    Members(Vec<(usize, Value)>),
}

impl StoredField {
    /// The field as [`EventRef::get`] reads it, its text in `text` and its members named in
    /// `members` (`None`: out of `text`).
    fn read<'e>(&'e self, text: &'e str, members: &'e [Box<str>]) -> Option<EventField<'e>> {
        match self {
            StoredField::Value(value) => Some(EventField::Value(value)),
            StoredField::Text(range) => text.get(range.clone()).map(EventField::Str),
            StoredField::Members(values) => Some(EventField::Members(Members {
                names: members,
                values,
            })),
        }
    }

    /// The field as one JSON value (see [`StoredField::read`]).
    pub(crate) fn into_value(self, text: &str, members: &[Box<str>]) -> Option<Value> {
        match self {
            StoredField::Value(value) => Some(value),
            StoredField::Text(range) => text.get(range).map(|s| Value::String(s.into())),
            StoredField::Members(values) => {
                Some(Value::Object(members_object(members, values.into_iter())))
            }
        }
    }
}

/// The object of the members `values` (each the index of its name in `names`): a repeated one
/// takes the last value in its first place, as in a map.
pub(crate) fn members_object(
    names: &[Box<str>],
    values: impl ExactSizeIterator<Item = (usize, Value)>,
) -> Map<String, Value> {
    let mut object = Map::with_capacity(values.len());
    for (at, value) in values {
        if let Some(name) = names.get(at) {
            object.insert(name.to_string(), value);
        }
    }
    object
}

/// An object of which only some members were built ([`StoredField::Members`]): those members,
/// by name. It stands for the object of those members alone.
#[derive(Clone, Copy, Debug)]
pub struct Members<'e> {
    /// The names of the members looked up, by index.
    names: &'e [Box<str>],
    /// The members read, each the index of its name in `names`.
    values: &'e [(usize, Value)],
}

impl<'e> Members<'e> {
    /// The member `name` (the last one, when repeated).
    pub fn get(self, name: &str) -> Option<&'e Value> {
        let index = crate::json::name_index(self.names, name)?;
        (self.values.iter().rev())
            .find(|(at, _)| *at == index)
            .map(|(_, value)| value)
    }

    /// The object the members stand for.
    pub fn to_map(self) -> Map<String, Value> {
        members_object(self.names, self.values.iter().cloned())
    }
}

/// A top-level field of an event, or what a path reaches from one: a JSON value, a string
/// read without building a value, an object read only in the members a mapping looks up, or a
/// `length`. Two fields are equal when the JSON
/// values they stand for are.
#[derive(Clone, Copy, Debug)]
pub enum EventField<'e> {
    /// A JSON value.
    Value(&'e Value),
    /// A JSON string's characters.
    Str(&'e str),
    /// An object's members looked up (see [`StoredField::Members`]).
    Members(Members<'e>),
    /// The `length` of an array or a string, which a path may end with (a number).
    Length(usize),
}

impl<'e> EventField<'e> {
    /// The string, when the field is one.
    pub fn as_str(self) -> Option<&'e str> {
        match self {
            EventField::Value(value) => value.as_str(),
            EventField::Str(text) => Some(text),
            EventField::Members(_) | EventField::Length(_) => None,
        }
    }

    /// The field as a JSON value, when it is held as one (a string read as characters, or
    /// members looked up, are not: see [`EventField::to_value`]).
    pub fn as_value(self) -> Option<&'e Value> {
        match self {
            EventField::Value(value) => Some(value),
            EventField::Str(_) | EventField::Members(_) | EventField::Length(_) => None,
        }
    }

    /// The object, when the field is one held as a JSON value ([`EventField::as_value`]).
    pub fn as_object(self) -> Option<&'e Map<String, Value>> {
        self.as_value()?.as_object()
    }

    /// Whether the field is `null`.
    pub fn is_null(self) -> bool {
        matches!(self, EventField::Value(Value::Null))
    }

    /// The field as one JSON value: borrowed when it is one, else built.
    pub fn to_value(self) -> Cow<'e, Value> {
        match self {
            EventField::Value(value) => Cow::Borrowed(value),
            EventField::Str(text) => Cow::Owned(Value::String(text.to_string())),
            EventField::Members(members) => Cow::Owned(Value::Object(members.to_map())),
            EventField::Length(length) => Cow::Owned(Value::from(length)),
        }
    }
}

impl PartialEq for EventField<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EventField::Value(a), EventField::Value(b)) => a == b,
            (EventField::Str(a), other) | (other, EventField::Str(a)) => other.as_str() == Some(*a),
            (EventField::Members(_) | EventField::Length(_), _)
            | (_, EventField::Members(_) | EventField::Length(_)) => {
                self.to_value() == other.to_value()
            }
        }
    }
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
    /// The object whose fields are `values`, each named by its index in `names`, the
    /// characters of [`StoredField::Text`] ones in `text`, the members of
    /// [`StoredField::Members`] ones named in `members`.
    pub fn fields(
        names: &'e Names,
        values: &'e [(u16, StoredField)],
        text: &'e str,
        members: &'e [Box<str>],
    ) -> Self {
        EventRef {
            read: Read::Fields {
                names,
                values,
                text,
                members,
            },
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
    #[inline(always)]
    pub fn get(&self, name: &str) -> Option<EventField<'e>> {
        let own = match self.read {
            Read::Value(value) => crate::json::get(value.as_object()?, name).map(EventField::Value),
            Read::Fields {
                names,
                values,
                text,
                members,
            } => field_position(names, values, name)
                .and_then(|at| values.get(at)?.1.read(text, members)),
        };
        own.or_else(|| crate::json::get(self.inherited?, name).map(EventField::Value))
    }

    /// The event as one JSON value: borrowed when it is one already (and inherits nothing it
    /// lacks), else built (the fields in order, then the inherited ones it lacks).
    pub fn to_value(&self) -> Cow<'e, Value> {
        if let Some(value) = self.as_value() {
            return Cow::Borrowed(value);
        }
        let mut object = match self.read {
            Read::Value(value) => value.as_object().cloned().unwrap_or_default(),
            Read::Fields {
                names,
                values,
                text,
                members,
            } => {
                let mut object = Map::with_capacity(values.len());
                for (at, value) in values {
                    if let (Some(name), Some(value)) =
                        (names.get(usize::from(*at)), value.read(text, members))
                    {
                        object.insert(name.to_string(), value.to_value().into_owned());
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
#[inline(always)]
pub(crate) fn field_position(
    names: &Names,
    values: &[(u16, StoredField)],
    name: &str,
) -> Option<usize> {
    // The name's index first (a name not read is no field), then that index among the values:
    // one comparison of text per name, not per value.
    let index = u16::try_from(names.index(name)?).ok()?;
    values.iter().position(|(at, _)| *at == index)
}

/// Sets the field at index `at` of an event read as fields: in place when it is there (a
/// repeated key keeps its first place, as in a map), else last.
pub(crate) fn set_field(values: &mut Vec<(u16, StoredField)>, at: u16, value: StoredField) {
    match values.iter_mut().find(|(known, _)| *known == at) {
        Some((_, slot)) => *slot = value,
        None => values.push((at, value)),
    }
}

/// An event object as the one-pass reader holds it read as fields. For tests that read an
/// event both ways.
#[cfg(test)]
pub(crate) struct AsFields {
    /// The names of its fields.
    pub names: Names,
    /// Their values in order: each string as its characters in `text`, an object `properties`
    /// as [`StoredField::Members`] (every member of it looked up, named in `members`).
    pub values: Vec<(u16, StoredField)>,
    pub text: String,
    pub members: Vec<Box<str>>,
}

#[cfg(test)]
impl AsFields {
    /// The event read so.
    pub(crate) fn event(&self) -> EventRef<'_> {
        EventRef::fields(&self.names, &self.values, &self.text, &self.members)
    }
}

/// `object` read as fields ([`AsFields`]).
#[cfg(test)]
pub(crate) fn as_fields(object: &Map<String, Value>) -> AsFields {
    let names = object.keys().map(|key| Box::from(key.as_str())).collect();
    let mut text = String::new();
    let mut members = Vec::new();
    let mut values = Vec::with_capacity(object.len());
    for ((at, name), value) in (0u16..).zip(object.keys()).zip(object.values()) {
        let stored = match value {
            Value::String(characters) => {
                let start = text.len();
                text.push_str(characters);
                StoredField::Text(start..text.len())
            }
            Value::Object(properties) if name == "properties" => {
                members = properties
                    .keys()
                    .map(|key| Box::from(key.as_str()))
                    .collect();
                StoredField::Members(properties.values().cloned().enumerate().collect())
            }
            other => StoredField::Value(other.clone()),
        };
        values.push((at, stored));
    }
    AsFields {
        names,
        values,
        text,
        members,
    }
}

/// The event's `type` (`track`, `page`, …), when it is a string.
pub fn event_type<'e>(event: impl Into<EventRef<'e>>) -> Option<&'e str> {
    event.into().get("type").and_then(EventField::as_str)
}

/// The event's `messageId`, when it is a non-empty string.
pub fn message_id<'e>(event: impl Into<EventRef<'e>>) -> Option<&'e str> {
    (event.into().get("messageId"))
        .and_then(EventField::as_str)
        .filter(|id| !id.is_empty())
}

/// Applies LaunchDarkly's correlation rule to the identity fields: an empty `userId` counts as
/// absent, so the preset's `@if exists` falls back to `anonymousId` (Segment would send the
/// empty key, which LaunchDarkly refuses). A `null` one needs nothing: `@if exists` already
/// falls back from it, and a `null` or empty context key is never sent (`track_event`); both
/// stay as they are for every other mapping, as in Segment.
pub fn normalize_identity(event: &mut Map<String, Value>) {
    if event.get("userId") == Some(&Value::from("")) {
        event.remove("userId");
    }
}

/// Which top-level fields of an event a configuration reads, and how far: the pipeline builds
/// values only for those, as far as they are read, and skips the rest of each event unparsed
/// (most of a typical event is `context`, which the preset never reads).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FieldsRead {
    /// Every field, whole (a mapping that reads the whole event, or one the bridge cannot
    /// analyse).
    #[default]
    All,
    /// These fields only, in no particular order.
    Only(ListedFields),
}

/// The fields [`FieldsRead::Only`] reads: their names, and how far each one's value is read
/// (an object may be read only in some members: `$.context.campaign.source` reads no other
/// member of `context`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedFields {
    names: Names,
    /// By the index of the field's name.
    reads: Vec<ValueRead>,
}

impl ListedFields {
    /// The fields' names.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// How far the field whose name has index `at` is read (whole if there is no such field).
    pub fn read(&self, at: usize) -> &ValueRead {
        static WHOLE: ValueRead = ValueRead::Whole;
        self.reads.get(at).unwrap_or(&WHOLE)
    }

    /// Reads the value at `path` of `field` (the field itself for an empty path) as `read`
    /// says: see [`ValueRead::add_path_read`].
    fn add_path<K: AsRef<str>>(&mut self, field: &str, path: &[K], read: &ValueRead) {
        self.entry(field).add_path_read(path, read);
    }

    /// How far `field` is read, listed first (read in no member) where it is not yet.
    fn entry(&mut self, field: &str) -> &mut ValueRead {
        let at = match self.names.index(field) {
            Some(at) => at,
            None => self.names.push(field.into()),
        };
        if self.reads.len() <= at {
            self.reads.resize(at + 1, ValueRead::NOTHING);
        }
        // In bounds: resized above.
        &mut self.reads[at]
    }
}

/// Fields read whole.
impl FromIterator<Box<str>> for ListedFields {
    fn from_iter<I: IntoIterator<Item = Box<str>>>(names: I) -> Self {
        let mut fields = ListedFields::default();
        for name in names {
            fields.add_path::<&str>(&name, &[], &ValueRead::Whole);
        }
        fields
    }
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

    /// The fields listed (none for [`FieldsRead::All`]).
    pub fn listed(&self) -> &Names {
        static NONE: Names = Names::new();
        match self {
            FieldsRead::All => &NONE,
            FieldsRead::Only(fields) => &fields.names,
        }
    }

    /// How far the listed field whose name has index `at` is read (whole for
    /// [`FieldsRead::All`]).
    pub fn read(&self, at: usize) -> &ValueRead {
        static WHOLE: ValueRead = ValueRead::Whole;
        match self {
            FieldsRead::All => &WHOLE,
            FieldsRead::Only(fields) => fields.read(at),
        }
    }

    /// Whether `field` is read (in part or whole).
    pub fn contains(&self, field: &str) -> bool {
        match self {
            FieldsRead::All => true,
            FieldsRead::Only(fields) => fields.names.index(field).is_some(),
        }
    }

    /// Reads `field` whole.
    pub fn add(&mut self, field: &str) {
        self.add_path_read::<&str>(field, &[], &ValueRead::Whole);
    }

    /// Reads the value at `path` of `field` whole, and the objects on the way in that member
    /// at least (`add_path("context", &["campaign", "source"])` for
    /// `$.context.campaign.source`).
    pub fn add_path<K: AsRef<str>>(&mut self, field: &str, path: &[K]) {
        self.add_path_read(field, path, &ValueRead::Whole);
    }

    /// Reads the value at `path` of `field` as `read` says (see [`FieldsRead::add_path`]).
    pub fn add_path_read<K: AsRef<str>>(&mut self, field: &str, path: &[K], read: &ValueRead) {
        if let FieldsRead::Only(fields) = self {
            fields.add_path(field, path, read);
        }
    }

    /// What is read of an object read as an event is (a mapping applied to each item of an
    /// `@arrayPath`): its members read, or the whole of it.
    pub fn as_value_read(&self) -> ValueRead {
        match self {
            FieldsRead::All => ValueRead::Whole,
            FieldsRead::Only(fields) => ValueRead::Members(
                (fields.names.iter().cloned())
                    .zip(fields.reads.iter().cloned())
                    .collect(),
            ),
        }
    }

    /// `event` as far as it is read: the fields not read left out, the others cut to what
    /// their [`ValueRead`] reads (what the one-pass reader builds from an event's text).
    pub fn cut(&self, event: &Value) -> Value {
        match (self, event) {
            (FieldsRead::Only(fields), Value::Object(object)) => Value::Object(
                (object.iter())
                    .filter_map(|(key, value)| {
                        let at = fields.names.index(key)?;
                        Some((key.clone(), fields.read(at).cut(value)))
                    })
                    .collect(),
            ),
            _ => event.clone(),
        }
    }

    /// Adds every field `other` reads, as far as it reads it.
    pub fn merge(&mut self, other: &FieldsRead) {
        match other {
            FieldsRead::All => *self = FieldsRead::All,
            FieldsRead::Only(theirs) => {
                if let FieldsRead::Only(mine) = self {
                    for (name, read) in theirs.names.iter().zip(&theirs.reads) {
                        mine.entry(name).merge(read);
                    }
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
    /// The members looked up where `properties` are copied (none where they are built).
    pub fn looked_up(&self) -> &[Box<str>] {
        match self {
            PropertiesRead::Built => &[],
            PropertiesRead::Copied(members) => members,
        }
    }

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
                    .into_iter()
                    .collect()
            )
        );
        read.merge(&FieldsRead::Only(ListedFields::from_iter([Box::from(
            "event",
        )])));
        assert!(read.contains("event"));
        read.merge(&FieldsRead::All);
        assert_eq!(read, FieldsRead::All);
        read.add("x");
        assert!(read.contains("context"));
    }

    /// The text an event read as fields keeps its strings in.
    const TEXT: &str = "xtrackOrder";

    /// The names of the members of `properties` looked up (by index, see [`read_as_fields`]).
    const MEMBERS: [&str; 2] = ["value", "revenue"];

    /// An event read as fields: `names` by index, the values in the text's order (`event` and
    /// `type` as characters of [`TEXT`], `properties` as its member `revenue` of [`MEMBERS`],
    /// the others built).
    fn read_as_fields() -> (Names, Vec<(u16, StoredField)>) {
        let names = ["type", "userId", "context", "event", "properties"]
            .map(Box::from)
            .into_iter()
            .collect();
        let values = vec![
            (3, StoredField::Text(6..11)),
            (0, StoredField::Text(1..6)),
            (1, StoredField::Value(Value::Null)),
            (4, StoredField::Members(vec![(1, json!(2.5))])),
        ];
        (names, values)
    }

    fn members() -> Vec<Box<str>> {
        MEMBERS.map(Box::from).to_vec()
    }

    #[test]
    fn fields_read_the_same_as_the_value_they_stand_for() {
        let (names, values) = read_as_fields();
        let members = members();
        let fields = EventRef::fields(&names, &values, TEXT, &members);
        let value = json!({"event": "Order", "type": "track", "userId": null, "properties": {"revenue": 2.5}});
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
        let members = members();
        let inherited = json!({"context": {"ip": "1"}, "event": "Batch"});
        let inherited = inherited.as_object().unwrap();
        let fields = EventRef::fields(&names, &values, TEXT, &members).inheriting(inherited);
        assert_eq!(
            fields.get("context"),
            Some(EventField::Value(&json!({"ip": "1"})))
        );
        assert_eq!(fields.get("event"), Some(EventField::Str("Order")));
        assert_eq!(
            fields.to_value().into_owned(),
            json!({"event": "Order", "type": "track", "userId": null, "properties": {"revenue": 2.5}, "context": {"ip": "1"}})
        );
        // A value lacking an inherited field is built with it; one that has them all is not.
        let lacking = json!({"type": "track", "event": "E"});
        let event = EventRef::from(&lacking).inheriting(inherited);
        assert!(event.as_value().is_none());
        assert_eq!(event.to_value().into_owned()["context"]["ip"], "1");
        let complete = json!({"type": "track", "event": "E", "context": {}});
        let event = EventRef::from(&complete).inheriting(inherited);
        assert_eq!(event.as_value(), Some(&complete));
        assert_eq!(event.get("context"), Some(EventField::Value(&json!({}))));
        // Nothing is inherited by an event that is not an object.
        let null = Value::Null;
        let event = EventRef::from(&null).inheriting(inherited);
        assert_eq!(event.non_object(), Some(&Value::Null));
        assert_eq!(event.get("context"), None);
        assert_eq!(event.to_value().into_owned(), Value::Null);
    }

    /// A string read as characters is the string value it stands for, and nothing else.
    #[test]
    fn a_field_read_as_characters_equals_the_string_it_stands_for() {
        let string = json!("a");
        let (text, value) = (EventField::Str("a"), EventField::Value(&string));
        assert_eq!(text, value);
        assert_eq!(value, text);
        assert_eq!(text, EventField::Str("a"));
        assert_ne!(text, EventField::Str("b"));
        assert_ne!(text, EventField::Value(&json!("b")));
        assert_ne!(EventField::Value(&json!(1)), EventField::Str("1"));
        assert_eq!(text.as_str(), Some("a"));
        assert_eq!(text.as_value(), None);
        assert_eq!(text.to_value().into_owned(), string);
        assert!(matches!(value.to_value(), Cow::Borrowed(_)));
        assert!(!text.is_null() && EventField::Value(&Value::Null).is_null());
        assert_eq!(EventField::Value(&json!({})).as_object(), Some(&Map::new()));
        assert_eq!(text.as_object(), None);
        // Characters out of the text are no field.
        let outside = [(0, StoredField::Text(3..40))];
        let names = Names::from_iter([Box::from("type")]);
        assert_eq!(
            EventRef::fields(&names, &outside, TEXT, &[]).get("type"),
            None
        );
    }

    /// Members looked up stand for the object of those members alone, and are no value held.
    #[test]
    fn members_looked_up_equal_the_object_they_stand_for() {
        let names = members();
        let values = vec![(1, json!(2.5)), (0, json!("v")), (1, json!(3))];
        let members = Members {
            names: &names,
            values: &values,
        };
        let object = json!({"revenue": 3, "value": "v"});
        let field = EventField::Members(members);
        // A repeated member: the last value, in the first one's place.
        assert_eq!(members.get("revenue"), Some(&json!(3)));
        assert_eq!(members.get("value"), Some(&json!("v")));
        assert_eq!(members.get("other"), None);
        assert_eq!(Value::Object(members.to_map()), object);
        assert_eq!(
            serde_json::to_string(&members.to_map()).unwrap(),
            r#"{"revenue":3,"value":"v"}"#
        );
        assert_eq!(field, EventField::Value(&object));
        assert_eq!(EventField::Value(&object), field);
        assert_ne!(field, EventField::Value(&json!({"revenue": 3})));
        assert_ne!(field, EventField::Str("v"));
        assert_ne!(EventField::Str("v"), field);
        assert_eq!(field.to_value().into_owned(), object);
        assert_eq!(
            (field.as_str(), field.as_value(), field.as_object()),
            (None, None, None)
        );
        assert!(!field.is_null());
        // Read as fields, and back to the value.
        let stored = StoredField::Members(values.clone());
        assert_eq!(stored.clone().into_value("", &names), Some(object));
        assert_eq!(
            StoredField::Text(0..1).into_value("x", &names),
            Some(json!("x"))
        );
        assert_eq!(StoredField::Text(0..2).into_value("x", &names), None);
        // A member named out of the list is none.
        assert_eq!(
            members_object(&names[..1], values.into_iter()),
            json!({"value": "v"}).as_object().cloned().unwrap()
        );
    }

    #[test]
    fn identity_normalisation_drops_an_empty_user_id_only() {
        let mut event = json!({"userId": "", "anonymousId": null, "event": "x"});
        normalize_identity(event.as_object_mut().unwrap());
        assert_eq!(event, json!({"anonymousId": null, "event": "x"}));
        for unchanged in [
            json!({"userId": 0, "anonymousId": "a"}),
            json!({"userId": null, "anonymousId": ""}),
        ] {
            let mut event = unchanged.clone();
            normalize_identity(event.as_object_mut().unwrap());
            assert_eq!(event, unchanged);
        }
    }
}
