//! Event timestamps against Node as an oracle (`bench/date-parse-oracle.mjs`): random date-like
//! text in the forms people and libraries write, some of it mutated, must read as JavaScript's
//! `Date.parse` reads it in V8 (`timestamp::date_parse_millis`), and as Segment's destination
//! reads it with dayjs (`timestamp::event_timestamp_millis`), or as the README's deliberate
//! differences say: more than eight digits alone are the receive time, and text neither reads
//! is read as ISO 8601 where it is. Needs Node and the packages `scripts/setup.sh` installs in
//! `bench/`, so the test is ignored by a bare `cargo test`; `scripts/test.sh` runs it
//! (`-- --ignored`). `ORACLE_SEED` replays other cases (a failure names its seed).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use segment_ld_bridge::timestamp;
use serde_json::Value;
use std::process::Command;

/// `[[text, Date.parse | null, dayjs | null], ...]` from the oracle, in UTC (Segment's zone).
fn oracle(seed: u64, count: usize) -> Vec<(String, Option<i64>, Option<i64>)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("node")
        .env("TZ", "UTC")
        .arg(format!("{root}/bench/date-parse-oracle.mjs"))
        .args([&seed.to_string(), &count.to_string()])
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    assert!(
        output.status.success(),
        "bench/date-parse-oracle.mjs failed (scripts/setup.sh installs dayjs in bench/): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cases: Vec<Value> = serde_json::from_slice(&output.stdout).expect("the oracle prints JSON");
    cases
        .iter()
        .map(|case| {
            let millis = |value: &Value| value.as_f64().map(|ms| ms as i64);
            (
                case[0].as_str().expect("text").to_owned(),
                millis(&case[1]),
                millis(&case[2]),
            )
        })
        .collect()
}

fn seed() -> u64 {
    std::env::var("ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_203)
}

#[test]
#[ignore = "needs Node and bench/node_modules (scripts/setup.sh); scripts/test.sh runs it"]
fn timestamps_are_read_as_v8_and_dayjs_read_them() {
    let seed = seed();
    let cases = oracle(seed, 20_000);
    let (mut v8_read, mut dayjs_read, mut unix_text, mut lenient) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (text, v8, dayjs) in &cases {
        let ours = timestamp::date_parse_millis(text);
        if ours != *v8 {
            failures.push(format!("Date.parse({text:?}): V8 {v8:?}, here {ours:?}"));
        }
        v8_read += usize::from(v8.is_some());
        let event = timestamp::event_timestamp_millis(text);
        let unix = text.len() > 8 && text.bytes().all(|b| b.is_ascii_digit());
        let expected = match dayjs {
            // A deliberate difference: Unix time as text is the receive time.
            Some(_) if unix => {
                unix_text += 1;
                None
            }
            Some(ms) => {
                dayjs_read += 1;
                Some(*ms)
            }
            // Segment's schema step refuses the event; read here as ISO 8601 where it is.
            None => {
                let iso = timestamp::parse_iso8601_millis(text);
                lenient += usize::from(iso.is_some());
                iso
            }
        };
        if event != expected {
            failures.push(format!(
                "event timestamp {text:?}: expected {expected:?} (dayjs {dayjs:?}), here {event:?}"
            ));
        }
    }
    eprintln!(
        "seed {seed}: {} texts, {v8_read} read by Date.parse, {dayjs_read} by dayjs; deliberate: {unix_text} Unix time as text, {lenient} read as ISO 8601 where Segment refuses",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {} differ; the first ones:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The oracle must reach both readers, or the test proves nothing.
    assert!(
        v8_read > cases.len() / 4 && dayjs_read > cases.len() / 4,
        "{v8_read} / {dayjs_read}"
    );
}
