//! Resolution of compiled nodes against a payload (Segment's `resolve` and the directives).

use std::borrow::Cow;

use serde_json::Value;

use super::compile::{ArrayRoot, CaseOp, Condition, JsonMode, Node, Replace, StrArg};
use super::path::PathSpec;
use super::replace::replace_literal;
use super::template::Template;
use super::value::{
    charge_value, json_stringify, loosely_equals_empty_string, lower_len, push_js_string, too_deep,
    upper_len, Budget, ObjectBuilder, Res, Tree,
};
use super::{MappingError, MAX_PAYLOAD_DEPTH};

fn runtime(message: impl Into<String>) -> MappingError {
    MappingError::Runtime(message.into())
}

/// Resolves `node` against `payload` (`None` is an `undefined` payload, as an `@arrayPath`
/// item can be). Recursion follows the compiled mapping, whose depth is bounded.
pub(crate) fn eval<'a>(
    node: &'a Node,
    payload: Option<&'a Value>,
    budget: &mut Budget,
) -> Result<Res<'a>, MappingError> {
    budget.nodes(1)?;
    Ok(match node {
        Node::Raw(v) => Res::Ref(v),
        Node::Undefined => Res::Undefined,
        Node::Fail(message) => return Err(runtime(message.as_str())),
        Node::Object(object) => {
            let mut out = Vec::with_capacity(object.entries.len());
            for (k, n) in &object.entries {
                out.push((Cow::Borrowed(k.as_str()), eval(n, payload, budget)?));
            }
            Res::Obj(out)
        }
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for n in items {
                out.push(eval(n, payload, budget)?);
            }
            Res::Arr(out)
        }
        Node::Path(StrArg::Static(path)) => lookup(path, payload),
        Node::Path(StrArg::Dynamic(n)) => {
            let r = eval(n, payload, budget)?;
            let Some(s) = r.as_str() else {
                return Err(runtime(format!(
                    "@path: expected string, got {}",
                    r.type_name()
                )));
            };
            lookup(&PathSpec::parse_directive_path(s), payload)
        }
        Node::Template(StrArg::Static(t)) => Res::Val(Value::String(t.render(payload, budget)?)),
        Node::Template(StrArg::Dynamic(n)) => {
            let r = eval(n, payload, budget)?;
            let Some(s) = r.as_str() else {
                return Err(runtime(format!(
                    "@template: expected string, got {}",
                    r.type_name()
                )));
            };
            if s.len() > super::MAX_TEMPLATE_LEN {
                return Err(MappingError::LimitExceeded {
                    what: "template length in bytes",
                    max: super::MAX_TEMPLATE_LEN,
                });
            }
            Res::Val(Value::String(Template::parse(s).render(payload, budget)?))
        }
        Node::If {
            condition,
            then,
            otherwise,
        } => {
            let holds = match condition.as_ref() {
                Condition::Exists(n) => {
                    let v = eval(n, payload, budget)?;
                    !v.is_undefined() && !v.is_null()
                }
                Condition::Blank(n) => {
                    let v = eval(n, payload, budget)?;
                    !v.is_undefined() && !v.is_null() && !loosely_equals_empty_string(&v)
                }
            };
            match (holds, then, otherwise) {
                (true, Some(n), _) => eval(n, payload, budget)?,
                (false, _, Some(n)) => eval(n, payload, budget)?,
                _ => Res::Undefined,
            }
        }
        Node::Case { op, value } => {
            let v = eval(value, payload, budget)?;
            match (v.as_str(), op) {
                (Some(s), CaseOp::Lower) => {
                    budget.bytes(lower_len(s))?;
                    Res::Val(Value::String(s.to_lowercase()))
                }
                (Some(s), CaseOp::Upper) => {
                    budget.bytes(upper_len(s))?;
                    Res::Val(Value::String(s.to_uppercase()))
                }
                (Some(_), CaseOp::Invalid) => {
                    return Err(runtime(
                        "operator key should have a value of \"lower\" or \"upper\"",
                    ))
                }
                (None, _) => v,
            }
        }
        Node::Replace(r) => eval_replace(r, payload, budget)?,
        Node::ArrayPath { root, shape } => {
            eval_array_path(root, shape.as_deref(), payload, budget)?
        }
        Node::Json { mode, value } => {
            let v = eval(value, payload, budget)?;
            match mode {
                JsonMode::Encode => match json_stringify(&v, budget)? {
                    Some(s) => Res::Val(Value::String(s)),
                    None => Res::Undefined,
                },
                JsonMode::Decode => match v.as_str() {
                    Some(s) => match serde_json::from_str::<Value>(s) {
                        Ok(parsed) => {
                            charge_value(&parsed, budget, 0)?;
                            Res::Val(parsed)
                        }
                        Err(_) => v,
                    },
                    None => v,
                },
                JsonMode::Other => Res::Undefined,
            }
        }
        Node::Flatten {
            separator,
            value,
            omit_arrays,
        } => {
            let sep = eval(separator, payload, budget)?;
            let Some(sep) = sep.as_str() else {
                return Err(runtime("@flatten requires a string separator"));
            };
            let sep = sep.to_string();
            let v = eval(value, payload, budget)?;
            let mut out = ObjectBuilder::new();
            flatten_into(&mut out, v, String::new(), &sep, *omit_arrays, budget, 0)?;
            out.finish()
        }
        Node::Merge { direction, objects } => {
            let direction = eval(direction, payload, budget)?;
            let objects = objects.as_ref().map_err(|m| runtime(m.as_str()))?;
            let mut resolved = Vec::with_capacity(objects.len());
            for n in objects {
                resolved.push(eval(n, payload, budget)?);
            }
            if direction.as_str() == Some("left") {
                resolved.reverse();
            }
            let mut out = ObjectBuilder::new();
            for source in resolved {
                assign(&mut out, source, budget)?;
            }
            out.finish()
        }
        Node::Transform { apply, mapping } => {
            let Some(Value::Object(_)) = payload else {
                let t = payload.map_or("undefined", super::value::type_name);
                return Err(runtime(format!("data must be an object, got {t}")));
            };
            let apply = apply.as_ref().map_err(Clone::clone)?;
            let new_payload = eval_value(&apply.node, payload, budget)?;
            eval(mapping, new_payload.as_ref(), budget)?.detach(budget)?
        }
        Node::ExcludeWhenNull(value) => {
            let v = eval(value, payload, budget)?;
            if v.is_null() {
                Res::Undefined
            } else {
                clean_nulls(v, budget, 0)?
            }
        }
        Node::Liquid(t) => Res::Val(Value::String(t.render(payload, budget)?)),
    })
}

/// Resolves `node` straight into the final output (undefined removed).
pub(crate) fn eval_value(
    node: &Node,
    payload: Option<&Value>,
    budget: &mut Budget,
) -> Result<Option<Value>, MappingError> {
    Ok(eval_tree(node, payload, budget)?.map(Tree::into_value))
}

/// Resolves `node` into the final output before it is built (see [`Tree`]): objects, arrays,
/// paths and raw values directly instead of through an intermediate [`Res`].
pub(crate) fn eval_tree<'a>(
    node: &'a Node,
    payload: Option<&'a Value>,
    budget: &mut Budget,
) -> Result<Option<Tree<'a>>, MappingError> {
    match node {
        Node::Object(object) => {
            budget.nodes(1)?;
            let mut entries = Vec::with_capacity(object.entries.len());
            for (k, n) in &object.entries {
                if let Some(v) = eval_tree(n, payload, budget)? {
                    entries.push((Cow::Borrowed(k.as_str()), v));
                }
            }
            Ok(Some(Tree::Obj(entries)))
        }
        Node::Array(items) => {
            budget.nodes(1)?;
            let mut out = Vec::with_capacity(items.len());
            for n in items {
                out.push(eval_tree(n, payload, budget)?.unwrap_or(Tree::Val(Value::Null)));
            }
            Ok(Some(Tree::Arr(out)))
        }
        Node::Raw(v) => {
            charge_value(v, budget, 0)?;
            Ok(Some(Tree::Ref(v)))
        }
        Node::Path(StrArg::Static(path)) => {
            budget.nodes(1)?;
            match path.lookup(payload) {
                Some(Cow::Borrowed(v)) => {
                    charge_value(v, budget, 0)?;
                    Ok(Some(Tree::Ref(v)))
                }
                Some(Cow::Owned(v)) => {
                    charge_value(&v, budget, 0)?;
                    Ok(Some(Tree::Val(v)))
                }
                None => Ok(None),
            }
        }
        other => eval(other, payload, budget)?.into_tree(budget),
    }
}

/// Resolves the entries of a top-level object node as [`eval_tree`] does, handing each defined
/// one to `field` instead of collecting them.
pub(crate) fn eval_fields<'m>(
    entries: &'m [(String, Node)],
    payload: &'m Value,
    budget: &mut Budget,
    mut field: impl FnMut(&'m str, Tree<'m>),
) -> Result<(), MappingError> {
    budget.nodes(1)?;
    for (name, node) in entries {
        if let Some(value) = eval_tree(node, Some(payload), budget)? {
            field(name, value);
        }
    }
    Ok(())
}

fn lookup<'a>(path: &PathSpec, payload: Option<&'a Value>) -> Res<'a> {
    match path.lookup(payload) {
        Some(Cow::Borrowed(v)) => Res::Ref(v),
        Some(Cow::Owned(v)) => Res::Val(v),
        None => Res::Undefined,
    }
}

/// Evaluates `node` against a payload built during resolution, detaching the result from it.
fn eval_owned<'a>(
    node: &'a Node,
    payload: Option<Value>,
    budget: &mut Budget,
) -> Result<Res<'a>, MappingError> {
    let r = eval(node, payload.as_ref(), budget)?;
    r.detach(budget)
}

fn eval_replace<'a>(
    r: &'a Replace,
    payload: Option<&'a Value>,
    budget: &mut Budget,
) -> Result<Res<'a>, MappingError> {
    let v = eval(&r.value, payload, budget)?;
    let mut text = String::new();
    let is_text = match v.as_value() {
        Some(Value::String(s)) => {
            text.push_str(s);
            true
        }
        Some(b @ (Value::Bool(_) | Value::Number(_))) => {
            push_js_string(&mut text, b)?;
            true
        }
        _ => false,
    };
    let Some(steps) = r.steps.as_ref().filter(|_| is_text) else {
        return Ok(Res::Val(Value::String(String::new())));
    };
    for step in steps {
        if let Some(message) = step.too_long {
            return Err(runtime(message));
        }
        text = replace_literal(&text, step, r.global, r.ignore_case, budget)?;
    }
    Ok(Res::Val(Value::String(text)))
}

fn eval_array_path<'a>(
    root: &'a ArrayRoot,
    shape: Option<&'a Node>,
    payload: Option<&'a Value>,
    budget: &mut Budget,
) -> Result<Res<'a>, MappingError> {
    let root = match root {
        ArrayRoot::Path(path) => lookup(path, payload),
        ArrayRoot::Node(n) => eval(n, payload, budget)?,
    };
    let Some(shape) = shape else {
        return Ok(root);
    };
    if !matches!(root.type_name(), "object" | "array") {
        return Ok(root);
    }
    let mut out = Vec::new();
    match root {
        Res::Ref(Value::Array(items)) => {
            for item in items {
                out.push(eval(shape, Some(item), budget)?);
            }
        }
        Res::Ref(item @ Value::Object(_)) => out.push(eval(shape, Some(item), budget)?),
        Res::Val(Value::Array(items)) => {
            for item in items {
                out.push(eval_owned(shape, Some(item), budget)?);
            }
        }
        Res::Arr(items) => {
            for item in items {
                out.push(match item {
                    Res::Ref(v) => eval(shape, Some(v), budget)?,
                    other => eval_owned(shape, other.into_value(budget)?, budget)?,
                });
            }
        }
        other => {
            let item = other.into_value(budget)?;
            out.push(eval_owned(shape, item, budget)?);
        }
    }
    Ok(Res::Arr(out))
}

/// The key of a flattened member, charged to the budget before it is allocated (keys of
/// nested members grow with each level, and the separator may be long).
fn join_key(
    prefix: &str,
    sep: &str,
    key: &str,
    budget: &mut Budget,
) -> Result<String, MappingError> {
    if prefix.is_empty() {
        budget.bytes(key.len())?;
        return Ok(key.to_string());
    }
    let len = prefix
        .len()
        .saturating_add(sep.len())
        .saturating_add(key.len());
    budget.bytes(len)?;
    let mut s = String::with_capacity(len);
    s.push_str(prefix);
    s.push_str(sep);
    s.push_str(key);
    Ok(s)
}

/// `flattenObject(value, prefix, separator, omitArrays)`.
fn flatten_into<'a>(
    out: &mut ObjectBuilder<'a>,
    v: Res<'a>,
    prefix: String,
    sep: &str,
    omit_arrays: bool,
    budget: &mut Budget,
    depth: usize,
) -> Result<(), MappingError> {
    if depth > MAX_PAYLOAD_DEPTH {
        return Err(too_deep());
    }
    budget.nodes(1)?;
    let indexed = |i: usize| Cow::Owned(i.to_string());
    let entries: Vec<(Cow<'a, str>, Res<'a>)> = match v {
        // An object's entries in the order `Object.entries` gives: array indexes first,
        // ascending (an `@merge` of an array and an object, say, has both kinds of key).
        Res::Ref(Value::Object(m)) => super::value::in_js_order(
            (m.iter())
                .map(|(k, item)| (Cow::Borrowed(k.as_str()), Res::Ref(item)))
                .collect(),
        ),
        Res::Val(Value::Object(m)) => super::value::in_js_order(
            (m.into_iter())
                .map(|(k, item)| (Cow::Owned(k), Res::Val(item)))
                .collect(),
        ),
        Res::Obj(entries) => super::value::in_js_order(entries),
        // An array's items under their indexes, unless arrays are kept whole.
        Res::Ref(Value::Array(items)) if !omit_arrays => (items.iter().enumerate())
            .map(|(i, item)| (indexed(i), Res::Ref(item)))
            .collect(),
        Res::Val(Value::Array(items)) if !omit_arrays => (items.into_iter().enumerate())
            .map(|(i, item)| (indexed(i), Res::Val(item)))
            .collect(),
        Res::Arr(items) if !omit_arrays => (items.into_iter().enumerate())
            .map(|(i, item)| (indexed(i), item))
            .collect(),
        // The key was charged when it was joined.
        leaf => {
            out.set(Cow::Owned(prefix), leaf);
            return Ok(());
        }
    };
    for (k, item) in entries {
        let key = join_key(&prefix, sep, &k, budget)?;
        flatten_into(out, item, key, sep, omit_arrays, budget, depth + 1)?;
    }
    Ok(())
}

/// One source of `Object.assign({}, ...objects)`.
fn assign<'a>(
    out: &mut ObjectBuilder<'a>,
    source: Res<'a>,
    budget: &mut Budget,
) -> Result<(), MappingError> {
    match source {
        Res::Undefined => {}
        Res::Ref(Value::Object(m)) => {
            budget.nodes(m.len())?;
            for (k, v) in m {
                out.set(Cow::Borrowed(k.as_str()), Res::Ref(v));
            }
        }
        Res::Ref(Value::Array(items)) => {
            budget.nodes(items.len())?;
            for (i, v) in items.iter().enumerate() {
                out.set(Cow::Owned(i.to_string()), Res::Ref(v));
            }
        }
        Res::Ref(Value::String(s)) => spread_string(out, s, budget)?,
        Res::Val(Value::Object(m)) => {
            budget.nodes(m.len())?;
            for (k, v) in m {
                out.set(Cow::Owned(k), Res::Val(v));
            }
        }
        Res::Val(Value::Array(items)) => {
            budget.nodes(items.len())?;
            for (i, v) in items.into_iter().enumerate() {
                out.set(Cow::Owned(i.to_string()), Res::Val(v));
            }
        }
        Res::Val(Value::String(s)) => spread_string(out, &s, budget)?,
        Res::Obj(entries) => {
            budget.nodes(entries.len())?;
            for (k, v) in entries {
                out.set(k, v);
            }
        }
        Res::Arr(items) => {
            budget.nodes(items.len())?;
            for (i, v) in items.into_iter().enumerate() {
                out.set(Cow::Owned(i.to_string()), v);
            }
        }
        // null, booleans and numbers have no own enumerable properties.
        Res::Ref(_) | Res::Val(_) => {}
    }
    Ok(())
}

fn spread_string<'a>(
    out: &mut ObjectBuilder<'a>,
    s: &str,
    budget: &mut Budget,
) -> Result<(), MappingError> {
    budget.nodes(s.len())?;
    // A string's own properties are its UTF-16 code units.
    for (i, c) in crate::js::utf16_units(s).enumerate() {
        out.set(
            Cow::Owned(i.to_string()),
            Res::Val(Value::String(c.to_string())),
        );
    }
    Ok(())
}

/// `cleanNulls`: the null-valued keys of an object become undefined, recursively through nested
/// objects (arrays are left as they are). Undefined, not removed: in `@merge` an undefined member
/// overwrites an earlier one (`Object.assign`), and it is removed from the output at the end.
fn clean_nulls<'a>(v: Res<'a>, budget: &mut Budget, depth: usize) -> Result<Res<'a>, MappingError> {
    if depth > MAX_PAYLOAD_DEPTH {
        return Err(too_deep());
    }
    Ok(match v {
        Res::Ref(Value::Object(m)) => {
            budget.nodes(m.len())?;
            let mut out = Vec::with_capacity(m.len());
            for (k, item) in m {
                out.push((
                    Cow::Borrowed(k.as_str()),
                    clean_null(Res::Ref(item), budget, depth)?,
                ));
            }
            Res::Obj(out)
        }
        Res::Val(Value::Object(m)) => {
            budget.nodes(m.len())?;
            let mut out = Vec::with_capacity(m.len());
            for (k, item) in m {
                out.push((Cow::Owned(k), clean_null(Res::Val(item), budget, depth)?));
            }
            Res::Obj(out)
        }
        Res::Obj(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, item) in entries {
                out.push((k, clean_null(item, budget, depth)?));
            }
            Res::Obj(out)
        }
        other => other,
    })
}

/// A member of an object `cleanNulls` cleans (at `depth`): undefined for null.
fn clean_null<'a>(
    item: Res<'a>,
    budget: &mut Budget,
    depth: usize,
) -> Result<Res<'a>, MappingError> {
    if item.is_null() {
        Ok(Res::Undefined)
    } else {
        clean_nulls(item, budget, depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::VALUE_BYTES;
    use super::*;

    /// Applies `mapping` to `payload` with a budget of `bytes` bytes of produced strings,
    /// besides what its values take (as much as a run with no byte limit charges them).
    fn apply_within(mapping: &Value, payload: &Value, bytes: usize) -> Result<(), MappingError> {
        let root = super::super::compile_root(mapping).map_err(MappingError::Invalid)?;
        Budget::with_string_bytes(bytes, |budget| {
            eval_value(&root.node, Some(payload), budget).map(|_| ())
        })
    }

    fn is_bytes_limit(r: &Result<(), MappingError>) -> bool {
        matches!(
            r,
            Err(MappingError::LimitExceeded {
                what: "bytes of produced strings and values",
                ..
            })
        )
    }

    /// Values are charged against the byte budget as strings are: decoding 100 numbers
    /// charges the array and its items, though no string is produced.
    #[test]
    fn decoded_values_are_charged_as_bytes() {
        let payload = json!({"j": format!("[{}0]", "0,".repeat(99))});
        let mapping = json!({"@json": {"mode": "decode", "value": {"@path": "$.j"}}});
        let root = super::super::compile_root(&mapping).expect("a valid mapping");
        let mut budget = Budget::new();
        let decoded = eval_value(&root.node, Some(&payload), &mut budget).expect("decoded");
        assert_eq!(decoded.and_then(|v| v.as_array().map(Vec::len)), Some(100));
        let charged = super::super::MAX_OUTPUT_BYTES - budget.bytes_left;
        assert!(charged >= 101 * VALUE_BYTES, "{charged}");
        // The text decoded is not charged as well: at most a few evaluated nodes more.
        assert!(charged < 110 * VALUE_BYTES, "{charged}");
    }

    #[test]
    fn flattened_keys_are_charged_at_every_level() {
        // Keys of nested members repeat the separator once per level: `a` + sep + `b` is
        // built before `a` + sep + `b` + sep + `c`, and both are charged.
        let mapping =
            json!({"v": {"@flatten": {"value": {"@path": "$.o"}, "separator": "-".repeat(100)}}});
        let payload = json!({"o": {"a": {"b": {"c": 1}}}});
        assert!(apply_within(&mapping, &payload, 310).is_ok());
        assert!(is_bytes_limit(&apply_within(&mapping, &payload, 250)));
    }

    #[test]
    fn produced_strings_are_charged_before_they_grow_past_the_budget() {
        let payload = json!({"s": "a".repeat(1000), "t": "ΐ".repeat(500)});
        let huge = [
            json!({"v": {"@template": "{{s}}".repeat(20)}}),
            json!({"v": {"@json": {"mode": "encode", "value": [{"@path": "$.s"}, {"@path": "$.s"}]}}}),
            json!({"v": {"@case": {"operator": "upper", "value": {"@path": "$.t"}}}}),
            json!({"v": {"@replace": {"value": {"@path": "$.s"}, "pattern": "a", "replacement": "$'"}}}),
        ];
        for mapping in &huge {
            let result = apply_within(mapping, &payload, 1500);
            assert!(is_bytes_limit(&result), "{mapping}: {result:?}");
            assert!(
                apply_within(mapping, &payload, usize::MAX).is_ok(),
                "{mapping}"
            );
        }
    }

    #[test]
    fn integers_beyond_2_53_are_copied_exactly_and_printed_as_javascript_prints_them() {
        let payload = json!({"n": 9007199254740993_u64});
        let mapping = json!({
            "path": {"@path": "$.n"},
            "template": {"@template": "{{n}}"},
            "replace": {"@replace": {"value": {"@path": "$.n"}, "pattern": "x", "replacement": "y"}},
            "json": {"@json": {"mode": "encode", "value": {"@path": "$.n"}}},
            "liquid": {"@liquid": "{{ n }}"},
        });
        let out = super::super::transform(&mapping, &payload).unwrap();
        assert_eq!(
            out,
            json!({
                "path": 9007199254740993_u64,
                "template": "9007199254740992",
                "replace": "9007199254740992",
                "json": "9007199254740992",
                "liquid": "9007199254740992",
            })
        );
    }

    /// What `@segment/actions-core` 3.170.0 gives for these (`transform` in Node), cases the
    /// differential test found (seeds 278, 282 and 283).
    #[test]
    fn exclude_when_null_and_flatten_take_javascripts_objects() {
        let payload = json!({"properties": {
            "coupon": null,
            "products": [{"sku": "x", "price": 19}, {"sku": "y"}],
            "nested": {"b": 1, "c": [1, 2]},
            "deep": {"a": null, "b": {"c": null, "d": 1}},
        }});
        let deep = json!({"@excludeWhenNull": {"@path": "$.properties.deep"}});
        let cases = [
            // `cleanNulls` makes a null member undefined, which `Object.assign` copies over an
            // earlier member.
            (
                json!({"@merge": {"direction": "right", "objects": [
                    {"k1": "x", "k2": "z"},
                    {"@excludeWhenNull": {"k1": {"@path": "$.properties.coupon"}, "k2": "y"}},
                ]}}),
                json!({"k2": "y"}),
            ),
            (
                json!({"@merge": {"direction": "left", "objects": [deep, {"a": 1, "b": {"c": 2}}]}}),
                json!({"b": {"d": 1}}),
            ),
            (
                json!({"@json": {"mode": "encode", "value": deep}}),
                json!("{\"b\":{\"d\":1}}"),
            ),
            (
                json!({"@flatten": {"separator": ".", "value": deep}}),
                json!({"b.d": 1}),
            ),
            // `Object.entries` gives array indexes first, ascending, wherever they came from.
            (
                json!({"@json": {"mode": "encode", "value": {"@flatten": {"separator": ".", "value":
                {"@merge": {"direction": "left", "objects": [
                    {"@path": "$.properties.products"},
                    {"@path": "$.properties.nested"},
                ]}}}}}}),
                json!(
                    "{\"0.sku\":\"x\",\"0.price\":19,\"1.sku\":\"y\",\"b\":1,\"c.0\":1,\"c.1\":2}"
                ),
            ),
            (
                json!({"@json": {"mode": "encode", "value": {"@flatten": {"separator": "_", "value":
                    {"z": 1, "10": {"2": "a", "b": "c", "1": "d"}, "9": "e"}}}}}),
                json!("{\"9\":\"e\",\"10_1\":\"d\",\"10_2\":\"a\",\"10_b\":\"c\",\"z\":1}"),
            ),
            // A string's own properties are its UTF-16 code units: a character outside the
            // Basic Multilingual Plane is two, each half a lone surrogate (U+FFFD here).
            (
                json!({"@merge": {"direction": "right", "objects": [{"@literal": "a😀b"}]}}),
                json!({"0": "a", "1": "\u{FFFD}", "2": "\u{FFFD}", "3": "b"}),
            ),
        ];
        for (mapping, want) in cases {
            let root = super::super::compile_root(&json!({"out": mapping})).expect("valid");
            let got = eval_value(&root.node, Some(&payload), &mut Budget::new()).expect("applies");
            assert_eq!(got, Some(json!({"out": want})), "{mapping}");
        }
    }

    /// `omitArrays` keeps an array whole in every form a value takes (read from the event,
    /// decoded, built by the mapping); without it an array's items are flattened by index.
    /// What `@segment/actions-core` 3.170.0 gives.
    #[test]
    fn flatten_omit_arrays_keeps_arrays_whole_in_every_form() {
        let payload = json!({"properties": {
            "o": {"a": [1, {"b": 2}], "c": 3},
            "j": "{\"a\":[1,{\"b\":2}],\"c\":3}",
        }});
        let forms = [
            (json!({"@path": "$.properties.o"}), 2),
            (
                json!({"@json": {"mode": "decode", "value": {"@path": "$.properties.j"}}}),
                2,
            ),
            (
                json!({"a": [1, {"b": {"@path": "$.properties.o.c"}}], "c": 3}),
                3,
            ),
        ];
        for (value, b) in forms {
            for (omit, want) in [
                (false, json!({"a.0": 1, "a.1.b": b, "c": 3})),
                (true, json!({"a": [1, {"b": b}], "c": 3})),
            ] {
                let mapping = json!({"out": {"@flatten":
                    {"separator": ".", "omitArrays": omit, "value": value}}});
                let root = super::super::compile_root(&mapping).expect("valid");
                let got = eval_value(&root.node, Some(&payload), &mut Budget::new());
                assert_eq!(
                    got.expect("applies"),
                    Some(json!({"out": want})),
                    "{mapping}"
                );
            }
        }
    }

    /// `v` nested in `levels` objects (`{"a": {"a": ... v}}`), or arrays.
    fn nested(levels: usize, in_arrays: bool, v: Value) -> Value {
        (0..levels).fold(v, |v, _| {
            if in_arrays {
                json!([v])
            } else {
                json!({"a": v})
            }
        })
    }

    /// `@flatten` (through objects and arrays) and `@excludeWhenNull` (through objects) walk at
    /// most `MAX_PAYLOAD_DEPTH` levels below the value they are given, then fail with the limit.
    #[test]
    fn flatten_and_exclude_when_null_stop_at_the_depth_limit() {
        let depth_of = |mapping: Value, value: Value| {
            let root = super::super::compile_root(&json!({"out": mapping})).expect("valid");
            let payload = json!({"v": value});
            eval_value(&root.node, Some(&payload), &mut Budget::new()).map(|_| ())
        };
        let too_deep = |r: &Result<(), MappingError>| {
            matches!(
                r,
                Err(MappingError::LimitExceeded {
                    what: "payload nesting depth",
                    ..
                })
            )
        };
        let flatten = json!({"@flatten": {"separator": ".", "value": {"@path": "$.v"}}});
        let clean = json!({"@excludeWhenNull": {"@path": "$.v"}});
        // The leaf `1` is `MAX_PAYLOAD_DEPTH` levels below the value, then one more.
        for (mapping, in_arrays) in [(&flatten, false), (&flatten, true), (&clean, false)] {
            let at = nested(MAX_PAYLOAD_DEPTH, in_arrays, json!(1));
            let past = nested(MAX_PAYLOAD_DEPTH + 1, in_arrays, json!(1));
            assert!(
                depth_of(mapping.clone(), at).is_ok(),
                "{mapping} {in_arrays}"
            );
            let result = depth_of(mapping.clone(), past);
            assert!(too_deep(&result), "{mapping} {in_arrays}: {result:?}");
        }
    }
}
