//! What every Rust benchmark runs: the scenarios of `bench/fixtures/scenarios.json` turned into
//! the bridge's configuration (one subscription with the scenario's trigger and mapping), and
//! the work of one request (trigger, Track Event mapping, LaunchDarkly payload). Shared by
//! `benches/core.rs` (native) and `bench/wasm-core` (wasm), so both measure exactly the same
//! code path.

use segment_ld_bridge::config::BridgeConfig;
use segment_ld_bridge::inbound::{self, Limits};
use segment_ld_bridge::pipeline::{self, OutcomeStatus, Processed};
use serde_json::{Map, Value};

/// The benchmark scenarios and their event (also read by the JavaScript benchmarks).
pub const SCENARIOS_JSON: &str = include_str!("../../bench/fixtures/scenarios.json");

/// The scenarios, in the order they are reported.
pub const SCENARIOS: [&str; 2] = ["typical", "many_directives"];

/// One scenario, ready to run.
pub struct Bridge {
    /// One destination and one subscription: the scenario's trigger and mapping.
    config: BridgeConfig,
    received_at_ms: i64,
}

/// The parsed fixtures document.
pub fn fixtures() -> Result<Value, String> {
    serde_json::from_str(SCENARIOS_JSON).map_err(|error| format!("scenarios.json: {error}"))
}

/// Builds the bridge of one scenario. This is the only place that knows how the bridge is
/// configured: when the configuration changes shape, only this function changes.
pub fn bridge(fixtures: &Value, scenario: &str) -> Result<Bridge, String> {
    let spec = fixtures
        .pointer(&format!("/scenarios/{scenario}"))
        .ok_or_else(|| format!("unknown scenario {scenario:?}"))?;
    let client_side_id = fixtures["client_side_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // A configuration document, as a Worker with this subscription is configured: the
    // pipeline checks the scenario's trigger once per event, as Segment's JavaScript does.
    let mut subscription = serde_json::json!({
        "name": scenario,
        "trigger": spec["trigger"].as_str().unwrap_or_default(),
    });
    if !spec["mapping"].is_null() {
        subscription["mapping"] = spec["mapping"].clone();
    }
    let document = serde_json::json!({
        "destinations": [{"name": "default", "client_side_id": client_side_id, "events_host": "us"}],
        "subscriptions": [subscription],
        // Benchmarks measure the work on events, not authentication.
        "sources": [{"name": "bench", "allow_unsigned": true, "default": true}],
    })
    .to_string();
    let config =
        BridgeConfig::from_vars(|name| (name == "BRIDGE_CONFIG").then(|| document.clone()))
            .map_err(|problems| {
                format!("scenario {scenario:?}: configuration problems {problems:?}")
            })?;
    Ok(Bridge {
        config,
        received_at_ms: fixtures["received_at_ms"].as_i64().unwrap_or_default(),
    })
}

/// `n` copies of the fixtures' event, each with its own `messageId`, `userId` and
/// `anonymousId` (as the JavaScript benchmarks make them: bench/lib/scenarios.mjs).
pub fn batch(fixtures: &Value, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut event = fixtures["event"].clone();
            if let Some(fields) = event.as_object_mut() {
                suffix(fields, "messageId", i);
                suffix(fields, "userId", i);
                suffix(fields, "anonymousId", i);
            }
            event
        })
        .collect()
}

fn suffix(fields: &mut Map<String, Value>, key: &str, i: usize) {
    if let Some(Value::String(text)) = fields.get_mut(key) {
        text.push_str(&format!("-{i}"));
    }
}

impl Bridge {
    /// The work of one request: the pipeline (the trigger, the mapping, LaunchDarkly events,
    /// outcomes, the bulk request with its serialised body). Outcomes are decided as the
    /// Worker's default answer needs them: accepted events without warnings are counted, not
    /// described ([`pipeline::Options::brief`]).
    pub fn run(&self, events: &[Value]) -> Processed {
        pipeline::process(
            &self.config,
            &pipeline::every_destination(&self.config),
            pipeline::Events::Parsed(events),
            pipeline::Options::at(self.received_at_ms).brief(),
        )
    }

    /// The work of one request as it arrives: the body read as the Worker reads it (values
    /// only for the fields the configuration reads), then the pipeline.
    pub fn run_text(&self, text: &[u8]) -> Result<Processed, String> {
        let received = inbound::read_events(
            text,
            &Limits::SEGMENT,
            self.config.fields_read(),
            self.config.properties_read(),
        )
        .map_err(|error| error.to_string())?;
        Ok(pipeline::process(
            &self.config,
            &pipeline::every_destination(&self.config),
            pipeline::Events::Received(&received, &Limits::SEGMENT),
            pipeline::Options::at(self.received_at_ms).brief(),
        ))
    }

    /// Runs `events` once and checks that every event became a LaunchDarkly event in one
    /// payload; returns that payload's body (compared with Segment's by bench/report.mjs).
    pub fn checked_body(&self, events: &[Value]) -> Result<String, String> {
        let processed = self.run(events);
        let accepted = processed.count(OutcomeStatus::Accepted);
        match processed.payloads.as_slice() {
            [delivery] if accepted == events.len() => Ok(delivery.body.clone()),
            _ => Err(format!(
                "expected {} accepted events in one delivery, got {accepted} in {}: {:?}",
                events.len(),
                processed.payloads.len(),
                processed.outcomes.first()
            )),
        }
    }
}
