//! Evaluation with the semantics of destination-subscriptions' `validate.ts` and `get.ts`,
//! over `serde_json::Value` without allocating.
//!
//! Actual values are read the way JavaScript reads them: `get` walks `prev && prev[key]`
//! (a falsy value such as `0` or `""` stops the walk and is the result), arrays and strings
//! have `length` and index properties, and names on built-in prototypes (`constructor`,
//! `toString`, `map`, ...) find a function. Such a function is modelled as an opaque value:
//! it exists, is no string, number or boolean, and has no further properties (upstream a
//! function has `name` and `length`; this approximation is the only known difference).
//!
//! Evaluation yields `None` where upstream throws (a `null` event, an empty `()` group, a
//! path made only of `.`/`[`/`]`); the caller turns that into "no match".

use crate::segment::{EventField, EventRef, Members};
use serde_json::{Map, Value};

use super::tree::{
    Field, Group, GroupOp, JsStr, Key, Leaf, Node, Op, Path, PathKeys, PROTO_ARRAY, PROTO_BOOLEAN,
    PROTO_NUMBER, PROTO_OBJECT, PROTO_STRING,
};

/// A JavaScript value as the evaluator sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Js<'a> {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    /// A one-code-unit string holding half of a surrogate pair (`"😀"[0]`).
    Unit(u16),
    Arr(&'a [Value]),
    Obj(&'a Map<String, Value>),
    /// An object of which only some members were read ([`EventField::Members`]).
    Members(Members<'a>),
    /// A function or prototype object found through a built-in prototype.
    Opaque,
}

impl<'a> Js<'a> {
    fn of(v: &'a Value) -> Js<'a> {
        match v {
            Value::Null => Js::Null,
            Value::Bool(b) => Js::Bool(*b),
            Value::Number(n) => Js::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Js::Str(s),
            Value::Array(a) => Js::Arr(a),
            Value::Object(o) => Js::Obj(o),
        }
    }

    /// A top-level field of an event.
    fn of_field(field: EventField<'a>) -> Js<'a> {
        match field {
            EventField::Value(value) => Js::of(value),
            EventField::Str(text) => Js::Str(text),
            EventField::Members(members) => Js::Members(members),
            EventField::Length(length) => Js::Num(length as f64),
        }
    }

    /// JavaScript truthiness, as [`crate::js::truthy`] for JSON values; a lone code unit and
    /// a built-in function are truthy.
    fn truthy(self) -> bool {
        match self {
            Js::Undefined | Js::Null => false,
            Js::Bool(b) => b,
            Js::Num(n) => crate::js::number_is_truthy(n),
            Js::Str(s) => !s.is_empty(),
            Js::Unit(_) | Js::Arr(_) | Js::Obj(_) | Js::Members(_) | Js::Opaque => true,
        }
    }

    /// `self[key]` for a truthy `self`.
    fn get(self, key: &Key) -> Js<'a> {
        let proto = |bit: u8| {
            if key.proto & bit != 0 {
                Js::Opaque
            } else {
                Js::Undefined
            }
        };
        match self {
            Js::Obj(m) => match crate::json::get(m, &key.name) {
                Some(v) => Js::of(v),
                None => proto(PROTO_OBJECT),
            },
            Js::Members(members) => match members.get(&key.name) {
                Some(v) => Js::of(v),
                None => proto(PROTO_OBJECT),
            },
            Js::Arr(a) => {
                if key.is_length {
                    return Js::Num(a.len() as f64);
                }
                match key.index.and_then(|i| a.get(i as usize)) {
                    Some(v) => Js::of(v),
                    None => proto(PROTO_ARRAY),
                }
            }
            Js::Str(s) => {
                if key.is_length {
                    return Js::Num(crate::js::utf16_len(s) as f64);
                }
                match key.index {
                    Some(i) => char_at(s, i as usize),
                    None => proto(PROTO_STRING),
                }
            }
            Js::Unit(u) => {
                if key.is_length {
                    Js::Num(1.0)
                } else if key.index == Some(0) {
                    Js::Unit(u)
                } else {
                    proto(PROTO_STRING)
                }
            }
            Js::Num(_) => proto(PROTO_NUMBER),
            Js::Bool(_) => proto(PROTO_BOOLEAN),
            Js::Undefined | Js::Null | Js::Opaque => Js::Undefined,
        }
    }

    /// A short description of the value for explanations.
    pub(crate) fn describe(self) -> String {
        match self {
            Js::Undefined => "missing".to_owned(),
            Js::Null => "null".to_owned(),
            Js::Bool(b) => b.to_string(),
            Js::Num(n) => crate::js::number_to_string(n).to_string(),
            Js::Str(s) => preview(&s),
            Js::Unit(_) => "\"\u{fffd}\"".to_owned(),
            Js::Arr(a) => preview(&a),
            Js::Obj(o) => preview(o),
            Js::Members(members) => preview(&members.to_map()),
            Js::Opaque => "a built-in function".to_owned(),
        }
    }
}

/// JSON text of `v`, cut after about 80 bytes without serializing the rest.
fn preview<T: serde::Serialize + ?Sized>(v: &T) -> String {
    const MAX: usize = 80;
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = (MAX + 4).saturating_sub(self.0.len());
            if room == 0 {
                return Err(std::io::Error::other("preview is long enough"));
            }
            let n = buf.len().min(room);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    let complete = serde_json::to_writer(&mut out, v).is_ok() && out.0.len() <= MAX;
    let mut text = String::from_utf8_lossy(&out.0).into_owned();
    if !complete {
        let mut end = MAX.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// `s[i]`, indexing UTF-16 code units.
fn char_at(s: &str, i: usize) -> Js<'_> {
    let mut unit = 0usize;
    for (at, c) in s.char_indices() {
        let len = c.len_utf16();
        if i < unit + len {
            if len == 1 {
                return Js::Str(&s[at..at + c.len_utf8()]);
            }
            let mut buf = [0u16; 2];
            c.encode_utf16(&mut buf);
            return Js::Unit(buf[i - unit]);
        }
        unit += len;
    }
    Js::Undefined
}

/// `data.type` and friends: throws (`None`) on a `null` event; non-objects have none of
/// these properties.
fn top<'a>(event: EventRef<'a>, key: &str) -> Option<Js<'a>> {
    match event.non_object() {
        Some(Value::Null) => None,
        Some(_) => Some(Js::Undefined),
        None => Some(event.get(key).map_or(Js::Undefined, Js::of_field)),
    }
}

/// destination-subscriptions' `get(obj, path)`.
fn walk<'a>(obj: Js<'a>, path: &Path) -> Option<Js<'a>> {
    match &path.keys {
        PathKeys::Empty => Some(Js::Undefined),
        PathKeys::Throws => None,
        PathKeys::Keys(keys) => {
            let mut cur = obj;
            for key in keys.iter() {
                if !cur.truthy() {
                    break;
                }
                cur = cur.get(key);
            }
            Some(cur)
        }
    }
}

/// The value a condition compares, or `None` where upstream throws.
pub(crate) fn actual<'a>(field: &Field, event: EventRef<'a>) -> Option<Js<'a>> {
    match field {
        Field::Type => top(event, "type"),
        Field::Event => top(event, "event"),
        Field::Name => top(event, "name"),
        Field::UserId => top(event, "userId"),
        Field::Property(p) => walk(top(event, "properties")?, p),
        Field::Trait(p) => walk(top(event, "traits")?, p),
        Field::Context(p) => walk(top(event, "context")?, p),
        Field::Unknown(_) => Some(Js::Undefined),
    }
}

fn low_surrogate(c: char) -> Option<u16> {
    let mut buf = [0u16; 2];
    (c.encode_utf16(&mut buf).len() == 2).then_some(buf[1])
}

/// The string operators, on a JavaScript string that may be one lone code unit.
fn str_equals(actual: Js<'_>, p: &JsStr) -> bool {
    match actual {
        Js::Str(s) => p.lone_low.is_none() && *s == *p.rest,
        Js::Unit(u) => p.rest.is_empty() && p.lone_low == Some(u),
        _ => false,
    }
}

fn str_contains(s: &str, p: &JsStr) -> bool {
    match p.lone_low {
        None => s.contains(&*p.rest),
        Some(low) => s.char_indices().any(|(at, c)| {
            low_surrogate(c) == Some(low) && s[at + c.len_utf8()..].starts_with(&*p.rest)
        }),
    }
}

fn str_ends_with(s: &str, p: &JsStr) -> bool {
    let Some(head) = s.strip_suffix(&*p.rest) else {
        return false;
    };
    match p.lone_low {
        None => true,
        Some(low) => head
            .chars()
            .next_back()
            .is_some_and(|c| low_surrogate(c) == Some(low)),
    }
}

/// For a one-unit string: contains, starts with and ends with all mean "is empty or equal".
fn unit_has(u: u16, p: &JsStr) -> bool {
    p.rest.is_empty() && (p.lone_low.is_none() || p.lone_low == Some(u))
}

/// `validateValue(actual, operator, expected)`.
pub(crate) fn compare(actual: Js<'_>, leaf: &Leaf) -> bool {
    let p = &leaf.text;
    let number = |f: fn(f64, f64) -> bool| match actual {
        Js::Num(n) => f(n, leaf.number),
        _ => false,
    };
    let string = |f: fn(&str, &JsStr) -> bool| match actual {
        Js::Str(s) => Some(f(s, p)),
        Js::Unit(u) => Some(unit_has(u, p)),
        _ => None,
    };
    match leaf.op {
        Op::Eq => str_equals(actual, p),
        Op::Ne => !str_equals(actual, p),
        Op::NumberEquals => number(|a, b| a == b),
        Op::NumberNotEquals => number(|a, b| a != b),
        Op::Lt => number(|a, b| a < b),
        Op::Le => number(|a, b| a <= b),
        Op::Gt => number(|a, b| a > b),
        Op::Ge => number(|a, b| a >= b),
        Op::Contains => string(str_contains) == Some(true),
        Op::NotContains => string(str_contains) == Some(false),
        Op::StartsWith => {
            string(|s, p| p.lone_low.is_none() && s.starts_with(&*p.rest)) == Some(true)
        }
        Op::NotStartsWith => {
            string(|s, p| p.lone_low.is_none() && s.starts_with(&*p.rest)) == Some(false)
        }
        Op::EndsWith => string(str_ends_with) == Some(true),
        Op::NotEndsWith => string(str_ends_with) == Some(false),
        Op::Exists => !matches!(actual, Js::Undefined | Js::Null),
        Op::NotExists => matches!(actual, Js::Undefined | Js::Null),
        Op::IsTrue => matches!(actual, Js::Bool(true)),
        Op::IsFalse => matches!(actual, Js::Bool(false)),
        Op::Other(_) | Op::Missing => false,
    }
}

fn leaf(l: &Leaf, event: EventRef<'_>) -> Option<bool> {
    if let Field::Unknown(_) = l.field {
        return Some(false);
    }
    Some(compare(actual(&l.field, event)?, l))
}

fn node(n: &Node, event: EventRef<'_>) -> Option<bool> {
    match n {
        Node::Leaf(l) => leaf(l, event),
        Node::Group(g) => group(g, event),
        Node::Undefined => None,
    }
}

/// `validateGroupCondition`: `every` for `and`, `some` for `or` (both short-circuit), false
/// for any other operator.
pub(crate) fn group(g: &Group, event: EventRef<'_>) -> Option<bool> {
    match g.op {
        GroupOp::And => {
            for c in &g.children {
                if !node(c, event)? {
                    return Some(false);
                }
            }
            Some(true)
        }
        GroupOp::Or => {
            for c in &g.children {
                if node(c, event)? {
                    return Some(true);
                }
            }
            Some(false)
        }
        GroupOp::Other(_) | GroupOp::Missing => Some(false),
    }
}

// ---------------------------------------------------------------------------------------
// Explaining a non-match.

/// A score for conditions that cannot be made true by changing the event's values alone.
pub(crate) const UNSATISFIABLE: usize = usize::MAX;

/// One condition that failed, on the cheapest way to satisfy the trigger.
pub(crate) struct Failure<'a> {
    pub leaf: Option<&'a Leaf>,
    pub actual: String,
}

/// The smallest number of leaf conditions that would have to become true for the trigger
/// to match, with those conditions: the sum over `and` children, the minimum over `or`
/// children.
pub(crate) fn closest<'a>(g: &'a Group, event: EventRef<'_>, out: &mut Vec<Failure<'a>>) -> usize {
    match g.op {
        GroupOp::And => {
            let mut total = 0usize;
            for c in &g.children {
                total = total.saturating_add(closest_node(c, event, out));
            }
            total
        }
        GroupOp::Or => {
            let mut best: Option<(usize, Vec<Failure<'a>>)> = None;
            for c in &g.children {
                let mut mine = Vec::new();
                let score = closest_node(c, event, &mut mine);
                if best.as_ref().is_none_or(|(b, _)| score < *b) {
                    let done = score == 0;
                    best = Some((score, mine));
                    if done {
                        break;
                    }
                }
            }
            match best {
                Some((score, mine)) => {
                    out.extend(mine);
                    score
                }
                None => UNSATISFIABLE,
            }
        }
        GroupOp::Other(_) | GroupOp::Missing => UNSATISFIABLE,
    }
}

fn closest_node<'a>(n: &'a Node, event: EventRef<'_>, out: &mut Vec<Failure<'a>>) -> usize {
    match n {
        Node::Group(g) => closest(g, event, out),
        Node::Undefined => {
            out.push(Failure {
                leaf: None,
                actual: "an empty group `()` makes Segment's evaluation fail".to_owned(),
            });
            UNSATISFIABLE
        }
        Node::Leaf(l) => {
            if let Field::Unknown(_) = l.field {
                out.push(Failure {
                    leaf: Some(l),
                    actual: "unknown condition type".to_owned(),
                });
                return UNSATISFIABLE;
            }
            match actual(&l.field, event) {
                None => {
                    out.push(Failure {
                        leaf: Some(l),
                        actual: "the event cannot be read (null event or empty path)".to_owned(),
                    });
                    UNSATISFIABLE
                }
                Some(a) if compare(a, l) => 0,
                Some(a) => {
                    out.push(Failure {
                        leaf: Some(l),
                        actual: a.describe(),
                    });
                    let never = match l.op {
                        Op::Other(_) | Op::Missing => true,
                        Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::NumberEquals => l.number.is_nan(),
                        _ => false,
                    };
                    if never {
                        UNSATISFIABLE
                    } else {
                        1
                    }
                }
            }
        }
    }
}
