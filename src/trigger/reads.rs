//! Which fields of an event a trigger reads, and how far: each condition reads one (`type`,
//! `event`, `name`, `userId`), or the value at its path in `properties`, `traits` or `context`
//! (objects are walked by their members' names, so the others are not read; the value at the
//! path's end is read whole).

use super::tree::{Field, Group, Node, Path, PathKeys};
use crate::segment::FieldsRead;

/// Adds to `read` the top-level fields the conditions of `group` read.
pub(crate) fn group_fields_read(group: &Group, read: &mut FieldsRead) {
    for node in &group.children {
        match node {
            Node::Group(inner) => group_fields_read(inner, read),
            Node::Leaf(leaf) => match &leaf.field {
                Field::Type => read.add("type"),
                Field::Event => read.add("event"),
                Field::Name => read.add("name"),
                Field::UserId => read.add("userId"),
                Field::Property(path) => add_path(read, "properties", path),
                Field::Trait(path) => add_path(read, "traits", path),
                Field::Context(path) => add_path(read, "context", path),
                Field::Unknown(_) => {}
            },
            Node::Undefined => {}
        }
    }
}

/// Reads `field` as far as `path` walks it (whole for a path that reads nothing).
fn add_path(read: &mut FieldsRead, field: &str, path: &Path) {
    match &path.keys {
        PathKeys::Keys(keys) => {
            let names: Vec<&str> = keys.iter().map(|key| &*key.name).collect();
            read.add_path(field, &names);
        }
        PathKeys::Empty | PathKeys::Throws => read.add(field),
    }
}
