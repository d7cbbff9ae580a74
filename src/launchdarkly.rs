//! LaunchDarkly's client-side event ingestion: custom events, bulk payloads and their headers.
//!
//! Payloads go to `POST {events base}/events/bulk/{clientSideId}` with no `Authorization`
//! header: the client-side ID in the path names the environment.

use crate::json;
use crate::mapping::Tree;
use serde::Serialize;
use serde_json::{Map, Number, Value};
use sha1::{Digest, Sha1};
use std::borrow::Cow;
use uuid::Uuid;

/// The bridge's `User-Agent`, naming it and its version.
pub const USER_AGENT: &str = concat!("segment-ld-bridge/", env!("CARGO_PKG_VERSION"));

/// The event schema version sent in `X-LaunchDarkly-Event-Schema`.
pub const EVENT_SCHEMA: &str = "4";

/// Namespace of the UUIDv5 payload ids (a fixed, random UUID that belongs to this project).
const PAYLOAD_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_3a52_9d0e_4c1b_8a47_2e5b_d9c0_1f63);

/// Where a LaunchDarkly environment receives events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventsBase {
    /// `https://events.launchdarkly.com` (commercial, the default).
    Us,
    /// `https://events.eu.launchdarkly.com`.
    Eu,
    /// `https://events.launchdarkly.us` (federal).
    Federal,
    /// Any other base URL without a trailing slash (a private instance, a relay, a test server).
    Custom(String),
}

/// Why an events base could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEventsBase(pub String);

impl EventsBase {
    /// Reads `us`, `eu`, `federal`, a base URL (`https://…` or `http://…`) or a bare host name
    /// (Segment's `events_host_name` setting, served over HTTPS).
    pub fn parse(text: &str) -> Result<EventsBase, InvalidEventsBase> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "" | "us" | "commercial" | "events.launchdarkly.com" => return Ok(EventsBase::Us),
            "eu" | "events.eu.launchdarkly.com" => return Ok(EventsBase::Eu),
            "federal" | "fed" | "events.launchdarkly.us" => return Ok(EventsBase::Federal),
            _ => {}
        }
        let url = if text.starts_with("https://") || text.starts_with("http://") {
            text.trim_end_matches('/').to_string()
        } else if text.contains("://") {
            return Err(InvalidEventsBase(format!(
                "events host {text:?} must use http:// or https://"
            )));
        } else {
            format!("https://{}", text.trim_end_matches('/'))
        };
        let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || host.contains(char::is_whitespace) || rest.contains(['?', '#']) {
            return Err(InvalidEventsBase(format!(
                "events host {text:?} is not a valid base URL or host name"
            )));
        }
        Ok(EventsBase::Custom(url))
    }

    /// The base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        match self {
            EventsBase::Us => "https://events.launchdarkly.com",
            EventsBase::Eu => "https://events.eu.launchdarkly.com",
            EventsBase::Federal => "https://events.launchdarkly.us",
            EventsBase::Custom(url) => url,
        }
    }

    /// A short name for summaries: `us`, `eu`, `federal` or `custom`.
    pub fn region(&self) -> &'static str {
        match self {
            EventsBase::Us => "us",
            EventsBase::Eu => "eu",
            EventsBase::Federal => "federal",
            EventsBase::Custom(_) => "custom",
        }
    }

    /// `{base}/events/bulk/{clientSideId}`.
    pub fn bulk_url(&self, client_side_id: &str) -> String {
        const PATH: &str = "/events/bulk/";
        let base = self.url();
        let mut url = String::with_capacity(base.len() + PATH.len() + client_side_id.len());
        url.push_str(base);
        url.push_str(PATH);
        url.push_str(client_side_id);
        url
    }
}

/// One LaunchDarkly custom event (event schema 4, `contextKeys` form). `data` may be borrowed
/// from the Segment event it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomEvent<'a> {
    /// Always `"custom"`.
    pub kind: &'static str,
    /// The metric event key: the Segment event name, byte for byte.
    pub key: Cow<'a, str>,
    /// Context kind → context key.
    pub context_keys: ContextKeys<'a>,
    /// Unix milliseconds.
    pub creation_date: i64,
    /// The numeric metric value, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_value: Option<Number>,
    /// Extra attributes (the Segment `properties`), always present.
    pub data: EventData<'a>,
}

impl CustomEvent<'_> {
    /// Writes the event as its serde serialisation does (`serde_json::to_writer`), faster.
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"kind\":");
        json::write_str(out, self.kind);
        out.push_str(",\"key\":");
        json::write_str(out, &self.key);
        out.push_str(",\"contextKeys\":");
        self.context_keys.write_json(out);
        out.push_str(",\"creationDate\":");
        out.push_str(itoa::Buffer::new().format(self.creation_date));
        if let Some(metric_value) = &self.metric_value {
            out.push_str(",\"metricValue\":");
            json::write_number(out, metric_value);
        }
        out.push_str(",\"data\":");
        match &self.data {
            EventData::Object(object) => json::write_object(out, object),
            EventData::Mapped(object) => Tree::write_entries_json(out, &object.0),
            EventData::Copied(text) => out.push_str(text),
        }
        out.push('}');
    }

    /// The same event, owning all its data.
    pub fn into_owned(self) -> CustomEvent<'static> {
        CustomEvent {
            kind: self.kind,
            key: Cow::Owned(self.key.into_owned()),
            context_keys: self.context_keys.into_owned(),
            creation_date: self.creation_date,
            metric_value: self.metric_value,
            data: self.data.into_owned(),
        }
    }
}

/// Context kind → context key, in the order the kinds were first set; the strings may be
/// borrowed from the Segment event. The first pair is held inline: most events have one
/// context kind, and then no vector is allocated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextKeys<'a> {
    /// The first pair set (`None` only while there is none).
    first: Option<ContextKey<'a>>,
    /// The pairs set after it.
    rest: Vec<ContextKey<'a>>,
}

/// A context kind and its key.
type ContextKey<'a> = (Cow<'a, str>, Cow<'a, str>);

impl<'a> ContextKeys<'a> {
    /// No context keys.
    pub fn new() -> Self {
        ContextKeys::default()
    }

    /// Sets the key of `kind`; a kind already set keeps its place and gets the new key.
    pub fn insert(&mut self, kind: impl Into<Cow<'a, str>>, key: impl Into<Cow<'a, str>>) {
        let (kind, key) = (kind.into(), key.into());
        let first = match &mut self.first {
            None => {
                self.first = Some((kind, key));
                return;
            }
            Some(first) => first,
        };
        match std::iter::once(first)
            .chain(self.rest.iter_mut())
            .find(|(known, _)| *known == kind)
        {
            Some(entry) => entry.1 = key,
            None => self.rest.push((kind, key)),
        }
    }

    /// The key of `kind`.
    pub fn get(&self, kind: &str) -> Option<&str> {
        self.iter()
            .find(|(known, _)| *known == kind)
            .map(|(_, key)| key)
    }

    /// Kind and key pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (self.first.iter())
            .chain(self.rest.iter())
            .map(|(kind, key)| (kind.as_ref(), key.as_ref()))
    }

    /// How many kinds.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The same keys, owning their strings.
    pub fn into_owned(self) -> ContextKeys<'static> {
        let owned = |(kind, key): ContextKey<'a>| -> ContextKey<'static> {
            (Cow::Owned(kind.into_owned()), Cow::Owned(key.into_owned()))
        };
        ContextKeys {
            first: self.first.map(owned),
            rest: self.rest.into_iter().map(owned).collect(),
        }
    }

    /// Writes them as a JSON object.
    fn write_json(&self, out: &mut String) {
        json::write_members(out, self.iter(), json::write_str);
    }
}

impl Serialize for ContextKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// The `data` of a custom event: an object of JSON values (the Segment `properties`, borrowed or
/// owned), or the object the mapping engine resolved, written out without being built first.
#[derive(Clone, Debug)]
pub enum EventData<'a> {
    /// An object of JSON values.
    Object(Cow<'a, Map<String, Value>>),
    /// An object resolved by the mapping engine.
    Mapped(MappedObject<'a>),
    /// A JSON object's text exactly as `serde_json` writes its value (an event's `properties`
    /// copied by [`crate::segment::PropertiesRead::Copied`]): written as it is.
    Copied(Cow<'a, str>),
}

/// An object resolved by the mapping engine, its values still borrowed from the event and the
/// mapping (its keys are unique).
#[derive(Clone, Debug)]
pub struct MappedObject<'a>(pub(crate) Vec<(Cow<'a, str>, Tree<'a>)>);

impl EventData<'_> {
    /// The object, built.
    pub fn to_map(&self) -> Cow<'_, Map<String, Value>> {
        match self {
            EventData::Object(object) => Cow::Borrowed(object),
            EventData::Mapped(object) => Cow::Owned(Tree::into_map(object.0.clone())),
            // The text was read from JSON and copied as serde_json writes it: it parses.
            EventData::Copied(text) => Cow::Owned(serde_json::from_str(text).unwrap_or_default()),
        }
    }

    /// The same object, owning all its data.
    pub fn into_owned(self) -> EventData<'static> {
        match self {
            EventData::Object(object) => EventData::Object(Cow::Owned(object.into_owned())),
            EventData::Mapped(object) => EventData::Object(Cow::Owned(Tree::into_map(object.0))),
            EventData::Copied(text) => EventData::Copied(Cow::Owned(text.into_owned())),
        }
    }
}

/// Equal when the objects are (whichever their form).
impl PartialEq for EventData<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.to_map() == other.to_map()
    }
}

impl Serialize for EventData<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EventData::Object(object) => object.serialize(serializer),
            EventData::Mapped(object) => Tree::serialize_entries(&object.0, serializer),
            EventData::Copied(_) => self.to_map().serialize(serializer),
        }
    }
}

/// The headers of a bulk events request (`POST {events host}/bulk/{client-side ID}`) carrying
/// the payload `payload_id`, in sending order. The adapters build the HTTP request from these
/// and a planned payload; the core never builds one.
pub fn bulk_headers(payload_id: &str) -> [(&'static str, Cow<'static, str>); 4] {
    [
        ("Content-Type", Cow::Borrowed("application/json")),
        ("User-Agent", Cow::Borrowed(USER_AGENT)),
        ("X-LaunchDarkly-Event-Schema", Cow::Borrowed(EVENT_SCHEMA)),
        (
            "X-LaunchDarkly-Payload-ID",
            Cow::Owned(payload_id.to_string()),
        ),
    ]
}

/// The deterministic payload id of a set of events: a UUIDv5 over the client-side ID, the
/// Segment source they came from, and each event's [`event_digest`] (of its identity, Segment
/// `messageId` and subscription, and its LaunchDarkly JSON, given in two parts to leave out a
/// creation date stamped at receipt). The same events from the same source (a retry, ours or
/// Segment's) get the same id. SHA-1 binds the id to its source, so no other source can produce
/// it and no sender can make LaunchDarkly drop another sender's events as repeats; the digests
/// tell apart other events, or other content under the same `messageId`, from the same source.
pub fn payload_id<'a>(
    client_side_id: &str,
    source: &str,
    events: impl IntoIterator<Item = (&'a str, [&'a [u8]; 2])>,
) -> Uuid {
    let mut name = Sha1::new();
    name.update(PAYLOAD_ID_NAMESPACE.as_bytes());
    name.update(client_side_id.as_bytes());
    name.update([0]);
    name.update(source.as_bytes());
    name.update([0]);
    for (identity, json) in events {
        name.update(event_digest(identity, json));
    }
    uuid_from_sha1(name)
}

/// The 128-bit XXH3 of an event's JSON, given in parts (only the bytes count), seeded with the
/// 64-bit XXH3 of its identity, as 16 big-endian bytes. Hashing every event's JSON with SHA-1
/// instead cost 8-17% of the wasm core's time per event; XXH3 is not made to resist a forger,
/// but only a sender holding the source's own credentials could try, and SHA-1 binds the id to
/// that source. (Both hashes in one call each: XXH3's streaming hasher was slower in wasm.)
pub(crate) fn event_digest(identity: &str, [json, rest]: [&[u8]; 2]) -> [u8; 16] {
    use xxhash_rust::xxh3;
    let seed = xxh3::xxh3_64(identity.as_bytes());
    let digest = match rest {
        [] => xxh3::xxh3_128_with_seed(json, seed),
        _ => {
            let mut hasher = xxh3::Xxh3::with_seed(seed);
            hasher.update(json);
            hasher.update(rest);
            hasher.digest128()
        }
    };
    digest.to_be_bytes()
}

/// The UUIDv5 of `name` in `namespace`, as `Uuid::new_v5` makes it.
pub(crate) fn uuid_v5(namespace: &Uuid, name: &[u8]) -> Uuid {
    let mut hasher = Sha1::new();
    hasher.update(namespace.as_bytes());
    hasher.update(name);
    uuid_from_sha1(hasher)
}

/// The UUIDv5 of a SHA-1 that has been fed the namespace, then the name.
fn uuid_from_sha1(hasher: Sha1) -> Uuid {
    let digest = hasher.finalize();
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// What to do after LaunchDarkly answered a payload, as LaunchDarkly's SDKs decide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryVerdict {
    /// 2xx: done.
    Delivered,
    /// 400, 408, 429, 5xx or a network error: try again later with the same payload id.
    Retry,
    /// 413: the payload must be split before it is sent again.
    TooLarge,
    /// 401, 403, 404 and other 4xx: the configuration (client-side ID, events host) is wrong.
    ConfigurationError,
}

impl DeliveryVerdict {
    /// Classifies an HTTP status (`None` = no response: network error or timeout).
    pub fn from_status(status: Option<u16>) -> DeliveryVerdict {
        match status {
            None => DeliveryVerdict::Retry,
            Some(200..=299) => DeliveryVerdict::Delivered,
            Some(413) => DeliveryVerdict::TooLarge,
            Some(400 | 408 | 429) => DeliveryVerdict::Retry,
            Some(400..=499) => DeliveryVerdict::ConfigurationError,
            Some(_) => DeliveryVerdict::Retry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_bases() {
        assert_eq!(EventsBase::parse("").unwrap(), EventsBase::Us);
        assert_eq!(EventsBase::parse("EU").unwrap(), EventsBase::Eu);
        assert_eq!(EventsBase::parse("federal").unwrap(), EventsBase::Federal);
        assert_eq!(
            EventsBase::parse("events2.launchdarkly.com").unwrap().url(),
            "https://events2.launchdarkly.com"
        );
        assert_eq!(
            EventsBase::parse("http://127.0.0.1:8787/").unwrap().url(),
            "http://127.0.0.1:8787"
        );
        assert!(EventsBase::parse("ftp://x").is_err());
        assert!(EventsBase::parse("https://").is_err());
        assert!(EventsBase::parse("https://a b").is_err());
        assert_eq!(
            EventsBase::Eu.bulk_url("abc"),
            "https://events.eu.launchdarkly.com/events/bulk/abc"
        );
    }

    /// An event's digest is the XXH3-128 of its JSON seeded with the XXH3-64 of its identity,
    /// wherever the JSON is cut in two (the streaming hasher buffers 256 bytes: cuts on both
    /// sides of that, in a long event).
    #[test]
    fn an_event_digest_is_the_xxh3_128_of_its_identity_and_bytes_however_cut() {
        assert_eq!(
            xxhash_rust::xxh3::xxh3_128(b""),
            0x99aa_06d3_0147_98d8_6001_c324_468d_497f,
            "the XXH3 reference vector"
        );
        let json: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let whole = event_digest("m1", [&json, b""]);
        let seed = xxhash_rust::xxh3::xxh3_64(b"m1");
        let expected = xxhash_rust::xxh3::xxh3_128_with_seed(&json, seed);
        assert_eq!(whole, expected.to_be_bytes());
        for cut in [0, 1, 17, 255, 256, 257, 999, 1000] {
            let (json, rest) = json.split_at(cut);
            assert_eq!(event_digest("m1", [json, rest]), whole, "cut at {cut}");
        }
        assert_ne!(event_digest("m1", [&json[1..], b""]), whole);
        assert_ne!(
            event_digest("m", [b"1{}", b""]),
            event_digest("m1", [b"{}", b""])
        );
    }

    #[test]
    fn payload_ids_are_deterministic_and_distinct() {
        let id = |env: &str, source: &str, events: &[(&'static str, &'static [u8])]| {
            payload_id(
                env,
                source,
                events.iter().map(|(i, json)| (*i, [*json, &[][..]])),
            )
        };
        let a = id("env", "web", &[("m1", b"{}"), ("m2", b"{}")]);
        assert_eq!(a, id("env", "web", &[("m1", b"{}"), ("m2", b"{}")]));
        assert_ne!(a, id("env", "web", &[("m2", b"{}"), ("m1", b"{}")]));
        assert_ne!(a, id("env", "web", &[("m1m2", b"{}{}")]));
        assert_ne!(a, id("other", "web", &[("m1", b"{}"), ("m2", b"{}")]));
        // Another source, or the same messageId with other content, never gets the same id.
        assert_ne!(a, id("env", "browser", &[("m1", b"{}"), ("m2", b"{}")]));
        assert_ne!(a, id("env", "web", &[("m1", b"{\"a\":1}"), ("m2", b"{}")]));
        assert_ne!(a, id("env", "", &[("m1", b"{}"), ("m2", b"{}")]));
        assert_eq!(a.get_version_num(), 5);
        // The JSON may come in two parts (around a stamped creation date): only the bytes count.
        assert_eq!(
            payload_id("env", "web", [("m1", [&b"{\"a\""[..], &b":1}"[..]])]),
            id("env", "web", &[("m1", b"{\"a\":1}")])
        );
    }

    /// The payload ids are the UUIDv5 of the client-side ID, the source, and each event's
    /// XXH3-128 of its JSON seeded with the XXH3-64 of its identity (NUL after the client-side
    /// ID and after the source).
    #[test]
    fn payload_ids_are_uuid_v5() {
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let cases: [Case<'_>; 4] = [
            ("env", "", &[]),
            ("env", "web", &[("m1", "{}")]),
            (
                "5f0c1a2b3c4d5e6f7a8b9c0d",
                "default",
                &[("ajs-1\u{1f}default", "{\"k\":1}"), ("\u{1f}s", "[]")],
            ),
            ("", "é", &[("", ""), ("é", "x")]),
        ];
        for (client_side_id, source, events) in cases {
            let mut name = client_side_id.as_bytes().to_vec();
            name.push(0);
            name.extend_from_slice(source.as_bytes());
            name.push(0);
            for (identity, json) in events {
                let seed = xxhash_rust::xxh3::xxh3_64(identity.as_bytes());
                let digest = xxhash_rust::xxh3::xxh3_128_with_seed(json.as_bytes(), seed);
                name.extend_from_slice(&digest.to_be_bytes());
            }
            let expected = Uuid::new_v5(&PAYLOAD_ID_NAMESPACE, &name);
            let parts = events
                .iter()
                .map(|(identity, json)| (*identity, [json.as_bytes(), &[][..]]));
            assert_eq!(payload_id(client_side_id, source, parts), expected);
            assert_eq!(uuid_v5(&PAYLOAD_ID_NAMESPACE, &name), expected);
        }
    }

    #[test]
    fn custom_events_are_written_as_serde_serialises_them() {
        let data = serde_json::json!({"a": [1, 2.5, "x\ny"], "b": {"c": null}});
        let data = data.as_object().unwrap();
        for metric_value in [None, Some(Number::from(-3)), Number::from_f64(0.1)] {
            let mut context_keys = ContextKeys::new();
            context_keys.insert("user", "u\"1");
            context_keys.insert("device", "d");
            context_keys.insert("user", "u\"2"); // a kind set again keeps its place
            assert_eq!(
                context_keys.iter().collect::<Vec<_>>(),
                [("user", "u\"2"), ("device", "d")]
            );
            assert_eq!(
                (context_keys.get("device"), context_keys.len()),
                (Some("d"), 2)
            );
            let event = CustomEvent {
                kind: "custom",
                key: "Order \u{1}Completed é".into(),
                context_keys,
                creation_date: -1_714_979_289_123,
                metric_value,
                data: EventData::Object(Cow::Borrowed(data)),
            };
            let mut written = String::new();
            event.write_json(&mut written);
            assert_eq!(written, serde_json::to_string(&event).unwrap());
        }
    }

    /// An object the mapping engine resolved is written and serialised as the object it makes.
    #[test]
    fn mapped_data_is_written_as_its_object() {
        let payload = serde_json::json!({"s": "a\"b", "n": [1, 2.5, null], "o": {"k": true}});
        let entries = vec![
            (Cow::Borrowed("ref"), Tree::Ref(&payload)),
            (Cow::Owned("val".to_string()), Tree::Val(Value::from(0.1))),
            (Cow::Borrowed("empty"), Tree::Obj(Vec::new())),
            (
                Cow::Borrowed("arr"),
                Tree::Arr(vec![
                    Tree::Val(Value::Null),
                    Tree::Obj(vec![(Cow::Borrowed("x"), Tree::Arr(Vec::new()))]),
                ]),
            ),
        ];
        let data = EventData::Mapped(MappedObject(entries));
        let built = Value::Object(data.to_map().into_owned());
        let event = CustomEvent {
            kind: "custom",
            key: "k".into(),
            context_keys: ContextKeys::new(),
            creation_date: 0,
            metric_value: None,
            data,
        };
        let mut written = String::new();
        event.write_json(&mut written);
        let serialised = serde_json::to_string(&event).unwrap();
        assert_eq!(written, serialised);
        assert_eq!(serde_json::to_value(&event).unwrap()["data"], built);
        assert!(serialised.ends_with(&format!(",\"data\":{built}}}")));
        assert_eq!(event.clone().into_owned(), event);
    }

    #[test]
    fn verdicts_follow_the_sdks() {
        use DeliveryVerdict::*;
        for (status, verdict) in [
            (Some(202), Delivered),
            (Some(204), Delivered),
            (Some(400), Retry),
            (Some(408), Retry),
            (Some(429), Retry),
            (Some(500), Retry),
            (Some(503), Retry),
            (None, Retry),
            (Some(413), TooLarge),
            (Some(401), ConfigurationError),
            (Some(403), ConfigurationError),
            (Some(404), ConfigurationError),
        ] {
            assert_eq!(DeliveryVerdict::from_status(status), verdict, "{status:?}");
        }
    }

    #[test]
    fn context_keys_and_event_data_compare_by_content() {
        let mut keys = ContextKeys::new();
        assert!(keys.is_empty());
        keys.insert("user", "u");
        assert!(!keys.is_empty());
        assert_eq!(keys.len(), 1);
        // Kinds after the first (held apart from it) keep their places too.
        keys.insert("device", "d");
        keys.insert("org", "o");
        keys.insert("device", "e");
        keys.insert("user", "v");
        assert_eq!(
            keys.iter().collect::<Vec<_>>(),
            [("user", "v"), ("device", "e"), ("org", "o")]
        );
        assert_eq!(
            (keys.len(), keys.get("org"), keys.get("team")),
            (3, Some("o"), None)
        );
        assert_eq!(keys.clone().into_owned(), keys);
        let data = |value: serde_json::Value| match value {
            serde_json::Value::Object(map) => EventData::Object(Cow::Owned(map)),
            _ => unreachable!(),
        };
        assert_eq!(
            data(serde_json::json!({"a": 1})),
            data(serde_json::json!({"a": 1}))
        );
        assert_ne!(
            data(serde_json::json!({"a": 1})),
            data(serde_json::json!({"a": 2}))
        );
    }
}
