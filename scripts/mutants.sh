#!/usr/bin/env bash
# Test strength: runs cargo-mutants over the core's decision modules and prints, per file, how
# many mutants `cargo test` caught, missed, found unviable or timed out on. Not part of the test
# command (it takes long: every mutant is a build and a test run); its last figures are in the
# README. Survivors are listed in mutants.out/missed.txt.
#
#   MUTANTS_FILES   files to mutate (default: the decision modules below)
#   MUTANTS_JOBS    builds at once (default 1; each needs its own copy of the tree)
#
# cargo-mutants comes from crates.io (installed here at the pinned version when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_MUTANTS_VERSION=27.1.0
files=${MUTANTS_FILES:-"src/api.rs src/inbound.rs src/delivery.rs src/config/mod.rs src/config/document.rs src/pipeline/mod.rs src/pipeline/trace.rs src/config/catalogue.rs src/outcome.rs src/track_event/reads.rs src/launchdarkly.rs src/timestamp.rs src/segment.rs src/track_event/mod.rs src/envelope.rs"}
jobs=${MUTANTS_JOBS:-1}

if ! cargo mutants --version 2>/dev/null | grep -q "$CARGO_MUTANTS_VERSION"; then
  echo "[mutants] installing cargo-mutants $CARGO_MUTANTS_VERSION"
  cargo install -q cargo-mutants --version "=$CARGO_MUTANTS_VERSION" --locked \
    || cargo install -q cargo-mutants --version "=$CARGO_MUTANTS_VERSION"
fi

args=()
for file in $files; do args+=(--file "$file"); done
# `cargo test` as the README runs it (native: the wasm adapters are not mutated here).
status=0
cargo mutants --no-shuffle --jobs "$jobs" "${args[@]}" -- --all-targets || status=$?
# cargo-mutants exits 2 when some mutants were missed, 3 on timeouts: report, don't fail.
echo "[mutants] per file (caught / missed / unviable / timeout):"
for file in $files; do
  count() { grep -c "^$file:" "mutants.out/$1.txt" 2>/dev/null || true; }
  printf '  %-28s %4s %4s %4s %4s\n' "$file" "$(count caught)" "$(count missed)" "$(count unviable)" "$(count timeout)"
done
exit $(( status == 2 || status == 3 ? 0 : status ))
