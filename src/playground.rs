//! The playground's browser bindings (`www/`): the very core the Worker runs, compiled for the
//! browser with wasm-bindgen (no Worker runtime). Bindings only: each function calls
//! [`crate::preview`] and converts its answer to a plain JavaScript object.
//!
//! No function throws or panics on bad input: every problem comes back as a value,
//! `{location, message}` (plus `line` and `column` for JSON syntax errors), where `location` is
//! the place in the configuration document (`subscriptions[0].mapping.user_key`), `event` (the
//! event editor) or `import`, so the page can show it next to what caused it.

use crate::preview;
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

/// The crate version, for the page footer.
#[wasm_bindgen]
pub fn version() -> String {
    preview::VERSION.to_string()
}

/// What the page needs to draw the configuration form: Segment's Track Event preset (fields,
/// trigger, subscription name), field labels and help, and where each field lands in
/// LaunchDarkly's event.
#[wasm_bindgen]
pub fn preset() -> JsValue {
    to_js(&preview::preset())
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
    to_js(&preview::run(
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
    to_js(&preview::import_mapping(text, absent_unmapped))
}

/// Parses JSON text as the core does, for the page's own editors: `{ok: true, value}`, or
/// `{ok: false, message, line, column}` (line and column from 1; absent for empty text).
#[wasm_bindgen]
pub fn parse_json(text: &str) -> JsValue {
    to_js(&preview::parse_json(text))
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
