//! The playground's browser bindings (`www/`): the very core the Worker runs, compiled for the
//! browser with wasm-bindgen (no Worker runtime), answering with plain JavaScript objects.
//!
//! No function throws or panics on bad input: every problem comes back as a value,
//! `{location, message}` (plus `line` and `column` for JSON syntax errors), where `location` is
//! the place in the configuration document (`subscriptions[0].mapping.user_key`), `event` (the
//! event editor) or `import`, so the page can show it next to what caused it.

use crate::config::{
    read_document, BridgeConfig, KeyCheck, SourceHint, SourceRoute, Subscription, UnknownKeyPolicy,
    PRESET_SUBSCRIPTION_NAME,
};
use crate::mapping::{Mapping, ValidationErrors};
use crate::pipeline::{self, OutcomeStatus, Processed};
use crate::segment;
use crate::timestamp;
use crate::track_event::{preset_fields, scalar_to_string, FIELDS, PRESET_TRIGGER};
use serde::Serialize;
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;

/// The Track Event fields LaunchDarkly cannot do without.
const REQUIRED_FIELDS: [&str; 2] = ["user_key", "event_name"];

/// Deepest `@if` chain described in a field's provenance.
const MAX_DESCRIBE_DEPTH: usize = 8;

/// Longest JSON shown inline in a provenance description, in characters.
const MAX_INLINE_JSON: usize = 160;

/// The crate version, for the page footer.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// What the page needs to draw the configuration form: Segment's Track Event preset (fields,
/// trigger, subscription name), field labels and help, and where each field lands in
/// LaunchDarkly's event.
#[wasm_bindgen]
pub fn preset() -> JsValue {
    to_js(&preset_value())
}

/// Runs the configuration document (JSON text, the exact form `BRIDGE_CONFIG` takes) on the
/// events (JSON text: one event, an array or `{"batch": [...]}`), as a request to
/// `/segment/{source_id}` (or `/segment` without one), with `received_at` (Unix ms, default now)
/// standing in for missing timestamps. The answer:
/// `{ok, problems, warnings, deployment_problems, summary, route, counts, outcomes, deliveries,
/// events, key_checks, catalogues}`:
/// - `problems`: `[{location, message, line?, column?}]`; `ok` is false when there is one.
/// - `deployment_problems`: what the Worker would refuse the document for besides (a document
///   that authenticates no event).
/// - `outcomes`: the pipeline's outcomes, as `POST /segment` answers them.
/// - `deliveries`: `[{destination, method, url, headers: [[name, value]], body, event_indexes}]`,
///   the exact requests the Worker would send.
/// - `events`: per event, `subscriptions: [{name, trigger, enabled, reachable, destinations,
///   matched, failed?: [{condition, actual}], fields?: [{field, label, output, mapping,
///   customized, via, state, value?, note?}], event?, rejection?: {code, message},
///   key_checks?}]`, where `via` says how the field's mapping resolved (for `@if`, the branch).
/// - `key_checks`: `[{event_index, subscription, destination, key, result: "known" |
///   "near_miss" | "unknown", suggestion?, difference?, sent?}]` against each destination's
///   `metric_event_keys`; `catalogues`: `[{destination, keys, unknown_event_keys, unfed}]`.
#[wasm_bindgen]
pub fn run(
    config_text: &str,
    events_text: &str,
    source_id: Option<String>,
    received_at: Option<f64>,
) -> JsValue {
    let received_at = received_at
        .filter(|ms| ms.is_finite())
        .unwrap_or_else(js_sys::Date::now) as i64;
    to_js(&run_value(
        config_text,
        events_text,
        source_id.as_deref().filter(|id| !id.is_empty()),
        received_at,
    ))
}

/// Reads a Track Event mapping copied from Segment: a field mapping (`{"event_name": {"@path":
/// "$.event"}, ...}`), a subscription (`{"name", "trigger" | "subscribe", "enabled", "mapping" |
/// "settings"}`, as Segment's API and presets write them), an array of those, or an API answer
/// holding them (`{"data": {"subscriptions": [...]}}`). With `absent_unmapped` (Segment stores
/// complete mappings), a field the import leaves out is unmapped (`null`); otherwise it keeps
/// the preset. The answer: `{ok, problems, subscriptions: [{name, trigger, enabled, mapping,
/// unmapped, kept_preset, ignored}], notes}`, each `mapping` holding all seven fields.
#[wasm_bindgen]
pub fn import_mapping(text: &str, absent_unmapped: bool) -> JsValue {
    to_js(&import_value(text, absent_unmapped))
}

/// Parses JSON text as the core does, for the page's own editors: `{ok: true, value}`, or
/// `{ok: false, message, line, column}` (line and column from 1; absent for empty text).
#[wasm_bindgen]
pub fn parse_json(text: &str) -> JsValue {
    to_js(&parse_json_value(text))
}

pub(crate) fn parse_json_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => json!({"ok": true, "value": value}),
        Err(error) => {
            let mut answer = json_problem("", text, &error);
            answer["ok"] = json!(false);
            answer
        }
    }
}

/// Converts to a JavaScript value (maps as plain objects); never throws.
fn to_js(value: &Value) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).unwrap_or_else(|error| {
        let fallback = json!({
            "ok": false,
            "problems": [{"location": "", "message": format!("internal error: {error}")}],
        });
        js_sys::JSON::parse(&fallback.to_string()).unwrap_or(JsValue::NULL)
    })
}

fn problem(location: &str, message: impl Into<String>) -> Value {
    json!({"location": location, "message": message.into()})
}

/// A JSON syntax error with its line and column.
fn json_problem(location: &str, text: &str, error: &serde_json::Error) -> Value {
    if text.trim().is_empty() {
        let what = match location {
            "event" => "empty: write a Segment event, or pick a sample",
            _ => "empty: expected JSON",
        };
        return problem(location, what);
    }
    json!({
        "location": location,
        "message": format!("not valid JSON: {error}"),
        "line": error.line(),
        "column": error.column(),
    })
}

fn preset_value() -> Value {
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|name| {
            let (label, output, help) = field_info(name);
            json!({
                "name": name,
                "label": label,
                "output": output,
                "help": help,
                "required": REQUIRED_FIELDS.contains(name),
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "subscription_name": PRESET_SUBSCRIPTION_NAME,
        "trigger": PRESET_TRIGGER,
        "mapping": preset_fields(),
        "fields": fields,
    })
}

/// Segment's label of a Track Event field, where it lands in LaunchDarkly's event, and help.
fn field_info(name: &str) -> (&'static str, &'static str, &'static str) {
    match name {
        "context_kind" => ("Context Kind", "contextKeys (kind)", "The context kind of the context key; \"user\" when unmapped."),
        "user_key" => ("Context Key", "contextKeys.<kind>", "The LaunchDarkly context key: in most cases the Segment userId (the preset falls back to anonymousId)."),
        "additional_context_keys" => ("Additional Context Keys", "contextKeys", "More context kinds and keys; the preset ties the anonymousId to the user (unauthenticatedUser)."),
        "event_name" => ("Event Name", "key", "The metric event key: it must equal the event key of your LaunchDarkly metric, byte for byte."),
        "metric_value" => ("Metric Value", "metricValue", "The number numeric metrics use (numeric strings become numbers)."),
        "event_properties" => ("Event Properties", "data", "Extra attributes for Data Export; not saved to the context."),
        "timestamp" => ("Timestamp", "creationDate", "When it happened (ISO-8601 becomes Unix ms; the receive time when missing or unparsable)."),
        _ => ("", "", ""),
    }
}

// ---------------------------------------------------------------------------------------------
// run

pub(crate) fn run_value(
    config_text: &str,
    events_text: &str,
    source_id: Option<&str>,
    received_at: i64,
) -> Value {
    let mut problems: Vec<Value> = Vec::new();
    let config = read_config(config_text, &mut problems);
    let events = read_events(events_text, &mut problems);
    let route = config.as_ref().and_then(|config| {
        let hint = source_id.map_or(SourceHint::None, SourceHint::SourceId);
        config
            .route(hint)
            .map_err(|error| {
                problems.push(json!({
                    "location": "source",
                    "message": error.message,
                    "code": error.code,
                    "status": error.status,
                }))
            })
            .ok()
    });
    let mut answer = json!({
        "ok": false,
        "version": env!("CARGO_PKG_VERSION"),
        "received_at": received_at,
        "problems": [],
        "warnings": config.as_ref().map(|c| json!(c.warnings)).unwrap_or(json!([])),
        // What the Worker would refuse besides the document's own problems.
        "deployment_problems": config
            .as_ref()
            .and_then(BridgeConfig::authentication_problem)
            .map_or(json!([]), |problem| json!([problem])),
        "summary": config.as_ref().map(BridgeConfig::summary),
    });
    let (Some(config), Some(events), Some(route)) = (config, events, route) else {
        answer["problems"] = Value::Array(problems);
        return answer;
    };
    let processed = pipeline::process_routed(&config, &route, &events, received_at);
    let traces: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(index, event)| trace_event(&config, &route, index, event, received_at))
        .collect();
    let key_checks: Vec<Value> = traces
        .iter()
        .filter_map(|trace| trace.get("subscriptions").and_then(Value::as_array))
        .flatten()
        .filter_map(|subscription| subscription.get("key_checks").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect();
    answer["ok"] = json!(true);
    answer["problems"] = Value::Array(problems);
    answer["route"] = json!({
        "source": route.source,
        "destinations": route.destinations.iter().filter_map(|i| config.destinations.get(*i)).map(|d| d.name.as_str()).collect::<Vec<_>>(),
    });
    answer["counts"] = counts(&processed);
    answer["outcomes"] = serde_json::to_value(&processed.outcomes).unwrap_or(json!([]));
    answer["deliveries"] = deliveries(&processed);
    answer["catalogues"] = catalogues(&config, &key_checks);
    answer["key_checks"] = Value::Array(key_checks);
    answer["events"] = Value::Array(traces);
    answer
}

/// Parses and validates the document; problems go to `problems`, located to the field.
fn read_config(text: &str, problems: &mut Vec<Value>) -> Option<BridgeConfig> {
    let document = match serde_json::from_str::<Value>(text) {
        Ok(document) => document,
        Err(error) => {
            problems.push(json_problem("config", text, &error));
            return None;
        }
    };
    match read_document(&document) {
        Ok(config) => Some(config),
        Err(found) => {
            let (fields, located) = field_problems(&document);
            for found in found {
                // A whole-mapping problem is replaced by the same problem located at its field.
                if found.location.ends_with(".mapping") && located.contains(&found.location) {
                    continue;
                }
                problems.push(json!(found));
            }
            problems.extend(fields);
            None
        }
    }
}

/// Checks every field of every subscription's mapping on its own, so that a problem points at
/// its field (`subscriptions[0].mapping.metric_value`) rather than at the whole mapping.
/// Returns the problems and the `…mapping` locations they cover.
fn field_problems(document: &Value) -> (Vec<Value>, Vec<String>) {
    let mut problems = Vec::new();
    let mut located = Vec::new();
    let Some(subscriptions) = document.get("subscriptions").and_then(Value::as_array) else {
        return (problems, located);
    };
    for (index, subscription) in subscriptions.iter().enumerate() {
        let Some(mapping) = subscription.get("mapping").and_then(Value::as_object) else {
            continue;
        };
        let base = format!("subscriptions[{index}].mapping");
        let before = problems.len();
        for (field, value) in mapping {
            let location = format!("{base}.{field}");
            if !FIELDS.contains(&field.as_str()) {
                problems.push(problem(
                    &location,
                    format!(
                        "unknown Track Event field {field:?}; the fields are {}",
                        FIELDS.join(", ")
                    ),
                ));
            } else if value.is_null() {
                if REQUIRED_FIELDS.contains(&field.as_str()) {
                    problems.push(problem(
                        &location,
                        format!("the required field {field:?} cannot be unmapped (null)"),
                    ));
                }
            } else {
                let mut single = Map::new();
                single.insert(field.clone(), value.clone());
                if let Err(errors) = Mapping::compile(&Value::Object(single)) {
                    problems.push(problem(&location, validation_message(&errors, field)));
                }
            }
        }
        if problems.len() > before {
            located.push(base);
        }
    }
    (problems, located)
}

/// Segment's validation messages, with the field's own prefix (`/user_key`) dropped.
fn validation_message(errors: &ValidationErrors, field: &str) -> String {
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

fn read_events(text: &str, problems: &mut Vec<Value>) -> Option<Vec<Value>> {
    if let Err(error) = serde_json::from_str::<Value>(text) {
        problems.push(json_problem("event", text, &error));
        return None;
    }
    match segment::parse_events(text.as_bytes()) {
        Ok(events) if events.is_empty() => {
            problems.push(problem("event", "no events: the array is empty"));
            None
        }
        Ok(events) => Some(events),
        Err(error) => {
            problems.push(
                json!({"location": "event", "message": error.to_string(), "code": error.code()}),
            );
            None
        }
    }
}

fn counts(processed: &Processed) -> Value {
    json!({
        "received": processed.outcomes.len(),
        "accepted": processed.count(OutcomeStatus::Accepted),
        "skipped": processed.count(OutcomeStatus::Skipped),
        "rejected": processed.count(OutcomeStatus::Rejected),
    })
}

fn deliveries(processed: &Processed) -> Value {
    processed
        .deliveries
        .iter()
        .map(|delivery| {
            let request = &delivery.request;
            json!({
                "destination": delivery.destination,
                "method": request.method,
                "url": request.url,
                "headers": request.headers.iter().map(|(name, value)| json!([name, value])).collect::<Vec<_>>(),
                "body": request.body,
                "event_indexes": delivery.event_indexes,
            })
        })
        .collect()
}

/// Each destination's metric key catalogue and the keys of it no event produced.
fn catalogues(config: &BridgeConfig, key_checks: &[Value]) -> Value {
    config
        .destinations
        .iter()
        .filter_map(|destination| {
            let catalogue = destination.catalogue.as_ref()?;
            let fed: Vec<&str> = key_checks
                .iter()
                .filter(|check| {
                    check["destination"] == destination.name.as_str() && check["result"] == "known"
                })
                .filter_map(|check| check["key"].as_str())
                .collect();
            Some(json!({
                "destination": destination.name,
                "keys": catalogue.keys(),
                "unknown_event_keys": catalogue.unknown_keys,
                "unfed": catalogue.keys().iter().filter(|key| !fed.contains(&key.as_str())).collect::<Vec<_>>(),
            }))
        })
        .collect()
}

/// What every subscription made of one event: whether its trigger matched (or which conditions
/// failed), the LaunchDarkly event or the rejection, where each field's value came from, and
/// the metric key check of each destination.
fn trace_event(
    config: &BridgeConfig,
    route: &SourceRoute,
    index: usize,
    event: &Value,
    received_at: i64,
) -> Value {
    let shaped = event.is_object() && segment::event_type(event).is_some();
    let subscriptions: Vec<Value> = config
        .subscriptions
        .iter()
        .map(|subscription| {
            let reachable: Vec<usize> = subscription
                .destinations
                .iter()
                .copied()
                .filter(|d| route.destinations.contains(d))
                .collect();
            let mut trace = json!({
                "name": subscription.name,
                "trigger": subscription.trigger.source(),
                "enabled": subscription.enabled,
                "reachable": !reachable.is_empty(),
                "destinations": reachable.iter().filter_map(|d| config.destinations.get(*d)).map(|d| d.name.as_str()).collect::<Vec<_>>(),
                "matched": false,
            });
            if !shaped {
                return trace;
            }
            if let Some(mismatch) = subscription.trigger.explain(event) {
                trace["failed"] = mismatch
                    .failed
                    .iter()
                    .map(|f| json!({"condition": f.condition, "actual": f.actual}))
                    .collect();
                return trace;
            }
            trace["matched"] = json!(true);
            if !subscription.enabled || reachable.is_empty() {
                return trace;
            }
            trace["fields"] = Value::Array(provenance(subscription, event));
            match subscription.mapping.map_event(event, received_at) {
                Ok(custom) => {
                    trace["event"] = serde_json::to_value(&custom).unwrap_or(Value::Null);
                    trace["key_checks"] = reachable
                        .iter()
                        .filter_map(|d| config.destinations.get(*d))
                        .filter_map(|destination| {
                            let catalogue = destination.catalogue.as_ref()?;
                            let mut check = json!({
                                "event_index": index,
                                "subscription": subscription.name,
                                "destination": destination.name,
                                "key": custom.key,
                            });
                            match catalogue.check(&custom.key) {
                                KeyCheck::Known => check["result"] = json!("known"),
                                KeyCheck::NearMiss { suggestion, difference } => {
                                    check["result"] = json!("near_miss");
                                    check["suggestion"] = json!(suggestion);
                                    check["difference"] = json!(difference);
                                    check["sent"] = json!(catalogue.unknown_keys == UnknownKeyPolicy::Send);
                                }
                                KeyCheck::Unknown => {
                                    check["result"] = json!("unknown");
                                    check["sent"] = json!(catalogue.unknown_keys == UnknownKeyPolicy::Send);
                                }
                            }
                            Some(check)
                        })
                        .collect();
                }
                Err(rejection) => {
                    trace["rejection"] = json!({"code": rejection.code, "message": rejection.message});
                }
            }
            trace
        })
        .collect();
    json!({"index": index, "subscriptions": subscriptions})
}

// ---------------------------------------------------------------------------------------------
// provenance: where each field's value came from

/// One entry per Track Event field, in Segment's order: its mapping, how it resolved on this
/// event (`@if exists(@path $.userId) → then: @path $.userId`), the value it produced, where
/// that lands in LaunchDarkly's event, and what the bridge did with it.
fn provenance(subscription: &Subscription, event: &Value) -> Vec<Value> {
    let fields = subscription.mapping.fields();
    let customized = subscription.mapping.customized_fields();
    let mut identity_notes: Vec<String> = Vec::new();
    let mut normalized = event.clone();
    if let Value::Object(object) = &mut normalized {
        for field in ["userId", "anonymousId"] {
            match object.get(field) {
                Some(Value::Null) => {
                    identity_notes.push(format!("{field} is null: treated as absent"))
                }
                Some(Value::String(text)) if text.is_empty() => {
                    identity_notes.push(format!("{field} is \"\": treated as absent"))
                }
                _ => {}
            }
        }
        segment::normalize_identity(object);
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
            let (label, _, _) = field_info(name);
            let mapping = fields.get(name);
            let mut entry = json!({
                "field": name,
                "label": label,
                "output": output_of(name, &kind, value.as_ref().ok().and_then(Option::as_ref)),
                "mapping": mapping.cloned(),
                "customized": customized.iter().any(|c| c == name),
                "via": mapping.map_or_else(|| "unmapped".to_string(), |m| describe(m, &normalized, 0)),
            });
            match value {
                Err(message) => {
                    entry["state"] = json!("error");
                    entry["note"] = json!(message);
                }
                Ok(None) => {
                    entry["state"] = json!("missing");
                    entry["note"] = json!(missing_note(name, mapping.is_some()));
                }
                Ok(Some(value)) if is_empty(&value) => {
                    entry["state"] = json!("empty");
                    entry["note"] = json!(format!(
                        "{} counts as not mapped; {}",
                        if value.is_null() { "null" } else { "\"\"" },
                        missing_note(name, true)
                    ));
                    entry["value"] = value;
                }
                Ok(Some(value)) => {
                    entry["state"] = json!("value");
                    if let Some(note) = value_note(name, &value) {
                        entry["note"] = json!(note);
                    }
                    entry["value"] = value;
                }
            }
            if name == "user_key" && !identity_notes.is_empty() {
                let note = entry["note"].as_str().map(str::to_string);
                entry["note"] = json!(match note {
                    Some(note) => format!("{}; {note}", identity_notes.join("; ")),
                    None => identity_notes.join("; "),
                });
            }
            entry
        })
        .collect()
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
        .map_err(|errors| validation_message(&errors, name))?;
    match compiled.apply(event) {
        Ok(Value::Object(mut mapped)) => Ok(mapped.remove(name)),
        Ok(_) => Ok(None),
        Err(error) => Err(format!("the mapping failed on this event: {error}")),
    }
}

/// Whether the core turns this string into a metric value (Segment's number coercion).
fn is_numeric(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.bytes().any(|b| b.is_ascii_digit())
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && trimmed.parse::<f64>().is_ok_and(f64::is_finite)
}

fn is_empty(value: &Value) -> bool {
    value.is_null() || value.as_str() == Some("")
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
        "event_name" => "key".to_string(),
        "metric_value" => "metricValue".to_string(),
        "event_properties" => "data".to_string(),
        "timestamp" => "creationDate".to_string(),
        _ => String::new(),
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
        ("metric_value", Value::String(text)) if is_numeric(text) => {
            Some(format!("the numeric string {text:?} is sent as a number"))
        }
        ("metric_value", Value::Number(_)) | ("event_properties", Value::Object(_)) => None,
        ("metric_value", _) => Some("not a number: the event is rejected".to_string()),
        ("event_properties", _) => Some("not an object: the event is rejected".to_string()),
        ("user_key" | "event_name" | "context_kind", Value::Number(_) | Value::Bool(_)) => {
            Some(format!(
                "sent as the string {:?}",
                scalar_to_string(value).unwrap_or_default()
            ))
        }
        ("user_key" | "event_name" | "context_kind", Value::Array(_) | Value::Object(_)) => {
            Some("not a string: the event is rejected".to_string())
        }
        ("additional_context_keys", Value::Object(entries)) => {
            let empty: Vec<&str> = entries
                .iter()
                .filter(|(_, v)| is_empty(v))
                .map(|(k, _)| k.as_str())
                .collect();
            (!empty.is_empty()).then(|| format!("empty, left out: {}", empty.join(", ")))
        }
        ("additional_context_keys", _) => Some("not an object: the event is rejected".to_string()),
        ("timestamp", _) => Some(match timestamp::unix_millis(Some(value)) {
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
        .filter(|value| branch == "then" || crate::mapping::js_truthy(value));
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

// ---------------------------------------------------------------------------------------------
// import

pub(crate) fn import_value(text: &str, absent_unmapped: bool) -> Value {
    let value = match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(error) => {
            return json!({"ok": false, "problems": [json_problem("import", text, &error)], "subscriptions": []})
        }
    };
    let mut notes = Vec::new();
    let mut found = Vec::new();
    collect_subscriptions(&value, &mut found, &mut notes, 0);
    if found.is_empty() {
        let message = if notes.is_empty() {
            format!(
                "no Track Event mapping found: paste an object of fields ({}), or a Segment subscription with \"mapping\" or \"settings\"",
                FIELDS.join(", ")
            )
        } else {
            notes.join("; ")
        };
        return json!({"ok": false, "problems": [problem("import", message)], "subscriptions": []});
    }
    let preset = preset_fields();
    let subscriptions: Vec<Value> = found
        .into_iter()
        .map(|(meta, mapping)| {
            let mut fields = Map::new();
            let mut unmapped = Vec::new();
            let mut kept_preset = Vec::new();
            for name in FIELDS {
                match mapping.get(name) {
                    Some(value) => {
                        fields.insert(name.to_string(), value.clone());
                    }
                    None if absent_unmapped && !REQUIRED_FIELDS.contains(&name) => {
                        fields.insert(name.to_string(), Value::Null);
                        unmapped.push(name);
                    }
                    None => {
                        if let Some(value) = preset.get(name) {
                            fields.insert(name.to_string(), value.clone());
                        }
                        kept_preset.push(name);
                    }
                }
            }
            let ignored: Vec<&String> = mapping
                .keys()
                .filter(|key| !FIELDS.contains(&key.as_str()))
                .collect();
            json!({
                "name": meta.get("name").and_then(Value::as_str),
                "trigger": meta.get("trigger").or_else(|| meta.get("subscribe")).and_then(Value::as_str),
                "enabled": meta.get("enabled").and_then(Value::as_bool),
                "mapping": fields,
                "unmapped": unmapped,
                "kept_preset": kept_preset,
                "ignored": ignored,
            })
        })
        .collect();
    json!({"ok": true, "problems": [], "subscriptions": subscriptions, "notes": notes})
}

/// A subscription found in an import: its metadata (name, trigger, …) and its field mapping.
type Found = (Map<String, Value>, Map<String, Value>);

/// Finds the subscriptions in what was pasted.
fn collect_subscriptions(
    value: &Value,
    found: &mut Vec<Found>,
    notes: &mut Vec<String>,
    depth: usize,
) {
    if depth > 4 {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                collect_subscriptions(item, found, notes, depth + 1);
            }
        }
        Value::Object(object) => {
            for wrapper in ["data", "subscription", "subscriptions", "presets"] {
                if let Some(inner) = object
                    .get(wrapper)
                    .filter(|v| v.is_object() || v.is_array())
                {
                    collect_subscriptions(inner, found, notes, depth + 1);
                    return;
                }
            }
            let action = object
                .get("partnerAction")
                .or_else(|| object.get("actionSlug"))
                .and_then(Value::as_str);
            let fields = object
                .get("mapping")
                .or_else(|| object.get("settings"))
                .and_then(Value::as_object);
            if let Some(fields) = fields {
                if let Some(action) = action.filter(|a| *a != "trackEvent") {
                    let name = object.get("name").and_then(Value::as_str).unwrap_or(action);
                    notes.push(format!(
                        "{name:?} left out: its action is {action:?}, not Track Event (trackEvent)"
                    ));
                    return;
                }
                found.push((object.clone(), fields.clone()));
            } else if object.keys().any(|key| FIELDS.contains(&key.as_str())) {
                found.push((Map::new(), object.clone()));
            }
        }
        _ => {}
    }
}
