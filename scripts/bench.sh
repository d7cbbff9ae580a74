#!/usr/bin/env bash
# Runs every benchmark of segment-ld-bridge (issue 8) on this machine, prints the tables and
# writes them to target/bench/results.json and target/bench/results.md:
#   1. the core, native (benches/core.rs), events/s;
#   2. the same events through Segment's published JavaScript (bench/segment-js.mjs);
#   3. the core compiled to wasm, in Node (bench/wasm-core), and the same wasm in workerd and in
#      Node with no I/O (bench/wasm-core-workerd.mjs);
#   4. the Worker end to end in workerd on 127.0.0.1, next to trivial Workers: a JavaScript echo,
#      and a Worker doing the bridge's I/O only, in JavaScript and in Rust (bench/worker-load.mjs);
#   5. the size of the Worker's wasm and of the playground's (both built here).
# The core benchmarks run in BENCH_ROUNDS rounds (default 3), interleaved, so that ratios come from
# the same run; each figure is the median of all rounds' runs with the spread. A part whose
# prerequisites are missing is skipped with a note. Not part of scripts/test.sh.
# Options (environment): BENCH_ROUNDS, BENCH_RUNS (runs per round, 3), BENCH_RUN_MS (300),
# BENCH_WORKER_RUNS (3), BENCH_WORKER_RUN_MS (4000), BENCH_CONNECTIONS (8).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
rounds=${BENCH_ROUNDS:-3}
runs=${BENCH_RUNS:-3}
run_ms=${BENCH_RUN_MS:-300}

rm -rf "$out/raw"
mkdir -p "$out/raw"
: >"$out/notes.txt"
step() { printf '\n==> %s\n' "$*"; }
note() {
  printf 'note: %s\n' "$*"
  printf '%s\n' "$*" >>"$out/notes.txt"
}
have() { command -v "$1" >/dev/null 2>&1; }
started=$(date +%s)
note "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

# --- prerequisites -------------------------------------------------------------------------
native=false js=false wasm=false worker=false
have cargo && native=true || note "skipped the native core: cargo is missing"
if have node; then
  if [ ! -d bench/node_modules/@segment/actions-core ]; then
    step "npm ci in bench/ (Segment's packages, from npm)"
    (cd bench && npm ci --no-audit --no-fund) || note "npm ci in bench/ failed"
  fi
  [ -d bench/node_modules/@segment/actions-core ] && js=true ||
    note "skipped Segment's JavaScript and the Worker load: bench/node_modules is missing"
else
  note "skipped everything in Node (Segment's JavaScript, wasm, the Worker): node is missing"
fi
if have node && have cargo && have wasm-bindgen &&
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  wasm=true
else
  note "skipped the wasm core: needs node, the wasm32-unknown-unknown target and wasm-bindgen (scripts/setup.sh)"
fi
if $js && have worker-build && have wasm-bindgen && [ -d node_modules/miniflare ]; then
  worker=true
else
  note "skipped the Worker (build, load, size): needs worker-build, wasm-bindgen and the root npm packages (scripts/setup.sh)"
fi

# --- builds ----------------------------------------------------------------------------------
native_bin=""
if $native; then
  step "build the native core benchmark (cargo bench --no-run)"
  native_bin=$(CARGO_TARGET_DIR=$out/cargo cargo bench --bench core --no-run --message-format=json-render-diagnostics |
    grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
  [ -x "$native_bin" ] || { note "skipped the native core: the benchmark did not build"; native=false; }
fi
wasm_pkg=$out/wasm-core/pkg
wasm_web=$out/wasm-core/web
wasm_opt_flags=$(sed -n 's/^wasm-opt = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')
wasm_opt=$root/node_modules/binaryen/bin/wasm-opt
if $wasm; then
  step "build the core for wasm (bench/wasm-core) and bind it for Node"
  # The bridge's own opt-level (Cargo.toml [profile.release]), so the core is compiled as in the Worker.
  opt_level=$(sed -n '/^\[profile.release\]/,/^\[/s/^opt-level = "\{0,1\}\([0-9sz]\)"\{0,1\}$/\1/p' Cargo.toml)
  if (cd bench/wasm-core && CARGO_PROFILE_RELEASE_OPT_LEVEL=${opt_level:-3} CARGO_TARGET_DIR=$out/wasm-core \
    cargo build --release --target wasm32-unknown-unknown) &&
    wasm-bindgen --target nodejs --out-dir "$wasm_pkg" \
      "$out/wasm-core/wasm32-unknown-unknown/release/segment_ld_bridge_wasm_bench.wasm"; then
    # The same wasm bound for workerd too (bench/wasm-core-workerd.mjs).
    wasm-bindgen --target web --out-dir "$wasm_web" \
      "$out/wasm-core/wasm32-unknown-unknown/release/segment_ld_bridge_wasm_bench.wasm" ||
      note "wasm-bindgen --target web failed: the core is not measured in workerd"
    if [ -x "$wasm_opt" ]; then
      # The Worker's wasm-opt flags (Cargo.toml), so that the core is optimised as in the Worker.
      for bound in "$wasm_pkg" "$wasm_web"; do
        [ -f "$bound/segment_ld_bridge_wasm_bench_bg.wasm" ] || continue
        # shellcheck disable=SC2086
        "$wasm_opt" $wasm_opt_flags "$bound/segment_ld_bridge_wasm_bench_bg.wasm" \
          -o "$bound/segment_ld_bridge_wasm_bench_bg.wasm" || note "wasm-opt failed on the wasm core ($bound): measured unoptimised"
      done
    else
      note "wasm-opt (node_modules/binaryen) is missing: the wasm core is measured without it"
    fi
  else
    note "skipped the wasm core: it did not build"
    wasm=false
  fi
fi
if $worker; then
  step "build the Worker into target/bench/worker (scripts/build-worker.sh)"
  CARGO_TARGET_DIR=$out/worker-cargo bash scripts/build-worker.sh --out-dir target/bench/worker ||
    { note "skipped the Worker: it did not build"; worker=false; }
fi
if $wasm; then
  # Built here, so that the size reported is this code's and not an older build's in www/pkg.
  step "build the playground's wasm into www/pkg (scripts/build-playground.sh)"
  CARGO_TARGET_DIR=$out/playground-cargo bash scripts/build-playground.sh ||
    { rm -rf www/pkg; note "the playground did not build: its size is not reported"; }
fi
if $worker; then
  step "build the Rust twin of the forward Worker (bench/rust-forward) into target/bench/rust-forward"
  (cd bench/rust-forward && CARGO_TARGET_DIR=$out/rust-forward-cargo \
    WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" ESBUILD_BIN="$root/node_modules/@esbuild/linux-x64/bin/esbuild" \
    WASM_OPT_BIN="$wasm_opt" worker-build --release --out-dir "$out/rust-forward") ||
    note "the Rust forward Worker did not build: its row is skipped"
fi

# --- core benchmarks, interleaved rounds -----------------------------------------------------
for round in $(seq 1 "$rounds"); do
  step "core benchmarks, round $round of $rounds"
  if $native; then
    "$native_bin" --runs "$runs" --run-ms "$run_ms" --out "$out/raw/native.$round.json" ||
      note "the native core failed in round $round"
  fi
  if $wasm; then
    node bench/wasm-core.mjs --pkg "$wasm_pkg" --runs "$runs" --run-ms "$run_ms" --out "$out/raw/wasm.$round.json" ||
      note "the wasm core failed in round $round"
  fi
  if $js; then
    node bench/segment-js.mjs --runs "$runs" --run-ms "$run_ms" --out "$out/raw/segment-js.$round.json" ||
      note "Segment's JavaScript failed in round $round"
  fi
done

# --- the core in workerd ---------------------------------------------------------------------
if $wasm && $worker && [ -f "$wasm_web/segment_ld_bridge_wasm_bench.js" ]; then
  step "the wasm core in workerd and in Node, from JSON text (no I/O)"
  node bench/wasm-core-workerd.mjs --pkg "$wasm_web" --out "$out/raw/wasm-workerd.json" ||
    note "the wasm core in workerd failed"
fi

# --- the Worker end to end -------------------------------------------------------------------
if $worker; then
  step "the Worker end to end in workerd on 127.0.0.1"
  node bench/worker-load.mjs --worker "$out/worker/index.js" --rust-forward "$out/rust-forward/index.js" --runs "${BENCH_WORKER_RUNS:-3}" \
    --run-ms "${BENCH_WORKER_RUN_MS:-4000}" --connections "${BENCH_CONNECTIONS:-8}" \
    --out "$out/raw/worker.json" || note "the Worker load test failed"
fi
[ -d www/pkg ] || note "the playground's wasm (www/pkg) is not built: its size is not reported"

# --- report ----------------------------------------------------------------------------------
note "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(($(date +%s) - started)) s"
if have node; then
  step "report"
  node bench/report.mjs --dir "$out" --notes "$out/notes.txt"
else
  echo "node is missing: raw results are in $out/raw"
fi
