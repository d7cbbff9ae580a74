//! Segment's `{{placeholder}}` templates (`placeholders.ts`), used by `@template`.
//!
//! Upstream runs two regex passes: `/\{\{\{([^}]+)\}\}\}/g`, then `/\{\{([^}]+)\}\}/g` over
//! the result of the first. Each match is replaced by `get(data, inner.trim()) ?? ''` coerced
//! with `String(...)`; there is no HTML escaping.

use serde_json::Value;

use super::path::PathSpec;
use super::value::{push_js_string, Budget, Sink};
use super::MappingError;
use crate::js;

/// A piece of a template without `{{{…}}}` placeholders.
#[derive(Debug, Clone)]
pub(crate) enum TemplatePart {
    /// Text copied as it is.
    Text(String),
    /// A `{{path}}` placeholder: the path's value, `String(...)`-coerced (`''` for `null` and
    /// `undefined`).
    Placeholder(PathSpec),
}

/// A template parsed once.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    /// No `{{{…}}}` placeholder: the first pass changes nothing, so the second pass is
    /// precompiled into parts.
    Parts(Vec<TemplatePart>),
    /// Has `{{{…}}}` placeholders: their values are rescanned by the second pass, so both
    /// passes run at render time.
    TwoPass(String),
}

/// Finds the next `{`×n, a run of at least one non-`}` character, then `}`×n, starting the
/// search at byte `from`. Returns (match start, inner start, inner end, match end).
fn find_placeholder(s: &str, from: usize, n: usize) -> Option<(usize, usize, usize, usize)> {
    let bytes = s.as_bytes();
    let mut i = from;
    // Position of the next '}' at or after some index; cached so the scan stays linear.
    let mut next_close: Option<usize> = None;
    while i + n <= bytes.len() {
        let open = bytes[i..].iter().position(|&b| b == b'{')? + i;
        i = open;
        if i + n > bytes.len() {
            return None;
        }
        if bytes[i..i + n].iter().all(|&b| b == b'{') {
            let inner_start = i + n;
            let close = match next_close {
                Some(c) if c >= inner_start => c,
                _ => {
                    let c = bytes[inner_start..]
                        .iter()
                        .position(|&b| b == b'}')
                        .map_or(bytes.len(), |p| p + inner_start);
                    next_close = Some(c);
                    c
                }
            };
            if close > inner_start
                && close + n <= bytes.len()
                && bytes[close..close + n].iter().all(|&b| b == b'}')
            {
                return Some((i, inner_start, close, close + n));
            }
        }
        i += 1;
    }
    None
}

fn push_value(out: &mut dyn Sink, value: Option<&Value>) -> Result<(), MappingError> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(v) => push_js_string(out, v),
    }
}

/// One regex pass with `n` braces, looking values up at render time; the result is sized and
/// charged to the budget before it is built.
fn render_pass(
    s: &str,
    n: usize,
    payload: Option<&Value>,
    budget: &mut Budget,
) -> Result<String, MappingError> {
    budget.build(|out| {
        let mut pos = 0;
        while let Some((start, inner_start, inner_end, end)) = find_placeholder(s, pos, n) {
            out.put(s.get(pos..start).unwrap_or_default())?;
            let inner = s.get(inner_start..inner_end).unwrap_or_default();
            push_value(
                out,
                PathSpec::parse(js::trim(inner)).lookup(payload).as_deref(),
            )?;
            pos = end;
        }
        out.put(s.get(pos..).unwrap_or_default())
    })
}

impl Template {
    /// Parses a template.
    pub(crate) fn parse(template: &str) -> Template {
        if find_placeholder(template, 0, 3).is_some() {
            return Template::TwoPass(template.to_string());
        }
        let mut parts = Vec::new();
        let mut pos = 0;
        while let Some((start, inner_start, inner_end, end)) = find_placeholder(template, pos, 2) {
            if start > pos {
                parts.push(TemplatePart::Text(template[pos..start].to_string()));
            }
            let path = PathSpec::parse(js::trim(&template[inner_start..inner_end]));
            parts.push(TemplatePart::Placeholder(path));
            pos = end;
        }
        if pos < template.len() {
            parts.push(TemplatePart::Text(template[pos..].to_string()));
        }
        Template::Parts(parts)
    }

    /// Renders the template against a payload; the result is sized and charged to the budget
    /// before it is built.
    pub(crate) fn render(
        &self,
        payload: Option<&Value>,
        budget: &mut Budget,
    ) -> Result<String, MappingError> {
        match self {
            Template::Parts(parts) => budget.build(|out| {
                for part in parts {
                    match part {
                        TemplatePart::Text(text) => out.put(text)?,
                        TemplatePart::Placeholder(path) => {
                            push_value(out, path.lookup(payload).as_deref())?
                        }
                    }
                }
                Ok(())
            }),
            Template::TwoPass(template) => {
                let first = render_pass(template, 3, payload, budget)?;
                render_pass(&first, 2, payload, budget)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, data: Value) -> String {
        Template::parse(t)
            .render(Some(&data), &mut Budget::new())
            .unwrap_or_default()
    }

    #[test]
    fn renders_like_segment() {
        assert_eq!(render("{{foo}}}", json!({"foo": "hello"})), "hello}");
        assert_eq!(render("x{{}}y", json!({})), "x{{}}y");
        assert_eq!(render("{{ a }}", json!({"a": [1, "x", null]})), "1,x,");
        assert_eq!(
            render("<b>{{a}} {{{a}}}</b>", json!({"a": "<i>"})),
            "<b><i> <i></b>"
        );
        assert_eq!(render("{{{a}}}", json!({"a": "{{b}}", "b": 2})), "2");
        assert_eq!(render("{{$.a}}", json!({"a": 1})), "");
        assert_eq!(render("{{{{{{{{", json!({})), "{{{{{{{{");
    }
}
