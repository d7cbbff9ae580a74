//! The Segment envelope: what Segment does to an event before any destination sees it, which
//! the bridge owes an event when it stands where Segment's servers stand (`/v1/*`), and which
//! webhook users expect as well. Pure rules, each written once, for the Worker, the playground
//! and the CLI alike:
//!
//! - **integrations** ([`check_integrations`], per destination): the event's `integrations`
//!   object, as Segment reads it: `{"LaunchDarkly": false}` keeps the event from a destination
//!   with that name, `{"All": false, "LaunchDarkly": true}` lets it through, names are matched
//!   exactly (case-sensitive), and a value that is not a boolean (an options object) counts as
//!   enabled;
//! - **consent** ([`check_consent`], per destination): `context.consent.categoryPreferences`;
//!   every category the destination requires must be `true`, and an event without preferences
//!   follows the destination's `without_consent`;
//! - **sampling** ([`Sampling`], per subscription): deterministic on the LaunchDarkly context
//!   key, so that one user is always in or always out (Segment's keyed sampling);
//! - **property filters** ([`PropertyFilter`], per subscription): dot paths with `*` allowed or
//!   denied in what becomes the LaunchDarkly `data`; denied properties never leave the bridge.
//!
//! The pipeline runs them in this order: integrations and consent before an event is mapped
//! ([`Closed`]), sampling once the context key is known, filters on `data` before it is
//! written. What they decide is recorded for the outcome ([`Skips`]) and the trace
//! ([`EnvelopeTrace`]).

use crate::launchdarkly::{CustomEvent, EventData};
use crate::outcome::{Outcome, OutcomeStatus, Reason, Warning};
use crate::segment::EventRef;
use serde::Serialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::borrow::Cow;

/// The names a destination answers to in an event's `integrations` object by default: Segment's
/// classic and Actions LaunchDarkly destinations, and the bridge's own name.
pub const DEFAULT_INTEGRATION_NAMES: [&str; 3] = [
    "LaunchDarkly",
    "LaunchDarkly (Actions)",
    "segment-ld-bridge",
];

/// The `integrations` key that switches every destination at once.
pub const ALL: &str = "All";

// ---------------------------------------------------------------------------------------------
// Destinations: integrations and consent

/// What a destination does with an event that carries no consent preferences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WithoutConsent {
    /// Send it, as Segment does when consent is not collected (the default).
    #[default]
    Send,
    /// Skip it (`no_consent`).
    Skip,
}

impl WithoutConsent {
    /// `"send"` or `"skip"`, as the configuration writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WithoutConsent::Send => "send",
            WithoutConsent::Skip => "skip",
        }
    }

    /// Reads `"send"` or `"skip"`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "send" => Some(WithoutConsent::Send),
            "skip" => Some(WithoutConsent::Skip),
            _ => None,
        }
    }
}

/// A destination's envelope settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationRules {
    /// The names that address this destination in an event's `integrations` object; empty
    /// means the destination ignores the object.
    pub integration_names: Vec<String>,
    /// The consent categories an event must set to `true` to reach it.
    pub required_consent: Vec<String>,
    /// What happens to an event without consent preferences.
    pub without_consent: WithoutConsent,
}

impl Default for DestinationRules {
    /// [`DEFAULT_INTEGRATION_NAMES`], no required category, events without consent sent.
    fn default() -> Self {
        DestinationRules {
            integration_names: DEFAULT_INTEGRATION_NAMES.map(String::from).to_vec(),
            required_consent: Vec::new(),
            without_consent: WithoutConsent::Send,
        }
    }
}

impl DestinationRules {
    /// Whether consent matters to this destination: it requires categories, or it skips
    /// events without consent.
    pub fn checks_consent(&self) -> bool {
        !self.required_consent.is_empty() || self.without_consent == WithoutConsent::Skip
    }

    /// Both checks of `event` for this destination.
    pub fn gate<'e>(&self, event: impl Into<EventRef<'e>>) -> Gate {
        let event = event.into();
        Gate {
            integrations: check_integrations(event, &self.integration_names),
            consent: check_consent(event, self),
        }
    }
}

/// What an event's `integrations` object says about one destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum IntegrationsCheck {
    /// No `integrations` object, or one that names none of the destination's names and does
    /// not turn `All` off: enabled, Segment's default.
    Default,
    /// One of its names is `true` or an options object (enabled even when `All` is false).
    Enabled {
        /// The name that enabled it.
        name: String,
    },
    /// One of its names is `false`.
    Disabled {
        /// The name that disabled it.
        name: String,
    },
    /// `"All": false`, and none of its names is enabled.
    AllDisabled,
}

impl IntegrationsCheck {
    /// Whether the event may go to the destination.
    pub fn allows(&self) -> bool {
        !matches!(
            self,
            IntegrationsCheck::Disabled { .. } | IntegrationsCheck::AllDisabled
        )
    }
}

/// The event's `integrations` object, when it has one.
fn integrations_object(event: EventRef<'_>) -> Option<&Map<String, Value>> {
    event.get("integrations")?.as_object()
}

/// What `event`'s `integrations` object says about a destination named `names`, as Segment
/// decides it: `false` under any of the names disables it; otherwise any other value that is
/// not `null` (`true`, an options object) enables it, even when `All` is `false`; otherwise
/// `"All": false` disables it. Names are matched exactly. A destination without names, and an
/// `integrations` value that is not an object, change nothing.
pub fn check_integrations<'e>(
    event: impl Into<EventRef<'e>>,
    names: &[String],
) -> IntegrationsCheck {
    check_integrations_in(integrations_object(event.into()), names)
}

fn check_integrations_in(
    integrations: Option<&Map<String, Value>>,
    names: &[String],
) -> IntegrationsCheck {
    let Some(integrations) = integrations.filter(|_| !names.is_empty()) else {
        return IntegrationsCheck::Default;
    };
    let mut enabled = None;
    for name in names {
        match integrations.get(name) {
            Some(Value::Bool(false)) => {
                return IntegrationsCheck::Disabled { name: name.clone() };
            }
            None | Some(Value::Null) => {}
            Some(_) => {
                enabled.get_or_insert(name);
            }
        }
    }
    match (enabled, integrations.get(ALL)) {
        (Some(name), _) => IntegrationsCheck::Enabled { name: name.clone() },
        (None, Some(Value::Bool(false))) => IntegrationsCheck::AllDisabled,
        (None, _) => IntegrationsCheck::Default,
    }
}

/// What an event's consent says about one destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ConsentCheck {
    /// The destination requires no category and sends events without consent: not looked at.
    NotChecked,
    /// Every required category is `true`.
    Given,
    /// These required categories are not `true` (false, absent, or not a boolean).
    Missing {
        /// The categories, in the destination's order.
        categories: Vec<String>,
    },
    /// The event carries no consent preferences; `sent` follows `without_consent`.
    NoPreferences {
        /// Whether the destination takes it anyway.
        sent: bool,
    },
}

impl ConsentCheck {
    /// Whether the event may go to the destination.
    pub fn allows(&self) -> bool {
        match self {
            ConsentCheck::NotChecked | ConsentCheck::Given => true,
            ConsentCheck::Missing { .. } => false,
            ConsentCheck::NoPreferences { sent } => *sent,
        }
    }
}

/// The event's consent preferences, `context.consent.categoryPreferences`, when it is an
/// object. Without it (no `context`, no `consent`, `"consent": {}`, or preferences that are not
/// an object) the event carries no consent; an empty object is consent refused for every
/// category (Segment's "Reconcile consent object and integrations object" table).
pub fn category_preferences<'e>(event: impl Into<EventRef<'e>>) -> Option<&'e Map<String, Value>> {
    let (field, path) = CONSENT_PATH.split_first()?;
    let mut value = event.into().get(field)?.as_value()?;
    for key in path {
        value = value.get(key)?;
    }
    value.as_object()
}

/// Where an event's consent preferences are ([`category_preferences`]): all that a destination
/// checking consent reads of the event's `context`.
pub const CONSENT_PATH: [&str; 3] = ["context", "consent", "categoryPreferences"];

/// What `event`'s consent says about a destination with `rules`: each required category must
/// be exactly `true`; an event without preferences follows `without_consent`.
pub fn check_consent<'e>(event: impl Into<EventRef<'e>>, rules: &DestinationRules) -> ConsentCheck {
    if !rules.checks_consent() {
        return ConsentCheck::NotChecked;
    }
    let Some(preferences) = category_preferences(event) else {
        return ConsentCheck::NoPreferences {
            sent: rules.without_consent == WithoutConsent::Send,
        };
    };
    let missing: Vec<String> = rules
        .required_consent
        .iter()
        .filter(|category| preferences.get(category.as_str()) != Some(&Value::Bool(true)))
        .cloned()
        .collect();
    if missing.is_empty() {
        ConsentCheck::Given
    } else {
        ConsentCheck::Missing {
            categories: missing,
        }
    }
}

/// Both envelope checks of one event for one destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gate {
    /// The `integrations` object's verdict.
    pub integrations: IntegrationsCheck,
    /// The consent verdict.
    pub consent: ConsentCheck,
}

impl Gate {
    /// Whether the event may go to the destination.
    pub fn passes(&self) -> bool {
        self.consent.allows() && self.integrations.allows()
    }

    /// Why the event may not go to `destination` (whose settings are `rules`): consent first,
    /// as Segment looks at the consent object before the integrations object.
    pub fn refusal(&self, destination: &str, rules: &DestinationRules) -> Option<(Reason, String)> {
        match &self.consent {
            ConsentCheck::Missing { categories } => {
                return Some((
                    Reason::NoConsent,
                    format!(
                        "not sent to {destination:?}: no consent for {} (context.consent.categoryPreferences must set each to true)",
                        quoted(categories)
                    ),
                ))
            }
            ConsentCheck::NoPreferences { sent: false } => {
                return Some((
                    Reason::NoConsent,
                    format!(
                        "not sent to {destination:?}: the event carries no consent preferences (context.consent.categoryPreferences) and the destination's without_consent is \"skip\""
                    ),
                ))
            }
            _ => {}
        }
        match &self.integrations {
            IntegrationsCheck::Disabled { name } => Some((
                Reason::DisabledByIntegrations,
                format!(
                    "not sent to {destination:?}: the event's integrations object turns {name:?} off"
                ),
            )),
            IntegrationsCheck::AllDisabled => Some((
                Reason::DisabledByIntegrations,
                format!(
                    "not sent to {destination:?}: the event's integrations object turns \"All\" off and turns none of {} on",
                    quoted(&rules.integration_names)
                ),
            )),
            _ => None,
        }
    }
}

/// The destinations one event may not reach, by position, with their gates. Finding them
/// costs one look for `integrations` in the event when no destination checks consent, and
/// nothing is allocated unless a destination is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Closed(Vec<(usize, Gate)>);

impl Closed {
    /// The destinations among `destinations` (position and settings) that `event` may not
    /// reach.
    pub fn find<'r, 'e>(
        event: impl Into<EventRef<'e>>,
        destinations: impl IntoIterator<Item = (usize, &'r DestinationRules)>,
    ) -> Closed {
        let event = event.into();
        let integrations = integrations_object(event);
        let mut closed = Vec::new();
        for (position, rules) in destinations {
            if integrations.is_none() && !rules.checks_consent() {
                continue;
            }
            let gate = Gate {
                integrations: check_integrations_in(integrations, &rules.integration_names),
                consent: check_consent(event, rules),
            };
            if !gate.passes() {
                closed.push((position, gate));
            }
        }
        Closed(closed)
    }

    /// The gate of the destination at `position`, when it is closed.
    pub fn get(&self, position: usize) -> Option<&Gate> {
        self.0
            .iter()
            .find(|(at, _)| *at == position)
            .map(|(_, gate)| gate)
    }

    /// Whether every destination of `positions` is closed (and there is at least one).
    pub fn closes_all(&self, positions: impl IntoIterator<Item = usize>) -> bool {
        let mut any = false;
        for position in positions {
            if self.get(position).is_none() {
                return false;
            }
            any = true;
        }
        any
    }

    /// Whether no destination is closed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling

/// A subscription's keyed sampling: the share of context keys whose events it sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    /// From 0 (none) to 1 (all).
    pub rate: f64,
    /// The context kind whose key decides, when the mapping's `context_kind` is a constant;
    /// `None` when the mapping computes it per event (then the last context key decides, which
    /// is the mapping's own unless an additional key has the same kind).
    pub context_kind: Option<String>,
}

impl Sampling {
    /// Sampling at `rate` for a mapping whose `context_kind` field is `context_kind_field`.
    pub fn new(rate: f64, context_kind_field: Option<&Value>) -> Sampling {
        Sampling {
            rate,
            context_kind: constant_context_kind(context_kind_field),
        }
    }

    /// Whether `event` is in the sample, and why.
    pub fn decide(&self, event: &CustomEvent<'_>) -> SampleDecision {
        let key = self
            .context_kind
            .as_deref()
            .and_then(|kind| event.context_keys.get(kind))
            .or_else(|| event.context_keys.iter().last().map(|(_, key)| key))
            .unwrap_or_default();
        let position = sample_position(key);
        SampleDecision {
            rate: self.rate,
            context_key: key.to_string(),
            position,
            kept: position < self.rate,
        }
    }
}

/// The context kind a Track Event `context_kind` mapping always produces: `user` when it is
/// unmapped, `null` or empty (the preset's default), the constant itself, or `None` when it is
/// computed per event.
fn constant_context_kind(field: Option<&Value>) -> Option<String> {
    match field {
        None | Some(Value::Null) => Some("user".to_string()),
        Some(Value::String(kind)) if kind.is_empty() => Some("user".to_string()),
        Some(value) => crate::track_event::scalar_to_string(value),
    }
}

/// Where a context key falls in `[0, 1)`: the first 53 bits of the SHA-1 of its UTF-8 bytes,
/// big-endian, over 2^53. The same key always falls at the same place, in the Worker, the
/// playground and the CLI; a key is in a sample of rate `r` when its position is below `r`, so
/// a key in a sample is in every larger one.
pub fn sample_position(key: &str) -> f64 {
    let digest = Sha1::digest(key.as_bytes());
    let mut first = [0u8; 8];
    for (to, from) in first.iter_mut().zip(digest.iter()) {
        *to = *from;
    }
    let bits = u64::from_be_bytes(first) >> 11;
    // Both exact: `bits` < 2^53, and dividing by a power of two only moves the exponent.
    bits as f64 / (1u64 << 53) as f64
}

/// The sampling verdict on one LaunchDarkly event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleDecision {
    /// The subscription's `sample_rate`.
    pub rate: f64,
    /// The context key that decided.
    pub context_key: String,
    /// Where it falls, in `[0, 1)` ([`sample_position`]).
    pub position: f64,
    /// Whether the event is in the sample (position below the rate).
    pub kept: bool,
}

impl SampleDecision {
    /// Why the event is not sent, when it is sampled out.
    pub fn refusal(&self) -> Option<(Reason, String)> {
        (!self.kept).then(|| {
            (
                Reason::SampledOut,
                format!(
                    "sampled out: context key {:?} falls at {:.4} of the sample, at or above sample_rate {}",
                    self.context_key, self.position, self.rate
                ),
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Property filters

/// One part of a property path: a key, or `*` (any one key).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Key(String),
    Any,
}

/// A property path of `allow_properties` / `deny_properties`: keys separated by dots, relative
/// to the LaunchDarkly `data` (`email`, `address.city`), where `*` stands for any one key
/// (`address.*`, `*.email`). A path names a property and everything under it; arrays are
/// looked through (`products.price` names the `price` of every object in `products`); a key
/// that contains dots is named by its parts (`"user.email"` by `user.email`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyPath {
    text: String,
    parts: Vec<Part>,
}

/// Why a property path cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// An empty string.
    #[error("must not be empty: write a property name, or a dot path such as address.city")]
    Empty,
    /// Two dots in a row, or a dot at either end.
    #[error("{0:?} has an empty part (two dots in a row, or a dot at an end)")]
    EmptyPart(String),
    /// `*` inside a key (`ad*`).
    #[error("{0:?}: '*' stands for one whole key (address.*, *.email), not for part of one")]
    PartialWildcard(String),
}

impl PropertyPath {
    /// Reads a path.
    pub fn parse(text: &str) -> Result<PropertyPath, PathError> {
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        let mut parts = Vec::new();
        for part in text.split('.') {
            parts.push(match part {
                "" => return Err(PathError::EmptyPart(text.to_string())),
                "*" => Part::Any,
                key if key.contains('*') => {
                    return Err(PathError::PartialWildcard(text.to_string()))
                }
                key => Part::Key(key.to_string()),
            });
        }
        Ok(PropertyPath {
            text: text.to_string(),
            parts,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the property at `path` (its key parts) is the one this path names or lies
    /// under it.
    fn covers(&self, path: &[&str]) -> bool {
        self.parts.len() <= path.len() && self.leads(path)
    }

    /// Whether the property at `path` lies above what this path names: an object this path
    /// goes through.
    fn goes_through(&self, path: &[&str]) -> bool {
        path.len() < self.parts.len() && self.leads(path)
    }

    /// Whether `path` and this path agree on the parts they both have.
    fn leads(&self, path: &[&str]) -> bool {
        self.parts.iter().zip(path).all(|(part, key)| match part {
            Part::Any => true,
            Part::Key(name) => name == key,
        })
    }
}

/// A subscription's property filters on the LaunchDarkly `data`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropertyFilter {
    allow: Option<Vec<PropertyPath>>,
    deny: Vec<PropertyPath>,
}

impl PropertyFilter {
    /// Keeps only what `allow` names (everything without it), less what `deny` names: deny
    /// wins over allow.
    pub fn new(allow: Option<Vec<PropertyPath>>, deny: Vec<PropertyPath>) -> PropertyFilter {
        PropertyFilter { allow, deny }
    }

    /// The allowed paths, when there is an allow list.
    pub fn allow(&self) -> Option<&[PropertyPath]> {
        self.allow.as_deref()
    }

    /// The denied paths.
    pub fn deny(&self) -> &[PropertyPath] {
        &self.deny
    }

    /// Whether it keeps everything.
    pub fn is_empty(&self) -> bool {
        self.allow.is_none() && self.deny.is_empty()
    }

    /// Filters the properties of an object at `path` (its key parts). `allowed` says whether
    /// an allow path covers the object (or there is no allow list).
    fn object(
        &self,
        object: &mut Map<String, Value>,
        path: &[&str],
        allowed: bool,
        dropped: &mut Vec<DroppedProperty>,
    ) {
        object.retain(|key, value| {
            let mut at: Vec<&str> = Vec::with_capacity(path.len() + 1);
            at.extend_from_slice(path);
            at.extend(key.split('.'));
            if let Some(denied) = self.deny.iter().find(|deny| deny.covers(&at)) {
                record(
                    dropped,
                    &at,
                    DropReason::Denied,
                    Some(denied.as_str().to_string()),
                );
                return false;
            }
            let allowed = allowed || self.allow.iter().flatten().any(|allow| allow.covers(&at));
            if !allowed {
                let through = value.is_object() || value.is_array();
                if !through
                    || !self
                        .allow
                        .iter()
                        .flatten()
                        .any(|allow| allow.goes_through(&at))
                {
                    record(dropped, &at, DropReason::NotAllowed, None);
                    return false;
                }
            }
            self.value(value, &at, allowed, dropped);
            true
        });
    }

    /// Filters what lies under a value at `path`: an object's properties, an array's elements
    /// (looked through: they are at the array's path).
    fn value(
        &self,
        value: &mut Value,
        path: &[&str],
        allowed: bool,
        dropped: &mut Vec<DroppedProperty>,
    ) {
        if allowed && self.deny.iter().all(|deny| deny.parts.len() <= path.len()) {
            // Everything here is allowed and no deny path reaches deeper.
            return;
        }
        match value {
            Value::Object(object) => self.object(object, path, allowed, dropped),
            Value::Array(items) => items.retain_mut(|item| {
                if allowed || item.is_object() || item.is_array() {
                    self.value(item, path, allowed, dropped);
                    true
                } else {
                    // A value where only some of what lies under it is allowed.
                    record(dropped, path, DropReason::NotAllowed, None);
                    false
                }
            }),
            _ => {}
        }
    }
}

fn record(
    dropped: &mut Vec<DroppedProperty>,
    path: &[&str],
    reason: DropReason,
    by: Option<String>,
) {
    let path = path.join(".");
    if !dropped
        .iter()
        .any(|d| d.path == path && d.reason == reason && d.by == by)
    {
        dropped.push(DroppedProperty { path, reason, by });
    }
}

/// Why a property was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// A `deny_properties` path names it.
    Denied,
    /// No `allow_properties` path names it.
    NotAllowed,
}

/// A property the filters kept from LaunchDarkly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DroppedProperty {
    /// Its dot path in `data` (array elements are looked through: no index).
    pub path: String,
    /// Why.
    pub reason: DropReason,
    /// The `deny_properties` path that dropped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Applies `filter` to a LaunchDarkly event's `data`, which becomes an object of its own;
/// returns what was dropped, each path once, in the order met.
pub fn filter_data(data: &mut EventData<'_>, filter: &PropertyFilter) -> Vec<DroppedProperty> {
    let mut dropped = Vec::new();
    if filter.is_empty() {
        return dropped;
    }
    let taken = std::mem::replace(data, EventData::Object(Cow::Owned(Map::new())));
    let mut object = match taken.into_owned() {
        EventData::Object(object) => object.into_owned(),
        other => other.to_map().into_owned(),
    };
    filter.object(&mut object, &[], filter.allow.is_none(), &mut dropped);
    *data = EventData::Object(Cow::Owned(object));
    dropped
}

// ---------------------------------------------------------------------------------------------
// A subscription's settings, the trace, the outcome

/// A subscription's envelope settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubscriptionRules {
    /// The property filters on `data`, when it has any.
    pub filter: Option<PropertyFilter>,
    /// Keyed sampling, when it samples.
    pub sampling: Option<Sampling>,
}

/// One destination's envelope checks, for the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DestinationGate {
    /// The destination's name.
    pub destination: String,
    /// The `integrations` verdict.
    pub integrations: IntegrationsCheck,
    /// The consent verdict.
    pub consent: ConsentCheck,
    /// Whether the event may go there.
    pub passes: bool,
}

/// What the envelope decided for one subscription's event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnvelopeTrace {
    /// Integrations and consent, per destination of the subscription the source reaches.
    pub destinations: Vec<DestinationGate>,
    /// The sampling verdict, when the subscription samples and the event was mapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SampleDecision>,
    /// What its property filters dropped, when it has filters and the event was mapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_properties: Option<Vec<DroppedProperty>>,
}

impl EnvelopeTrace {
    /// The gates of `event` for `destinations` (name and settings).
    pub fn new<'r, 'e>(
        event: impl Into<EventRef<'e>>,
        destinations: impl IntoIterator<Item = (&'r str, &'r DestinationRules)>,
    ) -> EnvelopeTrace {
        let event = event.into();
        EnvelopeTrace {
            destinations: destinations
                .into_iter()
                .map(|(name, rules)| {
                    let gate = rules.gate(event);
                    DestinationGate {
                        destination: name.to_string(),
                        passes: gate.passes(),
                        integrations: gate.integrations,
                        consent: gate.consent,
                    }
                })
                .collect(),
            sampling: None,
            dropped_properties: None,
        }
    }
}

/// Why one event was not sent where its subscriptions lead: each reason and message once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skips(Vec<(Reason, String)>);

impl Skips {
    /// Records that the destination `destination` (settings `rules`) is closed by `gate`.
    pub fn closed(&mut self, gate: &Gate, destination: &str, rules: &DestinationRules) {
        if let Some(refusal) = gate.refusal(destination, rules) {
            self.push(refusal);
        }
    }

    /// Records a sampling verdict; `subscription` names the subscription when there are
    /// several.
    pub fn sampled(&mut self, decision: &SampleDecision, subscription: Option<&str>) {
        if let Some((reason, message)) = decision.refusal() {
            let message = match subscription {
                Some(name) => format!("subscription {name:?}: {message}"),
                None => message,
            };
            self.push((reason, message));
        }
    }

    fn push(&mut self, skip: (Reason, String)) {
        if !self.0.contains(&skip) {
            self.0.push(skip);
        }
    }

    /// The latest skip, for the trace of a subscription skipped before mapping.
    pub fn last(&self) -> Option<&(Reason, String)> {
        self.0.last()
    }

    /// Whether nothing was skipped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// For an event sent elsewhere: one warning per skip.
    pub fn warn(&self, warnings: &mut Vec<Warning>) {
        warnings.extend(self.0.iter().map(|(code, message)| Warning {
            code: *code,
            message: message.clone(),
        }));
    }

    /// For an event sent nowhere: skipped with the first skip's reason and every message, or
    /// `None` when the envelope skipped nothing. `warnings` are the event's warnings so far
    /// (taken).
    pub fn outcome(&self, index: usize, warnings: &mut Vec<Warning>) -> Option<Outcome> {
        let (reason, _) = self.0.first()?;
        let message = self
            .0
            .iter()
            .map(|(_, message)| message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let mut outcome = Outcome::new(index, OutcomeStatus::Skipped, *reason, message);
        outcome.warnings = std::mem::take(warnings);
        Some(outcome)
    }
}

/// `"a", "b"` (or `none`).
fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launchdarkly::ContextKeys;
    use serde_json::json;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    fn integrations(value: Value) -> IntegrationsCheck {
        check_integrations(
            &json!({"type": "track", "integrations": value}),
            &DestinationRules::default().integration_names,
        )
    }

    #[test]
    fn the_default_names_are_segments_launchdarkly_destinations_and_the_bridge() {
        let rules = DestinationRules::default();
        assert_eq!(
            rules.integration_names,
            [
                "LaunchDarkly",
                "LaunchDarkly (Actions)",
                "segment-ld-bridge"
            ]
        );
        assert!(rules.required_consent.is_empty());
        assert_eq!(rules.without_consent, WithoutConsent::Send);
        assert!(!rules.checks_consent());
    }

    #[test]
    fn integrations_false_disables_and_true_or_options_enable_even_without_all() {
        assert_eq!(integrations(json!({})), IntegrationsCheck::Default);
        assert_eq!(
            integrations(json!({"LaunchDarkly": false})),
            IntegrationsCheck::Disabled {
                name: "LaunchDarkly".into()
            }
        );
        assert_eq!(
            integrations(json!({"LaunchDarkly (Actions)": false, "All": true})),
            IntegrationsCheck::Disabled {
                name: "LaunchDarkly (Actions)".into()
            }
        );
        assert_eq!(
            integrations(json!({"All": false})),
            IntegrationsCheck::AllDisabled
        );
        assert_eq!(
            integrations(json!({"All": false, "LaunchDarkly": true})),
            IntegrationsCheck::Enabled {
                name: "LaunchDarkly".into()
            }
        );
        assert_eq!(
            integrations(json!({"All": false, "segment-ld-bridge": {"option": 1}})),
            IntegrationsCheck::Enabled {
                name: "segment-ld-bridge".into()
            }
        );
        assert_eq!(
            integrations(json!({"All": true, "LaunchDarkly": true})),
            IntegrationsCheck::Enabled {
                name: "LaunchDarkly".into()
            }
        );
        // `All` alone turned on, or anything but `false`, changes nothing.
        for all in [
            json!(true),
            json!(null),
            json!({}),
            json!(0),
            json!("false"),
        ] {
            assert_eq!(
                integrations(json!({"All": all})),
                IntegrationsCheck::Default,
                "{all}"
            );
        }
    }

    #[test]
    fn integration_names_match_exactly_and_false_under_any_name_wins() {
        for other in [
            "launchdarkly",
            "LaunchDarkly ",
            "Launch Darkly",
            "LaunchDarkly(Actions)",
        ] {
            assert_eq!(
                integrations(json!({other: false})),
                IntegrationsCheck::Default,
                "{other}"
            );
            assert_eq!(
                integrations(json!({"All": false, other: true})),
                IntegrationsCheck::AllDisabled,
                "{other}"
            );
        }
        assert_eq!(
            integrations(json!({"LaunchDarkly": true, "LaunchDarkly (Actions)": false})),
            IntegrationsCheck::Disabled {
                name: "LaunchDarkly (Actions)".into()
            }
        );
        // The first enabling name is the one reported.
        assert_eq!(
            integrations(
                json!({"All": false, "segment-ld-bridge": true, "LaunchDarkly (Actions)": {}})
            ),
            IntegrationsCheck::Enabled {
                name: "LaunchDarkly (Actions)".into()
            }
        );
        // null is no value: All decides.
        assert_eq!(
            integrations(json!({"All": false, "LaunchDarkly": null})),
            IntegrationsCheck::AllDisabled
        );
        assert_eq!(
            integrations(json!({"LaunchDarkly": null})),
            IntegrationsCheck::Default
        );
    }

    #[test]
    fn integrations_that_are_not_an_object_and_destinations_without_names_change_nothing() {
        for value in [json!(false), json!([]), json!("LaunchDarkly"), json!(null)] {
            assert_eq!(integrations(value.clone()), IntegrationsCheck::Default);
        }
        let event = json!({"integrations": {"All": false, "LaunchDarkly": false}});
        assert_eq!(check_integrations(&event, &[]), IntegrationsCheck::Default);
        assert_eq!(
            check_integrations(&json!([1]), &names(&["LaunchDarkly"])),
            IntegrationsCheck::Default
        );
        assert_eq!(
            check_integrations(&event, &names(&["Mine"])),
            IntegrationsCheck::AllDisabled
        );
    }

    #[test]
    fn integrations_verdicts_allow_or_not() {
        assert!(IntegrationsCheck::Default.allows());
        assert!(IntegrationsCheck::Enabled { name: "x".into() }.allows());
        assert!(!IntegrationsCheck::Disabled { name: "x".into() }.allows());
        assert!(!IntegrationsCheck::AllDisabled.allows());
    }

    fn consent_rules(required: &[&str], without: WithoutConsent) -> DestinationRules {
        DestinationRules {
            required_consent: names(required),
            without_consent: without,
            ..DestinationRules::default()
        }
    }

    fn with_preferences(preferences: Value) -> Value {
        json!({"type": "track", "context": {"consent": {"categoryPreferences": preferences}}})
    }

    #[test]
    fn every_required_category_must_be_true() {
        let rules = consent_rules(&["Analytics", "Advertising"], WithoutConsent::Send);
        assert!(rules.checks_consent());
        let check = |preferences| check_consent(&with_preferences(preferences), &rules);
        assert_eq!(
            check(json!({"Analytics": true, "Advertising": true, "Other": false})),
            ConsentCheck::Given
        );
        assert_eq!(
            check(json!({"Analytics": true, "Advertising": false})),
            ConsentCheck::Missing {
                categories: names(&["Advertising"])
            }
        );
        assert_eq!(
            check(json!({"Advertising": true})),
            ConsentCheck::Missing {
                categories: names(&["Analytics"])
            }
        );
        // Only the boolean true counts; names are exact.
        assert_eq!(
            check(json!({"Analytics": "true", "advertising": true, "Advertising": 1})),
            ConsentCheck::Missing {
                categories: names(&["Analytics", "Advertising"])
            }
        );
        // An empty object refuses every category (Segment's reconcile table).
        assert_eq!(
            check(json!({})),
            ConsentCheck::Missing {
                categories: names(&["Analytics", "Advertising"])
            }
        );
    }

    #[test]
    fn an_event_without_preferences_follows_without_consent() {
        let events = [
            json!({"type": "track"}),
            json!({"context": {}}),
            json!({"context": {"consent": {}}}),
            json!({"context": {"consent": {"categoryPreferences": null}}}),
            json!({"context": {"consent": {"categoryPreferences": ["Analytics"]}}}),
            json!({"context": {"consent": "yes"}}),
            json!("not an object"),
        ];
        for event in &events {
            assert_eq!(category_preferences(event), None, "{event}");
            assert_eq!(
                check_consent(event, &consent_rules(&["Analytics"], WithoutConsent::Send)),
                ConsentCheck::NoPreferences { sent: true }
            );
            assert_eq!(
                check_consent(event, &consent_rules(&["Analytics"], WithoutConsent::Skip)),
                ConsentCheck::NoPreferences { sent: false }
            );
            // `skip` applies without required categories too.
            assert_eq!(
                check_consent(event, &consent_rules(&[], WithoutConsent::Skip)),
                ConsentCheck::NoPreferences { sent: false }
            );
        }
        // With preferences and nothing required, `skip` lets the event through.
        assert_eq!(
            check_consent(
                &with_preferences(json!({})),
                &consent_rules(&[], WithoutConsent::Skip)
            ),
            ConsentCheck::Given
        );
        // A destination that checks nothing does not look.
        assert_eq!(
            check_consent(&with_preferences(json!({})), &DestinationRules::default()),
            ConsentCheck::NotChecked
        );
    }

    #[test]
    fn consent_verdicts_allow_or_not() {
        assert!(ConsentCheck::NotChecked.allows());
        assert!(ConsentCheck::Given.allows());
        assert!(!ConsentCheck::Missing {
            categories: Vec::new()
        }
        .allows());
        assert!(ConsentCheck::NoPreferences { sent: true }.allows());
        assert!(!ConsentCheck::NoPreferences { sent: false }.allows());
        assert_eq!(WithoutConsent::parse("send"), Some(WithoutConsent::Send));
        assert_eq!(WithoutConsent::parse("skip"), Some(WithoutConsent::Skip));
        assert_eq!(WithoutConsent::parse("Skip"), None);
        assert_eq!(WithoutConsent::Send.as_str(), "send");
        assert_eq!(WithoutConsent::Skip.as_str(), "skip");
    }

    #[test]
    fn a_gate_passes_only_when_both_checks_allow_and_consent_is_named_first() {
        let rules = consent_rules(&["Analytics"], WithoutConsent::Send);
        let event = json!({"integrations": {"LaunchDarkly": false},
                           "context": {"consent": {"categoryPreferences": {"Analytics": false}}}});
        let gate = rules.gate(&event);
        assert!(!gate.passes());
        let (reason, message) = gate.refusal("prod", &rules).unwrap();
        assert_eq!(reason, Reason::NoConsent);
        assert_eq!(
            message,
            r#"not sent to "prod": no consent for "Analytics" (context.consent.categoryPreferences must set each to true)"#
        );
        let event = json!({"integrations": {"LaunchDarkly": false},
                           "context": {"consent": {"categoryPreferences": {"Analytics": true}}}});
        let gate = rules.gate(&event);
        assert!(!gate.passes());
        assert_eq!(
            gate.refusal("prod", &rules).unwrap(),
            (
                Reason::DisabledByIntegrations,
                r#"not sent to "prod": the event's integrations object turns "LaunchDarkly" off"#
                    .to_string()
            )
        );
        let open = rules
            .gate(&json!({"context": {"consent": {"categoryPreferences": {"Analytics": true}}}}));
        assert!(open.passes());
        assert_eq!(open.refusal("prod", &rules), None);
        let all_off = DestinationRules::default().gate(&json!({"integrations": {"All": false}}));
        assert!(!all_off.passes());
        assert_eq!(
            all_off
                .refusal("prod", &DestinationRules::default())
                .unwrap()
                .1,
            r#"not sent to "prod": the event's integrations object turns "All" off and turns none of "LaunchDarkly", "LaunchDarkly (Actions)", "segment-ld-bridge" on"#
        );
        let skip = consent_rules(&[], WithoutConsent::Skip);
        let unconsented = skip.gate(&json!({"type": "track"}));
        assert!(!unconsented.passes());
        assert_eq!(
            unconsented.refusal("prod", &skip).unwrap(),
            (
                Reason::NoConsent,
                r#"not sent to "prod": the event carries no consent preferences (context.consent.categoryPreferences) and the destination's without_consent is "skip""#.to_string()
            )
        );
        // Consent refused but integrations fine, and the reverse, each close the gate alone.
        let consent_only = rules.gate(&with_preferences(json!({})));
        assert!(!consent_only.passes());
        assert!(consent_only.integrations.allows());
        let integrations_only =
            DestinationRules::default().gate(&json!({"integrations": {"LaunchDarkly": false}}));
        assert!(!integrations_only.passes());
        assert!(integrations_only.consent.allows());
    }

    #[test]
    fn closed_destinations_are_found_once_per_event() {
        let open = DestinationRules::default();
        let named = DestinationRules {
            integration_names: names(&["Other"]),
            ..DestinationRules::default()
        };
        let consent = consent_rules(&["Analytics"], WithoutConsent::Skip);
        let rules = [(0, &open), (3, &named), (5, &consent)];
        let closed = Closed::find(&json!({"integrations": {"LaunchDarkly": false}}), rules);
        assert!(!closed.is_empty());
        assert!(closed.get(0).is_some());
        assert_eq!(closed.get(3), None);
        assert!(closed.get(5).is_some(), "no consent preferences: skipped");
        assert_eq!(closed.get(1), None);
        assert!(closed.closes_all([0, 5]));
        assert!(!closed.closes_all([0, 3]));
        assert!(!closed.closes_all([3, 0]));
        assert!(!closed.closes_all([]), "no destination: nothing closes");
        // Without integrations and consent settings, nothing is looked at or closed.
        let plain = Closed::find(&json!({"type": "track"}), [(0, &open), (3, &named)]);
        assert!(plain.is_empty());
        assert_eq!(plain, Closed::default());
        let consented = Closed::find(
            &with_preferences(json!({"Analytics": true})),
            [(0, &open), (5, &consent)],
        );
        assert!(consented.is_empty());
    }

    fn event_with(keys: &[(&str, &str)]) -> CustomEvent<'static> {
        let mut context_keys = ContextKeys::new();
        for (kind, key) in keys {
            context_keys.insert(kind.to_string(), key.to_string());
        }
        CustomEvent {
            kind: "custom",
            key: Cow::Borrowed("E"),
            context_keys,
            creation_date: 0,
            metric_value: None,
            data: EventData::Object(Cow::Owned(Map::new())),
        }
    }

    #[test]
    fn sample_positions_are_the_first_53_bits_of_sha1() {
        // SHA-1("") = da39a3ee5e6b4b0d…; SHA-1("abc") = a9993e364706816a…
        assert_eq!(
            sample_position(""),
            (0xda39_a3ee_5e6b_4b0d_u64 >> 11) as f64 / 9_007_199_254_740_992.0
        );
        assert_eq!(
            sample_position("abc"),
            (0xa999_3e36_4706_816a_u64 >> 11) as f64 / 9_007_199_254_740_992.0
        );
        for key in ["u-1", "user-42", "anon-7", "é"] {
            let position = sample_position(key);
            assert!((0.0..1.0).contains(&position), "{key}: {position}");
            assert_eq!(
                position,
                sample_position(key),
                "the same key, the same place"
            );
        }
        assert_ne!(sample_position("u-1"), sample_position("u-2"));
    }

    #[test]
    fn sampling_keeps_a_key_exactly_below_its_rate_and_every_key_at_one() {
        let event = event_with(&[("unauthenticatedUser", "anon"), ("user", "u-1")]);
        let at = sample_position("u-1");
        let sampling = |rate| Sampling::new(rate, None).decide(&event);
        let decision = sampling(at);
        assert!(!decision.kept, "at the rate itself: out");
        assert_eq!(decision.context_key, "u-1");
        assert_eq!(decision.position, at);
        assert_eq!(decision.rate, at);
        assert!(decision.refusal().is_some());
        let just_above = f64::from_bits(at.to_bits() + 1);
        assert!(sampling(just_above).kept);
        assert_eq!(sampling(just_above).refusal(), None);
        assert!(sampling(1.0).kept);
        assert!(!sampling(0.0).kept);
        // Keys in a smaller sample are in every larger one, and about `rate` of keys are in.
        let keys: Vec<String> = (0..2000).map(|n| format!("user-{n}")).collect();
        let kept = |rate: f64| {
            keys.iter()
                .filter(|key| sample_position(key) < rate)
                .cloned()
                .collect::<Vec<_>>()
        };
        let tenth = kept(0.1);
        let half = kept(0.5);
        assert!(tenth.iter().all(|key| half.contains(key)));
        assert!((150..250).contains(&tenth.len()), "{}", tenth.len());
        assert!((900..1100).contains(&half.len()), "{}", half.len());
    }

    #[test]
    fn the_key_of_the_mappings_context_kind_decides() {
        let event = event_with(&[
            ("user", "u-1"),
            ("unauthenticatedUser", "anon"),
            ("org", "o"),
        ]);
        let key = |field: Option<Value>| {
            Sampling::new(0.5, field.as_ref())
                .decide(&event)
                .context_key
        };
        assert_eq!(key(None), "u-1", "unmapped: user");
        assert_eq!(key(Some(json!(null))), "u-1");
        assert_eq!(key(Some(json!(""))), "u-1");
        assert_eq!(key(Some(json!("user"))), "u-1");
        assert_eq!(key(Some(json!("unauthenticatedUser"))), "anon");
        // Computed per event, or a kind the event lacks: the last context key.
        assert_eq!(key(Some(json!({"@path": "$.properties.kind"}))), "o");
        assert_eq!(key(Some(json!("account"))), "o");
        assert_eq!(
            Sampling::new(0.5, Some(&json!(7))).context_kind.as_deref(),
            Some("7")
        );
        assert_eq!(
            Sampling::new(0.5, Some(&json!(["user"]))).context_kind,
            None
        );
        assert_eq!(
            Sampling::new(0.5, None)
                .decide(&event_with(&[]))
                .context_key,
            ""
        );
        let decision = Sampling::new(0.0, None).decide(&event);
        assert_eq!(
            decision.refusal().unwrap(),
            (
                Reason::SampledOut,
                format!(
                    "sampled out: context key \"u-1\" falls at {:.4} of the sample, at or above sample_rate 0",
                    sample_position("u-1")
                )
            )
        );
    }

    fn filter(allow: Option<&[&str]>, deny: &[&str]) -> PropertyFilter {
        let paths = |list: &[&str]| {
            list.iter()
                .map(|text| PropertyPath::parse(text).unwrap())
                .collect::<Vec<_>>()
        };
        PropertyFilter::new(allow.map(paths), paths(deny))
    }

    fn filtered(
        data: Value,
        filter: &PropertyFilter,
    ) -> (Value, Vec<(String, DropReason, Option<String>)>) {
        let Value::Object(object) = data else {
            panic!("an object")
        };
        let mut data = EventData::Object(Cow::Owned(object));
        let dropped = filter_data(&mut data, filter);
        (
            Value::Object(data.to_map().into_owned()),
            dropped
                .into_iter()
                .map(|d| (d.path, d.reason, d.by))
                .collect(),
        )
    }

    fn denied(path: &str, by: &str) -> (String, DropReason, Option<String>) {
        (path.to_string(), DropReason::Denied, Some(by.to_string()))
    }

    fn not_allowed(path: &str) -> (String, DropReason, Option<String>) {
        (path.to_string(), DropReason::NotAllowed, None)
    }

    #[test]
    fn paths_are_keys_and_stars_separated_by_dots() {
        let path = PropertyPath::parse("address.*.zip").unwrap();
        assert_eq!(path.as_str(), "address.*.zip");
        assert_eq!(
            path.parts,
            [
                Part::Key("address".into()),
                Part::Any,
                Part::Key("zip".into())
            ]
        );
        assert_eq!(PropertyPath::parse(""), Err(PathError::Empty));
        for text in ["a..b", ".a", "a.", "."] {
            assert_eq!(
                PropertyPath::parse(text),
                Err(PathError::EmptyPart(text.to_string()))
            );
        }
        for text in ["ad*", "a.*b", "**"] {
            assert_eq!(
                PropertyPath::parse(text),
                Err(PathError::PartialWildcard(text.to_string()))
            );
        }
        assert!(PathError::Empty.to_string().contains("must not be empty"));
        assert!(PathError::EmptyPart("a..b".into())
            .to_string()
            .contains("empty part"));
        assert!(PathError::PartialWildcard("ad*".into())
            .to_string()
            .contains("one whole key"));
        // A path covers what it names and what lies under it; it goes through what lies above.
        let city = PropertyPath::parse("address.city").unwrap();
        assert!(city.covers(&["address", "city"]));
        assert!(city.covers(&["address", "city", "name"]));
        assert!(!city.covers(&["address"]));
        assert!(!city.covers(&["address", "zip"]));
        assert!(city.goes_through(&["address"]));
        assert!(!city.goes_through(&["address", "city"]));
        assert!(!city.goes_through(&["other"]));
        assert!(PropertyPath::parse("*").unwrap().covers(&["anything"]));
    }

    #[test]
    fn deny_drops_what_it_names_and_everything_under_it() {
        let data = json!({"email": "a@b.c", "plan": "pro", "address": {"city": "Paris", "zip": "75001"},
                          "revenue": 10});
        let (kept, dropped) = filtered(data.clone(), &filter(None, &["email", "address.zip"]));
        assert_eq!(
            kept,
            json!({"plan": "pro", "address": {"city": "Paris"}, "revenue": 10})
        );
        assert_eq!(
            dropped,
            [
                denied("email", "email"),
                denied("address.zip", "address.zip")
            ]
        );
        let (kept, dropped) = filtered(data.clone(), &filter(None, &["address"]));
        assert_eq!(
            kept,
            json!({"email": "a@b.c", "plan": "pro", "revenue": 10})
        );
        assert_eq!(dropped, [denied("address", "address")]);
        // `address.*` is everything under address: an empty object stays.
        let (kept, dropped) = filtered(data.clone(), &filter(None, &["address.*"]));
        assert_eq!(kept["address"], json!({}));
        assert_eq!(
            dropped,
            [
                denied("address.city", "address.*"),
                denied("address.zip", "address.*")
            ]
        );
        // `*.zip` under any top-level key; `*` everything.
        let (kept, _) = filtered(data.clone(), &filter(None, &["*.zip"]));
        assert_eq!(kept["address"], json!({"city": "Paris"}));
        let (kept, dropped) = filtered(data.clone(), &filter(None, &["*"]));
        assert_eq!(kept, json!({}));
        assert_eq!(dropped.len(), 4);
        // A path that names nothing drops nothing.
        let (kept, dropped) = filtered(data.clone(), &filter(None, &["phone", "email.x"]));
        assert_eq!(kept, data);
        assert!(dropped.is_empty());
    }

    #[test]
    fn allow_keeps_only_what_it_names_and_what_leads_there() {
        let data = json!({"email": "a@b.c", "plan": "pro", "address": {"city": "Paris", "zip": "75001"},
                          "revenue": 10});
        let (kept, dropped) = filtered(
            data.clone(),
            &filter(Some(&["plan", "address.city", "revenue"]), &[]),
        );
        assert_eq!(
            kept,
            json!({"plan": "pro", "address": {"city": "Paris"}, "revenue": 10})
        );
        assert_eq!(dropped, [not_allowed("email"), not_allowed("address.zip")]);
        // A whole object; its members need no path of their own.
        let (kept, _) = filtered(data.clone(), &filter(Some(&["address"]), &[]));
        assert_eq!(kept, json!({"address": {"city": "Paris", "zip": "75001"}}));
        let (kept, _) = filtered(data.clone(), &filter(Some(&["address.*"]), &[]));
        assert_eq!(kept, json!({"address": {"city": "Paris", "zip": "75001"}}));
        // An empty allow list keeps nothing.
        let (kept, dropped) = filtered(data.clone(), &filter(Some(&[]), &[]));
        assert_eq!(kept, json!({}));
        assert_eq!(dropped.len(), 4);
        // A scalar where an allowed path would go through an object is not allowed.
        let (kept, dropped) = filtered(
            json!({"address": "1 Main St", "plan": "pro"}),
            &filter(Some(&["address.city", "plan"]), &[]),
        );
        assert_eq!(kept, json!({"plan": "pro"}));
        assert_eq!(dropped, [not_allowed("address")]);
        // An object on the way that lacks the allowed member stays, empty.
        let (kept, _) = filtered(
            json!({"address": {"zip": "1"}}),
            &filter(Some(&["address.city"]), &[]),
        );
        assert_eq!(kept, json!({"address": {}}));
    }

    #[test]
    fn deny_wins_over_allow() {
        let data = json!({"user": {"email": "a@b.c", "name": "Ann", "plan": "pro"}, "revenue": 5});
        let (kept, dropped) = filtered(
            data,
            &filter(Some(&["user", "revenue"]), &["user.email", "revenue"]),
        );
        assert_eq!(kept, json!({"user": {"name": "Ann", "plan": "pro"}}));
        assert_eq!(
            dropped,
            [
                denied("user.email", "user.email"),
                denied("revenue", "revenue")
            ]
        );
        // The same path in both lists: denied.
        let (kept, dropped) =
            filtered(json!({"email": "x"}), &filter(Some(&["email"]), &["email"]));
        assert_eq!(kept, json!({}));
        assert_eq!(dropped, [denied("email", "email")]);
    }

    #[test]
    fn arrays_are_looked_through_and_each_drop_is_listed_once() {
        let data = json!({"products": [
            {"sku": "A", "price": 1, "buyer": {"email": "x"}},
            {"sku": "B", "price": 2},
            "loose",
            [{"sku": "C", "price": 3}]
        ]});
        let (kept, dropped) = filtered(
            data.clone(),
            &filter(None, &["products.price", "products.buyer.email"]),
        );
        assert_eq!(
            kept,
            json!({"products": [{"sku": "A", "buyer": {}}, {"sku": "B"}, "loose", [{"sku": "C"}]]})
        );
        assert_eq!(
            dropped,
            [
                denied("products.price", "products.price"),
                denied("products.buyer.email", "products.buyer.email")
            ]
        );
        // Allowed through an array: members not named, and loose values, are dropped.
        let (kept, dropped) = filtered(data.clone(), &filter(Some(&["products.sku"]), &[]));
        assert_eq!(
            kept,
            json!({"products": [{"sku": "A"}, {"sku": "B"}, [{"sku": "C"}]]})
        );
        assert_eq!(
            dropped,
            [
                not_allowed("products.price"),
                not_allowed("products.buyer"),
                not_allowed("products")
            ]
        );
        // An allowed array keeps everything in it but what is denied.
        let (kept, _) = filtered(
            json!({"tags": ["a", {"secret": 1, "ok": 2}]}),
            &filter(Some(&["tags"]), &["tags.secret"]),
        );
        assert_eq!(kept, json!({"tags": ["a", {"ok": 2}]}));
    }

    #[test]
    fn keys_with_dots_are_named_by_their_parts() {
        let data = json!({"user.email": "x", "user": {"email": "y"}, "a.b": {"c": 1, "d": 2}});
        let (kept, dropped) = filtered(data.clone(), &filter(None, &["user.email"]));
        assert_eq!(kept, json!({"user": {}, "a.b": {"c": 1, "d": 2}}));
        assert_eq!(dropped, [denied("user.email", "user.email")]);
        let (kept, _) = filtered(data, &filter(Some(&["a.b.c"]), &[]));
        assert_eq!(kept, json!({"a.b": {"c": 1}}));
    }

    #[test]
    fn deep_values_are_only_walked_as_deep_as_a_deny_path_reaches() {
        // With everything allowed, a deny path of two parts never looks three levels down;
        // what lies there is kept as it is.
        let data = json!({"a": {"b": {"c": {"email": "x"}}, "email": "y"}});
        let (kept, dropped) = filtered(data, &filter(None, &["a.email", "email"]));
        assert_eq!(kept, json!({"a": {"b": {"c": {"email": "x"}}}}));
        assert_eq!(dropped, [denied("a.email", "a.email")]);
        let (kept, dropped) = filtered(json!({"x": {"email": "y"}}), &filter(None, &["*.*.email"]));
        assert_eq!(kept, json!({"x": {"email": "y"}}));
        assert!(dropped.is_empty());
        let (kept, _) = filtered(
            json!({"x": {"y": {"email": "z", "k": 1}}}),
            &filter(None, &["*.*.email"]),
        );
        assert_eq!(kept, json!({"x": {"y": {"k": 1}}}));
    }

    #[test]
    fn filtering_mapped_data_and_an_empty_filter() {
        let mut data = EventData::Object(Cow::Owned(
            json!({"email": "x", "n": 1}).as_object().unwrap().clone(),
        ));
        let before = data.clone();
        assert!(filter_data(&mut data, &PropertyFilter::default()).is_empty());
        assert_eq!(data, before);
        assert!(PropertyFilter::default().is_empty());
        assert!(!filter(None, &["email"]).is_empty());
        assert!(!filter(Some(&[]), &[]).is_empty());
        let f = filter(Some(&["n"]), &["email"]);
        assert_eq!(f.allow().map(<[PropertyPath]>::len), Some(1));
        assert_eq!(f.deny()[0].as_str(), "email");
        assert_eq!(filter(None, &[]).allow(), None);
        // Data the mapping engine resolved is filtered the same way.
        let mapping = crate::track_event::TrackEventMapping::with_overrides(
            &json!({"event_properties": {"email": {"@path": "$.properties.email"}, "n": 1}}),
        )
        .unwrap();
        let event =
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"email": "x"}});
        let mut custom = mapping.map_event(&event, 0).unwrap();
        let dropped = filter_data(&mut custom.data, &filter(None, &["email"]));
        assert_eq!(dropped.len(), 1);
        assert_eq!(
            Value::Object(custom.data.to_map().into_owned()),
            json!({"n": 1})
        );
    }

    #[test]
    fn the_trace_shows_each_destinations_gate() {
        let consent = consent_rules(&["Analytics"], WithoutConsent::Send);
        let default = DestinationRules::default();
        let trace = EnvelopeTrace::new(
            &json!({"integrations": {"LaunchDarkly": false}}),
            [("a", &default), ("b", &consent)],
        );
        assert_eq!(trace.destinations.len(), 2);
        assert_eq!(trace.destinations[0].destination, "a");
        assert!(!trace.destinations[0].passes);
        assert_eq!(
            serde_json::to_value(&trace).unwrap(),
            json!({"destinations": [
                {"destination": "a", "integrations": {"result": "disabled", "name": "LaunchDarkly"},
                 "consent": {"result": "not_checked"}, "passes": false},
                {"destination": "b", "integrations": {"result": "disabled", "name": "LaunchDarkly"},
                 "consent": {"result": "no_preferences", "sent": true}, "passes": false}
            ]})
        );
        let dropped = DroppedProperty {
            path: "email".into(),
            reason: DropReason::Denied,
            by: Some("email".into()),
        };
        assert_eq!(
            serde_json::to_value(&dropped).unwrap(),
            json!({"path": "email", "reason": "denied", "by": "email"})
        );
        assert_eq!(
            serde_json::to_value(DropReason::NotAllowed).unwrap(),
            json!("not_allowed")
        );
    }

    #[test]
    fn skips_become_warnings_or_the_outcome() {
        let mut skips = Skips::default();
        assert!(skips.is_empty());
        let mut none = vec![Warning {
            code: Reason::UnknownEventKey,
            message: "kept".into(),
        }];
        assert_eq!(skips.outcome(0, &mut none), None);
        assert_eq!(none.len(), 1, "warnings are taken only for an outcome");
        let rules = DestinationRules::default();
        let gate = rules.gate(&json!({"integrations": {"All": false}}));
        skips.closed(&gate, "a", &rules);
        skips.closed(&gate, "a", &rules);
        // An open gate records nothing.
        skips.closed(&rules.gate(&json!({})), "b", &rules);
        let mut event = event_with(&[("user", "u-1")]);
        event.key = Cow::Borrowed("E");
        let out = Sampling::new(0.0, None).decide(&event);
        skips.sampled(&out, Some("Big orders"));
        skips.sampled(&Sampling::new(1.0, None).decide(&event), Some("All"));
        assert!(!skips.is_empty());
        assert_eq!(skips.last().unwrap().0, Reason::SampledOut);
        assert!(skips
            .last()
            .unwrap()
            .1
            .starts_with("subscription \"Big orders\": sampled out"));
        let mut warnings = Vec::new();
        skips.warn(&mut warnings);
        assert_eq!(
            warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
            [Reason::DisabledByIntegrations, Reason::SampledOut]
        );
        let earlier = Warning {
            code: Reason::UnknownEventKey,
            message: "w".into(),
        };
        let mut earlier_warnings = vec![earlier.clone()];
        let outcome = skips.outcome(4, &mut earlier_warnings).unwrap();
        assert!(earlier_warnings.is_empty());
        assert_eq!(outcome.index, 4);
        assert_eq!(outcome.status, OutcomeStatus::Skipped);
        assert_eq!(outcome.reason, Reason::DisabledByIntegrations);
        assert_eq!(outcome.warnings, [earlier]);
        assert_eq!(
            outcome.message,
            format!("{}; {}", warnings[0].message, warnings[1].message)
        );
        let mut unlabelled = Skips::default();
        unlabelled.sampled(&out, None);
        assert!(unlabelled.last().unwrap().1.starts_with("sampled out"));
    }

    #[test]
    fn names_are_quoted_in_messages() {
        assert_eq!(quoted(&[]), "none");
        assert_eq!(quoted(&names(&["a", "b\"c"])), r#""a", "b\"c""#);
    }
}
