//! The bridge's configuration: LaunchDarkly destinations, subscriptions (trigger + Track Event
//! mapping) and the routing of Segment sources, validated as a whole: every problem is reported
//! at once, with its location.
//!
//! It comes from one JSON document (variable `BRIDGE_CONFIG`, or a file for the CLI; see
//! [`read_document`]) or, for the simple case of one environment, from the variables
//! `LD_CLIENT_SIDE_ID`, `LD_EVENTS_HOST` and `TRACK_EVENT_MAPPING`.

mod catalogue;
mod document;
pub mod refreshed;

pub use catalogue::{
    CatalogueSource, Judgement, KeyCheck, MetricCatalogue, MetricDefinition, UnknownKeyPolicy,
    Verdicts,
};
pub use document::{read_document, PRESET_SUBSCRIPTION_NAME};

use crate::envelope::{DestinationRules, SubscriptionRules};
use crate::launchdarkly::EventsBase;
use crate::segment::{FieldsRead, PropertiesRead};
use crate::track_event::{TimestampWindow, TrackEventMapping, PRESET_TRIGGER};
use crate::trigger::Trigger;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;
use std::sync::OnceLock;

/// The whole configuration document, as JSON text.
pub const VAR_BRIDGE_CONFIG: &str = "BRIDGE_CONFIG";
/// One environment's client-side ID (without `BRIDGE_CONFIG`).
pub const VAR_CLIENT_SIDE_ID: &str = "LD_CLIENT_SIDE_ID";
/// `us` (default), `eu`, `federal`, a base URL, or a host name (without `BRIDGE_CONFIG`).
pub const VAR_EVENTS_HOST: &str = "LD_EVENTS_HOST";
/// Track Event field overrides, as Segment's mapping JSON (without `BRIDGE_CONFIG`).
pub const VAR_TRACK_EVENT_MAPPING: &str = "TRACK_EVENT_MAPPING";
/// The variables the destinations, subscriptions and sources are read from, `BRIDGE_CONFIG`
/// first (the others may not be set with it). The timestamp window's variables,
/// [`VAR_TIMESTAMP_EARLIEST`] and [`VAR_TIMESTAMP_MAX_FUTURE_SECONDS`], are not among them:
/// they apply with `BRIDGE_CONFIG` too.
pub const CONFIG_VARS: [&str; 8] = [
    VAR_BRIDGE_CONFIG,
    VAR_CLIENT_SIDE_ID,
    VAR_EVENTS_HOST,
    VAR_TRACK_EVENT_MAPPING,
    VAR_SHARED_SECRET,
    VAR_WRITE_KEY,
    VAR_ALLOW_UNSIGNED,
    VAR_ACCEPT_BATCHED_WEBHOOKS,
];

/// Simple configuration: `"true"` accepts unsigned `/segment` webhooks (local development; the
/// name says what it opens).
pub const VAR_ALLOW_UNSIGNED: &str = "SEGMENT_ALLOW_UNSIGNED";
/// Simple configuration: `"true"` accepts batched webhooks signed with the shared secret, whose
/// signature covers only their first event.
pub const VAR_ACCEPT_BATCHED_WEBHOOKS: &str = "SEGMENT_ACCEPT_BATCHED_WEBHOOKS";

/// Simple configuration: the Segment webhook shared secret every `/segment` request must be
/// signed with (a Worker secret).
pub const VAR_SHARED_SECRET: &str = "SEGMENT_SHARED_SECRET";
/// Simple configuration: the write key Segment's HTTP Tracking API calls must carry.
pub const VAR_WRITE_KEY: &str = "SEGMENT_WRITE_KEY";

/// The source name used for the simple configuration's write key and shared secret.
pub const DEFAULT_SOURCE_NAME: &str = "default";

/// The destination name used when the configuration comes from the `LD_*` variables.
pub const DEFAULT_DESTINATION_NAME: &str = "default";

/// One problem in the configuration: where it is and what is wrong. Shown as
/// `{location}: {message}`, or the message alone when the location is empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{location}{}{message}", location_separator(.location))]
pub struct ConfigProblem {
    /// The variable or document path at fault (`subscriptions[1].trigger`, `source "web"` for
    /// a warning about a source), or empty for the document as a whole.
    pub location: String,
    /// What is wrong, for people.
    pub message: String,
}

/// What separates a problem's location from its message: nothing after no location.
fn location_separator(location: &str) -> &'static str {
    if location.is_empty() {
        ""
    } else {
        ": "
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
    /// Its Segment envelope settings: integration names and consent.
    pub envelope: DestinationRules,
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
                envelope: DestinationRules::default(),
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
    /// Its Segment envelope settings: property filters and sampling.
    pub envelope: SubscriptionRules,
}

impl Subscription {
    /// Segment's Track Event preset with `mapping`: trigger `type = "track"`, named
    /// "Track Event", enabled.
    pub fn preset(mapping: TrackEventMapping, destinations: Vec<usize>) -> Subscription {
        #[expect(
            clippy::expect_used,
            reason = "PRESET_TRIGGER is a constant that parses: `the_preset_subscription_always_builds` proves it"
        )]
        let trigger = Trigger::parse(PRESET_TRIGGER).expect("the preset trigger parses");
        Subscription {
            name: PRESET_SUBSCRIPTION_NAME.to_string(),
            trigger,
            mapping,
            enabled: true,
            destinations,
            envelope: SubscriptionRules::default(),
        }
    }

    /// [`Subscription::preset`] with Segment's preset mapping, unchanged.
    pub fn track_event_preset(destinations: Vec<usize>) -> Subscription {
        #[expect(
            clippy::expect_used,
            reason = "the preset mapping is constant and valid: `the_preset_subscription_always_builds` proves it"
        )]
        let mapping = TrackEventMapping::preset().expect("the preset mapping is valid");
        Subscription::preset(mapping, destinations)
    }
}

/// A Segment source and the destinations its events go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentSource {
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
    /// Accepts webhooks without a signature (`"allow_unsigned": true`): anyone who knows the
    /// URL can send its events.
    pub allow_unsigned: bool,
    /// Accepts batched webhooks (a JSON array of several events), whose signature covers only
    /// the first event (`"accept_batched_webhooks": true`).
    pub accept_batched_webhooks: bool,
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

/// Why a request's source could not be resolved. Shown as its message; the API layer chooses
/// the HTTP status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RoutingError {
    /// What went wrong, as a stable code.
    pub code: RoutingCode,
    /// For people (never contains a write key).
    pub message: String,
}

/// The stable code of a [`RoutingError`], written in snake case (`unknown_source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingCode {
    /// Nothing names the source and no source is the default (400).
    SourceRequired,
    /// No source has the id in the URL (404).
    UnknownSource,
    /// No source has the write key (401).
    UnknownWriteKey,
}

impl RoutingCode {
    /// The code as written: `source_required`, `unknown_source` or `unknown_write_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingCode::SourceRequired => "source_required",
            RoutingCode::UnknownSource => "unknown_source",
            RoutingCode::UnknownWriteKey => "unknown_write_key",
        }
    }
}

impl fmt::Display for RoutingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a request's events may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRoute {
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
    pub sources: Vec<SegmentSource>,
    /// Things that are allowed but probably wrong (a trigger that can never match, …).
    pub warnings: Vec<ConfigProblem>,
    /// The top-level event fields the subscriptions read, worked out on first use
    /// ([`BridgeConfig::fields_read`]).
    pub fields_read: OnceLock<FieldsRead>,
    /// How the subscriptions read `properties`, worked out on first use
    /// ([`BridgeConfig::properties_read`]).
    pub properties_read: OnceLock<PropertiesRead>,
}

impl BridgeConfig {
    /// The top-level event fields the pipeline, the destinations' envelope checks, and the
    /// triggers and mappings of every subscription read: events are parsed into values for these fields only. Worked out on
    /// first use; the configuration does not change afterwards.
    pub fn fields_read(&self) -> &FieldsRead {
        self.fields_read.get_or_init(|| {
            let mut read = FieldsRead::pipeline();
            // The Segment envelope: `integrations` addresses destinations, and consent lives
            // in `context`.
            for destination in &self.destinations {
                if !destination.envelope.integration_names.is_empty() {
                    read.add("integrations");
                }
                if destination.envelope.checks_consent() {
                    if let Some((field, path)) = crate::envelope::CONSENT_PATH.split_first() {
                        read.add_path(field, path);
                    }
                }
            }
            for subscription in &self.subscriptions {
                read.merge(&subscription.trigger.fields_read());
                read.merge(subscription.mapping.fields_read());
            }
            read
        })
    }

    /// How events' `properties` are read: [`PropertiesRead::Copied`] when every subscription's
    /// mapping copies them whole into LaunchDarkly's `data` and otherwise only looks up their
    /// members, and no trigger reads them; else built like any other field.
    pub fn properties_read(&self) -> &PropertiesRead {
        self.properties_read.get_or_init(|| {
            let mut read = PropertiesRead::Copied(Vec::new());
            for subscription in &self.subscriptions {
                if subscription.trigger.fields_read().contains("properties") {
                    read = PropertiesRead::Built;
                }
                read.merge(&subscription.mapping.properties_read());
            }
            read
        })
    }

    /// One destination and the preset Track Event subscription (with `mapping`'s overrides).
    pub fn single(destination: Destination, mapping: TrackEventMapping) -> BridgeConfig {
        BridgeConfig {
            destinations: vec![destination],
            subscriptions: vec![Subscription::preset(mapping, vec![0])],
            sources: Vec::new(),
            warnings: Vec::new(),
            fields_read: OnceLock::new(),
            properties_read: OnceLock::new(),
        }
    }

    /// Reads the configuration from variables (`lookup(name)` gives a variable's value):
    /// `BRIDGE_CONFIG` when set (and then any other variable of [`CONFIG_VARS`] is a problem),
    /// else the `LD_*`, `TRACK_EVENT_MAPPING` and `SEGMENT_*` variables; either way the
    /// timestamp window from `TIMESTAMP_EARLIEST` and `TIMESTAMP_MAX_FUTURE_SECONDS`. `Err`
    /// lists every problem found.
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<BridgeConfig, Vec<ConfigProblem>> {
        let window = timestamp_window(&lookup);
        match (Self::from_config_vars(&lookup), window) {
            (Ok(mut config), Ok(window)) => {
                for subscription in &mut config.subscriptions {
                    subscription.mapping.set_timestamp_window(window);
                }
                Ok(config)
            }
            (config, window) => Err(config
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(window.err())
                .collect()),
        }
    }

    /// [`BridgeConfig::from_vars`] but for the timestamp window.
    fn from_config_vars(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<BridgeConfig, Vec<ConfigProblem>> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let Some(text) = set(VAR_BRIDGE_CONFIG) {
            let mut problems: Vec<ConfigProblem> = CONFIG_VARS[1..]
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
                    config.resolve_secrets(lookup, &mut problems);
                    problems.extend(config.authentication_problem());
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
        let shared_secret = set(VAR_SHARED_SECRET);
        let write_key = set(VAR_WRITE_KEY);
        let flag = |name: &str| set(name).is_some_and(|value| value.trim() == "true");
        let source = SegmentSource {
            name: DEFAULT_SOURCE_NAME.to_string(),
            source_ids: Vec::new(),
            write_keys: write_key.into_iter().collect(),
            destinations: vec![0],
            default: true,
            // A shared secret closes /segment whatever SEGMENT_ALLOW_UNSIGNED says.
            allow_unsigned: flag(VAR_ALLOW_UNSIGNED) && shared_secret.is_none(),
            accept_batched_webhooks: flag(VAR_ACCEPT_BATCHED_WEBHOOKS) && shared_secret.is_some(),
            webhook_secret_name: shared_secret
                .as_ref()
                .map(|_| VAR_SHARED_SECRET.to_string()),
            webhook_secret: shared_secret.map(Secret::new),
        };
        match (destination, mapping) {
            (Some(destination), Some(mapping)) if problems.is_empty() => {
                let mut config = Self::single(destination, mapping);
                config.sources.push(source);
                config.warn_about_open_routes();
                match config.authentication_problem() {
                    Some(problem) => Err(vec![problem]),
                    None => Ok(config),
                }
            }
            _ => {
                let unauthenticated = BridgeConfig {
                    destinations: Vec::new(),
                    subscriptions: Vec::new(),
                    sources: vec![source],
                    warnings: Vec::new(),
                    fields_read: OnceLock::new(),
                    properties_read: OnceLock::new(),
                };
                problems.extend(unauthenticated.authentication_problem());
                Err(problems)
            }
        }
    }

    /// Finds where a request's events may go, from how the request names its source.
    pub fn route(&self, hint: SourceHint<'_>) -> Result<SourceRoute, RoutingError> {
        let everywhere = || SourceRoute {
            source: None,
            destinations: (0..self.destinations.len()).collect(),
        };
        let found = |source: &SegmentSource| SourceRoute {
            source: Some(source.name.clone()),
            destinations: source.destinations.clone(),
        };
        match hint {
            SourceHint::None if self.sources.is_empty() => Ok(everywhere()),
            SourceHint::None => self.sources.iter().find(|s| s.default).map(found).ok_or_else(|| RoutingError {
                code: RoutingCode::SourceRequired,
                message: "this bridge routes by Segment source: post to /segment/{source_id} or send the source's write key".to_string(),
            }),
            SourceHint::SourceId(id) => self
                .sources
                .iter()
                .find(|s| s.source_ids.iter().any(|known| known == id))
                .map(found)
                .ok_or_else(|| RoutingError {
                    code: RoutingCode::UnknownSource,
                    message: format!("no source has the id {id:?}"),
                }),
            SourceHint::WriteKey(key) => self
                .sources
                .iter()
                .find(|s| s.write_keys.iter().any(|known| known == key))
                .map(found)
                .ok_or_else(|| RoutingError {
                    code: RoutingCode::UnknownWriteKey,
                    message: "the write key is not one of this bridge's sources".to_string(),
                }),
        }
    }

    /// The destination named `name`.
    pub fn destination(&self, name: &str) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.name == name)
    }

    /// The source whose `source_ids` include `id`.
    pub fn source_with_id(&self, id: &str) -> Option<&SegmentSource> {
        self.sources
            .iter()
            .find(|s| s.source_ids.iter().any(|known| known == id))
    }

    /// The source that receives requests naming none.
    pub fn default_source(&self) -> Option<&SegmentSource> {
        self.sources.iter().find(|s| s.default)
    }

    /// Where `source`'s events may go.
    pub fn route_of(source: &SegmentSource) -> SourceRoute {
        SourceRoute {
            source: Some(source.name.clone()),
            destinations: source.destinations.clone(),
        }
    }

    /// The problem when nothing can authenticate events: no source has a webhook secret or a
    /// write key, and none accepts unsigned webhooks. The Worker then refuses every event.
    pub fn authentication_problem(&self) -> Option<ConfigProblem> {
        let authenticates = self.sources.iter().any(|s| {
            s.webhook_secret_name.is_some() || !s.write_keys.is_empty() || s.allow_unsigned
        });
        (!authenticates).then(|| {
            problem(
                "sources",
                format!("nothing authenticates events, so the bridge refuses them all: set {VAR_SHARED_SECRET} (Segment webhooks) or {VAR_WRITE_KEY} (Segment's libraries), or {VAR_ALLOW_UNSIGNED} = \"true\" for local development; in {VAR_BRIDGE_CONFIG}, give a source a webhook_secret, write_keys or \"allow_unsigned\": true"),
            )
        })
    }

    /// Adds a warning for every route that accepts events anyone can send (unsigned webhooks)
    /// or that a signature covers only in part (batched webhooks).
    pub(crate) fn warn_about_open_routes(&mut self) {
        for source in &self.sources {
            let mut paths: Vec<String> = source
                .source_ids
                .iter()
                .map(|id| format!("/segment/{id}"))
                .collect();
            if source.default {
                paths.insert(0, "/segment".to_string());
            }
            if source.allow_unsigned && !paths.is_empty() {
                self.warnings.push(problem(
                    &format!("source {:?}", source.name),
                    format!("{} accept(s) unsigned events (allow_unsigned): anyone who can reach the Worker can send them; use it for local development only, or set a webhook_secret", paths.join(", ")),
                ));
            }
            if source.accept_batched_webhooks {
                self.warnings.push(problem(
                    &format!("source {:?}", source.name),
                    "accepts batched webhooks (accept_batched_webhooks): Segment signs only their first event, so the others are not authenticated; turn batching off in Segment's webhook destination instead",
                ));
            }
        }
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
                "metrics": d.catalogue.as_ref().map(|c| c.metrics().len()),
                "catalogue_source": d.catalogue.as_ref().and_then(|c| c.source()),
                "integration_names": d.envelope.integration_names,
                "required_consent": d.envelope.required_consent,
                "without_consent": d.envelope.without_consent,
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
                "allow_properties": s.envelope.filter.as_ref().and_then(|f| f.allow()).map(|paths| paths.iter().map(|p| p.as_str()).collect::<Vec<_>>()),
                "deny_properties": s.envelope.filter.as_ref().map(|f| f.deny().iter().map(|p| p.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
                "sample_rate": s.envelope.sampling.as_ref().map(|s| s.rate),
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

/// The earliest event timestamp accepted as a `creationDate`, ISO 8601 (default 2000-01-01).
pub const VAR_TIMESTAMP_EARLIEST: &str = "TIMESTAMP_EARLIEST";
/// How many seconds after its receipt an event's timestamp may lie (default 86400, one day).
pub const VAR_TIMESTAMP_MAX_FUTURE_SECONDS: &str = "TIMESTAMP_MAX_FUTURE_SECONDS";

/// The window of accepted event timestamps, from [`VAR_TIMESTAMP_EARLIEST`] and
/// [`VAR_TIMESTAMP_MAX_FUTURE_SECONDS`] (both optional; they apply to every subscription).
fn timestamp_window(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<TimestampWindow, ConfigProblem> {
    let mut window = TimestampWindow::DEFAULT;
    let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    if let Some(text) = set(VAR_TIMESTAMP_EARLIEST) {
        window.earliest_ms =
            crate::timestamp::parse_iso8601_millis(text.trim()).ok_or_else(|| {
                problem(
                    VAR_TIMESTAMP_EARLIEST,
                    format!(
                        "{:?} is not an ISO 8601 date-time (e.g. 2000-01-01T00:00:00Z)",
                        text.trim()
                    ),
                )
            })?;
    }
    if let Some(text) = set(VAR_TIMESTAMP_MAX_FUTURE_SECONDS) {
        let seconds: u32 = text.trim().parse().map_err(|_| {
            problem(
                VAR_TIMESTAMP_MAX_FUTURE_SECONDS,
                format!(
                    "{:?} is not a whole number of seconds from 0 to 4294967295",
                    text.trim()
                ),
            )
        })?;
        window.max_future_ms = i64::from(seconds) * 1000;
    }
    Ok(window)
}

/// Whether `name` can name a Worker secret: upper-case letters, digits and `_`, starting with a
/// letter, at most 128. A value that is not one may be the secret itself, so it is never echoed.
pub(crate) fn is_secret_name(name: &str) -> bool {
    name.len() <= 128
        && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Prefixes of LaunchDarkly's secret keys: server-side SDK keys, API access tokens, mobile keys.
const SECRET_KEY_PREFIXES: [(&str, &str); 3] = [
    ("sdk-", "a server-side SDK key"),
    ("api-", "an API access token"),
    ("mob-", "a mobile key"),
];

/// Client-side IDs go into the URL path: letters, digits, `-`, `_` and `.` only, and never one
/// of LaunchDarkly's secret keys. The value is never repeated: it may be a secret.
fn check_client_side_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(
            "missing: set it to your LaunchDarkly environment's client-side ID (Account settings > Projects)".to_string(),
        );
    }
    if let Some((_, what)) = SECRET_KEY_PREFIXES.iter().find(|(prefix, _)| {
        id.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    }) {
        return Err(format!(
            "this is {what}, a secret, not a client-side ID: use the environment's client-side ID (Account settings > Projects), and rotate the key you pasted since it is now in your configuration"
        ));
    }
    if id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(
            "is not a client-side ID (letters, digits, '-', '_' and '.', at most 128)".to_string(),
        );
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
    fn the_preset_subscription_always_builds() {
        // The invariant behind the `expect`s of `Subscription::preset` and
        // `Subscription::track_event_preset`: their inputs are constants, and they parse.
        assert_eq!(
            Trigger::parse(PRESET_TRIGGER).map(|t| t.source().to_string()),
            Ok(PRESET_TRIGGER.to_string())
        );
        assert!(TrackEventMapping::preset().is_ok());
        let preset = Subscription::track_event_preset(vec![1, 0]);
        assert_eq!(preset.name, PRESET_SUBSCRIPTION_NAME);
        assert_eq!(preset.trigger.source(), PRESET_TRIGGER);
        assert!(preset.enabled);
        assert_eq!(preset.destinations, [1, 0]);
        assert!(preset.mapping.customized_fields().is_empty());
        let config = BridgeConfig::single(
            Destination::new("abc", "").unwrap(),
            TrackEventMapping::preset().unwrap(),
        );
        assert_eq!(config.subscriptions.len(), 1);
        assert_eq!(config.subscriptions[0].destinations, [0]);
    }

    #[test]
    fn problems_show_their_location_unless_it_is_empty() {
        assert_eq!(
            problem("subscriptions[1].trigger", "is wrong").to_string(),
            "subscriptions[1].trigger: is wrong"
        );
        assert_eq!(
            problem("", "must be an object").to_string(),
            "must be an object"
        );
    }

    #[test]
    fn routing_codes_are_written_in_snake_case() {
        for (code, text) in [
            (RoutingCode::SourceRequired, "source_required"),
            (RoutingCode::UnknownSource, "unknown_source"),
            (RoutingCode::UnknownWriteKey, "unknown_write_key"),
        ] {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
        }
        let config = read(&[(VAR_CLIENT_SIDE_ID, "abc"), (VAR_WRITE_KEY, "wk")]).unwrap();
        let error = config.route(SourceHint::WriteKey("other")).unwrap_err();
        assert_eq!(error.code, RoutingCode::UnknownWriteKey);
        assert_eq!(error.to_string(), error.message);
        let error = config.route(SourceHint::SourceId("web")).unwrap_err();
        assert_eq!(error.code, RoutingCode::UnknownSource);
        let mut closed = config;
        closed.sources[0].default = false;
        let error = closed.route(SourceHint::None).unwrap_err();
        assert_eq!(error.code, RoutingCode::SourceRequired);
    }

    #[test]
    fn defaults_to_the_us_host_and_the_preset() {
        let config = read(&[(VAR_CLIENT_SIDE_ID, "abc123"), (VAR_WRITE_KEY, "wk")]).unwrap();
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
            [
                VAR_CLIENT_SIDE_ID,
                VAR_EVENTS_HOST,
                VAR_TRACK_EVENT_MAPPING,
                "sources"
            ]
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
            (VAR_SHARED_SECRET, "s3cret"),
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

    #[test]
    fn closed_by_default_and_opened_only_by_a_setting_that_says_so() {
        // Nothing authenticates: a configuration error, not an open bridge.
        let problems = read(&[(VAR_CLIENT_SIDE_ID, "abc")]).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].location, "sources");
        assert!(problems[0].message.contains(VAR_ALLOW_UNSIGNED));
        // A write key authenticates the Tracking API but never opens /segment.
        let config = read(&[(VAR_CLIENT_SIDE_ID, "abc"), (VAR_WRITE_KEY, "wk")]).unwrap();
        let source = config.default_source().unwrap();
        assert!(!source.allow_unsigned);
        assert_eq!(source.write_keys, ["wk"]);
        assert!(config.warnings.is_empty());
        // The explicit setting opens it, and says so in a warning.
        for value in ["true", " true "] {
            let config = read(&[(VAR_CLIENT_SIDE_ID, "abc"), (VAR_ALLOW_UNSIGNED, value)]).unwrap();
            assert!(config.default_source().unwrap().allow_unsigned);
            assert_eq!(config.warnings.len(), 1);
            assert!(config.warnings[0].message.contains("unsigned"));
        }
        for value in ["false", "1", "yes", "TRUE"] {
            assert!(read(&[(VAR_CLIENT_SIDE_ID, "abc"), (VAR_ALLOW_UNSIGNED, value)]).is_err());
        }
        // A shared secret closes it whatever the flag says.
        let config = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_ALLOW_UNSIGNED, "true"),
            (VAR_SHARED_SECRET, "s"),
        ])
        .unwrap();
        let source = config.default_source().unwrap();
        assert!(!source.allow_unsigned);
        assert!(!source.accept_batched_webhooks);
        assert_eq!(source.webhook_secret, Some(Secret::new("s")));
        // Batched webhooks are accepted only when asked, and only with a secret.
        let config = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_SHARED_SECRET, "s"),
            (VAR_ACCEPT_BATCHED_WEBHOOKS, "true"),
        ])
        .unwrap();
        assert!(config.default_source().unwrap().accept_batched_webhooks);
        assert_eq!(config.warnings.len(), 1);
        let config = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_WRITE_KEY, "wk"),
            (VAR_ACCEPT_BATCHED_WEBHOOKS, "true"),
        ])
        .unwrap();
        assert!(!config.default_source().unwrap().accept_batched_webhooks);
    }

    #[test]
    fn secret_keys_are_refused_as_client_side_ids_without_being_repeated() {
        for (key, what) in [
            ("sdk-1234abcd-5678", "server-side SDK key"),
            ("SDK-1234abcd", "server-side SDK key"),
            ("api-0000ffff", "API access token"),
            ("mob-77aa", "mobile key"),
        ] {
            let problems = read(&[(VAR_CLIENT_SIDE_ID, key), (VAR_WRITE_KEY, "wk")]).unwrap_err();
            assert_eq!(problems[0].location, VAR_CLIENT_SIDE_ID);
            assert!(problems[0].message.contains(what), "{problems:?}");
            assert!(!problems[0].to_string().contains(&key[4..]), "{problems:?}");
        }
        // Neither is an invalid one repeated.
        let problems =
            read(&[(VAR_CLIENT_SIDE_ID, "secret value!"), (VAR_WRITE_KEY, "wk")]).unwrap_err();
        assert!(!problems[0].message.contains("secret value"));
        // At most 128 characters.
        let longest = "a".repeat(128);
        assert!(read(&[(VAR_CLIENT_SIDE_ID, &longest), (VAR_WRITE_KEY, "wk")]).is_ok());
        let longer = "a".repeat(129);
        assert!(read(&[(VAR_CLIENT_SIDE_ID, &longer), (VAR_WRITE_KEY, "wk")]).is_err());
        // Look-alikes that are not those prefixes are client-side IDs.
        for id in ["sdk", "sdkx-1", "apis-1", "5f0c1a2b3c4d5e6f7a8b9c0d", "mob"] {
            assert!(
                read(&[(VAR_CLIENT_SIDE_ID, id), (VAR_WRITE_KEY, "wk")]).is_ok(),
                "{id}"
            );
        }
    }

    #[test]
    fn secret_names_are_upper_case_variable_names() {
        for name in ["SEGMENT_SECRET", "A", "WEB_1", &"A".repeat(128)] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "",
            "_A",
            "1A",
            "a",
            "web_secret",
            "A-B",
            "A B",
            &"A".repeat(129),
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn authentication_needs_a_secret_a_write_key_or_allow_unsigned() {
        let source = |secret: bool, keys: bool, unsigned: bool| SegmentSource {
            name: "s".into(),
            source_ids: vec!["s".into()],
            write_keys: if keys { vec!["wk".into()] } else { Vec::new() },
            destinations: vec![0],
            default: false,
            allow_unsigned: unsigned,
            accept_batched_webhooks: false,
            webhook_secret_name: secret.then(|| "S".into()),
            webhook_secret: None,
        };
        let config = |sources: Vec<SegmentSource>| BridgeConfig {
            destinations: Vec::new(),
            subscriptions: Vec::new(),
            sources,
            warnings: Vec::new(),
            fields_read: OnceLock::new(),
            properties_read: OnceLock::new(),
        };
        assert!(config(Vec::new()).authentication_problem().is_some());
        assert!(config(vec![source(false, false, false)])
            .authentication_problem()
            .is_some());
        for (secret, keys, unsigned) in [
            (true, false, false),
            (false, true, false),
            (false, false, true),
        ] {
            assert!(config(vec![
                source(false, false, false),
                source(secret, keys, unsigned)
            ])
            .authentication_problem()
            .is_none());
        }
    }

    #[test]
    fn the_timestamp_window_comes_from_two_variables() {
        let config = read(&[(VAR_CLIENT_SIDE_ID, "abc"), (VAR_WRITE_KEY, "wk")]).unwrap();
        assert_eq!(
            config.subscriptions[0].mapping.timestamp_window(),
            TimestampWindow::DEFAULT
        );
        let config = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_WRITE_KEY, "wk"),
            (VAR_TIMESTAMP_EARLIEST, "2020-01-01T00:00:00Z"),
            (VAR_TIMESTAMP_MAX_FUTURE_SECONDS, "60"),
        ])
        .unwrap();
        assert_eq!(
            config.subscriptions[0].mapping.timestamp_window(),
            TimestampWindow {
                earliest_ms: 1_577_836_800_000,
                max_future_ms: 60_000
            }
        );
        let problems = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_TIMESTAMP_EARLIEST, "yesterday"),
        ])
        .unwrap_err();
        let locations: Vec<&str> = problems.iter().map(|p| p.location.as_str()).collect();
        assert_eq!(locations, ["sources", VAR_TIMESTAMP_EARLIEST]);
        let problems = read(&[
            (VAR_CLIENT_SIDE_ID, "abc"),
            (VAR_WRITE_KEY, "wk"),
            (VAR_TIMESTAMP_MAX_FUTURE_SECONDS, "-1"),
        ])
        .unwrap_err();
        assert_eq!(problems[0].location, VAR_TIMESTAMP_MAX_FUTURE_SECONDS);
    }

    #[test]
    fn secrets_are_never_printed() {
        let secret = Secret::new("s3cr3t-value");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.expose(), b"s3cr3t-value");
    }

    #[test]
    fn the_secret_names_a_configuration_needs() {
        let document = serde_json::json!({
            "destinations": [{"name": "d", "client_side_id": "c"}],
            "sources": [
                {"name": "a", "webhook_secret": "A_SECRET"},
                {"name": "b", "write_keys": ["wk"]},
                {"name": "c", "source_ids": ["c"], "webhook_secret": "C_SECRET"}
            ]
        });
        let config = read_document(&document).unwrap();
        assert_eq!(config.secret_names(), ["A_SECRET", "C_SECRET"]);
        let simple = read(&[(VAR_CLIENT_SIDE_ID, "abc"), (VAR_SHARED_SECRET, "s")]).unwrap();
        assert_eq!(simple.secret_names(), [VAR_SHARED_SECRET]);
    }
}
