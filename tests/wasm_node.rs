//! The core compiled to wasm32, in Node: `wasm-pack test --node -- --test wasm_node`.
//! The conformance vectors are embedded, since wasm has no file system.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::let_underscore_must_use
)] // Tests fail loudly.

include!("wasm/core_cases.rs");
