//! The bridge's configuration: LaunchDarkly destinations, subscriptions (trigger + Track Event
//! mapping) and the routing of Segment sources, validated as a whole: every problem is reported
//! at once, with its location.
//!
//! It comes from one JSON document (variable `BRIDGE_CONFIG`, or a file for the CLI; see
//! [`read_document`]) or, for the simple case of one environment, from the variables
//! `LD_CLIENT_SIDE_ID`, `LD_EVENTS_HOST` and `TRACK_EVENT_MAPPING`.

mod catalogue;
mod document;

pub use catalogue::{KeyCheck, MetricCatalogue, UnknownKeyPolicy};
pub use document::{read_document, PRESET_SUBSCRIPTION_NAME};

use crate::inbound::{verify_signature, SignatureError};
use crate::launchdarkly::EventsBase;
use crate::track_event::{TrackEventMapping, PRESET_TRIGGER};
use crate::trigger::Trigger;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;

/// The whole configuration document, as JSON text.
pub const VAR_BRIDGE_CONFIG: &str = "BRIDGE_CONFIG";
/// One environment's client-side ID (without `BRIDGE_CONFIG`).
pub const VAR_CLIENT_SIDE_ID: &str = "LD_CLIENT_SIDE_ID";
/// `us` (default), `eu`, `federal`, a base URL, or a host name (without `BRIDGE_CONFIG`).
pub const VAR_EVENTS_HOST: &str = "LD_EVENTS_HOST";
/// Track Event field overrides, as Segment's mapping JSON (without `BRIDGE_CONFIG`).
pub const VAR_TRACK_EVENT_MAPPING: &str = "TRACK_EVENT_MAPPING";
/// Every variable the configuration is read from.
pub const CONFIG_VARS: [&str; 6] = [
    VAR_BRIDGE_CONFIG,
    VAR_CLIENT_SIDE_ID,
    VAR_EVENTS_HOST,
    VAR_TRACK_EVENT_MAPPING,
    VAR_SHARED_SECRET,
    VAR_WRITE_KEY,
];

/// Simple configuration: the Segment webhook shared secret every `/segment` request must be
/// signed with (a Worker secret).
pub const VAR_SHARED_SECRET: &str = "SEGMENT_SHARED_SECRET";
/// Simple configuration: the write key Segment's HTTP Tracking API calls must carry.
pub const VAR_WRITE_KEY: &str = "SEGMENT_WRITE_KEY";

/// The source name used for the simple configuration's write key and shared secret.
pub const DEFAULT_SOURCE_NAME: &str = "default";

/// The destination name used when the configuration comes from the `LD_*` variables.
pub const DEFAULT_DESTINATION_NAME: &str = "default";

/// One problem in the configuration: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// The variable or document path at fault (`subscriptions[1].trigger`).
    pub location: String,
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

/// A LaunchDarkly environment that receives events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The name subscriptions and sources refer to.
    pub name: String,
    /// The environment's client-side ID (not a secret: browsers see it too).
    pub client_side_id: String,
    /// Where its events go.
    pub events_base: EventsBase,
    /// The known metric event keys, when the user listed them.
    pub catalogue: Option<MetricCatalogue>,
}

impl Destination {
    /// A destination named `default` from a client-side ID and an events host, both checked.
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
                name: DEFAULT_DESTINATION_NAME.to_string(),
                client_side_id: client_side_id.to_string(),
                events_base,
                catalogue: None,
            }),
            _ => Err(problems),
        }
    }

    /// The bulk events URL of this environment.
    pub fn bulk_url(&self) -> String {
        self.events_base.bulk_url(&self.client_side_id)
    }
}

/// Which events become LaunchDarkly events, how, and for which destinations.
#[derive(Debug)]
pub struct Subscription {
    /// Its name, shown in outcomes.
    pub name: String,
    /// Segment's trigger language, e.g. `type = "track"`.
    pub trigger: Trigger,
    /// The Track Event field mapping.
    pub mapping: TrackEventMapping,
    /// Disabled subscriptions match nothing.
    pub enabled: bool,
    /// Indexes into [`BridgeConfig::destinations`].
    pub destinations: Vec<usize>,
}

impl Subscription {
    /// Segment's Track Event preset: trigger `type = "track"`, named "Track Event". `None` only
    /// if the constant preset trigger failed to parse, which its tests rule out.
    pub fn preset(mapping: TrackEventMapping, destinations: Vec<usize>) -> Option<Subscription> {
        Some(Subscription {
            name: PRESET_SUBSCRIPTION_NAME.to_string(),
            trigger: Trigger::parse(PRESET_TRIGGER).ok()?,
            mapping,
            enabled: true,
            destinations,
        })
    }
}

/// A Segment source and the destinations its events go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Its name, shown in outcomes.
    pub name: String,
    /// Ids used in the URL `/segment/{source_id}` (for example one per Segment webhook).
    pub source_ids: Vec<String>,
    /// Segment write keys that identify it (secrets: never shown).
    pub write_keys: Vec<String>,
    /// Indexes into [`BridgeConfig::destinations`].
    pub destinations: Vec<usize>,
    /// Receives requests that name no source.
    pub default: bool,
    /// The name of the Worker secret holding the Segment webhook shared secret, when requests
    /// from this source must carry Segment's `X-Signature`.
    pub webhook_secret_name: Option<String>,
    /// That secret's value, once resolved (see [`BridgeConfig::from_vars`]).
    pub webhook_secret: Option<Secret>,
}

/// A secret value: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How a request names its Segment source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceHint<'a> {
    /// Nothing names it.
    None,
    /// `/segment/{source_id}`.
    SourceId(&'a str),
    /// A Segment write key (HTTP Basic auth or `writeKey`).
    WriteKey(&'a str),
}

/// What a webhook request carries to prove where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookCredentials<'a> {
    /// `/segment/{source_id}`, when the URL names the source.
    pub source_id: Option<&'a str>,
    /// The `X-Signature` header.
    pub signature: Option<&'a str>,
    /// The raw body (what Segment signed).
    pub body: &'a [u8],
}

/// Why a request's source could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingError {
    /// The HTTP status to answer.
    pub status: u16,
    /// A stable code.
    pub code: &'static str,
    /// For people (never contains a write key).
    pub message: String,
}

/// Where a request's events may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The source's name, when sources are configured.
    pub source: Option<String>,
    /// Indexes into [`BridgeConfig::destinations`].
    pub destinations: Vec<usize>,
}

/// Everything the bridge needs to process events.
#[derive(Debug)]
pub struct BridgeConfig {
    /// LaunchDarkly environments.
    pub destinations: Vec<Destination>,
    /// In order; every matching enabled one produces one LaunchDarkly event.
    pub subscriptions: Vec<Subscription>,
    /// Source routing; empty means every request may reach every destination.
    pub sources: Vec<Source>,
    /// Things that are allowed but probably wrong (a trigger that can never match, …).
    pub warnings: Vec<ConfigProblem>,
}

impl BridgeConfig {
    /// One destination and the preset Track Event subscription (with `mapping`'s overrides).
    pub fn single(destination: Destination, mapping: TrackEventMapping) -> BridgeConfig {
        BridgeConfig {
            destinations: vec![destination],
            subscriptions: Subscription::preset(mapping, vec![0]).into_iter().collect(),
            sources: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Reads the configuration from variables (`lookup(name)` gives a variable's value):
    /// `BRIDGE_CONFIG` when set, else the `LD_*` variables.
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<BridgeConfig, Vec<ConfigProblem>> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let Some(text) = set(VAR_BRIDGE_CONFIG) {
            let mut problems: Vec<ConfigProblem> = [
                VAR_CLIENT_SIDE_ID,
                VAR_EVENTS_HOST,
                VAR_TRACK_EVENT_MAPPING,
                VAR_SHARED_SECRET,
                VAR_WRITE_KEY,
            ]
                .iter()
                .filter(|name| set(name).is_some())
                .map(|name| {
                    problem(
                        name,
                        format!("is set together with {VAR_BRIDGE_CONFIG}; put it in the document's destinations and subscriptions instead"),
                    )
                })
                .collect();
            let document = serde_json::from_str::<Value>(&text)
                .map_err(|error| {
                    problems.push(problem(
                        VAR_BRIDGE_CONFIG,
                        format!("not valid JSON: {error}"),
                    ))
                })
                .ok();
            return match document.map(|document| read_document(&document)) {
                Some(Ok(mut config)) => {
                    config.resolve_secrets(&lookup, &mut problems);
                    if problems.is_empty() {
                        Ok(config)
                    } else {
                        Err(problems)
                    }
                }
                Some(Err(found)) => {
                    problems.extend(found.into_iter().map(|p| {
                        ConfigProblem {
                            location: format!("{VAR_BRIDGE_CONFIG}.{}", p.location)
                                .trim_end_matches('.')
                                .to_string(),
                            message: p.message,
                        }
                    }));
                    Err(problems)
                }
                _ => Err(problems),
            };
        }
        let mut problems = Vec::new();
        let client_side_id = lookup(VAR_CLIENT_SIDE_ID).unwrap_or_default();
        let events_host = lookup(VAR_EVENTS_HOST).unwrap_or_default();
        let destination = Destination::new(client_side_id.trim(), &events_host)
            .map_err(|found| problems.extend(found))
            .ok();
        let mapping = match set(VAR_TRACK_EVENT_MAPPING) {
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
            (Some(destination), Some(mapping)) if problems.is_empty() => {
                let mut config = Self::single(destination, mapping);
                let shared_secret = set(VAR_SHARED_SECRET);
                let write_key = set(VAR_WRITE_KEY);
                if shared_secret.is_some() || write_key.is_some() {
                    config.sources.push(Source {
                        name: DEFAULT_SOURCE_NAME.to_string(),
                        source_ids: Vec::new(),
                        write_keys: write_key.into_iter().collect(),
                        destinations: vec![0],
                        default: true,
                        webhook_secret_name: shared_secret
                            .as_ref()
                            .map(|_| VAR_SHARED_SECRET.to_string()),
                        webhook_secret: shared_secret.map(Secret::new),
                    });
                }
                Ok(config)
            }
            _ => Err(problems),
        }
    }

    /// Finds where a request's events may go, from how the request names its source.
    pub fn route(&self, hint: SourceHint<'_>) -> Result<Route, RoutingError> {
        let everywhere = || Route {
            source: None,
            destinations: (0..self.destinations.len()).collect(),
        };
        let found = |source: &Source| Route {
            source: Some(source.name.clone()),
            destinations: source.destinations.clone(),
        };
        match hint {
            SourceHint::None if self.sources.is_empty() => Ok(everywhere()),
            SourceHint::None => self.sources.iter().find(|s| s.default).map(found).ok_or_else(|| RoutingError {
                status: 400,
                code: "source_required",
                message: "this bridge routes by Segment source: post to /segment/{source_id} or send the source's write key".to_string(),
            }),
            SourceHint::SourceId(id) => self
                .sources
                .iter()
                .find(|s| s.source_ids.iter().any(|known| known == id))
                .map(found)
                .ok_or_else(|| RoutingError {
                    status: 404,
                    code: "unknown_source",
                    message: format!("no source has the id {id:?}"),
                }),
            SourceHint::WriteKey(key) => self
                .sources
                .iter()
                .find(|s| s.write_keys.iter().any(|known| known == key))
                .map(found)
                .ok_or_else(|| RoutingError {
                    status: 401,
                    code: "unknown_write_key",
                    message: "the write key is not one of this bridge's sources".to_string(),
                }),
        }
    }

    /// Finds where a webhook request's events may go and checks its signature: a source named
    /// in the URL, else the source whose shared secret signed the body, else the default source.
    pub fn route_webhook(
        &self,
        credentials: WebhookCredentials<'_>,
    ) -> Result<Route, RoutingError> {
        let refuse = |error: SignatureError| RoutingError {
            status: 401,
            code: error.code(),
            message: error.message().to_string(),
        };
        let check = |source: &Source| -> Result<(), RoutingError> {
            match &source.webhook_secret {
                Some(secret) => {
                    verify_signature(secret.expose(), credentials.body, credentials.signature)
                        .map_err(refuse)
                }
                None => Ok(()),
            }
        };
        if let Some(id) = credentials.source_id {
            let route = self.route(SourceHint::SourceId(id))?;
            if let Some(source) = self
                .sources
                .iter()
                .find(|s| s.source_ids.iter().any(|known| known == id))
            {
                check(source)?;
            }
            return Ok(route);
        }
        let signed: Vec<&Source> = self
            .sources
            .iter()
            .filter(|s| s.webhook_secret.is_some())
            .collect();
        if credentials.signature.is_some() && !signed.is_empty() {
            return signed
                .iter()
                .find(|source| check(source).is_ok())
                .map(|source| Route {
                    source: Some(source.name.clone()),
                    destinations: source.destinations.clone(),
                })
                .ok_or_else(|| refuse(SignatureError::Mismatch));
        }
        let route = self.route(SourceHint::None)?;
        if let Some(source) = self.sources.iter().find(|s| s.default) {
            check(source)?;
        }
        Ok(route)
    }

    /// Reads the Worker secrets the document names (`webhook_secret`) through `lookup`.
    fn resolve_secrets(
        &mut self,
        lookup: &impl Fn(&str) -> Option<String>,
        problems: &mut Vec<ConfigProblem>,
    ) {
        for (index, source) in self.sources.iter_mut().enumerate() {
            let Some(name) = &source.webhook_secret_name else {
                continue;
            };
            match lookup(name).filter(|value| !value.is_empty()) {
                Some(value) => source.webhook_secret = Some(Secret::new(value)),
                None => problems.push(problem(
                    &format!("{VAR_BRIDGE_CONFIG}.sources[{index}].webhook_secret"),
                    format!("the Worker secret {name:?} is not set: run `wrangler secret put {name}` (or add it to .dev.vars)"),
                )),
            }
        }
    }

    /// The names of the Worker secrets the configuration needs.
    pub fn secret_names(&self) -> Vec<&str> {
        self.sources
            .iter()
            .filter_map(|s| s.webhook_secret_name.as_deref())
            .collect()
    }

    /// A summary safe to show anyone (`/health`, logs): no write keys or other secrets.
    pub fn summary(&self) -> Value {
        let names = |indexes: &[usize]| -> Vec<&str> {
            indexes
                .iter()
                .filter_map(|i| self.destinations.get(*i))
                .map(|d| d.name.as_str())
                .collect()
        };
        json!({
            "destinations": self.destinations.iter().map(|d| json!({
                "name": d.name,
                "client_side_id": d.client_side_id,
                "events_host": d.events_base.region(),
                "bulk_url": d.bulk_url(),
                "metric_event_keys": d.catalogue.as_ref().map(|c| c.keys().len()),
            })).collect::<Vec<_>>(),
            "subscriptions": self.subscriptions.iter().map(|s| json!({
                "name": s.name,
                "trigger": s.trigger.source(),
                "enabled": s.enabled,
                "destinations": names(&s.destinations),
                "mapping": if s.mapping.customized_fields().is_empty() {
                    json!("preset")
                } else {
                    json!({"customized_fields": s.mapping.customized_fields()})
                },
            })).collect::<Vec<_>>(),
            "sources": self.sources.iter().map(|s| json!({
                "name": s.name,
                "source_ids": s.source_ids,
                "write_keys": s.write_keys.len(),
                "webhook_secret": s.webhook_secret_name,
                "default": s.default,
                "destinations": names(&s.destinations),
            })).collect::<Vec<_>>(),
            "warnings": self.warnings,
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
            config.destinations[0].bulk_url(),
            "https://events.launchdarkly.com/events/bulk/abc123"
        );
        assert_eq!(config.summary()["subscriptions"][0]["mapping"], "preset");
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
        assert_eq!(
            config.subscriptions[0].mapping.customized_fields(),
            ["context_kind"]
        );
        assert_eq!(config.summary()["destinations"][0]["events_host"], "eu");
        let unknown = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_TRACK_EVENT_MAPPING, r#"{"eventName":"x"}"#),
        ])
        .unwrap_err();
        assert!(unknown[0].message.contains("unknown Track Event field"));
    }
}
