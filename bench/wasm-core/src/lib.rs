//! The bridge's core in wasm, for `bench/wasm-core.mjs`: the same scenarios and per-request work
//! as the native benchmark (`benches/support/bridge.rs`, included below).

#[path = "../../../benches/support/bridge.rs"]
mod support;

use serde_json::Value;
use wasm_bindgen::prelude::*;

/// One scenario and one request of `batch` events, ready to run many times.
#[wasm_bindgen]
pub struct Bench {
    bridge: support::Bridge,
    events: Vec<Value>,
}

#[wasm_bindgen]
impl Bench {
    /// The scenario `scenario` of `bench/fixtures/scenarios.json`, with requests of `batch` events.
    #[wasm_bindgen(constructor)]
    pub fn new(scenario: &str, batch: usize) -> Result<Bench, JsError> {
        let fixtures = support::fixtures().map_err(|e| JsError::new(&e))?;
        let bridge = support::bridge(&fixtures, scenario).map_err(|e| JsError::new(&e))?;
        let events = support::batch(&fixtures, batch);
        bridge.checked_body(&events).map_err(|e| JsError::new(&e))?;
        Ok(Bench { bridge, events })
    }

    /// The LaunchDarkly body for the request (checked: every event accepted, one payload).
    pub fn body(&self) -> Result<String, JsError> {
        self.bridge
            .checked_body(&self.events)
            .map_err(|e| JsError::new(&e))
    }

    /// Runs the request (events already parsed in wasm memory) `iterations` times; returns the
    /// number of payloads made, so that the work is observable.
    pub fn run(&self, iterations: u32) -> u32 {
        let mut payloads = 0;
        for _ in 0..iterations {
            payloads += self.bridge.run(&self.events).payloads.len() as u32;
        }
        payloads
    }

    /// The Worker's path: a request body's bytes from JavaScript (copied in, as the Worker
    /// copies its body), read as the Worker reads it, run, and the LaunchDarkly body handed
    /// back to JavaScript.
    pub fn run_text(&self, body: &[u8]) -> Result<String, JsError> {
        let mut processed = self
            .bridge
            .run_text(body)
            .map_err(|e| JsError::new(&e))?;
        Ok(processed
            .payloads
            .pop()
            .map(|payload| payload.body)
            .unwrap_or_default())
    }

    /// The JSON text of the request's events (for `run_text`).
    pub fn events_json(&self) -> String {
        Value::Array(self.events.clone()).to_string()
    }
}

/// The scenario names, in report order.
#[wasm_bindgen]
pub fn scenarios() -> Vec<String> {
    support::SCENARIOS
        .iter()
        .map(|name| name.to_string())
        .collect()
}
