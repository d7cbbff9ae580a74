//! The bridge's configuration, read from named variables (Worker `[vars]` and secrets, or the
//! environment of the CLI), validated as a whole: every problem is reported at once.

use crate::launchdarkly::EventsBase;
use crate::track_event::TrackEventMapping;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;

/// The LaunchDarkly client-side ID of the environment that receives the events.
pub const VAR_CLIENT_SIDE_ID: &str = "LD_CLIENT_SIDE_ID";
/// `us` (default), `eu`, `federal`, a base URL, or a host name.
pub const VAR_EVENTS_HOST: &str = "LD_EVENTS_HOST";
/// Optional Track Event field mapping (Segment's mapping JSON) laid over the preset.
pub const VAR_TRACK_EVENT_MAPPING: &str = "TRACK_EVENT_MAPPING";

/// One problem in the configuration: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// The variable (or document path) at fault.
    pub location: String,
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A LaunchDarkly environment that receives events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The environment's client-side ID (not a secret: browsers see it too).
    pub client_side_id: String,
    /// Where its events go.
    pub events_base: EventsBase,
}

impl Destination {
    /// Validates a client-side ID and an events host.
    pub fn new(client_side_id: &str, events_host: &str) -> Result<Destination, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        if let Err(message) = check_client_side_id(client_side_id) {
            problems.push(problem(VAR_CLIENT_SIDE_ID, message));
        }
        let events_base = EventsBase::parse(events_host)
            .map_err(|error| problems.push(problem(VAR_EVENTS_HOST, error.to_string())))
            .ok();
        match events_base {
            Some(events_base) if problems.is_empty() => Ok(Destination {
                client_side_id: client_side_id.to_string(),
                events_base,
            }),
            _ => Err(problems),
        }
    }

    /// The bulk events URL of this environment.
    pub fn bulk_url(&self) -> String {
        self.events_base.bulk_url(&self.client_side_id)
    }
}

/// Everything the bridge needs to process events.
#[derive(Debug)]
pub struct BridgeConfig {
    /// Where accepted events go.
    pub destination: Destination,
    /// The Track Event field mapping (the preset unless overridden).
    pub mapping: TrackEventMapping,
}

impl BridgeConfig {
    /// Reads the configuration from variables (`lookup(name)` returns a variable's value).
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<BridgeConfig, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let client_side_id = lookup(VAR_CLIENT_SIDE_ID).unwrap_or_default();
        let events_host = lookup(VAR_EVENTS_HOST).unwrap_or_default();
        let destination = Destination::new(client_side_id.trim(), &events_host)
            .map_err(|found| problems.extend(found))
            .ok();
        let mapping =
            match lookup(VAR_TRACK_EVENT_MAPPING).filter(|text| !text.trim().is_empty()) {
                None => TrackEventMapping::preset().map_err(|error| error.to_string()),
                Some(text) => serde_json::from_str::<Value>(&text)
                    .map_err(|error| format!("not valid JSON: {error}"))
                    .and_then(|value| {
                        TrackEventMapping::with_overrides(&value).map_err(|error| error.to_string())
                    }),
            }
            .map_err(|message| problems.push(problem(VAR_TRACK_EVENT_MAPPING, message)))
            .ok();
        match (destination, mapping) {
            (Some(destination), Some(mapping)) if problems.is_empty() => Ok(BridgeConfig {
                destination,
                mapping,
            }),
            _ => Err(problems),
        }
    }

    /// A summary safe to show anyone (`/health`, logs): no secrets.
    pub fn summary(&self) -> Value {
        json!({
            "destination": {
                "client_side_id": self.destination.client_side_id,
                "events_host": self.destination.events_base.region(),
                "bulk_url": self.destination.bulk_url(),
            },
            "track_event_mapping": if self.mapping.customized_fields().is_empty() {
                json!("preset")
            } else {
                json!({"customized_fields": self.mapping.customized_fields()})
            },
        })
    }
}

fn problem(location: &str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        location: location.to_string(),
        message: message.into(),
    }
}

/// Client-side IDs go into the URL path: letters, digits, `-`, `_` and `.` only.
fn check_client_side_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(
            "missing: set it to your LaunchDarkly environment's client-side ID (Account settings > Projects)".to_string(),
        );
    }
    if id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!(
            "{id:?} is not a client-side ID (letters, digits, '-', '_' and '.', at most 128)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<BridgeConfig, Vec<ConfigProblem>> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BridgeConfig::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_the_us_host_and_the_preset() {
        let config = read(&[(VAR_CLIENT_SIDE_ID, "abc123")]).unwrap();
        assert_eq!(
            config.destination.bulk_url(),
            "https://events.launchdarkly.com/events/bulk/abc123"
        );
        assert_eq!(config.summary()["track_event_mapping"], "preset");
    }

    #[test]
    fn reports_every_problem_at_once() {
        let problems = read(&[
            (VAR_CLIENT_SIDE_ID, "a/b"),
            (VAR_EVENTS_HOST, "ftp://x"),
            (VAR_TRACK_EVENT_MAPPING, "{"),
        ])
        .unwrap_err();
        let locations: Vec<_> = problems.iter().map(|p| p.location.as_str()).collect();
        assert_eq!(
            locations,
            [VAR_CLIENT_SIDE_ID, VAR_EVENTS_HOST, VAR_TRACK_EVENT_MAPPING]
        );
        let missing = read(&[]).unwrap_err();
        assert!(missing[0].message.contains("missing"));
    }

    #[test]
    fn reads_a_mapping_override() {
        let config = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_EVENTS_HOST, "eu"),
            (VAR_TRACK_EVENT_MAPPING, r#"{"context_kind":"account"}"#),
        ])
        .unwrap();
        assert_eq!(config.mapping.customized_fields(), ["context_kind"]);
        assert_eq!(config.summary()["destination"]["events_host"], "eu");
        let unknown = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_TRACK_EVENT_MAPPING, r#"{"eventName":"x"}"#),
        ])
        .unwrap_err();
        assert!(unknown[0].message.contains("unknown Track Event field"));
    }
}
