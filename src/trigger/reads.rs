//! Which top-level fields of an event a trigger reads: each condition reads one (`type`,
//! `event`, `name`, `userId`, `properties`, `traits` or `context`).

use super::tree::{Field, Group, Node};
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
                Field::Property(_) => read.add("properties"),
                Field::Trait(_) => read.add("traits"),
                Field::Context(_) => read.add("context"),
                Field::Unknown(_) => {}
            },
            Node::Undefined => {}
        }
    }
}
