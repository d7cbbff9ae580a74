//! What the pipeline's integration tests share: a configuration document read (or the test
//! fails with its problems), and a request of parsed events run through the pipeline with the
//! trace.

use segment_ld_bridge::config::{read_document, BridgeConfig};
use segment_ld_bridge::pipeline::{self, Events, Options, Processed};
use serde_json::Value;

/// When the requests arrive: 2025-06-15, after the events' timestamps.
pub const RECEIVED_AT: i64 = 1_750_000_000_000;

pub fn config(document: Value) -> BridgeConfig {
    read_document(&document).unwrap_or_else(|problems| panic!("{problems:?}"))
}

pub fn run(config: &BridgeConfig, events: &[Value]) -> Processed {
    pipeline::process(
        config,
        &pipeline::every_destination(config),
        Events::Parsed(events),
        Options::at(RECEIVED_AT).traced(),
    )
}
