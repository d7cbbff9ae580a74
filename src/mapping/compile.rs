//! Compiling a mapping into a tree of [`Node`]s that mirrors what Segment's `resolve` does at
//! run time: directives are recognised with `isDirective`, paths and templates are parsed once,
//! literal subtrees are kept as borrowed JSON, and malformed directive options become the
//! runtime error Segment would throw when (and only when) the node is evaluated.

use serde_json::{Map, Value};

use super::liquid::LiquidTemplate;
use super::path::PathSpec;
use super::replace::ReplaceStep;
use super::template::Template;
use super::validate::is_directive;
use super::value::{truthy, type_name};
use super::MappingError;
use crate::js::utf16_len;

/// A string argument of `@path` and `@template`: parsed at compile time when it is a literal
/// string, resolved (and type-checked) at run time otherwise.
#[derive(Debug)]
pub(crate) enum StrArg<T> {
    Static(T),
    Dynamic(Box<Node>),
}

/// The condition of `@if`.
#[derive(Debug)]
pub(crate) enum Condition {
    Exists(Node),
    Blank(Node),
}

/// `@case` operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CaseOp {
    Lower,
    Upper,
    Invalid,
}

/// `@json` modes (anything other than exactly `encode`/`decode` resolves to `undefined`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum JsonMode {
    Encode,
    Decode,
    Other,
}

/// `@replace` options after Segment's defaults are filled in.
#[derive(Debug)]
pub(crate) struct Replace {
    pub(crate) value: Node,
    /// `None` when an option has the wrong type: Segment then returns `''`.
    pub(crate) steps: Option<Vec<ReplaceStep>>,
    pub(crate) global: bool,
    pub(crate) ignore_case: bool,
}

/// The path argument of `@arrayPath`.
#[derive(Debug)]
pub(crate) enum ArrayRoot {
    Path(PathSpec),
    Node(Node),
}

/// A plain object of the mapping whose values hold directives.
#[derive(Debug)]
pub(crate) struct ObjectNode {
    /// Keys and values, in the mapping's order.
    pub(crate) entries: Vec<(String, Node)>,
}

/// A compiled mapping root (as Segment's `transform` processes it).
#[derive(Debug)]
pub(crate) struct Root {
    pub(crate) node: Node,
}

/// A compiled mapping node.
#[derive(Debug)]
pub(crate) enum Node {
    /// A JSON value with no directive inside: resolves to itself, borrowed.
    Raw(Value),
    /// Always `undefined`.
    Undefined,
    Object(Box<ObjectNode>),
    Array(Vec<Node>),
    Path(StrArg<PathSpec>),
    Template(StrArg<Template>),
    If {
        condition: Box<Condition>,
        then: Option<Box<Node>>,
        otherwise: Option<Box<Node>>,
    },
    Case {
        op: CaseOp,
        value: Box<Node>,
    },
    Replace(Box<Replace>),
    ArrayPath {
        root: Box<ArrayRoot>,
        shape: Option<Box<Node>>,
    },
    Json {
        mode: JsonMode,
        value: Box<Node>,
    },
    Flatten {
        separator: Box<Node>,
        value: Box<Node>,
        omit_arrays: bool,
    },
    Merge {
        direction: Box<Node>,
        objects: Result<Vec<Node>, String>,
    },
    Transform {
        apply: Result<Box<Root>, MappingError>,
        mapping: Box<Node>,
    },
    ExcludeWhenNull(Box<Node>),
    Liquid(Box<LiquidTemplate>),
    /// The runtime error Segment throws when this node is resolved.
    Fail(String),
}

fn fail(message: impl Into<String>) -> Node {
    Node::Fail(message.into())
}

/// Compiles any JSON value with Segment's runtime semantics. Recursion is bounded by the
/// mapping depth, which the caller checks first.
pub(crate) fn compile(v: &Value) -> Node {
    match v {
        Value::Object(m) if is_directive(m) => compile_directive(m),
        Value::Object(m) => {
            let entries: Vec<(String, Node)> =
                m.iter().map(|(k, v)| (k.clone(), compile(v))).collect();
            if entries.iter().all(|(_, n)| matches!(n, Node::Raw(_))) {
                let mut raw = Map::with_capacity(entries.len());
                for (k, n) in entries {
                    if let Node::Raw(v) = n {
                        raw.insert(k, v);
                    }
                }
                Node::Raw(Value::Object(raw))
            } else {
                Node::Object(Box::new(ObjectNode { entries }))
            }
        }
        Value::Array(items) => {
            let nodes: Vec<Node> = items.iter().map(compile).collect();
            if nodes.iter().all(|n| matches!(n, Node::Raw(_))) {
                let raw = nodes
                    .into_iter()
                    .filter_map(|n| match n {
                        Node::Raw(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                Node::Raw(Value::Array(raw))
            } else {
                Node::Array(nodes)
            }
        }
        other => Node::Raw(other.clone()),
    }
}

fn compile_opt(v: Option<&Value>) -> Node {
    v.map_or(Node::Undefined, compile)
}

fn compile_directive(m: &Map<String, Value>) -> Node {
    let Some((name, value)) = m.iter().find(|(k, _)| k.starts_with('@')) else {
        return fail("undefined is not a valid directive, got undefined");
    };
    match name.as_str() {
        "@path" => Node::Path(str_arg(value, PathSpec::parse_directive_path)),
        "@template" => Node::Template(str_arg(value, Template::parse)),
        "@literal" => compile(value),
        "@excludeWhenNull" => Node::ExcludeWhenNull(Box::new(compile(value))),
        "@if" => compile_if(value),
        "@case" => compile_case(value),
        "@replace" => compile_replace(value),
        "@arrayPath" => compile_array_path(value),
        "@json" => compile_json(value),
        "@flatten" => compile_flatten(value),
        "@merge" => compile_merge(value),
        "@transform" => compile_transform(value),
        "@liquid" => compile_liquid(value),
        other => fail(format!("{other} is not a valid directive, got undefined")),
    }
}

fn str_arg<T>(value: &Value, parse: fn(&str) -> T) -> StrArg<T> {
    match value {
        Value::String(s) => StrArg::Static(parse(s)),
        other => StrArg::Dynamic(Box::new(compile(other))),
    }
}

fn compile_if(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@if requires an object with an \"exists\" key");
    };
    let exists = opts.get("exists");
    let blank = opts.get("blank");
    if !truthy(exists) && !truthy(blank) {
        return fail("@if requires an \"exists\" key or a \"blank\" key");
    }
    let condition = match (exists, blank) {
        (Some(e), _) => Condition::Exists(compile(e)),
        (None, b) => Condition::Blank(compile_opt(b)),
    };
    let then = opts.get("then").map(|v| Box::new(compile(v)));
    let otherwise = opts
        .get("else")
        .filter(|v| truthy(Some(v)))
        .map(|v| Box::new(compile(v)));
    Node::If {
        condition: Box::new(condition),
        then,
        otherwise,
    }
}

fn compile_case(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@case requires an object with a \"operator\" key");
    };
    if !truthy(opts.get("operator")) {
        return fail("@case requires a \"operator\" key");
    }
    let op = match opts.get("operator").and_then(Value::as_str) {
        Some("lower") => CaseOp::Lower,
        Some("upper") => CaseOp::Upper,
        _ => CaseOp::Invalid,
    };
    if !truthy(opts.get("value")) {
        return Node::Undefined;
    }
    Node::Case {
        op,
        value: Box::new(compile_opt(opts.get("value"))),
    }
}

fn replace_step(pattern: &str, replacement: &str) -> ReplaceStep {
    let too_long = if utf16_len(pattern) > super::validate::MAX_PATTERN_LENGTH {
        Some("@replace requires a \"pattern\" less than 10 characters")
    } else if utf16_len(replacement) > super::validate::MAX_PATTERN_LENGTH {
        Some("@replace requires a \"replacement\" less than 10 characters")
    } else {
        None
    };
    ReplaceStep::new(pattern, replacement, too_long)
}

fn compile_replace(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@replace requires an object with a \"pattern\" key");
    };
    if !truthy(opts.get("pattern")) {
        return fail("@replace requires a \"pattern\" key");
    }
    let or_default = |key: &str, default: Value| match opts.get(key) {
        None | Some(Value::Null) => default,
        Some(v) => v.clone(),
    };
    let replacement = or_default("replacement", Value::String(String::new()));
    let pattern2 = opts.get("pattern2");
    let replacement2 = if truthy(pattern2) {
        or_default("replacement2", Value::String(String::new()))
    } else {
        opts.get("replacement2").cloned().unwrap_or(Value::Null)
    };
    let ignore_case = or_default("ignorecase", Value::Bool(false));
    let global = or_default("global", Value::Bool(true));
    if !truthy(opts.get("value")) {
        return Node::Undefined;
    }
    let (ignore_case, global, steps) =
        match (opts.get("pattern"), &replacement, &ignore_case, &global) {
            (Some(Value::String(p)), Value::String(r), Value::Bool(i), Value::Bool(g)) => {
                let mut steps = vec![replace_step(p, r)];
                if let (Some(Value::String(p2)), Value::String(r2)) = (pattern2, &replacement2) {
                    if !p2.is_empty() {
                        steps.push(replace_step(p2, r2));
                    }
                }
                (*i, *g, Some(steps))
            }
            _ => (false, true, None),
        };
    Node::Replace(Box::new(Replace {
        value: compile_opt(opts.get("value")),
        steps,
        global,
        ignore_case,
    }))
}

fn compile_array_path(value: &Value) -> Node {
    let Value::Array(data) = value else {
        return fail(format!(
            "@arrayPath expected array, got {}",
            type_name(value)
        ));
    };
    let root = match data.first() {
        Some(Value::String(path)) => ArrayRoot::Path(PathSpec::parse_directive_path(path)),
        other => ArrayRoot::Node(compile_opt(other)),
    };
    let shape = match data.get(1) {
        Some(shape @ Value::Object(m)) if !m.is_empty() => Some(Box::new(compile(shape))),
        _ => None,
    };
    Node::ArrayPath {
        root: Box::new(root),
        shape,
    }
}

fn compile_json(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@json requires an object with a \"value\" key");
    };
    if !truthy(opts.get("mode")) {
        return fail("@json requires a \"mode\" key");
    }
    if !truthy(opts.get("value")) {
        return fail("@json requires a \"value\" key");
    }
    let mode = match opts.get("mode").and_then(Value::as_str) {
        Some("encode") => JsonMode::Encode,
        Some("decode") => JsonMode::Decode,
        _ => JsonMode::Other,
    };
    Node::Json {
        mode,
        value: Box::new(compile_opt(opts.get("value"))),
    }
}

fn compile_flatten(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@flatten requires an object with a \"separator\" key");
    };
    if !truthy(opts.get("separator")) {
        return fail("@flatten requires a \"separator\" key");
    }
    Node::Flatten {
        separator: Box::new(compile_opt(opts.get("separator"))),
        value: Box::new(compile_opt(opts.get("value"))),
        omit_arrays: truthy(opts.get("omitArrays")),
    }
}

fn js_typeof(v: &Value) -> &'static str {
    match v {
        Value::Null | Value::Array(_) | Value::Object(_) => "object",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
    }
}

fn compile_merge(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@merge requires an object with an \"objects\" key and a \"direction\" key");
    };
    if !truthy(opts.get("direction")) {
        return fail("@merge requires a \"direction\" key");
    }
    let objects = match opts.get("objects") {
        o if !truthy(o) => Err("@merge requires a \"objects\" key".to_string()),
        Some(Value::Array(items)) => Ok(items.iter().map(compile).collect()),
        Some(other) => Err(format!(
            "@merge: expected opts.array, got {}",
            js_typeof(other)
        )),
        None => Err("@merge requires a \"objects\" key".to_string()),
    };
    Node::Merge {
        direction: Box::new(compile_opt(opts.get("direction"))),
        objects,
    }
}

fn compile_transform(value: &Value) -> Node {
    let Value::Object(opts) = value else {
        return fail("@transform requires an object with an \"apply\" key and a \"mapping\" key");
    };
    if !truthy(opts.get("mapping")) {
        return fail("@transform requires a \"mapping\" key");
    }
    let apply = match opts.get("apply") {
        a if !truthy(a) => return fail("@transform requires a \"apply\" key"),
        Some(apply @ Value::Object(_)) => apply,
        _ => return fail("@transform \"apply\" key should be an object"),
    };
    Node::Transform {
        apply: super::compile_root(apply)
            .map(Box::new)
            .map_err(MappingError::Invalid),
        mapping: Box::new(compile_opt(opts.get("mapping"))),
    }
}

fn compile_liquid(value: &Value) -> Node {
    let Value::String(template) = value else {
        return fail("liquid template value must be a string");
    };
    if template.is_empty() {
        return Node::Raw(Value::String(String::new()));
    }
    if utf16_len(template) > super::MAX_LIQUID_TEMPLATE_LEN {
        return fail("liquid template values are limited to 1000 characters");
    }
    match LiquidTemplate::parse(template) {
        Ok(t) => Node::Liquid(Box::new(t)),
        Err(message) => fail(message),
    }
}
