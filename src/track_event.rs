//! The Track Event action of Segment's LaunchDarkly (Actions) destination: its preset field
//! mapping, user overrides, and the conversion of mapped fields into a LaunchDarkly custom event
//! with the field types LaunchDarkly needs (and Segment's coercions).

use crate::launchdarkly::CustomEvent;
use crate::mapping::{Mapping, ValidationErrors};
use crate::segment::normalize_identity;
use crate::timestamp;
use serde_json::{json, Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

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

const REQUIRED_FIELDS: [&str; 2] = ["user_key", "event_name"];

/// Segment's preset field mapping for Track Event, exactly as Segment writes it.
pub fn preset_fields() -> Map<String, Value> {
    let preset = json!({
        "context_kind": "user",
        "user_key": {"@if": {
            "exists": {"@path": "$.userId"},
            "then": {"@path": "$.userId"},
            "else": {"@path": "$.anonymousId"}
        }},
        "additional_context_keys": {"unauthenticatedUser": {"@path": "$.anonymousId"}},
        "event_name": {"@path": "$.event"},
        "metric_value": {"@if": {
            "exists": {"@path": "$.properties.revenue"},
            "then": {"@path": "$.properties.revenue"},
            "else": {"@path": "$.properties.value"}
        }},
        "event_properties": {"@path": "$.properties"},
        "timestamp": {"@path": "$.timestamp"}
    });
    match preset {
        Value::Object(fields) => fields,
        _ => Map::new(), // ok: unreachable, the literal above is an object
    }
}

/// Why a field mapping cannot be used.
#[derive(Debug)]
pub enum FieldMappingError {
    /// The mapping document is not a JSON object.
    NotAnObject,
    /// A key that is not one of the seven Track Event fields.
    UnknownField(String),
    /// A required field (`user_key`, `event_name`) set to `null`.
    RequiredFieldUnmapped(&'static str),
    /// The mapping language rejected the mapping.
    Invalid(ValidationErrors),
}

impl fmt::Display for FieldMappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldMappingError::NotAnObject => f.write_str(
                "a Track Event field mapping must be a JSON object of fields (context_kind, user_key, additional_context_keys, event_name, metric_value, event_properties, timestamp)",
            ),
            FieldMappingError::UnknownField(name) => write!(
                f,
                "unknown Track Event field {name:?}; the fields are {}",
                FIELDS.join(", ")
            ),
            FieldMappingError::RequiredFieldUnmapped(name) => {
                write!(f, "the required field {name:?} cannot be unmapped (null)")
            }
            FieldMappingError::Invalid(errors) => write!(f, "invalid mapping: {errors}"),
        }
    }
}

impl std::error::Error for FieldMappingError {}

/// Why one event produced no LaunchDarkly event. `code` is machine-readable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// A stable snake_case code, e.g. `missing_event_name`.
    pub code: &'static str,
    /// What is wrong and how to fix it, for people.
    pub message: String,
}

impl Rejection {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

/// A Track Event field mapping ready to run: the preset with the user's fields laid over it.
#[derive(Debug)]
pub struct TrackEventMapping {
    fields: Map<String, Value>,
    customized: Vec<String>,
    compiled: Mapping,
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
        Ok(TrackEventMapping {
            fields,
            customized,
            compiled,
        })
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
    /// `creationDate` used when the event has no parsable timestamp.
    pub fn map_event(&self, event: &Value, received_at_ms: i64) -> Result<CustomEvent, Rejection> {
        let object = event.as_object().ok_or_else(|| {
            Rejection::new(
                "invalid_event",
                format!(
                    "a Segment event must be a JSON object, not {}",
                    json_type_name(event)
                ),
            )
        })?;
        let event = if needs_identity_normalisation(object) {
            let mut owned = object.clone();
            normalize_identity(&mut owned);
            Cow::Owned(Value::Object(owned))
        } else {
            Cow::Borrowed(event)
        };
        let mapped = self.compiled.apply(&event).map_err(|error| {
            Rejection::new(
                "mapping_failed",
                format!("the field mapping failed: {error}"),
            )
        })?;
        let Value::Object(mut mapped) = mapped else {
            return Err(Rejection::new(
                "mapping_failed",
                "the field mapping did not produce an object of fields",
            ));
        };
        remove_empty_root_values(&mut mapped);
        to_custom_event(mapped, received_at_ms)
    }
}

fn needs_identity_normalisation(event: &Map<String, Value>) -> bool {
    ["userId", "anonymousId"]
        .iter()
        .any(|field| match event.get(*field) {
            Some(Value::Null) => true,
            Some(Value::String(text)) => text.is_empty(),
            _ => false,
        })
}

/// Segment's `removeEmptyValues` at the root: `""` and `null` fields count as not mapped.
fn remove_empty_root_values(fields: &mut Map<String, Value>) {
    fields.retain(|_, value| !(value.is_null() || value.as_str() == Some("")));
}

fn to_custom_event(
    mut fields: Map<String, Value>,
    received_at_ms: i64,
) -> Result<CustomEvent, Rejection> {
    let key = match fields.remove("event_name") {
        None => {
            return Err(Rejection::new(
                "missing_event_name",
                "the event has no event name (Segment's `event`, mapped to `event_name`); LaunchDarkly needs it as the metric event key",
            ))
        }
        Some(value) => scalar_to_string(&value).ok_or_else(|| {
            Rejection::new(
                "invalid_event_name",
                format!("Event Name must be a string but it was {}.", json_type_name(&value)),
            )
        })?,
    };
    let context_key = match fields.remove("user_key") {
        None => {
            return Err(Rejection::new(
                "missing_context_key",
                "the event has no userId or anonymousId (absent, null or empty), so it has no LaunchDarkly context key",
            ))
        }
        Some(value) => scalar_to_string(&value).ok_or_else(|| {
            Rejection::new(
                "invalid_context_key",
                format!("Context Key must be a string but it was {}.", json_type_name(&value)),
            )
        })?,
    };
    let kind = match fields.remove("context_kind") {
        None => "user".to_string(),
        Some(value) => scalar_to_string(&value).ok_or_else(|| {
            Rejection::new(
                "invalid_context_kind",
                format!(
                    "Context Kind must be a string but it was {}.",
                    json_type_name(&value)
                ),
            )
        })?,
    };
    check_context_kind(&kind)?;
    let mut context_keys = additional_context_keys(fields.remove("additional_context_keys"))?;
    context_keys.insert(kind, Value::String(context_key));
    let metric_value = match fields.remove("metric_value") {
        None => None,
        Some(value) => Some(to_number(&value).ok_or_else(|| {
            Rejection::new(
                "invalid_metric_value",
                format!(
                    "Metric Value must be a number but it was {}.",
                    json_type_name(&value)
                ),
            )
        })?),
    };
    let data = match fields.remove("event_properties") {
        None => Map::new(),
        Some(Value::Object(properties)) => properties,
        Some(value) => {
            return Err(Rejection::new(
                "invalid_event_properties",
                format!(
                    "Event Properties must be an object but it was {}.",
                    json_type_name(&value)
                ),
            ))
        }
    };
    let creation_date = timestamp::unix_millis(fields.get("timestamp")).unwrap_or(received_at_ms);
    Ok(CustomEvent {
        kind: "custom",
        key,
        context_keys,
        creation_date,
        metric_value,
        data,
    })
}

fn additional_context_keys(value: Option<Value>) -> Result<Map<String, Value>, Rejection> {
    let entries = match value {
        None => return Ok(Map::new()),
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            return Err(Rejection::new(
                "invalid_context_key",
                format!(
                    "Additional Context Keys must be an object but it was {}.",
                    json_type_name(&other)
                ),
            ))
        }
    };
    let mut keys = Map::new();
    for (kind, value) in entries {
        if value.is_null() || value.as_str() == Some("") {
            continue; // Segment would send "null" or an empty key; LaunchDarkly wants neither.
        }
        check_context_kind(&kind)?;
        let key = scalar_to_string(&value).ok_or_else(|| {
            Rejection::new(
                "invalid_context_key",
                format!(
                    "the additional context key {kind:?} must be a string but it was {}",
                    json_type_name(&value)
                ),
            )
        })?;
        keys.insert(kind, Value::String(key));
    }
    Ok(keys)
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
            "invalid_context_kind",
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
        Value::Number(number) => Some(js_number_string(number)),
        _ => None,
    }
}

/// A JSON number as JavaScript prints it (`1` not `1.0`, `1e+21`, `1e-7`).
pub fn js_number_string(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    let float = number.as_f64().unwrap_or(0.0);
    if float == 0.0 {
        return "0".to_string();
    }
    let magnitude = float.abs();
    if (1e-6..1e21).contains(&magnitude) {
        return format!("{float}");
    }
    let scientific = format!("{float:e}");
    match scientific.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') => {
            format!("{mantissa}e+{exponent}")
        }
        _ => scientific,
    }
}

/// Segment's number coercion: numbers as they are, numeric strings parsed; else `None`.
fn to_number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(number) => Some(number.clone()),
        Value::String(text) => parse_numeric_string(text),
        _ => None,
    }
}

fn parse_numeric_string(text: &str) -> Option<Number> {
    let trimmed = text.trim();
    let numeric_syntax = !trimmed.is_empty()
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && trimmed.bytes().any(|b| b.is_ascii_digit());
    if !numeric_syntax {
        return None;
    }
    if let Ok(integer) = trimmed.parse::<i64>() {
        return Some(Number::from(integer));
    }
    trimmed
        .parse::<f64>()
        .ok()
        .filter(|float| float.is_finite())
        .and_then(Number::from_f64)
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
    fn numeric_strings() {
        assert_eq!(parse_numeric_string("39.95"), Number::from_f64(39.95));
        assert_eq!(parse_numeric_string(" 7 "), Some(Number::from(7)));
        assert_eq!(parse_numeric_string("1e3"), Number::from_f64(1000.0));
        for bad in ["", "lots", "0x10", "Infinity", "NaN", "1e999", "-", "."] {
            assert_eq!(parse_numeric_string(bad), None, "{bad:?}");
        }
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
