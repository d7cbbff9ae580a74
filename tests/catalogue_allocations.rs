//! The catalogue's verdicts cost no allocation for an event a metric counts: judged alone, and
//! through the whole pipeline (the same allocations as without a catalogue). Counted with an
//! allocator that counts the calls of the current thread.
#![cfg(not(target_arch = "wasm32"))]
#![allow(unsafe_code)] // The counting allocator implements `GlobalAlloc`, an unsafe trait.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::config::{read_document, BridgeConfig};
use segment_ld_bridge::outcome::Warning;
use segment_ld_bridge::pipeline::{self, Events, Options};
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // During thread teardown the counter may be gone: then it is not counted.
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `work` makes on this thread.
fn allocations(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    work();
    ALLOCATIONS.with(Cell::get) - before
}

fn config(catalogue: bool) -> BridgeConfig {
    let mut destination = json!({"name": "production", "client_side_id": "env-1"});
    if catalogue {
        destination["metric_event_keys"] = json!(["Hand Written"]);
        destination["unknown_event_keys"] = json!("drop");
        destination["metrics"] = json!((0..40)
            .map(
                |n| json!({"key": format!("metric-{n}"), "name": format!("Metric {n}"),
                            "event_key": format!("Event {n}"), "numeric": n % 2 == 0,
                            "randomization_units": ["device", "user"]})
            )
            .chain([
                json!({"key": "revenue", "name": "Revenue", "event_key": "Order Completed",
                           "numeric": true, "randomization_units": ["account", "user"]})
            ])
            .collect::<Vec<_>>());
    }
    read_document(&json!({"destinations": [destination]})).unwrap()
}

#[test]
fn a_counted_event_costs_no_allocation() {
    let with_catalogue = config(true);
    let catalogue = with_catalogue.destinations[0].catalogue.as_ref().unwrap();
    let mut warnings: Vec<Warning> = Vec::new();
    let kinds = ["unauthenticatedUser", "user"];
    let made = allocations(|| {
        for key in ["Order Completed", "Event 8", "Event 12", "Hand Written"] {
            let judgement = catalogue.judge(key, || kinds, true);
            assert!(judgement.counted && judgement.send, "{key}");
            judgement.warn("production", key, || kinds, &mut warnings);
            assert_eq!(
                judgement.metrics().count(),
                usize::from(key != "Hand Written")
            );
        }
    });
    assert_eq!(made, 0);
    assert!(warnings.is_empty());

    // Through the pipeline: the same allocations with the catalogue as without one.
    let events: Vec<Value> = (0..20)
        .map(|n| {
            json!({"type": "track", "event": "Order Completed", "userId": format!("u-{n}"),
                        "messageId": format!("m-{n}"), "timestamp": "2025-06-01T00:00:00Z",
                        "properties": {"revenue": n}})
        })
        .collect();
    let run = |config: &BridgeConfig| {
        allocations(|| {
            let processed = pipeline::process(
                config,
                &pipeline::every_destination(config),
                Events::Parsed(&events),
                Options::at(1_750_000_000_000),
            );
            assert_eq!(processed.payloads[0].event_indexes.len(), 20);
            assert!(processed.outcomes.iter().all(|o| o.warnings.is_empty()));
        })
    };
    let without = config(false);
    // Once each first, so that nothing allocated once per process counts.
    run(&without);
    run(&with_catalogue);
    assert_eq!(run(&with_catalogue), run(&without));
}
