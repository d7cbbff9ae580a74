//! segment-ld-bridge: Twilio Segment `track` events in, LaunchDarkly custom metric events out.
//!
//! The crate is a pure core (everything but the adapters below) with thin adapters around it:
//! the Cloudflare Worker ([`worker_adapter`], wasm32 + feature `cloudflare`), the browser
//! bindings of the playground (wasm32 + feature `playground`) and the native CLI
//! (`src/bin/segment-ld-bridge.rs`). The core does no I/O: it decides what to send and how
//! to answer, and the adapters carry it out.

pub mod api;
pub mod config;
pub mod delivery;
pub mod envelope;
pub mod inbound;
mod js;
mod json;
pub mod launchdarkly;
pub mod launchdarkly_project;
pub mod mapping;
pub mod outcome;
pub mod pipeline;
pub mod preview;
pub mod segment;
pub mod timestamp;
pub mod track_event;
pub mod trigger;

#[cfg(all(target_arch = "wasm32", feature = "cloudflare"))]
mod worker_adapter;

#[cfg(all(target_arch = "wasm32", feature = "playground"))]
pub mod playground;
