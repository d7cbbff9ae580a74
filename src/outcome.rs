//! What happened to one received event: a status, a reason code from one closed list, a
//! message for people, and warnings. Plain data: every layer that decides about events
//! (track_event, pipeline) speaks it, and the adapters serialize it.

use serde::Serialize;
use std::fmt;

/// What happened to one received event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Mapped to a LaunchDarkly custom event and queued for delivery.
    Accepted,
    /// Valid, but not something that feeds custom metrics (page, identify, …).
    Skipped,
    /// Invalid: it cannot become a LaunchDarkly event as it is.
    Rejected,
}

/// Every reason and warning code an event's outcome may carry, serialized in snake_case
/// (`missing_context_key`); the README's reason table lists the same codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Accepted: it became a LaunchDarkly custom event.
    TrackEvent,
    /// Skipped: a page, screen, identify, … event (only track events feed metrics).
    NotATrackEvent,
    /// Skipped: no subscription's trigger matches it.
    NoMatchingSubscription,
    /// Skipped: no enabled subscription feeds the destinations of its source.
    NoSubscription,
    /// Its event key is no metric event key of the destination's catalogue.
    UnknownEventKey,
    /// Its event key is almost a metric event key of the destination's catalogue.
    EventKeyNearMiss,
    /// Rejected: not a JSON object.
    InvalidEvent,
    /// Rejected: no `type`.
    MissingType,
    /// Rejected: JSON inside a batch that cannot be read as an event.
    UnreadableEvent,
    /// Rejected: over Segment's per-event size limit.
    EventTooLarge,
    /// Rejected: no event name (the metric event key).
    MissingEventName,
    /// Rejected: the event name is not a string (or a number or boolean to convert).
    InvalidEventName,
    /// Rejected: neither `userId` nor `anonymousId` (absent, null or empty).
    MissingContextKey,
    /// Rejected: a context key is not a string (or a number or boolean to convert).
    InvalidContextKey,
    /// Rejected: a context kind LaunchDarkly would refuse.
    InvalidContextKind,
    /// Rejected: the metric value is not a number within 2^53 − 1 of zero.
    InvalidMetricValue,
    /// Rejected: the event properties are not an object.
    InvalidEventProperties,
    /// Rejected: the mapping failed on this event.
    MappingFailed,
    /// Rejected: the timestamp is outside the accepted window.
    TimestampOutOfRange,
    /// Its event key feeds a numeric metric of the destination's catalogue, but it has no
    /// `metricValue`: that metric does not count it.
    NumericMetricWithoutValue,
    /// Only conversion metrics of the destination's catalogue use its event key, and it has a
    /// `metricValue`: the value is ignored.
    MetricValueIgnored,
    /// None of its context kinds is a randomization unit of a metric using its event key:
    /// LaunchDarkly will not attribute it to an experiment.
    NoRandomizationUnit,
    /// Skipped: the event's `integrations` object keeps it from the destination.
    DisabledByIntegrations,
    /// Skipped: the event lacks the consent the destination requires.
    NoConsent,
    /// Skipped: the subscription's keyed sampling leaves the event's context key out.
    SampledOut,
}

impl Reason {
    /// The code as it is serialized: `missing_context_key`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TrackEvent => "track_event",
            Reason::NotATrackEvent => "not_a_track_event",
            Reason::NoMatchingSubscription => "no_matching_subscription",
            Reason::NoSubscription => "no_subscription",
            Reason::UnknownEventKey => "unknown_event_key",
            Reason::EventKeyNearMiss => "event_key_near_miss",
            Reason::InvalidEvent => "invalid_event",
            Reason::MissingType => "missing_type",
            Reason::UnreadableEvent => "unreadable_event",
            Reason::EventTooLarge => "event_too_large",
            Reason::MissingEventName => "missing_event_name",
            Reason::InvalidEventName => "invalid_event_name",
            Reason::MissingContextKey => "missing_context_key",
            Reason::InvalidContextKey => "invalid_context_key",
            Reason::InvalidContextKind => "invalid_context_kind",
            Reason::InvalidMetricValue => "invalid_metric_value",
            Reason::InvalidEventProperties => "invalid_event_properties",
            Reason::MappingFailed => "mapping_failed",
            Reason::TimestampOutOfRange => "timestamp_out_of_range",
            Reason::NumericMetricWithoutValue => "numeric_metric_without_value",
            Reason::MetricValueIgnored => "metric_value_ignored",
            Reason::NoRandomizationUnit => "no_randomization_unit",
            Reason::DisabledByIntegrations => "disabled_by_integrations",
            Reason::NoConsent => "no_consent",
            Reason::SampledOut => "sampled_out",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The outcome of one event, with a machine-readable reason and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The event's position in the request (0-based).
    pub index: usize,
    /// Accepted, skipped or rejected.
    pub status: OutcomeStatus,
    /// Why.
    pub reason: Reason,
    /// What happened, for people.
    pub message: String,
    /// The subscriptions that produced LaunchDarkly events from it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<String>,
    /// The destinations its LaunchDarkly events go to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<String>,
    /// Things worth knowing that did not stop it (an unknown metric event key, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl Outcome {
    /// An outcome without subscriptions, destinations or warnings.
    pub fn new(index: usize, status: OutcomeStatus, reason: Reason, message: String) -> Self {
        Outcome {
            index,
            status,
            reason,
            message,
            subscriptions: Vec::new(),
            destinations: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Something about an event that did not stop it but probably needs attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// `unknown_event_key`, `event_key_near_miss`, or a rejection code from one subscription
    /// when another one accepted the event.
    pub code: Reason,
    /// For people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_names() {
        for reason in [
            Reason::TrackEvent,
            Reason::NotATrackEvent,
            Reason::NoMatchingSubscription,
            Reason::NoSubscription,
            Reason::UnknownEventKey,
            Reason::EventKeyNearMiss,
            Reason::InvalidEvent,
            Reason::MissingType,
            Reason::UnreadableEvent,
            Reason::EventTooLarge,
            Reason::MissingEventName,
            Reason::InvalidEventName,
            Reason::MissingContextKey,
            Reason::InvalidContextKey,
            Reason::InvalidContextKind,
            Reason::InvalidMetricValue,
            Reason::InvalidEventProperties,
            Reason::MappingFailed,
            Reason::TimestampOutOfRange,
            Reason::NumericMetricWithoutValue,
            Reason::MetricValueIgnored,
            Reason::NoRandomizationUnit,
            Reason::DisabledByIntegrations,
            Reason::NoConsent,
            Reason::SampledOut,
        ] {
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(json, reason.as_str());
            assert_eq!(reason.to_string(), reason.as_str());
            assert!(reason == reason.as_str());
        }
    }
}
