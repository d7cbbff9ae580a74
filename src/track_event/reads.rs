//! Which top-level fields of an event a mapping can read, found in the mapping's JSON: the
//! first key of every `@path` (`$.properties.revenue` reads `properties`), of every `{{…}}` of
//! an `@template`, and of an `@arrayPath`'s array. Anything the analysis cannot bound (`@liquid`,
//! a path computed by a directive, `$` itself, bracket or wildcard paths, a template section,
//! a directive it does not know) reads everything. Reading more than needed is always safe;
//! `tests/field_selection.rs` proves on Segment's mapping vectors that it never reads less.

use crate::mapping::DIRECTIVES;
use crate::segment::FieldsRead;
use serde_json::Value;

/// Adds to `read` the top-level fields `mapping` can read.
pub fn mapping_fields_read(mapping: &Value, read: &mut FieldsRead) {
    if *read == FieldsRead::All {
        return;
    }
    match mapping {
        Value::Object(object) => {
            for (key, value) in object {
                match key.as_str() {
                    "@path" => match value {
                        Value::String(path) => path_field(path, read),
                        _ => *read = FieldsRead::All,
                    },
                    "@template" => match value {
                        Value::String(template) => template_fields(template, read),
                        _ => *read = FieldsRead::All,
                    },
                    "@liquid" => *read = FieldsRead::All,
                    // The array's path reads the event; the item mapping reads each item.
                    "@arrayPath" => match value.as_array().and_then(|parts| parts.first()) {
                        Some(Value::String(path)) => path_field(path, read),
                        _ => *read = FieldsRead::All,
                    },
                    // `apply` reads the event; `mapping` reads what `apply` made.
                    "@transform" => match value.get("apply") {
                        Some(apply) => mapping_fields_read(apply, read),
                        None => *read = FieldsRead::All,
                    },
                    directive if directive.starts_with('@') && !DIRECTIVES.contains(&directive) => {
                        *read = FieldsRead::All;
                    }
                    _ => mapping_fields_read(value, read),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                mapping_fields_read(item, read);
            }
        }
        // Strings, numbers, booleans and null outside a directive are literals.
        _ => {}
    }
}

/// The first key of a JSONPath (`$.a.b`, `$.a[0]`); everything for `$`, brackets or wildcards.
fn path_field(path: &str, read: &mut FieldsRead) {
    let rest = path.strip_prefix('$').unwrap_or(path);
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let first = rest.split(['.', '[']).next().unwrap_or("");
    let bounded = !first.is_empty()
        && !rest.starts_with('.')
        && !rest.starts_with('[')
        && !first.contains(['*', '$', '\'', '"', ' ']);
    if bounded {
        read.add(first);
    } else {
        *read = FieldsRead::All;
    }
}

/// The first key of each `{{path}}` of a template; everything for a section or an empty tag.
fn template_fields(template: &str, read: &mut FieldsRead) {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return;
        };
        let tag = after[..end].trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace());
        if tag.is_empty() || tag.starts_with(['#', '/', '^', '!', '>', '&', '=']) {
            *read = FieldsRead::All;
            return;
        }
        path_field(tag, read);
        rest = &after[end + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(mapping: Value) -> FieldsRead {
        let mut read = FieldsRead::Only(Default::default());
        mapping_fields_read(&mapping, &mut read);
        read
    }

    fn only(fields: &[&str]) -> FieldsRead {
        FieldsRead::Only(fields.iter().map(|f| Box::from(*f)).collect())
    }

    #[test]
    fn paths_templates_and_arrays_read_their_first_key() {
        assert_eq!(
            read(json!({"a": {"@path": "$.properties.revenue"}, "b": {"@path": "$.event"}})),
            only(&["properties", "event"])
        );
        assert_eq!(
            read(json!({"@template": "{{userId}} {{ context.page.url }} {{{traits.name}}}"})),
            only(&["userId", "context", "traits"])
        );
        assert_eq!(
            read(json!({"@arrayPath": ["$.properties.products", {"sku": {"@path": "$.sku"}}]})),
            only(&["properties"])
        );
        assert_eq!(
            read(
                json!({"@transform": {"apply": {"s": {"@path": "$.context.campaign"}}, "mapping": {"u": {"@path": "$.s"}}}})
            ),
            only(&["context"])
        );
        assert_eq!(
            read(
                json!({"@if": {"exists": {"@path": "$.userId"}, "then": {"@path": "$.userId"}, "else": {"@path": "$.anonymousId"}}})
            ),
            only(&["userId", "anonymousId"])
        );
        assert_eq!(
            read(json!({"kind": "user", "n": 3, "@literal": "x"})),
            only(&[])
        );
        assert_eq!(read(json!({"@path": "$.a[0].b"})), only(&["a"]));
    }

    #[test]
    fn what_cannot_be_bounded_reads_everything() {
        for mapping in [
            json!({"@path": "$"}),
            json!({"@path": "$."}),
            json!({"@path": "$..a"}),
            json!({"@path": "$['a']"}),
            json!({"@path": "$.*"}),
            json!({"@path": {"@template": "$.{{x}}"}}),
            json!({"@template": {"@path": "$.t"}}),
            json!({"@template": "{{#each items}}{{.}}{{/each}}"}),
            json!({"@template": "{{}}"}),
            json!({"@liquid": "{{ properties.total }}"}),
            json!({"@arrayPath": [{"@path": "$.p"}, {}]}),
            json!({"@transform": {"mapping": {}}}),
            json!({"@unknownDirective": "x"}),
            json!([{"a": {"@liquid": "x"}}]),
        ] {
            assert_eq!(read(mapping.clone()), FieldsRead::All, "{mapping}");
        }
    }
}
