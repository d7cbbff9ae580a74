//! Liquid filters: the ones implemented, the ones Segment disables, the ones refused.

use std::borrow::Cow;

use serde_json::Value;

use super::super::value::{
    clone_value, json_stringify, lower_len, push_js_string, upper_len, Budget, Res,
};
use super::super::MappingError;
use super::{js_number, liquid_error, liquid_to_number, text, LV};
use crate::js;

/// Filters Segment disables (`filter "map" is disabled`).
const DISABLED_FILTERS: [&str; 20] = [
    "array_to_sentence_string",
    "concat",
    "find",
    "find_exp",
    "find_index",
    "find_index_exp",
    "group_by",
    "group_by_exp",
    "has",
    "has_exp",
    "map",
    "newline_to_br",
    "reject",
    "reject_exp",
    "reverse",
    "sort",
    "sort_natural",
    "uniq",
    "where_exp",
    "type",
];
/// liquidjs filters that exist but are not implemented here: an error rather than a
/// different answer.
const UNSUPPORTED_FILTERS: [&str; 22] = [
    "date",
    "date_to_xmlschema",
    "date_to_rfc822",
    "date_to_string",
    "date_to_long_string",
    "where",
    "sum",
    "push",
    "pop",
    "shift",
    "unshift",
    "sample",
    "slugify",
    "cgi_escape",
    "uri_escape",
    "xml_escape",
    "normalize_whitespace",
    "number_of_words",
    "inspect",
    "to_integer",
    "base64_encode",
    "base64_decode",
];

/// The `i`-th argument of a filter, `undefined` when it is missing.
fn arg<'x, 'a>(args: &'x [LV<'a>], i: usize) -> &'x LV<'a> {
    const UNDEF: &LV<'static> = &LV::Undef;
    args.get(i).unwrap_or(UNDEF)
}

fn string(s: String) -> LV<'static> {
    LV::V(Cow::Owned(Value::String(s)))
}

/// The `i`-th argument as an integer (`Number(v)`, truncated); `default` when it is missing
/// or not a number.
fn int_arg(args: &[LV<'_>], i: usize, default: i64) -> i64 {
    match arg(args, i) {
        LV::Undef => default,
        v => {
            let n = js_number(v);
            if n.is_nan() {
                default
            } else {
                n as i64
            }
        }
    }
}

/// The range `slice: start, len` selects among `n` items (or UTF-16 code units): a negative
/// `start` counts from the end, and selects nothing when it is still negative (liquidjs's
/// rule); both ends are clamped to `0..=n`, a negative `len` selecting nothing. Saturating, so
/// any `i64` arguments are safe.
fn slice_range(n: usize, start: i64, len: i64) -> (usize, usize) {
    let n_i = i64::try_from(n).unwrap_or(i64::MAX);
    let from = if start < 0 {
        n_i.saturating_add(start)
    } else {
        start
    };
    if from < 0 {
        return (0, 0);
    }
    let to = from.saturating_add(len);
    let clamp = |i: i64| usize::try_from(i).unwrap_or(0).min(n);
    (clamp(from), clamp(to).max(clamp(from)))
}

/// A copy of `s` as a Liquid string, charged to the budget.
fn charged(s: &str, budget: &mut Budget) -> Result<LV<'static>, MappingError> {
    budget.bytes(s.len())?;
    Ok(string(s.to_string()))
}

/// The concatenation of `parts`, charged to the budget before it is allocated.
fn concat(parts: &[&str], budget: &mut Budget) -> Result<LV<'static>, MappingError> {
    let len = parts.iter().fold(0usize, |n, p| n.saturating_add(p.len()));
    budget.bytes(len)?;
    let mut out = String::with_capacity(len);
    for p in parts {
        out.push_str(p);
    }
    Ok(string(out))
}

/// `s` with the first `limit` matches of `from` replaced by `to` (all of them without a
/// limit; an empty `from` matches between characters, as `str::replace` does). The exact
/// length of the result is charged to the budget before it is allocated, so a huge result is
/// refused, never built.
fn replace_n(
    s: &str,
    from: &str,
    to: &str,
    limit: Option<usize>,
    budget: &mut Budget,
) -> Result<String, MappingError> {
    let matches = || s.match_indices(from).take(limit.unwrap_or(usize::MAX));
    // Never below zero: the matches are disjoint parts of `s`.
    let count = matches().count() as u64;
    let len = (s.len() as u64)
        .saturating_add(count.saturating_mul(to.len() as u64))
        .saturating_sub(count.saturating_mul(from.len() as u64));
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    budget.bytes(len)?;
    let mut out = String::with_capacity(len);
    let mut pos = 0;
    for (at, m) in matches() {
        out.push_str(s.get(pos..at).unwrap_or_default());
        out.push_str(to);
        pos = at + m.len();
    }
    out.push_str(s.get(pos..).unwrap_or_default());
    Ok(out)
}

fn replace_last(
    s: &str,
    from: &str,
    to: &str,
    budget: &mut Budget,
) -> Result<LV<'static>, MappingError> {
    match s.rfind(from) {
        Some(at) => {
            let before = s.get(..at).unwrap_or_default();
            let after = s.get(at + from.len()..).unwrap_or_default();
            concat(&[before, to, after], budget)
        }
        None => charged(s, budget),
    }
}

/// `s` with the characters `escape` maps replaced; its exact length is charged to the budget
/// before it is allocated.
fn escaped(
    s: &str,
    escape: impl Fn(char) -> Option<&'static str>,
    budget: &mut Budget,
) -> Result<String, MappingError> {
    let len = s.chars().fold(0usize, |n, c| {
        n.saturating_add(escape(c).map_or(c.len_utf8(), str::len))
    });
    budget.bytes(len)?;
    let mut out = String::with_capacity(len);
    for c in s.chars() {
        match escape(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    Ok(out)
}

fn html_escape(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&#34;"),
        '\'' => Some("&#39;"),
        _ => None,
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

/// Whether `url_encode` keeps a byte as it is.
fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// `encodeURIComponent` with spaces as `+`; its exact length is charged to the budget before
/// it is allocated.
fn url_encode(s: &str, budget: &mut Budget) -> Result<String, MappingError> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let len = s.bytes().fold(0usize, |n, b| {
        n.saturating_add(if url_safe(b) || b == b' ' { 1 } else { 3 })
    });
    budget.bytes(len)?;
    let mut out = String::with_capacity(len);
    for b in s.bytes() {
        if url_safe(b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    Ok(out)
}

fn url_decode(s: &str) -> Result<String, String> {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or("URI malformed")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "URI malformed")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "URI malformed".to_string())
}

fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match (c, in_tag) {
            ('<', _) => in_tag = true,
            ('>', true) => in_tag = false,
            (c, false) => out.push(c),
            _ => {}
        }
    }
    out
}

/// The characters `strip: chars` (and `lstrip`, `rstrip`) removes, sorted; `None` when the
/// argument is falsy in JavaScript (missing, `null`, `false`, `0`, `''`), which trims white
/// space instead. liquidjs tests the input's UTF-16 code units against the set of the
/// argument's code points, so only characters of the Basic Multilingual Plane are ever
/// removed. The `nil`, `empty` and `blank` literals are objects in liquidjs (truthy, and
/// empty as text), so they remove nothing.
fn strip_set(chars: &LV<'_>, budget: &mut Budget) -> Result<Option<Vec<char>>, MappingError> {
    let truthy = match chars {
        LV::Undef => false,
        LV::Nil | LV::Empty | LV::Blank => true,
        LV::Num(n) => js::number_is_truthy(*n),
        LV::V(v) => js::truthy(v),
    };
    if !truthy {
        return Ok(None);
    }
    let mut set: Vec<char> = text(chars, budget)?
        .chars()
        .filter(|c| c.len_utf16() == 1)
        .collect();
    set.sort_unstable();
    set.dedup();
    Ok(Some(set))
}

/// `s` without the characters `remove` matches at its start and/or its end.
fn trim_ends(s: &str, start: bool, end: bool, remove: impl Fn(char) -> bool) -> &str {
    let s = if start {
        s.trim_start_matches(&remove)
    } else {
        s
    };
    if end {
        s.trim_end_matches(&remove)
    } else {
        s
    }
}

/// `s.split(/\s+/)`: the pieces of `s` between runs of JavaScript white space.
fn split_on_white_space(s: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (at, c) in s.char_indices() {
        let space = js::is_whitespace(c);
        if space && !in_space {
            pieces.push(s.get(start..at).unwrap_or_default());
        }
        if !space && in_space {
            start = at;
        }
        in_space = space;
    }
    pieces.push(if in_space {
        ""
    } else {
        s.get(start..).unwrap_or_default()
    });
    pieces
}

/// An element of an array input, borrowed when the input is.
fn element<'a>(input: LV<'a>, pick: impl Fn(&[Value]) -> Option<&Value>) -> LV<'a> {
    match input {
        LV::V(Cow::Borrowed(Value::Array(items))) => {
            pick(items).map_or(LV::Undef, |v| LV::V(Cow::Borrowed(v)))
        }
        LV::V(Cow::Owned(Value::Array(items))) => pick(&items)
            .cloned()
            .map_or(LV::Undef, |v| LV::V(Cow::Owned(v))),
        _ => LV::Undef,
    }
}

/// The member `key` of the object `input`, borrowed where the object is.
fn member<'a>(input: LV<'a>, key: &str) -> LV<'a> {
    match input {
        LV::V(Cow::Borrowed(Value::Object(members))) => members
            .get(key)
            .map_or(LV::Undef, |v| LV::V(Cow::Borrowed(v))),
        LV::V(Cow::Owned(Value::Object(mut members))) => members
            .remove(key)
            .map_or(LV::Undef, |v| LV::V(Cow::Owned(v))),
        _ => LV::Undef,
    }
}

/// The key liquidjs's `first` (`last` when `last`) reads of an object that is "array-like"
/// (`isArrayLike`: its `length` is a number): `"0"`, or `length - 1` as JavaScript prints it.
fn array_like_key(input: &LV<'_>, last: bool) -> Option<String> {
    let Some(Value::Object(members)) = input.value() else {
        return None;
    };
    let length = members.get("length")?.as_f64()?;
    Some(match last {
        false => "0".to_string(),
        true => js::number_to_string(length - 1.0).to_string(),
    })
}

/// Applies one filter. The supported filters are: `append prepend upcase downcase capitalize
/// strip lstrip rstrip strip_newlines strip_html escape escape_once url_encode url_decode
/// replace replace_first replace_last remove remove_first remove_last truncate truncatewords
/// split slice size default join first last compact json jsonify plus minus times divided_by
/// modulo abs ceil floor round at_least at_most`. Every string or array a filter builds is
/// charged to the budget before or while it is built.
pub(super) fn apply_filter<'a>(
    name: &str,
    input: LV<'a>,
    args: &[LV<'a>],
    budget: &mut Budget,
) -> Result<LV<'a>, MappingError> {
    let num = |v: f64| LV::Num(v);
    Ok(match name {
        n if DISABLED_FILTERS.contains(&n) => {
            return Err(liquid_error(format!("filter \"{n}\" is disabled")))
        }
        n if UNSUPPORTED_FILTERS.contains(&n) => {
            return Err(liquid_error(format!(
                "filter \"{n}\" is not supported by this Liquid engine"
            )))
        }
        "append" => concat(
            &[&text(&input, budget)?, &text(arg(args, 0), budget)?],
            budget,
        )?,
        "prepend" => concat(
            &[&text(arg(args, 0), budget)?, &text(&input, budget)?],
            budget,
        )?,
        "upcase" => {
            let s = text(&input, budget)?;
            budget.bytes(upper_len(&s))?;
            string(s.to_uppercase())
        }
        "downcase" => {
            let s = text(&input, budget)?;
            budget.bytes(lower_len(&s))?;
            string(s.to_lowercase())
        }
        "capitalize" => {
            let s = text(&input, budget)?;
            let mut chars = s.chars();
            match chars.next() {
                // `str.charAt(0).toUpperCase()`: a character outside the Basic Multilingual
                // Plane is two code units there, whose first half no case changes.
                Some(first) if first.len_utf16() == 2 => {
                    let rest = chars.as_str();
                    budget.bytes(first.len_utf8().saturating_add(lower_len(rest)))?;
                    string(first.to_string() + &rest.to_lowercase())
                }
                Some(first) => {
                    let rest = chars.as_str();
                    budget.bytes(
                        upper_len(first.encode_utf8(&mut [0; 4])).saturating_add(lower_len(rest)),
                    )?;
                    string(first.to_uppercase().collect::<String>() + &rest.to_lowercase())
                }
                None => string(String::new()),
            }
        }
        "strip" | "lstrip" | "rstrip" => {
            let s = text(&input, budget)?;
            let (start, end) = (name != "rstrip", name != "lstrip");
            let stripped = match strip_set(arg(args, 0), budget)? {
                // `trim()`, `trimStart()` and `trimEnd()`: JavaScript white space.
                None => trim_ends(&s, start, end, js::is_whitespace),
                Some(set) => trim_ends(&s, start, end, |c| set.binary_search(&c).is_ok()),
            };
            charged(stripped, budget)?
        }
        "strip_newlines" => {
            let stripped = text(&input, budget)?.replace("\r\n", "").replace('\n', "");
            budget.bytes(stripped.len())?;
            string(stripped)
        }
        "strip_html" => {
            let stripped = strip_html(&text(&input, budget)?);
            budget.bytes(stripped.len())?;
            string(stripped)
        }
        "escape" => string(escaped(&text(&input, budget)?, html_escape, budget)?),
        "escape_once" => {
            let unescaped = html_unescape(&text(&input, budget)?);
            string(escaped(&unescaped, html_escape, budget)?)
        }
        "url_encode" => string(url_encode(&text(&input, budget)?, budget)?),
        "url_decode" => {
            let decoded = url_decode(&text(&input, budget)?).map_err(liquid_error)?;
            budget.bytes(decoded.len())?;
            string(decoded)
        }
        "replace" | "replace_first" | "remove" | "remove_first" => {
            let s = text(&input, budget)?;
            let from = text(arg(args, 0), budget)?;
            let to = match name {
                "replace" | "replace_first" => text(arg(args, 1), budget)?,
                _ => Cow::Borrowed(""),
            };
            let limit = name.ends_with("_first").then_some(1);
            string(replace_n(&s, &from, &to, limit, budget)?)
        }
        "replace_last" | "remove_last" => {
            let s = text(&input, budget)?;
            let from = text(arg(args, 0), budget)?;
            let to = match name {
                "replace_last" => text(arg(args, 1), budget)?,
                _ => Cow::Borrowed(""),
            };
            replace_last(&s, &from, &to, budget)?
        }
        "truncate" => {
            let s = text(&input, budget)?;
            let len = int_arg(args, 0, 50);
            let ellipsis = match arg(args, 1) {
                LV::Undef => Cow::Borrowed("..."),
                v => text(v, budget)?,
            };
            // Lengths in UTF-16 code units, as JavaScript counts them.
            let count = js::utf16_len(&s);
            if usize::try_from(len).is_ok_and(|len| count <= len) {
                // liquidjs returns its input itself when its text fits (`123 | truncate: 5`
                // is still the number 123).
                input
            } else {
                let keep = usize::try_from(len)
                    .unwrap_or(0)
                    .saturating_sub(js::utf16_len(&ellipsis));
                concat(&[&js::utf16_slice(&s, 0, keep), &ellipsis], budget)?
            }
        }
        "truncatewords" => {
            let s = text(&input, budget)?;
            let words = usize::try_from(int_arg(args, 0, 15).max(1)).unwrap_or(usize::MAX);
            let ellipsis = match arg(args, 1) {
                LV::Undef => Cow::Borrowed("..."),
                v => text(v, budget)?,
            };
            // `str.split(/\s+/)`: the pieces between runs of JavaScript white space (an empty
            // first or last piece when the text starts or ends with white space).
            let pieces = split_on_white_space(&s);
            let kept = pieces.get(..words).unwrap_or(&pieces);
            let mut parts = Vec::with_capacity(kept.len() * 2 + 1);
            for (i, piece) in kept.iter().enumerate() {
                if i > 0 {
                    parts.push(" ");
                }
                parts.push(piece);
            }
            // liquidjs appends the ellipsis when there are at least `words` words.
            if pieces.len() >= words {
                parts.push(&ellipsis);
            }
            concat(&parts, budget)?
        }
        "split" => {
            let s = text(&input, budget)?;
            let sep = text(arg(args, 0), budget)?;
            // Sized and charged before the parts are built.
            let count = if sep.is_empty() {
                s.chars().count()
            } else {
                s.matches(sep.as_ref()).count().saturating_add(1)
            };
            budget.nodes(count)?;
            budget.bytes(s.len())?;
            let mut parts: Vec<Value> = if sep.is_empty() {
                // By characters: `str.split("")` gives UTF-16 code units, which join back
                // into the characters they cut (the README's deliberate differences).
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep.as_ref())
                    .map(|p| Value::String(p.to_string()))
                    .collect()
            };
            // Liquid drops trailing empty strings.
            while parts.last().is_some_and(|p| p.as_str() == Some("")) {
                parts.pop();
            }
            LV::V(Cow::Owned(Value::Array(parts)))
        }
        "slice" => {
            let start = int_arg(args, 0, 0);
            let len = int_arg(args, 1, 1);
            match input.value() {
                Some(Value::Array(items)) => {
                    let (from, to) = slice_range(items.len(), start, len);
                    let mut out = Vec::with_capacity(to - from);
                    for item in items.get(from..to).unwrap_or_default() {
                        out.push(clone_value(item, budget, 0)?);
                    }
                    LV::V(Cow::Owned(Value::Array(out)))
                }
                // liquidjs slices nothing into an empty array.
                _ if input.is_nil() => LV::V(Cow::Owned(Value::Array(Vec::new()))),
                _ => {
                    let s = text(&input, budget)?;
                    let (from, to) = slice_range(js::utf16_len(&s), start, len);
                    charged(&js::utf16_slice(&s, from, to), budget)?
                }
            }
        }
        // liquidjs's `(v && v.length) || 0`: an object's `length` member when it is truthy
        // (the `.size` property, not this filter, counts an object's keys).
        "size" => match input.value() {
            Some(Value::Array(items)) => num(items.len() as f64),
            Some(Value::String(text)) => num(js::utf16_len(text) as f64),
            Some(Value::Object(m)) if m.get("length").is_some_and(js::truthy) => {
                member(input, "length")
            }
            _ => num(0.0),
        },
        "default" => {
            // `toValue`: `empty` and `blank` are `''`.
            let use_default = match input.to_value() {
                Some(Value::String(text)) => text.is_empty(),
                Some(Value::Array(items)) => items.is_empty(),
                Some(Value::Bool(false)) => !arg(args, 1).truthy(),
                _ => !input.truthy(),
            };
            if use_default {
                // Borrowed stays borrowed; an owned argument is a literal of the template (a
                // drop stays a drop).
                arg(args, 0).clone()
            } else {
                input
            }
        }
        "join" => {
            let sep = match arg(args, 0) {
                LV::Undef => Cow::Borrowed(" "),
                v => text(v, budget)?,
            };
            match input.value() {
                Some(Value::Array(items)) => string(budget.build(|out| {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.put(&sep)?;
                        }
                        if !item.is_null() {
                            push_js_string(out, item)?;
                        }
                    }
                    Ok(())
                })?),
                // liquidjs's `toArray`: nothing is no item, anything else one item, which
                // `Array.prototype.join` writes with `String(v)` (`[object Object]`, `true`).
                Some(item) if !item.is_null() => {
                    string(budget.build(|out| push_js_string(out, item))?)
                }
                _ => match input {
                    LV::Num(n) => charged(&js::number_to_string(n), budget)?,
                    _ => string(String::new()),
                },
            }
        }
        // What is not array-like (a number, `true`, nothing) gives an empty string.
        "first" => match (input.value(), array_like_key(&input, false)) {
            (Some(Value::Array(_)), _) => element(input, <[Value]>::first),
            // Its first UTF-16 code unit, as `text[0]` reads it.
            (Some(Value::String(text)), _) => {
                string(super::utf16_unit(text, 0).unwrap_or_default())
            }
            (_, Some(key)) => member(input, &key),
            _ => string(String::new()),
        },
        "last" => match (input.value(), array_like_key(&input, true)) {
            (Some(Value::Array(_)), _) => element(input, <[Value]>::last),
            (Some(Value::String(text)), _) => string(
                u32::try_from(js::utf16_len(text))
                    .ok()
                    .and_then(|units| units.checked_sub(1))
                    .and_then(|last| super::utf16_unit(text, last))
                    .unwrap_or_default(),
            ),
            (_, Some(key)) => member(input, &key),
            _ => string(String::new()),
        },
        "compact" => {
            let mut out = Vec::new();
            // `toArray(toValue(v))`: `empty` and `blank` are `['']`.
            match input.to_value() {
                Some(Value::Array(items)) => {
                    for item in items.iter().filter(|v| !v.is_null()) {
                        out.push(clone_value(item, budget, 0)?);
                    }
                }
                Some(Value::Null) | None => {}
                Some(other) => out.push(clone_value(other, budget, 0)?),
            }
            LV::V(Cow::Owned(Value::Array(out)))
        }
        "json" | "jsonify" => {
            let res = match &input {
                LV::Undef => Res::Undefined,
                // `JSON.stringify` of a drop object: it has no own enumerable property.
                LV::Nil | LV::Empty | LV::Blank => Res::Val(Value::Object(serde_json::Map::new())),
                LV::Num(n) => Res::Val(js::number_to_json(*n)),
                LV::V(v) => Res::Ref(v.as_ref()),
            };
            match json_stringify(&res, budget)? {
                Some(text) => string(text),
                None => LV::Undef,
            }
        }
        // The math filters read their input and arguments with liquidjs' `toNumber`.
        "plus" => num(liquid_to_number(&input) + liquid_to_number(arg(args, 0))),
        "minus" => num(liquid_to_number(&input) - liquid_to_number(arg(args, 0))),
        "times" => num(liquid_to_number(&input) * liquid_to_number(arg(args, 0))),
        "divided_by" => {
            let q = liquid_to_number(&input) / liquid_to_number(arg(args, 0));
            // The integer-arithmetic flag is a number too: `0` and `false` are off.
            let integer = js::number_is_truthy(liquid_to_number(arg(args, 1)));
            num(if integer { q.floor() } else { q })
        }
        "modulo" => {
            // The sign of the divisor, as liquidjs 10.27.2 computes it (`-7 | modulo: 3` is 2).
            let (v, divisor) = (liquid_to_number(&input), liquid_to_number(arg(args, 0)));
            num(((v % divisor) + divisor) % divisor)
        }
        "abs" => num(liquid_to_number(&input).abs()),
        "ceil" => num(liquid_to_number(&input).ceil()),
        "floor" => num(liquid_to_number(&input).floor()),
        "round" => {
            // liquidjs 10.27.2 in JavaScript's arithmetic: `Math.round(v * amp * (1 +
            // Number.EPSILON)) / amp`, `amp = Math.pow(10, digits)`, both through its
            // `toNumber`. The product keeps its rounding error, then the nudge rounds it up:
            // `1.255 | times: 100 | round` is 126, `1e21 | round: 2` is 1.0000000000000001e+21.
            let amp = js::pow10(liquid_to_number(arg(args, 0)));
            let v = liquid_to_number(&input);
            num(js::math_round(v * amp * (1.0 + f64::EPSILON)) / amp)
        }
        "at_least" => num(liquid_to_number(&input).max(liquid_to_number(arg(args, 0)))),
        "at_most" => num(liquid_to_number(&input).min(liquid_to_number(arg(args, 0)))),
        // liquidjs passes the input through a filter it does not know (no strictFilters).
        _ => input,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::render;
    use super::super::LiquidTemplate;
    use super::*;
    use serde_json::json;

    /// Renders with a budget of `bytes` bytes of produced strings, besides what its values
    /// take (as much as a render with no byte limit charges them).
    fn render_within(t: &str, data: &Value, bytes: usize) -> Result<String, MappingError> {
        let template = LiquidTemplate::parse(t).map_err(MappingError::Liquid)?;
        Budget::with_string_bytes(bytes, |budget| template.render(Some(data), budget))
    }

    fn is_bytes_limit(r: &Result<String, MappingError>) -> bool {
        matches!(
            r,
            Err(MappingError::LimitExceeded {
                what: "bytes of produced strings and values",
                ..
            })
        )
    }

    #[test]
    fn filter_results_are_charged_even_when_not_output() {
        // Each result is over 1000 bytes; assigned, it is never output, yet it is charged.
        let data = json!({"p": {"s": "a".repeat(600), "r": "b".repeat(600),
            "items": vec!["x".repeat(100); 12], "html": "\"".repeat(400)}});
        let filters = [
            "p.s | replace: 'a', p.r",
            "p.s | replace_first: 'a', p.r | append: p.r",
            "p.s | replace_last: 'a', p.r | prepend: p.r",
            "p.s | remove: 'x' | append: p.s",
            "p.s | append: p.r",
            "p.s | prepend: p.r",
            "p.items | join: p.r",
            "p.html | escape",
            "p.html | escape_once",
            "p.html | url_encode",
            "p.s | append: p.s | upcase",
            "p.s | append: p.s | truncate: 5000",
            "p.s | append: p.s | slice: 0, 5000",
            "p.s | append: p.s | split: ''",
            "p.items | json",
            "p.items | compact",
        ];
        for f in filters {
            let template = format!("{{% assign y = {f} %}}");
            let result = render_within(&template, &data, 1000);
            assert!(is_bytes_limit(&result), "{f}: {result:?}");
            // With the default budget the same filters succeed.
            assert!(render_within(&template, &data, usize::MAX).is_ok(), "{f}");
        }
    }

    #[test]
    fn assigned_copies_and_doubling_are_charged() {
        // Doubling a 1 KB string 16 times would build 64 MB without ever printing it.
        let data = json!({"p": {"s": "a".repeat(1024)}});
        let template = format!(
            "{{% assign x = p.s %}}{}",
            "{% assign x = x | append: x %}".repeat(16)
        );
        let result = render_within(&template, &data, crate::mapping::MAX_OUTPUT_BYTES);
        assert!(is_bytes_limit(&result), "{result:?}");
        // Copies of a payload value kept in variables are charged too.
        let copies = "{% assign a = p.s %}{% assign b = p.s %}{% assign c = p.s %}";
        assert!(is_bytes_limit(&render_within(copies, &data, 2 * 1024)));
        assert!(render_within(copies, &data, 3 * 1024).is_ok());
    }

    /// liquidjs 10.27.2 through `@segment/actions-core` 3.170.0 in Node, a lone surrogate shown
    /// as U+FFFD (`toWellFormed`): lengths and positions are UTF-16 code units.
    #[test]
    fn truncate_slice_and_capitalize_count_as_javascript_does() {
        let data = json!({"e": "😀😃", "d": "𐐨𐐩 ΣΑΣ", "s": "$", "a": [1, 2, 3], "u": "a😀b"});
        for (template, want) in [
            ("{{ e | truncate: 3 }}", "..."),
            ("{{ e | truncate: 4 }}", "😀😃"),
            ("{{ u | truncate: 3, \"\" }}", "a😀"),
            ("{{ e | slice: -2 }}", "\u{FFFD}"),
            ("{{ e | slice: 1, 2 }}", "\u{FFFD}\u{FFFD}"),
            ("{{ u | slice: 0, 2 }}", "a\u{FFFD}"),
            ("{{ s | slice: -2 }}", ""),
            ("{{ a | slice: -4 | json }}", "[]"),
            ("{{ a | slice: -3 | json }}", "[1]"),
            ("{{ a | slice: 1, -1 | json }}", "[]"),
            ("{{ d | capitalize }}", "𐐨𐐩 σας"),
            ("{{ \"ada LOVELACE\" | capitalize }}", "Ada lovelace"),
            ("{{ e | slice: 1, -1 }}", ""),
            // Nothing sliced is an empty array, not text.
            ("{{ missing | slice: 0 | json }}", "[]"),
        ] {
            assert_eq!(
                render(template, data.clone()).as_deref(),
                Ok(want),
                "{template}"
            );
        }
    }

    #[test]
    fn slice_with_extreme_arguments_does_not_overflow() {
        let data = json!({"properties": {"sku": "abcdef", "items": [1, 2, 3],
            "len": 1e19, "neg": -1e308, "huge": 9223372036854775807_i64,
            "min": -9223372036854775808_i64, "nan": "x"}});
        let cases = [
            ("{{ properties.sku | slice: 1, properties.len }}", "bcdef"),
            (
                "{{ properties.sku | slice: 1, 9223372036854775807 }}",
                "bcdef",
            ),
            (
                "{{ properties.sku | slice: properties.huge, properties.huge }}",
                "",
            ),
            // A start still negative after counting from the end slices nothing (liquidjs).
            (
                "{{ properties.sku | slice: properties.min, properties.huge }}",
                "",
            ),
            ("{{ properties.sku | slice: -2, properties.len }}", "ef"),
            ("{{ properties.sku | slice: properties.neg, 2 }}", ""),
            ("{{ properties.sku | slice: 1, properties.neg }}", ""),
            (
                "{{ properties.sku | slice: properties.nan, properties.nan }}",
                "a",
            ),
            (
                "{{ properties.items | slice: 1, properties.len | join: ',' }}",
                "2,3",
            ),
            (
                "{{ properties.items | slice: -1, 9223372036854775807 | join: ',' }}",
                "3",
            ),
            (
                "{{ properties.items | slice: properties.min, 2 | join: ',' }}",
                "",
            ),
        ];
        for (template, want) in cases {
            assert_eq!(
                render(template, data.clone()).as_deref(),
                Ok(want),
                "{template}"
            );
        }
    }

    #[test]
    fn math_and_decoding_with_extreme_inputs() {
        let data = json!({"p": {"big": 1e21, "huge": 9223372036854775807_i64, "neg": -1e308,
            "max": 1.7976931348623157e308}});
        let cases = [
            // As liquidjs 10.27.2 renders them: JavaScript's arithmetic, its rounding errors
            // and its `Math.pow(10, -9223372036854775808)`, 0 (so 0 / 0).
            ("{{ p.big | round: 2 }}", "1.0000000000000001e+21"),
            ("{{ p.neg | round: 1 }}", "-Infinity"),
            ("{{ p.max | round: -9223372036854775808 }}", "NaN"),
            ("{{ p.max | times: 10 }}", "Infinity"),
            ("{{ p.huge | divided_by: 0 }}", "Infinity"),
            ("{{ p.huge | modulo: 0 }}", "NaN"),
            ("{{ 2.345 | round: 2 }}", "2.35"),
            ("{{ '%+1' | url_decode }}{{ '%-1' | url_decode }}", "Err"),
        ];
        for (template, want) in cases {
            let got = render(template, data.clone()).unwrap_or_else(|_| "Err".to_string());
            assert_eq!(got, want, "{template}");
        }
        // `Number('0x...')`: hexadecimal digits only, any size.
        assert_eq!(
            render("{% if '0x-1' > 0 %}y{% else %}n{% endif %}", json!({})).as_deref(),
            Ok("n")
        );
        assert_eq!(
            render("{{ '0xFFFFFFFFFFFFFFFFFF' | plus: 0 }}", json!({})).as_deref(),
            Ok("4.722366482869645e+21")
        );
    }

    #[test]
    fn truncate_with_extreme_arguments_does_not_overflow() {
        let data = json!({"p": {"s": "abcdef", "len": 1e19, "neg": -1e308,
            "min": -9223372036854775808_i64}});
        let cases = [
            ("{{ p.s | truncate: p.len }}", "abcdef"),
            ("{{ p.s | truncate: p.neg }}", "..."),
            ("{{ p.s | truncate: p.min }}", "..."),
            ("{{ p.s | truncate: -9223372036854775808 }}", "..."),
            ("{{ p.s | truncate: 4, p.s }}", "abcdef"),
            ("{{ p.s | truncatewords: p.len }}", "abcdef"),
            // At least one word is kept, and liquidjs appends the ellipsis when there are at
            // least as many words as asked for.
            ("{{ p.s | truncatewords: p.min }}", "abcdef..."),
        ];
        for (template, want) in cases {
            assert_eq!(
                render(template, data.clone()).as_deref(),
                Ok(want),
                "{template}"
            );
        }
    }
}
