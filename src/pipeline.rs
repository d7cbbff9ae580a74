//! From received Segment events to an outcome per event and the LaunchDarkly requests to send.
//! Pure: the adapters send the requests and report what LaunchDarkly answered.

use crate::config::BridgeConfig;
use crate::launchdarkly::{bulk_request, CustomEvent, OutboundRequest};
use crate::segment;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

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

/// The outcome of one event, with a machine-readable reason and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The event's position in the request (0-based).
    pub index: usize,
    /// Accepted, skipped or rejected.
    pub status: OutcomeStatus,
    /// A stable snake_case code.
    pub reason: &'static str,
    /// What happened, for people.
    pub message: String,
}

/// A request to LaunchDarkly and the events it carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedDelivery {
    /// The HTTP request to send.
    pub request: OutboundRequest,
    /// The positions (in the received request) of the events in this payload.
    pub event_indexes: Vec<usize>,
}

/// Outcomes for every event, and what to send.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Processed {
    /// One per received event, in order.
    pub outcomes: Vec<Outcome>,
    /// The requests to send (at most one per destination).
    pub deliveries: Vec<PlannedDelivery>,
}

impl Processed {
    /// How many outcomes have `status`.
    pub fn count(&self, status: OutcomeStatus) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }
}

/// Processes the events of one request. `received_at_ms` stands in for missing timestamps.
pub fn process(config: &BridgeConfig, events: &[Value], received_at_ms: i64) -> Processed {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut accepted: Vec<CustomEvent> = Vec::new();
    let mut identities: Vec<Cow<'_, str>> = Vec::new();
    let mut event_indexes = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let outcome = match classify(event) {
            Err((status, reason, message)) => Outcome {
                index,
                status,
                reason,
                message,
            },
            Ok(()) => match config.mapping.map_event(event, received_at_ms) {
                Ok(custom) => {
                    let message = format!(
                        "metric event {:?} for {}",
                        custom.key,
                        describe_context_keys(&custom)
                    );
                    identities.push(identity(event));
                    accepted.push(custom);
                    event_indexes.push(index);
                    Outcome {
                        index,
                        status: OutcomeStatus::Accepted,
                        reason: "track_event",
                        message,
                    }
                }
                Err(rejection) => Outcome {
                    index,
                    status: OutcomeStatus::Rejected,
                    reason: rejection.code,
                    message: rejection.message,
                },
            },
        };
        outcomes.push(outcome);
    }
    let mut deliveries = Vec::new();
    if !accepted.is_empty() {
        let destination = &config.destination;
        let request = bulk_request(
            &destination.events_base,
            &destination.client_side_id,
            &accepted,
            identities.iter().map(|identity| identity.as_ref()),
        );
        deliveries.push(PlannedDelivery {
            request,
            event_indexes,
        });
    }
    Processed {
        outcomes,
        deliveries,
    }
}

/// Only track events feed custom metrics; everything else is skipped or rejected here.
fn classify(event: &Value) -> Result<(), (OutcomeStatus, &'static str, String)> {
    if !event.is_object() {
        return Err((
            OutcomeStatus::Rejected,
            "invalid_event",
            format!(
                "a Segment event must be a JSON object, not {}",
                crate::track_event::json_type_name(event)
            ),
        ));
    }
    match segment::event_type(event) {
        Some("track") => Ok(()),
        Some(other) => Err((
            OutcomeStatus::Skipped,
            "not_a_track_event",
            format!(
                "{other:?} events cannot feed LaunchDarkly custom metrics; only track events become metric events (page views, screens and clicks cannot)"
            ),
        )),
        None => Err((
            OutcomeStatus::Rejected,
            "missing_type",
            "the event has no \"type\"; Segment events carry one (\"track\" for metric events)"
                .to_string(),
        )),
    }
}

/// What identifies an event across retries: its `messageId`, else its JSON.
fn identity(event: &Value) -> Cow<'_, str> {
    match segment::message_id(event) {
        Some(id) => Cow::Borrowed(id),
        None => Cow::Owned(event.to_string()),
    }
}

fn describe_context_keys(event: &CustomEvent) -> String {
    event
        .context_keys
        .iter()
        .map(|(kind, key)| format!("{kind} {key}"))
        .collect::<Vec<_>>()
        .join(", ")
}
