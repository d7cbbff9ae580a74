#!/usr/bin/env bash
# Installs everything segment-ld-bridge needs to build, run and test, skipping what is already
# present at the right version. Safe to run again; a warm run takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen version in Cargo.lock
WORKER_BUILD_VERSION=0.8.7
WASM_PACK_VERSION=0.15.1

say() { printf '[setup] %s\n' "$*"; }

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. Pinned Rust tools (cargo install is slow: only when the version differs).
# `--locked` first for reproducibility; without it when a locked dependency is no longer served.
cargo_install() { cargo install -q "$@" --locked || cargo install -q "$@"; }
have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }
lock_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
if [ -n "$lock_version" ] && [ "$lock_version" != "$WASM_BINDGEN_VERSION" ]; then
  echo "[setup] Cargo.lock has wasm-bindgen $lock_version but setup pins $WASM_BINDGEN_VERSION: update scripts/setup.sh" >&2
  exit 1
fi
if ! have_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo_install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi
if ! have_version worker-build "$WORKER_BUILD_VERSION"; then
  say "installing worker-build $WORKER_BUILD_VERSION"
  cargo_install worker-build --version "=$WORKER_BUILD_VERSION"
fi
if ! have_version wasm-pack "$WASM_PACK_VERSION"; then
  say "installing wasm-pack $WASM_PACK_VERSION"
  cargo_install wasm-pack --version "=$WASM_PACK_VERSION"
fi

# 3. Chromium and its driver for browser tests (Debian packages).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  say "installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# 4. npm packages from the lock file (wrangler, miniflare, esbuild, binaryen, playwright-core).
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.setup-lock; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.setup-lock
fi

# 5. Segment's own packages in bench/ (@segment/actions-core, liquidjs): the oracle of
#    tests/mapping_differential.rs and the JavaScript side of the benchmarks.
if [ ! -f bench/node_modules/.package-lock.json ] || ! cmp -s bench/package-lock.json bench/node_modules/.setup-lock; then
  say "installing Segment's packages in bench/"
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
  cp bench/package-lock.json bench/node_modules/.setup-lock
fi
say "ready"
