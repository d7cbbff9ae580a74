//! The core compiled to wasm32, in Node: `wasm-pack test --node -- --test wasm_node`.
//! The conformance vectors are embedded, since wasm has no file system.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

include!("wasm/core_cases.rs");
