//! What a configuration does to some events, before anything is deployed: the playground's
//! and `preview`'s view of the one pipeline. It reads a configuration document and events as
//! text, locates every problem to its field, runs [`pipeline::process`] with its trace, and
//! imports Track Event mappings copied from Segment. Pure and total: every problem is a value,
//! `{location, message}` (plus `line` and `column` for JSON syntax errors).

use crate::api::ApiError;
use crate::config::{read_document, BridgeConfig, SourceHint, PRESET_SUBSCRIPTION_NAME};
use crate::inbound;
use crate::mapping::Mapping;
use crate::pipeline::trace::{KeyCheckResult, KeyCheckTrace};
use crate::pipeline::{self, Events, Options, OutcomeStatus, Processed};
use crate::track_event::{
    field_info, field_validation_message, preset_fields, FIELDS, PRESET_TRIGGER, REQUIRED_FIELDS,
};
use serde_json::{json, Map, Value};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Parses JSON text as the core does: `{ok: true, value}`, or `{ok: false, message, line,
/// column}` (line and column from 1; absent for empty text).
pub fn parse_json(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => json!({"ok": true, "value": value}),
        Err(error) => {
            let mut answer = json_problem("", text, &error);
            answer["ok"] = json!(false);
            answer
        }
    }
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

/// What a page needs to draw the configuration form: Segment's Track Event preset (fields,
/// trigger, subscription name), field labels and help, and where each field lands in
/// LaunchDarkly's event.
pub fn preset() -> Value {
    let fields: Vec<Value> = FIELDS.iter().map(|name| json!(field_info(name))).collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "subscription_name": PRESET_SUBSCRIPTION_NAME,
        "trigger": PRESET_TRIGGER,
        "mapping": preset_fields(),
        "fields": fields,
    })
}

// ---------------------------------------------------------------------------------------------
// run

/// Runs the configuration document (JSON text, the exact form `BRIDGE_CONFIG` takes) on the
/// events (JSON text: one event, an array or `{"batch": [...]}`), as a request to
/// `/segment/{source_id}` (or `/segment` without one), with `received_at` (Unix ms) standing in
/// for missing timestamps. The answer:
/// `{ok, problems, warnings, deployment_problems, summary, route, counts, outcomes, deliveries,
/// events, key_checks, catalogues}`:
/// - `problems`: `[{location, message, line?, column?}]`; `ok` is false when there is one.
/// - `deployment_problems`: what the Worker would refuse the document for besides (a document
///   that authenticates no event).
/// - `outcomes`: the pipeline's outcomes, as `POST /segment` answers them.
/// - `deliveries`: the planned payloads as requests, `[{destination, method, url, payload_id,
///   headers: [[name, value]], event_indexes, body}]`, exactly what the Worker would send.
/// - `events`: the pipeline's trace, one per event ([`pipeline::trace::EventTrace`]).
/// - `key_checks`: every metric key check of the trace, flattened
///   ([`pipeline::trace::KeyCheckTrace`]: the key check, the metrics fed, every verdict);
///   `catalogues`: `[{destination, keys, metrics, source, unknown_event_keys, unfed}]`, `metrics`
///   the definitions as read, `source` the `catalogue_source` (or null).
pub fn run(
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
                    "status": ApiError::from(error.clone()).code.status(),
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
    let processed = pipeline::process(
        &config,
        &route,
        Events::Parsed(&events),
        Options::at(received_at).traced(),
    );
    let key_checks: Vec<&KeyCheckTrace> = processed
        .traces
        .iter()
        .flat_map(|trace| &trace.subscriptions)
        .filter_map(|subscription| subscription.key_checks.as_ref())
        .flatten()
        .collect();
    answer["ok"] = json!(true);
    answer["problems"] = Value::Array(problems);
    answer["route"] = json!({
        "source": route.source,
        "destinations": route.destinations.iter().filter_map(|i| config.destinations.get(*i)).map(|d| d.name.as_str()).collect::<Vec<_>>(),
    });
    answer["counts"] = counts(&processed);
    answer["outcomes"] = serde_json::to_value(&processed.outcomes).unwrap_or(json!([]));
    answer["deliveries"] = json!(processed.payloads);
    answer["catalogues"] = catalogues(&config, &key_checks);
    answer["key_checks"] = json!(key_checks);
    answer["events"] = json!(processed.traces);
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
                    problems.push(problem(&location, field_validation_message(&errors, field)));
                }
            }
        }
        if problems.len() > before {
            located.push(base);
        }
    }
    (problems, located)
}

fn read_events(text: &str, problems: &mut Vec<Value>) -> Option<Vec<Value>> {
    if let Err(error) = serde_json::from_str::<Value>(text) {
        problems.push(json_problem("event", text, &error));
        return None;
    }
    match inbound::parse_events(text.as_bytes()) {
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

/// Each destination's metric catalogue (keys, metric definitions, where it was pulled from) and
/// the keys of it no event produced.
fn catalogues(config: &BridgeConfig, key_checks: &[&KeyCheckTrace]) -> Value {
    config
        .destinations
        .iter()
        .filter_map(|destination| {
            let catalogue = destination.catalogue.as_ref()?;
            let fed: Vec<&str> = key_checks
                .iter()
                .filter(|check| {
                    check.destination == destination.name && check.result == KeyCheckResult::Known
                })
                .map(|check| check.key.as_str())
                .collect();
            Some(json!({
                "destination": destination.name,
                "keys": catalogue.keys(),
                "metrics": catalogue.metrics(),
                "source": catalogue.source(),
                "unknown_event_keys": catalogue.unknown_keys,
                "unfed": catalogue.keys().iter().filter(|key| !fed.contains(&key.as_str())).collect::<Vec<_>>(),
            }))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// import

/// Reads a Track Event mapping copied from Segment: a field mapping (`{"event_name": {"@path":
/// "$.event"}, ...}`), a subscription (`{"name", "trigger" | "subscribe", "enabled", "mapping" |
/// "settings"}`, as Segment's API and presets write them), an array of those, or an API answer
/// holding them (`{"data": {"subscriptions": [...]}}`). With `absent_unmapped` (Segment stores
/// complete mappings), a field the import leaves out is unmapped (`null`); otherwise it keeps
/// the preset. The answer: `{ok, problems, subscriptions: [{name, trigger, enabled, mapping,
/// unmapped, kept_preset, ignored}], notes}`, each `mapping` holding all seven fields.
pub fn import_mapping(text: &str, absent_unmapped: bool) -> Value {
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
