//! Reads JSON text without building values, as `serde_json` would read it: what carries an
//! event's `properties` into LaunchDarkly's `data` untouched ([`copy_object`]), and what reads
//! an event's top-level members one by one, skipping the unread ones ([`Members`]).
//!
//! A copy is the text `serde_json` writes for the value it parses (compact, strings escaped as
//! it escapes them, numbers as it prints them: a number that is not a plain integer of at most
//! 18 digits goes through `serde_json` itself). Where a copy could differ (a repeated key, a key
//! with an escape) it is refused, and the caller builds the value instead. A value skipped is
//! checked as `serde_json` checks a value it reads (numbers in range, escapes that decode), so
//! that text these accept is text `serde_json` reads; anything else is refused, and the caller
//! reads the text with `serde_json` (for its exact error).

use super::ValueRead;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The most containers nested in one another that `serde_json` reads, counting the outermost
/// (its recursion limit, 128, refuses the 128th).
const MAX_DEPTH: usize = 127;

/// Objects with more keys than this find repeats by sorting rather than comparing each pair.
const LINEAR_KEYS: usize = 24;

/// The values of an object's top-level members named in a list (`wanted`), built: each with
/// the index of its name in the list, in the text's order. No map: no key is allocated or hashed.
pub(crate) type Found = Vec<(usize, Value)>;

/// Appends to `out` the JSON object `raw` as `serde_json::to_string` writes the value it parses
/// to, and returns the values of its top-level members named in `wanted` (built). `None`, with
/// `out` as it was, when `raw` is not an object, is not JSON, or holds what is not copied
/// as it is (see the module's comment): the caller builds the whole value instead.
pub(crate) fn copy_object(raw: &str, wanted: &[Box<str>], out: &mut String) -> Option<Found> {
    let start = out.len();
    // The object is the outermost container here, not a member's value.
    let (copied, end) = copy_object_at(raw, 0, 0, wanted, out)?;
    let mut rest = Reader::new(raw);
    rest.at = end;
    rest.skip_whitespace();
    if rest.at != raw.len() {
        out.truncate(start);
        return None;
    }
    Some(copied)
}

/// [`copy_object`] for the object at byte `at` of `raw` (after whitespace), held in `depth`
/// containers; also returns where it ends. Its text is its copy where [`verbatim_object`] says
/// so (compact JSON, as Segment's libraries send); else it is copied member by member.
fn copy_object_at(
    raw: &str,
    at: usize,
    depth: usize,
    wanted: &[Box<str>],
    out: &mut String,
) -> Option<(Found, usize)> {
    if let Some((found, end)) = verbatim_object(raw, at, depth, wanted) {
        out.push_str(raw.get(at..end)?);
        return Some((found, end));
    }
    copy_members_at(raw, at, depth, wanted, out)
}

/// [`copy_object_at`] member by member: whitespace left out, strings and numbers written again
/// where `serde_json` writes them otherwise.
fn copy_members_at(
    raw: &str,
    at: usize,
    depth: usize,
    wanted: &[Box<str>],
    out: &mut String,
) -> Option<(Found, usize)> {
    let start = out.len();
    let mut copier = Reader {
        raw,
        bytes: raw.as_bytes(),
        at,
        out: Some(out),
        pending: at,
    };
    let mut found = Found::with_capacity(wanted.len());
    match copier.object(depth, wanted, Some(&mut found)) {
        Some(()) => {
            copier.flush(copier.at);
            Some((found, copier.at))
        }
        None => {
            if let Some(out) = copier.out {
                out.truncate(start);
            }
            None
        }
    }
}

/// Whether the object at byte `at` of `raw`, held in `depth` containers, is text that
/// `serde_json` writes as it is for the value it parses: no whitespace, no escape, no repeated
/// key (at most [`LINEAR_KEYS`] keys per object), only numbers it prints as they are, and no
/// deeper than it reads. Then returns the values of its top-level members named in `wanted`
/// (built) and where it ends; else `None`. One loop, as [`Reader::skip_value`] reads: the
/// common case of [`copy_object_at`] at the cost of checking the text.
fn verbatim_object(
    raw: &str,
    at: usize,
    depth: usize,
    wanted: &[Box<str>],
) -> Option<(Found, usize)> {
    let bytes = raw.as_bytes();
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    let mut at = at;
    let mut verbatim = Verbatim {
        raw,
        wanted,
        found: Found::with_capacity(wanted.len()),
        // Room for the keys of a typical event's `properties`, which are copied.
        keys: Vec::with_capacity(32),
        base: 0,
        seen: 0,
        wanted_value: None,
    };
    // Bit 0 is the innermost open container: set for an object, clear for an array.
    let mut objects: u128 = 0;
    let mut open = 0;
    loop {
        // A value.
        match *bytes.get(at)? {
            opening @ (b'{' | b'[') => {
                if depth + open >= MAX_DEPTH {
                    return None;
                }
                at += 1;
                let object = opening == b'{';
                if bytes.get(at) == Some(if object { &b'}' } else { &b']' }) {
                    at += 1;
                } else {
                    objects = objects << 1 | u128::from(object);
                    open += 1;
                    if object {
                        verbatim.open_object()?;
                        at = verbatim.key(at, open)?;
                    }
                    continue;
                }
            }
            b'"' => at = verbatim_string(bytes, at)?,
            b't' => at = literal_end(bytes, at, b"true")?,
            b'f' => at = literal_end(bytes, at, b"false")?,
            b'n' => at = literal_end(bytes, at, b"null")?,
            b'-' | b'0'..=b'9' => at = verbatim_number(raw, at)?,
            _ => return None,
        }
        // After a value: the containers it ends, up to where the next value starts.
        loop {
            if open == 0 {
                return Some((verbatim.found, at));
            }
            if open == 1 {
                // Keys are not repeated here (refused above).
                if let Some((index, start)) = verbatim.wanted_value.take() {
                    let value = build(raw.get(start..at)?)?;
                    verbatim.found.push((index, value));
                }
            }
            let object = objects & 1 == 1;
            match *bytes.get(at)? {
                b',' => {
                    at += 1;
                    if object {
                        at = verbatim.key(at, open)?;
                    }
                    break;
                }
                b'}' if object => verbatim.close_object()?,
                b']' if !object => {}
                _ => return None,
            }
            at += 1;
            objects >>= 1;
            open -= 1;
        }
    }
}

/// What [`verbatim_object`] keeps while it reads.
struct Verbatim<'r, 'w> {
    raw: &'r str,
    wanted: &'w [Box<str>],
    found: Found,
    /// The keys of the open objects, each with its [`key_tag`], each object's keys after two
    /// markers holding where the enclosing object's keys start and its [`Verbatim::seen`] (one
    /// vector, not three).
    keys: Vec<(u64, &'r str)>,
    /// Where the innermost open object's keys start in `keys`.
    base: usize,
    /// The innermost open object's keys as bits, one per key ([`seen_bit`]): a key whose bit is
    /// clear is not a repeat, and is not compared with the others.
    seen: u64,
    /// A wanted top-level member whose value is being read: its name's index in `wanted`,
    /// where its value starts.
    wanted_value: Option<(usize, usize)>,
}

impl<'r> Verbatim<'r, '_> {
    /// An object opens: its keys start after markers keeping the enclosing object's start and
    /// bits.
    fn open_object(&mut self) -> Option<()> {
        self.keys.push((u64::try_from(self.base).ok()?, ""));
        self.keys.push((self.seen, ""));
        self.base = self.keys.len();
        self.seen = 0;
        Some(())
    }

    /// The innermost object closes: its keys and its markers go, and the enclosing object's
    /// keys are the ones met again.
    fn close_object(&mut self) -> Option<()> {
        self.keys.truncate(self.base);
        (self.seen, _) = self.keys.pop()?;
        let (enclosing, _) = self.keys.pop()?;
        self.base = usize::try_from(enclosing).ok()?;
        Some(())
    }

    /// Reads the key at `at` and its colon, in an object `open` containers deep: `None` for a
    /// key with an escape, a repeated key, or an object with too many keys.
    fn key(&mut self, at: usize, open: usize) -> Option<usize> {
        let end = verbatim_string(self.raw.as_bytes(), at)?;
        let key = self.raw.get(at + 1..end - 1)?;
        if self.raw.as_bytes().get(end) != Some(&b':') {
            return None;
        }
        let tag = key_tag_at(self.raw.as_bytes(), at + 1, key);
        let met = self.keys.get(self.base..)?;
        let bit = seen_bit(tag);
        if met.len() >= LINEAR_KEYS || (self.seen & bit != 0 && met_already(met, tag, key)) {
            return None;
        }
        self.seen |= bit;
        self.keys.push((tag, key));
        if open == 1 {
            if let Some(index) = super::name_index(self.wanted, key) {
                self.wanted_value = Some((index, end + 1));
            }
        }
        Some(end + 1)
    }
}

/// Where the string at `at` ends (past its closing quote) when it has no escape.
#[inline(always)]
fn verbatim_string(bytes: &[u8], at: usize) -> Option<usize> {
    let (end, escaped) = string_end(bytes, at)?;
    (!escaped).then_some(end)
}

/// Where the number at `at` ends when `serde_json` prints it as it is ([`number_as_it_is`]).
fn verbatim_number(raw: &str, at: usize) -> Option<usize> {
    let end = number_end(raw.as_bytes(), at);
    number_as_it_is(raw.get(at..end)?).then_some(end)
}

/// Where the string at `at` ends (past its closing quote), and whether it has an escape.
/// A control character inside it is refused, as JSON refuses it. Inlined, as are the string
/// readers around it: a call per string cost 3% of the native core on typical events.
#[inline(always)]
fn string_end(bytes: &[u8], at: usize) -> Option<(usize, bool)> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut at = at + 1;
    let mut escaped = false;
    loop {
        at += plain_run(bytes.get(at..)?);
        match *bytes.get(at)? {
            b'"' => return Some((at + 1, escaped)),
            b'\\' => {
                escaped = true;
                at += 2;
            }
            0x00..=0x1f => return None,
            _ => at += 1,
        }
    }
}

/// Where `word` ends when it is at `at`.
fn literal_end(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let end = at + word.len();
    (bytes.get(at..end)? == word).then_some(end)
}

/// Where the number token at `at` ends: its digits, signs, point and exponent, checked by
/// whoever reads it.
fn number_end(bytes: &[u8], at: usize) -> usize {
    let length = (bytes.get(at..).unwrap_or_default().iter())
        .take_while(|byte| matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        .count();
    at + length
}

/// Whether `serde_json` prints the number `token` as it is: a [`plain_integer`] or a decimal
/// [`printed_as_it_is`].
fn number_as_it_is(token: &str) -> bool {
    plain_integer(token) || printed_as_it_is(token.strip_prefix('-').unwrap_or(token))
}

/// Whether `token` is an integer of 1 to 18 digits (never out of range), with no leading zero
/// and not `-0`: `serde_json` prints it as it is.
fn plain_integer(token: &str) -> bool {
    let digits = token.strip_prefix('-').unwrap_or(token);
    (1..=18).contains(&digits.len())
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'))
        && token != "-0"
}

/// The members of a JSON object's text, read one at a time: each value skipped, built, or (an
/// object) copied. `None` from any method means the text is not read here (see the module's
/// comment); the caller then reads it all with `serde_json`.
pub(crate) struct Members<'r> {
    reader: Reader<'r, 'static>,
    /// Whether no member has been read yet.
    first: bool,
}

/// A member's value as [`Members::scalar_or_value_within`] reads it.
pub(crate) enum Member<'r> {
    /// A string without escapes: its characters.
    Str(&'r str),
    /// Any other value, built.
    Value(Value),
}

/// How many containers hold a member's value: the object, whose depth is counted from itself
/// (as each event of a batch is read).
const MEMBER_DEPTH: usize = 1;

impl<'r> Members<'r> {
    /// The members of the object `raw`.
    pub(crate) fn new(raw: &'r str) -> Option<Members<'r>> {
        Self::at(raw, 0)
    }

    /// The members of the object that starts at byte `at` of `raw`, its depth counted from
    /// itself (as each event of a batch is read).
    pub(crate) fn at(raw: &'r str, at: usize) -> Option<Members<'r>> {
        Some(Members {
            reader: Reader::opened(raw, at, b'{')?,
            first: true,
        })
    }

    /// Where reading stands: past the object once [`Members::next_key`] said it ended.
    pub(crate) fn position(&self) -> usize {
        self.reader.at
    }

    /// The next member's key (`Some(None)` past the last member); only keys without escapes.
    pub(crate) fn next_key(&mut self) -> Option<Option<&'r str>> {
        self.reader.skip_whitespace();
        match self.reader.peek()? {
            b'}' => {
                self.reader.at += 1;
                return Some(None);
            }
            b',' if !self.first => self.reader.at += 1,
            _ if self.first => {}
            _ => return None,
        }
        self.first = false;
        self.reader.skip_whitespace();
        let (end, escaped) = self.reader.string_end()?;
        if escaped {
            return None;
        }
        let key = self.reader.raw.get(self.reader.at + 1..end - 1)?;
        self.reader.at = end;
        self.reader.consume(b':')?;
        Some(Some(key))
    }

    /// Skips the current member's value, checked as `serde_json` would read it.
    pub(crate) fn skip(&mut self) -> Option<()> {
        self.reader.value(MEMBER_DEPTH)
    }

    /// [`Members::skip`], returning the value's text.
    pub(crate) fn skip_text(&mut self) -> Option<&'r str> {
        self.reader.skip_whitespace();
        let start = self.reader.at;
        self.reader.value(MEMBER_DEPTH)?;
        self.reader.raw.get(start..self.reader.at)
    }

    /// Goes on reading at `at`, where the caller finished reading the current member's value.
    pub(crate) fn resume_at(&mut self, at: usize) {
        self.reader.at = at;
    }

    /// The current member's value, built as far as `read` reads it when it ends by byte
    /// `within` of the text (else checked only: `Some(None)`).
    pub(crate) fn value_within(
        &mut self,
        within: usize,
        read: &ValueRead,
    ) -> Option<Option<Value>> {
        Some(
            self.scalar_or_value_within(within, read)?
                .map(|member| match member {
                    Member::Str(text) => Value::String(text.to_string()),
                    Member::Value(value) => value,
                }),
        )
    }

    /// [`Members::value_within`], but a string without escapes is its characters in the text,
    /// not a value built.
    pub(crate) fn scalar_or_value_within(
        &mut self,
        within: usize,
        read: &ValueRead,
    ) -> Option<Option<Member<'r>>> {
        self.reader.skip_whitespace();
        let start = self.reader.at;
        if self.reader.peek() == Some(b'"') {
            let (end, escaped) = self.reader.string_end()?;
            if !escaped {
                self.reader.at = end;
                if end > within {
                    return Some(None);
                }
                return Some(Some(Member::Str(self.reader.raw.get(start + 1..end - 1)?)));
            }
        }
        self.reader.value(MEMBER_DEPTH)?;
        if self.reader.at > within {
            return Some(None);
        }
        build_read(self.reader.raw.get(start..self.reader.at)?, read)
            .map(|value| Some(Member::Value(value)))
    }

    /// Copies the current member's value, an object, to the end of `out` as [`copy_object`]
    /// does, and returns the values of its members named in `wanted`. `None`, with nothing
    /// read and `out` as it was, when the value is not such an object.
    pub(crate) fn copy_object(&mut self, wanted: &[Box<str>], out: &mut String) -> Option<Found> {
        self.reader.skip_whitespace();
        if self.reader.peek() != Some(b'{') {
            return None;
        }
        let (found, end) =
            copy_object_at(self.reader.raw, self.reader.at, MEMBER_DEPTH, wanted, out)?;
        self.reader.at = end;
        Some(found)
    }

    /// Checks that nothing but whitespace follows the object.
    pub(crate) fn finish(&mut self) -> Option<()> {
        self.reader.skip_whitespace();
        (self.reader.at == self.reader.raw.len()).then_some(())
    }
}

/// The items of a JSON array's text, found one at a time; the caller reads each (from its
/// start, with [`Members::at`] or [`Items::skip_item`]) and says where it ended.
pub(crate) struct Items<'r> {
    reader: Reader<'r, 'static>,
    /// Whether no item has been found yet.
    first: bool,
}

impl<'r> Items<'r> {
    /// The items of the array `raw`.
    pub(crate) fn new(raw: &'r str) -> Option<Items<'r>> {
        Self::at(raw, 0)
    }

    /// The items of the array that starts at byte `at` of `raw` (after whitespace).
    pub(crate) fn at(raw: &'r str, at: usize) -> Option<Items<'r>> {
        Some(Items {
            reader: Reader::opened(raw, at, b'[')?,
            first: true,
        })
    }

    /// The whole text the array is read from.
    pub(crate) fn text(&self) -> &'r str {
        self.reader.raw
    }

    /// Where reading stands: past the array once [`Items::resume_at`] said it ended.
    pub(crate) fn position(&self) -> usize {
        self.reader.at
    }

    /// Where the next item starts (`Some(None)` past the last one).
    pub(crate) fn next_start(&mut self) -> Option<Option<usize>> {
        self.reader.skip_whitespace();
        match self.reader.peek()? {
            b']' if self.first => {
                self.reader.at += 1;
                return Some(None);
            }
            b']' => return None,
            b',' if !self.first => {
                self.reader.at += 1;
                self.reader.skip_whitespace();
            }
            _ if self.first => {}
            _ => return None,
        }
        self.first = false;
        Some(Some(self.reader.at))
    }

    /// Skips the item that starts where reading stands, checked as `serde_json` reads it
    /// alone (its depth counted from itself, as each event of a batch is read), and returns
    /// its text.
    pub(crate) fn skip_item(&mut self) -> Option<&'r str> {
        let start = self.reader.at;
        self.reader.value(0)?;
        self.reader.raw.get(start..self.reader.at)
    }

    /// Goes on reading at `at`, where the caller finished reading an item; then past the
    /// array's end (`Some(true)`) or at the next comma (`Some(false)`).
    pub(crate) fn resume_at(&mut self, at: usize) -> Option<bool> {
        self.reader.at = at;
        self.reader.skip_whitespace();
        match self.reader.peek()? {
            b']' => {
                self.reader.at += 1;
                Some(true)
            }
            b',' => Some(false),
            _ => None,
        }
    }

    /// Checks that nothing but whitespace follows the array.
    pub(crate) fn finish(&mut self) -> Option<()> {
        self.reader.skip_whitespace();
        (self.reader.at == self.reader.raw.len()).then_some(())
    }
}

/// The keys of one object being copied, to refuse a repeat: the first ones compared one by
/// one (by [`key_tag`] first, so that most pairs cost one integer comparison), all of them
/// sorted past that.
struct KeysMet<'r> {
    first: [(u64, &'r str); LINEAR_KEYS],
    count: usize,
    /// Every key, once there are more than [`LINEAR_KEYS`].
    all: Vec<&'r str>,
}

impl<'r> KeysMet<'r> {
    fn new() -> Self {
        KeysMet {
            first: [(0, ""); LINEAR_KEYS],
            count: 0,
            all: Vec::new(),
        }
    }

    /// Adds `key`; `None` when it is one of the first keys again.
    fn add(&mut self, key: &'r str) -> Option<()> {
        if self.count < LINEAR_KEYS {
            let tag = key_tag(key);
            let (met, rest) = self.first.split_at_mut(self.count);
            if met_already(met, tag, key) {
                return None;
            }
            *rest.first_mut()? = (tag, key);
        } else if self.all.is_empty() {
            self.all
                .extend(self.first.iter().map(|(_, key)| *key).chain([key]));
        } else {
            self.all.push(key);
        }
        self.count += 1;
        Some(())
    }

    /// Whether a key came again past the first ones.
    fn repeat(mut self) -> bool {
        self.all.sort_unstable();
        self.all.windows(2).any(|pair| pair.first() == pair.get(1))
    }
}

/// Whether `key`, whose [`key_tag`] is `tag`, is one of the keys `met`.
fn met_already(met: &[(u64, &str)], tag: u64, key: &str) -> bool {
    met.iter()
        .any(|(other, text)| *other == tag && *text == key)
}

/// The bit of [`Verbatim::seen`] for a key whose [`key_tag`] is `tag`: equal keys have the same
/// bit; of the keys of one object, few others do.
#[inline(always)]
fn seen_bit(tag: u64) -> u64 {
    // The tag's bytes mixed by a multiplication; the top six bits of the product pick the bit.
    1 << (tag.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
}

/// A key's length and first seven bytes: equal for equal keys, and for different keys mostly
/// not (keys that differ only past their seventh byte have the same tag).
#[inline(always)]
fn key_tag(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mut prefix = [0; 8];
    match bytes.get(..8) {
        Some(first) => prefix.copy_from_slice(first),
        None => {
            for (slot, byte) in prefix.iter_mut().zip(bytes) {
                *slot = *byte;
            }
        }
    }
    (u64::from_le_bytes(prefix) & 0x00ff_ffff_ffff_ffff) ^ (bytes.len() as u64) << 56
}

/// The [`key_tag`] of `key`, which starts at `start` of `bytes`: one load of the eight bytes
/// there, masked to the key's, where `bytes` has eight from `start` (a key's own bytes are
/// copied one by one into the tag, a call to `memcpy` natively and a `memory.copy` in wasm).
#[inline(always)]
fn key_tag_at(bytes: &[u8], start: usize, key: &str) -> u64 {
    let Some(word) = bytes.get(start..).and_then(<[u8]>::first_chunk::<8>) else {
        return key_tag(key);
    };
    let length = key.len();
    let kept = match length {
        7.. => 0x00ff_ffff_ffff_ffff,
        _ => (1 << (8 * length)) - 1,
    };
    (u64::from_le_bytes(*word) & kept) ^ (length as u64) << 56
}

/// JSON text read from `at`, copied to `out` when there is one (else only checked).
struct Reader<'r, 'o> {
    raw: &'r str,
    bytes: &'r [u8],
    /// The next byte to read.
    at: usize,
    out: Option<&'o mut String>,
    /// Copying, where the text not copied yet starts (it is copied as it is, in runs).
    pending: usize,
}

impl<'r, 'o> Reader<'r, 'o> {
    fn new(raw: &'r str) -> Self {
        Reader {
            raw,
            bytes: raw.as_bytes(),
            at: 0,
            out: None,
            pending: 0,
        }
    }

    /// Reading `raw` past the `opening` byte (after whitespace) at byte `at`.
    fn opened(raw: &'r str, at: usize, opening: u8) -> Option<Self> {
        let mut reader = Reader::new(raw);
        reader.at = at;
        reader.consume(opening)?;
        Some(reader)
    }

    fn copying(&self) -> bool {
        self.out.is_some()
    }

    /// Copies the text not copied yet, up to `to`.
    fn flush(&mut self, to: usize) {
        if let Some(out) = self.out.as_deref_mut() {
            out.push_str(self.raw.get(self.pending..to).unwrap_or_default());
            self.pending = to;
        }
    }

    /// Copies `text` in place of the text from `start` to `end`.
    fn replace(&mut self, start: usize, end: usize, text: &str) {
        self.flush(start);
        if let Some(out) = self.out.as_deref_mut() {
            out.push_str(text);
            self.pending = end;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
        // Whitespace is left out of a copy.
        if self.at != start && self.copying() {
            let end = self.at;
            self.replace(start, end, "");
        }
    }

    /// Consumes `byte` (after whitespace), or fails.
    fn consume(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if !self.copying() {
            return self.skip_value(depth);
        }
        self.skip_whitespace();
        match self.peek()? {
            b'{' => self.object(depth, &[], None),
            b'[' => self.array(depth),
            b'"' => self.string(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Skips the value at `at` (not copying), checked as [`Reader::value`] checks a value it
    /// copies, in one loop rather than recursively: the open containers are bits of a `u128`
    /// (`MAX_DEPTH` bounds how many are open).
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        // Bit 0 is the innermost open container: set for an object, clear for an array.
        let mut objects: u128 = 0;
        let mut open = 0;
        loop {
            // A value.
            self.skip_whitespace();
            match self.peek()? {
                opening @ (b'{' | b'[') => {
                    if depth + open >= MAX_DEPTH {
                        return None;
                    }
                    self.at += 1;
                    self.skip_whitespace();
                    let object = opening == b'{';
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.at += 1;
                    } else {
                        objects = objects << 1 | u128::from(object);
                        open += 1;
                        if object {
                            self.string()?;
                            self.consume(b':')?;
                        }
                        continue;
                    }
                }
                b'"' => self.string()?,
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // After a value: the containers it ends, up to where the next value starts.
            loop {
                if open == 0 {
                    return Some(());
                }
                self.skip_whitespace();
                let object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if object {
                            self.skip_whitespace();
                            self.string()?;
                            self.consume(b':')?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.at += 1;
                objects >>= 1;
                open -= 1;
            }
        }
    }

    /// An object at `at`; the values of its members named in `wanted` are built into `found`
    /// (only where it is copied, which refuses a repeated key). Copied, it may not repeat a key
    /// nor have a key with an escape.
    fn object(
        &mut self,
        depth: usize,
        wanted: &[Box<str>],
        mut found: Option<&mut Found>,
    ) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.consume(b'{')?;
        let mut keys = self.copying().then(KeysMet::new);
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some(());
        }
        loop {
            self.skip_whitespace();
            let key = self.key()?;
            if let Some(keys) = keys.as_mut() {
                keys.add(key)?;
            }
            self.consume(b':')?;
            self.skip_whitespace();
            let value_start = self.at;
            self.value(depth + 1)?;
            if let Some(found) = found.as_deref_mut() {
                if let Some(index) = super::name_index(wanted, key) {
                    let text = self.raw.get(value_start..self.at)?;
                    found.push((index, build(text)?));
                }
            }
            self.skip_whitespace();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                }
                b'}' => {
                    self.at += 1;
                    break;
                }
                _ => return None,
            }
        }
        if keys.is_some_and(KeysMet::repeat) {
            return None;
        }
        Some(())
    }

    /// A member's key: copied only without escapes (its text is then its value, so repeats
    /// are found by comparing text); checked, a key with escapes is decoded as a string.
    fn key(&mut self) -> Option<&'r str> {
        let start = self.at;
        let (end, escaped) = self.string_end()?;
        if escaped {
            if self.copying() {
                return None;
            }
            self.string()?;
            return Some("");
        }
        self.at = end;
        // Inside the quotes (`string_end` found both).
        self.raw.get(start + 1..end - 1)
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.consume(b'[')?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Some(());
        }
        loop {
            self.value(depth + 1)?;
            self.skip_whitespace();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                }
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string value: copied as it is when it has no escape (then it is written as
    /// `serde_json` writes it: JSON text holds no raw `"`, `\\` or control character), else
    /// decoded (as `serde_json` decodes it) and written again as `serde_json` escapes it.
    #[inline(always)]
    fn string(&mut self) -> Option<()> {
        let start = self.at;
        let (end, escaped) = self.string_end()?;
        if escaped {
            let text: String = serde_json::from_str(self.raw.get(start..end)?).ok()?;
            if self.copying() {
                let mut written = String::with_capacity(text.len() + 2);
                super::write_str(&mut written, &text);
                self.replace(start, end, &written);
            }
        }
        self.at = end;
        Some(())
    }
    /// Where the string at `at` ends (past its closing quote), and whether it has an escape.
    /// A control character inside it is refused, as JSON refuses it.
    fn string_end(&self) -> Option<(usize, bool)> {
        string_end(self.bytes, self.at)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        self.at = literal_end(self.bytes, self.at, word.as_bytes())?;
        Some(())
    }

    /// A number: a plain integer of at most 18 digits (never out of range) as it is, anything
    /// else as `serde_json` parses and prints it (`2.50` is `2.5`, `1E2` is `100.0`).
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        // The common case first: a plain integer, with no sign or fraction after its digits.
        let unsigned = start + usize::from(self.peek() == Some(b'-'));
        let digits = (self.bytes.get(unsigned..)?.iter())
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        let end = unsigned + digits;
        if (1..=18).contains(&digits)
            && !matches!(self.bytes.get(end), Some(b'.' | b'e' | b'E' | b'+' | b'-'))
            && (self.bytes.get(unsigned) != Some(&b'0') || (digits == 1 && unsigned == start))
        {
            self.at = end;
            return Some(());
        }
        let end = number_end(self.bytes, start);
        let token = self.raw.get(start..end)?;
        if !number_as_it_is(token) {
            let Value::Number(number) = serde_json::from_str(token).ok()? else {
                return None;
            };
            if self.copying() {
                let mut written = String::new();
                super::write_number(&mut written, &number);
                self.replace(start, end, &written);
            }
        }
        self.at = end;
        Some(())
    }
}

/// Whether the number whose text is `digits` (less its `-`) is a decimal that `serde_json`
/// parses and prints as it is: no exponent, a fraction ending in a non-zero digit, at most 15
/// significant digits (every such decimal is the shortest that reads back as its `f64`, which
/// is what `serde_json` prints), and at least 0.0001 (smaller ones it prints with an exponent).
/// Prices, like `5.99`, are such decimals.
fn printed_as_it_is(digits: &str) -> bool {
    // Bytes, not `split_once`: its searcher cost more than the rest of this.
    let digits = digits.as_bytes();
    let Some(point) = digits.iter().position(|&byte| byte == b'.') else {
        return false;
    };
    let (whole, fraction) = digits.split_at(point);
    let fraction = fraction.get(1..).unwrap_or_default();
    let significant = match whole {
        b"0" => {
            let leading_zeros = fraction.iter().take_while(|&&byte| byte == b'0').count();
            if leading_zeros > 3 {
                return false;
            }
            fraction.len() - leading_zeros
        }
        [b'0', ..] => return false,
        _ => whole.len() + fraction.len(),
    };
    !whole.is_empty()
        && whole.iter().all(u8::is_ascii_digit)
        && fraction.iter().all(u8::is_ascii_digit)
        && fraction.last().is_some_and(|&byte| byte != b'0')
        && significant <= 15
}

/// The value of `text`, one JSON value that [`Reader::value`] read (checked), built as
/// `serde_json` builds it (a repeated key: the last value, in the first one's place), without
/// its deserializer: strings without escapes are copied, numbers it prints as they are parsed
/// here, and only strings with escapes and other numbers go through `serde_json`. `None` for
/// text that is not one such value. Tests and the inbound fuzzer compare it with `serde_json`.
fn build(text: &str) -> Option<Value> {
    build_read(text, &ValueRead::Whole)
}

/// [`build`] as far as `read` reads the value: an object's members it does not read are
/// skipped, not built (the text was checked whole, so skipping them changes no outcome).
fn build_read(text: &str, read: &ValueRead) -> Option<Value> {
    let mut builder = Builder {
        reader: Reader::new(text),
    };
    // Whole values (most) without the object check of `value_read`: a move less of each.
    let value = match read {
        ValueRead::Whole => builder.value()?,
        ValueRead::Members(_) | ValueRead::Items(_) => builder.value_read(read)?,
    };
    builder.reader.skip_whitespace();
    (builder.reader.at == text.len()).then_some(value)
}

/// Builds values from checked text (see [`build`]); recursion is bounded by the check, which
/// refuses text nested deeper than [`MAX_DEPTH`].
struct Builder<'r> {
    reader: Reader<'r, 'static>,
}

impl Builder<'_> {
    /// The value, as far as `read` reads it.
    fn value_read(&mut self, read: &ValueRead) -> Option<Value> {
        self.reader.skip_whitespace();
        // An object holds at most the members read: its map is allocated once.
        let capacity = match (read, self.reader.peek()?) {
            (ValueRead::Members(members), b'{') => members.len(),
            (ValueRead::Items(item), b'[') => {
                self.reader.at += 1;
                let mut items = Vec::new();
                if !self.closes(b']')? {
                    loop {
                        items.push(self.value_read(item)?);
                        if self.ends(b']')? {
                            break;
                        }
                    }
                }
                return Some(Value::Array(items));
            }
            (ValueRead::Items(item), b'{') => return self.value_read(item),
            _ => return self.value(),
        };
        self.reader.at += 1;
        let mut object = Map::with_capacity(capacity);
        if !self.closes(b'}')? {
            loop {
                self.reader.skip_whitespace();
                let start = self.reader.at;
                let (end, escaped) = self.reader.string_end()?;
                self.reader.at = end;
                let key: Cow<'_, str> = match escaped {
                    false => Cow::Borrowed(self.reader.raw.get(start + 1..end - 1)?),
                    true => {
                        Cow::Owned(serde_json::from_str(self.reader.raw.get(start..end)?).ok()?)
                    }
                };
                self.reader.consume(b':')?;
                match read.member(&key) {
                    Some(member) => {
                        let value = self.value_read(member)?;
                        object.insert(key.into_owned(), value);
                    }
                    // Checked already: skipped at depth 0.
                    None => self.reader.value(0)?,
                }
                if self.ends(b'}')? {
                    break;
                }
            }
        }
        Some(Value::Object(object))
    }

    fn value(&mut self) -> Option<Value> {
        let reader = &mut self.reader;
        reader.skip_whitespace();
        let start = reader.at;
        let value = match reader.peek()? {
            b'{' => {
                reader.at += 1;
                let mut object = Map::new();
                if !self.closes(b'}')? {
                    loop {
                        self.reader.skip_whitespace();
                        let key = self.string()?;
                        self.reader.consume(b':')?;
                        let value = self.value()?;
                        object.insert(key, value);
                        if self.ends(b'}')? {
                            break;
                        }
                    }
                }
                Value::Object(object)
            }
            b'[' => {
                reader.at += 1;
                let mut items = Vec::new();
                if !self.closes(b']')? {
                    loop {
                        items.push(self.value()?);
                        if self.ends(b']')? {
                            break;
                        }
                    }
                }
                Value::Array(items)
            }
            b'"' => Value::String(self.string()?),
            b't' => {
                reader.literal("true")?;
                Value::Bool(true)
            }
            b'f' => {
                reader.literal("false")?;
                Value::Bool(false)
            }
            b'n' => {
                reader.literal("null")?;
                Value::Null
            }
            _ => {
                reader.at = number_end(reader.bytes, start);
                let token = reader.raw.get(start..reader.at)?;
                let digits = token.strip_prefix('-').unwrap_or(token);
                match (plain_integer(token), token.starts_with('-')) {
                    (true, false) => Value::from(token.parse::<u64>().ok()?),
                    (true, true) => Value::from(token.parse::<i64>().ok()?),
                    // Correctly rounded, as serde_json parses it.
                    _ if printed_as_it_is(digits) => Value::from(token.parse::<f64>().ok()?),
                    _ => serde_json::from_str(token).ok()?,
                }
            }
        };
        Some(value)
    }

    /// Whether the container just opened closes at once (with `closing`), reading it if so.
    fn closes(&mut self, closing: u8) -> Option<bool> {
        self.reader.skip_whitespace();
        let closes = self.reader.peek()? == closing;
        self.reader.at += usize::from(closes);
        Some(closes)
    }

    /// After a member or an item: whether its container ends (with `closing`) rather than goes
    /// on (with a comma), reading either.
    fn ends(&mut self, closing: u8) -> Option<bool> {
        self.reader.skip_whitespace();
        let next = self.reader.peek()?;
        if next != closing && next != b',' {
            return None;
        }
        self.reader.at += 1;
        Some(next == closing)
    }

    /// The string at the reader, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.reader.at;
        let (end, escaped) = self.reader.string_end()?;
        self.reader.at = end;
        match escaped {
            false => self.reader.raw.get(start + 1..end - 1).map(str::to_string),
            true => serde_json::from_str(self.reader.raw.get(start..end)?).ok(),
        }
    }
}

/// How many bytes at the start of `bytes` are neither `"`, `\\` nor a control character:
/// eight at a time, as [`super::needs_escaping`] looks for them ([`super::special_bytes`]).
#[inline(always)]
fn plain_run(bytes: &[u8]) -> usize {
    let mut run = 0;
    for word in bytes.chunks_exact(8) {
        let mut array = [0; 8];
        array.copy_from_slice(word);
        let found = super::special_bytes(u64::from_le_bytes(array));
        if found != 0 {
            // The lowest flagged byte is exact (borrows only run towards higher bytes).
            return run + (found.trailing_zeros() / 8) as usize;
        }
        run += 8;
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's tag read with one load from the text it is in is its tag, for keys of every
    /// length, wherever they are in the text (with eight bytes after their start or fewer).
    #[test]
    fn a_key_tag_read_from_its_text_is_its_tag() {
        let text = "\"abcdefghijkl\":1}";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let Some(key) = text.get(start..end) else {
                    continue;
                };
                assert_eq!(
                    key_tag_at(text.as_bytes(), start, key),
                    key_tag(key),
                    "{key:?} at {start}"
                );
            }
        }
    }

    /// A key's tag is its length and first seven bytes: equal keys, and keys that differ only
    /// past their seventh byte, share it; others do not (repeats are looked for among those).
    #[test]
    fn a_key_tag_is_its_length_and_first_seven_bytes() {
        let ab = u64::from_le_bytes([b'a', b'b', 0, 0, 0, 0, 0, 0]) ^ 2 << 56;
        assert_eq!(key_tag("ab"), ab);
        assert_eq!(key_tag("product_a"), key_tag("product_b"));
        assert_eq!(key_tag("abcdefgh"), key_tag("abcdefgX"));
        for (one, other) in [
            ("abc", "abd"),
            ("abc", "abcd"),
            ("a", "a\0"),
            ("", "\0"),
            ("abcdefg", "abcdefgh"),
        ] {
            assert_ne!(key_tag(one), key_tag(other), "{one:?} {other:?}");
        }
    }

    /// Where the object is compact JSON that serde_json writes as it is, its text is its copy,
    /// the same as copying it member by member; anything else is copied member by member.
    #[test]
    fn objects_copied_as_they_are_are_the_member_by_member_copies() {
        let wanted: Vec<Box<str>> = vec!["revenue".into(), "n".into()];
        let members = |count: usize| {
            let members: Vec<String> = (0..count).map(|i| format!("\"k{i}\":{i}")).collect();
            members.join(",")
        };
        let many_keys = |count: usize| format!("{{{}}}", members(count));
        let nested = |levels: usize| format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels));
        let verbatim = [
            r#"{}"#.to_string(),
            r#"{"revenue":25,"currency":"USD","products":[{"price":5.99,"sku":"a"},{"n":-3}],"t":true,"f":false,"z":null,"e":{},"a":[]}"#.to_string(),
            "{\"n\":{\"n\":1},\"s\":\"é 😀 \u{7f}\",\"x\":[[[]]],\"d\":0.0001,\"i\":-999999999999999999}".to_string(),
            r#"{"product_a":1,"product_b":2}"#.to_string(),
            many_keys(LINEAR_KEYS),
            nested(MAX_DEPTH),
            // Each object's keys are its own: siblings and levels may share keys.
            r#"{"p":[{"a":1,"b":2},{"a":3,"b":4}],"a":{"a":{"a":1},"b":2},"b":0}"#.to_string(),
            format!("{{\"o\":{},\"p\":{}}}", many_keys(LINEAR_KEYS), many_keys(LINEAR_KEYS)),
        ];
        let member_by_member = [
            r#"{ "a":1}"#.to_string(),
            "{\"a\":\n1}".to_string(),
            r#"{"a":"\n"}"#.to_string(),
            r#"{"a\u0062":1}"#.to_string(),
            r#"{"a":1,"a":2}"#.to_string(),
            r#"{"a":{"b":1,"b":2}}"#.to_string(),
            // A repeat once a nested object has closed.
            r#"{"a":{"b":1},"a":2}"#.to_string(),
            r#"{"x":[{"b":{"c":1},"b":2}]}"#.to_string(),
            r#"{"a":2.50}"#.to_string(),
            r#"{"a":1e2}"#.to_string(),
            r#"{"a":-0}"#.to_string(),
            r#"{"a":1234567890123456789}"#.to_string(),
            many_keys(LINEAR_KEYS + 1),
            // The first and the last of many keys repeated last, after an object that closed
            // keys of its own.
            format!(
                "{{\"i\":{{\"k0\":0}},{},\"k0\":1}}",
                &members(LINEAR_KEYS - 2)
            ),
            format!(
                "{{{},\"k{}\":1}}",
                &members(LINEAR_KEYS - 1),
                LINEAR_KEYS - 2
            ),
            nested(MAX_DEPTH + 1),
            r#"{"a":tru}"#.to_string(),
            r#"{"a":1,}"#.to_string(),
            r#"{"a":[1,]}"#.to_string(),
            r#"{"a":1]"#.to_string(),
            r#"{"a"1}"#.to_string(),
        ];
        for (raw, as_it_is) in verbatim
            .iter()
            .map(|raw| (raw, true))
            .chain(member_by_member.iter().map(|raw| (raw, false)))
        {
            let fast = verbatim_object(raw, 0, 0, &wanted);
            assert_eq!(fast.is_some(), as_it_is, "{raw}");
            let mut out = String::new();
            let slow = copy_members_at(raw, 0, 0, &wanted, &mut out);
            if let Some((found, end)) = fast {
                assert_eq!(Some((found, end)), slow, "{raw}");
                assert_eq!(out, raw[..end], "{raw}");
                assert_eq!(end, raw.len(), "{raw}");
            }
        }
        // A wanted member is built from its text, at the top level only.
        let (found, _) = verbatim_object(&verbatim[1], 0, 0, &wanted).unwrap();
        assert_eq!(found, vec![(0, serde_json::json!(25))]);
        let (found, _) = verbatim_object(&verbatim[2], 0, 0, &wanted).unwrap();
        assert_eq!(found, vec![(1, serde_json::json!({"n": 1}))]);
        // Held in containers already: the depth counts.
        assert!(verbatim_object(&nested(MAX_DEPTH), 0, 1, &wanted).is_none());
    }

    /// Decimals copied as they are print so through serde_json; the ones around them that do
    /// not are refused (and go through serde_json).
    #[test]
    fn decimals_copied_as_they_are_are_what_serde_json_prints() {
        let serde = |text: &str| serde_json::from_str::<Value>(text).unwrap().to_string();
        for text in [
            "2.5",
            "5.99",
            "27.5",
            "0.1",
            "0.0001",
            "0.001",
            "0.5",
            "1.0000000000001",
            "99999999999999.9",
            "123456789012.345",
            "0.000123456789012345",
            "7.25",
        ] {
            assert!(printed_as_it_is(text), "{text}");
            assert_eq!(serde(text), text);
            assert_eq!(serde(&format!("-{text}")), format!("-{text}"));
        }
        for text in [
            "2.50",
            "0.00001",
            "0.00009",
            "1.0",
            "0.0",
            "00.5",
            "1.",
            ".5",
            "1e2",
            "1.5e2",
            "1234567890123456.5",
            "0.1234567890123456",
            "12",
            "-1.5",
            "1.-5",
            "1.5.5",
            "",
        ] {
            assert!(!printed_as_it_is(text), "{text}");
        }
        // Decimals of every shape the rule takes, against serde_json.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        let mut taken = 0;
        for _ in 0..200_000 {
            let digits = |count: u64, next: &mut dyn FnMut(u64) -> u64| -> String {
                (0..count)
                    .map(|_| char::from(b'0' + next(10) as u8))
                    .collect()
            };
            let whole = match next(3) {
                0 => "0".to_string(),
                _ => format!("{}{}", 1 + next(9), digits(next(16), &mut next)),
            };
            let zeros = "0".repeat(next(6) as usize);
            let fraction = format!("{zeros}{}{}", digits(next(16), &mut next), 1 + next(9));
            let text = format!("{whole}.{fraction}");
            if printed_as_it_is(&text) {
                taken += 1;
                assert_eq!(serde(&text), text);
            }
        }
        assert!(taken > 20_000, "{taken}");
    }

    /// What `build_read` builds of checked text is serde_json's value cut to what is read: the
    /// members of objects read, the items of arrays read alike (an object as the one item),
    /// anything else whole; repeated and escaped keys as serde_json keeps them.
    #[test]
    fn values_built_as_far_as_read_are_the_values_cut_so() {
        let mut members = ValueRead::NOTHING;
        members.add_path(&["a"]);
        members.add_path(&["b", "c"]);
        let mut item = ValueRead::NOTHING;
        item.add_path(&["a"]);
        let items = ValueRead::Items(Box::new(item));
        let mut nested = ValueRead::NOTHING;
        nested.add_path_read(&["list"], &items);
        let texts = [
            r#"{"a":1,"x":{"y":[1,2]},"b":{"c":[3],"d":4},"z":"s"}"#,
            r#" { "x" : 1 , "a" : { "q" : 2 } , "b" : 5 } "#,
            r#"{"b":{"d":1},"a":1,"a":{"n":null},"b ":2,"a":3}"#,
            r#"{}"#,
            r#"[{"a":1,"x":2},{"x":3},[{"a":4,"x":5}],7,{"a":{"x":6}}]"#,
            r#"[]"#,
            r#"{"list":[{"a":1,"b":2}],"a":1,"x":[{"a":2}]}"#,
            r#""text""#,
            "12.5",
            "null",
        ];
        for read in [
            &members,
            &items,
            &nested,
            &ValueRead::Whole,
            &ValueRead::NOTHING,
        ] {
            for text in texts {
                let value: Value = serde_json::from_str(text).unwrap();
                assert_eq!(
                    build_read(text, read),
                    Some(read.cut(&value)),
                    "{text} read as {read:?}"
                );
            }
        }
        assert_eq!(
            build_read(texts[0], &members),
            Some(serde_json::json!({"a": 1, "b": {"c": [3]}}))
        );
        assert_eq!(
            build_read(texts[4], &items),
            Some(serde_json::json!([{"a": 1}, {}, [{"a": 4, "x": 5}], 7, {"a": {"x": 6}}]))
        );
        assert_eq!(
            build_read(r#"{"a":1,"x":2}"#, &items),
            Some(serde_json::json!({"a": 1}))
        );
        // Text that is not one value is refused, read in part or not.
        for text in [r#"{"a":1"#, r#"{"a":1} x"#, r#"[{"a":1},"#, r#"{"a" 1}"#] {
            assert_eq!(build_read(text, &members), None, "{text}");
            assert_eq!(build_read(text, &items), None, "{text}");
        }
    }

    /// What `build` builds itself is what serde_json builds, in value and in kind of number.
    #[test]
    fn values_built_here_are_the_ones_serde_json_builds() {
        let texts = [
            "{}",
            "[]",
            "true",
            "false",
            "null",
            "0",
            "-0",
            "7",
            "-7",
            "25",
            "00",
            "-01",
            "999999999999999999",
            "-999999999999999999",
            "1000000000000000000",
            "-1000000000000000000",
            "18446744073709551615",
            "18446744073709551616",
            "2.5",
            "1e2",
            "-0.0",
            "\"s\"",
            "{\"a\":1}",
            "[1]",
            " { \"a\" : [ 1 , 2.5 , -0.5, 1e2, 2.50, \"x\\ny\" ] , \"b\" : { } , \"a\" : null } ",
            "{\"k\\u0065y\":{\"n\":[true,false,null,{}]},\"é😀\":\"\\ud83d\\ude00\"}",
            "[[[[1]]],{\"x\":[]}, \"\"]",
            "{\"a\":1,\"b\":2,\"a\":3}",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\" 1}",
            "[1] 2",
            "-",
            "",
        ];
        for text in texts {
            let serde = serde_json::from_str::<Value>(text).ok();
            let ours = build(text);
            assert_eq!(ours, serde, "{text}");
            // In order too (maps compare without it).
            let written = |value: &Option<Value>| value.as_ref().map(Value::to_string);
            assert_eq!(written(&ours), written(&serde), "{text}");
            if let (Some(Value::Number(ours)), Some(Value::Number(serde))) = (&ours, &serde) {
                assert_eq!(
                    (ours.is_u64(), ours.is_i64()),
                    (serde.is_u64(), serde.is_i64()),
                    "{text}"
                );
                assert_eq!(ours.to_string(), serde.to_string(), "{text}");
            }
        }
    }

    /// The copy of `raw`, checked against serde_json; `None` when refused.
    fn copy(raw: &str) -> Option<String> {
        let mut out = "before".to_string();
        let copied = copy_object(raw, &[], &mut out);
        match copied {
            Some(_) => {
                let text = out.strip_prefix("before").unwrap().to_string();
                let value: Value = serde_json::from_str(raw).unwrap();
                assert_eq!(text, serde_json::to_string(&value).unwrap(), "{raw}");
                Some(text)
            }
            None => {
                assert_eq!(out, "before", "a refused copy leaves nothing behind");
                None
            }
        }
    }

    #[test]
    fn objects_are_copied_as_serde_json_writes_them() {
        for raw in [
            "{}",
            " { } ",
            r#"{"a":1}"#,
            "{ \"a\" : [ 1 , 2.50, -3, 1E2, 1e-7, -0, 0, -0.0, 123456789012345678 ] ,\n\t\"b\" : { } }",
            r#"{"big": 18446744073709551615, "bigger": 18446744073709551616, "min": -9223372036854775808, "below": -9223372036854775809}"#,
            r#"{"s": "plain é 😀", "e": "tab\there \"q\" \\ \/ \u00e9 \u0001 \ud83d\ude00"}"#,
            r#"{"t": true, "f": false, "n": null, "nested": [[[{"x": []}]]]}"#,
            r#"{"a": 1, "A": 2, "a ": 3}"#,
            // One length and one seven-byte start (one tag), other keys.
            r#"{"product_a": 1, "product_b": 2, "productab": 3, "product": 4, "produc": 5}"#,
        ] {
            assert!(copy(raw).is_some(), "{raw}");
        }
    }

    #[test]
    fn what_would_differ_or_is_not_json_is_refused() {
        for raw in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"product_a": 1, "product_b": 2, "product_a": 3}"#,
            r#"{"": 1, "x": 2, "": 3}"#,
            r#"{"k\u0065y": 1}"#,
            "[1]",
            "\"text\"",
            "1",
            "{",
            r#"{"a": 1,}"#,
            r#"{"a": 1} x"#,
            r#"{"a": 1e400}"#,
            r#"{"a": "\ud800"}"#,
            "{\"a\": \"raw\u{1}control\"}",
            r#"{"a": tru}"#,
            r#"{"a": 01}"#,
            r#"{"a" 1}"#,
            r#"{"a": [1 2]}"#,
            "",
        ] {
            assert_eq!(copy(raw), None, "{raw}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(copy(&deep), None);
        // Objects in objects count as deep as arrays do, copied or skipped.
        let deep = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
        assert_eq!(copy(&deep), None);
        let mut members = Members::new(&deep).unwrap();
        assert_eq!(members.next_key(), Some(Some("a")));
        assert_eq!(members.skip(), None);
        let shallow = format!("{}1{}", "{\"a\":".repeat(100), "}".repeat(100));
        assert!(copy(&shallow).is_some());
        let keys: Vec<String> = (0..100).map(|i| format!("\"k{}\": {i}", i % 60)).collect();
        assert_eq!(copy(&format!("{{{}}}", keys.join(","))), None);
        let keys: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
        assert!(copy(&format!("{{{}}}", keys.join(","))).is_some());
    }

    /// Whether the member value `value` is skipped, and where the skip ends.
    fn skipped(value: &str) -> Option<usize> {
        let raw = format!("{{\"a\":{value}}}");
        let mut members = Members::new(&raw)?;
        assert_eq!(members.next_key(), Some(Some("a")));
        members.skip()?;
        Some(members.position())
    }

    #[test]
    fn a_value_is_skipped_where_serde_json_reads_it() {
        for value in [
            "0",
            "-0",
            "7",
            "-7",
            "123456789012345678",
            "1234567890123456789",
            "01",
            "-01",
            "1.5",
            "1.",
            ".5",
            "1e5",
            "1E+5",
            "1e-",
            "-",
            "--1",
            "1-2",
            "1+",
            "18446744073709551616",
            "1e400",
            "true",
            "tru",
            "false",
            "null",
            "nul",
            r#""""#,
            r#""a\"b""#,
            r#""\ud800""#,
            r#""\u00e9\n""#,
            r#""\x""#,
            "\"a\u{1}\"",
            "[]",
            "[ ]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[1,[2,[3,{}]]]",
            "{}",
            "{ }",
            r#"{"k":1,}"#,
            r#"{"k" 1}"#,
            r#"{"k":}"#,
            r#"{1:2}"#,
            r#"{"k\u0065":[{"x":[]}]}"#,
            r#"{"a":{"b":{"c":[true,false,null]}}}"#,
            "[}",
            "{]",
            "[1]]",
            "[1}",
            r#"{"k":1]"#,
            r#"[{"k":[1}]]"#,
            r#" [ 1 , { "k" : 2 } ] "#,
            "",
        ] {
            let raw = format!("{{\"a\":{value}}}");
            let serde = serde_json::from_str::<Value>(&raw).is_ok();
            assert_eq!(
                skipped(value) == Some(5 + value.trim_end().len()),
                serde,
                "{value}"
            );
        }
        // As deep as serde_json reads, and no deeper, arrays and objects alike.
        for levels in 120..=130 {
            for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
                let value = format!("{}1{}", open.repeat(levels), close.repeat(levels));
                let raw = format!("{{\"a\":{value}}}");
                let serde = serde_json::from_str::<Value>(&raw).is_ok();
                assert_eq!(skipped(&value).is_some(), serde, "{levels} {open}");
                assert_eq!(copy(&raw).is_some(), serde, "copied: {levels} {open}");
            }
        }
    }

    #[test]
    fn plain_runs_stop_at_the_first_special_byte() {
        for length in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut bytes = vec![b'a'; length];
                bytes.extend_from_slice(&[special, b'"', 0x01]);
                bytes.extend_from_slice(&[b'z'; 9]);
                let run = plain_run(&bytes);
                assert!(run <= length && length - run < 8, "{length} {special}");
                assert!(bytes[..run].iter().all(|b| *b == b'a'));
            }
            // Bytes just above the specials, and UTF-8, are plain.
            let plain: Vec<u8> = [b' ', b'#', b']', 0x7f, 0xc3, 0xa9, 0xff].repeat(length);
            assert_eq!(plain_run(&plain) + plain.len() % 8, plain.len());
        }
    }

    #[test]
    fn wanted_members_are_built() {
        let mut out = String::new();
        let wanted = ["revenue".into(), "value".into(), "absent".into()];
        let found = copy_object(
            r#"{"revenue": 2.50, "value": {"x": [1]}, "other": 3}"#,
            &wanted,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            found,
            vec![
                (0, serde_json::json!(2.5)),
                (1, serde_json::json!({"x": [1]}))
            ]
        );
        assert_eq!(out, r#"{"revenue":2.5,"value":{"x":[1]},"other":3}"#);
    }

    /// The members found are held in room for every wanted name, made once (not grown from
    /// nothing on the first one found), whether the object is copied as it is or member by
    /// member; nothing is held for no wanted name.
    #[test]
    fn members_found_are_held_in_room_made_once() {
        let wanted: [Box<str>; 3] = ["revenue".into(), "value".into(), "absent".into()];
        for raw in [
            r#"{"revenue":2.5,"value":{"x":[1]},"other":3}"#,
            r#"{"revenue": 2.50, "value": {"x": [1]}, "other": 3}"#,
        ] {
            let found = copy_object(raw, &wanted, &mut String::new()).unwrap();
            assert_eq!(found.len(), 2, "{raw}");
            assert_eq!(found.capacity(), wanted.len(), "{raw}");
            let none = copy_object(raw, &[], &mut String::new()).unwrap();
            assert_eq!(none.capacity(), 0, "{raw}");
        }
    }
}
