#!/usr/bin/env bash
# Builds the Worker (build/index.js + build/index_bg.wasm) with worker-build, using the
# project's pinned tools so that nothing is downloaded. Run scripts/setup.sh first.
# worker-build keeps the wasm's function names (wasm-opt --debuginfo), about 115 KB (32 KB
# gzipped) that only stack traces and profiles read: they are removed afterwards, unless
# WORKER_WASM_NAMES=1 (e.g. for bench/profile-worker.mjs). The glue then schedules the Rust futures
# with promise reactions, not workerd's queueMicrotask, and its default export is a plain object
# rather than worker-build's proxied class (scripts/patch-worker-glue.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/@esbuild/linux-x64/bin/esbuild}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/binaryen/bin/wasm-opt}"
out_dir=build
previous=""
for arg in "$@"; do
  case "$previous" in -d | --out-dir) out_dir=$arg ;; esac
  case "$arg" in --out-dir=*) out_dir=${arg#--out-dir=} ;; esac
  previous=$arg
done
worker-build --release "$@"
# Futures woken by promise reactions; a plain object as the default export (see the script).
node scripts/patch-worker-glue.mjs "$out_dir/index.js"
if [ "${WORKER_WASM_NAMES:-0}" != 1 ]; then
  node scripts/strip-wasm-names.mjs "$out_dir/index_bg.wasm"
fi
