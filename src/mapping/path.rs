//! Segment's path lookup (`packages/core/src/get.ts`): parsing a path once, walking it many times.

use crate::segment::{EventField, EventRef};
use serde_json::Value;

/// One key of a parsed path, with the array index it denotes ([`crate::js::array_index`])
/// precomputed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub(crate) name: String,
    index: Option<usize>,
}

impl Key {
    pub(crate) fn new(name: String) -> Key {
        let index = crate::js::array_index(&name).and_then(|i| usize::try_from(i).ok());
        Key { name, index }
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
    /// a falsy intermediate value (`null`, `false`, `0`, `''`) is itself the result.
    /// `None` is `undefined`. JavaScript property semantics on strings (`.length`, indexing)
    /// and inherited properties are deliberately not reproduced: they give `undefined`.
    pub(crate) fn lookup<'v>(&self, root: Option<&'v Value>) -> Option<&'v Value> {
        let keys = match self {
            PathSpec::Root => return root,
            PathSpec::Keys(keys) => keys,
        };
        walk(root?, keys)
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
            _ => return self.lookup(Some(event.as_value()?)).map(EventField::Value),
        };
        match first {
            EventField::Value(value) => walk(value, keys).map(EventField::Value),
            // As `walk` walks a string: an empty one is falsy (and the result), and no string
            // has keys (`undefined`).
            EventField::Str(text) => (keys.is_empty() || text.is_empty()).then_some(first),
            // An object (truthy): the walk goes on from its member.
            EventField::Members(members) => match keys.split_first() {
                None => Some(first),
                Some((key, rest)) => walk(members.get(&key.name)?, rest).map(EventField::Value),
            },
        }
    }
}

/// The value at `keys` from `cur`, as Segment's `get` walks it: a falsy value ends the walk
/// (and is the result).
fn walk<'v>(mut cur: &'v Value, keys: &[Key]) -> Option<&'v Value> {
    for key in keys {
        if !crate::js::truthy(cur) {
            return Some(cur);
        }
        cur = match cur {
            Value::Object(map) => crate::json::get(map, &key.name)?,
            Value::Array(items) => items.get(key.index?)?,
            _ => return None,
        };
    }
    Some(cur)
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
        ];
        let inherited = json!({"context": {"ip": "1"}});
        let inherited = inherited.as_object().unwrap();
        let events = [
            json!({"userId": "u", "properties": {"items": [1, 2]}, "n": null}),
            json!({"userId": "u", "context": {"ip": "2"}}),
            json!({"userId": "", "n": "x"}),
            json!(null),
            json!(7),
            json!("text"),
        ];
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
                    spec.lookup_event(from_value),
                    spec.lookup(Some(event)).map(EventField::Value),
                    "{path} on {event}"
                );
                let inheriting = from_value.inheriting(inherited);
                let whole = inheriting.to_value();
                if !spec.is_root() || inheriting.as_value().is_some() {
                    assert_eq!(
                        spec.lookup_event(inheriting),
                        spec.lookup(Some(&whole)).map(EventField::Value),
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
                    spec.lookup(Some(event)).map(EventField::Value)
                };
                assert_eq!(
                    spec.lookup_event(fields),
                    expected,
                    "{path} on {event} read as fields"
                );
            }
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
