//! Liquid filters: the ones implemented, the ones Segment disables, the ones refused.

use std::borrow::Cow;

use serde_json::Value;

use super::super::value::{f64_to_js_string, js_len, json_stringify, Res};
use super::super::MappingError;
use super::{liquid_error, num_value, to_number, try_str, LV};

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
/// liquidjs tags that exist but are not implemented here.
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

/// Deepest nesting of blocks and expressions accepted.
fn arg<'x, 'a>(args: &'x [LV<'a>], i: usize) -> &'x LV<'a> {
    const UNDEF: &LV<'static> = &LV::Undef;
    args.get(i).unwrap_or(UNDEF)
}

fn string(s: String) -> LV<'static> {
    LV::V(Cow::Owned(Value::String(s)))
}

fn int_arg(args: &[LV<'_>], i: usize, default: i64) -> i64 {
    match arg(args, i) {
        LV::Undef => default,
        v => {
            let n = to_number(v);
            if n.is_nan() {
                default
            } else {
                n as i64
            }
        }
    }
}

/// The range `slice: start, len` selects among `n` items: a negative `start` counts from the
/// end, both ends are clamped to `0..=n`. Saturating, so any `i64` arguments are safe.
fn slice_range(n: usize, start: i64, len: i64) -> (usize, usize) {
    let n_i = i64::try_from(n).unwrap_or(i64::MAX);
    let from = if start < 0 {
        n_i.saturating_add(start).max(0)
    } else {
        start.min(n_i)
    };
    let to = from.saturating_add(len.max(0)).min(n_i);
    let clamp = |i: i64| usize::try_from(i).unwrap_or(0).min(n);
    (clamp(from), clamp(to).max(clamp(from)))
}

fn slice_chars(s: &str, start: i64, len: i64) -> String {
    let (from, to) = slice_range(s.chars().count(), start, len);
    s.chars().skip(from).take(to - from).collect()
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(b as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn url_decode(s: &str) -> Result<String, String> {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("URI malformed")?;
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

fn replace_last(s: &str, from: &str, to: &str) -> String {
    match s.rfind(from) {
        Some(at) => format!("{}{}{}", &s[..at], to, &s[at + from.len()..]),
        None => s.to_string(),
    }
}

fn array_of<'a>(v: &LV<'a>) -> Vec<Value> {
    match v.value() {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

/// Applies one filter. The supported filters are: `append prepend upcase downcase capitalize
/// strip lstrip rstrip strip_newlines strip_html escape escape_once url_encode url_decode
/// replace replace_first replace_last remove remove_first remove_last truncate truncatewords
/// split slice size default join first last compact json jsonify plus minus times divided_by
/// modulo abs ceil floor round at_least at_most`.
pub(super) fn apply_filter<'a>(
    name: &str,
    input: LV<'a>,
    args: &[LV<'_>],
) -> Result<LV<'a>, MappingError> {
    let s = || try_str(&input);
    let a = |i: usize| try_str(arg(args, i));
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
        "append" => string(s()? + &a(0)?),
        "prepend" => string(a(0)? + &s()?),
        "upcase" => string(s()?.to_uppercase()),
        "downcase" => string(s()?.to_lowercase()),
        "capitalize" => {
            let text = s()?;
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => string(
                    first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase(),
                ),
                None => string(String::new()),
            }
        }
        "strip" => string(s()?.trim().to_string()),
        "lstrip" => string(s()?.trim_start().to_string()),
        "rstrip" => string(s()?.trim_end().to_string()),
        "strip_newlines" => string(s()?.replace("\r\n", "").replace('\n', "")),
        "strip_html" => string(strip_html(&s()?)),
        "escape" => string(html_escape(&s()?)),
        "escape_once" => string(html_escape(&html_unescape(&s()?))),
        "url_encode" => string(url_encode(&s()?)),
        "url_decode" => string(url_decode(&s()?).map_err(liquid_error)?),
        "replace" => string(s()?.replace(&a(0)?, &a(1)?)),
        "replace_first" => string(s()?.replacen(&a(0)?, &a(1)?, 1)),
        "replace_last" => string(replace_last(&s()?, &a(0)?, &a(1)?)),
        "remove" => string(s()?.replace(&a(0)?, "")),
        "remove_first" => string(s()?.replacen(&a(0)?, "", 1)),
        "remove_last" => string(replace_last(&s()?, &a(0)?, "")),
        "truncate" => {
            let text = s()?;
            let len = int_arg(args, 0, 50);
            let ellipsis = match arg(args, 1) {
                LV::Undef => "...".to_string(),
                v => try_str(v)?,
            };
            let count = text.chars().count();
            if usize::try_from(len).is_ok_and(|len| count <= len) {
                string(text)
            } else {
                let keep = usize::try_from(len)
                    .unwrap_or(0)
                    .saturating_sub(ellipsis.chars().count());
                string(text.chars().take(keep).collect::<String>() + &ellipsis)
            }
        }
        "truncatewords" => {
            let text = s()?;
            let words = usize::try_from(int_arg(args, 0, 15).max(1)).unwrap_or(usize::MAX);
            let ellipsis = match arg(args, 1) {
                LV::Undef => "...".to_string(),
                v => try_str(v)?,
            };
            let parts: Vec<&str> = text.split(' ').collect();
            if parts.len() <= words {
                string(text)
            } else {
                string(parts[..words].join(" ") + &ellipsis)
            }
        }
        "split" => {
            let text = s()?;
            let sep = a(0)?;
            let mut parts: Vec<Value> = if sep.is_empty() {
                text.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                text.split(sep.as_str())
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
                    LV::V(Cow::Owned(Value::Array(
                        items.get(from..to).unwrap_or_default().to_vec(),
                    )))
                }
                _ => string(slice_chars(&s()?, start, len)),
            }
        }
        "size" => match input.value() {
            Some(Value::Array(items)) => num(items.len() as f64),
            Some(Value::String(text)) => num(js_len(text) as f64),
            Some(Value::Object(m)) => num(m.len() as f64),
            _ => num(0.0),
        },
        "default" => {
            let use_default = match input.value() {
                Some(Value::String(text)) => text.is_empty(),
                Some(Value::Array(items)) => items.is_empty(),
                Some(Value::Bool(false)) => !arg(args, 1).truthy(),
                _ => !input.truthy(),
            };
            if use_default {
                match arg(args, 0) {
                    LV::Undef => LV::Undef,
                    LV::Nil => LV::Nil,
                    LV::Empty | LV::Blank => string(String::new()),
                    LV::Num(n) => LV::Num(*n),
                    LV::V(v) => LV::V(Cow::Owned(v.as_ref().clone())),
                }
            } else {
                input
            }
        }
        "join" => {
            let sep = match arg(args, 0) {
                LV::Undef => " ".to_string(),
                v => try_str(v)?,
            };
            match input.value() {
                Some(Value::Array(items)) => {
                    let parts: Vec<String> = items
                        .iter()
                        .map(|i| {
                            let mut p = String::new();
                            let _ = super::super::value::push_js_string(&mut p, i, 0);
                            if i.is_null() {
                                p.clear();
                            }
                            p
                        })
                        .collect();
                    string(parts.join(&sep))
                }
                _ => input,
            }
        }
        "first" => match input.value() {
            Some(Value::Array(items)) => items
                .first()
                .cloned()
                .map_or(LV::Undef, |v| LV::V(Cow::Owned(v))),
            Some(Value::String(text)) => text
                .chars()
                .next()
                .map_or(string(String::new()), |c| string(c.to_string())),
            _ => LV::Undef,
        },
        "last" => match input.value() {
            Some(Value::Array(items)) => items
                .last()
                .cloned()
                .map_or(LV::Undef, |v| LV::V(Cow::Owned(v))),
            Some(Value::String(text)) => text
                .chars()
                .last()
                .map_or(string(String::new()), |c| string(c.to_string())),
            _ => LV::Undef,
        },
        "compact" => LV::V(Cow::Owned(Value::Array(
            array_of(&input)
                .into_iter()
                .filter(|v| !v.is_null())
                .collect(),
        ))),
        "json" | "jsonify" => {
            let res = match &input {
                LV::Undef => Res::Undefined,
                LV::Nil => Res::Val(Value::Null),
                LV::Empty | LV::Blank => Res::Val(Value::String(String::new())),
                LV::Num(n) => Res::Val(num_value(*n)),
                LV::V(v) => Res::Ref(v.as_ref()),
            };
            match json_stringify(&res)? {
                Some(text) => string(text),
                None => LV::Undef,
            }
        }
        "plus" => num(to_number(&input) + to_number(arg(args, 0))),
        "minus" => num(to_number(&input) - to_number(arg(args, 0))),
        "times" => num(to_number(&input) * to_number(arg(args, 0))),
        "divided_by" => {
            let q = to_number(&input) / to_number(arg(args, 0));
            num(if arg(args, 1).truthy() { q.floor() } else { q })
        }
        "modulo" => num(to_number(&input) % to_number(arg(args, 0))),
        "abs" => num(to_number(&input).abs()),
        "ceil" => num(to_number(&input).ceil()),
        "floor" => num(to_number(&input).floor()),
        "round" => {
            // Decimal shifting (`2.345` to 2 places is `2.35`), halves away from zero (`-0.5`
            // is `-1`), as liquidjs does.
            let digits = int_arg(args, 0, 0).clamp(-20, 20);
            let x = to_number(&input);
            let shift = |v: f64, by: i64| {
                format!("{}e{by}", f64_to_js_string(v))
                    .parse::<f64>()
                    .unwrap_or(f64::NAN)
            };
            let rounded = if x.is_finite() {
                let magnitude = (shift(x.abs(), digits) + 0.5).floor();
                shift(magnitude, -digits).copysign(x)
            } else {
                x
            };
            num(rounded)
        }
        "at_least" => num(to_number(&input).max(to_number(arg(args, 0)))),
        "at_most" => num(to_number(&input).min(to_number(arg(args, 0)))),
        // liquidjs passes the input through a filter it does not know (no strictFilters).
        _ => input,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::render;
    use serde_json::json;

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
            (
                "{{ properties.sku | slice: properties.min, properties.huge }}",
                "abcdef",
            ),
            ("{{ properties.sku | slice: -2, properties.len }}", "ef"),
            ("{{ properties.sku | slice: properties.neg, 2 }}", "ab"),
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
                "1,2",
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
            ("{{ p.s | truncatewords: p.min }}", "abcdef"),
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
