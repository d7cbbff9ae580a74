//! Where each Track Event field's value came from on one event, and what the bridge does with
//! it: the explanation the playground and `preview` show. Every verdict here calls the rule the
//! conversion itself applies ([`super::metric_value`], [`super::present`],
//! [`crate::segment::normalize_identity`]), so the explanation cannot drift from the decision.

use super::{
    metric_value, present, scalar_to_string, single_item, MappedValue, TrackEventMapping, FIELDS,
    REQUIRED_FIELDS,
};
use crate::mapping::{js_truthy, Mapping, ValidationErrors};
use crate::segment::{self, EventField};
use crate::timestamp;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// How deep [`describe`] follows a mapping before printing the rest as JSON.
const MAX_DESCRIBE_DEPTH: usize = 8;
/// The longest JSON [`describe`] prints inline, in characters.
const MAX_INLINE_JSON: usize = 160;

/// A Track Event field as Segment's editor presents it, and where it lands in LaunchDarkly's
/// event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FieldInfo {
    /// The field's name in the mapping (`user_key`).
    pub name: &'static str,
    /// Segment's label (`Context Key`).
    pub label: &'static str,
    /// Where its value goes in LaunchDarkly's event (`contextKeys.<kind>`).
    pub output: &'static str,
    /// A sentence of help.
    pub help: &'static str,
    /// Whether it cannot be unmapped.
    pub required: bool,
}

/// The description of field `name` (one of [`FIELDS`]).
pub fn field_info(name: &str) -> FieldInfo {
    let (name, label, output, help) = match name {
        "context_kind" => ("context_kind", "Context Kind", "contextKeys (kind)", "The context kind of the context key; \"user\" when unmapped."),
        "user_key" => ("user_key", "Context Key", "contextKeys.<kind>", "The LaunchDarkly context key: in most cases the Segment userId (the preset falls back to anonymousId)."),
        "additional_context_keys" => ("additional_context_keys", "Additional Context Keys", "contextKeys", "More context kinds and keys; the preset ties the anonymousId to the user (unauthenticatedUser)."),
        "event_name" => ("event_name", "Event Name", "key", "The metric event key: it must equal the event key of your LaunchDarkly metric, byte for byte."),
        "metric_value" => ("metric_value", "Metric Value", "metricValue", "The number numeric metrics use (numeric strings become numbers)."),
        "event_properties" => ("event_properties", "Event Properties", "data", "Extra attributes for Data Export; not saved to the context."),
        "timestamp" => ("timestamp", "Timestamp", "creationDate", "When it happened (a date as Segment reads it, ISO 8601 or another form, becomes Unix ms; the receive time when missing or unparsable)."),
        _ => ("", "", "", ""),
    };
    FieldInfo {
        name,
        label,
        output,
        help,
        required: REQUIRED_FIELDS.contains(&name),
    }
}

/// What one field's mapping produced on the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldState {
    /// The mapping failed on this event.
    Error,
    /// Unmapped, or the mapping gave no value.
    Missing,
    /// `null` or `""`: counts as not mapped.
    Empty,
    /// A value.
    Value,
}

/// One Track Event field on one event: its mapping, how it resolved (`@if exists(@path
/// $.userId) → then: @path $.userId`), the value it produced, where that lands in
/// LaunchDarkly's event, and what the bridge did with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldTrace {
    /// The field's name.
    pub field: &'static str,
    /// Segment's label.
    pub label: &'static str,
    /// Where the value lands (`contextKeys.user`).
    pub output: String,
    /// The field's mapping (`null` when unmapped).
    pub mapping: Option<Value>,
    /// Whether the subscription changed it from Segment's preset.
    pub customized: bool,
    /// How the mapping resolved on this event.
    pub via: String,
    /// What it produced.
    pub state: FieldState,
    /// What the bridge does with it, when worth saying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The value, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// One [`FieldTrace`] per Track Event field, in Segment's order.
pub fn field_traces(mapping: &TrackEventMapping, event: &Value) -> Vec<FieldTrace> {
    let fields = mapping.fields();
    let customized = mapping.customized_fields();
    // The identity rule itself says which ids it dropped: whatever normalisation removes.
    let mut normalized = event.clone();
    let mut identity_notes: Vec<String> = Vec::new();
    if let Value::Object(object) = &mut normalized {
        segment::normalize_identity(object);
        for field in ["userId", "anonymousId"] {
            if let (Some(before), None) = (event.get(field), object.get(field)) {
                identity_notes.push(format!("{field} is {before}: treated as absent"));
            }
        }
    }
    let values: Vec<(&str, Result<Option<Value>, String>)> = FIELDS
        .iter()
        .map(|name| (*name, field_value(fields.get(*name), name, &normalized)))
        .collect();
    let kind = values
        .iter()
        .find(|(name, _)| *name == "context_kind")
        .and_then(|(_, value)| value.as_ref().ok().cloned().flatten())
        .filter(|value| !is_empty(value))
        .and_then(|value| scalar_to_string(&value))
        .unwrap_or_else(|| "user".to_string());
    values
        .into_iter()
        .map(|(name, value)| {
            let info = field_info(name);
            let mapping = fields.get(name);
            let output = output_of(name, &kind, value.as_ref().ok().and_then(Option::as_ref));
            let (state, mut note, value) = match value {
                Err(message) => (FieldState::Error, Some(message), None),
                Ok(None) => (
                    FieldState::Missing,
                    Some(missing_note(name, mapping.is_some())),
                    None,
                ),
                Ok(Some(value)) if is_empty(&value) => (
                    FieldState::Empty,
                    Some(format!(
                        "{} counts as not mapped; {}",
                        if value.is_null() { "null" } else { "\"\"" },
                        missing_note(name, true)
                    )),
                    Some(value),
                ),
                Ok(Some(value)) => (FieldState::Value, value_note(name, &value), Some(value)),
            };
            if name == "user_key" && !identity_notes.is_empty() {
                note = Some(match note {
                    Some(note) => format!("{}; {note}", identity_notes.join("; ")),
                    None => identity_notes.join("; "),
                });
            }
            FieldTrace {
                field: info.name,
                label: info.label,
                output,
                mapping: mapping.cloned(),
                customized: customized.iter().any(|c| c == name),
                via: mapping
                    .map_or_else(|| "unmapped".to_string(), |m| describe(m, &normalized, 0)),
                state,
                note,
                value,
            }
        })
        .collect()
}

/// Segment's validation messages for one field's mapping, with the field's own prefix
/// (`/user_key`) dropped.
pub fn field_validation_message(errors: &ValidationErrors, field: &str) -> String {
    let prefix = format!("/{field}");
    errors
        .0
        .iter()
        .map(|error| {
            let path = error.path.strip_prefix(&prefix).unwrap_or(&error.path);
            if path.is_empty() {
                format!("{}.", error.message)
            } else {
                format!("{path} {}.", error.message)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value one field's mapping produces on the event: `Ok(None)` when unmapped or
/// undefined, `Err` with the engine's message when the mapping fails on this event.
fn field_value(
    mapping: Option<&Value>,
    name: &str,
    event: &Value,
) -> Result<Option<Value>, String> {
    let Some(mapping) = mapping else {
        return Ok(None);
    };
    let mut single = Map::new();
    single.insert(name.to_string(), mapping.clone());
    let compiled = Mapping::compile(&Value::Object(single))
        .map_err(|errors| field_validation_message(&errors, name))?;
    match compiled.apply(event) {
        Ok(Value::Object(mut mapped)) => Ok(mapped.remove(name)),
        Ok(_) => Ok(None),
        Err(error) => Err(format!("the mapping failed on this event: {error}")),
    }
}

/// `null` or `""`: what the conversion treats as not mapped ([`present`]).
fn is_empty(value: &Value) -> bool {
    present(Some(MappedValue::from(EventField::Value(value)))).is_none()
}

fn output_of(name: &str, kind: &str, value: Option<&Value>) -> String {
    match name {
        "context_kind" => format!("the kind of contextKeys.{kind}"),
        "user_key" => format!("contextKeys.{kind}"),
        "additional_context_keys" => match value.and_then(Value::as_object) {
            Some(entries) if !entries.is_empty() => entries
                .keys()
                .map(|k| format!("contextKeys.{k}"))
                .collect::<Vec<_>>()
                .join(", "),
            _ => "contextKeys".to_string(),
        },
        other => field_info(other).output.to_string(),
    }
}

fn missing_note(name: &str, mapped: bool) -> String {
    let what = if mapped { "no value" } else { "not mapped" };
    match name {
        "context_kind" => format!("{what}: the kind is \"user\""),
        "user_key" => format!("{what}: the event is rejected (no context key)"),
        "additional_context_keys" => format!("{what}: no additional context keys"),
        "event_name" => format!("{what}: the event is rejected (no metric event key)"),
        "metric_value" => format!(
            "{what}: no metricValue (conversion metrics do not need one; numeric metrics do)"
        ),
        "event_properties" => format!("{what}: data is {{}}"),
        "timestamp" => format!("{what}: creationDate is the receive time"),
        _ => what.to_string(),
    }
}

/// What the bridge does with a field's value on its way to LaunchDarkly, when worth saying.
fn value_note(name: &str, value: &Value) -> Option<String> {
    match (name, value) {
        // The conversion's own rule decides, and its message says why not.
        ("metric_value", _) => match metric_value(value) {
            Ok(number) => match value {
                Value::Number(_) => None,
                Value::String(text) => Some(format!(
                    "the numeric string {text:?} is sent as a number ({number})"
                )),
                other => Some(format!("{other} is sent as the number {number}")),
            },
            Err(rejection) => Some(format!("the event is rejected: {}", rejection.message)),
        },
        ("event_properties", Value::Object(_)) => None,
        ("event_properties", _) => Some("not an object: the event is rejected".to_string()),
        // Segment's schema step reads an array of one item as the item (`single_item`).
        ("user_key" | "event_name" | "context_kind", _) => match single_item(value) {
            Value::Array(_) | Value::Object(_) => {
                Some("not a string: the event is rejected".to_string())
            }
            // A string as it is needs no word.
            Value::String(_) | Value::Null if !value.is_array() => None,
            item => Some(match scalar_to_string(item) {
                Some(text) if !text.is_empty() => format!("sent as the string {text:?}"),
                _ => missing_note(name, true),
            }),
        },
        ("additional_context_keys", Value::Object(entries)) => {
            let empty: Vec<&str> = entries
                .iter()
                .filter(|(_, v)| is_empty(v))
                .map(|(k, _)| k.as_str())
                .collect();
            (!empty.is_empty()).then(|| format!("empty, left out: {}", empty.join(", ")))
        }
        ("additional_context_keys", _) => Some("not an object: the event is rejected".to_string()),
        ("timestamp", _) => Some(match timestamp::unix_millis(Some(single_item(value))) {
            Some(ms) => format!("{ms} (Unix ms)"),
            None => "not a date: creationDate is the receive time".to_string(),
        }),
        _ => None,
    }
}

/// A short account of how a mapping resolved on the event; for `@if`, the branch taken.
fn describe(mapping: &Value, event: &Value, depth: usize) -> String {
    if depth > MAX_DESCRIBE_DEPTH {
        return inline_json(mapping);
    }
    match mapping {
        Value::Object(object) if object.len() == 1 => {
            let Some((name, argument)) = object.iter().next() else {
                return "{}".to_string();
            };
            match (name.as_str(), argument) {
                ("@path", Value::String(path)) => format!("@path {path}"),
                ("@template", Value::String(template)) => format!("@template {template:?}"),
                ("@if", Value::Object(options)) => describe_if(options, event, depth),
                (directive, _) if directive.starts_with('@') => {
                    format!("{directive} {}", inline_json(argument))
                }
                (key, value) => format!("{{{key}: {}}}", describe(value, event, depth + 1)),
            }
        }
        Value::Object(object) if object.is_empty() => "{}".to_string(),
        Value::Object(object) => format!(
            "{{{}}}",
            object
                .iter()
                .map(|(key, value)| format!("{key}: {}", describe(value, event, depth + 1)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "null".to_string(),
        other => format!("the constant {}", inline_json(other)),
    }
}

fn describe_if(options: &Map<String, Value>, event: &Value, depth: usize) -> String {
    let condition = match (options.get("exists"), options.get("blank")) {
        (Some(exists), _) => format!("exists({})", describe(exists, event, depth + 1)),
        (None, Some(blank)) => format!("blank({})", describe(blank, event, depth + 1)),
        (None, None) => "(no condition)".to_string(),
    };
    // Run the same condition with literal branches: the engine itself says which one it took.
    let mut probe = options.clone();
    probe.insert("then".to_string(), json!("then"));
    probe.insert("else".to_string(), json!("else"));
    let taken = Mapping::compile(&json!({"branch": {"@if": probe}}))
        .ok()
        .and_then(|compiled| compiled.apply(event).ok())
        .and_then(|result| {
            result
                .get("branch")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let Some(branch) = taken else {
        return format!("@if {condition} (fails on this event)");
    };
    let value = options
        .get(branch.as_str())
        .filter(|value| branch == "then" || js_truthy(value));
    match value {
        Some(value) => format!(
            "@if {condition} → {branch}: {}",
            describe(value, event, depth + 1)
        ),
        None => format!("@if {condition} → {branch}: (none, no value)"),
    }
}

fn inline_json(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_INLINE_JSON {
        return text;
    }
    let cut: String = text.chars().take(MAX_INLINE_JSON).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset() -> TrackEventMapping {
        TrackEventMapping::preset().unwrap()
    }

    fn trace_of<'t>(traces: &'t [FieldTrace], field: &str) -> &'t FieldTrace {
        traces.iter().find(|t| t.field == field).unwrap()
    }

    #[test]
    fn every_field_in_segments_order_with_its_value() {
        let event = json!({"type": "track", "event": "Order", "userId": "u1",
                           "properties": {"revenue": "12.5"}, "timestamp": "2025-01-01T00:00:00Z"});
        let traces = field_traces(&preset(), &event);
        let names: Vec<&str> = traces.iter().map(|t| t.field).collect();
        assert_eq!(names, FIELDS);
        let key = trace_of(&traces, "user_key");
        assert_eq!(key.state, FieldState::Value);
        assert_eq!(key.value, Some(json!("u1")));
        assert_eq!(key.output, "contextKeys.user");
        assert_eq!(key.via, "@if exists(@path $.userId) → then: @path $.userId");
        let value = trace_of(&traces, "metric_value");
        assert_eq!(
            value.note.as_deref(),
            Some("the numeric string \"12.5\" is sent as a number (12.5)")
        );
        assert_eq!(
            trace_of(&traces, "timestamp").note.as_deref(),
            Some("1735689600000 (Unix ms)")
        );
    }

    #[test]
    fn the_identity_rule_explains_the_ids_it_dropped() {
        let event = json!({"type": "track", "event": "E", "userId": "", "anonymousId": "a"});
        let traces = field_traces(&preset(), &event);
        let key = trace_of(&traces, "user_key");
        assert_eq!(key.value, Some(json!("a")));
        assert_eq!(
            key.note.as_deref(),
            Some("userId is \"\": treated as absent")
        );
        let event = json!({"type": "track", "event": "E", "userId": null});
        let key_trace = field_traces(&preset(), &event);
        let key = trace_of(&key_trace, "user_key");
        assert_eq!(key.state, FieldState::Missing);
        // `@if exists` falls back from a null userId by itself: nothing was dropped.
        assert!(!key.note.as_deref().unwrap().contains("treated as absent"));
    }

    #[test]
    fn string_fields_are_explained_as_the_schema_step_coerces_them() {
        let note = |value: Value| value_note("user_key", &value);
        assert_eq!(note(json!("u")), None);
        assert_eq!(
            note(json!(42)).as_deref(),
            Some("sent as the string \"42\"")
        );
        assert_eq!(
            note(json!([true])).as_deref(),
            Some("sent as the string \"true\"")
        );
        assert_eq!(
            note(json!(["u"])).as_deref(),
            Some("sent as the string \"u\"")
        );
        assert_eq!(
            note(json!([""])).as_deref(),
            Some("no value: the event is rejected (no context key)")
        );
        for rejected in [json!([1, 2]), json!([["u"]]), json!({"id": 1})] {
            assert_eq!(
                note(rejected.clone()).as_deref(),
                Some("not a string: the event is rejected"),
                "{rejected}"
            );
        }
        assert_eq!(
            value_note("timestamp", &json!(["2024-05-06T07:08:09.123Z"])).as_deref(),
            Some("1714979289123 (Unix ms)")
        );
    }

    #[test]
    fn object_fields_are_explained_as_the_conversion_takes_them() {
        assert_eq!(value_note("event_properties", &json!({"a": 1})), None);
        let not_an_object = Some("not an object: the event is rejected");
        for value in [json!("x"), json!([{"a": 1}])] {
            assert_eq!(
                value_note("event_properties", &value).as_deref(),
                not_an_object
            );
            assert_eq!(
                value_note("additional_context_keys", &value).as_deref(),
                not_an_object
            );
        }
        assert_eq!(
            value_note("additional_context_keys", &json!({"a": "k"})),
            None
        );
        assert_eq!(
            value_note(
                "additional_context_keys",
                &json!({"a": null, "b": "k", "c": ""})
            )
            .as_deref(),
            Some("empty, left out: a, c")
        );
    }

    #[test]
    fn metric_values_are_judged_by_the_conversion_rule() {
        let note = |value: Value| value_note("metric_value", &value);
        assert_eq!(note(json!(3)), None);
        assert_eq!(
            note(json!("0x10")).as_deref(),
            Some("the numeric string \"0x10\" is sent as a number (16)")
        );
        assert_eq!(
            note(json!(true)).as_deref(),
            Some("true is sent as the number 1")
        );
        assert_eq!(
            note(json!([2.5])).as_deref(),
            Some("[2.5] is sent as the number 2.5")
        );
        assert!(note(json!("1e400"))
            .unwrap()
            .starts_with("the event is rejected: "));
        assert!(note(json!("abc"))
            .unwrap()
            .starts_with("the event is rejected: "));
        assert!(note(json!(9_007_199_254_740_993_u64))
            .unwrap()
            .contains("2^53-1"));
    }

    #[test]
    fn empty_values_count_as_unmapped() {
        let event = json!({"type": "track", "event": "", "userId": "u"});
        let traces = field_traces(&preset(), &event);
        let name = trace_of(&traces, "event_name");
        assert_eq!(name.state, FieldState::Empty);
        assert_eq!(
            name.note.as_deref(),
            Some(
                "\"\" counts as not mapped; no value: the event is rejected (no metric event key)"
            )
        );
    }
}
