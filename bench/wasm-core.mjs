// The bridge's core compiled to wasm (bench/wasm-core, built by scripts/bench.sh with
// wasm-bindgen --target nodejs), run in Node: events per second for the same scenarios and
// requests as the native benchmark.
// `node bench/wasm-core.mjs [--pkg target/bench/wasm-core/pkg] [--runs 7] [--run-ms 300] [--out target/bench/wasm.json]`
import { createRequire } from 'node:module';
import path from 'node:path';
import { line, options, root, summary, writeJson } from './lib/scenarios.mjs';

const opts = options({
  pkg: path.join(root, 'target/bench/wasm-core/pkg'),
  runs: 7,
  runMs: 300,
  out: path.join(root, 'target/bench/wasm.json'),
});
const require = createRequire(import.meta.url);
const wasm = require(path.join(opts.pkg, 'segment_ld_bridge_wasm_bench.js'));

/** Calls `work(k)` (k requests of `perCall` events) with k grown until one call takes ≥ 10 ms. */
function measure(perCall, work) {
  let k = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    work(k);
    if (Number(process.hrtime.bigint() - start) >= 10e6 || k >= 1 << 20) break;
    k *= 2;
  }
  const timed = (ms) => {
    const start = process.hrtime.bigint();
    let requests = 0;
    let now;
    do {
      work(k);
      requests += k;
      now = process.hrtime.bigint();
    } while (Number(now - start) < ms * 1e6);
    return (requests * perCall) / (Number(now - start) / 1e9);
  };
  timed(opts.runMs / 2);
  return Array.from({ length: opts.runs }, () => timed(opts.runMs));
}

const scenarios = {};
for (const name of wasm.scenarios()) {
  scenarios[name] = {};
  for (const n of [1, 100]) {
    const bench = new wasm.Bench(name, n);
    if (n === 1) scenarios[name].body = bench.body();
    const cell = `batch_${n}`;
    scenarios[name][cell] = summary(measure(n, (k) => bench.run(k)));
    line('wasm', name, `${n} event(s), parsed`, scenarios[name][cell]);
    if (n === 100) {
      // The request body's bytes, as the Worker receives them (copied into wasm memory).
      const body = new TextEncoder().encode(bench.events_json());
      const fromText = summary(
        measure(n, (k) => {
          for (let i = 0; i < k; i++) bench.run_text(body);
        }),
      );
      scenarios[name][`batch_${n}_from_text`] = fromText;
      line('wasm', name, `${n} event(s), from JSON text`, fromText);
    }
    bench.free();
  }
}
writeJson(opts.out, { tool: 'wasm', node: process.version, runs: opts.runs, run_ms: opts.runMs, scenarios });
