//! What every Rust benchmark runs: the scenarios of `bench/fixtures/scenarios.json` turned into
//! the bridge's configuration, and the work of one request (trigger, Track Event mapping,
//! LaunchDarkly payload). Shared by `benches/core.rs` (native) and `bench/wasm-core` (wasm), so
//! both measure exactly the same code path.

use segment_ld_bridge::config::BridgeConfig;
use segment_ld_bridge::inbound::{self, Limits};
use segment_ld_bridge::pipeline::{self, OutcomeStatus, Processed};
use segment_ld_bridge::segment::{FieldsRead, PropertiesRead};
use segment_ld_bridge::trigger::Trigger;
use serde_json::{Map, Value};

/// The benchmark scenarios and their event (also read by the JavaScript benchmarks).
pub const SCENARIOS_JSON: &str = include_str!("../../bench/fixtures/scenarios.json");

/// The scenarios, in the order they are reported.
pub const SCENARIOS: [&str; 2] = ["typical", "many_directives"];

/// One scenario, ready to run.
pub struct Bridge {
    config: BridgeConfig,
    /// The scenario's trigger. The pipeline of the variable configuration only knows the preset
    /// trigger (`type = "track"`), so a scenario's own trigger is checked here. When the
    /// configuration document (subscriptions with triggers) is used in [`bridge`], this goes.
    trigger: Trigger,
    /// The fields the configuration and the scenario's trigger read.
    fields: FieldsRead,
    /// How the configuration and the scenario's trigger read `properties`.
    properties: PropertiesRead,
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
    let mapping = match &spec["mapping"] {
        Value::Null => None,
        overrides => Some(overrides.to_string()),
    };
    let config = BridgeConfig::from_vars(|name| match name {
        "LD_CLIENT_SIDE_ID" => Some(client_side_id.clone()),
        "LD_EVENTS_HOST" => Some("us".to_string()),
        "TRACK_EVENT_MAPPING" => mapping.clone(),
        // Benchmarks measure the work on events, not authentication.
        "SEGMENT_ALLOW_UNSIGNED" => Some("true".to_string()),
        _ => None,
    })
    .map_err(|problems| format!("scenario {scenario:?}: configuration problems {problems:?}"))?;
    let trigger = Trigger::parse(spec["trigger"].as_str().unwrap_or_default())
        .map_err(|error| format!("scenario {scenario:?}: trigger: {error}"))?;
    let mut fields = config.fields_read().clone();
    fields.merge(&trigger.fields_read());
    let properties = match trigger.fields_read().contains("properties") {
        true => PropertiesRead::Built,
        false => config.properties_read().clone(),
    };
    Ok(Bridge {
        config,
        trigger,
        fields,
        properties,
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
    /// The work of one request: the trigger, then the pipeline (mapping, LaunchDarkly events,
    /// outcomes, the bulk request with its serialised body). Outcomes are decided as the
    /// Worker's default answer needs them: accepted events without warnings are counted, not
    /// described ([`pipeline::Options::brief`]).
    pub fn run(&self, events: &[Value]) -> Processed {
        match events.iter().position(|event| !self.trigger.matches(event)) {
            None => pipeline::process(
                &self.config,
                &pipeline::every_destination(&self.config),
                pipeline::Events::Parsed(events),
                pipeline::Options::at(self.received_at_ms).brief(),
            ),
            Some(miss) => {
                let mut kept = events[..miss].to_vec();
                kept.extend(
                    events[miss + 1..]
                        .iter()
                        .filter(|event| self.trigger.matches(*event))
                        .cloned(),
                );
                pipeline::process(
                    &self.config,
                    &pipeline::every_destination(&self.config),
                    pipeline::Events::Parsed(&kept),
                    pipeline::Options::at(self.received_at_ms).brief(),
                )
            }
        }
    }

    /// The work of one request as it arrives: the body read as the Worker reads it (values
    /// only for the fields the configuration and the trigger read), then [`Bridge::run`].
    pub fn run_text(&self, text: &[u8]) -> Result<Processed, String> {
        let read = |properties| {
            inbound::read_events(text, &Limits::SEGMENT, &self.fields, properties)
                .map_err(|error| error.to_string())
        };
        let received = read(&self.properties)?;
        if (0..received.len())
            .filter_map(|index| received.event(index))
            .all(|event| self.trigger.matches(event))
        {
            return Ok(pipeline::process(
                &self.config,
                &pipeline::every_destination(&self.config),
                pipeline::Events::Received(&received, &Limits::SEGMENT),
                pipeline::Options::at(self.received_at_ms).brief(),
            ));
        }
        // Events left out by the scenario's trigger: the others, with their values built.
        Ok(self.run(&read(&PropertiesRead::Built)?.into_values()))
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
