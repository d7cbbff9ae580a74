//! Segment's path lookup (`packages/core/src/get.ts`): parsing a path once, walking it many times.

use std::borrow::Cow;

use crate::segment::{EventField, EventRef};
use serde_json::Value;

/// One key of a parsed path, with the array index it denotes ([`crate::js::array_index`])
/// precomputed, and whether it is `length`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub(crate) name: String,
    index: Option<usize>,
    is_length: bool,
}

impl Key {
    pub(crate) fn new(name: String) -> Key {
        let index = crate::js::array_index(&name).and_then(|i| usize::try_from(i).ok());
        let is_length = name == "length";
        Key {
            name,
            index,
            is_length,
        }
    }
}

/// Where a path's walk ends: a value of the payload, or the `length` of an array or a string
/// (an own property in JavaScript, not a member of the JSON).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Found<'v> {
    Value(&'v Value),
    Length(usize),
}

impl<'v> Found<'v> {
    fn into_value(self) -> Cow<'v, Value> {
        match self {
            Found::Value(value) => Cow::Borrowed(value),
            Found::Length(length) => Cow::Owned(Value::from(length)),
        }
    }

    fn into_field(self) -> EventField<'v> {
        match self {
            Found::Value(value) => EventField::Value(value),
            Found::Length(length) => EventField::Length(length),
        }
    }
}

/// A parsed path: the root itself (`''`, `'.'`), or a list of keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathSpec {
    Root,
    Keys(Box<[Key]>),
}

impl PathSpec {
    /// Parses a path the way `get` does (no `$.` handling).
    pub(crate) fn parse(path: &str) -> PathSpec {
        if path.is_empty() || path == "." {
            return PathSpec::Root;
        }
        PathSpec::Keys(split_path(path).into_iter().map(Key::new).collect())
    }

    /// Parses the argument of `@path` or `@arrayPath`: the first `$.` anywhere is removed
    /// (`path.replace('$.', '')`), then the path is parsed as `get` does.
    pub(crate) fn parse_directive_path(path: &str) -> PathSpec {
        match path.find("$.") {
            Some(at) => {
                let mut stripped = String::with_capacity(path.len() - 2);
                stripped.push_str(&path[..at]);
                stripped.push_str(&path[at + 2..]);
                PathSpec::parse(&stripped)
            }
            None => PathSpec::parse(path),
        }
    }

    /// The names of the keys the path walks, in order; `None` for the value itself.
    pub(crate) fn key_names(&self) -> Option<Vec<&str>> {
        match self {
            PathSpec::Root => None,
            PathSpec::Keys(keys) => Some(keys.iter().map(|key| key.name.as_str()).collect()),
        }
    }

    /// Whether the path is the whole value.
    pub(crate) fn is_root(&self) -> bool {
        matches!(self, PathSpec::Root)
    }

    /// Walks the path as `pathArray.reduce((prev, key) => prev && prev[key], obj)` does:
    /// a falsy intermediate value (`null`, `false`, `0`, `''`) is itself the result, and the
    /// `length` of an array or a string is a number (borrowed values, an owned length).
    /// `None` is `undefined`. Indexing into strings and inherited properties are deliberately
    /// not reproduced: they give `undefined`.
    pub(crate) fn lookup<'v>(&self, root: Option<&'v Value>) -> Option<Cow<'v, Value>> {
        self.find(root?).map(Found::into_value)
    }

    /// [`PathSpec::lookup`] from a value there is.
    fn find<'v>(&self, root: &'v Value) -> Option<Found<'v>> {
        match self {
            PathSpec::Root => Some(Found::Value(root)),
            PathSpec::Keys(keys) => walk(root, keys),
        }
    }

    /// [`PathSpec::lookup`] from a Segment event: its first key is one of the event's fields
    /// (or of those it inherits). `None` for the whole event when it is not one JSON value (see
    /// [`EventRef::as_value`]).
    pub(crate) fn lookup_event<'v>(&self, event: EventRef<'v>) -> Option<EventField<'v>> {
        let (keys, first) = match self {
            PathSpec::Keys(keys) if event.is_object() => match keys.split_first() {
                Some((first, rest)) => (rest, event.get(&first.name)?),
                None => return event.as_value().map(EventField::Value),
            },
            _ => return self.find(event.as_value()?).map(Found::into_field),
        };
        match first {
            EventField::Value(value) => walk(value, keys).map(Found::into_field),
            // As `walk` walks a string: an empty one is falsy (and the result), its `length` is
            // a number, and it has no other keys (`undefined`).
            EventField::Str(text) => match keys.split_first() {
                None => Some(first),
                Some(_) if text.is_empty() => Some(first),
                Some((key, rest)) => string_key(text, key, rest).map(Found::into_field),
            },
            // An object (truthy): the walk goes on from its member.
            EventField::Members(members) => match keys.split_first() {
                None => Some(first),
                Some((key, rest)) => walk(members.get(&key.name)?, rest).map(Found::into_field),
            },
            // A top-level field is never a length.
            EventField::Length(_) => None,
        }
    }
}

/// The value at `keys` from `cur`, as Segment's `get` walks it: a falsy value ends the walk
/// (and is the result); an array's or a string's `length` is a number.
fn walk<'v>(mut cur: &'v Value, keys: &[Key]) -> Option<Found<'v>> {
    for (at, key) in keys.iter().enumerate() {
        if !crate::js::truthy(cur) {
            return Some(Found::Value(cur));
        }
        cur = match cur {
            Value::Object(map) => crate::json::get(map, &key.name)?,
            Value::Array(items) => match key.index {
                Some(index) => items.get(index)?,
                None if key.is_length => return past_length(items.len(), keys.get(at + 1..)?),
                None => return None,
            },
            Value::String(text) => return string_key(text, key, keys.get(at + 1..)?),
            _ => return None,
        };
    }
    Some(Found::Value(cur))
}

/// The walk from `key` of a non-empty (truthy) string, with `rest` of the keys after it: its
/// `length` is a number; it has no other keys here (`undefined`).
fn string_key<'v>(text: &str, key: &Key, rest: &[Key]) -> Option<Found<'v>> {
    if key.is_length {
        past_length(crate::js::utf16_len(text), rest)
    } else {
        None
    }
}

/// The walk past a `length` with `rest` of the keys: a length of 0 is falsy (and the result);
/// a number has no keys of its own (`undefined`).
fn past_length<'v>(length: usize, rest: &[Key]) -> Option<Found<'v>> {
    (rest.is_empty() || length == 0).then_some(Found::Length(length))
}

fn is_quote_or_digit(c: char) -> bool {
    c == '"' || c == '\'' || c.is_ascii_digit()
}

/// `path.split(/\[(?="|'|\d)|\.|(?<="|'|\d)]+/g)`, empty chunks dropped, quotes removed.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    let chars: Vec<char> = path.chars().collect();
    let mut chunks: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev = if i > 0 {
            chars.get(i - 1).copied()
        } else {
            None
        };
        let delimiter_len = if (c == '[' && next.is_some_and(is_quote_or_digit)) || c == '.' {
            1
        } else if c == ']' && prev.is_some_and(is_quote_or_digit) {
            chars[i..].iter().take_while(|&&c| c == ']').count()
        } else {
            0
        };
        if delimiter_len > 0 {
            chunks.push(std::mem::take(&mut cur));
            i += delimiter_len;
        } else {
            cur.push(c);
            i += 1;
        }
    }
    chunks.push(cur);
    chunks
        .into_iter()
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| chunk.chars().filter(|c| *c != '\'' && *c != '"').collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// From an event, a path walks as from the event's value: read as fields or as one value,
    /// an object or not, the whole event or a field of what it inherits.
    #[test]
    fn a_path_walks_an_event_as_its_value() {
        let paths = [
            "$.",
            "userId",
            "context.ip",
            "properties.items[1]",
            "missing.x",
            "n.x",
            "userId.x",
            "userId.0",
            "userId.length",
            "userId.length.x",
            "properties.items.length",
            "properties.items.length.x",
            "properties.none.length.x",
            "properties.none.length",
            "n.length",
        ];
        let inherited = json!({"context": {"ip": "1"}});
        let inherited = inherited.as_object().unwrap();
        let events = [
            json!({"userId": "u", "properties": {"items": [1, 2], "none": []}, "n": null}),
            json!({"userId": "u", "context": {"ip": "2"}}),
            json!({"userId": "", "n": "x"}),
            json!({"userId": "ab\u{1F600}", "properties": {"items": "xy", "none": ""}}),
            json!(null),
            json!(7),
            json!("text"),
        ];
        let owned = |field: EventField<'_>| field.to_value().into_owned();
        let items = PathSpec::parse_directive_path("properties.items[1]");
        assert_eq!(
            items.lookup_event(EventRef::from(&events[0])),
            Some(EventField::Value(&json!(2)))
        );
        for event in &events {
            for path in paths {
                let spec = PathSpec::parse_directive_path(path);
                let from_value = EventRef::from(event);
                assert_eq!(
                    spec.lookup_event(from_value).map(owned),
                    spec.lookup(Some(event)).map(Cow::into_owned),
                    "{path} on {event}"
                );
                let inheriting = from_value.inheriting(inherited);
                let whole = inheriting.to_value();
                if !spec.is_root() || inheriting.as_value().is_some() {
                    assert_eq!(
                        spec.lookup_event(inheriting).map(owned),
                        spec.lookup(Some(&whole)).map(Cow::into_owned),
                        "{path} on {event}, inheriting"
                    );
                }
                let Some(object) = event.as_object() else {
                    continue;
                };
                // Read as fields: strings as their characters (in `text`), the rest built.
                let read = crate::segment::as_fields(object);
                let fields = read.event();
                // The whole event is not one value when read as fields.
                let expected = if spec.is_root() {
                    None
                } else {
                    spec.lookup(Some(event)).map(Cow::into_owned)
                };
                assert_eq!(
                    spec.lookup_event(fields).map(owned),
                    expected,
                    "{path} on {event} read as fields"
                );
            }
        }
    }

    /// What Segment's `get` gives for `length` (in Node): an own property of arrays and strings
    /// (UTF-16 code units), a number the walk may go on from (0 is falsy, the result).
    #[test]
    fn length_is_an_arrays_and_a_strings_own_property() {
        let payload = json!({
            "tags": ["a", "b", ""], "none": [], "name": "Ada\u{1F600}", "e": "",
            "obj": {"length": "own"}, "n": 5,
        });
        let cases = [
            ("tags.length", Some(json!(3))),
            ("none.length", Some(json!(0))),
            ("none.length.x", Some(json!(0))),
            ("tags.length.x", None),
            ("name.length", Some(json!(5))),
            ("e.length", Some(json!(""))),
            ("obj.length", Some(json!("own"))),
            ("n.length", None),
            ("tags.lengths", None),
            ("tags[length]", None),
        ];
        for (path, want) in cases {
            let got = PathSpec::parse(path).lookup(Some(&payload));
            assert_eq!(got.map(Cow::into_owned), want, "{path}");
        }
    }

    #[test]
    fn splits_like_segment() {
        assert_eq!(split_path("a.b[0].c"), ["a", "b", "0", "c"]);
        assert_eq!(split_path("['a'].b"), ["a", "b"]);
        assert_eq!(split_path("[\"a\"].b"), ["a", "b"]);
        assert_eq!(split_path("a[b]"), ["a[b]"]);
        assert_eq!(split_path("[txt] nest.inner"), ["[txt] nest", "inner"]);
        assert_eq!(split_path("a.b.f[0]"), ["a", "b", "f", "0"]);
        assert_eq!(
            split_path("integrations.Actions Amplitude.session_id"),
            ["integrations", "Actions Amplitude", "session_id"]
        );
    }

    #[test]
    fn directive_path_strips_first_dollar_dot() {
        assert_eq!(PathSpec::parse_directive_path("$."), PathSpec::Root);
        assert_eq!(PathSpec::parse_directive_path(""), PathSpec::Root);
        assert_eq!(
            PathSpec::parse_directive_path("$"),
            PathSpec::Keys(vec![Key::new("$".into())].into())
        );
    }
}
