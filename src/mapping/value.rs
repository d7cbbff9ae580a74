//! Intermediate results of resolution, the output budget, and the JavaScript value semantics
//! mapping-kit adds to [`crate::js`]'s (`undefined`, `JSON.stringify`, loose `== ''`).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::{MappingError, MAX_PAYLOAD_DEPTH};
use crate::{js, json};

/// A resolved mapping value. `Undefined` is JavaScript's `undefined` (the "absent" signal);
/// `Ref` borrows from the payload or the mapping, so nothing is cloned until the final output;
/// `Obj`/`Arr` are structures built by the mapping and may still hold `Undefined` members,
/// exactly as Segment's intermediate values do (they are removed by [`Res::into_value`]).
#[derive(Debug, Clone)]
pub(crate) enum Res<'a> {
    Undefined,
    Ref(&'a Value),
    Val(Value),
    Obj(Vec<(Cow<'a, str>, Res<'a>)>),
    Arr(Vec<Res<'a>>),
}

/// Output budget shared by one `apply`: bounds the work and memory a mapping can cause, in
/// bytes ([`super::MAX_OUTPUT_BYTES`]): the strings it produces, and [`super::VALUE_BYTES`] for
/// each unit of work (so the work is bounded too).
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) bytes_left: usize,
    /// Units of work charged so far: what the budget's tests tell strings from values by.
    #[cfg(test)]
    pub(crate) units: usize,
}

impl Budget {
    pub(crate) fn new() -> Self {
        Budget {
            bytes_left: super::MAX_OUTPUT_BYTES,
            #[cfg(test)]
            units: 0,
        }
    }

    /// Charges `n` units of work (evaluated nodes, produced, copied and decoded values),
    /// [`super::VALUE_BYTES`] bytes each: a unit of work may leave a value behind, and what
    /// values take in memory counts as their strings do.
    #[inline]
    pub(crate) fn nodes(&mut self, n: usize) -> Result<(), MappingError> {
        #[cfg(test)]
        {
            self.units = self.units.saturating_add(n);
        }
        self.bytes(n.saturating_mul(super::VALUE_BYTES))
    }

    /// Charges `n` bytes of produced string data.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<(), MappingError> {
        match self.bytes_left.checked_sub(n) {
            Some(left) => {
                self.bytes_left = left;
                Ok(())
            }
            None => Err(bytes_exceeded()),
        }
    }

    /// A string written by `write`, built with exactly its size: `write` first runs into a
    /// [`Measure`] (which stops as soon as the budget is exceeded), the size is charged, then
    /// `write` runs again into a string allocated once. A string the budget refuses is never
    /// built.
    pub(crate) fn build(
        &mut self,
        write: impl Fn(&mut dyn Sink) -> Result<(), MappingError>,
    ) -> Result<String, MappingError> {
        let mut measure = Measure {
            len: 0,
            max: self.bytes_left,
        };
        write(&mut measure)?;
        self.bytes(measure.len)?;
        let mut out = String::with_capacity(measure.len);
        write(&mut out)?;
        Ok(out)
    }

    /// Charges `piece` and appends it to `out`. The buffer grows geometrically, but never past
    /// its length plus what the budget has left, so a string the budget refuses is never
    /// allocated.
    pub(crate) fn push_str(&mut self, out: &mut String, piece: &str) -> Result<(), MappingError> {
        self.bytes(piece.len())?;
        let needed = out.len().saturating_add(piece.len());
        if needed > out.capacity() {
            let grown = out
                .capacity()
                .saturating_mul(2)
                .min(needed.saturating_add(self.bytes_left))
                .max(needed);
            out.reserve_exact(grown - out.len());
        }
        out.push_str(piece);
        Ok(())
    }
}

/// Length in bytes of `s.to_uppercase()`, computed without building it.
pub(crate) fn upper_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars()
        .map(|c| c.to_uppercase().map(char::len_utf8).sum::<usize>())
        .sum()
}

/// Length in bytes of `s.to_lowercase()`, computed without building it (the final sigma that
/// `to_lowercase` special-cases has the same length as the other).
pub(crate) fn lower_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars()
        .map(|c| c.to_lowercase().map(char::len_utf8).sum::<usize>())
        .sum()
}

/// For the budget's tests.
#[cfg(test)]
impl Budget {
    /// What `run` returns with a budget of `strings` bytes of produced strings, besides what
    /// its values take: as much as a first run, with no byte limit, charges them.
    pub(crate) fn with_string_bytes<R>(strings: usize, run: impl Fn(&mut Budget) -> R) -> R {
        let mut unlimited = Budget::new();
        unlimited.bytes_left = usize::MAX;
        // Only its charges count: its outcome is the one of the run below, with `strings`.
        let _unlimited = run(&mut unlimited);
        let mut budget = Budget::new();
        budget.bytes_left = strings.saturating_add(unlimited.units * super::VALUE_BYTES);
        run(&mut budget)
    }
}

/// The error of an exceeded byte budget.
fn bytes_exceeded() -> MappingError {
    MappingError::LimitExceeded {
        what: "bytes of produced strings and values",
        max: super::MAX_OUTPUT_BYTES,
    }
}

/// Where produced text goes: a string, or a [`Measure`] that only counts it.
pub(crate) trait Sink {
    fn put(&mut self, piece: &str) -> Result<(), MappingError>;
}

impl Sink for String {
    fn put(&mut self, piece: &str) -> Result<(), MappingError> {
        self.push_str(piece);
        Ok(())
    }
}

/// Counts the bytes of a text without building it; fails with the byte budget's error as
/// soon as they exceed `max`.
pub(crate) struct Measure {
    len: usize,
    max: usize,
}

impl Sink for Measure {
    fn put(&mut self, piece: &str) -> Result<(), MappingError> {
        self.len = self.len.saturating_add(piece.len());
        if self.len > self.max {
            return Err(bytes_exceeded());
        }
        Ok(())
    }
}

pub(crate) fn too_deep() -> MappingError {
    MappingError::LimitExceeded {
        what: "payload nesting depth",
        max: MAX_PAYLOAD_DEPTH,
    }
}

/// Adds the size of a value (nodes, string bytes) to the counts; false when it is nested
/// deeper than the limit. Recursion is bounded by that limit.
fn measure(v: &Value, depth: usize, nodes: &mut usize, bytes: &mut usize) -> bool {
    if depth > MAX_PAYLOAD_DEPTH {
        return false;
    }
    *nodes += 1;
    match v {
        Value::String(s) => *bytes += s.len(),
        Value::Array(items) => {
            for item in items {
                if !measure(item, depth + 1, nodes, bytes) {
                    return false;
                }
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                *bytes += k.len();
                if !measure(item, depth + 1, nodes, bytes) {
                    return false;
                }
            }
        }
        _ => {}
    }
    true
}

/// Clones a payload value, charging the budget and refusing values nested too deeply.
/// Once measured, the clone itself is `Value::clone` (which copies object indexes without
/// rehashing their keys).
pub(crate) fn clone_value(
    v: &Value,
    budget: &mut Budget,
    depth: usize,
) -> Result<Value, MappingError> {
    charge_value(v, budget, depth)?;
    Ok(v.clone())
}

/// Charges the budget for a copy of a payload value, as [`clone_value`] does, without copying.
pub(crate) fn charge_value(
    v: &Value,
    budget: &mut Budget,
    depth: usize,
) -> Result<(), MappingError> {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => return budget.nodes(1),
        Value::String(s) => {
            budget.nodes(1)?;
            return budget.bytes(s.len());
        }
        _ => {}
    }
    let (mut nodes, mut bytes) = (0, 0);
    if !measure(v, depth, &mut nodes, &mut bytes) {
        return Err(too_deep());
    }
    budget.nodes(nodes)?;
    budget.bytes(bytes)
}

/// A final mapping value (no `undefined` left, budget charged) whose payload parts are still
/// borrowed: what [`Res::into_value`] would build, before it is built. Object keys are unique.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree<'a> {
    /// A payload or mapping value, as it is.
    Ref(&'a Value),
    Val(Value),
    Obj(Vec<(Cow<'a, str>, Tree<'a>)>),
    Arr(Vec<Tree<'a>>),
}

impl serde::Serialize for Tree<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Ref(v) => v.serialize(serializer),
            Tree::Val(v) => v.serialize(serializer),
            Tree::Obj(entries) => Tree::serialize_entries(entries, serializer),
            Tree::Arr(items) => serializer.collect_seq(items),
        }
    }
}

impl Tree<'_> {
    /// The JSON value.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Tree::Ref(v) => v.clone(),
            Tree::Val(v) => v,
            Tree::Obj(entries) => Value::Object(Tree::into_map(entries)),
            Tree::Arr(items) => Value::Array(items.into_iter().map(Tree::into_value).collect()),
        }
    }

    /// Serialises an [`Tree::Obj`]'s entries as the object they make.
    pub(crate) fn serialize_entries<S: serde::Serializer>(
        entries: &[(Cow<'_, str>, Tree<'_>)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }

    /// Writes the tree as compact JSON, byte for byte as serde_json writes
    /// [`Tree::into_value`] (with [`crate::json`]'s writer, without building the value).
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Tree::Ref(value) => json::write_value(out, value),
            Tree::Val(value) => json::write_value(out, value),
            Tree::Obj(entries) => Tree::write_entries_json(out, entries),
            Tree::Arr(items) => json::write_array(out, items, |out, item| item.write_json(out)),
        }
    }

    /// Writes the object of a [`Tree::Obj`]'s entries as compact JSON (see
    /// [`Tree::write_json`]).
    pub(crate) fn write_entries_json(out: &mut String, entries: &[(Cow<'_, str>, Tree<'_>)]) {
        json::write_members(
            out,
            entries.iter().map(|(key, value)| (key.as_ref(), value)),
            |out, value| value.write_json(out),
        );
    }

    /// The JSON object of an [`Tree::Obj`]'s entries.
    pub(crate) fn into_map(entries: Vec<(Cow<'_, str>, Tree<'_>)>) -> Map<String, Value> {
        let mut map = Map::with_capacity(entries.len());
        for (k, v) in entries {
            map.insert(k.into_owned(), v.into_value());
        }
        map
    }
}

impl<'a> Res<'a> {
    /// The value, when this is a plain JSON value (not undefined, not a mapping-built structure).
    pub(crate) fn as_value(&self) -> Option<&Value> {
        match self {
            Res::Ref(v) => Some(v),
            Res::Val(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn is_undefined(&self) -> bool {
        matches!(self, Res::Undefined)
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.as_value(), Some(Value::Null))
    }

    /// `realTypeOf` of Segment: `undefined`, `null`, `boolean`, `number`, `string`, `array`, `object`.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Res::Undefined => "undefined",
            Res::Obj(_) => "object",
            Res::Arr(_) => "array",
            Res::Ref(v) => type_name(v),
            Res::Val(v) => type_name(v),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self.as_value() {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Removes `undefined` as Segment's `removeUndefined` does: object keys are dropped, array
    /// slots become `null`. A top-level `undefined` gives `None`.
    pub(crate) fn into_value(self, budget: &mut Budget) -> Result<Option<Value>, MappingError> {
        Ok(self.into_tree(budget)?.map(Tree::into_value))
    }

    /// [`Res::into_value`] (same budget charges, same errors), before the value is built.
    pub(crate) fn into_tree(self, budget: &mut Budget) -> Result<Option<Tree<'a>>, MappingError> {
        self.into_tree_at(budget, 0)
    }

    fn into_tree_at(
        self,
        budget: &mut Budget,
        depth: usize,
    ) -> Result<Option<Tree<'a>>, MappingError> {
        if depth > MAX_PAYLOAD_DEPTH {
            return Err(too_deep());
        }
        Ok(match self {
            Res::Undefined => None,
            Res::Ref(v) => {
                charge_value(v, budget, depth)?;
                Some(Tree::Ref(v))
            }
            Res::Val(v) => Some(Tree::Val(v)),
            Res::Obj(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    if let Some(v) = v.into_tree_at(budget, depth + 1)? {
                        out.push((k, v));
                    }
                }
                Some(Tree::Obj(out))
            }
            Res::Arr(items) => {
                let mut out = Vec::with_capacity(items.len());
                for v in items {
                    let item = v.into_tree_at(budget, depth + 1)?;
                    out.push(item.unwrap_or(Tree::Val(Value::Null)));
                }
                Some(Tree::Arr(out))
            }
        })
    }

    /// Detaches the result from borrowed data of a shorter-lived payload (keeps `undefined`s).
    pub(crate) fn detach<'b>(self, budget: &mut Budget) -> Result<Res<'b>, MappingError> {
        self.detach_at(budget, 0)
    }

    fn detach_at<'b>(self, budget: &mut Budget, depth: usize) -> Result<Res<'b>, MappingError> {
        if depth > MAX_PAYLOAD_DEPTH {
            return Err(too_deep());
        }
        Ok(match self {
            Res::Undefined => Res::Undefined,
            Res::Ref(v) => Res::Val(clone_value(v, budget, depth)?),
            Res::Val(v) => Res::Val(v),
            Res::Obj(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((Cow::Owned(k.into_owned()), v.detach_at(budget, depth + 1)?));
                }
                Res::Obj(out)
            }
            Res::Arr(items) => {
                let mut out = Vec::with_capacity(items.len());
                for v in items {
                    out.push(v.detach_at(budget, depth + 1)?);
                }
                Res::Arr(out)
            }
        })
    }
}

/// `realTypeOf` of a JSON value.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JavaScript truthiness of a mapping option (`None` is a missing key, i.e. `undefined`,
/// which is falsy).
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    v.is_some_and(js::truthy)
}

/// Writes JavaScript's `String(v)` of a JSON value ([`js::write_value_string`]); a value
/// nested deeper than [`MAX_PAYLOAD_DEPTH`] is an error.
pub(crate) fn push_js_string(out: &mut dyn Sink, v: &Value) -> Result<(), MappingError> {
    js::write_value_string(v, MAX_PAYLOAD_DEPTH, &mut |piece| out.put(piece), &too_deep)
}

/// JavaScript's `v == ''` for a value that is neither `null` nor `undefined`: true for `''`,
/// `0`, `false`, and arrays whose `join(',')` is empty (`[]`, `['']`, `[null]`, `[[]]`).
pub(crate) fn loosely_equals_empty_string(v: &Res<'_>) -> bool {
    match v {
        Res::Undefined => true,
        Res::Obj(_) => false,
        Res::Arr(items) => res_array_joins_empty(items),
        Res::Ref(v) => value_loosely_empty(v),
        Res::Val(v) => value_loosely_empty(v),
    }
}

fn value_loosely_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !*b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Object(_) => false,
        Value::Array(items) => array_joins_empty(items),
    }
}

/// Whether `items.join(',')` is `''` (walked in a loop, never recursively).
fn array_joins_empty(items: &[Value]) -> bool {
    let mut cur = items;
    loop {
        match cur {
            [] => return true,
            [Value::Null] => return true,
            [Value::String(s)] => return s.is_empty(),
            [Value::Array(inner)] => cur = inner,
            _ => return false,
        }
    }
}

fn res_array_joins_empty(items: &[Res<'_>]) -> bool {
    match items {
        [] => true,
        [Res::Undefined] => true,
        [Res::Arr(inner)] => res_array_joins_empty(inner),
        [only] => match only.as_value() {
            Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(inner)) => array_joins_empty(inner),
            _ => false,
        },
        _ => false,
    }
}

/// Appends a JSON string literal escaped as `JSON.stringify` does.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    #[expect(
        clippy::let_underscore_must_use,
        reason = "the only error is the callback's, and pushing to a String never fails"
    )]
    let _ = write_json_string(s, &mut |piece| {
        out.push_str(piece);
        Ok(())
    });
}

/// Writes a JSON string literal escaped as `JSON.stringify` does, as a few pieces (unescaped
/// runs and escapes) handed to `put`.
fn write_json_string(
    s: &str,
    put: &mut impl FnMut(&str) -> Result<(), MappingError>,
) -> Result<(), MappingError> {
    put("\"")?;
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let escaped: Cow<'static, str> = match c {
            '"' => "\\\"".into(),
            '\\' => "\\\\".into(),
            '\u{8}' => "\\b".into(),
            '\u{c}' => "\\f".into(),
            '\n' => "\\n".into(),
            '\r' => "\\r".into(),
            '\t' => "\\t".into(),
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).into(),
            _ => continue,
        };
        put(s.get(run..i).unwrap_or_default())?;
        put(&escaped)?;
        run = i + c.len_utf8();
    }
    put(s.get(run..).unwrap_or_default())?;
    put("\"")
}

/// `JSON.stringify(v)`, sized and charged to the budget before it is built; `None` when `v`
/// is `undefined`.
pub(crate) fn json_stringify(
    v: &Res<'_>,
    budget: &mut Budget,
) -> Result<Option<String>, MappingError> {
    if v.is_undefined() {
        return Ok(None);
    }
    budget.build(|out| stringify_res(out, v, 0)).map(Some)
}

fn stringify_res(out: &mut dyn Sink, v: &Res<'_>, depth: usize) -> Result<(), MappingError> {
    if depth > MAX_PAYLOAD_DEPTH {
        return Err(too_deep());
    }
    match v {
        Res::Undefined => out.put("null")?,
        Res::Ref(v) => stringify_value(out, v, depth)?,
        Res::Val(v) => stringify_value(out, v, depth)?,
        Res::Obj(entries) => {
            let members = (entries.iter())
                .filter(|(_, v)| !v.is_undefined())
                .map(|(k, v)| (k.as_ref(), v));
            write_members(out, members, |out, v| stringify_res(out, v, depth + 1))?;
        }
        Res::Arr(items) => {
            out.put("[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(",")?;
                }
                stringify_res(out, item, depth + 1)?;
            }
            out.put("]")?;
        }
    }
    Ok(())
}

fn stringify_value(out: &mut dyn Sink, v: &Value, depth: usize) -> Result<(), MappingError> {
    if depth > MAX_PAYLOAD_DEPTH {
        return Err(too_deep());
    }
    match v {
        Value::Null => out.put("null")?,
        Value::Bool(b) => out.put(if *b { "true" } else { "false" })?,
        Value::Number(n) => out.put(&js::json_number_to_string(n))?,
        Value::String(s) => write_json_string(s, &mut |p| out.put(p))?,
        Value::Array(items) => {
            out.put("[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(",")?;
                }
                stringify_value(out, item, depth + 1)?;
            }
            out.put("]")?;
        }
        Value::Object(m) => {
            let members = m.iter().map(|(k, v)| (k.as_str(), v));
            write_members(out, members, |out, v| stringify_value(out, v, depth + 1))?;
        }
    }
    Ok(())
}

/// An object's members as `JSON.stringify` writes them, in JavaScript's order of keys: the
/// keys that are array indexes (`"0"`, `"12"`; not `"01"`) first, in ascending order, then the
/// others in the order they were added (`{"b":1,"2":0}` is written `{"2":0,"b":1}`).
fn write_members<'k, T: Copy>(
    out: &mut dyn Sink,
    members: impl Iterator<Item = (&'k str, T)> + Clone,
    write: impl Fn(&mut dyn Sink, T) -> Result<(), MappingError>,
) -> Result<(), MappingError> {
    out.put("{")?;
    let mut first = true;
    let mut write_member = |key: &str, value: T| {
        if !std::mem::take(&mut first) {
            out.put(",")?;
        }
        write_json_string(key, &mut |p| out.put(p))?;
        out.put(":")?;
        write(&mut *out, value)
    };
    if members
        .clone()
        .any(|(key, _)| js::array_index(key).is_some())
    {
        let members: Vec<(&str, T)> = members.collect();
        for position in js_key_order(members.iter().map(|(key, _)| *key)) {
            if let Some(&(key, value)) = members.get(position) {
                write_member(key, value)?;
            }
        }
    } else {
        for (key, value) in members {
            write_member(key, value)?;
        }
    }
    out.put("}")
}

/// The positions of `keys` in JavaScript's order (see [`write_members`]). The sort is of
/// `u64`s (an index and a position packed in each), so it is compiled once, whatever the
/// members' type.
fn js_key_order<'k>(keys: impl Iterator<Item = &'k str>) -> impl Iterator<Item = usize> {
    let mut indexes = Vec::new();
    let mut others = Vec::new();
    for (position, key) in keys.enumerate() {
        match js::array_index(key) {
            Some(index) => indexes.push(u64::from(index) << 32 | position as u64),
            None => others.push(position),
        }
    }
    // Keys are unique, so no two packed values are equal: an unstable sort is exact.
    indexes.sort_unstable();
    (indexes.into_iter())
        .map(|packed| (packed & 0xffff_ffff) as usize)
        .chain(others)
}

/// An object's `entries` (unique keys) in JavaScript's order, the order of `Object.entries`:
/// array indexes first, ascending, then the other keys as they are. Allocates only when there
/// is an array index among the keys.
pub(crate) fn in_js_order<K: AsRef<str>, T>(entries: Vec<(K, T)>) -> Vec<(K, T)> {
    if !(entries.iter()).any(|(key, _)| js::array_index(key.as_ref()).is_some()) {
        return entries;
    }
    let order: Vec<usize> = js_key_order(entries.iter().map(|(key, _)| key.as_ref())).collect();
    let mut slots: Vec<Option<(K, T)>> = entries.into_iter().map(Some).collect();
    (order.into_iter())
        .filter_map(|position| slots.get_mut(position).and_then(Option::take))
        .collect()
}

/// Builds an object with unique keys where a later key overwrites the value of an earlier one
/// but keeps its position, as JavaScript property assignment does.
pub(crate) struct ObjectBuilder<'a> {
    entries: Vec<(Cow<'a, str>, Res<'a>)>,
    index: Option<std::collections::HashMap<String, usize>>,
}

impl<'a> ObjectBuilder<'a> {
    const INDEX_FROM: usize = 16;

    pub(crate) fn new() -> Self {
        ObjectBuilder {
            entries: Vec::new(),
            index: None,
        }
    }

    pub(crate) fn set(&mut self, key: Cow<'a, str>, value: Res<'a>) {
        if let Some(index) = &mut self.index {
            if let Some(&i) = index.get(key.as_ref()) {
                if let Some(slot) = self.entries.get_mut(i) {
                    slot.1 = value;
                }
                return;
            }
            index.insert(key.to_string(), self.entries.len());
            self.entries.push((key, value));
            return;
        }
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        self.entries.push((key, value));
        if self.entries.len() >= Self::INDEX_FROM {
            let index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.to_string(), i))
                .collect();
            self.index = Some(index);
        }
    }

    pub(crate) fn finish(self) -> Res<'a> {
        Res::Obj(self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Array indexes first, ascending (as numbers: 2 before 10), then the rest as they came.
    #[test]
    fn keys_take_javascripts_order() {
        let keys = ["b", "2", "10", "01", "a", "0", "4294967295", "4294967294"];
        let order: Vec<usize> = js_key_order(keys.into_iter()).collect();
        assert_eq!(order, [5, 1, 2, 7, 0, 3, 4, 6]);
        let plain: Vec<usize> = js_key_order(["z", "y"].into_iter()).collect();
        assert_eq!(plain, [0, 1]);
        let object = serde_json::json!({"b": 1, "10": {"z": 1, "0": 2}, "2": [{"1": 1, "c": 2}]});
        let text = json_stringify(&Res::Ref(&object), &mut Budget::new()).unwrap();
        assert_eq!(
            text.as_deref(),
            Some(r#"{"2":[{"1":1,"c":2}],"10":{"0":2,"z":1},"b":1}"#)
        );
    }

    /// The lengths charged for `@case` and Liquid's case filters are the lengths of the
    /// strings built, ASCII (counted without a walk) or not.
    #[test]
    fn case_lengths_are_the_built_lengths() {
        for s in [
            "",
            "Order Completed",
            "ABC-12_x",
            "straße",
            "İstanbul",
            "ΟΔΟΣ",
            "ǅ",
            "ﬁ",
            "a\u{0}é",
        ] {
            assert_eq!(lower_len(s), s.to_lowercase().len(), "{s:?}");
            assert_eq!(upper_len(s), s.to_uppercase().len(), "{s:?}");
        }
    }

    #[test]
    fn loose_blank() {
        let blank = |v: Value| loosely_equals_empty_string(&Res::Val(v));
        assert!(blank(serde_json::json!(0)));
        assert!(blank(serde_json::json!(false)));
        assert!(blank(serde_json::json!([])));
        assert!(blank(serde_json::json!([""])));
        assert!(blank(serde_json::json!([[null]])));
        assert!(!blank(serde_json::json!("0")));
        assert!(!blank(serde_json::json!(" ")));
        assert!(!blank(serde_json::json!({})));
        assert!(!blank(serde_json::json!([0])));
        assert!(!blank(serde_json::json!([false])));
    }
}
