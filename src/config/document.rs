//! The configuration document (JSON) that the Worker, the CLI and the playground all read:
//! destinations, subscriptions and source routing. Every problem is collected with its location
//! (`subscriptions[1].trigger`), never just the first.

use super::catalogue::{CatalogueSource, MetricCatalogue, MetricDefinition, UnknownKeyPolicy};
use super::{BridgeConfig, ConfigProblem, Destination, SegmentSource, Subscription};
use crate::envelope::{
    DestinationRules, PropertyFilter, PropertyPath, Sampling, SubscriptionRules, WithoutConsent,
    ALL,
};
use crate::launchdarkly::EventsBase;
use crate::track_event::{TrackEventMapping, PRESET_TRIGGER};
use crate::trigger::Trigger;
use serde_json::{Map, Value};

/// The name of the subscription made when a document has no `subscriptions`.
pub const PRESET_SUBSCRIPTION_NAME: &str = "Track Event";

const DOCUMENT_KEYS: &[&str] = &["destinations", "subscriptions", "sources"];
const DESTINATION_KEYS: &[&str] = &[
    "name",
    "client_side_id",
    "events_host",
    "metric_event_keys",
    "metrics",
    "catalogue_source",
    "unknown_event_keys",
    "integration_names",
    "required_consent",
    "without_consent",
];
const METRIC_KEYS: &[&str] = &[
    "key",
    "name",
    "event_key",
    "numeric",
    "randomization_units",
    "unit_aggregation_type",
    "active_experiments",
];
const CATALOGUE_SOURCE_KEYS: &[&str] = &["project", "environment", "api_base", "pulled_at"];
const SUBSCRIPTION_KEYS: &[&str] = &[
    "name",
    "trigger",
    "mapping",
    "enabled",
    "destinations",
    "allow_properties",
    "deny_properties",
    "sample_rate",
];
const SOURCE_KEYS: &[&str] = &[
    "name",
    "source_ids",
    "write_keys",
    "webhook_secret",
    "destinations",
    "default",
    "allow_unsigned",
    "accept_batched_webhooks",
];

/// Collects problems while reading a document.
struct Reader {
    problems: Vec<ConfigProblem>,
    warnings: Vec<ConfigProblem>,
}

impl Reader {
    fn problem(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            location: location.into(),
            message: message.into(),
        });
    }

    fn object<'a>(
        &mut self,
        value: &'a Value,
        location: &str,
        keys: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        let Some(object) = value.as_object() else {
            self.problem(
                location,
                format!("must be an object, not {}", type_name(value)),
            );
            return None;
        };
        for key in object.keys() {
            if !keys.contains(&key.as_str()) {
                self.problem(
                    join(location, key),
                    format!("unknown setting; the settings here are {}", keys.join(", ")),
                );
            }
        }
        Some(object)
    }

    fn string(&mut self, object: &Map<String, Value>, key: &str, location: &str) -> Option<String> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => {
                self.problem(
                    join(location, key),
                    format!("must be a string, not {}", type_name(other)),
                );
                None
            }
        }
    }

    fn required_string(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        location: &str,
    ) -> Option<String> {
        let value = self.string(object, key, location);
        match value {
            Some(text) if !text.trim().is_empty() => Some(text),
            Some(_) => {
                self.problem(join(location, key), "must not be empty");
                None
            }
            None if object.get(key).is_none_or(Value::is_null) => {
                self.problem(join(location, key), "is required");
                None
            }
            None => None,
        }
    }

    fn strings(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        location: &str,
    ) -> Option<Vec<String>> {
        let value = object.get(key)?;
        let Some(items) = value.as_array() else {
            self.problem(
                join(location, key),
                format!("must be an array of strings, not {}", type_name(value)),
            );
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(text) => strings.push(text.to_string()),
                None => self.problem(
                    format!("{}[{index}]", join(location, key)),
                    format!("must be a string, not {}", type_name(item)),
                ),
            }
        }
        Some(strings)
    }

    fn boolean(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        location: &str,
        default: bool,
    ) -> bool {
        match object.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(flag)) => *flag,
            Some(other) => {
                self.problem(
                    join(location, key),
                    format!("must be true or false, not {}", type_name(other)),
                );
                default
            }
        }
    }

    /// One item of a section's array: its object (an item that is not one is reported) and its
    /// required name, reported when an earlier item in `names` has it too.
    fn named_item<'v>(
        &mut self,
        item: &'v Value,
        location: &str,
        keys: &[&str],
        kind: &str,
        names: &mut Vec<String>,
    ) -> Option<(&'v Map<String, Value>, Option<String>)> {
        let object = self.object(item, location, keys)?;
        let name = self.required_string(object, "name", location);
        self.unique(names, name.as_deref(), location, kind);
        Some((object, name))
    }

    /// An optional section that must be an array when present.
    fn array<'v>(&mut self, value: &'v Value, section: &str) -> Option<&'v [Value]> {
        match value.as_array() {
            Some(items) => Some(items),
            None => {
                self.problem(
                    section,
                    format!("must be an array, not {}", type_name(value)),
                );
                None
            }
        }
    }

    /// Records a name, reporting it when an earlier item of the same kind has it too.
    fn unique(&mut self, seen: &mut Vec<String>, name: Option<&str>, location: &str, kind: &str) {
        let Some(name) = name else { return };
        if seen.iter().any(|known| known == name) {
            self.problem(
                join(location, "name"),
                format!("{name:?} names another {kind} too"),
            );
        }
        seen.push(name.to_string());
    }

    /// Resolves the item's `destinations` names to indexes, in order, each once; absent means
    /// every destination. An empty list and unknown names are reported.
    fn destination_refs(
        &mut self,
        object: &Map<String, Value>,
        location: &str,
        destinations: &[String],
    ) -> Vec<usize> {
        let Some(names) = self.strings(object, "destinations", location) else {
            return (0..destinations.len()).collect();
        };
        if names.is_empty() {
            self.problem(
                join(location, "destinations"),
                "must name at least one destination",
            );
        }
        let mut indexes = Vec::new();
        for (position, name) in names.iter().enumerate() {
            match destinations.iter().position(|known| known == name) {
                Some(index) if !indexes.contains(&index) => indexes.push(index),
                Some(_) => {}
                None => self.problem(
                    format!("{}[{position}]", join(location, "destinations")),
                    format!(
                        "no destination is named {name:?}; the destinations are {}",
                        quoted_list(destinations)
                    ),
                ),
            }
        }
        indexes
    }
}

/// Reads and validates a configuration document; `Err` lists every problem found.
pub fn read_document(document: &Value) -> Result<BridgeConfig, Vec<ConfigProblem>> {
    let mut reader = Reader {
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(root) = reader.object(document, "", DOCUMENT_KEYS) else {
        return Err(reader.problems);
    };
    let destinations = read_destinations(&mut reader, root.get("destinations"));
    let names: Vec<String> = destinations.iter().map(|d| d.name.clone()).collect();
    let subscriptions = read_subscriptions(&mut reader, root.get("subscriptions"), &names);
    let sources = read_sources(&mut reader, root.get("sources"), &names);
    if reader.problems.is_empty() {
        let mut config = BridgeConfig {
            destinations,
            subscriptions,
            sources,
            warnings: reader.warnings,
            fields_read: std::sync::OnceLock::new(),
            properties_read: std::sync::OnceLock::new(),
        };
        config.warn_about_open_routes();
        Ok(config)
    } else {
        Err(reader.problems)
    }
}

fn read_destinations(reader: &mut Reader, value: Option<&Value>) -> Vec<Destination> {
    let Some(items) = value
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
    else {
        reader.problem(
            "destinations",
            "is required: a non-empty array of LaunchDarkly environments ({\"name\", \"client_side_id\", \"events_host\"})",
        );
        return Vec::new();
    };
    let mut destinations: Vec<Destination> = Vec::new();
    let mut names = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let location = format!("destinations[{index}]");
        let Some((object, name)) =
            reader.named_item(item, &location, DESTINATION_KEYS, "destination", &mut names)
        else {
            continue;
        };
        let client_side_id = reader.required_string(object, "client_side_id", &location);
        if let Some(id) = &client_side_id {
            if let Err(message) = super::check_client_side_id(id) {
                reader.problem(join(&location, "client_side_id"), message);
            }
        }
        let host = reader
            .string(object, "events_host", &location)
            .unwrap_or_default();
        let events_base = EventsBase::parse(&host)
            .map_err(|error| reader.problem(join(&location, "events_host"), error.to_string()))
            .ok();
        let catalogue = read_catalogue(reader, object, &location);
        let envelope = read_destination_envelope(reader, object, &location);
        if let (Some(name), Some(client_side_id), Some(events_base)) =
            (name, client_side_id, events_base)
        {
            destinations.push(Destination {
                name,
                client_side_id,
                events_base,
                catalogue,
                envelope,
            });
        }
    }
    destinations
}

/// A destination's metric catalogue: `metric_event_keys`, `metrics`, `catalogue_source` and
/// `unknown_event_keys`; none without either list.
fn read_catalogue(
    reader: &mut Reader,
    object: &Map<String, Value>,
    location: &str,
) -> Option<MetricCatalogue> {
    let policy = match reader
        .string(object, "unknown_event_keys", location)
        .as_deref()
    {
        None | Some("send") => UnknownKeyPolicy::Send,
        Some("drop") => UnknownKeyPolicy::Drop,
        Some(other) => {
            reader.problem(
                join(location, "unknown_event_keys"),
                format!("{other:?} is not a policy; use \"send\" (report only) or \"drop\""),
            );
            UnknownKeyPolicy::Send
        }
    };
    let keys = reader.strings(object, "metric_event_keys", location);
    let metrics = object
        .get("metrics")
        .map(|value| read_metrics(reader, value, &join(location, "metrics")));
    let source = object.get("catalogue_source").and_then(|value| {
        read_catalogue_source(reader, value, &join(location, "catalogue_source"))
    });
    if keys.is_none() && metrics.is_none() {
        for setting in ["unknown_event_keys", "catalogue_source"] {
            if object.contains_key(setting) {
                reader.problem(
                    join(location, setting),
                    "applies only with metric_event_keys or metrics (the metric catalogue)",
                );
            }
        }
        return None;
    }
    Some(MetricCatalogue::with_metrics(
        keys.unwrap_or_default(),
        metrics.unwrap_or_default(),
        source,
        policy,
    ))
}

/// `metrics`: LaunchDarkly metric definitions, as `launchdarkly pull` writes them.
fn read_metrics(reader: &mut Reader, value: &Value, location: &str) -> Vec<MetricDefinition> {
    let Some(items) = value.as_array() else {
        reader.problem(
            location,
            format!(
                "must be an array of metric definitions ({{\"key\", \"event_key\", \"numeric\", \"randomization_units\"}}), not {}",
                type_name(value)
            ),
        );
        return Vec::new();
    };
    let mut metrics: Vec<MetricDefinition> = Vec::new();
    let mut keys = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = format!("{location}[{index}]");
        let Some(object) = reader.object(item, &at, METRIC_KEYS) else {
            continue;
        };
        let key = reader.required_string(object, "key", &at);
        if let Some(key) = &key {
            if keys.contains(key) {
                reader.problem(
                    join(&at, "key"),
                    format!("{key:?} is the key of another metric too"),
                );
            }
            keys.push(key.clone());
        }
        let name = reader.string(object, "name", &at);
        let event_key = reader.required_string(object, "event_key", &at);
        let numeric = reader.boolean(object, "numeric", &at, false);
        let units = reader
            .strings(object, "randomization_units", &at)
            .unwrap_or_default();
        // Positions in the array as written (an item that is not a string is reported above).
        let written = object.get("randomization_units").and_then(Value::as_array);
        for (position, unit) in written.into_iter().flatten().enumerate() {
            let Some(unit) = unit.as_str() else { continue };
            if !is_context_kind(unit) {
                reader.problem(
                    format!("{at}.randomization_units[{position}]"),
                    format!("{unit:?} is not a LaunchDarkly context kind (letters, digits, '.', '_' and '-'; not \"kind\" or \"multi\")"),
                );
            }
        }
        let unit_aggregation_type = reader.string(object, "unit_aggregation_type", &at);
        let active_experiments = match object.get("active_experiments") {
            None | Some(Value::Null) => None,
            Some(count) => {
                let whole = count.as_u64();
                if whole.is_none() {
                    reader.problem(
                        join(&at, "active_experiments"),
                        format!(
                            "must be a whole number of experiments, 0 or more, not {}",
                            count
                        ),
                    );
                }
                whole
            }
        };
        if let (Some(key), Some(event_key)) = (key, event_key) {
            metrics.push(MetricDefinition {
                name: name
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| key.clone()),
                key,
                event_key,
                numeric,
                randomization_units: units,
                unit_aggregation_type,
                active_experiments,
            });
        }
    }
    metrics
}

/// `catalogue_source`: where `launchdarkly pull` read the catalogue (informational).
fn read_catalogue_source(
    reader: &mut Reader,
    value: &Value,
    location: &str,
) -> Option<CatalogueSource> {
    let object = reader.object(value, location, CATALOGUE_SOURCE_KEYS)?;
    let project = reader.required_string(object, "project", location);
    let environment = reader.string(object, "environment", location);
    let api_base = reader.string(object, "api_base", location);
    if let Some(api_base) = &api_base {
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            reader.problem(
                join(location, "api_base"),
                format!("{api_base:?} is not a URL (https://app.launchdarkly.com, https://app.eu.launchdarkly.com, …)"),
            );
        }
    }
    let pulled_at = reader.string(object, "pulled_at", location);
    if let Some(pulled_at) = &pulled_at {
        if crate::timestamp::parse_iso8601_millis(pulled_at).is_none() {
            reader.problem(
                join(location, "pulled_at"),
                format!("{pulled_at:?} is not an ISO-8601 date and time (2026-11-30T13:30:00Z)"),
            );
        }
    }
    Some(CatalogueSource {
        project: project?,
        environment,
        api_base,
        pulled_at,
    })
}

/// LaunchDarkly's rule for context kinds: `[A-Za-z0-9._-]+`, and neither `kind` nor `multi`.
fn is_context_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind != "kind"
        && kind != "multi"
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn read_subscriptions(
    reader: &mut Reader,
    value: Option<&Value>,
    destinations: &[String],
) -> Vec<Subscription> {
    let Some(value) = value else {
        return vec![Subscription::track_event_preset(
            (0..destinations.len()).collect(),
        )];
    };
    let Some(items) = reader.array(value, "subscriptions") else {
        return Vec::new();
    };
    let mut subscriptions: Vec<Subscription> = Vec::new();
    let mut names = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let location = format!("subscriptions[{index}]");
        let Some((object, name)) = reader.named_item(
            item,
            &location,
            SUBSCRIPTION_KEYS,
            "subscription",
            &mut names,
        ) else {
            continue;
        };
        let trigger_text = reader
            .string(object, "trigger", &location)
            .unwrap_or_else(|| PRESET_TRIGGER.to_string());
        let trigger = match Trigger::parse(&trigger_text) {
            Ok(trigger) => {
                for warning in trigger.warnings() {
                    reader.warnings.push(ConfigProblem {
                        location: join(&location, "trigger"),
                        message: warning.clone(),
                    });
                }
                Some(trigger)
            }
            Err(error) => {
                reader.problem(join(&location, "trigger"), error.to_string());
                None
            }
        };
        let mapping = match object.get("mapping") {
            None | Some(Value::Null) => TrackEventMapping::preset(),
            Some(overrides) => TrackEventMapping::with_overrides(overrides),
        }
        .map_err(|error| reader.problem(join(&location, "mapping"), error.to_string()))
        .ok();
        let enabled = reader.boolean(object, "enabled", &location, true);
        let refs = reader.destination_refs(object, &location, destinations);
        let envelope = read_subscription_envelope(reader, object, &location, mapping.as_ref());
        if let (Some(name), Some(trigger), Some(mapping)) = (name, trigger, mapping) {
            subscriptions.push(Subscription {
                name,
                trigger,
                mapping,
                enabled,
                destinations: refs,
                envelope,
            });
        }
    }
    if !items.is_empty() && !subscriptions.iter().any(|s| s.enabled) && reader.problems.is_empty() {
        reader.warnings.push(ConfigProblem {
            location: "subscriptions".to_string(),
            message: "every subscription is disabled: events will be skipped".to_string(),
        });
    }
    subscriptions
}

fn read_sources(
    reader: &mut Reader,
    value: Option<&Value>,
    destinations: &[String],
) -> Vec<SegmentSource> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(items) = reader.array(value, "sources") else {
        return Vec::new();
    };
    let mut sources: Vec<SegmentSource> = Vec::new();
    let mut names = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let location = format!("sources[{index}]");
        let Some((object, name)) =
            reader.named_item(item, &location, SOURCE_KEYS, "source", &mut names)
        else {
            continue;
        };
        let source_ids = reader
            .strings(object, "source_ids", &location)
            .unwrap_or_default();
        let write_keys = reader
            .strings(object, "write_keys", &location)
            .unwrap_or_default();
        let default = reader.boolean(object, "default", &location, false);
        let allow_unsigned = reader.boolean(object, "allow_unsigned", &location, false);
        let accept_batched_webhooks =
            reader.boolean(object, "accept_batched_webhooks", &location, false);
        let webhook_secret_name = reader.string(object, "webhook_secret", &location);
        if let Some(name) = &webhook_secret_name {
            if !super::is_secret_name(name) {
                // Never echo it: it may be the secret itself.
                reader.problem(
                    join(&location, "webhook_secret"),
                    "must be the NAME of a Worker secret (upper-case letters, digits and '_', e.g. SEGMENT_SECRET_WEB), not the secret itself; if you pasted the secret here, rotate it in Segment",
                );
            }
        }
        if allow_unsigned && webhook_secret_name.is_some() {
            reader.problem(
                join(&location, "allow_unsigned"),
                "a source with a webhook_secret checks signatures; allow_unsigned would open it again: remove one of the two",
            );
        }
        if accept_batched_webhooks && webhook_secret_name.is_none() {
            reader.problem(
                join(&location, "accept_batched_webhooks"),
                "applies only to a source with a webhook_secret (signed batched webhooks)",
            );
        }
        for (position, id) in source_ids.iter().enumerate() {
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                reader.problem(
                    format!("{location}.source_ids[{position}]"),
                    format!("{id:?} is not a source id (letters, digits, '-', '_' and '.'; it goes in the URL /segment/{{source_id}})"),
                );
            }
            if sources.iter().any(|s| s.source_ids.contains(id)) {
                reader.problem(
                    format!("{location}.source_ids[{position}]"),
                    format!("{id:?} belongs to another source too"),
                );
            }
        }
        for (position, key) in write_keys.iter().enumerate() {
            if key.is_empty() {
                reader.problem(
                    format!("{location}.write_keys[{position}]"),
                    "must not be empty",
                );
            }
            if sources.iter().any(|s| s.write_keys.contains(key)) {
                // Never echo a write key: it is a secret.
                reader.problem(
                    format!("{location}.write_keys[{position}]"),
                    "this write key belongs to another source too",
                );
            }
        }
        if source_ids.is_empty()
            && write_keys.is_empty()
            && webhook_secret_name.is_none()
            && !default
        {
            reader.problem(
                location.clone(),
                "a source needs source_ids, write_keys, a webhook_secret, or \"default\": true to receive anything",
            );
        } else if write_keys.is_empty() && webhook_secret_name.is_none() && !allow_unsigned {
            reader.warnings.push(ConfigProblem {
                location: location.clone(),
                message: "nothing authenticates this source's events, so the Worker refuses them: give it a webhook_secret (Segment webhooks), write_keys (Segment's libraries), or \"allow_unsigned\": true to accept unsigned webhooks".to_string(),
            });
        }
        if default && sources.iter().any(|s| s.default) {
            reader.problem(
                join(&location, "default"),
                "another source is the default already",
            );
        }
        let refs = reader.destination_refs(object, &location, destinations);
        if let Some(name) = name {
            sources.push(SegmentSource {
                name,
                source_ids,
                write_keys,
                destinations: refs,
                default,
                allow_unsigned,
                accept_batched_webhooks,
                webhook_secret_name,
                webhook_secret: None,
            });
        }
    }
    sources
}

/// A destination's Segment envelope settings: `integration_names` (default
/// [`crate::envelope::DEFAULT_INTEGRATION_NAMES`]; `[]` ignores the integrations object),
/// `required_consent` and `without_consent` (`"send"`, the default, or `"skip"`).
fn read_destination_envelope(
    reader: &mut Reader,
    object: &Map<String, Value>,
    location: &str,
) -> DestinationRules {
    let mut rules = DestinationRules::default();
    if let Some(names) = reader.strings(object, "integration_names", location) {
        for (at, name) in string_items(object, "integration_names", location) {
            if name == ALL {
                reader.problem(
                    at,
                    "\"All\" is Segment's switch for every destination, not a destination's name: list the names events use for this destination ([] ignores the integrations object)",
                );
            } else {
                reader.name_text(at, name, "integrations names are matched exactly");
            }
        }
        rules.integration_names = names;
    }
    if let Some(categories) = reader.strings(object, "required_consent", location) {
        for (at, category) in string_items(object, "required_consent", location) {
            reader.name_text(at, category, "consent categories are matched exactly");
        }
        rules.required_consent = categories;
    }
    if let Some(text) = reader.string(object, "without_consent", location) {
        match WithoutConsent::parse(&text) {
            Some(choice) => rules.without_consent = choice,
            None => reader.problem(
                join(location, "without_consent"),
                format!("{text:?} is not a choice; use \"send\" (the default: events without consent preferences are sent) or \"skip\""),
            ),
        }
    }
    rules
}

/// A subscription's Segment envelope settings: `allow_properties` and `deny_properties` (dot
/// paths in the LaunchDarkly `data`), `sample_rate` (0 to 1, keyed on the context key of
/// `mapping`).
fn read_subscription_envelope(
    reader: &mut Reader,
    object: &Map<String, Value>,
    location: &str,
    mapping: Option<&TrackEventMapping>,
) -> SubscriptionRules {
    // Whether `data` is the event's properties, as with the preset.
    let preset_data = || {
        mapping.is_some_and(|mapping| {
            mapping.fields().get("event_properties")
                == crate::track_event::preset_fields().get("event_properties")
        })
    };
    let paths = |reader: &mut Reader, key: &str| {
        reader.strings(object, key, location)?;
        let mut paths = Vec::new();
        for (at, text) in string_items(object, key, location) {
            match PropertyPath::parse(text) {
                Ok(path) => {
                    if text.starts_with("properties.") && preset_data() {
                        reader.warnings.push(ConfigProblem {
                            location: at,
                            message: format!(
                                "paths are relative to the LaunchDarkly data, which is the event's properties with this mapping: {text:?} names properties.{text}; did you mean {:?}?",
                                text.trim_start_matches("properties.")
                            ),
                        });
                    }
                    paths.push(path);
                }
                Err(error) => reader.problem(at, error.to_string()),
            }
        }
        Some(paths)
    };
    let allow = paths(reader, "allow_properties");
    let deny = paths(reader, "deny_properties").unwrap_or_default();
    let filter = PropertyFilter::new(allow, deny);
    let sampling = match object.get("sample_rate") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => match number.as_f64() {
            Some(rate) if (0.0..=1.0).contains(&rate) => Some(Sampling::new(
                rate,
                mapping.and_then(|mapping| mapping.fields().get("context_kind")),
            )),
            _ => {
                reader.problem(
                    join(location, "sample_rate"),
                    format!("{number} is out of range: a share from 0 (send none) to 1 (send all)"),
                );
                None
            }
        },
        Some(other) => {
            reader.problem(
                join(location, "sample_rate"),
                format!(
                    "must be a number from 0 (send none) to 1 (send all), not {}",
                    type_name(other)
                ),
            );
            None
        }
    };
    SubscriptionRules {
        filter: (!filter.is_empty()).then_some(filter),
        sampling,
    }
}

/// The string items of the array at `key`, each with its location (`…key[2]`).
fn string_items<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    location: &str,
) -> Vec<(String, &'v str)> {
    let base = join(location, key);
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, item)| Some((format!("{base}[{index}]"), item.as_str()?)))
        .collect()
}

impl Reader {
    /// Checks a name matched exactly (an integration name, a consent category): empty is a
    /// problem, spaces at its ends a warning.
    fn name_text(&mut self, location: String, name: &str, why: &str) {
        if name.trim().is_empty() {
            self.problem(location, "must not be empty");
        } else if name.trim() != name {
            self.warnings.push(ConfigProblem {
                location,
                message: format!("{name:?} has spaces at its ends; {why}"),
            });
        }
    }
}

fn join(location: &str, key: &str) -> String {
    if location.is_empty() {
        key.to_string()
    } else {
        format!("{location}.{key}")
    }
}

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_name(value: &Value) -> &'static str {
    crate::track_event::json_type_name(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn without_subscriptions_the_preset_reaches_every_destination() {
        let config = read_document(&json!({
            "destinations": [
                {"name": "a", "client_side_id": "ca"},
                {"name": "b", "client_side_id": "cb"}
            ],
            "sources": [{"name": "s", "write_keys": ["wk"]}]
        }))
        .unwrap();
        assert_eq!(config.subscriptions.len(), 1);
        let preset = &config.subscriptions[0];
        assert_eq!(preset.name, PRESET_SUBSCRIPTION_NAME);
        assert_eq!(preset.trigger.source(), PRESET_TRIGGER);
        assert!(preset.enabled);
        assert_eq!(preset.destinations, [0, 1]);
        assert!(preset.mapping.customized_fields().is_empty());
    }

    fn problems_of(document: Value) -> Vec<String> {
        match read_document(&document) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn pulled() -> Value {
        json!({
            "destinations": [{
                "name": "production", "client_side_id": "env-1",
                "metric_event_keys": ["Order Completed", "Hand Written"],
                "metrics": [
                    {"key": "revenue", "name": "Revenue", "event_key": "Order Completed", "numeric": true,
                     "randomization_units": ["user"], "unit_aggregation_type": "sum", "active_experiments": 1},
                    {"key": "signups", "event_key": "Signed Up"}
                ],
                "catalogue_source": {"project": "default", "environment": "production",
                                     "api_base": "https://app.launchdarkly.com", "pulled_at": "2026-11-30T13:30:00Z"},
                "unknown_event_keys": "drop"
            }]
        })
    }

    #[test]
    fn a_pulled_catalogue_is_read_with_its_metrics_and_source() {
        let config = read_document(&pulled()).unwrap();
        let catalogue = config.destinations[0].catalogue.as_ref().unwrap();
        assert_eq!(
            catalogue.keys(),
            ["Order Completed", "Hand Written", "Signed Up"]
        );
        assert_eq!(catalogue.unknown_keys, UnknownKeyPolicy::Drop);
        let revenue = &catalogue.metrics()[0];
        assert_eq!(
            (revenue.key.as_str(), revenue.name.as_str(), revenue.numeric),
            ("revenue", "Revenue", true)
        );
        assert_eq!(revenue.randomization_units, ["user"]);
        assert_eq!(revenue.unit_aggregation_type.as_deref(), Some("sum"));
        assert_eq!(revenue.active_experiments, Some(1));
        // Defaults: named by its key, conversion, any context kind.
        let signups = &catalogue.metrics()[1];
        assert_eq!(signups.name, "signups");
        assert!(!signups.numeric);
        assert!(signups.randomization_units.is_empty());
        assert_eq!(signups.active_experiments, None);
        let source = catalogue.source().unwrap();
        assert_eq!(source.project, "default");
        assert_eq!(source.pulled_at.as_deref(), Some("2026-11-30T13:30:00Z"));
        let summary = config.summary();
        assert_eq!(summary["destinations"][0]["metric_event_keys"], 3);
        assert_eq!(summary["destinations"][0]["metrics"], 2);
        assert_eq!(
            summary["destinations"][0]["catalogue_source"]["api_base"],
            "https://app.launchdarkly.com"
        );
        // metrics alone make a catalogue, and unknown_event_keys applies to it.
        let metrics_only = read_document(&json!({"destinations": [{
            "name": "p", "client_side_id": "e", "unknown_event_keys": "drop",
            "metrics": [{"key": "m", "event_key": "E"}]
        }]}))
        .unwrap();
        let catalogue = metrics_only.destinations[0].catalogue.as_ref().unwrap();
        assert_eq!(catalogue.keys(), ["E"]);
        assert!(catalogue.source().is_none());
        assert_eq!(catalogue.unknown_keys, UnknownKeyPolicy::Drop);
        // Without either list there is no catalogue.
        let none = read_document(&json!({"destinations": [{"name": "p", "client_side_id": "e"}]}));
        assert!(none.unwrap().destinations[0].catalogue.is_none());
    }

    #[test]
    fn catalogue_problems_are_located_to_their_field() {
        let problems = problems_of(json!({"destinations": [
            {"name": "ok", "client_side_id": "e0", "metrics": []},
            {"name": "production", "client_side_id": "env-1",
             "metrics": [
                {"key": "revenue", "event_key": "Order Completed", "numeric": "yes"},
                {"key": "revenue", "event_key": ""},
                {"event_key": 7, "randomization_units": ["user", 3, "multi", ""], "colour": "red"},
                "revenue",
                {"key": "x", "event_key": "X", "active_experiments": -1, "name": 5},
                {"key": "y", "event_key": "Y", "active_experiments": 1.5, "randomization_units": "user"}
             ],
             "catalogue_source": {"environment": 3, "api_base": "app.launchdarkly.com",
                                  "pulled_at": "yesterday", "token": "api-123"}},
            {"name": "third", "client_side_id": "e3", "metrics": {"key": "m"}},
            {"name": "fourth", "client_side_id": "e4", "catalogue_source": {"project": "p"},
             "unknown_event_keys": "drop"}
        ]}));
        let expected = [
            "destinations[1].metrics[0].numeric: must be true or false, not a string",
            "destinations[1].metrics[1].key: \"revenue\" is the key of another metric too",
            "destinations[1].metrics[1].event_key: must not be empty",
            "destinations[1].metrics[2].colour: unknown setting; the settings here are key, name, event_key, numeric, randomization_units, unit_aggregation_type, active_experiments",
            "destinations[1].metrics[2].key: is required",
            "destinations[1].metrics[2].event_key: must be a string, not a number",
            "destinations[1].metrics[2].randomization_units[1]: must be a string, not a number",
            "destinations[1].metrics[2].randomization_units[2]: \"multi\" is not a LaunchDarkly context kind (letters, digits, '.', '_' and '-'; not \"kind\" or \"multi\")",
            "destinations[1].metrics[2].randomization_units[3]: \"\" is not a LaunchDarkly context kind (letters, digits, '.', '_' and '-'; not \"kind\" or \"multi\")",
            "destinations[1].metrics[3]: must be an object, not a string",
            "destinations[1].metrics[4].name: must be a string, not a number",
            "destinations[1].metrics[4].active_experiments: must be a whole number of experiments, 0 or more, not -1",
            "destinations[1].metrics[5].randomization_units: must be an array of strings, not a string",
            "destinations[1].metrics[5].active_experiments: must be a whole number of experiments, 0 or more, not 1.5",
            "destinations[1].catalogue_source.token: unknown setting; the settings here are project, environment, api_base, pulled_at",
            "destinations[1].catalogue_source.project: is required",
            "destinations[1].catalogue_source.environment: must be a string, not a number",
            "destinations[1].catalogue_source.api_base: \"app.launchdarkly.com\" is not a URL (https://app.launchdarkly.com, https://app.eu.launchdarkly.com, …)",
            "destinations[1].catalogue_source.pulled_at: \"yesterday\" is not an ISO-8601 date and time (2026-11-30T13:30:00Z)",
            "destinations[2].metrics: must be an array of metric definitions ({\"key\", \"event_key\", \"numeric\", \"randomization_units\"}), not an object",
            "destinations[3].unknown_event_keys: applies only with metric_event_keys or metrics (the metric catalogue)",
            "destinations[3].catalogue_source: applies only with metric_event_keys or metrics (the metric catalogue)",
        ];
        assert_eq!(problems, expected);
    }

    #[test]
    fn hand_written_catalogues_keep_working() {
        let config = read_document(&json!({"destinations": [{
            "name": "p", "client_side_id": "e", "metric_event_keys": ["A", "B"]
        }]}))
        .unwrap();
        let catalogue = config.destinations[0].catalogue.as_ref().unwrap();
        assert_eq!(catalogue.keys(), ["A", "B"]);
        assert!(catalogue.metrics().is_empty());
        assert_eq!(catalogue.unknown_keys, UnknownKeyPolicy::Send);
        assert_eq!(
            problems_of(json!({"destinations": [{"name": "p", "client_side_id": "e",
                "metric_event_keys": ["A"], "unknown_event_keys": "maybe"}]})),
            ["destinations[0].unknown_event_keys: \"maybe\" is not a policy; use \"send\" (report only) or \"drop\""]
        );
    }
}
