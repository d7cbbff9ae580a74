//! From received Segment events to an outcome per event and the LaunchDarkly payloads to send,
//! with, on request, a trace of every decision ([`trace`]). Pure: the adapters send the
//! payloads and report what LaunchDarkly answered.

pub mod trace;

use crate::config::{BridgeConfig, Destination, Judgement, SourceRoute, Subscription};
use crate::delivery::PayloadLimits;
use crate::envelope::{self, EnvelopeTrace};
use crate::inbound::{Limits, ReceivedEvents};
use crate::launchdarkly::{bulk_headers, payload_id, CustomEvent};
use crate::segment::{self, EventRef};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write;
use std::ops::Range;
use uuid::Uuid;

pub use crate::outcome::{Outcome, OutcomeStatus, Reason, Warning};
use trace::{EventTrace, KeyCheckTrace, Ran, RejectionTrace};

/// One payload for LaunchDarkly's bulk events endpoint: what to send, where, and under which
/// payload id. The adapters make the HTTP request ([`PlannedPayload::headers`]). Serialized as
/// the request it becomes: `{destination, method, url, payload_id, headers: [[name, value]],
/// event_indexes, body}`, the body as the exact text sent.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedPayload {
    /// The destination's name.
    pub destination: String,
    /// The bulk events URL of the destination's environment.
    pub url: String,
    /// The payload id (`X-LaunchDarkly-Payload-ID`): a retry of the same events carries it
    /// again, and LaunchDarkly takes them once.
    pub payload_id: Uuid,
    /// The positions (in the received request) of the events in this payload; an event that
    /// several subscriptions matched appears once per LaunchDarkly event.
    pub event_indexes: Vec<usize>,
    /// The JSON array of LaunchDarkly custom events.
    pub body: String,
}

impl Serialize for PlannedPayload {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut request = serializer.serialize_struct("PlannedPayload", 7)?;
        request.serialize_field("destination", &self.destination)?;
        request.serialize_field("method", "POST")?;
        request.serialize_field("url", &self.url)?;
        request.serialize_field("payload_id", &self.payload_id)?;
        request.serialize_field("headers", &self.headers())?;
        request.serialize_field("event_indexes", &self.event_indexes)?;
        request.serialize_field("body", &self.body)?;
        request.end()
    }
}

impl PlannedPayload {
    /// The request's headers, in sending order.
    pub fn headers(&self) -> [(&'static str, Cow<'static, str>); 4] {
        bulk_headers(
            self.payload_id
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer()),
        )
    }
}

/// Outcomes for every event, what to send, and (on request) the trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Processed {
    /// One per received event, in order.
    pub outcomes: Vec<Outcome>,
    /// The payloads to send, in order: each destination's events cut at LaunchDarkly's limits.
    pub payloads: Vec<PlannedPayload>,
    /// One per received event with [`Options::trace`]; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<EventTrace>,
}

impl Processed {
    /// How many outcomes have `status`.
    pub fn count(&self, status: OutcomeStatus) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }
}

/// The events of one request, as the pipeline takes them.
#[derive(Clone, Copy, Debug)]
pub enum Events<'a> {
    /// Parsed events, without limits (the CLI, the playground, tests).
    Parsed(&'a [Value]),
    /// Events read under Segment's [`Limits`] ([`crate::inbound::read_events`]): the ones over
    /// the per-event limit or unreadable are rejected alone, and each takes the batch's
    /// inherited fields it lacks.
    Received(&'a ReceivedEvents, &'a Limits),
}

/// How to process a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// When the request arrived (Unix ms): stands in for missing timestamps.
    pub received_at_ms: i64,
    /// Whether to write a trace of every event ([`Processed::traces`]).
    pub trace: bool,
    /// Whether every accepted outcome says what was sent where (its message, subscriptions and
    /// destinations). Off ([`Options::brief`]), an accepted event without warnings gets none
    /// of them, for an answer that lists only the outcomes that need attention; one with
    /// warnings is described all the same.
    pub describe_accepted: bool,
}

impl Options {
    /// Received at `received_at_ms`, without a trace.
    pub fn at(received_at_ms: i64) -> Self {
        Options {
            received_at_ms,
            trace: false,
            describe_accepted: true,
        }
    }

    /// The same, without describing the accepted events that have no warnings.
    pub fn brief(self) -> Self {
        Options {
            describe_accepted: false,
            ..self
        }
    }

    /// The same, with a trace.
    pub fn traced(self) -> Self {
        Options {
            trace: true,
            ..self
        }
    }
}

/// Whether this build records traces ([`Options::trace`]). The Worker never asks for one (its
/// answers come from outcomes; the playground, `preview` and the CLI trace), so its build
/// leaves the trace's code out (20 KB of its wasm, 10 KB gzipped).
pub const CAN_TRACE: bool = !cfg!(all(
    target_arch = "wasm32",
    feature = "cloudflare",
    not(feature = "playground")
));

/// The route of events that may reach every destination (no source).
pub fn every_destination(config: &BridgeConfig) -> SourceRoute {
    SourceRoute {
        source: None,
        destinations: (0..config.destinations.len()).collect(),
    }
}

/// Processes the events of one request whose source was routed to `route`: an outcome for each,
/// the payloads for LaunchDarkly and, with [`Options::trace`], the trace.
pub fn process(
    config: &BridgeConfig,
    route: &SourceRoute,
    events: Events<'_>,
    options: Options,
) -> Processed {
    let options = Options {
        trace: options.trace && CAN_TRACE,
        ..options
    };
    match events {
        Events::Parsed(events) => {
            let received = Received {
                count: events.len(),
                bytes: 0,
                event: &|index| events.get(index).map(EventRef::from),
                copied_properties: &|_| None,
                refusal: &|_| None,
            };
            process_events(config, route, &received, options)
        }
        Events::Received(received, limits) => {
            let refusal = |index: usize| {
                if received.oversized.contains(&index) {
                    return Some((
                        Reason::EventTooLarge,
                        format!(
                            "the event is larger than Segment's limit of {} bytes per event (counting the batch's context and integrations it takes)",
                            limits.max_event_bytes
                        ),
                    ));
                }
                let (_, error) = received.unreadable.iter().find(|(at, _)| *at == index)?;
                Some((
                    Reason::UnreadableEvent,
                    format!("the event is JSON but cannot be read: {error}"),
                ))
            };
            let events = Received {
                count: received.len(),
                bytes: received.body_bytes,
                event: &|index| received.event(index),
                copied_properties: &|index| received.copied_properties(index),
                refusal: &refusal,
            };
            process_events(config, route, &events, options)
        }
    }
}

/// The LaunchDarkly events bound for one destination, serialised one after the other.
#[derive(Default)]
struct Batch {
    /// `[` and the events separated by commas: the body of a single payload but for its `]`.
    body: String,
    /// The events' identities (see [`write_identity`]), one after the other.
    identities: String,
    events: Vec<BatchedEvent>,
    /// What the request may still add ([`Batch::for_request`]).
    room: RequestRoom,
}

/// How many events a request holds and its body's size: once a [`Batch`] holds its first
/// event, it reserves room for as many more of that event's size as the request has events
/// after it, within these bytes.
#[derive(Clone, Copy, Default)]
struct RequestRoom {
    events: usize,
    bytes: usize,
}

/// Where one LaunchDarkly event of a [`Batch`] lies.
struct BatchedEvent {
    /// Its JSON in [`Batch::body`].
    json: Range<usize>,
    /// Where its `creationDate` value lies in its JSON, when the bridge stamped it at receipt
    /// (the event had no timestamp): left out of the payload id, so that a retry received later
    /// gets the same id.
    stamped_date: Option<Range<usize>>,
    /// Its identity in [`Batch::identities`].
    identity: Range<usize>,
    /// The position of its Segment event in the request.
    index: usize,
}

impl Batch {
    /// None yet, for a request of `events` events in a body of `bytes` bytes.
    fn for_request(events: usize, bytes: usize) -> Self {
        Batch {
            room: RequestRoom { events, bytes },
            ..Batch::default()
        }
    }

    /// Adds an event: `identity` writes its identity, `json` its JSON at the end of the body.
    fn push(
        &mut self,
        index: usize,
        stamped_at_receipt: bool,
        identity: impl FnOnce(&mut String),
        json: impl FnOnce(&mut String),
    ) {
        if self.events.is_empty() {
            // About one typical event, so that it is written without growing the buffers.
            self.body.reserve(2048);
            self.identities.reserve(128);
        }
        self.body
            .push(if self.events.is_empty() { '[' } else { ',' });
        let start = self.body.len();
        json(&mut self.body);
        let identity_start = self.identities.len();
        identity(&mut self.identities);
        let written = self.body.as_bytes().get(start..).unwrap_or_default();
        self.events.push(BatchedEvent {
            stamped_date: stamped_at_receipt
                .then(|| creation_date_range(written))
                .flatten(),
            json: start..self.body.len(),
            identity: identity_start..self.identities.len(),
            index,
        });
        if self.events.len() == 1 {
            self.reserve_for_rest(index);
        }
    }

    /// After the first event (the request's event `index`), reserves room for the request's
    /// events after it, each as large as the first: all three lists written once instead of
    /// grown by doubling and copied (Segment's batches are alike). What the body reserves
    /// stays within twice the request's size (and its `]`), the identities' and the list's
    /// within its size, so that a large first event in a request of small ones reserves no
    /// more than the request could fill.
    fn reserve_for_rest(&mut self, index: usize) {
        let Some(first) = self.events.first() else {
            return;
        };
        let RequestRoom { events, bytes } = self.room;
        let rest = events.saturating_sub(index.saturating_add(1));
        let within = |each: usize, limit: usize| each.saturating_mul(rest).min(limit);
        // Each event after the first also takes a comma; a payload of them all its `]`.
        let body = within(first.json.len() + 1, bytes.saturating_mul(2)).saturating_add(1);
        let identities = within(first.identity.len(), bytes);
        let listed = rest.min(bytes / std::mem::size_of::<BatchedEvent>());
        self.body.reserve(body);
        self.identities.reserve(identities);
        self.events.reserve(listed);
    }

    /// The JSON and the identity of the last event.
    fn last(&self) -> Option<(&str, &str)> {
        let event = self.events.last()?;
        Some((self.json(event), self.identity(event)))
    }

    fn identity(&self, event: &BatchedEvent) -> &str {
        self.identities
            .get(event.identity.clone())
            .unwrap_or_default()
    }

    fn json(&self, event: &BatchedEvent) -> &str {
        self.body.get(event.json.clone()).unwrap_or_default()
    }

    /// What of an event's JSON its payload id covers: all of it, or what lies around a
    /// creation date stamped at receipt.
    fn content(&self, event: &BatchedEvent) -> [&[u8]; 2] {
        let json = self.json(event).as_bytes();
        match &event.stamped_date {
            Some(date) => [
                json.get(..date.start).unwrap_or_default(),
                json.get(date.end..).unwrap_or_default(),
            ],
            None => [json, &[]],
        }
    }
}

/// The digits of the `creationDate` value in one LaunchDarkly event's JSON. It is the first
/// `,"creationDate":` followed by a number: no JSON string holds `,"` unescaped, and a context
/// kind of that name is followed by a string.
fn creation_date_range(json: &[u8]) -> Option<Range<usize>> {
    const KEY: &[u8] = b",\"creationDate\":";
    let mut from = 0;
    while let Some(at) = json
        .get(from..)?
        .windows(KEY.len())
        .position(|window| window == KEY)
    {
        let start = from + at + KEY.len();
        let digits = json
            .get(start..)?
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'-')
            .count();
        if digits > 0 {
            return Some(start..start + digits);
        }
        from = start;
    }
    None
}

/// The events of a request as the pipeline reads them.
struct Received<'r> {
    /// How many events the request holds.
    count: usize,
    /// The size of the request's body in bytes (0 for events given parsed): what a [`Batch`]
    /// reserves for its events is bounded by it.
    bytes: usize,
    /// Event `index`, with anything it inherits from its batch.
    event: &'r dyn Fn(usize) -> Option<EventRef<'r>>,
    /// Event `index`'s `properties` as JSON text, when they were copied rather than built
    /// ([`crate::segment::PropertiesRead::Copied`]).
    copied_properties: &'r dyn Fn(usize) -> Option<&'r str>,
    /// Why event `index` was refused before being read, if it was: reason and message.
    refusal: &'r dyn Fn(usize) -> Option<(Reason, String)>,
}

fn process_events(
    config: &BridgeConfig,
    route: &SourceRoute,
    received: &Received<'_>,
    options: Options,
) -> Processed {
    let mut batches: Vec<Batch> = config
        .destinations
        .iter()
        .map(|_| Batch::for_request(received.count, received.bytes))
        .collect();
    let mut traces = Vec::new();
    let outcomes = (0..received.count)
        .map(|index| {
            if let Some((reason, message)) = (received.refusal)(index) {
                if options.trace && CAN_TRACE {
                    traces.push(trace::trace_event(
                        config,
                        route,
                        index,
                        None,
                        false,
                        Vec::new(),
                    ));
                }
                return Outcome::new(index, OutcomeStatus::Rejected, reason, message);
            }
            let event = (received.event)(index).unwrap_or(EventRef::from(&Value::Null));
            let read = (event, (received.copied_properties)(index));
            // `CAN_TRACE` again, as a constant: a build without traces leaves their code out.
            let mut ran = (options.trace && CAN_TRACE).then(Vec::new);
            let describe = options.describe_accepted || options.trace;
            let mut outcome = process_event(
                config,
                route,
                index,
                read,
                (options.received_at_ms, describe),
                &mut batches,
                ran.as_mut(),
            );
            if !describe
                && outcome.status == OutcomeStatus::Accepted
                && !outcome.warnings.is_empty()
            {
                // Listed after all: the same processing again, described, into batches that
                // are dropped (the event is in `batches` once).
                let mut scratch: Vec<Batch> = config
                    .destinations
                    .iter()
                    .map(|_| Batch::default())
                    .collect();
                outcome = process_event(
                    config,
                    route,
                    index,
                    read,
                    (options.received_at_ms, true),
                    &mut scratch,
                    None,
                );
            }
            if let Some(ran) = ran {
                let shaped = check_shape(event).is_ok();
                traces.push(trace::trace_event(
                    config,
                    route,
                    index,
                    Some(&event.to_value()),
                    shaped,
                    ran,
                ));
            }
            outcome
        })
        .collect();
    let scope = route.source.as_deref().unwrap_or("");
    let mut payloads = Vec::new();
    for (destination, batch) in config.destinations.iter().zip(batches) {
        plan_payloads(
            destination,
            scope,
            batch,
            &PayloadLimits::DEFAULT,
            &mut payloads,
        );
    }
    Processed {
        outcomes,
        payloads,
        traces,
    }
}

/// Cuts one destination's events into payloads within `limits`, in order, added to `planned`.
fn plan_payloads(
    destination: &Destination,
    source: &str,
    mut batch: Batch,
    limits: &PayloadLimits,
    planned: &mut Vec<PlannedPayload>,
) {
    let mut start = 0;
    let mut bytes = 2;
    let count = batch.events.len();
    for end in 0..=count {
        let full = end == count
            || (end > start
                && (end - start >= limits.max_events
                    || bytes + 1 + batch.events[end].json.len() > limits.max_bytes));
        if full && end > start {
            let events = &batch.events[start..end];
            let id = payload_id(
                &destination.client_side_id,
                source,
                events
                    .iter()
                    .map(|event| (batch.identity(event), batch.content(event))),
            );
            let event_indexes = events.iter().map(|event| event.index).collect();
            let body = if start == 0 && end == count {
                // All in one payload: the batch's body is it.
                let mut body = std::mem::take(&mut batch.body);
                body.push(']');
                body
            } else {
                let mut body = String::with_capacity(bytes);
                for event in events {
                    body.push(if body.is_empty() { '[' } else { ',' });
                    body.push_str(batch.json(event));
                }
                body.push(']');
                body
            };
            planned.push(PlannedPayload {
                destination: destination.name.clone(),
                url: destination
                    .events_base
                    .bulk_url(&destination.client_side_id),
                payload_id: id,
                event_indexes,
                body,
            });
            start = end;
            bytes = 2;
        }
        // `bytes` is the length the payload's body would have if closed now.
        if let Some(event) = batch.events.get(end) {
            bytes += event.json.len() + usize::from(end > start);
        }
    }
}

/// One event through the configuration: its shape, the subscriptions it reaches and matches,
/// the envelope, each mapping, sampling and filters, the catalogues; what is sent is written to
/// `batches`, and the event's outcome returned (described when `describe` says so or it has
/// warnings, see [`Options::describe_accepted`]). Never inlined: [`process_events`] calls it
/// twice (once more for an accepted event with warnings), and one copy keeps the wasm smaller.
#[inline(never)]
fn process_event(
    config: &BridgeConfig,
    route: &SourceRoute,
    index: usize,
    (event, copied_properties): (EventRef<'_>, Option<&str>),
    (received_at_ms, describe): (i64, bool),
    batches: &mut [Batch],
    ran: Option<&mut Vec<Ran>>,
) -> Outcome {
    // Known to be `None` in a build without traces, so their code is left out of it.
    let mut ran = ran.filter(|_| CAN_TRACE);
    if let Err((status, reason, message)) = check_shape(event) {
        return Outcome::new(index, status, reason, message);
    }
    let reachable = |subscription: &&Subscription| {
        subscription.enabled
            && subscription
                .destinations
                .iter()
                .any(|d| route.destinations.contains(d))
    };
    let mut matched = config
        .subscriptions
        .iter()
        .enumerate()
        .filter(|(_, s)| reachable(s))
        .filter(|(_, s)| s.trigger.matches(event))
        .peekable();
    if matched.peek().is_none() {
        let candidates: Vec<&Subscription> =
            config.subscriptions.iter().filter(reachable).collect();
        return unmatched(index, event, &candidates);
    }
    // The descriptions of the LaunchDarkly events, separated by "; ", become its message.
    let mut accepted = Outcome::new(
        index,
        OutcomeStatus::Accepted,
        Reason::TrackEvent,
        String::new(),
    );
    let mut delivered = false;
    let mut rejections = Vec::new();
    let mut dropped = Vec::new();
    // The Segment envelope (src/envelope.rs): integrations and consent close destinations
    // before anything is mapped; sampling and property filters follow the mapping.
    let closed = envelope::Closed::find(
        event,
        (route.destinations.iter())
            .filter_map(|&d| Some((d, &config.destinations.get(d)?.envelope))),
    );
    let mut skips = envelope::Skips::default();
    for (position, subscription) in matched {
        let reached = || {
            (subscription.destinations.iter().copied()).filter(|d| route.destinations.contains(d))
        };
        let mut gates = ran
            .is_some()
            .then(|| envelope_trace(config, event, reached()));
        if closed.closes_all(reached()) {
            let refusal = record_closed(config, &closed, reached(), &mut skips);
            if let (Some(ran), Some((code, message))) = (ran.as_deref_mut(), refusal) {
                let result = Err(RejectionTrace { code, message });
                ran.push(Ran {
                    subscription: position,
                    result,
                    key_checks: Vec::new(),
                    envelope: gates,
                });
            }
            continue;
        }
        let mapped =
            (subscription.mapping).map_read_event(event, copied_properties, received_at_ms);
        let mut custom = match mapped {
            Ok(custom) => custom,
            Err(rejection) => {
                if let Some(ran) = ran.as_deref_mut() {
                    ran.push(Ran {
                        subscription: position,
                        result: Err(RejectionTrace::from(&rejection)),
                        key_checks: Vec::new(),
                        envelope: gates,
                    });
                }
                rejections.push((subscription, rejection));
                continue;
            }
        };
        let several = config.subscriptions.len() > 1;
        if !sample_and_filter(
            subscription,
            &mut custom,
            &mut skips,
            gates.as_mut(),
            several,
        ) {
            if let Some(ran) = ran.as_deref_mut() {
                let result = Ok(custom.into_owned());
                ran.push(Ran {
                    subscription: position,
                    result,
                    key_checks: Vec::new(),
                    envelope: gates,
                });
            }
            continue;
        }
        let mut key_checks = Vec::new();
        let mut sent = false;
        // The batch the event was first written to.
        let mut first_batch = None;
        for &position in subscription
            .destinations
            .iter()
            .filter(|d| route.destinations.contains(d))
        {
            let Some(destination) = config.destinations.get(position) else {
                continue;
            };
            if let Some(gate) = closed.get(position) {
                skips.closed(gate, &destination.name, &destination.envelope);
                continue;
            }
            let warned = accepted.warnings.len();
            let judgement = check_catalogue(destination, &custom, &mut accepted.warnings);
            if let (Some(judgement), true) = (&judgement, ran.is_some()) {
                let verdicts = accepted.warnings.get(warned..).unwrap_or_default();
                key_checks.push(KeyCheckTrace::new(
                    index,
                    &subscription.name,
                    &destination.name,
                    &custom,
                    judgement,
                    verdicts,
                ));
            }
            if let Some(reason) = judgement.as_ref().and_then(Judgement::drop_reason) {
                dropped.push((destination.name.clone(), reason));
                continue;
            }
            // Serialised and identified once, however many destinations get it.
            let copy = match first_batch {
                None => None,
                Some(at) => batches
                    .get(at)
                    .and_then(Batch::last)
                    .map(|(json, identity)| (json.to_string(), identity.to_string())),
            };
            let Some(batch) = batches.get_mut(position) else {
                continue;
            };
            let stamped = custom.creation_date == received_at_ms;
            match copy {
                None => batch.push(
                    index,
                    stamped,
                    |identities| write_identity(identities, event, &subscription.name),
                    |body| custom.write_json(body),
                ),
                Some((json, identity)) => batch.push(
                    index,
                    stamped,
                    |identities| identities.push_str(&identity),
                    |body| body.push_str(&json),
                ),
            }
            first_batch.get_or_insert(position);
            if describe {
                let message = &mut accepted.message;
                if sent {
                    message.push_str(", ");
                } else {
                    if !message.is_empty() {
                        message.push_str("; ");
                    }
                    describe_event(message, &custom);
                    message.push_str(" to ");
                }
                message.push_str(&destination.name);
                if !accepted.destinations.contains(&destination.name) {
                    accepted.destinations.push(destination.name.clone());
                }
            }
            sent = true;
        }
        if sent {
            delivered = true;
            if describe {
                accepted.subscriptions.push(subscription.name.clone());
            }
        }
        if let Some(ran) = ran.as_deref_mut() {
            ran.push(Ran {
                subscription: position,
                result: Ok(custom.into_owned()),
                key_checks,
                envelope: gates,
            });
        }
    }
    let several = config.subscriptions.len() > 1;
    let label = |subscription: &Subscription, message: &str| {
        if several {
            format!("subscription {:?}: {message}", subscription.name)
        } else {
            message.to_string()
        }
    };
    if delivered {
        skips.warn(&mut accepted.warnings);
        for (subscription, rejection) in rejections {
            accepted.warnings.push(Warning {
                code: rejection.code,
                message: label(subscription, &rejection.message),
            });
        }
        return accepted;
    }
    if let Some((subscription, rejection)) = rejections.first() {
        let mut rejected = Outcome::new(
            index,
            OutcomeStatus::Rejected,
            rejection.code,
            label(subscription, &rejection.message),
        );
        rejected.warnings = accepted.warnings;
        for (subscription, rejection) in rejections.iter().skip(1) {
            rejected.warnings.push(Warning {
                code: rejection.code,
                message: label(subscription, &rejection.message),
            });
        }
        skips.warn(&mut rejected.warnings);
        return rejected;
    }
    if let Some(skipped) = skips.outcome(index, &mut accepted.warnings) {
        return skipped;
    }
    dropped_outcome(index, &dropped, accepted.warnings)
}

/// Judges a LaunchDarkly event by a destination's catalogue (none without one: the common
/// case costs a branch); its verdicts become warnings.
fn check_catalogue<'c>(
    destination: &'c Destination,
    custom: &CustomEvent<'_>,
    warnings: &mut Vec<Warning>,
) -> Option<Judgement<'c>> {
    let catalogue = destination.catalogue.as_ref()?;
    let kinds = || custom.context_keys.iter().map(|(kind, _)| kind);
    let judgement = catalogue.judge(&custom.key, kinds, custom.metric_value.is_some());
    judgement.warn(&destination.name, &custom.key, kinds, warnings);
    Some(judgement)
}

/// The outcome of an event that every destination's catalogue dropped (`unknown_event_keys`
/// is `"drop"`), each with its reason: skipped with the first reason, `warnings` kept.
fn dropped_outcome(index: usize, dropped: &[(String, Reason)], warnings: Vec<Warning>) -> Outcome {
    let mut parts: Vec<(Reason, Vec<&str>)> = Vec::new();
    for (destination, reason) in dropped {
        match parts.iter_mut().find(|(known, _)| known == reason) {
            Some((_, names)) if names.contains(&destination.as_str()) => {}
            Some((_, names)) => names.push(destination),
            None => parts.push((*reason, vec![destination])),
        }
    }
    let message = parts
        .iter()
        .map(|(reason, names)| match reason {
            Reason::UnknownEventKey => format!(
                "the event key is not a known metric event key of {}",
                names.join(", ")
            ),
            _ => format!(
                "no metric of {} would count it ({reason})",
                names.join(", ")
            ),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let reason = parts
        .first()
        .map_or(Reason::UnknownEventKey, |(reason, _)| *reason);
    let mut skipped = Outcome::new(
        index,
        OutcomeStatus::Skipped,
        reason,
        format!("not sent: {message} (unknown_event_keys = \"drop\")"),
    );
    skipped.warnings = warnings;
    skipped
}

/// The outcome of an event that no subscription matched, naming the closest trigger.
fn unmatched(index: usize, event: EventRef<'_>, candidates: &[&Subscription]) -> Outcome {
    let closest = candidates
        .iter()
        .filter_map(|s| s.trigger.explain(event).map(|mismatch| (s, mismatch)))
        .min_by_key(|(_, mismatch)| mismatch.score);
    let Some((subscription, mismatch)) = closest else {
        return Outcome::new(
            index,
            OutcomeStatus::Skipped,
            Reason::NoSubscription,
            "no enabled subscription feeds the destinations of this request's source".to_string(),
        );
    };
    let failed = mismatch
        .failed
        .iter()
        .map(|condition| condition.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let closest = format!(
        "closest trigger: {:?} ({}), which failed on {failed}",
        subscription.name,
        subscription.trigger.source()
    );
    match segment::event_type(event) {
        Some(kind) if kind != "track" => Outcome::new(
            index,
            OutcomeStatus::Skipped,
            Reason::NotATrackEvent,
            format!(
                "{kind:?} events cannot feed LaunchDarkly custom metrics; only track events become metric events (page views, screens and clicks cannot); {closest}"
            ),
        ),
        _ => Outcome::new(
            index,
            OutcomeStatus::Skipped,
            Reason::NoMatchingSubscription,
            format!("no subscription's trigger matches this event; {closest}"),
        ),
    }
}

/// Events must be objects with a `type`.
fn check_shape(event: EventRef<'_>) -> Result<(), (OutcomeStatus, Reason, String)> {
    if let Some(value) = event.non_object() {
        return Err((
            OutcomeStatus::Rejected,
            Reason::InvalidEvent,
            format!(
                "a Segment event must be a JSON object, not {}",
                crate::track_event::json_type_name(value)
            ),
        ));
    }
    if segment::event_type(event).is_none() {
        return Err((
            OutcomeStatus::Rejected,
            Reason::MissingType,
            "the event has no \"type\"; Segment events carry one (\"track\" for metric events)"
                .to_string(),
        ));
    }
    Ok(())
}

/// Writes what, besides its LaunchDarkly JSON, identifies one LaunchDarkly event across
/// retries: the Segment event's `messageId` (empty without one) and the subscription that
/// produced it.
fn write_identity(out: &mut String, event: EventRef<'_>, subscription: &str) {
    out.push_str(segment::message_id(event).unwrap_or_default());
    out.push('\u{1f}');
    out.push_str(subscription);
}

/// Writes `metric event "key" for kind "key", …` (the destinations follow).
fn describe_event(message: &mut String, event: &CustomEvent<'_>) {
    let keys: usize = (event.context_keys.iter())
        .map(|(kind, key)| kind.len() + key.len() + 5)
        .sum();
    message.reserve(64 + event.key.len() + keys);
    message.push_str("metric event ");
    // The key as Rust's `{:?}` writes it; quoted as it is when nothing needs escaping.
    if event
        .key
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        push_quoted(message, &event.key);
    } else {
        #[expect(
            clippy::let_underscore_must_use,
            reason = "fmt::Write for String never returns an error"
        )]
        let _ = write!(message, "{:?}", event.key);
    }
    message.push_str(" for ");
    let mut first = true;
    for (kind, key) in event.context_keys.iter() {
        if !first {
            message.push_str(", ");
        }
        first = false;
        message.push_str(kind);
        message.push(' ');
        // The key as JSON; quoted as it is when nothing needs escaping.
        if crate::json::needs_escaping(key.as_bytes()) {
            message.push_str(&Value::from(key).to_string());
        } else {
            push_quoted(message, key);
        }
    }
}

fn push_quoted(message: &mut String, text: &str) {
    message.push('"');
    message.push_str(text);
    message.push('"');
}

// The Segment envelope's steps (src/envelope.rs), as `process_event` takes them.

/// The envelope's trace of the destinations at `positions`: their integrations and consent
/// checks.
fn envelope_trace(
    config: &BridgeConfig,
    event: EventRef<'_>,
    positions: impl Iterator<Item = usize>,
) -> EnvelopeTrace {
    EnvelopeTrace::new(
        event,
        positions
            .filter_map(|d| config.destinations.get(d))
            .map(|d| (d.name.as_str(), &d.envelope)),
    )
}

/// Records why each destination at `positions` is closed; returns the first reason, for the
/// trace.
fn record_closed(
    config: &BridgeConfig,
    closed: &envelope::Closed,
    positions: impl Iterator<Item = usize>,
    skips: &mut envelope::Skips,
) -> Option<(Reason, String)> {
    let mut first = None;
    for position in positions {
        let (Some(gate), Some(destination)) =
            (closed.get(position), config.destinations.get(position))
        else {
            continue;
        };
        skips.closed(gate, &destination.name, &destination.envelope);
        if first.is_none() {
            first = gate.refusal(&destination.name, &destination.envelope);
        }
    }
    first
}

/// Samples a subscription's LaunchDarkly event on its context key, then filters its `data`;
/// false when it is sampled out. `several`: whether messages name the subscription.
fn sample_and_filter(
    subscription: &Subscription,
    custom: &mut CustomEvent<'_>,
    skips: &mut envelope::Skips,
    mut trace: Option<&mut EnvelopeTrace>,
    several: bool,
) -> bool {
    if let Some(sampling) = &subscription.envelope.sampling {
        let decision = sampling.decide(custom);
        let kept = decision.kept;
        skips.sampled(&decision, several.then_some(subscription.name.as_str()));
        if let Some(trace) = trace.as_deref_mut() {
            trace.sampling = Some(decision);
        }
        if !kept {
            return false;
        }
    }
    if let Some(filter) = &subscription.envelope.filter {
        let dropped = envelope::filter_data(&mut custom.data, filter);
        if let Some(trace) = trace {
            trace.dropped_properties = Some(dropped);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process_all(config: &BridgeConfig, events: &[Value], received_at_ms: i64) -> Processed {
        process(
            config,
            &every_destination(config),
            Events::Parsed(events),
            Options::at(received_at_ms),
        )
    }
    use crate::inbound::{read_tracking_call, TrackingCall};
    use serde_json::{json, Map};

    /// Adds to `batch` the request's event `index`: JSON of `size` bytes, an identity of 8.
    fn push_sized(batch: &mut Batch, index: usize, size: usize) {
        batch.push(
            index,
            false,
            |identity| identity.push_str(&format!("{index:08}")),
            |json| json.push_str(&"x".repeat(size)),
        );
    }

    /// After its first event, a batch has room for the request's other events of that size:
    /// alike events are written without growing (or moving) its lists.
    #[test]
    fn a_batch_has_room_for_the_rest_of_its_request_after_its_first_event() {
        let mut batch = Batch::for_request(100, 100 * 200);
        push_sized(&mut batch, 0, 150);
        assert!(
            batch.body.capacity() >= 151 * 100,
            "{}",
            batch.body.capacity()
        );
        assert!(batch.identities.capacity() >= 8 * 100);
        assert!(batch.events.capacity() >= 100);
        let room = |batch: &Batch| {
            (
                batch.body.as_ptr(),
                batch.body.capacity(),
                batch.identities.capacity(),
                batch.events.capacity(),
            )
        };
        let after_first = room(&batch);
        for index in 1..100 {
            push_sized(&mut batch, index, 150);
        }
        assert_eq!(room(&batch), after_first);
        // Events after the first one in the request only: the 51st of 100 leaves room for 49.
        let mut batch = Batch::for_request(100, 100 * 200);
        push_sized(&mut batch, 50, 150);
        assert!(batch.events.capacity() >= 50 && batch.events.capacity() < 100);
    }

    /// What a batch reserves stays within twice its request's size (a large first event in a
    /// request of small ones reserves no more than the request could fill), and a batch of
    /// events given parsed (no request) reserves nothing past its first event.
    #[test]
    fn what_a_batch_reserves_stays_within_twice_its_request() {
        let mut batch = Batch::for_request(2500, 40_000);
        push_sized(&mut batch, 0, 32_000);
        // Twice the request, and the closing `]`.
        assert!(batch.body.capacity() - batch.body.len() <= 2 * 40_000 + 1);
        assert!(batch.body.capacity() - batch.body.len() >= 2 * 40_000 - 32_001);
        assert!(batch.identities.capacity() <= 8 + 40_000);
        let listed = 40_000 / std::mem::size_of::<BatchedEvent>();
        assert!(
            batch.events.capacity() <= 1 + listed,
            "{}",
            batch.events.capacity()
        );
        assert!(batch.events.capacity() >= listed);

        let mut parsed = Batch::for_request(2500, 0);
        push_sized(&mut parsed, 0, 150);
        assert!(parsed.body.capacity() <= 2048 + 1);
        assert!(parsed.identities.capacity() <= 128);
        assert!(parsed.events.capacity() <= 4);
    }

    /// The fast paths of [`describe`] write what `{:?}` (the key) and JSON (context keys) write.
    #[test]
    fn descriptions_quote_as_debug_and_json_do() {
        for text in [
            "Order Completed",
            "",
            "a\"b",
            "back\\slash",
            "tab\t",
            "é",
            "~ !'",
            "\u{7f}",
            "\u{1}",
            "\u{301}",
        ] {
            let mut context_keys = crate::launchdarkly::ContextKeys::new();
            context_keys.insert("user", text);
            context_keys.insert("org", "o");
            let event = CustomEvent {
                kind: "custom",
                key: text.into(),
                context_keys,
                creation_date: 0,
                metric_value: None,
                data: crate::launchdarkly::EventData::Object(Cow::Owned(Map::new())),
            };
            let mut message = String::new();
            describe_event(&mut message, &event);
            let expected = format!(
                "metric event {:?} for user {}, org \"o\"",
                text,
                Value::from(text)
            );
            assert_eq!(message, expected);
        }
    }

    fn two_sources() -> BridgeConfig {
        crate::config::read_document(&json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [
                {"name": "server", "source_ids": ["server"], "allow_unsigned": true},
                {"name": "browser", "write_keys": ["wk"]}
            ]
        }))
        .expect("valid")
    }

    /// 2025-06-15, after the events' timestamps.
    const T: i64 = 1_750_000_000_000;

    /// A Tracking API batch `body` from the write key `wk`, read under Segment's limits (every
    /// field, `properties` built) and processed at [`T`].
    fn process_batch_body(config: &BridgeConfig, body: &[u8]) -> Processed {
        let limits = Limits::SEGMENT;
        let request = read_tracking_call(
            TrackingCall::Batch,
            body,
            &limits,
            &crate::segment::FieldsRead::All,
            &crate::segment::PropertiesRead::Built,
        )
        .expect("read");
        let route = config
            .route(crate::config::SourceHint::WriteKey("wk"))
            .expect("route");
        process(
            config,
            &route,
            Events::Received(&request.received, &limits),
            Options::at(T),
        )
    }

    /// A request of alike events becomes a payload whose body was written into room made
    /// once, after the first event, for all of them and the closing `]`: no growth, no copy.
    #[test]
    fn a_request_of_alike_events_is_written_into_room_made_once() {
        let config = two_sources();
        let events: Vec<Value> = (0..100)
            .map(|i| {
                json!({"type": "track", "event": "Order Completed", "userId": format!("user-{i:03}"),
                       "messageId": format!("m-{i:03}"), "timestamp": "2024-05-06T07:08:09.123Z",
                       "properties": {"revenue": 19.99}})
            })
            .collect();
        let body = json!({"writeKey": "wk", "batch": events}).to_string();
        let processed = process_batch_body(&config, body.as_bytes());
        let [payload] = &processed.payloads[..] else {
            panic!("one payload: {:?}", processed.payloads.len());
        };
        assert_eq!(payload.event_indexes.len(), 100);
        assert_eq!(payload.body.capacity(), payload.body.len());
    }

    fn id_of(config: &BridgeConfig, source: &str, events: &[Value], received_at: i64) -> String {
        let route = config
            .route(crate::config::SourceHint::SourceId("server"))
            .map(|mut route| {
                route.source = Some(source.to_string());
                route
            });
        let processed = process(
            config,
            &route.expect("route"),
            Events::Parsed(events),
            Options::at(received_at),
        );
        processed.payloads[0].payload_id.to_string()
    }

    #[test]
    fn payload_ids_belong_to_one_source_and_one_content() {
        let config = two_sources();
        let order = json!({"type": "track", "event": "Order", "userId": "u", "messageId": "order-1001",
                           "timestamp": "2025-01-01T00:00:00Z", "properties": {"revenue": 10}});
        let server = id_of(&config, "server", std::slice::from_ref(&order), T);
        // A retry, received later, carries the same id.
        assert_eq!(
            server,
            id_of(&config, "server", std::slice::from_ref(&order), T + 2_000)
        );
        // The same messageId from another source never does.
        assert_ne!(
            server,
            id_of(&config, "browser", std::slice::from_ref(&order), T)
        );
        // Nor does other content with the same messageId from the same source.
        let mut forged = order.clone();
        forged["properties"]["revenue"] = json!(1_000_000);
        assert_ne!(server, id_of(&config, "server", &[forged], T));
        // Two events without messageId differ by their content.
        let plain = |name: &str| json!({"type": "track", "event": name, "userId": "u", "timestamp": "2025-01-01T00:00:00Z"});
        assert_ne!(
            id_of(&config, "server", &[plain("A")], T),
            id_of(&config, "server", &[plain("B")], T)
        );
    }

    #[test]
    fn a_creation_date_stamped_at_receipt_is_left_out_of_the_payload_id() {
        let config = two_sources();
        let untimed = json!({"type": "track", "event": "E", "userId": "u"});
        let first = id_of(&config, "server", std::slice::from_ref(&untimed), T);
        assert_eq!(
            first,
            id_of(&config, "server", std::slice::from_ref(&untimed), T + 9_999)
        );
        // An event's own timestamp counts.
        let timed =
            |at: &str| json!({"type": "track", "event": "E", "userId": "u", "timestamp": at});
        assert_ne!(
            id_of(&config, "server", &[timed("2025-01-01T00:00:00Z")], T),
            id_of(&config, "server", &[timed("2025-01-01T00:00:00.001Z")], T)
        );
        assert_ne!(
            first,
            id_of(&config, "server", &[timed("2025-01-01T00:00:00Z")], T)
        );
    }

    #[test]
    fn the_creation_date_is_found_after_a_context_kind_of_that_name() {
        let json = br#"{"kind":"custom","key":",\"creationDate\":1","contextKeys":{"creationDate":"7"},"creationDate":-42,"data":{"creationDate":5}}"#;
        let range = creation_date_range(json).unwrap();
        assert_eq!(&json[range], b"-42");
        assert_eq!(creation_date_range(br#"{"creationDate":1}"#), None);
        assert_eq!(creation_date_range(br#"{"a":1,"creationDate":"x"}"#), None);
        assert_eq!(creation_date_range(b""), None);
    }

    #[test]
    fn an_unreadable_or_oversized_item_is_rejected_alone_and_the_batch_context_is_used() {
        let config = two_sources();
        let body = br#"{"writeKey":"wk","context":{"traits":{"plan":"pro"}},"batch":[
            {"type":"track","event":"A","userId":"u","n":1e400},
            {"type":"track","event":"B","userId":"u"},
            {"type":"track","event":"C","userId":"u","context":{"own":true}}]}"#;
        let processed = process_batch_body(&config, body);
        let reasons: Vec<&str> = processed
            .outcomes
            .iter()
            .map(|o| o.reason.as_str())
            .collect();
        assert_eq!(reasons, ["unreadable_event", "track_event", "track_event"]);
        assert!(processed.outcomes[0]
            .message
            .contains("number out of range"));
        assert_eq!(processed.payloads[0].event_indexes, [1, 2]);
    }

    fn batch_of(count: usize) -> Batch {
        let mut batch = Batch::default();
        for index in 0..count {
            batch.push(
                index,
                false,
                |identities| identities.push_str(&format!("m{index}")),
                |body| body.push_str(r#"{"k":"xx"}"#),
            );
        }
        batch
    }

    fn cut(count: usize, max_events: usize, max_bytes: usize) -> Vec<usize> {
        let destination = Destination::new("env", "").expect("destination");
        let mut planned = Vec::new();
        let limits = PayloadLimits {
            max_events,
            max_bytes,
        };
        plan_payloads(&destination, "s", batch_of(count), &limits, &mut planned);
        for delivery in &planned {
            assert!(
                delivery.event_indexes.len() == 1 || delivery.body.len() <= max_bytes,
                "{}",
                delivery.body
            );
            let parsed: Vec<Value> = serde_json::from_str(&delivery.body).expect("JSON");
            assert_eq!(parsed.len(), delivery.event_indexes.len());
        }
        planned.iter().map(|d| d.event_indexes.len()).collect()
    }

    #[test]
    fn payloads_are_cut_exactly_at_their_limits() {
        // Events of 10 bytes: a body of k events is 2 + 10k + (k - 1) bytes.
        assert_eq!(cut(7, 3, 1_000), [3, 3, 1]);
        assert_eq!(cut(6, 3, 1_000), [3, 3]);
        assert_eq!(cut(3, 4, 34), [3]);
        assert_eq!(cut(3, 4, 33), [2, 1]);
        assert_eq!(cut(5, 10, 23), [2, 2, 1]);
        assert_eq!(cut(5, 10, 22), [1, 1, 1, 1, 1]);
        assert_eq!(
            cut(1, 10, 5),
            [1],
            "an event larger than the limit still goes, alone"
        );
        assert_eq!(cut(0, 10, 100), Vec::<usize>::new());
    }

    #[test]
    fn the_message_id_tells_apart_events_that_are_otherwise_the_same() {
        let config = two_sources();
        let click = |id: &str| {
            json!({"type": "track", "event": "Click", "userId": "u", "messageId": id,
                                      "timestamp": "2025-01-01T00:00:00Z"})
        };
        assert_ne!(
            id_of(&config, "server", &[click("m-1")], T),
            id_of(&config, "server", &[click("m-2")], T)
        );
        // An empty messageId is none.
        assert_eq!(
            id_of(&config, "server", &[click("")], T),
            id_of(
                &config,
                "server",
                &[json!({"type": "track", "event": "Click", "userId": "u",
                                                "timestamp": "2025-01-01T00:00:00Z"})],
                T
            )
        );
        assert_ne!(
            id_of(&config, "server", &[click("")], T),
            id_of(&config, "server", &[click("x")], T)
        );
    }

    #[test]
    fn messages_name_every_event_and_label_subscriptions_only_when_there_are_several() {
        let config = |subscriptions: Value| {
            crate::config::read_document(&json!({
                "destinations": [{"name": "d", "client_side_id": "env"}],
                "subscriptions": subscriptions
            }))
            .expect("valid")
        };
        let event = json!({"type": "track", "event": "E", "userId": "u", "properties": {"n": "x"}});
        let two = config(json!([
            {"name": "first"},
            {"name": "second", "mapping": {"event_name": "F"}}
        ]));
        let processed = process_all(&two, std::slice::from_ref(&event), T);
        assert_eq!(
            processed.outcomes[0].message,
            r#"metric event "E" for user "u" to d; metric event "F" for user "u" to d"#
        );
        // A rejection is labelled with its subscription only when there are several.
        let failing = json!({"metric_value": {"@path": "$.properties.n"}});
        let one = config(json!([{"name": "only", "mapping": failing}]));
        let rejected = &process_all(&one, std::slice::from_ref(&event), T).outcomes[0];
        assert_eq!(rejected.status, OutcomeStatus::Rejected);
        assert!(
            !rejected.message.starts_with("subscription"),
            "{}",
            rejected.message
        );
        let several = config(json!([
            {"name": "only", "mapping": failing},
            {"name": "other", "trigger": "event = \"nope\""}
        ]));
        let rejected = &process_all(&several, std::slice::from_ref(&event), T).outcomes[0];
        assert!(
            rejected.message.starts_with(r#"subscription "only": "#),
            "{}",
            rejected.message
        );
    }

    /// Brief processing sends the same payloads and decides the same outcomes, and leaves out
    /// only the descriptions of accepted events without warnings.
    #[test]
    fn brief_processing_describes_only_the_accepted_events_with_warnings() {
        let config = crate::config::read_document(&json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "subscriptions": [
                {"name": "first"},
                {"name": "numeric", "mapping": {"metric_value": {"@path": "$.properties.n"}}}
            ]
        }))
        .expect("valid");
        let events = [
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"n": 5}}),
            json!({"type": "track", "event": "E", "userId": "u", "properties": {"n": "x"}}),
            json!({"type": "page", "userId": "u"}),
        ];
        let run = |options: Options| {
            process(
                &config,
                &every_destination(&config),
                Events::Parsed(&events),
                options,
            )
        };
        let described = run(Options::at(T));
        let brief = run(Options::at(T).brief());
        assert_eq!(brief.payloads, described.payloads);
        assert_eq!(brief.payloads.len(), 1);
        let [plain, warned, page] = [0, 1, 2].map(|i| (&brief.outcomes[i], &described.outcomes[i]));
        // Accepted without warnings: counted, not described.
        assert_eq!(plain.1.status, OutcomeStatus::Accepted);
        assert!(plain.1.warnings.is_empty() && !plain.1.message.is_empty());
        assert_eq!(
            (plain.0.status, plain.0.reason, plain.0.index),
            (plain.1.status, plain.1.reason, plain.1.index)
        );
        assert!(plain.0.message.is_empty() && plain.0.warnings.is_empty());
        assert!(plain.0.subscriptions.is_empty() && plain.0.destinations.is_empty());
        // Accepted with a warning (the other subscription's rejection), and not accepted: whole.
        assert_eq!(warned.1.status, OutcomeStatus::Accepted);
        assert_eq!(warned.1.warnings.len(), 1);
        assert_eq!(warned.0, warned.1);
        assert_ne!(page.1.status, OutcomeStatus::Accepted);
        assert_eq!(page.0, page.1);
    }
}
