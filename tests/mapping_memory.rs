//! Peak memory of mappings whose output would be huge: the byte budget must refuse them
//! before (or while) the output is built, so applying one never allocates much more than
//! the budget (`MAX_OUTPUT_BYTES`) on top of what the payload already holds.
//!
//! A test binary of its own: its global allocator counts live bytes and their peak, and
//! the cases run one after another in a single test, so nothing else allocates meanwhile.
#![allow(unsafe_code)] // The counting allocator implements `GlobalAlloc`, an unsafe trait.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use segment_ld_bridge::mapping::{self, MappingError, MAX_OUTPUT_BYTES};
use serde_json::{json, Value};

/// The system allocator, counting live bytes and their highest value.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Old and new blocks may both be live during the copy.
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What the engine may allocate beyond the budget: bookkeeping, error messages, a copy of
/// one payload string.
const SLACK: usize = 4 * 1024 * 1024;

/// How a case builds its output, and so the most it may allocate.
#[derive(Clone, Copy, Debug)]
enum Bound {
    /// Each string's exact size is charged before it is allocated.
    Exact,
    /// The result grows piece by piece, each piece charged first, in a buffer that never
    /// grows past the budget; a copying `realloc` holds the old and the new block at once,
    /// so up to half the budget more is live for a moment.
    Grown,
}

impl Bound {
    fn max_peak(self) -> usize {
        match self {
            Bound::Exact => MAX_OUTPUT_BYTES + SLACK,
            Bound::Grown => MAX_OUTPUT_BYTES + MAX_OUTPUT_BYTES / 2 + SLACK,
        }
    }
}

/// Applies `mapping`, returning the result and the peak of live bytes above those live
/// before the call.
fn peak_of(mapping: &Value, payload: &Value) -> (Result<Value, MappingError>, usize) {
    let compiled = mapping::Mapping::compile(mapping).expect("valid mapping");
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let result = compiled.apply(payload);
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(before);
    (result, peak)
}

#[test]
fn huge_outputs_are_refused_within_the_budget() {
    let s = "a".repeat(20_000);
    let payload = json!({"properties": {
        "s": s,
        "r": "b".repeat(20_000),
        "items": vec!["x"; 10_000],
        "len": 1e19,
    }});
    let nested = (0..60).fold(json!(1), |inner, _| json!({"k": inner}));
    let payload = json!({"properties": payload["properties"], "nested": nested});
    let liquid = |t: &str| json!({"v": {"@liquid": t}});
    let cases = [
        // `$'` copies the rest of the string for each of 20 000 matches: ~200 MB.
        (
            Bound::Exact,
            "@replace $'",
            json!({"v": {"@replace": {"value": {"@path": "$.properties.s"},
                "pattern": "a", "replacement": "$'"}}}),
        ),
        (
            Bound::Exact,
            "@replace $` and $&",
            json!({"v": {"@replace": {"value": {"@path": "$.properties.s"},
                "pattern": "a", "replacement": "$`$&$`"}}}),
        ),
        // A 20 KB replacement for each of 20 000 matches: ~400 MB.
        (
            Bound::Exact,
            "liquid replace",
            liquid("{{ properties.s | replace: 'a', properties.r }}"),
        ),
        (
            Bound::Exact,
            "liquid replace, assigned",
            liquid("{% assign x = properties.s | replace: 'a', properties.r %}"),
        ),
        (
            Bound::Exact,
            "liquid replace then append",
            liquid("{{ properties.s | replace: 'a', properties.r | append: properties.r }}"),
        ),
        (
            Bound::Exact,
            "liquid join",
            liquid("{{ properties.items | join: properties.r }}"),
        ),
        (
            Bound::Grown,
            "liquid doubling",
            liquid(&format!(
                "{{% assign x = properties.s %}}{}",
                "{% assign x = x | append: x %}".repeat(20)
            )),
        ),
        (
            Bound::Grown,
            "liquid capture doubling",
            liquid(&format!(
                "{{% assign x = properties.s %}}{}",
                "{% capture x %}{{x}}{{x}}{% endcapture %}".repeat(16)
            )),
        ),
        // 4 000 copies of a 20 KB value: ~80 MB.
        (
            Bound::Exact,
            "@template",
            json!({"v": {"@template": "{{properties.s}}".repeat(4_000)}}),
        ),
        (
            Bound::Exact,
            "@json encode",
            json!({"v": {"@json": {"mode": "encode",
                "value": vec![json!({"@path": "$.properties.s"}); 5_000]}}}),
        ),
        // Keys 60 levels deep, each level repeating a 20 KB separator: ~36 MB of keys.
        (
            Bound::Exact,
            "@flatten",
            json!({"v": {"@flatten": {"value": {"@path": "$.nested"},
                "separator": "-".repeat(20_000)}}}),
        ),
    ];
    for (bound, name, mapping) in &cases {
        assert_refused_within(*bound, name, mapping, &payload);
    }
    // Within the budget, such mappings still work.
    let ok = liquid("{{ properties.s | slice: 1, properties.len | replace: 'a', 'bc' | size }}");
    let (result, _) = peak_of(&ok, &payload);
    assert_eq!(result.ok(), Some(json!({"v": "39998"})));
    // In this test, not one of its own: tests of one binary run at once, and the counts are
    // of the whole process.
    trees_are_refused_within_the_budget();
}

/// Mappings that build many values from one event within Segment's 32 KB: each value is
/// charged against the same byte budget as strings (`mapping::VALUE_BYTES`), so that what the
/// engine builds stays within about the budget however many strings it holds (before, these
/// built 100 MB and more while their strings stayed far under the budget).
fn trees_are_refused_within_the_budget() {
    let numbers = format!("[{}0]", "0,".repeat(4_500));
    let letters = "a,".repeat(4_500);
    let members: serde_json::Map<String, Value> =
        (0..900).map(|i| (format!("k{i}"), json!(i))).collect();
    let payload = json!({"properties": {"j": numbers, "s": letters, "o": members}});
    // About 30 KB of text: within one event's 32 KB.
    assert!(serde_json::to_string(&payload).unwrap().len() < 32 * 1024);
    let repeated = |count: usize, node: Value| -> Value {
        Value::Object(
            (0..count)
                .map(|i| (format!("v{i}"), node.clone()))
                .collect(),
        )
    };
    let split = "{% assign a = properties.s | split: '' %}";
    let cases = [
        // 4 500 numbers decoded 1 000 times: 4.5 million values, 590 MB before.
        (
            "@json decode",
            repeated(
                1_000,
                json!({"@json": {"mode": "decode", "value": {"@path": "$.properties.j"}}}),
            ),
        ),
        // 9 000 one-letter strings per split, 24 splits per template, 40 templates.
        (
            "liquid split",
            repeated(40, json!({"@liquid": split.repeat(24)})),
        ),
        // A 900-member object merged into 600 objects: 540 000 members, 70 MB before.
        (
            "@merge",
            repeated(
                600,
                json!({"@merge": {"direction": "right",
                    "objects": [{"@path": "$.properties.o"}]}}),
            ),
        ),
        // The same object copied 600 times: 125 MB before.
        (
            "@path copies",
            repeated(600, json!({"@path": "$.properties.o"})),
        ),
    ];
    for (name, mapping) in &cases {
        assert_refused_within(Bound::Grown, name, mapping, &payload);
    }
}

/// Applies `mapping` (the case `name`): it must be refused by the byte budget, having peaked
/// within `bound`.
fn assert_refused_within(bound: Bound, name: &str, mapping: &Value, payload: &Value) {
    let (result, peak) = peak_of(mapping, payload);
    eprintln!("{name}: peak {peak} bytes");
    assert!(
        matches!(
            result,
            Err(MappingError::LimitExceeded {
                what: "bytes of produced strings and values",
                ..
            })
        ),
        "{name}: {:?}",
        result.map(|_| ())
    );
    assert!(
        peak <= bound.max_peak(),
        "{name}: peak {peak} bytes, at most {} ({bound:?}), budget {MAX_OUTPUT_BYTES}",
        bound.max_peak()
    );
}
