#!/usr/bin/env bash
# Fuzzes the inbound parser, the mapping engine and the trigger parser (cargo-fuzz, libFuzzer;
# the project is fuzz/, a workspace of its own) for a bounded time per target, and prints per
# target how long it ran and how many inputs it executed. Exits non-zero on a crash (a panic),
# a timeout (an input slower than FUZZ_TIMEOUT) or running out of memory, printing the input.
#
#   FUZZ_SECONDS   seconds per target (default 40)
#   FUZZ_TARGETS   targets to run (default "inbound mapping trigger")
#   FUZZ_TIMEOUT   seconds one input may take (default 1; 5 for mapping, whose work on one
#                  input is bounded by the engine's budget, 16 MiB of produced strings and values: a
#                  template doubling a string up to that budget takes 9 ms natively in
#                  release, 1.7 s in the instrumented fuzz build)
#
# Reproduce a failure: cargo fuzz run --fuzz-dir fuzz -s none -a <target> <input file>
# Seeds (fuzz/corpus/<target>/) come from tests/vectors: python3 fuzz/seeds.py.
# What the fuzzer finds is kept in fuzz/target/corpus/<target>/, so later runs start from it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

CARGO_FUZZ_VERSION=0.13.2
seconds=${FUZZ_SECONDS:-40}
targets=${FUZZ_TARGETS:-"inbound mapping trigger"}
# Seconds one input of target $1 may take (see FUZZ_TIMEOUT above).
timeout_of() {
  case "$1" in
    mapping) echo "${FUZZ_TIMEOUT:-5}" ;;
    *) echo "${FUZZ_TIMEOUT:-1}" ;;
  esac
}

say() { printf '[fuzz] %s\n' "$*"; }

# 1. cargo-fuzz at the pinned version (cargo install is slow: only when the version differs).
# `--locked` first for reproducibility; without it when a locked dependency is no longer served.
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install -q cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked \
    || cargo install -q cargo-fuzz --version "=$CARGO_FUZZ_VERSION"
fi

# 2. Build. `-s none`: no sanitizer (safe Rust; libFuzzer's coverage instrumentation is all
# that is needed), which also needs no nightly flag, so the stable toolchain builds it.
# `-a`: debug assertions and overflow checks on, as in `cargo test`.
opts=(--fuzz-dir "$root/fuzz" -s none -a)
say "building the fuzz targets"
mkdir -p "$root/fuzz/target"
if ! cargo fuzz build "${opts[@]}" >"$root/fuzz/target/build.log" 2>&1; then
  grep -v '^\s*Compiling ' "$root/fuzz/target/build.log" | tail -n 60 >&2 || true
  echo "[fuzz] the fuzz targets do not build" >&2
  exit 1
fi

# 3. Run each target for a bounded time.
max_len() {
  case "$1" in
    inbound) echo 8192 ;; # the target also uses 4 KB request / 512 B event limits
    mapping) echo 4096 ;;
    trigger) echo 2048 ;;
    *) echo 4096 ;;
  esac
}
logs="$root/fuzz/target/logs"
mkdir -p "$logs"
failed=()
for target in $targets; do
  work="$root/fuzz/target/corpus/$target"
  seeds="$root/fuzz/corpus/$target"
  mkdir -p "$work" "$seeds"
  if [ "$(find "$work" -type f | wc -l)" -gt 20000 ]; then
    say "$target: minimizing the kept corpus (over 20000 inputs)"
    cargo fuzz cmin "${opts[@]}" "$target" "$work" -- -max_len="$(max_len "$target")" \
      >"$logs/$target-cmin.log" 2>&1 || say "$target: cmin failed (see $logs/$target-cmin.log)"
  fi
  dict=()
  [ -f "$root/fuzz/dicts/$target.dict" ] && dict=(-dict="$root/fuzz/dicts/$target.dict")
  log="$logs/$target.log"
  say "$target: fuzzing for ${seconds} s (log: ${log#"$root"/})"
  start=$(date +%s.%N)
  rc=0
  cargo fuzz run "${opts[@]}" "$target" "$work" "$seeds" -- \
    -max_total_time="$seconds" -timeout="$(timeout_of "$target")" -rss_limit_mb=1024 \
    -max_len="$(max_len "$target")" "${dict[@]}" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  runs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log" | tail -n 1)
  corpus=$(find "$work" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    say "$target: ${runs:-?} executions in ${took} s without a crash (corpus: $corpus inputs)"
  else
    failed+=("$target")
    echo "[fuzz] $target FAILED after ${took} s and ${runs:-?} executions (exit $rc; log: ${log#"$root"/}):" >&2
    # The panic message (or libFuzzer's timeout / out-of-memory report), else the log's end.
    grep -E -A 2 "panicked at|^==[0-9]+== ERROR: libFuzzer" "$log" | head -n 12 >&2 \
      || grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED|RELOAD)' "$log" | tail -n 30 >&2 || true
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ -n "$input" ]; then
      echo "[fuzz] $target: failing input: $input" >&2
      echo "[fuzz] reproduce: cargo fuzz run --fuzz-dir fuzz -s none -a $target $input" >&2
      echo "[fuzz] minimize:  cargo fuzz tmin --fuzz-dir fuzz -s none -a $target $input" >&2
    fi
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "[fuzz] failed: ${failed[*]}" >&2
  exit 1
fi
say "no crash in: $targets"
