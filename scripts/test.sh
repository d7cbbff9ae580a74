#!/usr/bin/env bash
# Runs every test of segment-ld-bridge: formatting and lints, the native core and CLI, the core
# compiled to wasm (Node and headless Chromium), and the Worker end to end in workerd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }
free_disk() { df -h . | awk 'NR == 2 { print $4 " free on " $6 }'; }

step "disk: $(free_disk) (a clean run takes about 3 GB)"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native, all targets)"
cargo clippy --all-targets -- -D warnings
step "cargo clippy (wasm32: Worker adapter)"
cargo clippy --lib --tests --target wasm32-unknown-unknown -- -D warnings
step "cargo clippy (wasm32: playground bindings)"
cargo clippy --lib --tests --target wasm32-unknown-unknown --no-default-features --features playground -- -D warnings

step "native tests (core, conformance, CLI)"
cargo test
step "the mapping engine against Segment's own code (random mappings and Liquid templates)"
cargo test --test mapping_differential -- --ignored
step "whole events against Segment's LaunchDarkly destination (random events and mappings)"
cargo test --test destination_differential -- --ignored
step "event timestamps against JavaScript's Date.parse and dayjs (random date-like text)"
cargo test --test date_parse_differential -- --ignored

step "fuzz: inbound parser, mapping engine, trigger parser (FUZZ_SECONDS per target)"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash scripts/fuzz.sh

step "core compiled to wasm, in Node (wasm-pack test --node)"
wasm-pack test --node --mode no-install -- --no-default-features --test wasm_node
step "core compiled to wasm, in headless Chromium (wasm-pack test --headless --chrome)"
wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" --mode no-install \
  -- --no-default-features --test wasm_browser
step "playground bindings in headless Chromium (wasm-pack test --headless --chrome)"
wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" --mode no-install \
  -- --no-default-features --features playground --test wasm_playground

step "build the Worker and the playground"
bash scripts/build-worker.sh
bash scripts/build-playground.sh
step "Worker end to end in workerd (Miniflare) against a stand-in LaunchDarkly on 127.0.0.1"
node --test --test-concurrency=1 tests/e2e/
step "done: $(free_disk)"
