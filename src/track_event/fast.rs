//! Track Event mappings made only of literals, `@path` and `@if exists` (Segment's preset and
//! most real mappings), evaluated by reference: the mapped values are borrowed from the event
//! instead of copied, which is most of the cost of mapping an event with large `properties`.
//! Any other mapping goes through the full engine; both give the same result (tested).

use super::{MappedFields, MappedValue};
use crate::mapping::{js_truthy, DirectivePath};
use crate::segment::{EventField, EventRef, PropertiesRead};
use serde_json::{Map, Value};

/// Where one field's value comes from.
#[derive(Debug)]
enum Source {
    /// A literal scalar.
    Literal(Value),
    /// `{"@path": "$.a.b"}`.
    Path(DirectivePath),
    /// `{"@if": {"exists": {"@path": …}, "then": …, "else": …}}` (a branch may be missing).
    IfExists {
        test: DirectivePath,
        then: Option<Box<Source>>,
        otherwise: Option<Box<Source>>,
        /// Whether `then` is `test`'s path (the preset's `userId` and `revenue`): the value
        /// tested is then the result, not looked up again.
        then_is_test: bool,
    },
}

impl Source {
    /// Reads a mapping value; `None` when it needs the full engine.
    fn new(mapping: &Value) -> Option<Source> {
        match mapping {
            Value::Object(object) => Self::directive(object),
            Value::Array(_) => None,
            scalar => Some(Source::Literal(scalar.clone())),
        }
    }

    fn directive(object: &Map<String, Value>) -> Option<Source> {
        if object.len() != 1 {
            return None;
        }
        if let Some(Value::String(path)) = object.get("@path") {
            return Some(Source::Path(DirectivePath::parse(path)));
        }
        let options = object.get("@if")?.as_object()?;
        if options
            .keys()
            .any(|key| !matches!(key.as_str(), "exists" | "then" | "else"))
        {
            return None;
        }
        let Source::Path(test) = Self::directive(options.get("exists")?.as_object()?)? else {
            return None;
        };
        let then = match options.get("then") {
            None => None,
            Some(value) => Some(Box::new(Self::new(value)?)),
        };
        // Segment uses `else` only when it is truthy in the mapping.
        let otherwise = match options.get("else") {
            None => None,
            Some(value) if !js_truthy(value) => None,
            Some(value) => Some(Box::new(Self::new(value)?)),
        };
        let then_is_test = matches!(then.as_deref(), Some(Source::Path(path)) if *path == test);
        Some(Source::IfExists {
            test,
            then,
            otherwise,
            then_is_test,
        })
    }

    /// Adds to `read` what this source reads of `properties`.
    fn properties_read(&self, read: &mut PropertiesRead) {
        match self {
            Source::Literal(_) => {}
            Source::Path(path) => match path.key_names().as_deref() {
                Some(["properties", key, ..]) => {
                    read.merge(&PropertiesRead::Copied(vec![Box::from(*key)]));
                }
                Some([first, ..]) if *first != "properties" => {}
                // The whole `properties` elsewhere, or the whole event.
                _ => *read = PropertiesRead::Built,
            },
            Source::IfExists {
                test,
                then,
                otherwise,
                ..
            } => {
                Source::Path(test.clone()).properties_read(read);
                for branch in [then, otherwise].into_iter().flatten() {
                    branch.properties_read(read);
                }
            }
        }
    }

    /// Whether this is `{"@path": "$.properties"}`.
    fn is_whole_properties(&self) -> bool {
        matches!(self, Source::Path(path) if path.key_names().as_deref() == Some(&["properties"]))
    }

    /// Whether this reads the whole event (`{"@path": "$."}`, or a branch that does).
    fn reads_whole_event(&self) -> bool {
        match self {
            Source::Literal(_) => false,
            Source::Path(path) => path.is_root(),
            Source::IfExists {
                test,
                then,
                otherwise,
                ..
            } => {
                test.is_root()
                    || [then, otherwise]
                        .into_iter()
                        .flatten()
                        .any(|branch| branch.reads_whole_event())
            }
        }
    }

    /// The value, by reference; `None` is undefined.
    fn read<'a>(&'a self, event: EventRef<'a>) -> Option<EventField<'a>> {
        match self {
            Source::Literal(value) => Some(EventField::Value(value)),
            Source::Path(path) => path.lookup_event(event),
            Source::IfExists {
                test,
                then,
                otherwise,
                then_is_test,
            } => {
                let tested = test.lookup_event(event);
                let exists = tested.is_some_and(|value| !value.is_null());
                if exists && *then_is_test {
                    return tested;
                }
                let branch = if exists { then } else { otherwise };
                branch.as_ref()?.read(event)
            }
        }
    }
}

/// A field: one value, or (for `additional_context_keys`) an object of values.
#[derive(Debug)]
enum Field {
    Value(Source),
    /// `event_properties` as `{"@path": "$.properties"}`: the copied text stands in for it.
    WholeProperties(Source),
    Object(Vec<(String, Source)>),
}

/// The entries of an object field (`additional_context_keys`) of one event, read on demand.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ObjectEntries<'a> {
    entries: &'a [(String, Source)],
    event: EventRef<'a>,
}

impl<'a> ObjectEntries<'a> {
    /// The defined entries, in the mapping's order.
    pub(crate) fn iter(self) -> impl Iterator<Item = (&'a str, EventField<'a>)> {
        (self.entries.iter())
            .filter_map(move |(key, source)| Some((key.as_str(), source.read(self.event)?)))
    }
}

/// A Track Event mapping evaluated by reference.
#[derive(Debug)]
pub struct FastMapping {
    fields: Vec<(&'static str, Field)>,
    /// Whether some field reads the whole event.
    reads_whole_event: bool,
}

impl FastMapping {
    /// The fast form of a field mapping, or `None` when some field needs the full engine.
    pub fn new(fields: &Map<String, Value>) -> Option<FastMapping> {
        let mut fast = Vec::with_capacity(fields.len());
        for (name, mapping) in fields {
            let name = super::FIELDS.iter().copied().find(|known| known == name)?;
            let field = match mapping {
                Value::Object(object)
                    if name == "additional_context_keys"
                        && !object.keys().any(|key| key.starts_with('@')) =>
                {
                    let mut entries = Vec::with_capacity(object.len());
                    for (key, value) in object {
                        entries.push((key.clone(), Source::new(value)?));
                    }
                    Field::Object(entries)
                }
                other => {
                    let source = Source::new(other)?;
                    if name == "event_properties" && source.is_whole_properties() {
                        Field::WholeProperties(source)
                    } else {
                        Field::Value(source)
                    }
                }
            };
            fast.push((name, field));
        }
        let reads_whole_event = (fast.iter()).any(|(_, field)| match field {
            Field::Value(source) | Field::WholeProperties(source) => source.reads_whole_event(),
            Field::Object(entries) => entries.iter().any(|(_, source)| source.reads_whole_event()),
        });
        Some(FastMapping {
            fields: fast,
            reads_whole_event,
        })
    }

    /// Whether some field reads the whole event, which an event read as fields is not (see
    /// [`EventRef::as_value`]).
    pub(crate) fn reads_whole_event(&self) -> bool {
        self.reads_whole_event
    }

    /// How the mapping reads `properties`: [`PropertiesRead::Copied`] when `event_properties`
    /// is the whole of it and the other fields only look up its members.
    pub(crate) fn properties_read(&self) -> PropertiesRead {
        let mut read = PropertiesRead::Copied(Vec::new());
        let mut copies = false;
        for (_, field) in &self.fields {
            match field {
                Field::WholeProperties(_) => copies = true,
                Field::Value(source) => source.properties_read(&mut read),
                Field::Object(entries) => {
                    for (_, source) in entries {
                        source.properties_read(&mut read);
                    }
                }
            }
        }
        if copies {
            read
        } else {
            PropertiesRead::Built
        }
    }

    /// The mapped fields of one event; `copied_properties` is the event's `properties` copied
    /// as JSON text (see [`PropertiesRead::Copied`]), which the event's value then only holds
    /// the looked-up members of.
    pub(crate) fn fields<'a>(
        &'a self,
        event: EventRef<'a>,
        copied_properties: Option<&'a str>,
    ) -> MappedFields<'a> {
        let mut mapped = MappedFields::default();
        for (name, field) in &self.fields {
            match field {
                Field::WholeProperties(source) => match copied_properties {
                    Some(text) => mapped.event_properties_copied = Some(text),
                    None => mapped.event_properties = source.read(event).map(MappedValue::from),
                },
                Field::Value(source) => {
                    if let Some(slot) = mapped.slot(name) {
                        *slot = source.read(event).map(MappedValue::from);
                    }
                }
                // Only `additional_context_keys` is an object field.
                Field::Object(entries) => {
                    mapped.additional_context_entries = Some(ObjectEntries { entries, event });
                }
            }
        }
        mapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whether a mapping reads the whole event decides whether an event read as fields can be
    /// mapped by reference.
    #[test]
    fn a_mapping_reads_the_whole_event_where_a_path_is_the_root() {
        let reads_whole = |fields: Value| {
            let fields = fields.as_object().cloned().unwrap_or_default();
            FastMapping::new(&fields).map(|fast| fast.reads_whole_event())
        };
        assert_eq!(
            reads_whole(json!({"user_key": {"@path": "$.userId"}, "event_name": "E"})),
            Some(false)
        );
        assert_eq!(
            reads_whole(json!({"event_properties": {"@path": "$."}})),
            Some(true)
        );
        assert_eq!(
            reads_whole(json!({"event_properties": {"@path": "$.properties"}})),
            Some(false)
        );
        let branch = |test: &str, then: Value, otherwise: Value| json!({"metric_value": {"@if": {"exists": {"@path": test}, "then": then, "else": otherwise}}});
        assert_eq!(reads_whole(branch("$.a", json!(1), json!(2))), Some(false));
        assert_eq!(reads_whole(branch("$.", json!(1), json!(2))), Some(true));
        assert_eq!(
            reads_whole(branch("$.a", json!({"@path": "$."}), json!(2))),
            Some(true)
        );
        assert_eq!(
            reads_whole(branch("$.a", json!(1), json!({"@path": "$."}))),
            Some(true)
        );
        assert_eq!(
            reads_whole(
                json!({"additional_context_keys": {"all": {"@path": "$."}, "b": {"@path": "$.b"}}})
            ),
            Some(true)
        );
        assert_eq!(
            reads_whole(json!({"additional_context_keys": {"a": {"@path": "$.a"}}})),
            Some(false)
        );
    }
}
