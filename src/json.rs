//! Compact JSON writing into a byte buffer, byte for byte as `serde_json::to_writer` writes it
//! (tested), with fewer calls per value and a fast scan of strings that need no escaping; the
//! object lookup every reader of events uses, and the list of names ([`Names`]) their fields
//! are found by; and reading JSON text in one pass without building it (`scan`: [`Members`],
//! [`Items`], [`copy_object`]). A leaf module: other values (the mapping engine's results)
//! write themselves with these primitives.

use serde_json::{Map, Number, Value};

mod scan;
pub(crate) use scan::{copy_object, Items, Member, Members};

/// `object[key]`: a linear scan for the small objects events are made of (cheaper than hashing
/// the key), the hash index for larger ones.
pub(crate) fn get<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if object.len() <= 16 {
        // Lengths first: most keys differ in length, and that needs no call to compare.
        object
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, v)| v)
    } else {
        object.get(key)
    }
}

/// A list of names (the fields a configuration reads), each found by its index in one step: a
/// table of 64 slots, one picked by a hash of a name's length and first, second and last bytes
/// (`slot`), holds the index of the one name there, so a lookup compares at most one name, or
/// none for a name no slot holds. The hash's multiplier is the first of a few that give the
/// names a slot each; slots that names share still (or past `Names::SEARCHED` names) fall
/// back to the scan of `name_index`. The scan cost up to 9% of a small event's instructions
/// natively: 13 lookups of each event's fields, and one per member of the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    list: Vec<Box<str>>,
    multiplier: u32,
    /// By [`slot`]: [`Names::EMPTY`], [`Names::SHARED`], or a name's index plus one.
    slots: [u8; 64],
}

impl Names {
    const EMPTY: u8 = 0;
    const SHARED: u8 = u8::MAX;
    /// Multipliers are searched for lists of at most this many names (more share slots).
    const SEARCHED: usize = 40;
    const MULTIPLIERS: [u32; 16] = [
        0x9e37_79b1,
        0x85eb_ca77,
        0xc2b2_ae3d,
        0x27d4_eb2f,
        0x1656_67b1,
        0xd3a2_646d,
        0xfd70_46c5,
        0xb55a_4f09,
        0x7feb_352d,
        0x846c_a68b,
        0x2c1b_3c6d,
        0x297a_2d39,
        0xcc9e_2d51,
        0x1b87_3593,
        0xe654_6b65,
        0x68e3_1da5,
    ];

    /// No names.
    pub const fn new() -> Self {
        Names {
            list: Vec::new(),
            multiplier: Names::MULTIPLIERS[0],
            slots: [Names::EMPTY; 64],
        }
    }

    /// Where `name` is in the list, as `name_index` finds it (the first of equal names).
    #[inline(always)]
    pub fn index(&self, name: &str) -> Option<usize> {
        let held = (self.slots.get(slot(name, self.multiplier)).copied()).unwrap_or(Names::SHARED);
        match held {
            Names::EMPTY => None,
            Names::SHARED => name_index(&self.list, name),
            held => {
                let index = usize::from(held) - 1;
                same_key(self.list.get(index)?, name).then_some(index)
            }
        }
    }

    /// Appends `name`; returns its index.
    pub fn push(&mut self, name: Box<str>) -> usize {
        self.list.push(name);
        let searched = match self.list.len() <= Names::SEARCHED {
            true => &Names::MULTIPLIERS[..],
            false => &Names::MULTIPLIERS[..1],
        };
        for &multiplier in searched {
            self.multiplier = multiplier;
            if self.fill() {
                break;
            }
        }
        self.list.len() - 1
    }

    /// Fills the slots for the list with the multiplier; whether every name has a slot of its
    /// own (repeated names are the same name, and may share).
    fn fill(&mut self) -> bool {
        self.slots = [Names::EMPTY; 64];
        let mut own = true;
        for (index, name) in self.list.iter().enumerate() {
            let Some(held) = self.slots.get_mut(slot(name, self.multiplier)) else {
                continue;
            };
            let first = (usize::from(*held).checked_sub(1))
                .and_then(|at| self.list.get(at))
                .is_some_and(|known| same_key(known, name));
            if first {
                continue;
            }
            own &= *held == Names::EMPTY;
            *held = match (*held, u8::try_from(index + 1)) {
                // Index 254 is held as `SHARED`: looked up by the scan.
                (Names::EMPTY, Ok(held)) => held,
                _ => Names::SHARED,
            };
        }
        own
    }
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}

impl std::ops::Deref for Names {
    type Target = [Box<str>];

    fn deref(&self) -> &[Box<str>] {
        &self.list
    }
}

impl<'n> IntoIterator for &'n Names {
    type Item = &'n Box<str>;
    type IntoIter = std::slice::Iter<'n, Box<str>>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl FromIterator<Box<str>> for Names {
    fn from_iter<I: IntoIterator<Item = Box<str>>>(names: I) -> Self {
        let mut list = Names::new();
        for name in names {
            list.push(name);
        }
        list
    }
}

/// How much of a JSON value is read: all of it, where it is an object only the members named
/// (each read as far as its own `ValueRead` says), or where it is an array each item read
/// alike. Any other value is read whole. The values a configuration reads are built only so
/// far: what is not read is checked and skipped, not built (see `segment::FieldsRead`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ValueRead {
    /// The whole value.
    #[default]
    Whole,
    /// An object's members named here, the others not at all (an array is read whole: paths
    /// index it).
    Members(Vec<(Box<str>, ValueRead)>),
    /// An array's items, each read as this says; an object is read as this says too, as the
    /// one item `@arrayPath` maps it as.
    Items(Box<ValueRead>),
}

impl ValueRead {
    /// Paths longer than this are read whole from here: no event is nested deeper
    /// (`scan::MAX_DEPTH`), and the reads stay a shallow tree whatever a mapping writes.
    pub const MAX_PATH: usize = 128;

    /// Reads the value at `path` (keys from this value) whole, and the objects on the way in
    /// that member at least.
    pub fn add_path<K: AsRef<str>>(&mut self, path: &[K]) {
        self.add_path_read(path, &ValueRead::Whole);
    }

    /// Reads the value at `path` as `read` says, and the objects on the way in that member at
    /// least.
    pub fn add_path_read<K: AsRef<str>>(&mut self, path: &[K], read: &ValueRead) {
        self.add_path_at(path, read, 0);
    }

    /// [`ValueRead::add_path_read`] for a value `depth` keys deep.
    fn add_path_at<K: AsRef<str>>(&mut self, path: &[K], read: &ValueRead, depth: usize) {
        let Some((key, rest)) = path.split_first() else {
            self.merge(read);
            return;
        };
        if depth >= ValueRead::MAX_PATH {
            *self = ValueRead::Whole;
            return;
        }
        let members = match self {
            ValueRead::Whole => return,
            ValueRead::Members(members) => members,
            // A key into items read alike: read the whole.
            ValueRead::Items(_) => {
                *self = ValueRead::Whole;
                return;
            }
        };
        let key = key.as_ref();
        match members.iter_mut().find(|(name, _)| **name == *key) {
            Some((_, member)) => member.add_path_at(rest, read, depth + 1),
            None => {
                let mut member = ValueRead::NOTHING;
                member.add_path_at(rest, read, depth + 1);
                members.push((key.into(), member));
            }
        }
    }

    /// An object read in no member: what reads nothing yet ([`ValueRead::merge`] with it
    /// is the other read).
    pub const NOTHING: ValueRead = ValueRead::Members(Vec::new());

    /// Reads too what `other` reads.
    pub fn merge(&mut self, other: &ValueRead) {
        match (&mut *self, other) {
            (ValueRead::Whole, _) => {}
            (_, ValueRead::Whole) => *self = ValueRead::Whole,
            (ValueRead::Members(mine), _) if mine.is_empty() => *self = other.clone(),
            (_, ValueRead::Members(theirs)) if theirs.is_empty() => {}
            (ValueRead::Members(mine), ValueRead::Members(theirs)) => {
                for (name, read) in theirs {
                    match mine.iter_mut().find(|(known, _)| known == name) {
                        Some((_, known)) => known.merge(read),
                        None => mine.push((name.clone(), read.clone())),
                    }
                }
            }
            (ValueRead::Items(mine), ValueRead::Items(theirs)) => mine.merge(theirs),
            // Members of an object and items of an array (or of an object as one item): whole.
            (ValueRead::Members(_), ValueRead::Items(_))
            | (ValueRead::Items(_), ValueRead::Members(_)) => *self = ValueRead::Whole,
        }
    }

    /// How member `name` of an object read so is read: `None` when it is not.
    pub fn member(&self, name: &str) -> Option<&ValueRead> {
        match self {
            ValueRead::Whole => Some(self),
            ValueRead::Members(members) => members
                .iter()
                .find(|(known, _)| same_key(known, name))
                .map(|(_, read)| read),
            ValueRead::Items(item) => item.member(name),
        }
    }

    /// `value` as far as it is read (what the one-pass reader builds from its text).
    pub fn cut(&self, value: &Value) -> Value {
        let mut cut = value.clone();
        self.cut_in_place(&mut cut);
        cut
    }

    /// Leaves of `value` only what is read: the members of its objects that are not read are
    /// removed (the order of the others kept).
    pub fn cut_in_place(&self, value: &mut Value) {
        match (self, value) {
            (ValueRead::Members(_), Value::Object(object)) => {
                object.retain(|key, member| match self.member(key) {
                    Some(read) => {
                        read.cut_in_place(member);
                        true
                    }
                    None => false,
                })
            }
            (ValueRead::Items(item), Value::Array(items)) => {
                for value in items {
                    item.cut_in_place(value);
                }
            }
            (ValueRead::Items(item), value @ Value::Object(_)) => item.cut_in_place(value),
            _ => {}
        }
    }
}

/// The slot of [`Names`] for `name`: its length (its low byte) and first, second and last
/// bytes, mixed by a multiplication, the top six bits of the product.
#[inline(always)]
fn slot(name: &str, multiplier: u32) -> usize {
    let bytes = name.as_bytes();
    let byte = |at: Option<&u8>| u32::from(at.copied().unwrap_or(0));
    let mixed = (bytes.len() as u32 & 0xff)
        | byte(bytes.first()) << 8
        | byte(bytes.get(1)) << 16
        | byte(bytes.last()) << 24;
    (mixed.wrapping_mul(multiplier) >> 26) as usize
}

/// Where `name` is in the list `names` (compared as [`same_key`] compares): how a field, a
/// member looked up or a wanted member is found by its name's index.
pub(crate) fn name_index(names: &[Box<str>], name: &str) -> Option<usize> {
    names.iter().position(|known| same_key(known, name))
}

/// Whether two keys are the same: lengths first, then their bytes compared in words of eight
/// (the last word overlapping the one before; two words up to 16 bytes, without a loop) or
/// four, or one by one below four. Keys are short: this is faster than a call to `memcmp` in
/// wasm, and than comparing byte by byte.
#[inline(always)]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |bytes: &[u8], at: usize| -> u64 {
        (bytes.get(at..).and_then(<[u8]>::first_chunk::<8>))
            .map_or(0, |word| u64::from_le_bytes(*word))
    };
    let half = |bytes: &[u8], at: usize| -> u32 {
        (bytes.get(at..).and_then(<[u8]>::first_chunk::<4>))
            .map_or(0, |word| u32::from_le_bytes(*word))
    };
    match a.len() {
        // Most keys: two words, the second overlapping the first (no loop).
        length @ 8..=16 => word(a, 0) == word(b, 0) && word(a, length - 8) == word(b, length - 8),
        length @ 17.. => {
            (0..length - 8)
                .step_by(8)
                .all(|at| word(a, at) == word(b, at))
                && word(a, length - 8) == word(b, length - 8)
        }
        length @ 4.. => half(a, 0) == half(b, 0) && half(a, length - 4) == half(b, length - 4),
        _ => a.iter().zip(b).all(|(x, y)| x == y),
    }
}

/// Writes `value` as compact JSON.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => write_array(out, items, write_value),
        Value::Object(entries) => write_object(out, entries),
    }
}

/// Writes an object, its entries in order.
pub(crate) fn write_object(out: &mut String, entries: &Map<String, Value>) {
    write_members(
        out,
        entries.iter().map(|(key, value)| (key.as_str(), value)),
        write_value,
    );
}

/// Writes `[…]`: each item by `write`, separated by commas.
pub(crate) fn write_array<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    write: impl Fn(&mut String, T),
) {
    out.push('[');
    let mut first = true;
    for item in items {
        if !first {
            out.push(',');
        }
        first = false;
        write(out, item);
    }
    out.push(']');
}

/// Writes `{…}`: each key as a JSON string, each value by `write`, in order.
pub(crate) fn write_members<'k, T>(
    out: &mut String,
    members: impl IntoIterator<Item = (&'k str, T)>,
    write: impl Fn(&mut String, T),
) {
    out.push('{');
    let mut first = true;
    for (key, value) in members {
        if !first {
            out.push(',');
        }
        first = false;
        write_str(out, key);
        out.push(':');
        write(out, value);
    }
    out.push('}');
}

/// Writes a number as serde_json does: integers here, floats through `Number`'s `Display`
/// (serde_json's own shortest form, written without allocating a string).
pub(crate) fn write_number(out: &mut String, number: &Number) {
    if let Some(integer) = number.as_u64() {
        out.push_str(itoa::Buffer::new().format(integer));
    } else if let Some(integer) = number.as_i64() {
        out.push_str(itoa::Buffer::new().format(integer));
    } else if let Some(float) = number.as_f64().filter(|float| float.is_finite()) {
        // What `serde_json` writes for a float (its `Formatter::write_f64`), without `core::fmt`.
        out.push_str(zmij::Buffer::new().format_finite(float));
    } else {
        use std::fmt::Write;
        #[expect(
            clippy::let_underscore_must_use,
            reason = "writing to a String cannot fail"
        )]
        let _ = write!(out, "{number}");
    }
}

/// Writes a string in quotes, escaped as serde_json escapes it: `"`, `\\` and control characters.
pub(crate) fn write_str(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    if needs_escaping(text.as_bytes()) {
        write_escaped(out, text);
    } else {
        out.push_str(text);
    }
    out.push('"');
}

/// Whether `bytes` holds a `"`, a `\\` or a control character: eight bytes at a time, without
/// branches (most strings need no escaping, and are short).
pub(crate) fn needs_escaping(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut found = 0;
    for word in &mut words {
        let mut array = [0; 8];
        array.copy_from_slice(word);
        found |= special_bytes(u64::from_ne_bytes(array));
    }
    let tail = words
        .remainder()
        .iter()
        .fold(false, |found, &byte| found | needs_escape(byte));
    found != 0 || tail
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The bytes of `word` that [`needs_escape`] flags, as the high bit of each: exact for the
/// lowest one (a borrow runs only towards higher bytes, which may be flagged too), so exact
/// for "any" and, loaded little-endian, for "the first". `"` and the control characters are
/// found together: flipping bit 1 turns `"` (0x22) into 0x20 and keeps every control character
/// below 0x21 and every other byte at or above it, so one comparison finds them (two
/// subtractions per word instead of three).
#[inline(always)]
pub(crate) fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote_or_control = word ^ (ONES * 0x02);
    let backslash = word ^ (ONES * u64::from(b'\\'));
    // The high bit of a byte of `x - ONES * k & !x` is set when that byte is below `k`.
    ((quote_or_control.wrapping_sub(ONES * 0x21) & !quote_or_control)
        | (backslash.wrapping_sub(ONES) & !backslash))
        & HIGH
}

/// `text` escaped; the bytes escaped are ASCII, so every cut is at a character boundary.
fn write_escaped(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The start of the bytes not written yet.
    let mut pending = 0;
    for (at, &byte) in text.as_bytes().iter().enumerate() {
        let short = match byte {
            b'"' => '"',
            b'\\' => '\\',
            0x08 => 'b',
            0x0c => 'f',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            0x00..=0x1f => 'u',
            _ => continue,
        };
        out.push_str(text.get(pending..at).unwrap_or_default());
        pending = at + 1;
        out.push('\\');
        out.push(short);
        if short == 'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out.push_str(text.get(pending..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    /// The first byte `special_bytes` flags in a word is the first byte `needs_escape` flags,
    /// for every byte value at every position after plain bytes of every kind, with anything
    /// after it; and a word of plain bytes has none flagged.
    #[test]
    fn special_bytes_flag_the_first_byte_to_escape_exactly() {
        let first = |bytes: [u8; 8]| {
            let found = special_bytes(u64::from_le_bytes(bytes));
            (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
        };
        let plain: Vec<u8> = (0..=255).filter(|&b| !needs_escape(b)).collect();
        for at in 0..8 {
            for byte in 0..=255u8 {
                for (n, &before) in plain.iter().enumerate() {
                    let after = [0x00, b'"', b'\\', b' ', 0xff][n % 5];
                    let mut bytes = [after; 8];
                    bytes[..at].fill(before);
                    bytes[at] = byte;
                    let expected = match needs_escape(byte) {
                        true => Some(at),
                        false => bytes[at + 1..]
                            .iter()
                            .position(|&b| needs_escape(b))
                            .map(|p| at + 1 + p),
                    };
                    assert_eq!(first(bytes), expected, "{bytes:?}");
                }
            }
        }
        for &byte in &plain {
            assert_eq!(first([byte; 8]), None, "{byte:#x}");
        }
    }

    /// A name's index in [`Names`] is its first position in the list, for every name of lists
    /// with shared slots, repeated names, an empty name and more names than slots hold
    /// indexes for, and no index for names near them that are not in the list.
    #[test]
    fn names_are_found_where_the_scan_finds_them() {
        let fields = [
            "type",
            "messageId",
            "userId",
            "anonymousId",
            "event",
            "properties",
            "timestamp",
            "context",
            "integrations",
            "writeKey",
            "sentAt",
            "receivedAt",
            "originalTimestamp",
        ];
        let many: Vec<String> = (0..300).map(|i| format!("f{i}")).collect();
        let lists: [Vec<&str>; 4] = [
            fields.to_vec(),
            vec!["a", "b", "a", "", "ab", "ba", "b"],
            many.iter().map(String::as_str).collect(),
            vec![],
        ];
        for list in lists {
            let names: Names = list.iter().map(|name| Box::from(*name)).collect();
            let boxed: Vec<Box<str>> = list.iter().map(|name| Box::from(*name)).collect();
            assert_eq!(&*names, &boxed[..]);
            let mut near: Vec<String> = vec![String::new(), "x".into(), "type ".into()];
            for name in &list {
                near.push(format!("{name}x"));
                near.push(format!("x{name}"));
                near.extend(name.get(1..).map(str::to_string));
                near.push(name.to_uppercase());
            }
            for name in list.iter().copied().chain(near.iter().map(String::as_str)) {
                assert_eq!(names.index(name), name_index(&boxed, name), "{name:?}");
            }
        }
        // The fields events are read for have a slot each: one comparison finds each.
        let names: Names = fields.iter().map(|name| Box::from(*name)).collect();
        for (index, name) in fields.iter().enumerate() {
            assert_eq!(
                usize::from(names.slots[slot(name, names.multiplier)]),
                index + 1,
                "{name}"
            );
        }
        assert_eq!(Names::default(), Names::new());
    }

    /// Two names that the first multiplier puts in one slot get a slot each from another.
    #[test]
    fn names_sharing_a_slot_are_given_a_multiplier_that_parts_them() {
        let first = Names::MULTIPLIERS[0];
        let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let pair = (keys.iter().enumerate())
            .flat_map(|(at, a)| keys[at + 1..].iter().map(move |b| (a, b)))
            .find(|(a, b)| {
                slot(a, first) == slot(b, first)
                    && (Names::MULTIPLIERS.iter()).any(|&other| slot(a, other) != slot(b, other))
            });
        let Some((a, b)) = pair else {
            panic!("no two keys share a slot");
        };
        let names: Names = [a, b]
            .map(|key| Box::from(key.as_str()))
            .into_iter()
            .collect();
        assert_ne!(names.multiplier, first);
        assert_eq!(names.slots[slot(a, names.multiplier)], 1);
        assert_eq!(names.slots[slot(b, names.multiplier)], 2);
        assert_eq!((names.index(a), names.index(b)), (Some(0), Some(1)));
    }

    /// Keys compared in words are the same exactly when they are equal: every length up to 24,
    /// with one byte changed at every position, or the lengths differing.
    #[test]
    fn keys_compared_in_words_are_the_same_exactly_when_equal() {
        for length in 0..=24 {
            let key: String = (0..length).map(|i| char::from(b'a' + i as u8)).collect();
            assert!(same_key(&key, &key.clone()), "{key}");
            assert!(!same_key(&key, &format!("{key}z")), "{key}");
            for at in 0..length {
                let mut other = key.clone().into_bytes();
                other[at] = b'Z';
                let other = String::from_utf8(other).unwrap_or_default();
                assert!(!same_key(&key, &other), "{key} {other}");
            }
        }
    }

    use super::*;

    /// A read made of `paths`, each read whole.
    fn read_of(paths: &[&[&str]]) -> ValueRead {
        let mut read = ValueRead::NOTHING;
        for path in paths {
            read.add_path(path);
        }
        read
    }

    #[test]
    fn reads_grow_by_paths_and_merge_into_what_either_reads() {
        let read = read_of(&[&["a", "b"], &["a", "c"], &["d"]]);
        let b_and_c = ValueRead::Members(vec![
            ("b".into(), ValueRead::Whole),
            ("c".into(), ValueRead::Whole),
        ]);
        assert_eq!(
            read,
            ValueRead::Members(vec![
                ("a".into(), b_and_c.clone()),
                ("d".into(), ValueRead::Whole)
            ])
        );
        // A path read whole covers the longer ones, in either order.
        assert_eq!(
            read_of(&[&["a"], &["a", "b"]]),
            read_of(&[&["a", "b"], &["a"]])
        );
        assert_eq!(read_of(&[&["a"], &["a", "b"]]), read_of(&[&["a"]]));
        assert_eq!(read_of(&[&[]]), ValueRead::Whole);
        // Merging: nothing is neutral, whole absorbs, members unite, members and items make
        // the whole.
        let mut merged = ValueRead::NOTHING;
        merged.merge(&b_and_c);
        assert_eq!(merged, b_and_c);
        let mut merged = b_and_c.clone();
        merged.merge(&ValueRead::NOTHING);
        assert_eq!(merged, b_and_c);
        let mut merged = read_of(&[&["b"]]);
        merged.merge(&read_of(&[&["c"]]));
        assert_eq!(merged, b_and_c);
        let mut merged = read_of(&[&["b"]]);
        merged.merge(&read_of(&[&["b", "x"]]));
        assert_eq!(merged, read_of(&[&["b"]]));
        let items = ValueRead::Items(Box::new(read_of(&[&["b"]])));
        let mut merged = items.clone();
        merged.merge(&ValueRead::NOTHING);
        assert_eq!(merged, items);
        let mut merged = ValueRead::NOTHING;
        merged.merge(&items);
        assert_eq!(merged, items);
        let mut merged = items.clone();
        merged.merge(&ValueRead::Items(Box::new(read_of(&[&["c"]]))));
        assert_eq!(merged, ValueRead::Items(Box::new(b_and_c.clone())));
        for (mut one, other) in [
            (items.clone(), b_and_c.clone()),
            (b_and_c.clone(), items.clone()),
        ] {
            one.merge(&other);
            assert_eq!(one, ValueRead::Whole);
        }
        let mut whole = ValueRead::Whole;
        whole.merge(&b_and_c);
        assert_eq!(whole, ValueRead::Whole);
        // A path into items read alike reads them whole.
        let mut into_items = items.clone();
        into_items.add_path(&["0"]);
        assert_eq!(into_items, ValueRead::Whole);
        // `member`: whole reads every member, members only theirs, items as their item.
        assert_eq!(ValueRead::Whole.member("x"), Some(&ValueRead::Whole));
        assert_eq!(b_and_c.member("b"), Some(&ValueRead::Whole));
        assert_eq!(b_and_c.member("x"), None);
        assert_eq!(items.member("b"), Some(&ValueRead::Whole));
        assert_eq!(items.member("c"), None);
    }

    #[test]
    fn paths_are_read_whole_from_a_depth_no_event_reaches() {
        let keys: Vec<String> = (0..ValueRead::MAX_PATH + 50)
            .map(|at| format!("k{at}"))
            .collect();
        let mut read = ValueRead::NOTHING;
        read.add_path(&keys);
        let mut depth = 0;
        let mut at = &read;
        while let ValueRead::Members(members) = at {
            assert_eq!(members.len(), 1);
            at = &members[0].1;
            depth += 1;
        }
        assert_eq!(depth, ValueRead::MAX_PATH);
        assert_eq!(*at, ValueRead::Whole);
        // Keys met again count towards the depth too.
        let mut shared = ValueRead::NOTHING;
        shared.add_path(&[&keys[..50], &["x".to_string()][..]].concat());
        shared.add_path(&keys);
        let mut depth = 0;
        let mut at = &shared;
        while let Some(next) = (keys.get(depth)).and_then(|key| match at {
            ValueRead::Members(_) => at.member(key),
            _ => None,
        }) {
            at = next;
            depth += 1;
        }
        assert_eq!(depth, ValueRead::MAX_PATH);
        assert_eq!(*at, ValueRead::Whole);
        // A short path beside it is read to its end.
        let mut beside = ValueRead::NOTHING;
        beside.add_path(&keys[..3]);
        beside.add_path(&["other", "x"]);
        assert_eq!(beside.member("other"), Some(&read_of(&[&["x"]])));
    }

    #[test]
    fn values_are_cut_to_what_is_read() {
        let value = serde_json::json!({"a": {"b": 1, "c": [1, {"b": 2}], "x": 3}, "d": [{"b": 4, "y": 5}, 6], "e": 7});
        let read = read_of(&[&["a", "b"], &["a", "c"]]);
        assert_eq!(
            read.cut(&value),
            serde_json::json!({"a": {"b": 1, "c": [1, {"b": 2}]}})
        );
        let mut with_items = read.clone();
        with_items.add_path_read(&["d"], &ValueRead::Items(Box::new(read_of(&[&["b"]]))));
        assert_eq!(
            with_items.cut(&value),
            serde_json::json!({"a": {"b": 1, "c": [1, {"b": 2}]}, "d": [{"b": 4}, 6]})
        );
        // Items read alike cut an object as their one item; members leave arrays whole.
        let items = ValueRead::Items(Box::new(read_of(&[&["b"]])));
        assert_eq!(
            items.cut(&serde_json::json!({"b": 1, "c": 2})),
            serde_json::json!({"b": 1})
        );
        assert_eq!(
            read.cut(&serde_json::json!([{"x": 1}])),
            serde_json::json!([{"x": 1}])
        );
        assert_eq!(ValueRead::Whole.cut(&value), value);
        assert_eq!(ValueRead::NOTHING.cut(&value), serde_json::json!({}));
    }
    use serde_json::json;

    fn same_as_serde_json(value: &Value) {
        let mut ours = String::new();
        write_value(&mut ours, value);
        assert_eq!(ours, serde_json::to_string(value).unwrap());
    }

    /// Floats are written as serde_json writes them: prices, tiny and huge magnitudes, and
    /// 100,000 values spread over every exponent.
    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let mut floats = vec![
            19.99,
            0.1,
            -2.5,
            1e-7,
            1.5e300,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            bits = bits
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            floats.push(f64::from_bits(bits));
        }
        for float in floats.into_iter().filter(|float| float.is_finite()) {
            same_as_serde_json(&json!(float));
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for text in [
            String::new(),
            "plain".to_string(),
            "exactly8".to_string(),
            every_ascii.clone(),
            every_ascii.chars().rev().collect(),
            "é ü \u{2028} \u{7f} 😀 \"quoted\" back\\slash".repeat(3),
        ] {
            for shift in 0..9 {
                let shifted = format!("{}{text}{}", "x".repeat(shift), "y".repeat(shift));
                same_as_serde_json(&Value::String(shifted));
            }
        }
        for byte in 0u8..128 {
            let text = format!("abcdefg{}hijklmnop", char::from(byte));
            same_as_serde_json(&Value::String(text));
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        same_as_serde_json(&json!({
            "null": null, "t": true, "f": false, "": "",
            "numbers": [0, 1, -1, u64::MAX, i64::MIN, 1.5, -0.0, 1e21, 1.5e-7, 0.1, 25.0, 2.5e300],
            "nested": {"a": [{"b": []}, {}], "k\"ey\n": "v\u{1}"},
        }));
    }
}
