//! The Track Event action of Segment's LaunchDarkly (Actions) destination: its preset field
//! mapping, user overrides, and the conversion of mapped fields into a LaunchDarkly custom event
//! with the field types LaunchDarkly needs (and Segment's coercions).

mod fast;
mod provenance;
mod reads;

pub use provenance::{
    field_info, field_traces, field_validation_message, FieldInfo, FieldState, FieldTrace,
};
pub use reads::mapping_fields_read;

use crate::launchdarkly::{ContextKeys, CustomEvent, EventData, MappedObject};
use crate::mapping::{Mapping, Tree, ValidationErrors};
use crate::outcome::Reason;
use crate::segment::{normalize_identity, EventField, EventRef, FieldsRead, PropertiesRead};
use crate::timestamp;
use serde_json::{json, Map, Number, Value};
use std::borrow::Cow;

/// The preset's trigger: only track events feed custom metrics.
pub const PRESET_TRIGGER: &str = r#"type = "track""#;

/// The seven fields of the Track Event action, in Segment's order.
pub const FIELDS: [&str; 7] = [
    "context_kind",
    "user_key",
    "additional_context_keys",
    "event_name",
    "metric_value",
    "event_properties",
    "timestamp",
];

/// The fields that cannot be unmapped.
pub const REQUIRED_FIELDS: [&str; 2] = ["user_key", "event_name"];

/// Segment's preset field mapping for Track Event, exactly as Segment writes it.
pub fn preset_fields() -> Map<String, Value> {
    let fields = [
        ("context_kind", json!("user")),
        (
            "user_key",
            json!({"@if": {
                "exists": {"@path": "$.userId"},
                "then": {"@path": "$.userId"},
                "else": {"@path": "$.anonymousId"}
            }}),
        ),
        (
            "additional_context_keys",
            json!({"unauthenticatedUser": {"@path": "$.anonymousId"}}),
        ),
        ("event_name", json!({"@path": "$.event"})),
        (
            "metric_value",
            json!({"@if": {
                "exists": {"@path": "$.properties.revenue"},
                "then": {"@path": "$.properties.revenue"},
                "else": {"@path": "$.properties.value"}
            }}),
        ),
        ("event_properties", json!({"@path": "$.properties"})),
        ("timestamp", json!({"@path": "$.timestamp"})),
    ];
    fields
        .into_iter()
        .map(|(name, mapping)| (name.to_string(), mapping))
        .collect()
}

/// Why a field mapping cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FieldMappingError {
    /// The mapping document is not a JSON object.
    #[error("a Track Event field mapping must be a JSON object of fields (context_kind, user_key, additional_context_keys, event_name, metric_value, event_properties, timestamp)")]
    NotAnObject,
    /// A key that is not one of the seven Track Event fields.
    #[error("unknown Track Event field {0:?}; the fields are {fields}", fields = FIELDS.join(", "))]
    UnknownField(String),
    /// A required field (`user_key`, `event_name`) set to `null`.
    #[error("the required field {0:?} cannot be unmapped (null)")]
    RequiredFieldUnmapped(&'static str),
    /// The mapping language rejected the mapping.
    #[error("invalid mapping: {0}")]
    Invalid(ValidationErrors),
}

/// Why one event produced no LaunchDarkly event. `code` is machine-readable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// A stable snake_case code, e.g. `missing_event_name`.
    pub code: Reason,
    /// What is wrong and how to fix it, for people.
    pub message: String,
}

impl Rejection {
    fn new(code: Reason, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

/// The largest `metricValue` magnitude accepted: 2^53 − 1 (9007199254740991, JavaScript's
/// `Number.MAX_SAFE_INTEGER`); beyond it LaunchDarkly's sums and averages lose precision.
pub const MAX_METRIC_VALUE: i64 = 9_007_199_254_740_991;

/// The `creationDate`s accepted from an event's timestamp, both ends inclusive: from
/// `earliest_ms` (Unix ms) to `max_future_ms` after the time the bridge received the request.
/// An event outside it is rejected (`timestamp_out_of_range`); an event without a parsable
/// timestamp takes the receive time and is not checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampWindow {
    /// The earliest accepted timestamp, Unix ms.
    pub earliest_ms: i64,
    /// How far after the receive time a timestamp may be, in ms.
    pub max_future_ms: i64,
}

impl TimestampWindow {
    /// From 2000-01-01T00:00:00Z to 1 day (86,400,000 ms) after the receive time.
    pub const DEFAULT: TimestampWindow = TimestampWindow {
        earliest_ms: 946_684_800_000,
        max_future_ms: 86_400_000,
    };

    /// The latest accepted timestamp for a request received at `received_at_ms` (saturating).
    pub fn latest_ms(self, received_at_ms: i64) -> i64 {
        received_at_ms.saturating_add(self.max_future_ms)
    }

    /// Whether `timestamp_ms` is in the window for a request received at `received_at_ms`.
    pub fn contains(self, timestamp_ms: i64, received_at_ms: i64) -> bool {
        self.earliest_ms <= timestamp_ms && timestamp_ms <= self.latest_ms(received_at_ms)
    }

    /// `timestamp_ms` when it is in the window, else the `timestamp_out_of_range` rejection.
    fn check(self, timestamp_ms: i64, received_at_ms: i64) -> Result<i64, Rejection> {
        if self.contains(timestamp_ms, received_at_ms) {
            return Ok(timestamp_ms);
        }
        let max_future = match self.max_future_ms {
            86_400_000 => "1 day".to_string(),
            ms if ms != 0 && ms % 86_400_000 == 0 => format!("{} days", ms / 86_400_000),
            ms => format!("{ms} ms"),
        };
        Err(Rejection::new(
            Reason::TimestampOutOfRange,
            format!(
                "the event's timestamp {} is outside the accepted window for creationDate: from {} to {} ({max_future} after the request was received); fix the timestamp, or leave it out to use the receive time",
                timestamp::iso8601_millis(timestamp_ms),
                timestamp::iso8601_millis(self.earliest_ms),
                timestamp::iso8601_millis(self.latest_ms(received_at_ms)),
            ),
        ))
    }
}

impl Default for TimestampWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A Track Event field mapping ready to run: the preset with the user's fields laid over it.
#[derive(Debug)]
pub struct TrackEventMapping {
    fields: Map<String, Value>,
    customized: Vec<String>,
    compiled: Mapping,
    /// The same mapping evaluated by reference, when every field is simple enough.
    fast: Option<fast::FastMapping>,
    timestamp_window: TimestampWindow,
    /// The top-level event fields the mapping can read ([`reads::mapping_fields_read`]).
    fields_read: FieldsRead,
}

impl TrackEventMapping {
    /// Segment's preset, unchanged.
    pub fn preset() -> Result<Self, FieldMappingError> {
        Self::from_fields(preset_fields(), Vec::new())
    }

    /// The preset with `overrides` laid over it field by field, in Segment's own mapping JSON
    /// (`{"event_name": {"@path": "$.properties.metric"}}`). A field absent from `overrides`
    /// keeps the preset; a field set to `null` is left unmapped.
    pub fn with_overrides(overrides: &Value) -> Result<Self, FieldMappingError> {
        let overrides = overrides
            .as_object()
            .ok_or(FieldMappingError::NotAnObject)?;
        let mut fields = preset_fields();
        let mut customized = Vec::new();
        for (name, value) in overrides {
            if !FIELDS.contains(&name.as_str()) {
                return Err(FieldMappingError::UnknownField(name.clone()));
            }
            if value.is_null() {
                if let Some(required) = REQUIRED_FIELDS.iter().find(|field| **field == name) {
                    return Err(FieldMappingError::RequiredFieldUnmapped(required));
                }
                fields.remove(name);
            } else {
                fields.insert(name.clone(), value.clone());
            }
            customized.push(name.clone());
        }
        Self::from_fields(fields, customized)
    }

    fn from_fields(
        fields: Map<String, Value>,
        customized: Vec<String>,
    ) -> Result<Self, FieldMappingError> {
        let compiled =
            Mapping::compile(&Value::Object(fields.clone())).map_err(FieldMappingError::Invalid)?;
        let fast = fast::FastMapping::new(&fields);
        let mut fields_read = FieldsRead::Only(Default::default());
        for mapping in fields.values() {
            reads::mapping_fields_read(mapping, &mut fields_read);
        }
        Ok(TrackEventMapping {
            fields_read,
            fields,
            customized,
            compiled,
            fast,
            timestamp_window: TimestampWindow::DEFAULT,
        })
    }

    /// This mapping with the `creationDate` window `window` (instead of
    /// [`TimestampWindow::DEFAULT`]).
    pub fn with_timestamp_window(mut self, window: TimestampWindow) -> Self {
        self.timestamp_window = window;
        self
    }

    /// Sets the window of accepted timestamps.
    pub fn set_timestamp_window(&mut self, window: TimestampWindow) {
        self.timestamp_window = window;
    }

    /// The `creationDate` window events are checked against.
    pub fn timestamp_window(&self) -> TimestampWindow {
        self.timestamp_window
    }

    /// The top-level event fields the mapping can read.
    pub fn fields_read(&self) -> &FieldsRead {
        &self.fields_read
    }

    /// The effective field mapping (preset plus overrides), as Segment's mapping JSON.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The names of the fields the user set (empty for the plain preset).
    pub fn customized_fields(&self) -> &[String] {
        &self.customized
    }

    /// Maps one Segment event to a LaunchDarkly custom event. `received_at_ms` is the
    /// `creationDate` used when the event has no parsable timestamp, and the reference of the
    /// timestamp window.
    pub fn map_event<'a>(
        &'a self,
        event: &'a Value,
        received_at_ms: i64,
    ) -> Result<CustomEvent<'a>, Rejection> {
        self.map_read_event(event, None, received_at_ms)
    }

    /// How the mapping reads `properties` ([`PropertiesRead::Copied`] only when it is
    /// evaluated by reference, copies `properties` whole into `event_properties` and
    /// otherwise only looks up its members).
    pub fn properties_read(&self) -> PropertiesRead {
        match &self.fast {
            Some(fast) => fast.properties_read(),
            None => PropertiesRead::Built,
        }
    }

    /// [`TrackEventMapping::map_event`] for an event read with `properties` copied
    /// ([`PropertiesRead::Copied`]): `copied_properties` is its text, when it was copied.
    pub fn map_read_event<'a>(
        &'a self,
        event: impl Into<EventRef<'a>>,
        copied_properties: Option<&'a str>,
        received_at_ms: i64,
    ) -> Result<CustomEvent<'a>, Rejection> {
        let event = event.into();
        if let Some(value) = event.non_object() {
            return Err(Rejection::new(
                Reason::InvalidEvent,
                format!(
                    "a Segment event must be a JSON object, not {}",
                    json_type_name(value)
                ),
            ));
        }
        if needs_identity_normalisation(event) {
            let mut owned = event.to_value().into_owned();
            if let Value::Object(object) = &mut owned {
                normalize_identity(object);
            }
            return self
                .map_normalized((&owned).into(), copied_properties, received_at_ms)
                .map(CustomEvent::into_owned);
        }
        self.map_normalized(event, copied_properties, received_at_ms)
    }

    /// Maps an event whose identity fields are normalised: by reference when the mapping is
    /// simple enough (see [`fast::FastMapping`]), else through the mapping engine, which reads
    /// the event as one value (built for it when it was read as fields).
    fn map_normalized<'a>(
        &'a self,
        event: EventRef<'a>,
        copied_properties: Option<&'a str>,
        received_at_ms: i64,
    ) -> Result<CustomEvent<'a>, Rejection> {
        if let Some(fast) = &self.fast {
            if !fast.reads_whole_event() || event.as_value().is_some() {
                return to_custom_event(
                    fast.fields(event, copied_properties),
                    received_at_ms,
                    self.timestamp_window,
                );
            }
        }
        match event.to_value() {
            Cow::Borrowed(value) => self.map_with_engine(value, received_at_ms),
            Cow::Owned(value) => self
                .map_with_engine(&value, received_at_ms)
                .map(CustomEvent::into_owned),
        }
    }

    /// Maps an event (normalised, one value) through the mapping engine.
    fn map_with_engine<'a>(
        &'a self,
        event: &'a Value,
        received_at_ms: i64,
    ) -> Result<CustomEvent<'a>, Rejection> {
        let failed = |error| {
            Rejection::new(
                Reason::MappingFailed,
                format!("the field mapping failed: {error}"),
            )
        };
        let mut fields = MappedFields::default();
        let applied = self
            .compiled
            .apply_fields(event, |name, value| match (name, value) {
                // Written out as it is, without being built into an object first.
                ("event_properties", Tree::Obj(entries)) => {
                    fields.event_properties_object = Some(MappedObject(entries));
                }
                (name, value) => {
                    if let Some(slot) = fields.slot(name) {
                        *slot = Some(MappedValue::Owned(value.into_value()));
                    }
                }
            });
        if let Some(applied) = applied {
            applied.map_err(failed)?;
            return to_custom_event(fields, received_at_ms, self.timestamp_window);
        }
        let mapped = self.compiled.apply(event).map_err(failed)?;
        let Value::Object(mapped) = mapped else {
            return Err(Rejection::new(
                Reason::MappingFailed,
                "the field mapping did not produce an object of fields",
            ));
        };
        for (name, value) in mapped {
            if let Some(slot) = fields.slot(&name) {
                *slot = Some(MappedValue::Owned(value));
            }
        }
        to_custom_event(fields, received_at_ms, self.timestamp_window)
    }
}

/// A mapped field's value: a field of the event (a value, or a string's characters), or
/// built by the mapping engine.
#[derive(Debug)]
pub(crate) enum MappedValue<'a> {
    Event(EventField<'a>),
    Owned(Value),
}

impl<'a> From<EventField<'a>> for MappedValue<'a> {
    /// The field; members looked up are built into the object they stand for, which the
    /// checks of objects read (a mapping that copies `properties` never maps them whole).
    fn from(field: EventField<'a>) -> Self {
        match field {
            EventField::Members(members) => MappedValue::Owned(Value::Object(members.to_map())),
            EventField::Length(length) => MappedValue::Owned(Value::from(length)),
            field => MappedValue::Event(field),
        }
    }
}

impl MappedValue<'_> {
    /// The value as JSON (a string's characters are built into one).
    fn to_value(&self) -> Cow<'_, Value> {
        match self {
            MappedValue::Event(field) => field.to_value(),
            MappedValue::Owned(value) => Cow::Borrowed(value),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            MappedValue::Event(field) => field.as_str(),
            MappedValue::Owned(value) => value.as_str(),
        }
    }

    fn is_null(&self) -> bool {
        match self {
            MappedValue::Event(field) => field.is_null(),
            MappedValue::Owned(value) => value.is_null(),
        }
    }

    /// The value as the schema step types it: [`single_item`].
    fn single_item(self) -> Self {
        match self {
            MappedValue::Event(EventField::Value(value)) => {
                MappedValue::Event(EventField::Value(single_item(value)))
            }
            MappedValue::Owned(Value::Array(mut items)) if items.len() == 1 => {
                MappedValue::Owned(items.pop().unwrap_or_default())
            }
            other => other,
        }
    }

    /// How Segment's validator names its type ([`json_type_name`]).
    fn type_name(&self) -> &'static str {
        match self {
            MappedValue::Event(EventField::Value(value)) => json_type_name(value),
            MappedValue::Owned(value) => json_type_name(value),
            MappedValue::Event(EventField::Str(_)) => "a string",
            MappedValue::Event(EventField::Members(_)) => "an object",
            MappedValue::Event(EventField::Length(_)) => "a number",
        }
    }
}

/// The mapped Track Event fields, borrowed from the event where possible; `None` is a field
/// the mapping left undefined.
#[derive(Debug, Default)]
pub(crate) struct MappedFields<'a> {
    pub(crate) context_kind: Option<MappedValue<'a>>,
    pub(crate) user_key: Option<MappedValue<'a>>,
    pub(crate) additional_context_keys: Option<MappedValue<'a>>,
    /// `additional_context_keys` mapped as an object of values by the fast path (which leaves
    /// `additional_context_keys` itself unset).
    pub(crate) additional_context_entries: Option<fast::ObjectEntries<'a>>,
    pub(crate) event_name: Option<MappedValue<'a>>,
    pub(crate) metric_value: Option<MappedValue<'a>>,
    pub(crate) event_properties: Option<MappedValue<'a>>,
    /// `event_properties` resolved to an object by the mapping engine (which then leaves
    /// `event_properties` itself unset).
    pub(crate) event_properties_object: Option<MappedObject<'a>>,
    /// `event_properties` as the event's `properties` copied as JSON text (see
    /// [`PropertiesRead::Copied`]; the fast path then leaves `event_properties` unset).
    pub(crate) event_properties_copied: Option<&'a str>,
    pub(crate) timestamp: Option<MappedValue<'a>>,
}

impl<'a> MappedFields<'a> {
    /// The slot of a Track Event field, by name.
    pub(crate) fn slot(&mut self, name: &str) -> Option<&mut Option<MappedValue<'a>>> {
        Some(match name {
            "context_kind" => &mut self.context_kind,
            "user_key" => &mut self.user_key,
            "additional_context_keys" => &mut self.additional_context_keys,
            "event_name" => &mut self.event_name,
            "metric_value" => &mut self.metric_value,
            "event_properties" => &mut self.event_properties,
            "timestamp" => &mut self.timestamp,
            _ => return None,
        })
    }
}

/// Segment's `removeEmptyValues` at the root: `""` and `null` fields count as not mapped.
fn present(field: Option<MappedValue<'_>>) -> Option<MappedValue<'_>> {
    field.filter(|value| !(value.is_null() || value.as_str() == Some("")))
}

/// A string or timestamp field as the schema step types it: [`present`], then [`single_item`],
/// whose item counts as not mapped when it is `""` or `null` (`[""]`: Segment would send an
/// empty key).
fn typed(field: Option<MappedValue<'_>>) -> Option<MappedValue<'_>> {
    present(present(field).map(MappedValue::single_item))
}

/// Whether [`normalize_identity`] changes the event: its `userId` is `""`.
fn needs_identity_normalisation(event: EventRef<'_>) -> bool {
    event
        .get("userId")
        .is_some_and(|field| field.as_str() == Some(""))
}

fn to_custom_event(
    fields: MappedFields<'_>,
    received_at_ms: i64,
    window: TimestampWindow,
) -> Result<CustomEvent<'_>, Rejection> {
    let key = required_string(
        fields.event_name,
        (
            Reason::MissingEventName,
            "the event has no event name (Segment's `event`, mapped to `event_name`); LaunchDarkly needs it as the metric event key",
        ),
        (Reason::InvalidEventName, "Event Name"),
    )?;
    let context_key = required_string(
        fields.user_key,
        (
            Reason::MissingContextKey,
            "the event has no userId or anonymousId (absent, null or empty), so it has no LaunchDarkly context key",
        ),
        (Reason::InvalidContextKey, "Context Key"),
    )?;
    let kind = match typed(fields.context_kind) {
        None => Cow::Borrowed("user"),
        Some(value) => as_string(value, Reason::InvalidContextKind, "Context Kind")?,
    };
    check_context_kind(&kind)?;
    let mut context_keys = ContextKeys::new();
    match fields.additional_context_entries {
        Some(entries) => additional_context_keys(
            &mut context_keys,
            entries
                .iter()
                .map(|(kind, key)| (Cow::Borrowed(kind), MappedValue::from(key))),
        )?,
        None => match present(fields.additional_context_keys) {
            None => {}
            Some(MappedValue::Event(EventField::Value(Value::Object(entries)))) => {
                additional_context_keys(
                    &mut context_keys,
                    entries.iter().map(|(kind, key)| {
                        (
                            Cow::Borrowed(kind.as_str()),
                            MappedValue::from(EventField::Value(key)),
                        )
                    }),
                )?
            }
            Some(MappedValue::Owned(Value::Object(entries))) => additional_context_keys(
                &mut context_keys,
                entries
                    .into_iter()
                    .map(|(kind, key)| (Cow::Owned(kind), MappedValue::Owned(key))),
            )?,
            Some(other) => {
                return Err(Rejection::new(
                    Reason::InvalidContextKey,
                    format!(
                        "Additional Context Keys must be an object but it was {}.",
                        other.type_name()
                    ),
                ))
            }
        },
    }
    context_keys.insert(kind, context_key);
    let metric_value = match present(fields.metric_value) {
        None => None,
        Some(value) => Some(metric_value(&value.to_value())?),
    };
    let data = match (
        fields.event_properties_copied,
        fields.event_properties_object,
        present(fields.event_properties),
    ) {
        (Some(text), _, _) => EventData::Copied(Cow::Borrowed(text)),
        (None, Some(object), _) => EventData::Mapped(object),
        (None, None, None) => EventData::Object(Cow::Owned(Map::new())),
        (None, None, Some(MappedValue::Event(EventField::Value(Value::Object(properties))))) => {
            EventData::Object(Cow::Borrowed(properties))
        }
        (None, None, Some(MappedValue::Owned(Value::Object(properties)))) => {
            EventData::Object(Cow::Owned(properties))
        }
        (None, None, Some(value)) => {
            return Err(Rejection::new(
                Reason::InvalidEventProperties,
                format!(
                    "Event Properties must be an object but it was {}.",
                    value.type_name()
                ),
            ))
        }
    };
    let timestamp_ms = match typed(fields.timestamp) {
        None => None,
        Some(MappedValue::Event(EventField::Str(text))) => timestamp::event_timestamp_millis(text),
        Some(value) => timestamp::unix_millis(Some(&value.to_value())),
    };
    let creation_date = match timestamp_ms {
        Some(ms) => window.check(ms, received_at_ms)?,
        None => received_at_ms,
    };
    Ok(CustomEvent {
        kind: "custom",
        key,
        context_keys,
        creation_date,
        metric_value,
        data,
    })
}

/// A field that must be mapped, as a string: rejected with `missing` (code, message) when it is
/// not ([`typed`]), and as [`as_string`] rejects it (`invalid`: code, label) when it is no
/// string.
fn required_string<'a>(
    field: Option<MappedValue<'a>>,
    missing: (Reason, &'static str),
    invalid: (Reason, &str),
) -> Result<Cow<'a, str>, Rejection> {
    match typed(field) {
        None => Err(Rejection::new(missing.0, missing.1)),
        Some(value) => as_string(value, invalid.0, invalid.1),
    }
}

/// A field as a string, with Segment's coercion of numbers and booleans; else rejected with
/// Segment's message (`Event Name must be a string but it was an object.`).
fn as_string<'a>(
    value: MappedValue<'a>,
    code: Reason,
    label: &str,
) -> Result<Cow<'a, str>, Rejection> {
    scalar_to_cow(value).map_err(|value| {
        Rejection::new(
            code,
            format!("{label} must be a string but it was {}.", value.type_name()),
        )
    })
}

/// [`scalar_to_string`], borrowing a string that is borrowed; the value back when it is not a
/// scalar.
fn scalar_to_cow(value: MappedValue<'_>) -> Result<Cow<'_, str>, MappedValue<'_>> {
    if let MappedValue::Event(field) = value {
        if let Some(text) = field.as_str() {
            return Ok(Cow::Borrowed(text));
        }
    }
    match value {
        MappedValue::Owned(Value::String(text)) => Ok(Cow::Owned(text)),
        other => scalar_to_string(&other.to_value())
            .map(Cow::Owned)
            .ok_or(other),
    }
}

/// The context keys of `additional_context_keys` (kind → key), checked.
fn additional_context_keys<'a>(
    keys: &mut ContextKeys<'a>,
    entries: impl Iterator<Item = (Cow<'a, str>, MappedValue<'a>)>,
) -> Result<(), Rejection> {
    for (kind, value) in entries {
        if value.is_null() || value.as_str() == Some("") {
            continue; // Segment would send "null" or an empty key; LaunchDarkly wants neither.
        }
        check_context_kind(&kind)?;
        let key = scalar_to_cow(value).map_err(|value| {
            Rejection::new(
                Reason::InvalidContextKey,
                format!(
                    "the additional context key {kind:?} must be a string but it was {}",
                    value.type_name()
                ),
            )
        })?;
        keys.insert(kind, key);
    }
    Ok(())
}

/// LaunchDarkly's rule for context kinds: `[A-Za-z0-9._-]+`, and neither `kind` nor `multi`.
fn check_context_kind(kind: &str) -> Result<(), Rejection> {
    let valid = !kind.is_empty()
        && kind != "kind"
        && kind != "multi"
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(Rejection::new(
            Reason::InvalidContextKind,
            format!(
                "{kind:?} is not a valid LaunchDarkly context kind (letters, digits, '.', '_' and '-' only; not \"kind\" or \"multi\")"
            ),
        ))
    }
}

/// A string, number or boolean as JavaScript's `String(value)` writes it; `None` for other types.
pub fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(crate::mapping::js_number_string(number)),
        _ => None,
    }
}

/// The `metric_value` field as LaunchDarkly's `metricValue`: Segment's number coercion
/// ([`to_number`]), then at most [`MAX_METRIC_VALUE`] either side of zero; else
/// `invalid_metric_value`.
fn metric_value(value: &Value) -> Result<Number, Rejection> {
    let out_of_range = || {
        Rejection::new(
            Reason::InvalidMetricValue,
            format!(
                "Metric Value must be a number from -{MAX_METRIC_VALUE} to {MAX_METRIC_VALUE} (2^53-1, JavaScript's Number.MAX_SAFE_INTEGER: beyond it LaunchDarkly's sums and averages lose precision) but it was outside that range."
            ),
        )
    };
    match to_number(single_item(value)) {
        Coerced::Number(number) if metric_value_in_range(&number) => Ok(number),
        // Beyond it, or a numeric string too large even for a float (`"1e400"`, `"Infinity"`).
        Coerced::Number(_) | Coerced::Infinite => Err(out_of_range()),
        Coerced::NotANumber => Err(Rejection::new(
            Reason::InvalidMetricValue,
            format!(
                "Metric Value must be a number but it was {}.",
                json_type_name(value)
            ),
        )),
    }
}

/// Whether `number` is within [`MAX_METRIC_VALUE`] of zero (and finite).
fn metric_value_in_range(number: &Number) -> bool {
    match number.as_i64() {
        Some(integer) => integer.unsigned_abs() <= MAX_METRIC_VALUE.unsigned_abs(),
        // A float, or an integer above i64::MAX; 2^53 - 1 is exact as an f64.
        None => (number.as_f64()).is_some_and(|float| float.abs() <= MAX_METRIC_VALUE as f64),
    }
}

/// What Segment's number coercion makes of a value.
enum Coerced {
    /// A number (a string's number is an integer when it is one).
    Number(Number),
    /// A string whose number is infinite, which JSON cannot hold.
    Infinite,
    /// Not a number.
    NotANumber,
}

/// Segment's number coercion, the schema step's (AJV's `coerceTypes: "array"`, after
/// [`single_item`]): a number as it is; `true` and `false` are 1 and 0 and `null` (an array's
/// only item: a `null` field is not mapped) is 0; a non-empty string is `Number(s)` unless
/// that is NaN (`" 7 "`, `"1e3"`, `"0x10"`, `"Infinity"`); anything else is not a number.
fn to_number(value: &Value) -> Coerced {
    match value {
        Value::Number(number) => Coerced::Number(number.clone()),
        Value::Bool(flag) => Coerced::Number(Number::from(u8::from(*flag))),
        Value::Null => Coerced::Number(Number::from(0)),
        Value::String(text) if !text.is_empty() => {
            let number = crate::js::string_to_number(text);
            if number.is_nan() {
                Coerced::NotANumber
            } else if number.is_infinite() {
                Coerced::Infinite
            } else {
                match crate::js::number_to_json(number) {
                    Value::Number(number) => Coerced::Number(number),
                    _ => Coerced::NotANumber,
                }
            }
        }
        _ => Coerced::NotANumber,
    }
}

/// AJV's `coerceTypes: "array"`, which Segment's schema step applies to the fields it may
/// coerce (strings, numbers and timestamps; not objects, nor the members of one): an array of
/// exactly one item stands for the item.
pub(crate) fn single_item(value: &Value) -> &Value {
    match value.as_array().map(Vec::as_slice) {
        Some([item]) => item,
        _ => value,
    }
}

/// How Segment's validator names a JSON type in messages (`a string`, `an object`, …).
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_number_strings() {
        let cases = [
            (json!(1), "1"),
            (json!(-3), "-3"),
            (json!(1.5), "1.5"),
            (json!(1.0), "1"),
            (json!(1e21), "1e+21"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(0.000001), "0.000001"),
        ];
        for (value, expected) in cases {
            assert_eq!(scalar_to_string(&value).unwrap(), expected, "{value}");
        }
    }

    #[test]
    fn metric_values_are_coerced_as_segments_schema_step_coerces_them() {
        let number = |value: Value| match to_number(&value) {
            Coerced::Number(number) => Some(Value::Number(number)),
            Coerced::Infinite | Coerced::NotANumber => None,
        };
        let coerced = [
            (json!("39.95"), json!(39.95)),
            (json!(" 7 "), json!(7)),
            (json!("\u{feff}7\n"), json!(7)),
            (json!(" "), json!(0)),
            (json!("1e3"), json!(1000)),
            (json!("0x10"), json!(16)),
            (json!("0b11"), json!(3)),
            (json!(".5"), json!(0.5)),
            (json!("-0"), json!(0)),
            (json!(true), json!(1)),
            (json!(false), json!(0)),
            (json!(null), json!(0)),
            (json!(2.5), json!(2.5)),
        ];
        for (value, expected) in coerced {
            assert_eq!(number(value.clone()), Some(expected), "{value}");
        }
        for bad in [
            json!(""),
            json!("lots"),
            json!("NaN"),
            json!("-0x10"),
            json!("1_000"),
            json!({}),
            json!([1]),
        ] {
            assert_eq!(number(bad.clone()), None, "{bad}");
        }
        assert!(matches!(to_number(&json!("-Infinity")), Coerced::Infinite));
        assert!(matches!(to_number(&json!("1e400")), Coerced::Infinite));
    }

    #[test]
    fn an_array_of_one_item_stands_for_the_item_in_string_number_and_timestamp_fields() {
        assert_eq!(single_item(&json!([5])), &json!(5));
        assert_eq!(single_item(&json!([[5]])), &json!([5]));
        assert_eq!(single_item(&json!([1, 2])), &json!([1, 2]));
        assert_eq!(single_item(&json!([])), &json!([]));
        let event = json!({"type": "track", "event": ["Order Completed"], "userId": [42],
            "anonymousId": "a", "timestamp": ["2024-05-06T07:08:09.123Z"],
            "properties": {"revenue": ["12.5"]}});
        let preset = TrackEventMapping::preset().unwrap();
        let mut engine = TrackEventMapping::preset().unwrap();
        engine.fast = None;
        for mapping in [&preset, &engine] {
            let custom = mapping.map_event(&event, RECEIVED).unwrap();
            assert_eq!(custom.key, "Order Completed");
            assert_eq!(custom.creation_date, 1_714_979_289_123);
            assert_eq!(custom.metric_value, Some(Number::from_f64(12.5).unwrap()));
            let mut text = String::new();
            custom.write_json(&mut text);
            let json: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                json["contextKeys"],
                json!({"user": "42", "unauthenticatedUser": "a"})
            );
        }
        // Two items are no string, whichever path maps them (the engine's are its own values).
        let two = json!({"type": "track", "event": "E", "userId": [1, 2]});
        for mapping in [&preset, &engine] {
            assert_eq!(
                mapping.map_event(&two, RECEIVED).unwrap_err().code,
                "invalid_context_key"
            );
        }
        let mapped = TrackEventMapping::with_overrides(&json!({
            "event_properties": {"@path": "$.properties.items"},
            "user_key": {"@path": "$.properties.empty"},
        }))
        .unwrap();
        let event = json!({"type": "track", "event": "E", "userId": "u",
            "properties": {"items": [{"sku": "a"}], "empty": [""]}});
        // `[""]` is an empty key: rejected, where Segment would send it.
        assert_eq!(
            mapped.map_event(&event, RECEIVED).unwrap_err().code,
            "missing_context_key"
        );
        let mut event = event;
        event["properties"]["empty"] = json!(["k"]);
        // An object field is not coerced: an array of one object is still no object.
        assert_eq!(
            mapped.map_event(&event, RECEIVED).unwrap_err().code,
            "invalid_event_properties"
        );
        event["properties"]["items"] = json!({"sku": "a"});
        let custom = mapped.map_event(&event, RECEIVED).unwrap();
        let mut text = String::new();
        custom.write_json(&mut text);
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["contextKeys"]["user"], "k");
    }

    /// 2025-06-15T15:06:40.000Z.
    const RECEIVED: i64 = 1_750_000_000_000;
    const DAY_MS: i64 = 86_400_000;

    fn rejected_metric(value: Value) -> Rejection {
        let rejection = metric_value(&value).expect_err("rejected");
        assert_eq!(rejection.code, "invalid_metric_value", "{value}");
        rejection
    }

    #[test]
    fn metric_values_at_most_max_safe_integer_either_side_of_zero() {
        let accepted = [
            (
                json!(9_007_199_254_740_991i64),
                json!(9_007_199_254_740_991i64),
            ),
            (
                json!(9_007_199_254_740_991u64),
                json!(9_007_199_254_740_991i64),
            ),
            (
                json!(-9_007_199_254_740_991i64),
                json!(-9_007_199_254_740_991i64),
            ),
            (
                json!(9_007_199_254_740_991.0),
                json!(9_007_199_254_740_991.0),
            ),
            (
                json!(-9_007_199_254_740_991.0),
                json!(-9_007_199_254_740_991.0),
            ),
            (json!("9007199254740991"), json!(9_007_199_254_740_991i64)),
            (
                json!(" -9007199254740991 "),
                json!(-9_007_199_254_740_991i64),
            ),
            // Written as JSON.stringify writes the number Segment's coercion makes.
            (json!("9007199254740991.0"), json!(9_007_199_254_740_991i64)),
            (json!(0), json!(0)),
            (json!(-0.5), json!(-0.5)),
            (json!(1e-300), json!(1e-300)),
        ];
        for (value, expected) in accepted {
            let number = metric_value(&value).expect("accepted");
            assert_eq!(Value::Number(number), expected, "{value}");
        }
        let out_of_range = [
            json!(9_007_199_254_740_992i64),
            json!(-9_007_199_254_740_992i64),
            json!(9_007_199_254_740_992.0),
            json!(-9_007_199_254_740_992.0),
            json!(1e308),
            json!(-1e308),
            json!(f64::MAX),
            json!(u64::MAX),
            json!(i64::MIN),
            json!("9007199254740992"),
            json!("-9007199254740992"),
            json!("1e308"),
            json!("1e400"),
            json!("-1e400"),
            json!(format!("1{}", "0".repeat(400))),
        ];
        for value in out_of_range {
            let message = rejected_metric(value.clone()).message;
            assert_eq!(
                message,
                "Metric Value must be a number from -9007199254740991 to 9007199254740991 (2^53-1, JavaScript's Number.MAX_SAFE_INTEGER: beyond it LaunchDarkly's sums and averages lose precision) but it was outside that range.",
                "{value}"
            );
        }
        for value in [json!("Infinity"), json!("-Infinity")] {
            assert!(
                rejected_metric(value.clone())
                    .message
                    .contains("outside that range"),
                "{value}"
            );
        }
        for value in [
            json!("NaN"),
            json!("nan"),
            json!("1e"),
            json!({"amount": 1}),
        ] {
            let message = rejected_metric(value.clone()).message;
            assert!(
                message.starts_with("Metric Value must be a number but it was "),
                "{value}: {message}"
            );
        }
        // JSON has no NaN: serde_json writes it as null, an unmapped metric value.
        assert_eq!(json!(f64::NAN), Value::Null);
    }

    #[test]
    fn the_default_window_is_2000_to_one_day_after_receipt() {
        let window = TimestampWindow::DEFAULT;
        assert_eq!(window, TimestampWindow::default());
        let y2k = timestamp::parse_iso8601_millis("2000-01-01T00:00:00Z").unwrap();
        assert_eq!(window.earliest_ms, y2k);
        assert!(window.contains(y2k, RECEIVED));
        assert!(!window.contains(y2k - 1, RECEIVED));
        assert!(window.contains(RECEIVED + DAY_MS, RECEIVED));
        assert!(!window.contains(RECEIVED + DAY_MS + 1, RECEIVED));
        assert_eq!(window.latest_ms(i64::MAX), i64::MAX, "saturates");
        assert!(window.contains(i64::MAX, i64::MAX));
        let past = TimestampWindow {
            earliest_ms: i64::MIN,
            max_future_ms: -DAY_MS,
        };
        assert_eq!(past.latest_ms(i64::MIN), i64::MIN, "saturates");
        assert!(past.contains(RECEIVED - DAY_MS, RECEIVED));
        assert!(!past.contains(RECEIVED - DAY_MS + 1, RECEIVED));
    }

    /// The outcome of the preset on a track event with `timestamp`, by the fast path and by
    /// the engine (which must agree).
    fn with_timestamp(mapping: TrackEventMapping, timestamp: Value) -> Result<i64, Rejection> {
        let event = json!({"type": "track", "event": "E", "userId": "u", "timestamp": timestamp});
        let mut engine = TrackEventMapping::preset()
            .unwrap()
            .with_timestamp_window(mapping.timestamp_window());
        engine.fast = None;
        assert!(mapping.fast.is_some());
        let fast = mapping.map_event(&event, RECEIVED).map(|e| e.creation_date);
        assert_eq!(
            fast,
            engine.map_event(&event, RECEIVED).map(|e| e.creation_date),
            "{timestamp}"
        );
        fast
    }

    #[test]
    fn timestamps_outside_the_window_are_rejected() {
        let preset = || TrackEventMapping::preset().unwrap();
        let accepted = [
            ("2000-01-01T00:00:00Z", 946_684_800_000),
            ("2025-06-16T15:06:40.000Z", RECEIVED + DAY_MS),
            ("2025-06-16T17:06:40+02:00", RECEIVED + DAY_MS),
        ];
        for (text, ms) in accepted {
            assert_eq!(with_timestamp(preset(), json!(text)), Ok(ms), "{text}");
        }
        assert_eq!(
            with_timestamp(preset(), json!(946_684_800_000i64)),
            Ok(946_684_800_000)
        );
        let rejected = [
            (
                json!("1999-12-31T23:59:59.999Z"),
                "1999-12-31T23:59:59.999Z",
            ),
            (json!(946_684_799_999i64), "1999-12-31T23:59:59.999Z"),
            (
                json!("2025-06-16T15:06:40.001Z"),
                "2025-06-16T15:06:40.001Z",
            ),
            (json!(RECEIVED + DAY_MS + 1), "2025-06-16T15:06:40.001Z"),
            (
                json!("9999-12-31T23:59:59.999Z"),
                "9999-12-31T23:59:59.999Z",
            ),
            (json!("0000-01-01T00:00:00Z"), "0000-01-01T00:00:00.000Z"),
            (
                json!(-8_639_999_999_999_999i64),
                "-271821-04-20T00:00:00.001Z",
            ),
            (
                json!(8_639_999_999_999_999i64),
                "+275760-09-12T23:59:59.999Z",
            ),
            // The extended-year forms, read as JavaScript's `Date` reads them (dayjs hands text
            // ending in `Z` to it), at its limits.
            (
                json!("-271821-04-20T00:00:00.000Z"),
                "-271821-04-20T00:00:00.000Z",
            ),
            (
                json!("+275760-09-13T00:00:00.000Z"),
                "+275760-09-13T00:00:00.000Z",
            ),
        ];
        for (timestamp, iso) in rejected {
            let rejection = with_timestamp(preset(), timestamp.clone()).unwrap_err();
            assert_eq!(rejection.code, "timestamp_out_of_range", "{timestamp}");
            assert_eq!(
                rejection.message,
                format!("the event's timestamp {iso} is outside the accepted window for creationDate: from 2000-01-01T00:00:00.000Z to 2025-06-16T15:06:40.000Z (1 day after the request was received); fix the timestamp, or leave it out to use the receive time"),
            );
        }
        // Unparsable (beyond JavaScript's dates among them): the receive time, as before.
        for timestamp in [
            json!("-271821-04-19T23:59:59.999Z"),
            json!("+275760-09-13T00:00:00.001Z"),
            json!(-8_640_000_000_000_001i64),
            json!(1e300),
            json!("yesterday"),
            json!({"at": 1}),
        ] {
            assert_eq!(
                with_timestamp(preset(), timestamp.clone()),
                Ok(RECEIVED),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn the_window_can_be_set() {
        let window = TimestampWindow {
            earliest_ms: RECEIVED - 7 * DAY_MS,
            max_future_ms: 60_000,
        };
        let mapping = || {
            TrackEventMapping::preset()
                .unwrap()
                .with_timestamp_window(window)
        };
        assert_eq!(mapping().timestamp_window(), window);
        assert_eq!(
            with_timestamp(mapping(), json!(RECEIVED - 7 * DAY_MS)),
            Ok(RECEIVED - 7 * DAY_MS)
        );
        assert_eq!(
            with_timestamp(mapping(), json!(RECEIVED + 60_000)),
            Ok(RECEIVED + 60_000)
        );
        let early = with_timestamp(mapping(), json!(RECEIVED - 7 * DAY_MS - 1)).unwrap_err();
        assert_eq!(
            early.message,
            "the event's timestamp 2025-06-08T15:06:39.999Z is outside the accepted window for creationDate: from 2025-06-08T15:06:40.000Z to 2025-06-15T15:07:40.000Z (60000 ms after the request was received); fix the timestamp, or leave it out to use the receive time"
        );
        let late = with_timestamp(mapping(), json!(RECEIVED + 60_001)).unwrap_err();
        assert_eq!(late.code, "timestamp_out_of_range");
        let days = TimestampWindow {
            max_future_ms: 2 * DAY_MS,
            ..TimestampWindow::DEFAULT
        };
        let message = with_timestamp(
            TrackEventMapping::preset()
                .unwrap()
                .with_timestamp_window(days),
            json!(RECEIVED + 2 * DAY_MS + 1),
        )
        .unwrap_err()
        .message;
        assert!(message.contains("(2 days after the request"), "{message}");
    }

    /// An event read as fields (strings as characters) and as one value, mapped with
    /// `overrides`: both results.
    fn map_both_ways(
        overrides: Value,
        event: Value,
    ) -> [Result<CustomEvent<'static>, Rejection>; 2] {
        let mapping = TrackEventMapping::with_overrides(&overrides).unwrap();
        let read = crate::segment::as_fields(event.as_object().unwrap());
        let fields = read.event();
        [
            mapping
                .map_read_event(fields, None, RECEIVED)
                .map(CustomEvent::into_owned),
            mapping
                .map_event(&event, RECEIVED)
                .map(CustomEvent::into_owned),
        ]
    }

    /// A `userId` that is `null` or `""` is absent (the preset falls back to `anonymousId`),
    /// and so is a null or empty field; a field of the wrong type is named by its type,
    /// whether it is borrowed from the event, a string read as characters, or built.
    #[test]
    fn empty_and_mistyped_fields_are_rejected_by_their_type() {
        for user_id in [json!(null), json!("")] {
            let event =
                json!({"type": "track", "event": "E", "userId": user_id, "anonymousId": "a"});
            for mapped in map_both_ways(json!({}), event) {
                let context_keys = mapped.unwrap().context_keys;
                assert_eq!(context_keys.get("user"), Some("a"), "{user_id}");
            }
        }
        let event = json!({"type": "track", "event": "E", "userId": "u", "name": "text",
                           "properties": {"n": null, "o": {"a": 1}}});
        let cases = [
            (
                json!({"event_name": {"@path": "$.properties.n"}}),
                Reason::MissingEventName,
                "no event name",
            ),
            (
                json!({"event_name": {"@path": "$.name"}, "user_key": {"@path": "$.properties.n"}}),
                Reason::MissingContextKey,
                "no userId",
            ),
            (
                json!({"event_name": {"@path": "$.properties.o"}}),
                Reason::InvalidEventName,
                "Event Name must be a string but it was an object.",
            ),
            (
                json!({"event_name": {"@template": "{{name}}"}, "event_properties": {"@path": "$.name"}}),
                Reason::InvalidEventProperties,
                "Event Properties must be an object but it was a string.",
            ),
            (
                json!({"additional_context_keys": {"@path": "$.name"}}),
                Reason::InvalidContextKey,
                "Additional Context Keys must be an object but it was a string.",
            ),
            (
                json!({"additional_context_keys": {"org": {"@path": "$.properties.o"}}}),
                Reason::InvalidContextKey,
                "the additional context key \"org\" must be a string but it was an object",
            ),
        ];
        for (overrides, code, message) in cases {
            for mapped in map_both_ways(overrides.clone(), event.clone()) {
                let rejection = mapped.unwrap_err();
                assert_eq!(rejection.code, code, "{overrides}");
                assert!(
                    rejection.message.contains(message),
                    "{overrides}: {}",
                    rejection.message
                );
            }
        }
    }

    /// The by-reference evaluation gives exactly what the engine gives.
    #[test]
    fn the_fast_path_agrees_with_the_engine() {
        let mappings = [
            json!({}),
            json!({"context_kind": "account", "user_key": {"@path": "$.properties.account"}}),
            json!({"metric_value": {"@if": {"exists": {"@path": "$.properties.total"},
                    "then": {"@path": "$.properties.total"}, "else": 0}}}),
            json!({"metric_value": {"@if": {"exists": {"@path": "$.properties.total"},
                    "else": {"@path": "$.properties.value"}}}}),
            json!({"additional_context_keys": {"org": {"@path": "$.context.groupId"},
                    "device": {"@path": "$.context.device.id"}, "fixed": "x"}}),
            json!({"event_name": "constant", "timestamp": {"@path": "$.sentAt"}, "event_properties": null}),
            // The whole event, which an event read as fields is not (the engine maps it).
            json!({"event_properties": {"@path": "$."}}),
        ];
        let events = [
            json!({"type": "track", "event": "E", "userId": "u", "anonymousId": "a",
                   "properties": {"revenue": 1.5, "value": 2, "total": 0, "account": "acc"},
                   "context": {"groupId": "g", "device": {"id": 7}}, "sentAt": "2024-01-01T00:00:00Z"}),
            json!({"type": "track", "event": "E", "anonymousId": "a", "properties": null}),
            json!({"type": "track", "event": "E", "userId": "u", "properties": 0}),
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"revenue": null, "value": "3"}}),
            json!({"type": "track", "event": 5, "userId": 9, "properties": "text", "context": {"device": null}}),
            json!({"type": "track", "event": "", "userId": "", "anonymousId": null}),
            json!({"type": "track", "userId": {"x": 1}, "properties": {"total": "lots"}}),
            json!({"type": "track", "event": "E", "userId": "u", "context": {"groupId": ""}}),
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"revenue": 1e308},
                   "sentAt": "1999-12-31T23:59:59.999Z"}),
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"value": -1e308},
                   "timestamp": "2000-01-01T00:00:00Z", "sentAt": "2000-01-01T00:00:00Z"}),
            json!({"type": "track", "event": "E", "userId": "u",
                   "properties": {"revenue": 9_007_199_254_740_992u64, "total": 9_007_199_254_740_991u64},
                   "timestamp": RECEIVED + DAY_MS, "sentAt": RECEIVED + DAY_MS + 1}),
            json!({"type": "track", "event": "E", "userId": "u",
                   "properties": {"revenue": 9_007_199_254_740_991u64, "total": "1e400"},
                   "timestamp": "9999-12-31T23:59:59.999Z"}),
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"value": "NaN", "total": "-Infinity"},
                   "timestamp": "-271821-04-20T00:00:00.000Z", "sentAt": -8_639_999_999_999_999i64}),
        ];
        for overrides in &mappings {
            let fast = TrackEventMapping::with_overrides(overrides).unwrap();
            assert!(fast.fast.is_some(), "{overrides} takes the fast path");
            let mut engine = TrackEventMapping::with_overrides(overrides).unwrap();
            engine.fast = None;
            for event in &events {
                let expected = engine.map_event(event, RECEIVED);
                assert_eq!(
                    fast.map_event(event, RECEIVED),
                    expected,
                    "mapping {overrides} on {event}"
                );
                // Read as fields (in another order), and taking `context` from its batch.
                let Some(object) = event.as_object() else {
                    continue;
                };
                let mut read = crate::segment::as_fields(object);
                read.values.reverse();
                let fields = read.event();
                assert_eq!(
                    fast.map_read_event(fields, None, RECEIVED),
                    expected,
                    "mapping {overrides} on {event} read as fields"
                );
                let mut rest = object.clone();
                let mut inherited = Map::new();
                if let Some(context) = rest.remove("context") {
                    inherited.insert("context".to_string(), context);
                }
                let read = crate::segment::as_fields(&rest);
                let inheriting = read.event().inheriting(&inherited);
                assert_eq!(
                    fast.map_read_event(inheriting, None, RECEIVED),
                    engine.map_event(&inheriting.to_value(), RECEIVED),
                    "mapping {overrides} on {event} inheriting its context"
                );
            }
        }
        let complex =
            TrackEventMapping::with_overrides(&json!({"event_name": {"@template": "{{event}}"}}));
        assert!(
            complex.unwrap().fast.is_none(),
            "other directives use the engine"
        );
    }

    #[test]
    fn context_kinds() {
        assert!(check_context_kind("user").is_ok());
        assert!(check_context_kind("org.team_1-a").is_ok());
        for bad in ["", "kind", "multi", "a b", "ü", "a/b"] {
            assert_eq!(
                check_context_kind(bad).unwrap_err().code,
                "invalid_context_kind"
            );
        }
    }
}
