//! Segment's trigger (subscription) language, with the semantics of Segment's Actions runtime
//! (`@segment/destination-subscriptions` 3.41.0 with the `@segment/fql-ts` 1.10.1 lexer), not
//! of the full FQL used by Destination Filters. Segment's conformance vectors for it are
//! `tests/vectors/segment-fql.json`.
//!
//! ```
//! use segment_ld_bridge::trigger::{evaluate, Trigger};
//! use serde_json::json;
//!
//! let t = Trigger::parse(r#"type = "track" and event = "Order Completed""#)?;
//! assert!(t.matches(&json!({"type": "track", "event": "Order Completed"})));
//! assert_eq!(evaluate("properties.total > 100", &json!({"properties": {"total": "150"}})), Ok(false));
//! # Ok::<(), segment_ld_bridge::trigger::TriggerParseError>(())
//! ```
//!
//! What users may find surprising, all copied from Segment on purpose:
//! - No precedence: one flat group per level, whose operator is the last `and`/`or` at that
//!   level (`a and b or c` is `a or b or c`). Parentheses do not nest.
//! - `=` is type-strict (`properties.n = "1"` does not match the number 1); `properties.x = 5`
//!   compares numbers; `<`, `<=`, `>`, `>=` only match numbers; `!=` is true for a missing
//!   field (except `!= <number>` on properties, traits and context).
//! - Single-quoted strings keep their quotes; `match()` is a prefix (`"a*"`) or suffix test,
//!   not a glob; `properties.price>10` (no space) and `\r` are syntax errors.
//! - `traits.*` reads the top-level `traits`, not `context.traits`.
//! - Paths read like JavaScript: `properties.items.length`, `properties.items.\0` (an index
//!   must be escaped, `.0` lexes as a number), and a falsy value ends the walk
//!   (`properties.a.b` is `0` when `properties.a` is `0`).
//!
//! Deliberate differences from Segment (none shows in the conformance vectors):
//! - Triggers longer than [`MAX_SOURCE_CHARS`] are rejected.
//! - Where Segment's evaluation throws (a `null` event, an empty `()` group, a path made only
//!   of `.`/`[`/`]`), [`Trigger::matches`] is false; Segment fails the event, so neither
//!   delivers it.
//! - A function found on a built-in prototype (`properties.constructor`) exists but has no
//!   properties of its own (upstream `properties.constructor.name` is `"Object"`).
//! - [`Trigger::from_ast`] rejects malformed trees (no `children`, non-object nodes, non-string
//!   `name`) that Segment would evaluate to false or throw on.
//! - Error messages are the bridge's own (upstream's are mostly JavaScript `TypeError`s).
//!
//! [`Trigger::warnings`] names the constructs that parse but cannot do what they seem to.
//! Limits: a trigger has at most [`MAX_SOURCE_CHARS`] characters and a parse tree at most
//! [`MAX_AST_DEPTH`] levels (Segment's own parser cannot nest parentheses at all).

mod eval;
mod lexer;
mod parser;
mod reads;
mod tree;

use std::fmt;

use crate::segment::EventRef;
use serde_json::Value;

/// The longest trigger accepted, in characters (Segment has no overall limit; real
/// triggers are well under 1,000 characters).
pub const MAX_SOURCE_CHARS: usize = 65_536;

/// The deepest parse tree [`Trigger::from_ast`] accepts (trigger text yields at most 2).
pub const MAX_AST_DEPTH: usize = 32;

/// A parsed trigger, ready to be matched against many events.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    source: String,
    root: tree::Group,
    warnings: Vec<String>,
}

/// Why a trigger was rejected. Segment's runtime treats every such trigger as matching
/// nothing ("Invalid subscription").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position} (expected {expected})")]
pub struct TriggerParseError {
    /// 0-based character offset in the trigger text (0 for parse-tree errors).
    pub position: usize,
    /// What the parser expected there.
    pub expected: String,
    /// What went wrong.
    pub message: String,
}

/// Why an event does not match a trigger: see [`Trigger::explain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The number of conditions that would have to hold for the event to match (at least 1;
    /// `usize::MAX` when no value of the event could make it match).
    pub score: usize,
    /// Those conditions, in trigger order.
    pub failed: Vec<FailedCondition>,
}

/// One condition an event failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedCondition {
    /// The condition as trigger text, e.g. `event = "Order Completed"`.
    pub condition: String,
    /// The event's value there (JSON, shortened), or `missing`.
    pub actual: String,
}

impl fmt::Display for FailedCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (actual: {})", self.condition, self.actual)
    }
}

impl Trigger {
    /// Parses a trigger such as `type = "track" and event = "Order Completed"`.
    pub fn parse(source: &str) -> Result<Trigger, TriggerParseError> {
        let mut warnings = Vec::new();
        let root = parser::parse_fql(source, &mut warnings)?;
        lint(&root, &mut warnings);
        cap(&mut warnings);
        Ok(Trigger {
            source: source.to_owned(),
            root,
            warnings,
        })
    }

    /// Builds a trigger from Segment's JSON parse tree (the `ast` form used in
    /// segment-fql.json). Unknown condition types and operators are accepted and never match,
    /// as in Segment; a tree with an `error`, a root that is not a group, or a malformed node
    /// is rejected. [`Trigger::source`] is then trigger text generated from the tree.
    pub fn from_ast(ast: &Value) -> Result<Trigger, TriggerParseError> {
        let root = tree::root_from_ast(ast)?;
        let mut warnings = Vec::new();
        lint(&root, &mut warnings);
        cap(&mut warnings);
        Ok(Trigger {
            source: tree::group_to_fql(&root, false),
            root,
            warnings,
        })
    }

    /// True when the Segment event matches, with Segment's Actions runtime semantics.
    /// Where Segment's evaluation throws (a `null` event, an empty `()` reached during
    /// evaluation), this is false.
    pub fn matches<'e>(&self, event: impl Into<EventRef<'e>>) -> bool {
        eval::group(&self.root, event.into()).unwrap_or(false)
    }

    /// The top-level event fields its conditions read.
    pub fn fields_read(&self) -> crate::segment::FieldsRead {
        let mut read = crate::segment::FieldsRead::Only(Default::default());
        reads::group_fields_read(&self.root, &mut read);
        read
    }

    /// The source text (as given to [`Trigger::parse`]).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Segment's JSON parse tree for this trigger (what `parseFql` returns).
    pub fn to_ast(&self) -> Value {
        tree::group_to_ast(&self.root)
    }

    /// How far the event is from matching: 0 when it matches, otherwise the smallest number
    /// of leaf conditions that would have to become true (`and` adds up its children, `or`
    /// takes its closest child), `usize::MAX` when nothing in the event could make it match.
    /// Lower is closer: use it to name the closest trigger an event failed.
    pub fn mismatch_score<'e>(&self, event: impl Into<EventRef<'e>>) -> usize {
        self.explain(event).map_or(0, |m| m.score)
    }

    /// `None` when the event matches; otherwise the conditions that failed on the closest
    /// way to a match (see [`Trigger::mismatch_score`]).
    pub fn explain<'e>(&self, event: impl Into<EventRef<'e>>) -> Option<Mismatch> {
        let event = event.into();
        if self.matches(event) {
            return None;
        }
        let mut failures = Vec::new();
        let score = eval::closest(&self.root, event, &mut failures).max(1);
        let mut failed: Vec<FailedCondition> = failures
            .into_iter()
            .map(|f| FailedCondition {
                condition: f.leaf.map_or_else(|| "()".to_owned(), tree::leaf_to_fql),
                actual: f.actual,
            })
            .collect();
        if failed.is_empty() {
            failed.push(FailedCondition {
                condition: self.source.clone(),
                actual: "Segment's evaluation fails for this event".to_owned(),
            });
        }
        Some(Mismatch { score, failed })
    }

    /// Constructs that parse but do not do what they seem to (e.g. `type == "track"` or
    /// `event = 'A'`, which never match, or `a and b or c`, which means `a or b or c`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Trigger {
    type Err = TriggerParseError;
    fn from_str(s: &str) -> Result<Trigger, TriggerParseError> {
        Trigger::parse(s)
    }
}

impl TryFrom<String> for Trigger {
    type Error = TriggerParseError;
    fn try_from(s: String) -> Result<Trigger, TriggerParseError> {
        Trigger::parse(&s)
    }
}

impl From<Trigger> for String {
    fn from(t: Trigger) -> String {
        t.source
    }
}

/// Parse + evaluate in one call.
pub fn evaluate(source: &str, event: &Value) -> Result<bool, TriggerParseError> {
    Ok(Trigger::parse(source)?.matches(event))
}

/// Keeps the first warnings of a trigger full of problems.
fn cap(warnings: &mut Vec<String>) {
    const MAX_WARNINGS: usize = 20;
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
        warnings.push(format!("... and {more} more warnings"));
    }
}

const EVENT_TYPES: &[&str] = &["track", "identify", "page", "screen", "group", "alias"];

/// Warnings about conditions of the parsed tree.
fn lint(g: &tree::Group, out: &mut Vec<String>) {
    use tree::{Field, GroupOp, Lit, Node, Op};
    if let GroupOp::Other(_) | GroupOp::Missing = g.op {
        out.push("a group whose operator is neither `and` nor `or` never matches".to_owned());
    }
    for child in &g.children {
        let leaf = match child {
            Node::Group(inner) => {
                lint(inner, out);
                continue;
            }
            Node::Undefined => {
                out.push(
                    "empty parentheses `()` make Segment's evaluation fail: the trigger \
                     matches only events decided before reaching them"
                        .to_owned(),
                );
                continue;
            }
            Node::Leaf(l) => l,
        };
        let cond = tree::leaf_to_fql(leaf);
        let text = &leaf.text.rest;
        match &leaf.op {
            Op::Other(op) => out.push(format!(
                "`{cond}` never matches: `{op}` is not an operator (use =, !=, <, <=, >, >=)"
            )),
            Op::Missing => out.push(format!("`{cond}` has no operator and never matches")),
            Op::Eq | Op::Ne if &**text == "=" => out.push(format!(
                "`{cond}` compares with the text \"=\": `==` is not an operator, write `=`"
            )),
            Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::NumberEquals if leaf.number.is_nan() => out
                .push(format!(
                    "`{cond}` never matches: the value is not a number (write `>= 5` with \
                     spaces on both sides of the operator)"
                )),
            _ => {}
        }
        if let Field::Unknown(t) = &leaf.field {
            out.push(format!("condition type `{t}` is unknown and never matches"));
        }
        if let Lit::Str(_) = leaf.value {
            if text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'') {
                out.push(format!(
                    "`{cond}`: single quotes are part of the value in Segment's trigger \
                     language; use double quotes"
                ));
            }
        }
        let null_text = matches!(leaf.field, Field::Type | Field::Event)
            && matches!(leaf.op, Op::Eq | Op::Ne)
            && &**text == "null";
        if null_text {
            out.push(format!(
                "`{cond}` compares with the text \"null\": Segment turns `= null` and `!= null` \
                 into missing/present tests only for name, userId, properties, traits and context"
            ));
        }
        if leaf.field == Field::Type
            && matches!(leaf.op, Op::Eq | Op::Ne)
            && !EVENT_TYPES.contains(&&**text)
            && !text.starts_with('\'')
            && &**text != "="
            && !null_text
        {
            let hint = if EVENT_TYPES.contains(&text.to_ascii_lowercase().as_str()) {
                "event types are lowercase"
            } else {
                "Segment's event types are track, identify, page, screen, group and alias"
            };
            out.push(format!("`{cond}`: {hint}"));
        }
        if matches!(leaf.op, Op::EndsWith | Op::NotEndsWith) && text.contains('*') {
            out.push(format!(
                "`{cond}`: match() is not a glob; only a leading `*` (ends with) or a \
                 trailing `*` (starts with) is understood"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A trigger reads an event read as fields (strings as characters, `properties` as the
    /// members looked up) as it reads the event's value: matches, scores and explanations.
    #[test]
    fn an_event_read_as_fields_is_read_as_its_value() {
        let events = [
            json!({"type": "track", "event": "Order", "userId": "", "properties": {
                "revenue": 2.5, "items": [1, 2], "s": "abc", "z": 0, "n": null, "o": {"k": "v"}}}),
            json!({"type": "track", "properties": {}}),
            json!({"type": "page", "userId": "u", "properties": null}),
        ];
        let triggers = [
            "properties.revenue = 2.5",
            "properties.revenue > 3",
            "properties.items.length = 2",
            r"properties.items.\1 = 2",
            r#"properties.s.\0 = "a""#,
            "properties.s.length > 2",
            "properties.constructor != null",
            "properties.toString exists",
            "properties.absent exists",
            "properties.z.x = 0",
            "properties.n = null",
            r#"properties.o.k = "v""#,
            "properties exists",
            "properties = null",
            r#"type = "track" and properties.revenue < 3"#,
            r#"userId = "" or event = "Order""#,
            r#"contains(properties.s, "b")"#,
        ];
        for event in &events {
            let read = crate::segment::as_fields(event.as_object().unwrap());
            for source in triggers {
                let trigger = Trigger::parse(source).unwrap();
                assert_eq!(
                    trigger.matches(read.event()),
                    trigger.matches(event),
                    "{source} on {event}"
                );
                assert_eq!(
                    trigger.explain(read.event()).map(|m| (m.score, m.failed)),
                    trigger.explain(event).map(|m| (m.score, m.failed)),
                    "{source} on {event}"
                );
            }
        }
    }

    fn ok(src: &str, event: Value) -> bool {
        match evaluate(src, &event) {
            Ok(b) => b,
            Err(e) => panic!("{src}: {e}"),
        }
    }

    #[test]
    fn quirks_from_the_spec() {
        let track =
            json!({"type": "track", "event": "Order Completed", "properties": {"price": 12}});
        // No precedence: the last conditional wins.
        assert!(ok(
            r#"type = "page" and event = "x" or type = "track""#,
            track.clone()
        ));
        assert!(!ok(
            r#"type = "track" or event = "x" and type = "page""#,
            track.clone()
        ));
        // Bare identifiers are values; commas are skipped.
        assert!(ok(
            r#"type=track and event="Order Completed""#,
            track.clone()
        ));
        assert!(ok(
            r#"type = "track", event = "Order Completed""#,
            track.clone()
        ));
        // Never-matching forms that ship in real subscriptions.
        assert!(!ok(
            r#"type = "track" and event == "Order Completed""#,
            track.clone()
        ));
        assert!(!ok(r#"type = "Identify""#, json!({"type": "identify"})));
        assert!(!ok(r#"event "Order Completed""#, track.clone()));
        assert!(!ok("properties.price >=5", track.clone()));
        assert!(ok("properties.price >= 5", track.clone()));
        // match() is not a glob.
        assert!(ok(r#"match(event, "Xrder Completed")"#, track.clone()));
        assert!(ok(r#"match(event, "Order*")"#, track.clone()));
        assert!(!ok(r#"match(event, "O*d")"#, track.clone()));
        // contains() first inside parentheses ends the group early: flat OR.
        assert!(ok(
            r#"type = "page" and (contains(event, "Order") or event = "B")"#,
            track.clone()
        ));
        // `!` before parentheses is dropped.
        assert!(ok(r#"!(type = "track")"#, track.clone()));
        // Nested parentheses and brackets are errors.
        assert!(evaluate(
            r#"(type = "track" and (event = "a" or event = "b"))"#,
            &track
        )
        .is_err());
        assert!(evaluate(r#"properties.items[0].id = "a""#, &track).is_err());
        // traits read top-level traits only.
        assert!(!ok(
            r#"traits.email != null"#,
            json!({"context": {"traits": {"email": "a"}}})
        ));
        // `.length` and indexes work like JavaScript.
        let items = json!({"properties": {"items": [1, 2], "s": "abc"}});
        assert!(ok("properties.items.length = 2", items.clone()));
        assert!(ok(r"properties.items.\1 = 2", items.clone()));
        assert!(ok(r#"properties.s.\0 = "a""#, items.clone()));
        assert!(ok("properties.s.length > 2", items.clone()));
        assert!(ok("properties.constructor != null", items.clone()));
        // A falsy value ends the walk and is the result.
        assert!(ok("properties.a.b = 0", json!({"properties": {"a": 0}})));
    }

    #[test]
    fn values_convert_with_javascripts_number() {
        // `Number("0x1000000000000081")` is 2^60 + 256, rounded once (2^60 + 129 is nearer
        // 2^60 + 256 than 2^60).
        let at_2_60 = json!({"properties": {"n": 1_152_921_504_606_846_976_u64}});
        let above = json!({"properties": {"n": 1_152_921_504_606_847_232_u64}});
        let t = Trigger::parse(r#"properties.n >= "0x1000000000000081""#).unwrap();
        assert!(!t.matches(&at_2_60));
        assert!(t.matches(&above));
        // JavaScript white space around the number, `0b`/`0o` literals, and no Rust spellings.
        let five = json!({"properties": {"n": 5}});
        assert!(ok(
            "properties.n >= \"\u{feff}\u{3000}5\u{2028}\"",
            five.clone()
        ));
        assert!(ok(r#"properties.n >= "0b101""#, five.clone()));
        assert!(ok(r#"properties.n <= "0o5""#, five.clone()));
        assert!(!ok("properties.n >= \"\u{85}5\"", five.clone()));
        assert!(!ok(r#"properties.n < "inf""#, five));
    }

    #[test]
    fn utf16_semantics_of_match_and_indexes() {
        // `match(f, "😀abc")` is ends_with of "\uDE00abc" (slice(1) cuts the surrogate pair).
        let t = Trigger::parse(r#"match(event, "😀abc")"#).unwrap();
        assert!(t.matches(&json!({"event": "x😀abc"})));
        assert!(t.matches(&json!({"event": "\u{10600}abc"}))); // same low surrogate
        assert!(!t.matches(&json!({"event": "x😁abc"})));
        assert!(!t.matches(&json!({"event": "abc"})));
        let s = json!({"properties": {"s": "😀", "t": "é"}});
        assert!(ok(r"properties.s.length = 2", s.clone()));
        assert!(ok(r"properties.s.\1 != null", s.clone()));
        assert!(!ok(r#"properties.s.\0 = "😀""#, s.clone()));
        assert!(ok(r#"properties.t.\0 = "é""#, s.clone()));
        assert!(!ok(r"properties.t.\1 != null", s));
    }

    #[test]
    fn trees_round_trip_and_render() {
        let ast = json!({"type": "group", "operator": "or", "children": [
            {"type": "event-property", "name": "a b", "operator": "number_equals", "value": "5"},
            {"type": "group", "operator": "and", "children": [
                {"type": "event", "operator": "starts_with", "value": "Order"},
                {"type": "userId", "operator": "exists"}
            ]}
        ]});
        let t = Trigger::from_ast(&ast).unwrap();
        assert_eq!(t.to_ast(), ast);
        assert_eq!(
            t.source(),
            r#"properties.a\ b = 5 or (match(event, "Order*") and userId != null)"#
        );
        assert!(t.matches(&json!({"properties": {"a b": 5}})));
        assert!(Trigger::from_ast(&json!({"error": "boom"})).is_err());
        assert!(Trigger::from_ast(&json!({"type": "group", "operator": "and"})).is_err());
        let parsed: Trigger = r#"type = "track""#.parse().unwrap();
        assert_eq!(parsed.to_string(), r#"type = "track""#);
        assert_eq!(String::from(parsed.clone()), r#"type = "track""#);
        assert_eq!(
            Trigger::try_from(r#"type = "track""#.to_owned()),
            Ok(parsed)
        );
    }

    #[test]
    fn explanations_shorten_large_values() {
        let t = Trigger::parse(r#"properties.items = "x""#).unwrap();
        let items: Vec<u32> = (0..10_000).collect();
        let m = t.explain(&json!({"properties": {"items": items}})).unwrap();
        assert!(m.failed[0].actual.ends_with('…'), "{}", m.failed[0].actual);
        assert!(m.failed[0].actual.len() < 100);
        let m = t.explain(&json!({"properties": {}})).unwrap();
        assert_eq!(m.failed[0].actual, "missing");
        let m = t.explain(&json!(null)).unwrap();
        assert_eq!(m.score, usize::MAX);
    }

    #[test]
    fn errors_name_position_and_expectation() {
        let e = Trigger::parse("properties.price>10").unwrap_err();
        assert_eq!(e.position, 16);
        assert_eq!(
            e.to_string(),
            format!("{} at position 16 (expected {})", e.message, e.expected)
        );
        let e = Trigger::parse(r#"type = "track" and ("#).unwrap_err();
        assert_eq!(e.expected, "')'");
        let e = Trigger::parse("type").unwrap_err();
        assert!(e.message.contains("Value token is missing"), "{e}");
        assert_eq!(e.position, 4);
        let e = Trigger::parse("").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = Trigger::parse("x\u{1F600}").unwrap_err();
        assert_eq!(e.position, 1);
    }

    #[test]
    fn explains_the_closest_way_to_match() {
        let t = Trigger::parse(
            r#"type = "track" and (event = "Order Completed" or event = "Checkout") and properties.total > 100"#,
        )
        .unwrap();
        let event = json!({"type": "track", "event": "Order Placed", "properties": {"total": 5}});
        let m = t.explain(&event).unwrap();
        assert_eq!(m.score, 2);
        assert_eq!(m.failed.len(), 2);
        assert_eq!(m.failed[0].condition, r#"event = "Order Completed""#);
        assert_eq!(m.failed[0].actual, r#""Order Placed""#);
        assert_eq!(m.failed[1].condition, "properties.total > 100");
        assert_eq!(m.failed[1].actual, "5");
        assert_eq!(t.mismatch_score(&event), 2);
        let good = json!({"type": "track", "event": "Checkout", "properties": {"total": 500}});
        assert_eq!(t.mismatch_score(&good), 0);
        assert!(t.explain(&good).is_none());
        let never = Trigger::parse(r#"event "track""#).unwrap();
        assert_eq!(never.mismatch_score(&json!({"type": "track"})), usize::MAX);
    }

    #[test]
    fn warns_about_constructs_that_never_match() {
        for (src, needle) in [
            (r#"type == "track""#, "=="),
            (r#"event = 'A'"#, "single quotes"),
            (r#"type = "Identify""#, "lowercase"),
            (r#"event "A""#, "not an operator"),
            ("properties.x >=5", "not a number"),
            (r#"match(event, "a*d")"#, "not a glob"),
            (r#"type = "a" and type = "b" or type = "c""#, "precedence"),
            (r#"!(type = "track")"#, "negat"),
            (r#"event = null"#, "text \"null\""),
            (r#"anonymousId = "x" and type = "track""#, "is ignored"),
            (
                r#"type = "track" and event = "A" "B""#,
                "not part of any condition",
            ),
            (
                r#"type = "page" and (contains(event, "A") or event = "B")"#,
                "closes nothing",
            ),
        ] {
            let t = Trigger::parse(src).unwrap();
            assert!(
                t.warnings().iter().any(|w| w.contains(needle)),
                "{src}: {:?}",
                t.warnings()
            );
        }
        assert!(Trigger::parse(r#"type = "track" and event = "A""#)
            .unwrap()
            .warnings()
            .is_empty());
    }
}
