//! What every part of the adapter uses from the platform: the time, structured log lines, and
//! variables and secrets by name. Imports nothing else of the adapter.

use serde_json::Value;
use worker::{console_log, js_sys, Env};

/// A `[vars]` value or a secret, by name; an object var (a TOML table) as its JSON text.
pub fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|value| value.to_string())
        .or_else(|_| env.secret(name).map(|value| value.to_string()))
        .ok()
        .or_else(|| {
            env.object_var::<Value>(name)
                .ok()
                .map(|value| value.to_string())
        })
}

/// Unix milliseconds now: JavaScript's `Date.now()`, one call (`worker::Date::now` makes a
/// `Date` object and asks it the time: two).
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Writes one structured JSON log line, leaving out empty fields. Never given secrets.
pub fn log(mut line: Value) {
    if let Some(fields) = line.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    log_line(&line);
}

/// Writes one structured log line from a typed value, whose fields say themselves which are
/// left out. Never given secrets.
pub fn log_line(line: &impl serde::Serialize) {
    if let Ok(text) = serde_json::to_string(line) {
        console_log!("{text}");
    }
}
