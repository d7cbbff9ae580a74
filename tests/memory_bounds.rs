//! No request makes the core use memory far beyond its size: the peak heap of planning one
//! request, measured with a counting allocator, for the bodies an attacker would send.
#![cfg(not(target_arch = "wasm32"))]
#![allow(unsafe_code)] // The counting allocator implements `GlobalAlloc`, an unsafe trait.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::api::{self, IngestPlan, IngestRequest, OutcomeDetail, Route};
use segment_ld_bridge::config::BridgeConfig;
use segment_ld_bridge::inbound::{Limits, TrackingCall};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Counts live heap bytes (of every thread) and their peak since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// One test at a time: the counts are the process's, and tests run in threads.
static MEASURING: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MB: usize = 1024 * 1024;

fn config() -> BridgeConfig {
    BridgeConfig::from_vars(|name| match name {
        "LD_CLIENT_SIDE_ID" => Some("env".to_string()),
        "SEGMENT_WRITE_KEY" => Some("wk".to_string()),
        _ => None,
    })
    .expect("valid")
}

/// The heap the planning of one Tracking API batch grows by at its peak, and its status (call
/// it [`alone`]).
fn peak_of(config: &BridgeConfig, body: &[u8], authorization: Option<&str>) -> (usize, u16) {
    let request = IngestRequest {
        content_type: Some("application/json"),
        authorization,
        signature: None,
        body,
        outcomes: OutcomeDetail::All,
    };
    let route = Route::TrackingApi(TrackingCall::Batch);
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let status = match api::plan_ingest(
        config,
        &route,
        &request,
        &Limits::SEGMENT,
        1_750_000_000_000,
    ) {
        IngestPlan::Respond(response) => response.status,
        IngestPlan::Deliver(delivery) => api::finish(&delivery, &[]).status,
    };
    (PEAK.load(Ordering::Relaxed) - before, status)
}

/// `{"batch":[{},{},...],"context":[0,0,...]}` of about 480 KB: the body that grew workerd by
/// gigabytes when the batch context was copied into every item.
fn amplification_body(items: usize) -> Vec<u8> {
    let batch = vec!["{}"; items].join(",");
    let zeros = (480 * 1024 - batch.len()) / 2;
    format!(
        r#"{{"batch":[{batch}],"context":[{}0]}}"#,
        "0,".repeat(zeros)
    )
    .into_bytes()
}

#[test]
fn the_amplification_body_stays_small_without_and_with_credentials() {
    let _alone = alone();
    let config = config();
    for items in [16, 100, 250] {
        let body = amplification_body(items);
        assert!(body.len() < Limits::SEGMENT.max_request_bytes);
        let (peak, status) = peak_of(&config, &body, None);
        assert_eq!(status, 401);
        assert!(peak < MB, "{items} items, no credentials: {peak} bytes");
        let (peak, status) = peak_of(&config, &body, Some("Basic d2s6"));
        assert_eq!(
            status, 400,
            "every item is over 32 KB with the context it takes"
        );
        assert!(peak < 16 * MB, "{items} items, write key: {peak} bytes");
    }
}

#[test]
fn a_largest_batch_sharing_a_large_context_stays_within_a_small_multiple_of_its_size() {
    let _alone = alone();
    let config = config();
    // 2,500 events that each take a 30 KB batch context: 32 KB per event as Segment counts it.
    let context = format!(r#"{{"traits":{{"blob":"{}"}}}}"#, "x".repeat(30 * 1024));
    let events: Vec<String> = (0..2_500)
        .map(|i| format!(r#"{{"type":"track","event":"E","userId":"u{i}","messageId":"m{i}"}}"#))
        .collect();
    let body = format!(
        r#"{{"writeKey":"wk","batch":[{}],"context":{context}}}"#,
        events.join(",")
    );
    assert!(body.len() < Limits::SEGMENT.max_request_bytes);
    let (peak, status) = peak_of(&config, body.as_bytes(), None);
    assert_eq!(status, 200);
    assert!(
        peak < 16 * body.len().max(MB),
        "{} bytes of body, {peak} bytes at the peak",
        body.len()
    );
}

#[test]
fn the_densest_body_within_the_limits_stays_bounded() {
    let _alone = alone();
    // 16 events of about 30 KB, each a properties array of zeros: the most JSON values a body
    // within Segment's limits can hold. Built, each becomes a `serde_json::Value` of 80 bytes
    // (with `preserve_order`): about 40 times the body, the worst case of any body. The preset
    // copies `properties` as text instead: a few times the body.
    let zeros = format!("{}0", "0,".repeat(15 * 1024 - 40));
    let events: Vec<String> = (0..16)
        .map(|i| {
            format!(
                r#"{{"type":"track","event":"E","userId":"u{i}","properties":{{"z":[{zeros}]}}}}"#
            )
        })
        .collect();
    let body = format!(r#"{{"writeKey":"wk","batch":[{}]}}"#, events.join(","));
    assert!(body.len() < Limits::SEGMENT.max_request_bytes);
    let built = BridgeConfig::from_vars(|name| match name {
        "LD_CLIENT_SIDE_ID" => Some("env".to_string()),
        "SEGMENT_WRITE_KEY" => Some("wk".to_string()),
        "TRACK_EVENT_MAPPING" => Some(r#"{"metric_value": {"@path": "$.properties"}}"#.to_string()),
        _ => None,
    })
    .expect("valid");
    for (config, bound) in [(config(), 6 * body.len()), (built, 24 * MB)] {
        let (peak, status) = peak_of(&config, body.as_bytes(), None);
        assert!(status == 200 || status == 400, "{status}");
        assert!(
            peak < bound,
            "{} bytes of body, {peak} bytes at the peak",
            body.len()
        );
    }
}

/// An event over Segment's 32 KB is refused without its values being built, also where the
/// body is read in one pass: 400 KB of numbers in a field the preset reads (`userId`) cost
/// about their size, not the 40 times their values would.
#[test]
fn an_oversized_event_is_not_built() {
    let _alone = alone();
    let config = config();
    let zeros = format!("{}0", "0,".repeat(200 * 1024));
    for body in [
        format!(
            r#"{{"writeKey":"wk","batch":[{{"type":"track","event":"E","userId":"u"}},{{"type":"track","event":"E","userId":[{zeros}]}}]}}"#
        ),
        format!(
            r#"{{"writeKey":"wk","batch":[{{"type":"track","event":"E","userId":"u"}},[{zeros}]]}}"#
        ),
        format!(
            r#"{{"writeKey":"wk","batch":[{{"type":"track","event":"E","userId":"u","properties":{{"z":[{zeros}]}}}}]}}"#
        ),
    ] {
        assert!(body.len() < Limits::SEGMENT.max_request_bytes);
        let (peak, status) = peak_of(&config, body.as_bytes(), None);
        assert!(status == 200 || status == 400, "{status}");
        assert!(
            peak < 3 * body.len(),
            "{} bytes of body, {peak} bytes at the peak",
            body.len()
        );
    }
}
