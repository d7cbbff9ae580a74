//! Which fields of an event a mapping can read, and how far, found in the mapping's JSON with
//! the mapping engine's own parsers: every `@path`, every `{{…}}` of an `@template`, every
//! variable of a `@liquid` template, and an `@arrayPath`'s array, each a path from a top-level
//! field whose value is read whole (`$.properties.revenue` reads `properties` in its member
//! `revenue`). Anything the analysis cannot bound (a path computed by a directive, `$` itself,
//! `{{{…}}}` placeholders, a Liquid variable whose name is computed, a directive it does not
//! know) reads everything. Reading more than needed is always safe; `tests/field_selection.rs`
//! and `tests/mapping_properties.rs` prove on Segment's vectors and on arbitrary mappings that
//! it never reads less.

use crate::mapping::{liquid_paths_read, template_paths_read, DirectivePath, DIRECTIVES};
use crate::segment::{FieldsRead, ValueRead};
use serde_json::Value;

/// Adds to `read` the fields `mapping` can read, as far as it reads them.
pub fn mapping_fields_read(mapping: &Value, read: &mut FieldsRead) {
    if *read == FieldsRead::All {
        return;
    }
    match mapping {
        Value::Object(object) => {
            for (key, value) in object {
                let bounded = match (key.as_str(), value) {
                    ("@path", Value::String(path)) => path_read(path, read),
                    ("@template", Value::String(template)) => {
                        template_paths_read(template, |path| add(path, read))
                    }
                    ("@liquid", Value::String(source)) => {
                        liquid_paths_read(source, |path| add(path, read))
                    }
                    // The array's path reads the event; the item mapping (the engine's
                    // `shape`: a non-empty object) reads each item, or an object as its one
                    // item; without one, the value is taken whole.
                    ("@arrayPath", Value::Array(parts)) => match (parts.first(), parts.get(1)) {
                        (Some(Value::String(path)), Some(shape @ Value::Object(members)))
                            if !members.is_empty() =>
                        {
                            let mut item = FieldsRead::Only(Default::default());
                            mapping_fields_read(shape, &mut item);
                            let items = ValueRead::Items(Box::new(item.as_value_read()));
                            path_read_as(path, &items, read)
                        }
                        (Some(Value::String(path)), _) => path_read(path, read),
                        _ => false,
                    },
                    // `apply` reads the event; `mapping` reads what `apply` made.
                    ("@transform", _) => match value.get("apply") {
                        Some(apply) => {
                            mapping_fields_read(apply, read);
                            true
                        }
                        None => false,
                    },
                    ("@path" | "@template" | "@liquid" | "@arrayPath", _) => false,
                    (directive, _)
                        if directive.starts_with('@') && !DIRECTIVES.contains(&directive) =>
                    {
                        false
                    }
                    _ => {
                        mapping_fields_read(value, read);
                        true
                    }
                };
                if !bounded {
                    *read = FieldsRead::All;
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

/// Adds what the `@path` (or `@arrayPath`) argument `path` reads, parsed as the engine parses
/// it; `false` for the whole event.
fn path_read(path: &str, read: &mut FieldsRead) -> bool {
    path_read_as(path, &ValueRead::Whole, read)
}

/// [`path_read`], the value at the path read as `value_read` says.
fn path_read_as(path: &str, value_read: &ValueRead, read: &mut FieldsRead) -> bool {
    let path = DirectivePath::parse(path);
    add_as(&path.key_names().unwrap_or_default(), value_read, read)
}

/// Reads the value at `path` (its first key a top-level field) whole.
fn add(path: &[&str], read: &mut FieldsRead) {
    add_as(path, &ValueRead::Whole, read);
}

/// Reads the value at `path` (its first key a top-level field) as `value_read` says; `false`
/// for an empty path (the whole event).
fn add_as(path: &[&str], value_read: &ValueRead, read: &mut FieldsRead) -> bool {
    match path.split_first() {
        Some((field, rest)) => {
            read.add_path_read(field, rest, value_read);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::ValueRead;
    use serde_json::json;

    /// The paths read whole, dotted (`None` for everything).
    fn read(mapping: Value) -> Option<Vec<String>> {
        let mut read = FieldsRead::Only(Default::default());
        mapping_fields_read(&mapping, &mut read);
        let FieldsRead::Only(fields) = &read else {
            return None;
        };
        let mut paths = Vec::new();
        for (at, name) in fields.names().iter().enumerate() {
            leaves(name, fields.read(at), &mut paths);
        }
        Some(paths)
    }

    fn leaves(path: &str, read: &ValueRead, paths: &mut Vec<String>) {
        match read {
            ValueRead::Whole => paths.push(path.to_string()),
            ValueRead::Members(members) if members.is_empty() => paths.push(format!("{path}{{}}")),
            ValueRead::Members(members) => {
                for (name, member) in members {
                    leaves(&format!("{path}.{name}"), member, paths);
                }
            }
            ValueRead::Items(item) => leaves(&format!("{path}[]"), item, paths),
        }
    }

    fn only(paths: &[&str]) -> Option<Vec<String>> {
        Some(paths.iter().map(|path| path.to_string()).collect())
    }

    #[test]
    fn paths_templates_liquid_and_arrays_read_as_far_as_their_paths() {
        assert_eq!(
            read(json!({"a": {"@path": "$.properties.revenue"}, "b": {"@path": "$.event"}})),
            only(&["properties.revenue", "event"])
        );
        assert_eq!(
            read(json!({"@template": "{{userId}} {{ context.page.url }} {{traits.name}}"})),
            only(&["userId", "context.page.url", "traits.name"])
        );
        // An `@arrayPath`'s items are read as its item mapping reads them (an item mapping
        // that is not a non-empty object is none: the value is taken whole).
        assert_eq!(
            read(
                json!({"@arrayPath": ["$.properties.products", {"sku": {"@path": "$.sku"}, "n": {"@template": "{{name}} {{p.q}}"}}]})
            ),
            only(&[
                "properties.products[].sku",
                "properties.products[].name",
                "properties.products[].p.q"
            ])
        );
        assert_eq!(
            read(json!({"@arrayPath": ["$.properties.products", {"all": {"@path": "$."}}]})),
            only(&["properties.products[]"])
        );
        assert_eq!(
            read(json!({"@arrayPath": ["$.properties.products", {}]})),
            only(&["properties.products"])
        );
        assert_eq!(
            read(json!({"@arrayPath": ["$.properties.products", {"k": 1}]})),
            only(&["properties.products[]{}"])
        );
        // Items read alike and a path into the array: the array is read whole.
        assert_eq!(
            read(
                json!([{"@arrayPath": ["$.p.items", {"a": {"@path": "$.a"}}]}, {"@path": "$.p.items.0.b"}])
            ),
            only(&["p.items"])
        );
        assert_eq!(
            read(
                json!([{"@arrayPath": ["$.p.items", {"a": {"@path": "$.a"}}]}, {"@arrayPath": ["$.p.items", {"b": {"@path": "$.b"}}]}])
            ),
            only(&["p.items[].a", "p.items[].b"])
        );
        assert_eq!(
            read(
                json!({"@transform": {"apply": {"s": {"@path": "$.context.campaign"}}, "mapping": {"u": {"@path": "$.s"}}}})
            ),
            only(&["context.campaign"])
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
        // Paths are parsed as the engine parses them: brackets are keys, `$` alone is a key.
        assert_eq!(read(json!({"@path": "$.a[0].b"})), only(&["a.0.b"]));
        assert_eq!(read(json!({"@path": "$['a']"})), only(&["$.a"]));
        assert_eq!(read(json!({"@path": "$"})), only(&["$"]));
        // A path read whole covers the paths under it, wherever they come.
        assert_eq!(
            read(
                json!([{"@path": "$.context.campaign.source"}, {"@path": "$.context.campaign"}, {"@path": "$.context.campaign.medium"}])
            ),
            only(&["context.campaign"])
        );
        assert_eq!(
            read(
                json!({"@liquid": "{% if properties.total > 20 %}{{ context.page.url | upcase }}{% else %}{{ traits[properties.key].x }}{% endif %}"})
            ),
            only(&[
                "properties.total",
                "properties.key",
                "context.page.url",
                "traits"
            ])
        );
        // Both ends of a range.
        assert_eq!(
            read(
                json!({"@liquid": "{% assign r = (properties.lo..context.hi) %}{{ r | join: ',' }}"})
            ),
            only(&["properties.lo", "context.hi", "r"])
        );
        // An object's `size` counts all its members: the object is read whole.
        assert_eq!(
            read(json!({"@liquid": "{{ properties.products.size }} {{ size }}"})),
            only(&["properties.products", "size"])
        );
        assert_eq!(
            read(
                json!({"@liquid": "{% assign t = properties.total %}{% capture c %}{{ t }}{% endcapture %}{{ c | append: context.ip }}"})
            ),
            only(&["properties.total", "t", "c", "context.ip"])
        );
    }

    #[test]
    fn what_cannot_be_bounded_reads_everything() {
        for mapping in [
            json!({"@path": "$."}),
            json!({"@path": "."}),
            json!({"@path": ""}),
            json!({"@path": {"@template": "$.{{x}}"}}),
            json!({"@template": {"@path": "$.t"}}),
            json!({"@template": "{{{traits.name}}}"}),
            json!({"@template": "{{ }}"}),
            json!({"@liquid": "{{ [properties.name] }}"}),
            json!({"@liquid": "{% if %}"}),
            json!({"@liquid": 3}),
            json!({"@arrayPath": [{"@path": "$.p"}, {}]}),
            json!({"@transform": {"mapping": {}}}),
            json!({"@unknownDirective": "x"}),
            json!([{"a": {"@liquid": "{{ [x] }}"}}]),
        ] {
            assert_eq!(read(mapping.clone()), None, "{mapping}");
        }
    }
}
