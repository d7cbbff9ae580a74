#!/usr/bin/env bash
# Builds the playground's wasm (the core + src/playground.rs, for the browser, without the Worker
# runtime) into www/pkg/ (git-ignored): segment_ld_bridge.js + segment_ld_bridge_bg.wasm.
# Uses the project's pinned wasm-bindgen and binaryen; run scripts/setup.sh first.
# `--dev` skips wasm-opt (faster, larger).
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
wasm="$target_dir/wasm32-unknown-unknown/release/segment_ld_bridge.wasm"
out=www/pkg
wasm_opt="${WASM_OPT_BIN:-$PWD/node_modules/binaryen/bin/wasm-opt}"

cargo build --lib --target wasm32-unknown-unknown --release --no-default-features --features playground
rm -rf "$out"
"${WASM_BINDGEN_BIN:-wasm-bindgen}" --target web --no-typescript --out-dir "$out" "$wasm"
if [ "${1:-}" != "--dev" ] && [ -x "$wasm_opt" ]; then
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/segment_ld_bridge_bg.wasm" -o "$out/segment_ld_bridge_bg.wasm"
fi
bytes=$(wc -c <"$out/segment_ld_bridge_bg.wasm")
gzipped=$(gzip -9 -c "$out/segment_ld_bridge_bg.wasm" | wc -c)
echo "[build-playground] $out/segment_ld_bridge_bg.wasm: $bytes bytes, $gzipped gzipped"
