//! `@liquid`: a focused implementation of the Liquid subset Segment allows (liquidjs 10.27
//! semantics), without a template-engine dependency.
//!
//! Supported: output `{{ expr | filter: args }}`, whitespace control (`{{-`, `-%}`), the tags
//! `if`/`elsif`/`else`, `unless`, `assign`, `capture`, `echo`, `comment`, `raw` and `{% # %}`,
//! the operators `== != <> < > <= >= contains and or not` (liquidjs precedence, `and`/`or`
//! evaluated right to left), the literals `nil null true false empty blank`, and the common
//! string, math and array filters (see [`apply_filter`]). Segment's disabled tags and filters
//! give Segment's errors (`tag "for" is disabled`). Any other liquidjs tag or filter this
//! engine does not implement is an error, never a silently different answer. Filters unknown
//! to liquidjs pass their input through, as liquidjs does without `strictFilters`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::value::{clone_value, Budget};
use super::MappingError;
use crate::js;

mod filters;
mod parse;

use filters::apply_filter;

/// Tags Segment disables (`tag "for" is disabled`).
const DISABLED_TAGS: [&str; 6] = ["case", "for", "include", "layout", "render", "tablerow"];
/// liquidjs tags that exist but are not implemented here: an error rather than a different
/// answer.
const UNSUPPORTED_TAGS: [&str; 8] = [
    "cycle",
    "increment",
    "decrement",
    "liquid",
    "break",
    "continue",
    "ifchanged",
    "block",
];
/// Deepest nesting of blocks and expressions accepted.
const MAX_NESTING: usize = 64;

/// A parsed Liquid template.
#[derive(Debug)]
pub(crate) struct LiquidTemplate {
    nodes: Vec<LNode>,
}

#[derive(Debug)]
enum LNode {
    Text(String),
    Output(Output),
    If {
        branches: Vec<(Cond, Vec<LNode>)>,
        otherwise: Option<Vec<LNode>>,
    },
    Assign(String, Output),
    Capture(String, Vec<LNode>),
}

#[derive(Debug)]
struct Output {
    expr: Expr,
    filters: Vec<Filter>,
    at: String,
}

#[derive(Debug)]
struct Filter {
    name: String,
    args: Vec<Expr>,
}

#[derive(Debug)]
enum Expr {
    Literal(Value),
    Nil,
    Empty,
    Blank,
    Var(Vec<PathStep>),
    Range(Box<Expr>, Box<Expr>),
}

/// One step of a variable's path: `name` or `.name`, or `[expr]`.
#[derive(Debug)]
enum PathStep {
    Key(String),
    Index(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

#[derive(Debug)]
enum Cond {
    Value(Expr),
    Cmp(CmpOp, Expr, Expr),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

impl LiquidTemplate {
    /// Parses a template; the error is the message Segment's engine would throw.
    pub(crate) fn parse(source: &str) -> Result<LiquidTemplate, String> {
        Ok(LiquidTemplate {
            nodes: parse::parse_nodes(source)?,
        })
    }

    /// Renders the template against the payload. Everything it produces (output, filter
    /// results, assigned and captured variables) is charged to the budget before or while it
    /// is built.
    pub(crate) fn render(
        &self,
        payload: Option<&Value>,
        budget: &mut Budget,
    ) -> Result<String, MappingError> {
        let mut scope = Scope {
            payload,
            locals: HashMap::new(),
        };
        let mut out = String::new();
        render_nodes(&self.nodes, &mut scope, &mut out, budget)?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// What a template reads

impl LiquidTemplate {
    /// The payload paths the template can read, each from a top-level key, each value read
    /// whole: every variable's keys up to its first computed index (`a[b]`), or up to a `size`
    /// past the first key (an object's `size`, when it has no such member, counts all of
    /// them). A variable named like a local is read as a payload path too (reading more is
    /// safe). `None` when a variable's first key is computed: it may read any field.
    pub(crate) fn paths_read(&self) -> Option<Vec<Vec<&str>>> {
        let mut paths = Vec::new();
        nodes_read(&self.nodes, &mut paths).then_some(paths)
    }
}

/// Adds the paths `nodes` read; `false` when they may read anything.
fn nodes_read<'t>(nodes: &'t [LNode], paths: &mut Vec<Vec<&'t str>>) -> bool {
    nodes.iter().all(|node| match node {
        LNode::Text(_) => true,
        LNode::Output(output) | LNode::Assign(_, output) => output_read(output, paths),
        LNode::If {
            branches,
            otherwise,
        } => {
            branches
                .iter()
                .all(|(cond, body)| cond_read(cond, paths) && nodes_read(body, paths))
                && otherwise
                    .as_deref()
                    .is_none_or(|body| nodes_read(body, paths))
        }
        LNode::Capture(_, body) => nodes_read(body, paths),
    })
}

fn output_read<'t>(output: &'t Output, paths: &mut Vec<Vec<&'t str>>) -> bool {
    expr_read(&output.expr, paths)
        && (output.filters.iter()).all(|filter| filter.args.iter().all(|arg| expr_read(arg, paths)))
}

fn cond_read<'t>(cond: &'t Cond, paths: &mut Vec<Vec<&'t str>>) -> bool {
    match cond {
        Cond::Value(expr) => expr_read(expr, paths),
        Cond::Cmp(_, left, right) => expr_read(left, paths) && expr_read(right, paths),
        Cond::Not(inner) => cond_read(inner, paths),
        Cond::And(left, right) | Cond::Or(left, right) => {
            cond_read(left, paths) && cond_read(right, paths)
        }
    }
}

fn expr_read<'t>(expr: &'t Expr, paths: &mut Vec<Vec<&'t str>>) -> bool {
    match expr {
        Expr::Var(steps) => {
            let mut path = Vec::new();
            let mut computed = false;
            for (at, step) in steps.iter().enumerate() {
                match step {
                    PathStep::Key(key) if !computed && (at == 0 || key != "size") => {
                        path.push(key.as_str());
                    }
                    PathStep::Key(_) => computed = true,
                    PathStep::Index(index) => {
                        computed = true;
                        if !expr_read(index, paths) {
                            return false;
                        }
                    }
                }
            }
            if path.is_empty() {
                return steps.is_empty();
            }
            paths.push(path);
            true
        }
        Expr::Range(from, to) => expr_read(from, paths) && expr_read(to, paths),
        Expr::Literal(_) | Expr::Nil | Expr::Empty | Expr::Blank => true,
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

struct Scope<'a> {
    payload: Option<&'a Value>,
    /// Assigned and captured variables, as liquidjs keeps them: `undefined` (a missing value)
    /// and the objects `nil`, `empty` and `blank` stand for included.
    locals: HashMap<String, LV<'static>>,
}

/// A Liquid value during evaluation.
#[derive(Debug, Clone)]
enum LV<'a> {
    Undef,
    Nil,
    Empty,
    Blank,
    Num(f64),
    V(Cow<'a, Value>),
}

/// `''`, the value liquidjs' `empty` and `blank` stand for ([`LV::to_value`]).
static EMPTY_TEXT: Value = Value::String(String::new());

impl LV<'_> {
    fn value(&self) -> Option<&Value> {
        match self {
            LV::V(v) => Some(v),
            _ => None,
        }
    }

    /// liquidjs' `toValue`: a value as it is, `empty` and `blank` as `''` (`nil` is `null`,
    /// which [`LV::is_nil`] tells).
    fn to_value(&self) -> Option<&Value> {
        match self {
            LV::Empty | LV::Blank => Some(&EMPTY_TEXT),
            other => other.value(),
        }
    }

    fn is_nil(&self) -> bool {
        matches!(
            self,
            LV::Undef | LV::Nil | LV::V(Cow::Borrowed(Value::Null))
        ) || matches!(self, LV::V(Cow::Owned(Value::Null)))
    }

    /// Liquid's truthiness (liquidjs `isTruthy`), not JavaScript's: only `nil` (and
    /// `undefined`) and `false` are falsy; `0` and `''` are truthy.
    fn truthy(&self) -> bool {
        !(self.is_nil() || matches!(self.value(), Some(Value::Bool(false))))
    }
}

fn liquid_error(message: String) -> MappingError {
    MappingError::Liquid(message)
}

/// Renders nodes; recursion follows the parsed blocks, whose nesting is bounded.
fn render_nodes(
    nodes: &[LNode],
    scope: &mut Scope<'_>,
    out: &mut String,
    budget: &mut Budget,
) -> Result<(), MappingError> {
    for node in nodes {
        budget.nodes(1)?;
        match node {
            LNode::Text(t) => budget.push_str(out, t)?,
            LNode::Output(o) => {
                let v = eval_output(o, scope, budget)?;
                stringify(&v, out, budget)?;
            }
            LNode::If {
                branches,
                otherwise,
            } => {
                let mut taken = false;
                for (cond, body) in branches {
                    if eval_cond(cond, scope, 0, budget)? {
                        render_nodes(body, scope, out, budget)?;
                        taken = true;
                        break;
                    }
                }
                if let (false, Some(body)) = (taken, otherwise) {
                    render_nodes(body, scope, out, budget)?;
                }
            }
            LNode::Assign(name, o) => {
                let v = eval_output(o, scope, budget)?;
                let v = to_local(v, budget)?;
                scope.locals.insert(name.clone(), v);
            }
            LNode::Capture(name, body) => {
                let mut captured = String::new();
                render_nodes(body, scope, &mut captured, budget)?;
                scope
                    .locals
                    .insert(name.clone(), LV::V(Cow::Owned(Value::String(captured))));
            }
        }
    }
    Ok(())
}

/// The value a variable keeps. liquidjs keeps `undefined` (`json` then writes nothing) and the
/// objects of `nil`, `empty` and `blank` as they are. A value borrowed from the payload or
/// another variable is copied, so the copy is charged; owned values were charged when a filter
/// produced them.
fn to_local(v: LV<'_>, budget: &mut Budget) -> Result<LV<'static>, MappingError> {
    Ok(match v {
        LV::Undef => LV::Undef,
        LV::Nil => LV::Nil,
        LV::Empty => LV::Empty,
        LV::Blank => LV::Blank,
        LV::Num(n) => LV::V(Cow::Owned(js::number_to_json(n))),
        LV::V(Cow::Borrowed(v)) => LV::V(Cow::Owned(clone_value(v, budget, 0)?)),
        LV::V(Cow::Owned(v)) => LV::V(Cow::Owned(v)),
    })
}

/// liquidjs `stringify`: nil is `''`, arrays are joined without separator. Charged to the
/// budget as it is written.
fn stringify(v: &LV<'_>, out: &mut String, budget: &mut Budget) -> Result<(), MappingError> {
    match v {
        LV::Undef | LV::Nil | LV::Empty | LV::Blank => Ok(()),
        LV::Num(n) => budget.push_str(out, &js::number_to_string(*n)),
        LV::V(v) => stringify_value(v, out, 0, budget),
    }
}

fn stringify_value(
    v: &Value,
    out: &mut String,
    depth: usize,
    budget: &mut Budget,
) -> Result<(), MappingError> {
    if depth > super::MAX_PAYLOAD_DEPTH {
        return Err(super::value::too_deep());
    }
    match v {
        Value::Null => Ok(()),
        Value::Bool(b) => budget.push_str(out, if *b { "true" } else { "false" }),
        Value::Number(n) => budget.push_str(out, &js::json_number_to_string(n)),
        Value::String(s) => budget.push_str(out, s),
        Value::Object(_) => budget.push_str(out, "[object Object]"),
        Value::Array(items) => {
            for item in items {
                stringify_value(item, out, depth + 1, budget)?;
            }
            Ok(())
        }
    }
}

/// `stringify` of a value as a new string, charged to the budget.
fn try_str(v: &LV<'_>, budget: &mut Budget) -> Result<String, MappingError> {
    let mut s = String::new();
    stringify(v, &mut s, budget)?;
    Ok(s)
}

/// `stringify` of a value, borrowed when it is a string already (otherwise a new string,
/// charged to the budget).
fn text<'v>(v: &'v LV<'_>, budget: &mut Budget) -> Result<Cow<'v, str>, MappingError> {
    match v.value() {
        Some(Value::String(s)) => Ok(Cow::Borrowed(s)),
        _ => try_str(v, budget).map(Cow::Owned),
    }
}

/// `stringify` for keys and comparisons, where only scalars matter (an over-deep array
/// stringifies as `''`); a conversion gets a budget of its own, so it is bounded too.
fn to_str<'v>(v: &'v LV<'_>) -> Cow<'v, str> {
    text(v, &mut Budget::new()).unwrap_or_default()
}

/// A variable: a local (borrowed from the scope) or a top-level key of the payload.
fn lookup<'s>(scope: &'s Scope<'_>, name: &str) -> LV<'s> {
    if let Some(local) = scope.locals.get(name) {
        return match local {
            LV::V(v) => LV::V(Cow::Borrowed(v.as_ref())),
            other => other.clone(),
        };
    }
    match scope.payload {
        Some(Value::Object(m)) => {
            crate::json::get(m, name).map_or(LV::Undef, |v| LV::V(Cow::Borrowed(v)))
        }
        _ => LV::Undef,
    }
}

/// What a property read selects: a member, a computed size, or a character of a string.
enum Picked<'v> {
    Member(&'v Value),
    Size(usize),
    Text(String),
}

/// `base[key]` for a JSON value, as liquidjs reads it: an object's member, with Liquid's
/// `size`; an array's element by a whole number (a negative one counts from the end) or by a
/// string that is an array index in JavaScript's sense (`'1'`, not `'01'` or `'-1'`), with
/// `size`, `first`, `last` and `length`; a string's `size` and `length` (UTF-16 code units)
/// and its character at an array index (`name[0]`).
fn pick<'v>(v: &'v Value, key: &LV<'_>, key_str: &str) -> Option<Picked<'v>> {
    match v {
        Value::Object(m) => match m.get(key_str) {
            Some(found) => Some(Picked::Member(found)),
            None if key_str == "size" => Some(Picked::Size(m.len())),
            None => None,
        },
        Value::Array(items) => {
            // A whole number, `1.0` included (the number 1 in JavaScript).
            let whole = |x: f64| (x.fract() == 0.0).then_some(x as i64);
            let idx = match key {
                LV::Num(n) => whole(*n),
                LV::V(kv) => match kv.as_ref() {
                    Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
                    Value::String(s) => js::array_index(s).map(i64::from),
                    _ => None,
                },
                _ => None,
            };
            match (key_str, idx) {
                (_, Some(i)) => {
                    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                    let i = if i < 0 { len.saturating_add(i) } else { i };
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| items.get(i))
                        .map(Picked::Member)
                }
                ("size" | "length", None) => Some(Picked::Size(items.len())),
                ("first", None) => items.first().map(Picked::Member),
                ("last", None) => items.last().map(Picked::Member),
                _ => None,
            }
        }
        Value::String(s) => match key_str {
            "size" | "length" => Some(Picked::Size(js::utf16_len(s))),
            _ => js::array_index(key_str)
                .and_then(|index| utf16_unit(s, index))
                .map(Picked::Text),
        },
        _ => None,
    }
}

/// The UTF-16 code unit at `index` of `s` as text, as JavaScript's `s[index]` gives it (see
/// [`js::utf16_units`]).
fn utf16_unit(s: &str, index: u32) -> Option<String> {
    js::utf16_units(s)
        .nth(usize::try_from(index).ok()?)
        .map(String::from)
}

/// `base[key]`, borrowed from `base` when `base` is borrowed.
fn read_property<'a>(base: LV<'a>, key: &LV<'_>) -> LV<'a> {
    let key_str = match key {
        LV::Num(n) => Cow::Owned(js::number_to_string(*n).to_string()),
        other => to_str(other),
    };
    let size = |n: usize| LV::V(Cow::Owned(Value::from(n)));
    match base {
        LV::V(Cow::Borrowed(v)) => match pick(v, key, &key_str) {
            Some(Picked::Member(m)) => LV::V(Cow::Borrowed(m)),
            Some(Picked::Size(n)) => size(n),
            Some(Picked::Text(t)) => LV::V(Cow::Owned(Value::String(t))),
            None => LV::Undef,
        },
        LV::V(Cow::Owned(v)) => match pick(&v, key, &key_str) {
            Some(Picked::Member(m)) => LV::V(Cow::Owned(m.clone())),
            Some(Picked::Size(n)) => size(n),
            Some(Picked::Text(t)) => LV::V(Cow::Owned(Value::String(t))),
            None => LV::Undef,
        },
        _ => LV::Undef,
    }
}

fn eval_expr<'s>(
    e: &Expr,
    scope: &'s Scope<'_>,
    depth: usize,
    budget: &mut Budget,
) -> Result<LV<'s>, MappingError> {
    if depth > MAX_NESTING {
        return Err(liquid_error("expression nested too deeply".to_string()));
    }
    Ok(match e {
        Expr::Literal(v) => LV::V(Cow::Owned(v.clone())),
        Expr::Nil => LV::Nil,
        Expr::Empty => LV::Empty,
        Expr::Blank => LV::Blank,
        Expr::Range(from, to) => {
            let from = js_number(&eval_expr(from, scope, depth + 1, budget)?) as i64;
            let to = js_number(&eval_expr(to, scope, depth + 1, budget)?) as i64;
            if to.saturating_sub(from) > 10_000 {
                return Err(liquid_error("range too large".to_string()));
            }
            budget.nodes(usize::try_from(to.saturating_sub(from)).unwrap_or(0))?;
            LV::V(Cow::Owned(Value::Array(
                (from..=to).map(Value::from).collect(),
            )))
        }
        Expr::Var(steps) => {
            let mut cur = LV::Undef;
            for (i, step) in steps.iter().enumerate() {
                let key = match step {
                    PathStep::Key(k) => LV::V(Cow::Owned(Value::String(k.clone()))),
                    PathStep::Index(e) => eval_expr(e, scope, depth + 1, budget)?,
                };
                cur = if i == 0 {
                    lookup(scope, &to_str(&key))
                } else {
                    read_property(cur, &key)
                };
                if matches!(cur, LV::Undef) {
                    break;
                }
            }
            cur
        }
    })
}

fn eval_output<'s>(
    o: &Output,
    scope: &'s Scope<'_>,
    budget: &mut Budget,
) -> Result<LV<'s>, MappingError> {
    let mut v = eval_expr(&o.expr, scope, 0, budget)?;
    for f in &o.filters {
        let mut args = Vec::with_capacity(f.args.len());
        for a in &f.args {
            args.push(eval_expr(a, scope, 0, budget)?);
        }
        v = apply_filter(&f.name, v, &args, budget).map_err(|e| match e {
            MappingError::Liquid(message) => liquid_error(format!("{message}, {}", o.at)),
            other => other,
        })?;
    }
    Ok(v)
}

fn eval_cond(
    c: &Cond,
    scope: &Scope<'_>,
    depth: usize,
    budget: &mut Budget,
) -> Result<bool, MappingError> {
    if depth > MAX_NESTING {
        return Err(liquid_error("condition nested too deeply".to_string()));
    }
    Ok(match c {
        Cond::Value(e) => eval_expr(e, scope, 0, budget)?.truthy(),
        Cond::Not(inner) => !eval_cond(inner, scope, depth + 1, budget)?,
        Cond::And(a, b) => {
            eval_cond(a, scope, depth + 1, budget)? && eval_cond(b, scope, depth + 1, budget)?
        }
        Cond::Or(a, b) => {
            eval_cond(a, scope, depth + 1, budget)? || eval_cond(b, scope, depth + 1, budget)?
        }
        Cond::Cmp(op, a, b) => {
            let l = eval_expr(a, scope, 0, budget)?;
            let r = eval_expr(b, scope, 0, budget)?;
            compare(*op, &l, &r)
        }
    })
}

/// Whether `v` is one of liquidjs' drops, the objects `nil`, `empty` and `blank` stand for.
fn is_drop(v: &LV<'_>) -> bool {
    matches!(v, LV::Nil | LV::Empty | LV::Blank)
}

fn is_empty_value(v: &LV<'_>) -> bool {
    match v.value() {
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

fn is_blank_value(v: &LV<'_>) -> bool {
    if !v.truthy() {
        return true;
    }
    match v.value() {
        // liquidjs tests `/^\s*$/`: JavaScript white space.
        Some(Value::String(s)) => s.chars().all(js::is_whitespace),
        _ => is_empty_value(v),
    }
}

/// liquidjs `equals`: a drop (`nil`, `empty`, `blank`) on the left compares with its own
/// `equals`, else one on the right does, so `blank == nil` is true and `nil == blank` false.
fn equals(l: &LV<'_>, r: &LV<'_>) -> bool {
    let (drop, other) = match (is_drop(l), is_drop(r)) {
        (true, _) => (l, r),
        (false, true) => (r, l),
        (false, false) => return plain_equals(l, r),
    };
    match drop {
        // `NullDrop.equals`: `isNil(toValue(other))` (`empty` and `blank` are `''`).
        LV::Nil => other.is_nil(),
        // `EmptyDrop.equals` is false for any `EmptyDrop` (a `BlankDrop` is one too), as
        // `is_empty_value` is for a drop.
        LV::Empty => is_empty_value(other),
        // `BlankDrop.equals`: `nil` reads as `null` (blank), `empty` is an `EmptyDrop` (not).
        _ => is_blank_value(other),
    }
}

/// [`equals`] of two values that are not drops.
fn plain_equals(l: &LV<'_>, r: &LV<'_>) -> bool {
    match (l, r) {
        (LV::Undef, LV::Undef) => true,
        (LV::Num(a), LV::Num(b)) => a == b,
        (LV::Num(a), LV::V(v)) | (LV::V(v), LV::Num(a)) => v.as_f64() == Some(*a),
        (LV::V(a), LV::V(b)) => value_equals(a, b, 0),
        // `undefined` equals only itself; drops compare in `equals`.
        _ => false,
    }
}

fn value_equals(a: &Value, b: &Value, depth: usize) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            depth < super::MAX_PAYLOAD_DEPTH
                && x.len() == y.len()
                && x.iter().zip(y).all(|(a, b)| value_equals(a, b, depth + 1))
        }
        // Objects compare by identity in JavaScript.
        (Value::Object(_), Value::Object(_)) => std::ptr::eq(a, b),
        _ => a == b,
    }
}

enum Prim<'v> {
    Str(Cow<'v, str>),
    Num(f64),
}

/// JavaScript `ToPrimitive` for relational comparison.
fn to_prim<'v>(v: &'v LV<'_>) -> Prim<'v> {
    match v {
        LV::Undef => Prim::Num(f64::NAN),
        LV::Nil => Prim::Num(0.0),
        LV::Empty | LV::Blank => Prim::Str(Cow::Borrowed("")),
        LV::Num(n) => Prim::Num(*n),
        LV::V(v) => match v.as_ref() {
            Value::Null => Prim::Num(0.0),
            Value::Bool(b) => Prim::Num(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => Prim::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Prim::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Prim::Str(Cow::Owned(js_string(v))),
        },
    }
}

fn compare(op: CmpOp, l: &LV<'_>, r: &LV<'_>) -> bool {
    match op {
        CmpOp::Eq => return equals(l, r),
        CmpOp::Ne => return !equals(l, r),
        CmpOp::Contains => {
            // `toValue(l)`: `empty` and `blank` are `''`.
            return match l.to_value() {
                Some(Value::Array(items)) => {
                    items.iter().any(|i| equals(&LV::V(Cow::Borrowed(i)), r))
                }
                Some(Value::String(s)) => {
                    // `indexOf` converts its argument with `String(...)`.
                    let needle: Option<Cow<'_, str>> = match r {
                        LV::Undef => Some("undefined".into()),
                        LV::Nil => Some("null".into()),
                        LV::Empty | LV::Blank => Some("".into()),
                        LV::Num(n) => Some(js::number_to_string(*n).to_string().into()),
                        LV::V(v) => match v.as_ref() {
                            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                            other => Budget::new()
                                .build(|out| super::value::push_js_string(out, other))
                                .ok()
                                .map(Cow::Owned),
                        },
                    };
                    // An over-deep needle cannot occur in a string of this size anyway.
                    needle.is_some_and(|n| s.contains(n.as_ref()))
                }
                _ => false,
            };
        }
        _ => {}
    }
    // Drops (nil, empty, blank) are never ordered.
    if matches!(l, LV::Nil | LV::Empty | LV::Blank) || matches!(r, LV::Nil | LV::Empty | LV::Blank)
    {
        return false;
    }
    let ordering = match (to_prim(l), to_prim(r)) {
        (Prim::Str(a), Prim::Str(b)) => a.encode_utf16().cmp(b.encode_utf16()),
        (a, b) => {
            let a = match a {
                Prim::Num(n) => n,
                Prim::Str(s) => js::string_to_number(&s),
            };
            let b = match b {
                Prim::Num(n) => n,
                Prim::Str(s) => js::string_to_number(&s),
            };
            match a.partial_cmp(&b) {
                Some(o) => o,
                None => return false,
            }
        }
    };
    match op {
        CmpOp::Lt => ordering.is_lt(),
        CmpOp::Gt => ordering.is_gt(),
        CmpOp::Le => ordering.is_le(),
        CmpOp::Ge => ordering.is_ge(),
        _ => false,
    }
}

/// JavaScript `String(v)` of an array or object for a comparison or a conversion: bounded by
/// a budget of its own, `''` when that is exceeded or the value is nested too deeply.
fn js_string(v: &Value) -> String {
    Budget::new()
        .build(|out| super::value::push_js_string(out, v))
        .unwrap_or_default()
}

/// JavaScript `Number(v)` (what `+v` gives in liquidjs' ranges and in the arguments of
/// `slice` and `truncate`).
fn js_number(v: &LV<'_>) -> f64 {
    match v {
        LV::Num(n) => *n,
        LV::Undef => f64::NAN,
        LV::Nil | LV::Empty | LV::Blank => 0.0,
        LV::V(v) => js::value_to_number(v),
    }
}

/// liquidjs' own `toNumber`, which the math filters apply to their input and arguments:
/// `Number(v) || 0`, so what is not a number (`'abc'`, `undefined`, `{}`) counts as `0`.
fn liquid_to_number(v: &LV<'_>) -> f64 {
    let n = js_number(v);
    if js::number_is_truthy(n) {
        n
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(super) fn render(t: &str, data: Value) -> Result<String, String> {
        let tpl = LiquidTemplate::parse(t)?;
        tpl.render(Some(&data), &mut Budget::new())
            .map_err(|e| e.to_string())
    }

    /// `nil`, `empty` and `blank` are objects in liquidjs (drops): kept as they are when
    /// assigned, written by `json` as `{}`, read as `null` and `''` by filters that take values,
    /// and compared by the drop's own `equals`, the left one first. liquidjs 10.27.2 through
    /// `@segment/actions-core` 3.170.0 in Node.
    #[test]
    fn nil_empty_and_blank_are_liquidjs_drops() {
        let data = json!({"e": " "});
        for (template, want) in [
            ("{% assign a = nil %}{{ a | json }}", "{}"),
            ("{{ x | default: empty | json }}", "{}"),
            ("{% if blank == nil %}T{% else %}F{% endif %}", "T"),
            ("{% if nil == blank %}T{% else %}F{% endif %}", "F"),
            (
                "{% assign a = empty %}{% if a == empty %}T{% else %}F{% endif %}",
                "F",
            ),
            (
                "{% assign a = blank %}{% if a == nil %}T{% else %}F{% endif %}",
                "T",
            ),
            ("{% if blank == e %}T{% else %}F{% endif %}", "T"),
            ("{% if e == blank %}T{% else %}F{% endif %}", "T"),
            ("{{ empty | default: \"d\" }}", "d"),
            ("{{ blank | compact | json }}", "[\"\"]"),
            ("{% if empty contains e %}T{% else %}F{% endif %}", "F"),
            ("{% if empty contains \"\" %}T{% else %}F{% endif %}", "T"),
            ("{% if empty contains nil %}T{% else %}F{% endif %}", "F"),
            ("{% if nil == e %}T{% else %}F{% endif %}", "F"),
            ("{% if empty == e %}T{% else %}F{% endif %}", "F"),
            ("{% if empty == \"\" %}T{% else %}F{% endif %}", "T"),
            ("{% if blank == \"x\" %}T{% else %}F{% endif %}", "F"),
        ] {
            assert_eq!(
                render(template, data.clone()).as_deref(),
                Ok(want),
                "{template}"
            );
        }
    }

    /// `==`, `!=` and the orderings of values, as liquidjs 10.27.2 compares them (in Node):
    /// numbers by value, arrays item by item, objects by identity, `undefined` only with itself.
    #[test]
    fn values_compare_as_liquidjs_compares_them() {
        let data = json!({"n": 1, "f": 1.5, "arr": [1, 2], "arr2": [1, 2], "arr3": [1, 3],
            "arr4": [1, [2]], "arr5": [1, [2]], "obj": {"a": 1}, "obj2": {"a": 1}, "s": "1",
            "arr6": [1.0, 2], "objs": [{"a": 1}], "objs2": [{"a": 1}]});
        for (condition, want) in [
            ("1 == 1", "T"),
            ("1 == 2", "F"),
            ("n == 1", "T"),
            ("n == 2", "F"),
            ("1.5 == f", "T"),
            ("f == n", "F"),
            ("arr == arr2", "T"),
            ("arr == arr3", "F"),
            ("arr4 == arr5", "T"),
            ("obj == obj2", "F"),
            ("obj == obj", "T"),
            ("x == y", "T"),
            ("x == 1", "F"),
            ("n == x", "F"),
            ("s == 1", "F"),
            ("n == \"1\"", "F"),
            ("n == 1.0", "T"),
            ("arr == arr6", "T"),
            ("objs == objs2", "F"),
            ("n != 1", "F"),
            ("n != 2", "T"),
            // Drops are never ordered, on either side.
            ("1 > nil", "F"),
            ("nil < 1", "F"),
            ("1 < 2", "T"),
            ("2 < 1", "F"),
            ("2 <= 2", "T"),
            ("3 <= 2", "F"),
            ("1 >= 2", "F"),
            ("2 >= 2", "T"),
        ] {
            let template = format!("{{% if {condition} %}}T{{% else %}}F{{% endif %}}");
            assert_eq!(
                render(&template, data.clone()).as_deref(),
                Ok(want),
                "{condition}"
            );
        }
    }

    /// JavaScript indexes a string by UTF-16 code units: half of a character outside the Basic
    /// Multilingual Plane is a lone surrogate there, U+FFFD here (what LaunchDarkly keeps of it).
    #[test]
    fn string_indexes_count_utf16_code_units() {
        let data = json!({"p": {"e": "\u{1F600}a\u{1F600}"}});
        let got = render(
            "{{ p.e[0] }}|{{ p.e[1] }}|{{ p.e[2] }}|{{ p.e[3] }}|{{ p.e[5] }}|{{ p.e.length }}|{{ p.e | first }}|{{ p.e | last }}",
            data,
        );
        assert_eq!(
            got.as_deref(),
            Ok("\u{FFFD}|\u{FFFD}|a|\u{FFFD}||5|\u{FFFD}|\u{FFFD}")
        );
        assert_eq!(utf16_unit("", 0), None);
        assert_eq!(utf16_unit("ab", 1).as_deref(), Some("b"));
        assert_eq!(utf16_unit("ab", 2), None);
    }

    #[test]
    fn renders_the_common_subset() {
        let data = json!({"p": {"name": "Ada", "n": 3, "tags": ["a", "b"], "s": "  x  "}});
        assert_eq!(
            render("Hi {{ p.name | upcase }}", data.clone()).as_deref(),
            Ok("Hi ADA")
        );
        assert_eq!(
            render("{{ p.n | plus: 2 }}", data.clone()).as_deref(),
            Ok("5")
        );
        assert_eq!(
            render("{{ p.n | divided_by: 2 }}", data.clone()).as_deref(),
            Ok("1.5")
        );
        assert_eq!(
            render("{{ p.tags | join: ',' }}", data.clone()).as_deref(),
            Ok("a,b")
        );
        assert_eq!(
            render("{{ p.tags.size }}{{ p.tags.first }}", data.clone()).as_deref(),
            Ok("2a")
        );
        assert_eq!(
            render("[{{- p.s -}}]", data.clone()).as_deref(),
            Ok("[  x  ]")
        );
        assert_eq!(
            render("[ {{- p.s | strip -}} ]", data.clone()).as_deref(),
            Ok("[x]")
        );
        assert_eq!(
            render(
                "{% if p.n > 2 and p.name == 'Ada' %}yes{% else %}no{% endif %}",
                data.clone()
            )
            .as_deref(),
            Ok("yes")
        );
        assert_eq!(
            render("{% unless p.missing %}u{% endunless %}", data.clone()).as_deref(),
            Ok("u")
        );
        assert_eq!(
            render("{% if p.missing == nil %}nil{% endif %}", data.clone()).as_deref(),
            Ok("nil")
        );
        assert_eq!(
            render("{% if p.tags contains 'b' %}c{% endif %}", data.clone()).as_deref(),
            Ok("c")
        );
        assert_eq!(
            render(
                "{% assign x = p.name | downcase %}{% capture y %}<{{ x }}>{% endcapture %}{{ y }}",
                data.clone()
            )
            .as_deref(),
            Ok("<ada>")
        );
        assert_eq!(
            render("{{ p.missing | default: 'd' }}", data.clone()).as_deref(),
            Ok("d")
        );
        assert_eq!(
            render("{% raw %}{{ x }}{% endraw %}", data.clone()).as_deref(),
            Ok("{{ x }}")
        );
        assert_eq!(
            render("a{% comment %}{{ x }}{% endcomment %}b", data.clone()).as_deref(),
            Ok("ab")
        );
        assert_eq!(
            render("{% if true or false and false %}t{% endif %}", data.clone()).as_deref(),
            Ok("t")
        );
    }

    #[test]
    fn refuses_what_it_does_not_implement() {
        let data = json!({});
        assert!(render("{% for x in y %}{% endfor %}", data.clone())
            .is_err_and(|e| e.contains("tag \"for\" is disabled")));
        assert!(render("{{ x | map: 'a' }}", data.clone())
            .is_err_and(|e| e.contains("filter \"map\" is disabled")));
        assert!(render("{{ x | date: '%Y' }}", data.clone())
            .is_err_and(|e| e.contains("not supported")));
        assert!(render("{% cycle 'a' %}", data.clone()).is_err());
        assert!(render("{% if x %}", data.clone()).is_err());
        assert!(render("{{ x ", data.clone()).is_err());
        assert!(render("{% bogus %}", data).is_err_and(|e| e.contains("tag \"bogus\" not found")));
    }
}
