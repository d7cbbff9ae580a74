//! The per-event trace the pipeline writes on request ([`super::Options::trace`]): for each
//! subscription, whether its trigger matched (or which conditions failed), the LaunchDarkly
//! event or the rejection, where each field's value came from, and each destination's metric
//! key check. The decisions are the pipeline's own, recorded as it makes them; the trace only
//! adds the explanations (failed conditions, field provenance) for people.

use crate::config::{BridgeConfig, Judgement, KeyCheck, SourceRoute, Subscription};
use crate::envelope::EnvelopeTrace;
use crate::launchdarkly::CustomEvent;
use crate::outcome::{Reason, Warning};
use crate::track_event::{field_traces, FieldTrace, Rejection};
use serde::Serialize;
use serde_json::Value;

/// What every subscription made of one event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventTrace {
    /// The event's position in the request.
    pub index: usize,
    /// One per subscription of the configuration, in its order.
    pub subscriptions: Vec<SubscriptionTrace>,
}

/// What one subscription made of one event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubscriptionTrace {
    /// The subscription's name.
    pub name: String,
    /// Its trigger, as written.
    pub trigger: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether any of its destinations is one of the request's source's.
    pub reachable: bool,
    /// Its destinations that the request's source reaches.
    pub destinations: Vec<String>,
    /// Whether its trigger matched the event.
    pub matched: bool,
    /// The trigger's conditions the event failed, when it did not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<Vec<FailedCondition>>,
    /// Where each field's value came from (matched, enabled and reachable subscriptions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldTrace>>,
    /// The LaunchDarkly event it made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<CustomEvent<'static>>,
    /// Why it made none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionTrace>,
    /// The metric key check of each destination with a catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_checks: Option<Vec<KeyCheckTrace>>,
    /// The Segment envelope's decisions (matched, enabled and reachable subscriptions): each
    /// destination's integrations and consent checks, the sampling verdict, and the properties
    /// the filters dropped (which, and why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<EnvelopeTrace>,
}

/// A trigger condition an event failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailedCondition {
    /// The condition as trigger text.
    pub condition: String,
    /// The event's value there (JSON, shortened), or `missing`.
    pub actual: String,
}

/// Why a matched subscription made no LaunchDarkly event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectionTrace {
    /// The reason code.
    pub code: Reason,
    /// For people.
    pub message: String,
}

impl From<&Rejection> for RejectionTrace {
    fn from(rejection: &Rejection) -> Self {
        RejectionTrace {
            code: rejection.code,
            message: rejection.message.clone(),
        }
    }
}

/// How a destination's metric catalogue judged an event key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyCheckResult {
    /// A metric event key, exactly.
    Known,
    /// Almost one.
    NearMiss,
    /// No metric event key.
    Unknown,
}

/// One destination's check of one LaunchDarkly event's key: the key check, the metrics using
/// the key, every verdict, and whether the event was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyCheckTrace {
    /// The Segment event's position.
    pub event_index: usize,
    /// The subscription that made the LaunchDarkly event.
    pub subscription: String,
    /// The destination whose catalogue judged it.
    pub destination: String,
    /// The event key.
    pub key: String,
    /// The key check.
    pub result: KeyCheckResult,
    /// The catalogue key a near miss probably meant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// What differs from it (`case`, `whitespace`, `punctuation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
    /// The catalogue's metrics whose event key this is (empty for an unknown key, or a key
    /// listed in `metric_event_keys` without definitions).
    pub metrics: Vec<MetricTrace>,
    /// Every verdict, as the outcome's warnings carry them (`unknown_event_key`,
    /// `event_key_near_miss`, `numeric_metric_without_value`, `metric_value_ignored`,
    /// `no_randomization_unit`); empty when a metric counts the event and nothing is amiss.
    pub verdicts: Vec<Warning>,
    /// Whether a metric counts the event (a listed key without definitions is taken to be).
    pub counted: bool,
    /// Whether it was sent: counted, or sent anyway (`unknown_event_keys` = `"send"`).
    pub sent: bool,
}

/// A metric an event key feeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetricTrace {
    /// The metric's key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Numeric or conversion.
    pub numeric: bool,
    /// Its randomization units (empty: any context kind).
    pub randomization_units: Vec<String>,
    /// Whether it counts this event (a context kind among its units; a value if numeric).
    pub counts: bool,
}

impl KeyCheckTrace {
    /// The record of `judgement` about `event`, whose verdicts became the warnings `verdicts`.
    pub(super) fn new(
        event_index: usize,
        subscription: &str,
        destination: &str,
        event: &CustomEvent<'_>,
        judgement: &Judgement<'_>,
        verdicts: &[Warning],
    ) -> Self {
        let (result, suggestion, difference) = match &judgement.check {
            KeyCheck::Known => (KeyCheckResult::Known, None, None),
            KeyCheck::NearMiss {
                suggestion,
                difference,
            } => (
                KeyCheckResult::NearMiss,
                Some(suggestion.clone()),
                Some(difference.clone()),
            ),
            KeyCheck::Unknown => (KeyCheckResult::Unknown, None, None),
        };
        let kinds = || event.context_keys.iter().map(|(kind, _)| kind);
        let has_value = event.metric_value.is_some();
        KeyCheckTrace {
            event_index,
            subscription: subscription.to_string(),
            destination: destination.to_string(),
            key: event.key.to_string(),
            result,
            suggestion,
            difference,
            metrics: judgement
                .metrics()
                .map(|metric| MetricTrace {
                    key: metric.key.clone(),
                    name: metric.name.clone(),
                    numeric: metric.numeric,
                    randomization_units: metric.randomization_units.clone(),
                    counts: metric.counts(kinds(), has_value),
                })
                .collect(),
            verdicts: verdicts.to_vec(),
            counted: judgement.counted,
            sent: judgement.send,
        }
    }
}

/// What the pipeline did with one subscription that it ran on the event (matched, enabled and
/// reachable).
pub(super) struct Ran {
    /// The subscription's position in the configuration.
    pub subscription: usize,
    /// The LaunchDarkly event, or why there is none.
    pub result: Result<CustomEvent<'static>, RejectionTrace>,
    /// Each destination's key check, as the pipeline made it.
    pub key_checks: Vec<KeyCheckTrace>,
    /// The Segment envelope's decisions, as the pipeline made them.
    pub envelope: Option<EnvelopeTrace>,
}

impl SubscriptionTrace {
    fn new(config: &BridgeConfig, route: &SourceRoute, subscription: &Subscription) -> Self {
        let destinations: Vec<String> = subscription
            .destinations
            .iter()
            .filter(|d| route.destinations.contains(d))
            .filter_map(|d| config.destinations.get(*d))
            .map(|d| d.name.clone())
            .collect();
        SubscriptionTrace {
            name: subscription.name.clone(),
            trigger: subscription.trigger.source().to_string(),
            enabled: subscription.enabled,
            reachable: !destinations.is_empty(),
            destinations,
            matched: false,
            failed: None,
            fields: None,
            event: None,
            rejection: None,
            key_checks: None,
            envelope: None,
        }
    }
}

/// The trace of one event: `ran` holds what the pipeline did with the subscriptions it ran;
/// the others are explained here. `event` is `None` for an event refused before it was read,
/// and `shaped` says whether it is an object with a `type` (else no trigger is tried).
pub(super) fn trace_event(
    config: &BridgeConfig,
    route: &SourceRoute,
    index: usize,
    event: Option<&Value>,
    shaped: bool,
    ran: Vec<Ran>,
) -> EventTrace {
    let mut ran = ran.into_iter().peekable();
    let subscriptions = config
        .subscriptions
        .iter()
        .enumerate()
        .map(|(position, subscription)| {
            let mut trace = SubscriptionTrace::new(config, route, subscription);
            if let Some(done) = ran.next_if(|done| done.subscription == position) {
                trace.matched = true;
                trace.envelope = done.envelope;
                if let Some(event) = event {
                    trace.fields = Some(field_traces(&subscription.mapping, event));
                }
                match done.result {
                    Ok(custom) => {
                        trace.event = Some(custom);
                        trace.key_checks = Some(done.key_checks);
                    }
                    Err(rejection) => trace.rejection = Some(rejection),
                }
                return trace;
            }
            let Some(event) = event.filter(|_| shaped) else {
                return trace;
            };
            match subscription.trigger.explain(event) {
                Some(mismatch) => {
                    trace.failed = Some(
                        mismatch
                            .failed
                            .into_iter()
                            .map(|f| FailedCondition {
                                condition: f.condition,
                                actual: f.actual,
                            })
                            .collect(),
                    );
                }
                None => trace.matched = true,
            }
            trace
        })
        .collect();
    EventTrace {
        index,
        subscriptions,
    }
}
