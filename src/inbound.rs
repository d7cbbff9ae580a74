//! How Segment data arrives, checked before anything else: the size limits Segment enforces,
//! Segment's webhook signatures (`X-Signature`), and the HTTP Tracking API (`/v1/track`, …).

use crate::json::Member;
use crate::segment::{
    field_position, members_object, set_field, EventRef, FieldsRead, Names, PropertiesRead,
    StoredField,
};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha1::Sha1;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use thiserror::Error;

/// Segment's limits on what one request may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one request body (Segment: 500 KB per batch request).
    pub max_request_bytes: usize,
    /// Bytes in one event (Segment: 32 KB).
    pub max_event_bytes: usize,
    /// Events in one request (Segment: 2,500 per batch).
    pub max_events: usize,
}

impl Limits {
    /// Segment's own limits.
    pub const SEGMENT: Limits = Limits {
        max_request_bytes: 500 * 1024,
        max_event_bytes: 32 * 1024,
        max_events: 2_500,
    };

    /// No limits (the CLI and the playground read whatever they are given).
    pub const NONE: Limits = Limits {
        max_request_bytes: usize::MAX,
        max_event_bytes: usize::MAX,
        max_events: usize::MAX,
    };
}

/// Why a request body could not be read as Segment events.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InboundError {
    /// The body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but neither an event, an array of events nor `{"batch": [...]}`.
    #[error("the request body is {0}; send one Segment event object, a JSON array of events, or {{\"batch\": [...]}}")]
    NotEvents(&'static str),
}

impl InboundError {
    /// The machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            InboundError::MalformedJson(_) => "malformed_json",
            InboundError::NotEvents(_) => "invalid_body",
        }
    }
}

/// A limit a request broke; answered with 400 (413 for the body's size) and a code that names it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LimitError {
    /// The body is larger than `max_request_bytes`.
    #[error("the request body is {bytes} bytes; Segment's limit is {limit} bytes ({} KB) per batch request", limit / 1024)]
    RequestTooLarge { bytes: usize, limit: usize },
    /// A single-event request larger than `max_event_bytes`.
    #[error("the event is {bytes} bytes; Segment's limit is {limit} bytes ({} KB) per event", limit / 1024)]
    EventTooLarge { bytes: usize, limit: usize },
    /// More than `max_events` events.
    #[error("the request has {events} events; Segment's limit is {limit} events per batch")]
    TooManyEvents { events: usize, limit: usize },
}

impl LimitError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LimitError::RequestTooLarge { .. } => "request_too_large",
            LimitError::EventTooLarge { .. } => "event_too_large",
            LimitError::TooManyEvents { .. } => "too_many_events",
        }
    }
}

/// Why a request was refused before its events were looked at.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ReadError {
    /// Not JSON, or not events.
    #[error(transparent)]
    Inbound(#[from] InboundError),
    /// Over a limit.
    #[error(transparent)]
    Limit(#[from] LimitError),
}

impl ReadError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Inbound(error) => error.code(),
            ReadError::Limit(error) => error.code(),
        }
    }
}

/// The events of a request, with the positions of events that broke the per-event limit or
/// could not be read inside a batch (they are rejected alone; the others go on).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceivedEvents {
    /// Every event, in order (an oversized or unreadable one as `null`).
    pub events: Vec<ReadEvent>,
    /// The names of the fields [`ReadEvent::Fields`] events hold, by index (the configuration's
    /// [`FieldsRead::Only`] list).
    pub names: Names,
    /// The names of the `properties` members looked up ([`PropertiesRead::Copied`]), by index:
    /// what the [`StoredField::Members`] of [`ReadEvent::Fields`] events are named by.
    pub members: Vec<Box<str>>,
    /// Positions of events larger than the per-event limit (with what they inherit from the
    /// batch, see [`ReceivedEvents::inherited`]).
    pub oversized: Vec<usize>,
    /// Positions of batch items that are JSON but not representable (a number such as `1e400`),
    /// with the parser's message.
    pub unreadable: Vec<(usize, String)>,
    /// Fields of a `{"batch": [...]}` envelope besides `batch` (`writeKey` taken out).
    pub envelope: Map<String, Value>,
    /// Tracking API batches: the envelope's `context` and `integrations`, which events that lack
    /// them take (Segment's batch semantics). Kept once, never copied into every event: see
    /// [`ReceivedEvents::event`].
    pub inherited: Map<String, Value>,
    /// The events' `properties` copied as JSON text ([`PropertiesRead::Copied`]), one after
    /// the other (see [`ReceivedEvents::copied_properties`]), and the characters of the
    /// strings that [`ReadEvent::Fields`] events hold as [`StoredField::Text`].
    pub copies: String,
    /// Where event `i`'s copy lies in [`copies`](Self::copies), by position (empty when
    /// nothing is copied).
    pub copied: Vec<Option<Range<usize>>>,
    /// The size of the body the events were read from, in bytes: what the pipeline's
    /// reservations for the request's LaunchDarkly events are bounded by.
    pub body_bytes: usize,
}

impl ReceivedEvents {
    /// None yet, read as `reading` says (the names of the fields it reads).
    fn reading(reading: Reading<'_>) -> Self {
        ReceivedEvents {
            names: reading.fields.listed().clone(),
            members: reading.properties.looked_up().to_vec(),
            ..ReceivedEvents::default()
        }
    }

    /// Event `index`'s `properties` as JSON text, when they were copied rather than built (its
    /// value then holds only the members a mapping looks up: [`PropertiesRead::Copied`]).
    pub fn copied_properties(&self, index: usize) -> Option<&str> {
        let range = self.copied.get(index)?.clone()?;
        self.copies.get(range)
    }

    /// Event `index` as the pipeline sees it: taking the batch's [`inherited`](Self::inherited)
    /// fields where it lacks them (nothing is copied).
    pub fn event(&self, index: usize) -> Option<EventRef<'_>> {
        let event = match self.events.get(index)? {
            ReadEvent::Value(value) => EventRef::from(value),
            ReadEvent::Fields(values) => {
                EventRef::fields(&self.names, values, &self.copies, &self.members)
            }
        };
        Some(event.inheriting(&self.inherited))
    }

    /// How many events the request holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the request holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every event as a JSON value, as read (without what it would inherit).
    pub fn values(&self) -> Vec<Value> {
        (self.events.iter())
            .map(|event| match event {
                ReadEvent::Value(value) => value.clone(),
                ReadEvent::Fields(values) => {
                    fields_value(&self.names, values, &self.copies, &self.members)
                }
            })
            .collect()
    }

    /// [`ReceivedEvents::values`], taking the events.
    pub fn into_values(self) -> Vec<Value> {
        let ReceivedEvents {
            events,
            names,
            members,
            copies,
            ..
        } = self;
        (events.into_iter())
            .map(|event| match event {
                ReadEvent::Value(value) => value,
                ReadEvent::Fields(values) => fields_value(&names, &values, &copies, &members),
            })
            .collect()
    }
}

/// An event read as fields (see [`ReadEvent::Fields`]) as one JSON value.
fn fields_value(
    names: &Names,
    values: &[(u16, StoredField)],
    text: &str,
    members: &[Box<str>],
) -> Value {
    EventRef::fields(names, values, text, members)
        .to_value()
        .into_owned()
}

/// One event as read.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadEvent {
    /// Built as one JSON value: every field of it, or not an object, or read by serde_json.
    Value(Value),
    /// The fields of an event object that the configuration reads, in the text's order, each
    /// the index of its name in [`ReceivedEvents::names`] with its value: no map is built (nor
    /// its keys allocated and hashed), and strings without escapes are kept as characters in
    /// [`ReceivedEvents::copies`] (no `String` each). Read so when the configuration's mappings
    /// all read events by reference ([`PropertiesRead::Copied`]), which never need the event as
    /// one value.
    Fields(Vec<(u16, StoredField)>),
}

impl Default for ReadEvent {
    fn default() -> Self {
        ReadEvent::Value(Value::Null)
    }
}

impl ReadEvent {
    fn is_object(&self) -> bool {
        match self {
            ReadEvent::Value(value) => value.is_object(),
            ReadEvent::Fields(_) => true,
        }
    }

    /// Removes the field `name` of an event object, as `serde_json::Map::remove` does (the
    /// last field takes its place); `text` and `members` are what [`StoredField::into_value`]
    /// reads.
    fn remove(
        &mut self,
        name: &str,
        names: &Names,
        text: &str,
        members: &[Box<str>],
    ) -> Option<Value> {
        match self {
            ReadEvent::Value(Value::Object(object)) => object.remove(name),
            ReadEvent::Value(_) => None,
            ReadEvent::Fields(values) => {
                let at = field_position(names, values, name)?;
                values.swap_remove(at).1.into_value(text, members)
            }
        }
    }

    /// Sets the field `name` of an event object, as `serde_json::Map::insert` does (in place
    /// when present, else last); `names` gains `name` when it lacks it.
    fn insert(&mut self, name: &str, value: Value, names: &mut Names) {
        match self {
            ReadEvent::Value(Value::Object(object)) => {
                object.insert(name.to_string(), value);
            }
            ReadEvent::Value(_) => {}
            ReadEvent::Fields(values) => {
                let at = match names.index(name) {
                    Some(at) => at,
                    None => names.push(Box::from(name)),
                };
                if let Ok(at) = u16::try_from(at) {
                    set_field(values, at, StoredField::Value(value));
                }
            }
        }
    }
}

/// Refuses a body over `limits.max_request_bytes`; call it before reading a signature or a byte
/// of JSON.
pub fn check_request_size(bytes: usize, limits: &Limits) -> Result<(), LimitError> {
    if bytes > limits.max_request_bytes {
        return Err(LimitError::RequestTooLarge {
            bytes,
            limit: limits.max_request_bytes,
        });
    }
    Ok(())
}

/// Reads one event, a JSON array of events, or `{"batch": [...]}` under `limits`, building
/// values only for the top-level `fields` of each event (the others are skipped unparsed), and
/// reading `properties` as `properties` says. A batch is first scanned for its items' raw text
/// (their sizes).
pub fn read_events(
    body: &[u8],
    limits: &Limits,
    fields: &FieldsRead,
    properties: &PropertiesRead,
) -> Result<ReceivedEvents, ReadError> {
    read_body(body, limits, &[], Reading { fields, properties })
}

/// What to build of each event: values for `fields`, and `properties` as `properties` says.
#[derive(Clone, Copy)]
struct Reading<'r> {
    fields: &'r FieldsRead,
    properties: &'r PropertiesRead,
}

/// Reads a request body into its events, in order, without size limits (the CLI and the
/// playground read whatever they are given; see [`read_events`] for Segment's). Elements that
/// are not objects are kept: they are rejected one by one later, without blocking the others.
pub fn parse_events(body: &[u8]) -> Result<Vec<Value>, InboundError> {
    let every_field = Reading {
        fields: &FieldsRead::All,
        properties: &PropertiesRead::Built,
    };
    match read_body(body, &Limits::NONE, &[], every_field) {
        Ok(received) => Ok(received.into_values()),
        Err(ReadError::Inbound(error)) => Err(error),
        // `Limits::NONE` admits any size and count; kept as an error rather than a panic.
        Err(ReadError::Limit(error)) => Err(InboundError::MalformedJson(error.to_string())),
    }
}

/// [`read_events`], where batch items that lack one of the envelope fields `inherit` count that
/// field's bytes towards their per-event limit.
fn read_body(
    body: &[u8],
    limits: &Limits,
    inherit: &[&str],
    reading: Reading<'_>,
) -> Result<ReceivedEvents, ReadError> {
    check_request_size(body.len(), limits).map_err(ReadError::Limit)?;
    let mut received = read_checked_body(body, limits, inherit, reading)?;
    received.body_bytes = body.len();
    Ok(received)
}

/// [`read_body`] for a body within the request limit.
fn read_checked_body(
    body: &[u8],
    limits: &Limits,
    inherit: &[&str],
    reading: Reading<'_>,
) -> Result<ReceivedEvents, ReadError> {
    let malformed = |error: serde_json::Error| {
        ReadError::Inbound(InboundError::MalformedJson(error.to_string()))
    };
    // Checked as UTF-8 once, not string by string (several times faster in wasm).
    let Ok(body) = std::str::from_utf8(body) else {
        return Err(match serde_json::from_slice::<Value>(body) {
            Err(error) => malformed(error),
            Ok(_) => ReadError::Inbound(InboundError::MalformedJson(
                "the body is not UTF-8".to_string(),
            )),
        });
    };
    match body.as_bytes().trim_ascii_start().first() {
        Some(b'[') => {
            if let Some(received) = scan_items(body, limits, reading) {
                return Ok(received);
            }
            let items: Vec<&RawValue> = serde_json::from_str(body).map_err(malformed)?;
            read_items(&items, limits, Map::new(), &[], reading)
        }
        // Without a "batch" key anywhere, the object can only be a single event.
        Some(b'{') if !body.contains("\"batch\"") => single_event(body, limits, reading),
        Some(b'{') => match scan_batch(body, limits, inherit, reading) {
            Some(received) => Ok(received),
            None => read_batch(body, limits, inherit, reading),
        },
        _ => {
            let value: Value = serde_json::from_str(body).map_err(malformed)?;
            Err(ReadError::Inbound(InboundError::NotEvents(match value {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                _ => "a string",
            })))
        }
    }
}

/// Reads an object that may be a Tracking API batch (`{"batch": [...]}`) with serde_json: its
/// envelope, then each item (see [`read_items`]); an object without a `batch`, or with a
/// `type`, is one event.
fn read_batch(
    body: &str,
    limits: &Limits,
    inherit: &[&str],
    reading: Reading<'_>,
) -> Result<ReceivedEvents, ReadError> {
    let malformed = |error: serde_json::Error| {
        ReadError::Inbound(InboundError::MalformedJson(error.to_string()))
    };
    let top: BTreeMap<String, &RawValue> = serde_json::from_str(body).map_err(malformed)?;
    // A Segment event always has a `type`; a batch envelope has none.
    let batch = match top.get("batch") {
        Some(batch) if !top.contains_key("type") => batch,
        _ => return single_event(body, limits, reading),
    };
    let items: Vec<&RawValue> = serde_json::from_str(batch.get()).map_err(|_| {
        ReadError::Inbound(InboundError::NotEvents(
            "an object whose \"batch\" is not an array",
        ))
    })?;
    // Envelope fields are built only within the per-event limit: a larger one could only
    // make every event that takes it too large, and would cost memory for nothing.
    // Of the others, only what the events' readers read (and the write key). The rest are
    // checked as if built, so that whether a body is valid JSON does not depend on what the
    // configuration reads or on a member's size (as the one-pass reader checks them).
    let mut envelope = Map::new();
    for (key, raw) in top.iter().filter(|(key, _)| key.as_str() != "batch") {
        if raw.get().len() <= limits.max_event_bytes
            && (key.as_str() == "writeKey" || reading.fields.contains(key))
        {
            envelope.insert(
                key.clone(),
                serde_json::from_str(raw.get()).map_err(malformed)?,
            );
        } else {
            serde_json::from_str::<Skipped>(raw.get()).map_err(malformed)?;
        }
    }
    // Each inherited field with its size (none when the envelope lacks it).
    let inherited: Vec<(&str, usize)> = inherit
        .iter()
        .map(|key| (*key, top.get(*key).map_or(0, |raw| raw.get().len())))
        .collect();
    read_items(&items, limits, envelope, &inherited, reading)
}

/// A body that is one event object.
fn single_event(
    body: &str,
    limits: &Limits,
    reading: Reading<'_>,
) -> Result<ReceivedEvents, ReadError> {
    if body.len() > limits.max_event_bytes {
        return Err(ReadError::Limit(LimitError::EventTooLarge {
            bytes: body.len(),
            limit: limits.max_event_bytes,
        }));
    }
    let mut received = ReceivedEvents::reading(reading);
    let event = parse_event(body, reading, &[], &mut received.copies)
        .map_err(|error| ReadError::Inbound(InboundError::MalformedJson(error.to_string())))?;
    received.events.push(event.value);
    if event.copied.is_some() {
        received.copied.push(event.copied);
    }
    Ok(received)
}

/// Reads batch items: each is parsed on its own, so one that is too large (counting the bytes
/// of the `inherited` envelope fields it lacks: `(name, bytes)`) or unreadable is refused alone.
fn read_items(
    items: &[&RawValue],
    limits: &Limits,
    envelope: Map<String, Value>,
    inherited: &[(&str, usize)],
    reading: Reading<'_>,
) -> Result<ReceivedEvents, ReadError> {
    if items.len() > limits.max_events {
        return Err(ReadError::Limit(LimitError::TooManyEvents {
            events: items.len(),
            limit: limits.max_events,
        }));
    }
    let copying = matches!(reading.properties, PropertiesRead::Copied(_));
    let mut received = ReceivedEvents {
        events: Vec::with_capacity(items.len()),
        envelope,
        copied: Vec::with_capacity(if copying { items.len() } else { 0 }),
        ..ReceivedEvents::reading(reading)
    };
    let names: Vec<&str> = inherited.iter().map(|(name, _)| *name).collect();
    // Each item's length and, for an object, which inherited fields it has.
    let mut sizes = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let length = item.get().len();
        // Too large by itself: not parsed (`refuse_oversized` refuses it below).
        let parsed = match length > limits.max_event_bytes {
            true => None,
            false => Some(parse_event(
                item.get(),
                reading,
                &names,
                &mut received.copies,
            )),
        };
        let event = match parsed {
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                received.unreadable.push((index, error.to_string()));
                ParsedEvent::unread()
            }
            None => ParsedEvent::unread(),
        };
        sizes.push((length, event.value.is_object().then_some(event.present)));
        if copying {
            received.copied.push(event.copied);
        }
        received.events.push(event.value);
    }
    refuse_oversized(&mut received, &sizes, inherited, limits);
    Ok(received)
}

/// One event as read.
struct ParsedEvent {
    /// Its value, built in the fields read.
    value: ReadEvent,
    /// Which of the `inherit` fields it has: bit `i` for `inherit[i]`.
    present: u8,
    /// Where its `properties` lie in the copies, when they were copied.
    copied: Option<Range<usize>>,
}

impl ParsedEvent {
    /// An event not read (too large, or unreadable): `null`.
    fn unread() -> Self {
        ParsedEvent {
            value: ReadEvent::default(),
            present: 0,
            copied: None,
        }
    }
}

/// Parses one event's JSON, building values only for the fields `reading` names (a non-object
/// is parsed whole: it is rejected as it is), and copying its `properties` to the end of
/// `copies` when `reading` says so and they can be. Also says which of the `inherit` fields
/// (at most 8) the event has.
fn parse_event(
    raw: &str,
    reading: Reading<'_>,
    inherit: &[&str],
    copies: &mut String,
) -> Result<ParsedEvent, serde_json::Error> {
    if matches!(reading.fields, FieldsRead::All)
        || raw.as_bytes().trim_ascii_start().first() != Some(&b'{')
    {
        let value: Value = serde_json::from_str(raw)?;
        let present = match &value {
            Value::Object(object) => presence(inherit, |name| object.contains_key(name)),
            _ => 0,
        };
        return Ok(ParsedEvent {
            value: ReadEvent::Value(value),
            present,
            copied: None,
        });
    }
    let copied_from = copies.len();
    if let Some(event) = scan_event(raw, reading, inherit, copies) {
        return Ok(event);
    }
    copies.truncate(copied_from);
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let parsed = SelectedFields {
        reading,
        inherit,
        copies,
    }
    .deserialize(&mut deserializer)
    .and_then(|parsed| deserializer.end().map(|()| parsed));
    match parsed {
        Ok(parsed) => Ok(parsed),
        // Copying reads `properties` as raw text, which a number out of range passes: the
        // error is the one of reading the event with its values built.
        Err(_) if matches!(reading.properties, PropertiesRead::Copied(_)) => {
            copies.truncate(copied_from);
            let built = Reading {
                properties: &PropertiesRead::Built,
                ..reading
            };
            parse_event(raw, built, inherit, copies)
        }
        Err(error) => Err(error),
    }
}

/// [`parse_event`] for an event object, in one pass over its text without serde: `None` for
/// text it does not read so (a key with an escape, text serde_json would refuse), which
/// [`parse_event`] then reads with serde_json. Builds exactly what [`SelectedFields`] builds
/// (tested, and fuzzed against it).
fn scan_event(
    raw: &str,
    reading: Reading<'_>,
    inherit: &[&str],
    copies: &mut String,
) -> Option<ParsedEvent> {
    let mut members = crate::json::Members::new(raw)?;
    let event = scan_members(&mut members, reading, inherit, copies, usize::MAX)?;
    members.finish()?;
    Some(event)
}

/// What [`scan_members`] collects an event object's members into.
enum Collected {
    /// [`ReadEvent::Fields`]: each field read as the index of its name in the fields read.
    Fields(Vec<(u16, StoredField)>),
    /// [`ReadEvent::Value`]'s object.
    Object(Map<String, Value>),
}

/// Reads an event object's members as [`scan_event`] does, up to its end.
/// Values are built only for what ends by byte `within` of the text: past it, the event is too
/// large and is read through only (the caller refuses it).
fn scan_members(
    members: &mut crate::json::Members<'_>,
    reading: Reading<'_>,
    inherit: &[&str],
    copies: &mut String,
    within: usize,
) -> Option<ParsedEvent> {
    let names = reading.fields.listed();
    let wanted_members = reading.properties.looked_up();
    // Fields without a map where every mapping reads events by reference (see
    // `ReadEvent::Fields`); else a map, sized once for the fields read.
    let as_fields = matches!(reading.properties, PropertiesRead::Copied(_))
        && matches!(reading.fields, FieldsRead::Only(_))
        && u16::try_from(names.len()).is_ok();
    let mut read = match as_fields {
        true => Collected::Fields(Vec::with_capacity(names.len())),
        false => Collected::Object(Map::with_capacity(names.len())),
    };
    let mut present = 0u8;
    let mut copied = None;
    while let Some(key) = members.next_key()? {
        present |= presence(inherit, |name| name == key);
        // Every key is read when every field is (into the map: `at` is then unused).
        let at = match reading.fields {
            FieldsRead::Only(_) => names.index(key),
            FieldsRead::All => Some(0),
        };
        let Some(at) = at.filter(|_| members.position() <= within) else {
            members.skip()?;
            continue;
        };
        // How far the field is read: an object only in the members read.
        let read_so_far = reading.fields.read(at);
        // `Some` for `properties` copied: its value, if any (`None` past `within`): the members
        // looked up, or the value built where it is not copied.
        let copied_properties = match (reading.properties, key) {
            (PropertiesRead::Copied(wanted), "properties") => {
                // Repeated, the last one counts (as in a built object).
                copied = None;
                let start = copies.len();
                match members.copy_object(wanted, copies) {
                    Some(_) if members.position() > within => {
                        copies.truncate(start);
                        continue;
                    }
                    Some(looked_up) => {
                        copied = Some(start..copies.len());
                        Some(Some(StoredField::Members(looked_up)))
                    }
                    None => Some(
                        members
                            .value_within(within, read_so_far)?
                            .map(StoredField::Value),
                    ),
                }
            }
            _ => None,
        };
        // A repeated key: the last value, in the first one's place (as in a map).
        match &mut read {
            Collected::Fields(fields) => {
                let value = match copied_properties {
                    Some(value) => value,
                    // A string as its characters, appended to the copies.
                    None => match members.scalar_or_value_within(within, read_so_far)? {
                        Some(Member::Str(text)) => {
                            let start = copies.len();
                            copies.push_str(text);
                            Some(StoredField::Text(start..copies.len()))
                        }
                        Some(Member::Value(value)) => Some(StoredField::Value(value)),
                        None => None,
                    },
                };
                // Every index fits (`as_fields`).
                if let (Some(value), Ok(at)) = (value, u16::try_from(at)) {
                    set_field(fields, at, value);
                }
            }
            Collected::Object(object) => {
                let value = match copied_properties {
                    Some(value) => value.and_then(|value| value.into_value("", wanted_members)),
                    None => members.value_within(within, read_so_far)?,
                };
                if let Some(value) = value {
                    object.insert(key.to_string(), value);
                }
            }
        }
    }
    Some(ParsedEvent {
        value: match read {
            Collected::Fields(fields) => ReadEvent::Fields(fields),
            Collected::Object(object) => ReadEvent::Value(Value::Object(object)),
        },
        present,
        copied,
    })
}

/// [`read_items`] for a body that is a JSON array, in one pass over its text (each event read
/// as [`scan_event`] reads it): `None` for a body it does not read so (one [`scan_event`]
/// leaves to serde, more than `limits.max_events` items, or not JSON), which [`read_body`]
/// then reads with serde_json. An item over the per-event limit is read through and refused.
fn scan_items(body: &str, limits: &Limits, reading: Reading<'_>) -> Option<ReceivedEvents> {
    let mut received = ReceivedEvents::reading(reading);
    let mut items = crate::json::Items::new(body)?;
    let sizes = scan_array(&mut items, limits, reading, &[], &mut received)?;
    items.finish()?;
    refuse_oversized(&mut received, &sizes, &[], limits);
    Some(received)
}

/// [`read_body`] for a Tracking API batch (`{"batch": [...]}`, see [`read_tracking_call`]) in
/// one pass over its text, as [`scan_items`] reads an array; `None` where the envelope is not
/// read so (no `batch` array, a `type`, a key with an escape or repeated), which [`read_body`]
/// then reads with serde_json.
fn scan_batch(
    body: &str,
    limits: &Limits,
    inherit: &[&str],
    reading: Reading<'_>,
) -> Option<ReceivedEvents> {
    let mut received = ReceivedEvents::reading(reading);
    let mut top = crate::json::Members::new(body)?;
    let mut sizes = None;
    let mut envelope: Vec<(&str, Value)> = Vec::new();
    let mut inherited: Vec<(&str, usize)> = inherit.iter().map(|name| (*name, 0)).collect();
    let mut keys: Vec<&str> = Vec::new();
    while let Some(key) = top.next_key()? {
        // A repeated key, or a `type` (the object is then one event): read by serde.
        if key == "type" || keys.contains(&key) {
            return None;
        }
        keys.push(key);
        if key == "batch" {
            let mut items = crate::json::Items::at(body, top.position())?;
            sizes = Some(scan_array(
                &mut items,
                limits,
                reading,
                inherit,
                &mut received,
            )?);
            top.resume_at(items.position());
            continue;
        }
        let text = top.skip_text()?;
        if let Some(size) = inherited.iter_mut().find(|(name, _)| *name == key) {
            size.1 = text.len();
        }
        // As `read_body` reads an envelope: within the per-event limit, and what is read.
        if text.len() <= limits.max_event_bytes
            && (key == "writeKey" || reading.fields.contains(key))
        {
            envelope.push((key, serde_json::from_str(text).ok()?));
        }
    }
    top.finish()?;
    // In key order, as `read_body` builds the envelope.
    envelope.sort_by(|a, b| a.0.cmp(b.0));
    received.envelope = (envelope.into_iter())
        .map(|(key, value)| (key.to_string(), value))
        .collect();
    refuse_oversized(&mut received, &sizes?, &inherited, limits);
    Some(received)
}

/// Reads the items of an array in one pass into `received` (see [`scan_items`]), and returns
/// each item's length and which of the `inherit` fields it has (for [`refuse_oversized`]).
fn scan_array(
    items: &mut crate::json::Items<'_>,
    limits: &Limits,
    reading: Reading<'_>,
    inherit: &[&str],
    received: &mut ReceivedEvents,
) -> Option<Vec<(usize, Option<u8>)>> {
    let body = items.text();
    let copying = matches!(reading.properties, PropertiesRead::Copied(_));
    if copying {
        // Copies are about as long as their text: one allocation, not one per doubling.
        received.copies.reserve(body.len());
    }
    let mut sizes = Vec::new();
    while let Some(start) = items.next_start()? {
        if received.events.len() == limits.max_events {
            return None;
        }
        let (event, end) = if body.as_bytes().get(start) == Some(&b'{') {
            let mut members = crate::json::Members::at(body, start)?;
            let within = start.saturating_add(limits.max_event_bytes);
            let event = scan_members(&mut members, reading, inherit, &mut received.copies, within)?;
            (event, members.position())
        } else {
            // Not an object: built whole (within the per-event limit), and refused later.
            let text = items.skip_item()?;
            let value = match text.len() > limits.max_event_bytes {
                true => Value::Null,
                false => serde_json::from_str(text).ok()?,
            };
            let event = ParsedEvent {
                value: ReadEvent::Value(value),
                present: 0,
                copied: None,
            };
            (event, start + text.len())
        };
        if sizes.is_empty() {
            // Room for as many events as the body holds of this size, read once rather than
            // grown by doubling (Segment's batches are alike).
            let expected = expected_events(body.len(), end - start, limits.max_events);
            sizes.reserve(expected);
            received.events.reserve(expected);
            if copying {
                received.copied.reserve(expected);
            }
        }
        sizes.push((
            end - start,
            event.value.is_object().then_some(event.present),
        ));
        if copying {
            received.copied.push(event.copied);
        }
        received.events.push(event.value);
        if items.resume_at(end)? {
            break;
        }
    }
    Some(sizes)
}

/// How many events a batch of `body_len` bytes whose first event takes `first_len` bytes is
/// expected to hold: as many of that size, counted as at least [`MIN_EXPECTED_EVENT`] bytes (so
/// that what is reserved for them stays within about the body's size), at least one and at
/// most `max_events`.
fn expected_events(body_len: usize, first_len: usize, max_events: usize) -> usize {
    (body_len / first_len.max(MIN_EXPECTED_EVENT)).clamp(1, max_events.max(1))
}

/// The smallest event size [`expected_events`] expects: at least what is kept per event read
/// ([`EVENT_SLOT`], checked when compiling), so the room reserved stays under the body's size.
const MIN_EXPECTED_EVENT: usize = 128;

/// What is kept per event read: its value or fields, its size and presence, where its copy
/// lies (112 bytes natively, less in wasm32).
const EVENT_SLOT: usize =
    size_of::<ReadEvent>() + size_of::<(usize, Option<u8>)>() + size_of::<Option<Range<usize>>>();
const _: () = assert!(EVENT_SLOT <= MIN_EXPECTED_EVENT);

/// Refuses the items over the per-event limit: an item's `(length, presence)` (from
/// [`read_items`] or [`scan_array`]), counting for an object the bytes of the `inherited`
/// fields `(name, bytes)` it lacks. Their values and copies are dropped.
fn refuse_oversized(
    received: &mut ReceivedEvents,
    sizes: &[(usize, Option<u8>)],
    inherited: &[(&str, usize)],
    limits: &Limits,
) {
    for (index, (length, present)) in sizes.iter().enumerate() {
        let inherited_bytes: usize = match present {
            None => 0,
            Some(present) => (inherited.iter().enumerate())
                .filter(|(at, _)| present & (1 << at) == 0)
                .map(|(_, (_, bytes))| bytes)
                .sum(),
        };
        if length.saturating_add(inherited_bytes) > limits.max_event_bytes {
            received.oversized.push(index);
            if let Some(event) = received.events.get_mut(index) {
                *event = ReadEvent::default();
            }
            if let Some(copied) = received.copied.get_mut(index) {
                *copied = None;
            }
        }
    }
}

/// Bit `i` set when `has(inherit[i])`.
fn presence(inherit: &[&str], has: impl Fn(&str) -> bool) -> u8 {
    (inherit.iter().take(8).enumerate())
        .filter(|(_, name)| has(name))
        .fold(0, |bits, (at, _)| bits | (1 << at))
}

/// An event object with values built for `fields` only; see [`parse_event`]. Keys repeat as in
/// serde_json's own maps: the last value wins, in the first one's place.
struct SelectedFields<'s> {
    reading: Reading<'s>,
    inherit: &'s [&'s str],
    copies: &'s mut String,
}

impl<'de> DeserializeSeed<'de> for SelectedFields<'_> {
    type Value = ParsedEvent;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SelectedFields<'_> {
    type Value = ParsedEvent;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a Segment event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        let mut present = 0u8;
        let mut copied = None;
        while let Some(KeyText(key)) = access.next_key()? {
            present |= presence(self.inherit, |name| name == key);
            if !self.reading.fields.contains(&key) {
                access.next_value::<Skipped>()?;
                continue;
            }
            let mut value = match (self.reading.properties, key.as_ref()) {
                (PropertiesRead::Copied(members), "properties") => {
                    // Repeated, the last one counts (as in a built object).
                    copied = None;
                    let raw: &RawValue = access.next_value()?;
                    let start = self.copies.len();
                    match crate::json::copy_object(raw.get(), members, self.copies) {
                        Some(looked_up) => {
                            copied = Some(start..self.copies.len());
                            Value::Object(members_object(members, looked_up.into_iter()))
                        }
                        None => serde_json::from_str(raw.get()).map_err(de::Error::custom)?,
                    }
                }
                _ => access.next_value()?,
            };
            // As far as it is read, as the one-pass reader builds it.
            if let Some(at) = self.reading.fields.listed().index(&key) {
                self.reading.fields.read(at).cut_in_place(&mut value);
            }
            object.insert(key.into_owned(), value);
        }
        Ok(ParsedEvent {
            value: ReadEvent::Value(Value::Object(object)),
            present,
            copied,
        })
    }
}

/// A value read through and dropped: parsed as serde_json parses a `Value` (numbers converted,
/// escapes decoded), so it fails exactly where building the value would (a number such as
/// `1e400`, a lone surrogate), but builds nothing.
struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SkippedVisitor)
    }
}

struct SkippedVisitor;

impl<'de> Visitor<'de> for SkippedVisitor {
    type Value = Skipped;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_none<E: de::Error>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut items: A) -> Result<Skipped, A::Error> {
        while items.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Skipped, A::Error> {
        while entries.next_key::<Skipped>()?.is_some() {
            entries.next_value::<Skipped>()?;
        }
        Ok(Skipped)
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct KeyText<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(KeyText(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
                Ok(KeyText(Cow::Owned(key.to_string())))
            }

            fn visit_string<E: de::Error>(self, key: String) -> Result<Self::Value, E> {
                Ok(KeyText(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Why a webhook signature was refused (401).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// No `X-Signature` header.
    Missing,
    /// The header is not the HMAC of the body with the shared secret.
    Mismatch,
}

impl SignatureError {
    /// The machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing_signature",
            SignatureError::Mismatch => "invalid_signature",
        }
    }

    /// For people (says nothing about the secret).
    pub fn message(self) -> &'static str {
        match self {
            SignatureError::Missing => "the request has no X-Signature header; this source requires Segment's webhook signature (set the shared secret in the Segment destination)",
            SignatureError::Mismatch => "the X-Signature header does not match the body: the shared secret differs, or the body was changed",
        }
    }
}

/// The bytes Segment signs: the whole body for one event; for a batched array, only the first
/// element, exactly as it stands in the body (Segment signs `JSON.stringify(body[0])`).
pub fn signed_bytes(body: &[u8]) -> &[u8] {
    signed_part(body).bytes
}

/// What a webhook signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedPart<'a> {
    /// The bytes the signature is computed over.
    pub bytes: &'a [u8],
    /// How many events the body carries that the signature does not cover: the elements of a
    /// batched array after the first (0 for one event).
    pub unsigned_events: usize,
}

/// What Segment's `X-Signature` covers in `body` (see [`signed_bytes`]). The array is scanned
/// without building values.
pub fn signed_part(body: &[u8]) -> SignedPart<'_> {
    let whole = SignedPart {
        bytes: body,
        unsigned_events: 0,
    };
    if body.trim_ascii_start().first() != Some(&b'[') {
        return whole;
    }
    match serde_json::from_slice::<Vec<&RawValue>>(body) {
        Ok(items) => match items.first() {
            Some(first) => SignedPart {
                bytes: first.get().as_bytes(),
                unsigned_events: items.len() - 1,
            },
            None => whole,
        },
        Err(_) => whole,
    }
}

/// Checks Segment's `X-Signature` (hex HMAC-SHA1 of the signed bytes with the shared secret),
/// in constant time.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let expected = decode_hex(header).ok_or(SignatureError::Mismatch)?;
    if expected.len() != 20 {
        return Err(SignatureError::Mismatch);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(signed_bytes(body));
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The hex HMAC-SHA1 of `signed` with `secret`, as Segment computes `X-Signature` (pass the
/// first element's JSON for a batch). For tests and for signing test traffic.
pub fn sign(secret: &[u8], signed: &[u8]) -> String {
    #[expect(
        clippy::expect_used,
        reason = "HMAC takes keys of any length: new_from_slice never fails for it"
    )]
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(signed);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Hex text (either case) as bytes; `None` for an odd length, a non-hex digit or over 64 bytes.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16);
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8))
        .collect()
}

/// The calls of Segment's HTTP Tracking API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingCall {
    /// `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`: one event
    /// whose type is the path's.
    Single(&'static str),
    /// `/v1/batch`: `{"batch": [...]}`.
    Batch,
}

impl TrackingCall {
    /// The call for a `/v1/...` path, if it is one.
    pub fn from_path(path: &str) -> Option<TrackingCall> {
        let call = path.strip_prefix("/v1/")?.trim_end_matches('/');
        Some(match call {
            "track" | "t" => TrackingCall::Single("track"),
            "identify" | "i" => TrackingCall::Single("identify"),
            "page" | "p" => TrackingCall::Single("page"),
            "screen" => TrackingCall::Single("screen"),
            "group" | "g" => TrackingCall::Single("group"),
            "alias" | "a" => TrackingCall::Single("alias"),
            "batch" | "import" => TrackingCall::Batch,
            _ => return None,
        })
    }
}

/// A Tracking API request: its events and the write key named in the body, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackingRequest {
    /// The events (types set from the path for single calls).
    pub received: ReceivedEvents,
    /// `writeKey` from the body (the envelope for batches).
    pub write_key: Option<String>,
}

/// The envelope fields a Tracking API batch shares with events that lack them.
const INHERITED_FIELDS: [&str; 2] = ["context", "integrations"];

/// Reads a Tracking API body as Segment does: a single call takes its type from the path; a
/// batch carries typed events, and its envelope's `context` and `integrations` stand in for
/// events that lack them ([`ReceivedEvents::inherited`]; they count towards those events' size
/// limit, and are never copied into every event).
pub fn read_tracking_call(
    call: TrackingCall,
    body: &[u8],
    limits: &Limits,
    fields: &FieldsRead,
    properties: &PropertiesRead,
) -> Result<TrackingRequest, ReadError> {
    match call {
        TrackingCall::Single(kind) => {
            if body.trim_ascii_start().first() != Some(&b'{') {
                return Err(ReadError::Inbound(InboundError::NotEvents(
                    "not a JSON object; a Tracking API call is one event object",
                )));
            }
            let mut received = read_events(body, limits, fields, properties)?;
            let mut write_key = None;
            let ReceivedEvents {
                events,
                names,
                members,
                copies,
                ..
            } = &mut received;
            if let Some(event) = events.first_mut().filter(|event| event.is_object()) {
                write_key = write_key_of(event.remove("writeKey", names, copies, members));
                event.insert("type", Value::String(kind.to_string()), names);
            }
            Ok(TrackingRequest {
                received,
                write_key,
            })
        }
        TrackingCall::Batch => {
            let reading = Reading { fields, properties };
            let mut received = read_body(body, limits, &INHERITED_FIELDS, reading)?;
            let write_key = write_key_of(received.envelope.remove("writeKey"));
            for event in &mut received.events {
                event.remove(
                    "writeKey",
                    &received.names,
                    &received.copies,
                    &received.members,
                );
            }
            for field in INHERITED_FIELDS {
                if let Some(value) = received.envelope.remove(field) {
                    received.inherited.insert(field.to_string(), value);
                }
            }
            Ok(TrackingRequest {
                received,
                write_key,
            })
        }
    }
}

/// The `writeKey` at the top of a Tracking API body (an event, or a batch's envelope), found
/// without building values: the write key is checked before the body is parsed. `None` when
/// the body has none, or is not a JSON object (parsing reports that later).
pub fn body_write_key(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WriteKeyOnly<'a> {
        #[serde(rename = "writeKey", borrow, default)]
        write_key: Option<&'a RawValue>,
    }
    let found: WriteKeyOnly<'_> = serde_json::from_slice(body).ok()?;
    match serde_json::from_str::<String>(found.write_key?.get()) {
        Ok(key) if !key.is_empty() => Some(key),
        _ => None,
    }
}

/// A removed `writeKey` field, when it is a non-empty string.
fn write_key_of(removed: Option<Value>) -> Option<String> {
    match removed {
        Some(Value::String(key)) if !key.is_empty() => Some(key),
        _ => None,
    }
}

/// The write key of an `Authorization: Basic base64(writeKey:)` header, if it holds one (the
/// scheme is case-insensitive, as HTTP says).
pub fn basic_auth_write_key(header: Option<&str>) -> Option<String> {
    let encoded = strip_scheme(header?, "Basic")?;
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
    (!key.is_empty()).then(|| key.to_string())
}

/// The credentials of an `Authorization` header with `scheme` (matched case-insensitively),
/// trimmed; `None` for another scheme.
pub fn strip_scheme<'h>(header: &'h str, scheme: &str) -> Option<&'h str> {
    let header = header.trim();
    let (given, credentials) = header.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| credentials.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::EventField;
    use serde_json::json;

    fn only(fields: &[&str]) -> FieldsRead {
        FieldsRead::Only(fields.iter().map(|f| Box::from(*f)).collect())
    }

    /// Each event's copied `properties`, in order.
    fn copies(received: &ReceivedEvents) -> Vec<Option<String>> {
        (0..received.events.len())
            .map(|index| received.copied_properties(index).map(str::to_string))
            .collect()
    }

    /// The serde reading of [`parse_event`], without the one-pass scan.
    fn serde_event(raw: &str, reading: Reading<'_>, copies: &mut String) -> Option<ParsedEvent> {
        let mut deserializer = serde_json::Deserializer::from_str(raw);
        let inherit = &INHERITED_FIELDS;
        let parsed = SelectedFields {
            reading,
            inherit,
            copies,
        }
        .deserialize(&mut deserializer)
        .ok()?;
        deserializer.end().ok().map(|()| parsed)
    }

    #[test]
    fn the_one_pass_scan_reads_what_serde_reads_or_leaves_it_to_serde() {
        let fields = only(&["type", "userId", "properties", "n"]);
        let copied = PropertiesRead::Copied(vec!["revenue".into()]);
        let built = PropertiesRead::Built;
        let events = [
            r#"{"type":"track","userId":"u","properties":{"revenue":2.50,"x":[1,{"y":null}]}}"#,
            r#" { "type" : "track" , "context" : {"a": [1, 2e5, "\u00e9", {"k\"": true}]}, "n": -0 } "#,
            r#"{"type":"a","type":"b","userId":"\ud83d\ude00","properties":null}"#,
            r#"{"properties":{"a":1},"properties":{"a":1,"a":2}}"#,
            r#"{"properties":[1],"properties":{"revenue":"5"}}"#,
            r#"{"n": 18446744073709551616, "m": 1E2, "o": 123456789012345678901}"#,
            r#"{"t\u0079pe": "track"}"#,
            r#"{"skipped": 1e400}"#,
            r#"{"skipped": "\ud800"}"#,
            r#"{"skipped": "\uZZZZ"}"#,
            r#"{"type": 1e400}"#,
            r#"{"type": "track"} trailing"#,
            r#"{"type": "track",}"#,
            r#"{"type" "track"}"#,
            r#"{,"type": "track"}"#,
            r#"{"type": "track" "userId": "u"}"#,
            r#"{"type": "track",,"userId": "u"}"#,
            r#"{}"#,
            r#"{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
        ];
        let mut scanned = 0;
        for raw in events {
            for properties in [&copied, &built] {
                let reading = Reading {
                    fields: &fields,
                    properties,
                };
                let (mut ours, mut theirs) = (String::new(), String::new());
                let serde = serde_event(raw, reading, &mut theirs);
                let Some(scan) = scan_event(raw, reading, &INHERITED_FIELDS, &mut ours) else {
                    continue;
                };
                scanned += 1;
                let serde =
                    serde.unwrap_or_else(|| panic!("serde refuses what the scan reads: {raw}"));
                let value = |event: &ParsedEvent, text: &str| match &event.value {
                    ReadEvent::Value(value) => value.clone(),
                    ReadEvent::Fields(values) => {
                        let (names, members) = (fields.listed(), reading.properties.looked_up());
                        EventRef::fields(names, values, text, members)
                            .to_value()
                            .into_owned()
                    }
                };
                assert_eq!(value(&scan, &ours), value(&serde, &theirs), "{raw}");
                assert_eq!(scan.present, serde.present, "{raw}");
                let text = |event: &ParsedEvent, copies: &str| {
                    event.copied.clone().map(|range| copies[range].to_string())
                };
                assert_eq!(text(&scan, &ours), text(&serde, &theirs), "{raw}");
            }
        }
        assert!(scanned >= 12, "{scanned}");
        // What the scan leaves to serde: an escaped key, and whatever serde refuses.
        for raw in &events[6..17] {
            let reading = Reading {
                fields: &fields,
                properties: &copied,
            };
            assert!(
                scan_event(raw, reading, &[], &mut String::new()).is_none(),
                "{raw}"
            );
        }
    }

    #[test]
    fn the_one_pass_array_scan_reads_what_the_item_by_item_reading_reads() {
        let fields = only(&["type", "userId", "properties"]);
        let copied = PropertiesRead::Copied(vec!["revenue".into()]);
        let limits = Limits {
            max_request_bytes: 4096,
            max_event_bytes: 64,
            max_events: 4,
        };
        let long = "x".repeat(64);
        let bodies = [
            "[]".to_string(),
            " [ ] ".to_string(),
            r#"[{"type":"track","properties":{"revenue":1}}, 7, "text", null]"#.to_string(),
            r#"[{"type":"track","properties":{"revenue":1}},{"type":"track"},{"type":"x"}]"#
                .to_string(),
            format!(
                r#"[{{"type":"track","userId":"{long}"}},{{"type":"track","properties":{{"a":[1]}}}}]"#
            ),
            format!(
                r#"[{{"properties":{{"revenue":"{long}"}}}},{{"properties":{{"revenue":2}}}}]"#
            ),
            r#"[ {"type" : "a"} , {"context": {"deep": [{"k": "\u00e9"}]}, "type": "b"} ]"#
                .to_string(),
            r#"[{"a":1},{"a":2},{"a":3},{"a":4}]"#.to_string(),
            r#"[{"a":1},{"a":2},{"a":3},{"a":4},{"a":5}]"#.to_string(),
            r#"[{"n":1e400},{"type":"track"}]"#.to_string(),
            r#"[{"t\u0079pe":"track"}]"#.to_string(),
            r#"[{"type":"track"},]"#.to_string(),
            r#"[{"type":"track"}] x"#.to_string(),
            r#"[,{"type":"track"}]"#.to_string(),
        ];
        // As deep as serde_json reads an event (counted from the event), and one deeper.
        let deep = |key: &str, levels: usize| {
            format!(
                r#"[{{"{key}":{}1{}}}]"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        let bodies = (bodies.into_iter())
            .chain([126, 127].map(|levels| deep("properties", levels)))
            .chain([126, 127].map(|levels| deep("unread", levels)));
        let mut scanned = 0;
        for body in &bodies.collect::<Vec<_>>() {
            for properties in [&copied, &PropertiesRead::Built] {
                let reading = Reading {
                    fields: &fields,
                    properties,
                };
                let by_item = serde_json::from_str::<Vec<&RawValue>>(body)
                    .map_err(|error| error.to_string())
                    .and_then(|items| {
                        read_items(&items, &limits, Map::new(), &[], reading)
                            .map_err(|error| error.to_string())
                    });
                let Some(scan) = scan_items(body, &limits, reading) else {
                    continue;
                };
                scanned += 1;
                let by_item = by_item.unwrap_or_else(|error| panic!("{body}: {error}"));
                assert_eq!(scan.values(), by_item.values(), "{body}");
                assert_eq!(scan.oversized, by_item.oversized, "{body}");
                assert!(
                    scan.unreadable.is_empty() && by_item.unreadable.is_empty(),
                    "{body}"
                );
                assert_eq!(copies(&scan), copies(&by_item), "{body}");
            }
        }
        assert_eq!(scanned, 20);
    }

    #[test]
    fn the_one_pass_batch_scan_reads_what_serde_reads() {
        let fields = only(&["type", "userId", "properties", "context", "integrations"]);
        let copied = PropertiesRead::Copied(vec!["revenue".into()]);
        let limits = Limits {
            max_request_bytes: 4096,
            max_event_bytes: 80,
            max_events: 4,
        };
        let context = format!(r#"{{"ip":"{}"}}"#, "1".repeat(30));
        let bodies = [
            r#"{"batch":[]}"#.to_string(),
            r#"{"writeKey":"wk","batch":[{"type":"track","properties":{"revenue":1}},7],"sentAt":"x"}"#.to_string(),
            // The envelope's context counts towards the events that lack one, wherever it is.
            format!(r#"{{"batch":[{{"type":"track","userId":"{}"}},{{"type":"t","context":{{}}}}],"context":{context}}}"#, "u".repeat(20)),
            format!(r#"{{"context":{context},"integrations":{{"All":false}},"batch":[{{"type":"t"}},{{"type":"t","context":1,"integrations":2}}]}}"#),
            r#"{"zeta":1,"alpha":{"b":2},"batch":[{"type":"a"}],"userId":"envelope"}"#.to_string(),
            format!(r#"{{"batch":[{{"type":"t"}}],"big":"{}"}}"#, "x".repeat(100)),
            r#"{"batch":{"not":"an array"}}"#.to_string(),
            r#"{"batch":[{"type":"a"}],"type":"track"}"#.to_string(),
            r#"{"batch":[{"type":"a"}],"batch":[{"type":"b"}]}"#.to_string(),
            r#"{"b\u0061tch":[{"type":"a"}]}"#.to_string(),
            r#"{"batch":[{"type":"a"}],"n":1e400}"#.to_string(),
        ];
        let mut scanned = 0;
        for body in &bodies {
            for properties in [&copied, &PropertiesRead::Built] {
                let reading = Reading {
                    fields: &fields,
                    properties,
                };
                let by_serde = read_batch(body, &limits, &INHERITED_FIELDS, reading);
                let Some(scan) = scan_batch(body, &limits, &INHERITED_FIELDS, reading) else {
                    continue;
                };
                scanned += 1;
                let by_serde = by_serde.unwrap_or_else(|error| panic!("{body}: {error}"));
                assert_eq!(scan.values(), by_serde.values(), "{body}");
                assert_eq!(scan.oversized, by_serde.oversized, "{body}");
                assert_eq!(scan.envelope, by_serde.envelope, "{body}");
                assert_eq!(
                    scan.envelope.keys().collect::<Vec<_>>(),
                    by_serde.envelope.keys().collect::<Vec<_>>()
                );
                assert_eq!(copies(&scan), copies(&by_serde), "{body}");
            }
        }
        assert_eq!(scanned, 12);
    }

    #[test]
    fn a_batch_expects_as_many_events_as_its_first_fits_in_its_body() {
        // Segment's largest batch: 2,500 events of about 158 bytes in about 396 KB.
        assert_eq!(expected_events(396_000, 158, 2_500), 2_500);
        assert_eq!(expected_events(189_000, 1_890, 2_500), 100);
        // Counted as at least 128 bytes each: room stays within the body's size.
        assert_eq!(expected_events(12_800, 20, 2_500), 100);
        assert_eq!(expected_events(12_800, 128, 2_500), 100);
        assert_eq!(expected_events(12_800, 129, 2_500), 99);
        // At least one, at most the limit (or the body's worth, without one).
        assert_eq!(expected_events(10, 2, 2_500), 1);
        assert_eq!(expected_events(500_000, 200, 2_000), 2_000);
        assert_eq!(expected_events(500_000, 200, usize::MAX), 2_500);
        assert_eq!(expected_events(500, 200, 0), 1);
    }

    #[test]
    fn alike_events_are_read_without_growing_their_lists() {
        let event = format!(
            r#"{{"type":"track","event":"Order Completed","userId":"user-1","properties":{{"revenue":19.99}},"messageId":"{}"}}"#,
            "m".repeat(60)
        );
        let body = format!(r#"{{"batch":[{}]}}"#, vec![event; 40].join(","));
        let fields = only(&["type", "event", "userId", "properties", "messageId"]);
        for properties in [
            PropertiesRead::Copied(vec!["revenue".into()]),
            PropertiesRead::Built,
        ] {
            let reading = Reading {
                fields: &fields,
                properties: &properties,
            };
            // By the one-pass reader, and by serde_json item by item.
            let scanned = scan_batch(&body, &Limits::SEGMENT, &[], reading).unwrap();
            let by_serde = read_batch(&body, &Limits::SEGMENT, &[], reading).unwrap();
            for received in [scanned, by_serde] {
                assert_eq!(received.events.len(), 40);
                assert_eq!(received.values()[39]["event"], "Order Completed");
                // Reserved once for all of them, not grown by doubling past them.
                assert_eq!(received.events.capacity(), 40, "{properties:?}");
                if let PropertiesRead::Copied(_) = properties {
                    assert_eq!(received.copied.capacity(), 40);
                }
            }
        }
    }

    /// The events read know the size of the body they came from, whichever way it was read
    /// (one event, an array, a batch; in one pass or by serde_json).
    #[test]
    fn received_events_know_their_body_size() {
        let fields = only(&["type", "event"]);
        for body in [
            r#"{"type":"track","event":"A"}"#,
            r#"[{"type":"track","event":"A"},{"type":"track","event":"B"}]"#,
            r#"{"batch":[{"type":"track","event":"A"}]}"#,
            // A repeated envelope key: read by serde_json.
            r#"{"batch":[{"type":"track","event":"A"}],"x":1,"x":2}"#,
            r#" [ {"type" : "track", "event":"A"} ] "#,
        ] {
            let received = read_events(
                body.as_bytes(),
                &Limits::SEGMENT,
                &fields,
                &PropertiesRead::Built,
            )
            .unwrap();
            assert_eq!(received.body_bytes, body.len(), "{body}");
        }
    }

    #[test]
    fn copied_properties_are_the_text_serde_json_writes() {
        let fields = only(&["type", "properties"]);
        let copied = PropertiesRead::Copied(vec!["a".into()]);
        let body =
            br#"[{"type":"track","properties":{ "a" : [1, 2.50], "b": "\u00e9" }}, {"type":"x"}]"#;
        let received = read_events(body, &Limits::SEGMENT, &fields, &copied).unwrap();
        assert_eq!(
            received.copied_properties(0),
            Some(r#"{"a":[1,2.5],"b":"é"}"#)
        );
        assert_eq!(received.copied_properties(1), None);
        assert_eq!(received.copied_properties(2), None);
        assert_eq!(
            received.values()[0]["properties"],
            serde_json::json!({"a": [1, 2.5]})
        );
        // Read item by item (serde's reading of the batch), the same copies.
        let items: Vec<&RawValue> =
            serde_json::from_str(std::str::from_utf8(body).unwrap()).unwrap();
        let reading = Reading {
            fields: &fields,
            properties: &copied,
        };
        let by_item = read_items(&items, &Limits::SEGMENT, Map::new(), &[], reading).unwrap();
        assert_eq!(by_item.copied_properties(0), received.copied_properties(0));
        assert_eq!(by_item.values(), received.values());
    }

    #[test]
    fn values_are_built_up_to_the_last_byte_of_the_per_event_limit() {
        let fields = only(&["type", "userId", "properties"]);
        let copied = PropertiesRead::Copied(Vec::new());
        for last in [r#""userId":"u""#, r#""properties":{"p":1}"#] {
            let item = format!(r#"{{"type":"track",{last}}}"#);
            for (limit, built) in [
                (item.len(), true),
                (item.len() - 1, false),
                (item.len() - 2, false),
            ] {
                let limits = Limits {
                    max_event_bytes: limit,
                    ..Limits::SEGMENT
                };
                let received =
                    read_events(format!("[{item}]").as_bytes(), &limits, &fields, &copied).unwrap();
                assert_eq!(
                    received.oversized.is_empty(),
                    built,
                    "{item} within {limit}"
                );
                assert_eq!(received.values()[0].is_object(), built, "{item}");
                if built {
                    assert_eq!(received.values()[0].as_object().unwrap().len(), 2, "{item}");
                } else if limit < item.len() - 1 {
                    // Nothing past the limit is kept: `properties` that end past it are not
                    // copied (`{"p":1}` ends at the last byte but one).
                    assert!(!received.copies.contains(r#""p""#), "{item}");
                }
            }
        }
    }

    #[test]
    fn events_are_built_only_in_the_fields_read() {
        let body = br#"[{"type":"track","event":"E","context":{"ip":"1.2.3.4","x":[1,2,{"y":null}]},"properties":{"a":1},"properties":{"b":2},"userId":"u"}]"#;
        let fields = only(&["type", "event", "properties"]);
        let received =
            read_events(body, &Limits::SEGMENT, &fields, &PropertiesRead::Built).unwrap();
        // Repeated keys as serde_json keeps them: the last value, in the first one's place.
        assert_eq!(
            received.values(),
            vec![serde_json::json!({"type": "track", "event": "E", "properties": {"b": 2}})]
        );
        let whole = read_events(
            body,
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(whole.values()[0]["properties"], serde_json::json!({"b": 2}));
        assert_eq!(whole.values()[0]["context"]["ip"], "1.2.3.4");
    }

    /// Fields read in part (`context.campaign.source`, `properties.revenue`) are built only in
    /// the members read, by the one-pass reader and by serde_json alike (an escape in a
    /// top-level key sends the event to serde_json), and the unread members are still checked.
    #[test]
    fn events_are_built_only_as_far_as_they_are_read() {
        let mut fields = only(&["type"]);
        fields.add_path("context", &["campaign", "source"]);
        fields.add_path("context", &["consent", "categoryPreferences"]);
        fields.add_path("properties", &["revenue"]);
        fields.add_path("traits", &["a", "b"]);
        let mut item = crate::segment::ValueRead::NOTHING;
        item.add_path(&["sku"]);
        let items = crate::segment::ValueRead::Items(Box::new(item));
        fields.add_path_read("properties", &["products"], &items);
        let events = [
            r#"{"type":"track","properties":{"products":[{"sku":"a","name":"n"},[{"sku":1}],3,{"x":{"sku":2}},{}],"total":2}}"#,
            r#"{"type":"track","properties":{"products":{"sku":"a","name":"n"}}}"#,
            r#"{"type":"track","context":{"ip":"1.2.3.4","campaign":{"source":"n","medium":"e","source":{"x":[1,{"y":2}]}},"page":{"url":"u"}},"properties":{"revenue":2.5,"total":3,"rev\u0065nue":9}}"#,
            r#"{"type":"track","c\u006fntext":{"campaign":{"source":"n","name":"s"},"ip":"i"},"context":{"campaign":{"name":"x","source":1e2}},"properties":{"total":1}}"#,
            r#"{"type":"track","context":"text","properties":[{"revenue":1}],"traits":{"a":{"c":1,"b":{"d":[]}},"z":null}}"#,
            r#"{"type":"track","context":{"consent":{"categoryPreferences":{"Analytics":true,"x":{"y":1}},"other":1}},"properties":{}}"#,
            r#"{"type":"track", "context" : { "campaign" : { "source" : "s" , "medium" : "m" } , "ip" : "i" } }"#,
        ];
        for event in events {
            let body = format!("[{event}]");
            let read = read_events(
                body.as_bytes(),
                &Limits::SEGMENT,
                &fields,
                &PropertiesRead::Built,
            )
            .unwrap();
            let whole: Value = serde_json::from_str(event).unwrap();
            assert_eq!(read.values(), vec![fields.cut(&whole)], "{event}");
        }
        assert_eq!(
            fields.cut(&serde_json::from_str(events[2]).unwrap()),
            serde_json::json!({"type": "track", "context": {"campaign": {"source": {"x": [1, {"y": 2}]}}},
                               "properties": {"revenue": 9}})
        );
        assert_eq!(
            fields.cut(&serde_json::from_str(events[0]).unwrap()),
            serde_json::json!({"type": "track", "properties": {"products": [{"sku": "a"}, [{"sku": 1}], 3, {}, {}]}})
        );
        // A member not read is still checked: a number out of range makes the event unreadable.
        let body = br#"[{"type":"track","context":{"campaign":{"medium":1e999}}}]"#;
        let read = read_events(body, &Limits::SEGMENT, &fields, &PropertiesRead::Built).unwrap();
        assert_eq!(read.unreadable.len(), 1);
    }

    /// Found by the inbound fuzzer (2026-12-03): a batch envelope's member that no event reads
    /// was not checked where the body is read by `serde_json` (a key with an escape sends it
    /// there), so a number out of range in it made the body invalid for one configuration and
    /// valid for another.
    #[test]
    fn a_batch_envelope_is_checked_whole_whatever_the_configuration_reads() {
        let event = r#"{"type":"track","event":"E","userId":"u"}"#;
        let cut = Limits {
            max_event_bytes: 64,
            ..Limits::SEGMENT
        };
        for member in [r#""x":1e400"#, r#""x":[{"a":1e400}]"#, r#""x":"\ud800""#] {
            // With a key with an escape (`serde_json` reads the body) and without.
            for escape in ["", r#","c\t":1"#] {
                let body = format!(r#"{{"batch":[{event}],{member}{escape}}}"#);
                // A member larger than an event may be is not built, but checked.
                let long = format!(
                    r#"{{"batch":[{event}],"context":{{"p":"{}",{member}}}{escape}}}"#,
                    "a".repeat(64)
                );
                for (body, limits) in [(&body, &Limits::SEGMENT), (&long, &cut)] {
                    for fields in [&FieldsRead::All, &FieldsRead::pipeline(), &only(&["type"])] {
                        let read =
                            read_events(body.as_bytes(), limits, fields, &PropertiesRead::Built);
                        assert!(
                            matches!(
                                read,
                                Err(ReadError::Inbound(InboundError::MalformedJson(_)))
                            ),
                            "{body}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn events_whose_properties_are_copied_are_read_as_fields_with_the_same_values() {
        let fields = only(&[
            "type",
            "event",
            "userId",
            "writeKey",
            "properties",
            "context",
        ]);
        let copied = PropertiesRead::Copied(vec!["revenue".into()]);
        let body = br#"[{"event":"E","type":"track","properties":{"revenue":1,"x":2},"userId":"a","userId":"b","ip":"1"},{"type":"track","properties":{"\u0061":1}}, 7]"#;
        let read = |properties| read_events(body, &Limits::SEGMENT, &fields, properties).unwrap();
        let (as_fields, built) = (read(&copied), read(&PropertiesRead::Built));
        assert!(matches!(as_fields.events[0], ReadEvent::Fields(_)));
        // A key with an escape in `properties`: not copied, but still read as fields.
        assert!(matches!(as_fields.events[1], ReadEvent::Fields(_)));
        assert!(matches!(as_fields.events[2], ReadEvent::Value(_)));
        assert!(matches!(built.events[0], ReadEvent::Value(_)));
        // The same values but for `properties` (only the members looked up, where copied), in
        // the same order (a repeated key in the first one's place).
        let mut values = built.values();
        values[0]["properties"] = serde_json::json!({"revenue": 1});
        assert_eq!(as_fields.values(), values);
        assert_eq!(
            serde_json::to_string(&as_fields.values()[0]).unwrap(),
            r#"{"event":"E","type":"track","properties":{"revenue":1},"userId":"b"}"#
        );

        // A Tracking API call read as fields: its type set and its write key taken, as in a map.
        // The body of a Tracking API call read with `properties` copied and built.
        let both = |call: TrackingCall, body: &[u8], fields: &FieldsRead| {
            let read = |properties| {
                read_tracking_call(call, body, &Limits::SEGMENT, fields, properties).unwrap()
            };
            (read(&copied), read(&PropertiesRead::Built))
        };
        let call = br#"{"writeKey":"k","event":"E","type":"identify","userId":"u","properties":{"revenue":1}}"#;
        let (as_fields, built) = both(TrackingCall::Single("track"), call, &fields);
        assert!(matches!(as_fields.received.events[0], ReadEvent::Fields(_)));
        assert_eq!(
            (as_fields.write_key.as_deref(), built.write_key.as_deref()),
            (Some("k"), Some("k"))
        );
        assert_eq!(
            serde_json::to_string(&as_fields.received.values()).unwrap(),
            serde_json::to_string(&built.received.values()).unwrap()
        );
        assert_eq!(as_fields.received.values()[0]["type"], "track");
        // A name the configuration does not read is added to the names.
        let untyped = br#"{"event":"E","userId":"u"}"#;
        let few = only(&["event", "userId", "properties"]);
        let call = read_tracking_call(
            TrackingCall::Single("track"),
            untyped,
            &Limits::SEGMENT,
            &few,
            &copied,
        )
        .unwrap();
        assert_eq!(
            call.received.values(),
            vec![serde_json::json!({"event": "E", "userId": "u", "type": "track"})]
        );
        // A batch: each event loses its write key, and takes the batch's context where it lacks one.
        let batch = br#"{"writeKey":"k","context":{"ip":"1"},"batch":[{"writeKey":"x","type":"track","userId":"u","event":"E"},{"type":"track","context":{"ip":"2"},"userId":"v"}]}"#;
        let (as_fields, built) = both(TrackingCall::Batch, batch, &fields);
        assert!(matches!(as_fields.received.events[0], ReadEvent::Fields(_)));
        assert_eq!(as_fields.write_key.as_deref(), Some("k"));
        assert_eq!(
            serde_json::to_string(&as_fields.received.values()).unwrap(),
            serde_json::to_string(&built.received.values()).unwrap()
        );
        for index in 0..2 {
            let (ours, theirs) = (
                as_fields.received.event(index).unwrap(),
                built.received.event(index).unwrap(),
            );
            assert_eq!(ours.to_value(), theirs.to_value());
            assert_eq!(ours.get("writeKey"), None);
        }
        let ip = |index| {
            let event = as_fields.received.event(index).unwrap();
            event.get("context").unwrap().as_value().unwrap()["ip"].clone()
        };
        assert_eq!((ip(0), ip(1)), (json!("1"), json!("2")));
        // Strings are read as their characters, not built.
        let event = as_fields.received.event(0).unwrap();
        assert!(matches!(event.get("userId"), Some(EventField::Str("u"))));
    }

    #[test]
    fn an_item_that_is_not_an_object_inherits_nothing_of_its_batch() {
        let fields = only(&["type", "userId", "properties", "context"]);
        let copied = PropertiesRead::Copied(vec!["revenue".into()]);
        // The batch's context alone is over the per-event limit: every object that lacks one is
        // too large with it; the number is not, and is rejected as not an event instead.
        let context = "x".repeat(Limits::SEGMENT.max_event_bytes);
        let body = format!(
            r#"{{"context":{{"pad":"{context}"}},"batch":[{{"type":"track","userId":"u","properties":{{"revenue":1}}}},7,{{"type":"track","userId":"v","context":{{}}}}]}}"#
        );
        for properties in [&copied, &PropertiesRead::Built] {
            let request = read_tracking_call(
                TrackingCall::Batch,
                body.as_bytes(),
                &Limits::SEGMENT,
                &fields,
                properties,
            )
            .unwrap();
            assert_eq!(request.received.oversized, [0], "{properties:?}");
            assert_eq!(request.received.len(), 3);
            assert!(!request.received.is_empty());
        }
        assert!(ReceivedEvents::default().is_empty());
    }

    #[test]
    fn a_value_that_cannot_be_built_makes_the_event_unreadable_even_where_unread() {
        let body = br#"[{"type":"track","context":{"n":1e400}},{"type":"track","context":{"s":"\ud800"}},{"type":"track","context":{"ok":true}}]"#;
        for fields in [FieldsRead::All, only(&["type"])] {
            let received =
                read_events(body, &Limits::SEGMENT, &fields, &PropertiesRead::Built).unwrap();
            let unreadable: Vec<usize> = received.unreadable.iter().map(|(at, _)| *at).collect();
            assert_eq!(unreadable, [0, 1], "{fields:?}");
        }
        let single = br#"{"type":"track","context":{"n":-1e400}}"#;
        assert_eq!(
            read_events(
                single,
                &Limits::SEGMENT,
                &only(&["type"]),
                &PropertiesRead::Built
            )
            .unwrap_err()
            .code(),
            "malformed_json"
        );
    }

    #[test]
    fn inherited_fields_count_for_events_that_lack_them_even_when_unread() {
        let limits = Limits {
            max_event_bytes: 100,
            ..Limits::SEGMENT
        };
        let context = format!(r#"{{"pad":"{}"}}"#, "x".repeat(70));
        let body = format!(
            r#"{{"context":{context},"batch":[{{"type":"track","event":"A"}},{{"type":"track","event":"B","context":{{}}}}]}}"#
        );
        for fields in [FieldsRead::All, only(&["type", "event"])] {
            let request = read_tracking_call(
                TrackingCall::Batch,
                body.as_bytes(),
                &limits,
                &fields,
                &PropertiesRead::Built,
            )
            .unwrap();
            assert_eq!(request.received.oversized, [0], "{fields:?}");
            assert_eq!(
                request.received.inherited.contains_key("context"),
                fields.contains("context")
            );
        }
    }

    #[test]
    fn reads_the_three_shapes() {
        let one = parse_events(br#"{"type":"track","event":"A"}"#).unwrap();
        assert_eq!(one, vec![serde_json::json!({"type":"track","event":"A"})]);
        let array = parse_events(br#"[{"event":"A"},{"event":"B"}]"#).unwrap();
        assert_eq!(array.len(), 2);
        let batch = parse_events(br#"{"batch":[{"event":"A"},3],"writeKey":"k"}"#).unwrap();
        assert_eq!(
            batch,
            vec![serde_json::json!({"event":"A"}), serde_json::json!(3)]
        );
    }

    #[test]
    fn an_event_with_a_batch_property_stays_an_event() {
        let events = parse_events(br#"{"type":"track","event":"A","batch":[1]}"#).unwrap();
        assert_eq!(
            events,
            vec![serde_json::json!({"type":"track","event":"A","batch":[1]})]
        );
    }

    #[test]
    fn rejects_non_events() {
        assert_eq!(parse_events(b"{").unwrap_err().code(), "malformed_json");
        assert_eq!(parse_events(b"").unwrap_err().code(), "malformed_json");
        assert_eq!(parse_events(b"42").unwrap_err().code(), "invalid_body");
        assert_eq!(parse_events(b"null").unwrap_err().code(), "invalid_body");
        assert_eq!(
            parse_events(br#"{"batch":{}}"#).unwrap_err().code(),
            "invalid_body"
        );
    }

    #[test]
    fn segment_signature_vector() {
        // Segment's test: secret abc123, body {"cool":true}.
        assert_eq!(
            sign(b"abc123", br#"{"cool":true}"#),
            "5099cab379b3be52908387457007040cc934ef86"
        );
        assert!(verify_signature(
            b"abc123",
            br#"{"cool":true}"#,
            Some("5099cab379b3be52908387457007040cc934ef86")
        )
        .is_ok());
        assert_eq!(
            verify_signature(
                b"abc123",
                br#"{"cool":false}"#,
                Some("5099cab379b3be52908387457007040cc934ef86")
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"abc123", b"{}", None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(b"abc123", b"{}", Some("zz")),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn batches_sign_only_the_first_element() {
        let body = br#"[{"cool":true},{"other":1}]"#;
        assert_eq!(signed_bytes(body), br#"{"cool":true}"#);
        let first = "5099cab379b3be52908387457007040cc934ef86";
        assert!(verify_signature(b"abc123", body, Some(first)).is_ok());
        let whole = sign(b"abc123", body);
        assert_eq!(
            verify_signature(b"abc123", body, Some(&whole)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn basic_auth() {
        assert_eq!(
            basic_auth_write_key(Some("Basic YWJjMTIzOg==")),
            Some("abc123".into())
        );
        assert_eq!(
            basic_auth_write_key(Some("Basic YWJjMTIz")),
            Some("abc123".into())
        );
        assert_eq!(basic_auth_write_key(Some("Bearer x")), None);
        assert_eq!(basic_auth_write_key(Some("Basic !!!")), None);
        assert_eq!(basic_auth_write_key(Some("Basic Og==")), None);
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_request_bytes: 200,
            max_event_bytes: 40,
            max_events: 3,
        };
        let big = format!(r#"{{"type":"track","event":"{}"}}"#, "x".repeat(50));
        assert_eq!(
            read_events(
                big.as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap_err()
            .code(),
            "event_too_large"
        );
        let batch = format!(r#"[{{"type":"track"}},{big}]"#);
        let received = read_events(
            batch.as_bytes(),
            &limits,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(received.oversized, [1]);
        assert_eq!(received.events.len(), 2);
        let many = r#"{"batch":[{},{},{},{}]}"#;
        assert_eq!(
            read_events(
                many.as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap_err()
            .code(),
            "too_many_events"
        );
        let huge = format!("[{}]", "1,".repeat(150));
        assert_eq!(
            read_events(
                huge.as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap_err()
            .code(),
            "request_too_large"
        );
    }

    #[test]
    fn tracking_calls() {
        let call = TrackingCall::from_path("/v1/track").unwrap();
        let request = read_tracking_call(
            call,
            br#"{"event":"E","userId":"u","writeKey":"wk"}"#,
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(request.write_key.as_deref(), Some("wk"));
        assert_eq!(request.received.values()[0]["type"], "track");
        assert!(request.received.values()[0].get("writeKey").is_none());
        let batch = read_tracking_call(
            TrackingCall::Batch,
            br#"{"batch":[{"type":"track","event":"E"}],"writeKey":"wk","context":{"ip":"1"}}"#,
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("wk"));
        // The batch's context stands in for the event's, without being copied into it.
        assert!(batch.received.values()[0].get("context").is_none());
        assert_eq!(
            batch.received.event(0).unwrap().to_value()["context"]["ip"],
            "1"
        );
        assert!(batch.received.envelope.is_empty());
        assert_eq!(TrackingCall::from_path("/v1/nope"), None);
        assert!(read_tracking_call(
            call,
            b"[]",
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built
        )
        .is_err());
    }

    #[test]
    fn limits_are_exact() {
        let limits = Limits {
            max_request_bytes: 64,
            max_event_bytes: 20,
            max_events: 2,
        };
        let at = |n: usize| format!(r#"{{"e":"{}"}}"#, "x".repeat(n - 8));
        assert_eq!(at(20).len(), 20);
        assert!(read_events(
            at(20).as_bytes(),
            &limits,
            &FieldsRead::All,
            &PropertiesRead::Built
        )
        .is_ok());
        assert_eq!(
            read_events(
                at(21).as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap_err(),
            ReadError::Limit(LimitError::EventTooLarge {
                bytes: 21,
                limit: 20
            })
        );
        let batch = format!("[{},{}]", at(20), at(21));
        assert_eq!(
            read_events(
                batch.as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap()
            .oversized,
            [1]
        );
        assert!(read_events(
            b"[{},{}]",
            &limits,
            &FieldsRead::All,
            &PropertiesRead::Built
        )
        .is_ok());
        assert_eq!(
            read_events(
                b"[{},{},{}]",
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap_err(),
            ReadError::Limit(LimitError::TooManyEvents {
                events: 3,
                limit: 2
            })
        );
        assert_eq!(check_request_size(64, &limits), Ok(()));
        assert_eq!(
            check_request_size(65, &limits),
            Err(LimitError::RequestTooLarge {
                bytes: 65,
                limit: 64
            })
        );
        let body = format!("[{}]", " ".repeat(63));
        assert_eq!(
            read_events(
                body.as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built
            )
            .unwrap_err()
            .code(),
            "request_too_large"
        );
        assert_eq!(
            read_events(
                format!("[{}]", " ".repeat(62)).as_bytes(),
                &limits,
                &FieldsRead::All,
                &PropertiesRead::Built,
            )
            .unwrap()
            .events
            .len(),
            0
        );
    }

    #[test]
    fn inherited_fields_count_towards_the_event_limit_and_are_never_copied() {
        let limits = Limits {
            max_request_bytes: 10_000,
            max_event_bytes: 40,
            max_events: 100,
        };
        // The context is 22 bytes; an item of 18 bytes that lacks it is exactly at the limit.
        let context = r#"{"ip":"1.2.3.4567890"}"#;
        assert_eq!(context.len(), 22);
        let item = r#"{"type":"track"}  "#.trim_end();
        let body = format!(
            r#"{{"batch":[{item},{{"type":"track","x":1}},{{"type":"t","context":{{}}}}],"context":{context}}}"#
        );
        let request = read_tracking_call(
            TrackingCall::Batch,
            body.as_bytes(),
            &limits,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        // 16 + 22 = 38 bytes: within; 22 + 22 = 44: over; the third has its own context.
        assert_eq!(request.received.oversized, [1]);
        assert_eq!(
            request.received.event(0).unwrap().to_value()["context"]["ip"],
            "1.2.3.4567890"
        );
        assert_eq!(
            request.received.event(2).unwrap().to_value()["context"],
            serde_json::json!({})
        );
        // The amplification body: a large context and many empty items. Every item is refused
        // alone, and no copy of the context is made.
        let attack = format!(
            r#"{{"batch":[{}],"context":[{}]}}"#,
            vec!["{}"; 100].join(","),
            vec!["0"; 1000].join(",")
        );
        let request = read_tracking_call(
            TrackingCall::Batch,
            attack.as_bytes(),
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(request.received.oversized.len(), 0);
        let limits = Limits {
            max_request_bytes: usize::MAX,
            max_event_bytes: 1000,
            max_events: 2500,
        };
        let request = read_tracking_call(
            TrackingCall::Batch,
            attack.as_bytes(),
            &limits,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(request.received.oversized.len(), 100);
        assert!(request.received.values().iter().all(Value::is_null));
    }

    #[test]
    fn a_body_that_is_not_events_says_what_it_is() {
        for (body, what) in [
            (&b"null"[..], "the request body is null;"),
            (b" true", "the request body is a boolean;"),
            (b"42", "the request body is a number;"),
            (b"\"s\"", "the request body is a string;"),
        ] {
            let error = read_events(
                body,
                &Limits::SEGMENT,
                &FieldsRead::All,
                &PropertiesRead::Built,
            )
            .unwrap_err();
            assert_eq!(error.code(), "invalid_body");
            assert!(error.to_string().starts_with(what), "{error}");
        }
    }

    #[test]
    fn an_unreadable_item_is_refused_alone() {
        let body = br#"[{"type":"track","n":1e400},{"type":"track"},{"n":-1e400}]"#;
        let received = read_events(
            body,
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(received.events.len(), 3);
        assert_eq!(
            received
                .unreadable
                .iter()
                .map(|(i, _)| *i)
                .collect::<Vec<_>>(),
            [0, 2]
        );
        assert!(received.unreadable[0].1.contains("number out of range"));
        assert_eq!(received.values()[1]["type"], "track");
        // A single event is the whole request: it fails as a whole.
        assert_eq!(
            read_events(
                br#"{"type":"track","n":1e400}"#,
                &Limits::SEGMENT,
                &FieldsRead::All,
                &PropertiesRead::Built,
            )
            .unwrap_err()
            .code(),
            "malformed_json"
        );
    }

    #[test]
    fn the_write_key_is_found_without_parsing_the_events() {
        assert_eq!(
            body_write_key(br#"{"writeKey":"wk","batch":[]}"#),
            Some("wk".into())
        );
        assert_eq!(body_write_key(br#"{"batch":[{"writeKey":"inner"}]}"#), None);
        assert_eq!(
            body_write_key(br#"{"writeKey":"w\u006b"}"#),
            Some("wk".into())
        );
        assert_eq!(body_write_key(br#"{"writeKey":""}"#), None);
        assert_eq!(body_write_key(br#"{"writeKey":7}"#), None);
        assert_eq!(body_write_key(br#"{"writeKey":null}"#), None);
        assert_eq!(body_write_key(br#"[{"writeKey":"wk"}]"#), None);
        assert_eq!(body_write_key(br#"{"writeKey":"wk""#), None);
        assert_eq!(body_write_key(b"not json"), None);
    }

    #[test]
    fn authorization_schemes_are_case_insensitive() {
        for header in [
            "Basic YWJjMTIzOg==",
            "basic YWJjMTIzOg==",
            "BASIC  YWJjMTIzOg== ",
        ] {
            assert_eq!(
                basic_auth_write_key(Some(header)),
                Some("abc123".into()),
                "{header}"
            );
        }
        assert_eq!(basic_auth_write_key(Some("BasicYWJjMTIzOg==")), None);
        assert_eq!(basic_auth_write_key(None), None);
        assert_eq!(strip_scheme(" Bearer  tok ", "bearer"), Some("tok"));
        assert_eq!(strip_scheme("Bearer", "Bearer"), None);
        assert_eq!(strip_scheme("Token tok", "Bearer"), None);
    }

    #[test]
    fn signatures_are_hex_of_exactly_twenty_bytes() {
        let body = br#"{"cool":true}"#;
        let good = "5099cab379b3be52908387457007040cc934ef86";
        assert!(verify_signature(b"abc123", body, Some(&good.to_uppercase())).is_ok());
        assert!(verify_signature(b"abc123", body, Some(&format!(" {good} "))).is_ok());
        for bad in [
            &good[..38],
            &good[1..],
            &format!("{good}00"),
            &format!("{}g", &good[..39]),
            "",
            "  ",
        ] {
            assert!(
                verify_signature(b"abc123", body, Some(bad)).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(decode_hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex(&"00".repeat(64)).map(|b| b.len()), Some(64));
        assert_eq!(decode_hex(&"00".repeat(65)), None);
    }

    #[test]
    fn the_signed_part_of_a_batch_is_its_first_element() {
        let body = br#" [{"a":1}, {"b":2}, 3]"#;
        assert_eq!(
            signed_part(body),
            SignedPart {
                bytes: br#"{"a":1}"#,
                unsigned_events: 2
            }
        );
        assert_eq!(signed_part(br#"[{"a":1}]"#).unsigned_events, 0);
        assert_eq!(signed_part(b"[]").bytes, b"[]");
        assert_eq!(signed_part(b"[1,").bytes, b"[1,");
        assert_eq!(signed_part(br#"{"a":1}"#).unsigned_events, 0);
    }

    #[test]
    fn every_tracking_path() {
        for (path, call) in [
            ("/v1/track", TrackingCall::Single("track")),
            ("/v1/t", TrackingCall::Single("track")),
            ("/v1/identify", TrackingCall::Single("identify")),
            ("/v1/i", TrackingCall::Single("identify")),
            ("/v1/page", TrackingCall::Single("page")),
            ("/v1/p", TrackingCall::Single("page")),
            ("/v1/screen", TrackingCall::Single("screen")),
            ("/v1/group", TrackingCall::Single("group")),
            ("/v1/g", TrackingCall::Single("group")),
            ("/v1/alias", TrackingCall::Single("alias")),
            ("/v1/a", TrackingCall::Single("alias")),
            ("/v1/batch", TrackingCall::Batch),
            ("/v1/import/", TrackingCall::Batch),
        ] {
            assert_eq!(TrackingCall::from_path(path), Some(call), "{path}");
        }
        assert_eq!(TrackingCall::from_path("/v2/track"), None);
        assert_eq!(TrackingCall::from_path("/v1/"), None);
    }

    #[test]
    fn signature_errors_say_what_is_wrong_without_the_secret() {
        assert!(SignatureError::Missing
            .message()
            .contains("no X-Signature header"));
        assert!(SignatureError::Mismatch
            .message()
            .contains("does not match the body"));
        assert_eq!(SignatureError::Missing.code(), "missing_signature");
        assert_eq!(SignatureError::Mismatch.code(), "invalid_signature");
    }

    #[test]
    fn an_empty_write_key_in_the_body_is_none() {
        for body in [&br#"{"writeKey":"","event":"E"}"#[..], br#"{"writeKey":7}"#] {
            let request = read_tracking_call(
                TrackingCall::Single("track"),
                body,
                &Limits::SEGMENT,
                &FieldsRead::All,
                &PropertiesRead::Built,
            )
            .unwrap();
            assert_eq!(request.write_key, None);
            assert!(request.received.values()[0].get("writeKey").is_none());
        }
        let batch = br#"{"writeKey":"","batch":[{"writeKey":"inner"}]}"#;
        let request = read_tracking_call(
            TrackingCall::Batch,
            batch,
            &Limits::SEGMENT,
            &FieldsRead::All,
            &PropertiesRead::Built,
        )
        .unwrap();
        assert_eq!(request.write_key, None);
        assert!(request.received.values()[0].get("writeKey").is_none());
    }
}
