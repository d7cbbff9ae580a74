//! Core throughput, native: Segment events per second through the trigger, the Track Event
//! mapping and the LaunchDarkly payload (`benches/support/bridge.rs`), for each scenario of
//! `bench/fixtures/scenarios.json`, in requests of 1 and of 100 events.
//!
//! `cargo bench --bench core -- [--runs N] [--run-ms MS] [--out FILE]`: each figure is measured
//! `N` times (default 7) for at least `MS` milliseconds (default 300) after a warm-up; the
//! median, minimum and maximum are printed and written as JSON (default
//! `target/bench/native.json`). `--scenario NAME` and `--cell batch_1|batch_100|batch_100_from_text`
//! run one figure alone (for a profiler). `scripts/bench.sh` runs it with the other benchmarks.
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

#[path = "support/bridge.rs"]
mod support;

use serde_json::{json, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};
use support::{batch, bridge, fixtures, Bridge, SCENARIOS};

/// Request sizes measured, in events.
const BATCHES: [usize; 2] = [1, 100];

struct Options {
    runs: usize,
    run_time: Duration,
    out: String,
    /// Only this scenario (for profiling).
    scenario: Option<String>,
    /// Only this figure: `batch_1`, `batch_100` or `batch_100_from_text` (for profiling).
    cell: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        runs: 7,
        run_time: Duration::from_millis(300),
        out: "target/bench/native.json".to_string(),
        scenario: None,
        cell: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => options.runs = parse(&value("--runs")?)?,
            "--run-ms" => options.run_time = Duration::from_millis(parse(&value("--run-ms")?)?),
            "--out" => options.out = value("--out")?,
            "--scenario" => options.scenario = Some(value("--scenario")?),
            "--cell" => options.cell = Some(value("--cell")?),
            _ => {} // `cargo bench` adds `--bench` and may add filters: ignored
        }
    }
    Ok(options)
}

fn parse<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("not a number: {text:?}"))
}

/// Runs `work` (which handles `events_per_call` events) repeatedly: a warm-up, then `runs`
/// runs of at least `run_time`; returns events per second of each run.
fn measure(options: &Options, events_per_call: usize, mut work: impl FnMut() -> usize) -> Vec<f64> {
    let timed = |work: &mut dyn FnMut() -> usize, at_least: Duration| {
        let start = Instant::now();
        let mut calls = 0u64;
        loop {
            black_box(work());
            calls += 1;
            let elapsed = start.elapsed();
            if elapsed >= at_least {
                return calls as f64 * events_per_call as f64 / elapsed.as_secs_f64();
            }
        }
    };
    timed(&mut work, options.run_time / 2);
    (0..options.runs)
        .map(|_| timed(&mut work, options.run_time))
        .collect()
}

fn summary(runs: &[f64]) -> Value {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    json!({
        "events_per_second": median,
        "min": sorted.first(),
        "max": sorted.last(),
        "runs": runs,
    })
}

fn bench_scenario(options: &Options, fixtures: &Value, name: &str) -> Result<Value, String> {
    let bridge: Bridge = bridge(fixtures, name)?;
    let wanted = |cell: &str| options.cell.as_deref().is_none_or(|only| only == cell);
    let mut cells = serde_json::Map::new();
    let body = bridge.checked_body(&batch(fixtures, 1))?;
    cells.insert("body".to_string(), Value::String(body));
    for n in BATCHES {
        let cell = format!("batch_{n}");
        let events = batch(fixtures, n);
        bridge.checked_body(&events)?;
        if wanted(&cell) {
            let runs = measure(options, n, || bridge.run(&events).payloads.len());
            report(name, &format!("{n} event(s), parsed"), &runs);
            cells.insert(cell, summary(&runs));
        }
    }
    // The Worker's path: the request body as bytes, parsed, then the same work.
    let n = 100;
    let cell = format!("batch_{n}_from_text");
    if wanted(&cell) {
        let text = Value::Array(batch(fixtures, n)).to_string();
        // The same body as the parsed rows, read as the Worker reads it.
        let body = bridge.run_text(text.as_bytes()).and_then(|processed| {
            match processed.payloads.as_slice() {
                [payload] => Ok(payload.body.clone()),
                _ => Err("expected one payload".to_string()),
            }
        })?;
        if body != bridge.checked_body(&batch(fixtures, n))? {
            return Err(format!("{name}: the body read from text differs"));
        }
        let runs = measure(options, n, || match bridge.run_text(text.as_bytes()) {
            Ok(processed) => processed.payloads.len(),
            Err(_) => 0,
        });
        report(name, &format!("{n} event(s), from JSON text"), &runs);
        cells.insert(cell, summary(&runs));
    }
    // The same, building values for every field of every event (before issue 14): what
    // reading only the fields the configuration reads saves.
    let cell = format!("batch_{n}_from_text_every_field");
    if wanted(&cell) {
        let text = Value::Array(batch(fixtures, n)).to_string();
        let runs = measure(
            options,
            n,
            || match segment_ld_bridge::inbound::parse_events(text.as_bytes()) {
                Ok(events) => bridge.run(&events).payloads.len(),
                Err(_) => 0,
            },
        );
        report(name, &format!("{n} event(s), text, every field"), &runs);
        cells.insert(cell, summary(&runs));
    }
    Ok(Value::Object(cells))
}

fn report(scenario: &str, what: &str, runs: &[f64]) {
    let s = summary(runs);
    println!(
        "native  {scenario:<16} {what:<28} {:>12.0} events/s  (min {:.0}, max {:.0})",
        s["events_per_second"].as_f64().unwrap_or_default(),
        s["min"].as_f64().unwrap_or_default(),
        s["max"].as_f64().unwrap_or_default(),
    );
}

fn main() {
    if let Err(error) = run() {
        eprintln!("core benchmark failed: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let options = options()?;
    let fixtures = fixtures()?;
    let mut scenarios = serde_json::Map::new();
    for name in SCENARIOS {
        if options.scenario.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        scenarios.insert(name.to_string(), bench_scenario(&options, &fixtures, name)?);
    }
    let result = json!({
        "tool": "native",
        "runs": options.runs,
        "run_ms": options.run_time.as_millis() as u64,
        "scenarios": scenarios,
    });
    if let Some(parent) = std::path::Path::new(&options.out).parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("{}: {error}", parent.display()))?;
    }
    std::fs::write(&options.out, format!("{result:#}\n"))
        .map_err(|error| format!("{}: {error}", options.out))
}
