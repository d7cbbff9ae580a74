//! The core compiled to wasm32, in a browser:
//! `wasm-pack test --headless --chrome -- --test wasm_browser` (Debian's chromium-driver).
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::let_underscore_must_use
)] // Tests fail loudly.

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

include!("wasm/core_cases.rs");
