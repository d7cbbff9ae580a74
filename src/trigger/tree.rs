//! The parsed form of a trigger, its conversion from and to Segment's JSON parse tree, and
//! its rendering back to trigger text.

use serde_json::{Map, Value};

use super::{TriggerParseError, MAX_AST_DEPTH};
use crate::js;

/// A group of conditions (`{type:'group', operator, children}`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    pub op: GroupOp,
    pub children: Vec<Node>,
}

/// A group's operator. Only `and` and `or` can be satisfied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum GroupOp {
    And,
    Or,
    Other(Box<str>),
    Missing,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Group(Group),
    Leaf(Box<Leaf>),
    /// What Segment's parser leaves for an empty `()` next to other conditions: JavaScript
    /// `undefined`. Evaluating it throws upstream, so the whole evaluation yields false.
    Undefined,
}

/// Where a condition reads its actual value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Field {
    Type,
    Event,
    Name,
    UserId,
    Property(Path),
    Trait(Path),
    Context(Path),
    /// A condition type Segment does not know: always false.
    Unknown(Box<str>),
}

/// A pre-split lookup path (`get(obj, 'a.b[0]')` in destination-subscriptions).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    /// The `name` as written; `None` when an AST condition has no `name`.
    pub name: Option<Box<str>>,
    pub keys: PathKeys,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PathKeys {
    /// Empty or missing name: `get` returns undefined.
    Empty,
    /// A name made only of `.`, `[` and `]`: `get` throws upstream, so evaluation yields false.
    Throws,
    Keys(Box<[Key]>),
}

/// One property key, with what a JavaScript lookup needs precomputed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Key {
    pub name: Box<str>,
    /// The canonical array index this key denotes (`"0"`, `"12"`, not `"01"`).
    pub index: Option<u32>,
    pub is_length: bool,
    /// Which built-in prototypes have a property of this name (`PROTO_*` bits).
    pub proto: u8,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Exists,
    NotExists,
    IsTrue,
    IsFalse,
    NumberEquals,
    NumberNotEquals,
    /// Anything else (`"A"` in `event "A"`, `(`, ...): always false.
    Other(Box<str>),
    /// An AST condition without `operator`: always false.
    Missing,
}

const OPS: &[(&str, Op)] = &[
    ("=", Op::Eq),
    ("!=", Op::Ne),
    ("<", Op::Lt),
    ("<=", Op::Le),
    (">", Op::Gt),
    (">=", Op::Ge),
    ("contains", Op::Contains),
    ("not_contains", Op::NotContains),
    ("starts_with", Op::StartsWith),
    ("not_starts_with", Op::NotStartsWith),
    ("ends_with", Op::EndsWith),
    ("not_ends_with", Op::NotEndsWith),
    ("exists", Op::Exists),
    ("not_exists", Op::NotExists),
    ("is_true", Op::IsTrue),
    ("is_false", Op::IsFalse),
    ("number_equals", Op::NumberEquals),
    ("number_not_equals", Op::NumberNotEquals),
];

impl Op {
    pub fn from_name(name: &str) -> Op {
        OPS.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, op)| op.clone())
            .unwrap_or_else(|| Op::Other(name.into()))
    }

    pub fn name(&self) -> &str {
        match self {
            Op::Other(s) => s,
            Op::Missing => "",
            op => OPS
                .iter()
                .find(|(_, o)| o == op)
                .map(|(n, _)| *n)
                .unwrap_or(""),
        }
    }
}

/// A JavaScript string that may start with one unpaired low surrogate, which is what
/// `match(field, "<non-BMP char>...")` leaves after `slice(1)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct JsStr {
    pub lone_low: Option<u16>,
    pub rest: Box<str>,
}

impl JsStr {
    pub fn plain(s: &str) -> JsStr {
        JsStr {
            lone_low: None,
            rest: s.into(),
        }
    }

    /// Lossy text (an unpaired surrogate shows as U+FFFD).
    pub fn lossy(&self) -> String {
        match self.lone_low {
            None => self.rest.to_string(),
            Some(_) => format!("\u{fffd}{}", self.rest),
        }
    }

    /// `s.slice(1)`: drops the first UTF-16 code unit.
    pub fn drop_first_unit(s: &str) -> JsStr {
        let mut chars = s.chars();
        match chars.next() {
            None => JsStr::default(),
            Some(c) => {
                let mut buf = [0u16; 2];
                let units = c.encode_utf16(&mut buf);
                JsStr {
                    lone_low: (units.len() == 2).then_some(buf[1]),
                    rest: chars.as_str().into(),
                }
            }
        }
    }
}

/// A literal as Segment stores it in the parse tree.
#[derive(Clone, Debug)]
pub(crate) enum Lit {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(JsStr),
    /// An array or object (only from an AST).
    Json(Value),
}

impl PartialEq for Lit {
    /// Structural equality, with NaN equal to NaN.
    fn eq(&self, other: &Lit) -> bool {
        match (self, other) {
            (Lit::Undefined, Lit::Undefined) | (Lit::Null, Lit::Null) => true,
            (Lit::Bool(a), Lit::Bool(b)) => a == b,
            (Lit::Num(a), Lit::Num(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Lit::Str(a), Lit::Str(b)) => a == b,
            (Lit::Json(a), Lit::Json(b)) => a == b,
            _ => false,
        }
    }
}

impl Lit {
    fn to_js_string(&self) -> JsStr {
        match self {
            Lit::Undefined => JsStr::plain("undefined"),
            Lit::Null => JsStr::plain("null"),
            Lit::Bool(b) => JsStr::plain(if *b { "true" } else { "false" }),
            Lit::Num(n) => JsStr::plain(&js::number_to_string(*n)),
            Lit::Str(s) => s.clone(),
            Lit::Json(v) => JsStr::plain(&json_to_js_string(v)),
        }
    }

    fn to_js_number(&self) -> f64 {
        match self {
            Lit::Undefined => f64::NAN,
            Lit::Null => 0.0,
            Lit::Bool(b) => f64::from(u8::from(*b)),
            Lit::Num(n) => *n,
            Lit::Str(s) if s.lone_low.is_some() => f64::NAN,
            Lit::Str(s) => js::string_to_number(&s.rest),
            Lit::Json(v) => js::value_to_number(v),
        }
    }

    fn to_json(&self) -> Option<Value> {
        Some(match self {
            Lit::Undefined => return None,
            Lit::Null => Value::Null,
            Lit::Bool(b) => Value::Bool(*b),
            Lit::Num(n) => js::number_to_json(*n),
            Lit::Str(s) => Value::String(s.lossy()),
            Lit::Json(v) => v.clone(),
        })
    }

    fn from_json(v: Option<&Value>) -> Lit {
        match v {
            None => Lit::Undefined,
            Some(Value::Null) => Lit::Null,
            Some(Value::Bool(b)) => Lit::Bool(*b),
            Some(Value::Number(n)) => Lit::Num(n.as_f64().unwrap_or(f64::NAN)),
            Some(Value::String(s)) => Lit::Str(JsStr::plain(s)),
            Some(v) => Lit::Json(v.clone()),
        }
    }
}

/// `String(v)` of an array or object value of a parse tree.
fn json_to_js_string(v: &Value) -> String {
    let mut text = String::new();
    let written = js::write_value_string(
        v,
        MAX_AST_DEPTH,
        &mut |piece: &str| {
            text.push_str(piece);
            Ok(())
        },
        &|| (),
    );
    // Never an error: `leaf_from_ast` refuses values nested deeper than `MAX_AST_DEPTH`.
    if written.is_err() {
        text.clear();
    }
    text
}

/// One condition, with `String(value)` and `Number(value)` computed once.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    pub field: Field,
    pub op: Op,
    pub value: Lit,
    pub text: JsStr,
    pub number: f64,
}

impl PartialEq for Leaf {
    /// `text` and `number` follow from `value`.
    fn eq(&self, other: &Leaf) -> bool {
        self.field == other.field && self.op == other.op && self.value == other.value
    }
}

impl Leaf {
    pub fn new(field: Field, op: Op, value: Lit) -> Leaf {
        Leaf {
            text: value.to_js_string(),
            number: value.to_js_number(),
            field,
            op,
            value,
        }
    }
}

// Bits for `Key::proto`.
pub(crate) const PROTO_OBJECT: u8 = 1;
pub(crate) const PROTO_ARRAY: u8 = 2;
pub(crate) const PROTO_STRING: u8 = 4;
pub(crate) const PROTO_NUMBER: u8 = 8;
pub(crate) const PROTO_BOOLEAN: u8 = 16;

/// Properties of `Object.prototype`: every object, array, string, number and boolean has them.
pub(crate) const OBJECT_PROTO: &[&str] = &[
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];
const ARRAY_PROTO: &[&str] = &[
    "at",
    "concat",
    "copyWithin",
    "entries",
    "every",
    "fill",
    "filter",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "flat",
    "flatMap",
    "forEach",
    "includes",
    "indexOf",
    "join",
    "keys",
    "lastIndexOf",
    "map",
    "pop",
    "push",
    "reduce",
    "reduceRight",
    "reverse",
    "shift",
    "slice",
    "some",
    "sort",
    "splice",
    "toReversed",
    "toSorted",
    "toSpliced",
    "unshift",
    "values",
    "with",
];
const STRING_PROTO: &[&str] = &[
    "anchor",
    "at",
    "big",
    "blink",
    "bold",
    "charAt",
    "charCodeAt",
    "codePointAt",
    "concat",
    "endsWith",
    "fixed",
    "fontcolor",
    "fontsize",
    "includes",
    "indexOf",
    "isWellFormed",
    "italics",
    "lastIndexOf",
    "link",
    "localeCompare",
    "match",
    "matchAll",
    "normalize",
    "padEnd",
    "padStart",
    "repeat",
    "replace",
    "replaceAll",
    "search",
    "slice",
    "small",
    "split",
    "startsWith",
    "strike",
    "sub",
    "substr",
    "substring",
    "sup",
    "toLocaleLowerCase",
    "toLocaleUpperCase",
    "toLowerCase",
    "toUpperCase",
    "toWellFormed",
    "trim",
    "trimEnd",
    "trimLeft",
    "trimRight",
    "trimStart",
];
const NUMBER_PROTO: &[&str] = &["toExponential", "toFixed", "toPrecision"];

impl Key {
    pub fn new(name: &str) -> Key {
        let mut proto = 0;
        if OBJECT_PROTO.contains(&name) {
            proto |= PROTO_OBJECT | PROTO_ARRAY | PROTO_STRING | PROTO_NUMBER | PROTO_BOOLEAN;
        }
        if ARRAY_PROTO.contains(&name) {
            proto |= PROTO_ARRAY;
        }
        if STRING_PROTO.contains(&name) {
            proto |= PROTO_STRING;
        }
        if NUMBER_PROTO.contains(&name) {
            proto |= PROTO_NUMBER;
        }
        Key {
            name: name.into(),
            index: js::array_index(name),
            is_length: name == "length",
            proto,
        }
    }
}

impl Path {
    /// Splits `name` like `name.match(/([^[.\]])+/g)`.
    pub fn new(name: Option<&str>) -> Path {
        let keys = match name {
            None | Some("") => PathKeys::Empty,
            Some(n) => {
                let keys: Vec<Key> = n
                    .split(['.', '[', ']'])
                    .filter(|k| !k.is_empty())
                    .map(Key::new)
                    .collect();
                if keys.is_empty() {
                    PathKeys::Throws
                } else {
                    PathKeys::Keys(keys.into_boxed_slice())
                }
            }
        };
        Path {
            name: name.map(Into::into),
            keys,
        }
    }
}

// ---------------------------------------------------------------------------------------
// From and to Segment's JSON parse tree.

fn ast_error(path: &str, expected: &str, message: String) -> TriggerParseError {
    TriggerParseError {
        position: 0,
        expected: expected.to_owned(),
        message: format!(
            "invalid trigger parse tree at {}: {message}",
            display_path(path)
        ),
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "the root"
    } else {
        path
    }
}

/// Builds the root group from Segment's parse tree.
pub(crate) fn root_from_ast(ast: &Value) -> Result<Group, TriggerParseError> {
    let Some(obj) = ast.as_object() else {
        return Err(ast_error(
            "",
            "an object {\"type\":\"group\",...}",
            "not an object".to_owned(),
        ));
    };
    if let Some(err) = obj.get("error").filter(|e| js::truthy(e)) {
        let text = match err {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_owned(),
            other => other.to_string(),
        };
        return Err(TriggerParseError {
            position: 0,
            expected: "a parse tree without an error".to_owned(),
            message: format!("the trigger failed to parse upstream: {text}"),
        });
    }
    group_from_ast(obj, "", 0)
}

fn group_from_ast(
    obj: &Map<String, Value>,
    path: &str,
    depth: usize,
) -> Result<Group, TriggerParseError> {
    if depth >= MAX_AST_DEPTH {
        return Err(ast_error(
            path,
            "shallower nesting",
            format!("groups are nested deeper than {MAX_AST_DEPTH} levels"),
        ));
    }
    let op = match obj.get("operator") {
        None => GroupOp::Missing,
        Some(Value::String(s)) if s == "and" => GroupOp::And,
        Some(Value::String(s)) if s == "or" => GroupOp::Or,
        Some(Value::String(s)) => GroupOp::Other(s.as_str().into()),
        Some(other) => GroupOp::Other(other.to_string().into()),
    };
    let Some(children) = obj.get("children").and_then(Value::as_array) else {
        return Err(ast_error(
            path,
            "\"children\": [...]",
            "a group needs a \"children\" array".to_owned(),
        ));
    };
    let mut out = Vec::with_capacity(children.len());
    for (i, child) in children.iter().enumerate() {
        let child_path = format!("{path}/children/{i}");
        if child.is_null() {
            // Upstream's evaluation throws on it, exactly like on the `undefined` an empty
            // `()` leaves (which `to_ast` writes as null).
            out.push(Node::Undefined);
            continue;
        }
        let Some(c) = child.as_object() else {
            return Err(ast_error(
                &child_path,
                "a condition object",
                "not an object".to_owned(),
            ));
        };
        match c.get("type") {
            Some(Value::String(t)) if t == "group" => {
                out.push(Node::Group(group_from_ast(c, &child_path, depth + 1)?));
            }
            _ => out.push(Node::Leaf(Box::new(leaf_from_ast(c, &child_path)?))),
        }
    }
    Ok(Group { op, children: out })
}

fn leaf_from_ast(obj: &Map<String, Value>, path: &str) -> Result<Leaf, TriggerParseError> {
    let name = match obj.get("name") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(ast_error(
                path,
                "\"name\" as a string",
                "\"name\" is not a string".to_owned(),
            ))
        }
    };
    let field = match obj.get("type") {
        Some(Value::String(t)) => match t.as_str() {
            "event-type" => Field::Type,
            "event" => Field::Event,
            "name" => Field::Name,
            "userId" => Field::UserId,
            "event-property" => Field::Property(Path::new(name)),
            "event-trait" => Field::Trait(Path::new(name)),
            "event-context" => Field::Context(Path::new(name)),
            other => Field::Unknown(other.into()),
        },
        _ => {
            return Err(ast_error(
                path,
                "\"type\" as a string",
                "a condition needs a string \"type\"".to_owned(),
            ))
        }
    };
    let op = match obj.get("operator") {
        None => Op::Missing,
        Some(Value::String(s)) => Op::from_name(s),
        Some(other) => Op::Other(other.to_string().into()),
    };
    let value = obj.get("value");
    if let Some(v) = value {
        if json_depth_exceeds(v, MAX_AST_DEPTH) {
            return Err(ast_error(
                path,
                "a shallower value",
                format!("\"value\" is nested deeper than {MAX_AST_DEPTH} levels"),
            ));
        }
    }
    Ok(Leaf::new(field, op, Lit::from_json(value)))
}

fn json_depth_exceeds(v: &Value, budget: usize) -> bool {
    match v {
        Value::Array(items) => {
            budget == 0 || items.iter().any(|i| json_depth_exceeds(i, budget - 1))
        }
        Value::Object(map) => {
            budget == 0 || map.values().any(|i| json_depth_exceeds(i, budget - 1))
        }
        _ => false,
    }
}

pub(crate) fn group_to_ast(g: &Group) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::from("group"));
    match &g.op {
        GroupOp::And => {
            m.insert("operator".into(), Value::from("and"));
        }
        GroupOp::Or => {
            m.insert("operator".into(), Value::from("or"));
        }
        GroupOp::Other(s) => {
            m.insert("operator".into(), Value::from(&**s));
        }
        GroupOp::Missing => {}
    }
    let children = g.children.iter().map(node_to_ast).collect();
    m.insert("children".into(), Value::Array(children));
    Value::Object(m)
}

fn node_to_ast(n: &Node) -> Value {
    match n {
        Node::Group(g) => group_to_ast(g),
        Node::Leaf(l) => leaf_to_ast(l),
        Node::Undefined => Value::Null,
    }
}

fn leaf_to_ast(l: &Leaf) -> Value {
    let mut m = Map::new();
    let (ty, path) = match &l.field {
        Field::Type => ("event-type", None),
        Field::Event => ("event", None),
        Field::Name => ("name", None),
        Field::UserId => ("userId", None),
        Field::Property(p) => ("event-property", Some(p)),
        Field::Trait(p) => ("event-trait", Some(p)),
        Field::Context(p) => ("event-context", Some(p)),
        Field::Unknown(t) => (&**t, None),
    };
    m.insert("type".into(), Value::from(ty));
    if let Some(name) = path.and_then(|p| p.name.as_deref()) {
        m.insert("name".into(), Value::from(name));
    }
    if l.op != Op::Missing {
        m.insert("operator".into(), Value::from(l.op.name()));
    }
    if let Some(v) = l.value.to_json() {
        m.insert("value".into(), v);
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------
// Rendering as trigger text (for parse trees and for explanations).

/// Backslash-escapes what an identifier cannot hold, as Segment's `generateFql` does.
fn escape_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn field_to_fql(f: &Field) -> String {
    let (prefix, path) = match f {
        Field::Type => return "type".to_owned(),
        Field::Event => return "event".to_owned(),
        Field::Name => return "name".to_owned(),
        Field::UserId => return "userId".to_owned(),
        Field::Unknown(t) => return format!("<{t}>"),
        Field::Property(p) => ("properties", p),
        Field::Trait(p) => ("traits", p),
        Field::Context(p) => ("context", p),
    };
    match path.name.as_deref() {
        Some(n) => format!("{prefix}.{}", escape_path(n)),
        None => prefix.to_owned(),
    }
}

fn lit_to_fql(l: &Lit, text: &JsStr) -> String {
    match l {
        Lit::Num(n) => js::number_to_string(*n).to_string(),
        Lit::Bool(b) => b.to_string(),
        Lit::Null => "null".to_owned(),
        Lit::Undefined => "undefined".to_owned(),
        Lit::Str(_) | Lit::Json(_) => format!("\"{}\"", text.lossy()),
    }
}

pub(crate) fn leaf_to_fql(l: &Leaf) -> String {
    let f = field_to_fql(&l.field);
    let v = l.text.lossy();
    match &l.op {
        Op::Exists => format!("{f} != null"),
        Op::NotExists => format!("{f} = null"),
        Op::IsTrue => format!("{f} = true"),
        Op::IsFalse => format!("{f} = false"),
        Op::Contains => format!("contains({f}, \"{v}\")"),
        Op::NotContains => format!("!contains({f}, \"{v}\")"),
        Op::StartsWith => format!("match({f}, \"{v}*\")"),
        Op::NotStartsWith => format!("!match({f}, \"{v}*\")"),
        Op::EndsWith => format!("match({f}, \"*{v}\")"),
        Op::NotEndsWith => format!("!match({f}, \"*{v}\")"),
        Op::NumberEquals => format!("{f} = {}", js::number_to_string(l.number)),
        Op::NumberNotEquals => format!("{f} != {}", js::number_to_string(l.number)),
        Op::Missing => format!("{f} <no operator> {}", lit_to_fql(&l.value, &l.text)),
        op => format!("{f} {} {}", op.name(), lit_to_fql(&l.value, &l.text)),
    }
}

pub(crate) fn group_to_fql(g: &Group, nested: bool) -> String {
    let joiner = match &g.op {
        GroupOp::And => " and ".to_owned(),
        GroupOp::Or => " or ".to_owned(),
        GroupOp::Other(s) => format!(" {s} "),
        GroupOp::Missing => " ".to_owned(),
    };
    let parts: Vec<String> = g
        .children
        .iter()
        .map(|c| match c {
            Node::Group(inner) => group_to_fql(inner, true),
            Node::Leaf(l) => leaf_to_fql(l),
            Node::Undefined => "()".to_owned(),
        })
        .collect();
    let body = parts.join(&joiner);
    if nested && g.children.len() > 1 {
        format!("({body})")
    } else {
        body
    }
}
