//! The core compiled to wasm32, in a browser:
//! `wasm-pack test --headless --chrome -- --test wasm_browser` (Debian's chromium-driver).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

include!("wasm/core_cases.rs");
