//! Segment's mapping language (mapping-kit): directives, path lookups, validation.
//!
//! A [`Mapping`] is validated with Segment's rules and messages, then compiled once (paths and
//! templates parsed, directive-free subtrees kept as plain JSON) and applied to many payloads.
//! Results follow Segment's `transform` (`packages/core/src/mapping-kit`): `undefined` values
//! are removed from objects and become `null` in arrays. Every input is bounded: nesting depth,
//! mapping size, template length and the work and output of one `apply` are limited, and
//! exceeding a limit is an error, never a panic or a stack overflow.
//!
//! Deliberate differences from Segment's JavaScript (none is relied on by a real mapping):
//! - Paths do not see JavaScript properties of strings or prototypes (`"abc".length`,
//!   `"abc"[0]`, `constructor`): they give `undefined`.
//! - Object key order follows insertion; JavaScript moves integer-like keys first.
//! - Strings are sequences of Unicode scalar values, not UTF-16 code units (matters only for
//!   characters outside the Basic Multilingual Plane when spreading or flattening strings).
//! - Integers beyond 2^53 are copied exactly (`@path`, literal values) where JavaScript's
//!   `JSON.parse` would have rounded them to a double; turned into text (`@template`,
//!   `@replace`, `@json`, `@liquid`) they print as JavaScript prints that double.
//! - `@liquid` implements the Liquid subset documented in its module; a liquidjs tag or filter
//!   outside it (`date`, `where`, `cycle`, ...) is an error rather than a different answer.

mod compile;
mod eval;
mod liquid;
mod path;
mod replace;
mod template;
mod validate;
mod value;

use std::borrow::Cow;

use serde_json::{Map, Value};

use compile::Root;
use value::Budget;
pub(crate) use value::Tree;

/// Deepest nesting of objects and arrays accepted in a mapping.
pub const MAX_MAPPING_DEPTH: usize = 64;
/// Most JSON nodes (values of any kind) accepted in a mapping.
pub const MAX_MAPPING_NODES: usize = 50_000;
/// Deepest nesting the engine walks in a payload or a produced value.
pub const MAX_PAYLOAD_DEPTH: usize = 128;
/// Longest `@template` string, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 64 * 1024;
/// Longest `@liquid` template, in UTF-16 code units (Segment's limit).
pub const MAX_LIQUID_TEMPLATE_LEN: usize = 1000;
/// Most bytes of strings and values one `apply` may produce, intermediate ones included
/// (Liquid filter results and variables, `@replace` steps, template passes, decoded and copied
/// values). Each string is charged before or while it is built, so a refused one is never
/// allocated in full; each value [`VALUE_BYTES`], with the work that makes it.
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;
/// What one value (a unit of work: an evaluated node, an object member or array item built,
/// copied or decoded) is charged against [`MAX_OUTPUT_BYTES`], besides its strings: twice a
/// native `serde_json::Value` (72 bytes with `preserve_order`), its own room and the spare room
/// of an array grown by doubling (an object's member, with its key and index, takes less). The
/// same on every target, so that a mapping gets the same outcome in the Worker and the CLI
/// (values are smaller in wasm). It bounds the work too: at most about 116 000 units.
pub const VALUE_BYTES: usize = 144;

/// The directives of Segment's mapping language.
pub const DIRECTIVES: [&str; 13] = [
    "@path",
    "@template",
    "@literal",
    "@if",
    "@case",
    "@replace",
    "@arrayPath",
    "@json",
    "@flatten",
    "@merge",
    "@transform",
    "@excludeWhenNull",
    "@liquid",
];

/// The mapping key that holds a root-level directive (`__segment_internal_directive`).
pub const ROOT_DIRECTIVE_KEY: &str = "__segment_internal_directive";

/// One problem found in a mapping: the path of the bad node (`/a/@if/then`) and what is wrong.
/// Displayed as Segment prints it:
/// `/hash/@template should be a string or a mapping directive but it is an object.`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{path}{space}{message}{period}",
    space = if path.is_empty() { "" } else { " " },
    period = if path.is_empty() { "" } else { "." }
)]
pub struct ValidationError {
    /// Path of the node, `/` joined as Segment prints it (`/` is the root); empty for errors
    /// about the mapping as a whole (the root directive).
    pub path: String,
    /// What is wrong, without the final period.
    pub message: String,
}

/// Every problem found in a mapping, in Segment's order; displayed one error per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(.0))]
pub struct ValidationErrors(pub Vec<ValidationError>);

/// The errors' texts, one per line.
fn lines(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(ValidationError::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why a mapping could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The mapping is invalid (also raised at run time by `@transform`'s nested mapping).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// An error Segment's engine throws while resolving, with its message
    /// (`data must be an object, got array`, `@case requires a "operator" key`, ...).
    #[error("{0}")]
    Runtime(String),
    /// An error of a `@liquid` template.
    #[error("{0}")]
    Liquid(String),
    /// A safety limit was exceeded.
    #[error("mapping limit exceeded: {what} (at most {max})")]
    LimitExceeded {
        /// What was limited.
        what: &'static str,
        /// The limit.
        max: usize,
    },
}

/// A validated, compiled mapping; cheap to apply many times.
#[derive(Debug)]
pub struct Mapping {
    root: Root,
}

impl Mapping {
    /// Validates (all errors at once, Segment's messages and node paths) and compiles.
    pub fn compile(mapping: &Value) -> Result<Mapping, ValidationErrors> {
        compile_root(mapping).map(|root| Mapping { root })
    }

    /// Runs the mapping on one payload, as Segment's `transform` does (undefined values
    /// removed). A mapping whose top level resolves to `undefined` gives `null`; see
    /// [`Mapping::apply_optional`] to tell the two apart.
    pub fn apply(&self, payload: &Value) -> Result<Value, MappingError> {
        self.apply_optional(payload)
            .map(|v| v.unwrap_or(Value::Null))
    }

    /// Runs a mapping whose top level is an object (a Track Event field mapping), handing each
    /// defined field to `field` in order instead of building the top-level object; otherwise
    /// the same as [`Mapping::apply_optional`]. `None` when the top level is not an object.
    pub(crate) fn apply_fields<'m>(
        &'m self,
        payload: &'m Value,
        field: impl FnMut(&'m str, Tree<'m>),
    ) -> Option<Result<(), MappingError>> {
        let compile::Node::Object(object) = &self.root.node else {
            return None;
        };
        if !payload.is_object() {
            return Some(Err(MappingError::Runtime(format!(
                "data must be an object, got {}",
                value::type_name(payload)
            ))));
        }
        Some(eval::eval_fields(
            &object.entries,
            payload,
            &mut Budget::new(),
            field,
        ))
    }

    /// Like [`Mapping::apply`], with `None` when the top level resolves to `undefined`
    /// (e.g. `{"@path": "$.missing"}`).
    pub fn apply_optional(&self, payload: &Value) -> Result<Option<Value>, MappingError> {
        if !payload.is_object() {
            return Err(MappingError::Runtime(format!(
                "data must be an object, got {}",
                value::type_name(payload)
            )));
        }
        let mut budget = Budget::new();
        eval::eval_value(&self.root.node, Some(payload), &mut budget)
    }
}

/// compile + apply in one call.
pub fn transform(mapping: &Value, payload: &Value) -> Result<Value, MappingError> {
    if !payload.is_object() {
        return Err(MappingError::Runtime(format!(
            "data must be an object, got {}",
            value::type_name(payload)
        )));
    }
    Mapping::compile(mapping)?.apply(payload)
}

/// Validates a mapping as Segment does before using it; all errors at once.
pub fn validate(mapping: &Value) -> Result<(), ValidationErrors> {
    check_limits(mapping)?;
    let processed = mapping_to_process(mapping)?;
    validate::validate(Some(&processed), &[]).map_err(ValidationErrors)
}

/// Segment's path lookup (`get`), for `get_cases`: `''` and `'.'` are the root, `a.b[0].c`,
/// `['a'].b` and `a.b.0.c` walk keys, a falsy intermediate value is returned as it is.
/// `None` is JavaScript's `undefined`; an array's or a string's `length` is an owned number.
/// No `$.` prefix is stripped here.
pub fn get<'a>(value: &'a Value, path: &str) -> Option<Cow<'a, Value>> {
    path::PathSpec::parse(path).lookup(Some(value))
}

/// `String(n)` for a JSON number, as JavaScript prints it (`1`, `1.5`, `1e+21`; integers
/// beyond 2^53 rounded to a double first, as `JSON.parse` reads them).
pub fn js_number_string(number: &serde_json::Number) -> String {
    crate::js::json_number_to_string(number).to_string()
}

/// JavaScript truthiness of a JSON value (`null`, `false`, `0` and `""` are falsy).
pub fn js_truthy(value: &Value) -> bool {
    crate::js::truthy(value)
}

/// A pre-parsed `@path` argument: Segment's `path.replace('$.', '')`, then [`get`]. For callers
/// that read values by reference rather than through a whole [`Mapping`].
#[derive(Clone, Debug, PartialEq)]
pub struct DirectivePath(path::PathSpec);

impl DirectivePath {
    /// Parses the argument of `@path` as Segment does.
    pub fn parse(path: &str) -> DirectivePath {
        DirectivePath(path::PathSpec::parse_directive_path(path))
    }

    /// The value at the path, by reference (a `length` owned); `None` is JavaScript's
    /// `undefined`.
    pub fn lookup<'a>(&self, value: &'a Value) -> Option<Cow<'a, Value>> {
        self.0.lookup(Some(value))
    }

    /// [`DirectivePath::lookup`] from a Segment event (see [`path::PathSpec::lookup_event`]).
    pub fn lookup_event<'a>(
        &self,
        event: crate::segment::EventRef<'a>,
    ) -> Option<crate::segment::EventField<'a>> {
        self.0.lookup_event(event)
    }

    /// Whether the path is the whole value (`$.` or `$`).
    pub fn is_root(&self) -> bool {
        self.0.is_root()
    }

    /// The names of the keys the path walks, in order; `None` for the value itself.
    pub fn key_names(&self) -> Option<Vec<&str>> {
        self.0.key_names()
    }
}

/// The paths a `@template` string reads from its payload, each from a top-level key and read
/// whole (its placeholders' paths); `false` when it may read anything: a placeholder of the
/// whole payload, or `{{{…}}}` placeholders (their values are rendered, then read again).
pub(crate) fn template_paths_read(template: &str, mut visit: impl FnMut(&[&str])) -> bool {
    let template::Template::Parts(parts) = template::Template::parse(template) else {
        return false;
    };
    parts.iter().all(|part| match part {
        template::TemplatePart::Text(_) => true,
        template::TemplatePart::Placeholder(path) => match path.key_names() {
            Some(keys) if !keys.is_empty() => {
                visit(&keys);
                true
            }
            _ => false,
        },
    })
}

/// The paths a `@liquid` template reads from its payload, each from a top-level key and read
/// whole (see `LiquidTemplate::paths_read`); `false` when it may read anything, or does not
/// parse.
pub(crate) fn liquid_paths_read(source: &str, mut visit: impl FnMut(&[&str])) -> bool {
    if crate::js::utf16_len(source) > MAX_LIQUID_TEMPLATE_LEN {
        return false;
    }
    let Ok(template) = liquid::LiquidTemplate::parse(source) else {
        return false;
    };
    let Some(paths) = template.paths_read() else {
        return false;
    };
    for path in &paths {
        visit(path);
    }
    true
}

/// [`get`] with a path already split into keys (Segment's array form of a path).
pub fn get_keys<'a>(value: &'a Value, keys: &[&str]) -> Option<Cow<'a, Value>> {
    let keys = keys
        .iter()
        .map(|k| path::Key::new((*k).to_string()))
        .collect();
    path::PathSpec::Keys(keys).lookup(Some(value))
}

/// Segment's `render` of `{{placeholders}}`, for `render_cases`.
pub fn render(template: &str, payload: &Value) -> Result<String, MappingError> {
    if template.len() > MAX_TEMPLATE_LEN {
        return Err(MappingError::LimitExceeded {
            what: "template length in bytes",
            max: MAX_TEMPLATE_LEN,
        });
    }
    template::Template::parse(template).render(Some(payload), &mut Budget::new())
}

fn whole_mapping_error(message: impl Into<String>) -> ValidationErrors {
    ValidationErrors(vec![ValidationError {
        path: String::new(),
        message: message.into(),
    }])
}

/// Checks depth and size without recursion, before anything recursive touches the mapping.
fn check_limits(mapping: &Value) -> Result<(), ValidationErrors> {
    let mut stack: Vec<(&Value, usize)> = vec![(mapping, 0)];
    let mut nodes = 0usize;
    while let Some((v, depth)) = stack.pop() {
        nodes += 1;
        if nodes > MAX_MAPPING_NODES {
            return Err(whole_mapping_error(format!(
                "The mapping is too large: more than {MAX_MAPPING_NODES} values"
            )));
        }
        if depth > MAX_MAPPING_DEPTH {
            return Err(whole_mapping_error(format!(
                "The mapping is nested too deeply: more than {MAX_MAPPING_DEPTH} levels"
            )));
        }
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(m) => stack.extend(m.values().map(|i| (i, depth + 1))),
            Value::String(s) if s.len() > MAX_TEMPLATE_LEN => {
                return Err(whole_mapping_error(format!(
                    "The mapping has a string longer than {MAX_TEMPLATE_LEN} bytes"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Segment's `getMappingToProcess`: `{...mapping}`, then the root directive, if any, receives
/// every other top-level key as its `mapping` option.
fn mapping_to_process(mapping: &Value) -> Result<Value, ValidationErrors> {
    let spread: Map<String, Value> = match mapping {
        Value::Object(m) => {
            if let Some(root) = m.get(ROOT_DIRECTIVE_KEY) {
                return root_directive(m, root);
            }
            m.clone()
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.clone()))
            .collect(),
        // A string's own properties are its UTF-16 code units.
        Value::String(s) => crate::js::utf16_units(s)
            .enumerate()
            .map(|(i, c)| (i.to_string(), Value::String(c.to_string())))
            .collect(),
        _ => Map::new(),
    };
    Ok(Value::Object(spread))
}

fn root_directive(mapping: &Map<String, Value>, root: &Value) -> Result<Value, ValidationErrors> {
    let customer: Map<String, Value> = mapping
        .iter()
        .filter(|(k, _)| *k != ROOT_DIRECTIVE_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let key_count = match root {
        Value::Null => {
            return Err(whole_mapping_error(
                "Cannot convert undefined or null to object",
            ))
        }
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        Value::String(s) => crate::js::utf16_len(s),
        Value::Bool(_) | Value::Number(_) => 0,
    };
    if key_count > 1 {
        return Err(whole_mapping_error(
            "The root mapping must only have a single directive object",
        ));
    }
    let mut processed = root.clone();
    let directive = match &mut processed {
        Value::Object(m) => m.values_mut().next(),
        Value::Array(a) => a.first_mut(),
        _ => None,
    };
    match directive {
        Some(Value::Object(d)) => {
            d.insert("mapping".to_string(), Value::Object(customer));
        }
        Some(Value::Array(_)) => {}
        _ => return Err(whole_mapping_error("The root directive must be an object")),
    }
    Ok(processed)
}

/// Segment's `transform` up to resolution: limits, root directive, validation, compilation.
pub(crate) fn compile_root(mapping: &Value) -> Result<Root, ValidationErrors> {
    check_limits(mapping)?;
    let processed = mapping_to_process(mapping)?;
    validate::validate(Some(&processed), &[]).map_err(ValidationErrors)?;
    Ok(Root {
        node: compile::compile(&processed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display_segments_texts() {
        let errors = ValidationErrors(vec![
            ValidationError {
                path: String::new(),
                message: "The root directive must be an object".to_string(),
            },
            ValidationError {
                path: "/a/@if".to_string(),
                message: "should have field \"then\" or \"else\"".to_string(),
            },
        ]);
        let text =
            "The root directive must be an object\n/a/@if should have field \"then\" or \"else\".";
        assert_eq!(errors.to_string(), text);
        let invalid = MappingError::from(errors);
        assert_eq!(invalid.to_string(), text);
        assert!(std::error::Error::source(&invalid).is_none());
        assert_eq!(ValidationErrors(Vec::new()).to_string(), "");
        let limit = MappingError::LimitExceeded {
            what: "payload nesting depth",
            max: MAX_PAYLOAD_DEPTH,
        };
        assert_eq!(
            limit.to_string(),
            "mapping limit exceeded: payload nesting depth (at most 128)"
        );
        assert_eq!(
            MappingError::Runtime("boom".to_string()).to_string(),
            "boom"
        );
        assert_eq!(MappingError::Liquid("bad".to_string()).to_string(), "bad");
    }

    /// `transform("a😀b", {})` with `@segment/actions-core` 3.170.0: a string mapping is spread
    /// into its UTF-16 code units (a lone surrogate is U+FFFD here), an array into its items.
    #[test]
    fn a_string_mapping_spreads_into_utf16_code_units() {
        let got = transform(&serde_json::json!("a😀b"), &serde_json::json!({}));
        let want = serde_json::json!({"0": "a", "1": "\u{FFFD}", "2": "\u{FFFD}", "3": "b"});
        assert_eq!(got.ok(), Some(want));
        let got = transform(&serde_json::json!(["cool", 1]), &serde_json::json!({}));
        assert_eq!(got.ok(), Some(serde_json::json!({"0": "cool", "1": 1})));
    }
}
