// The bridge's core compiled to wasm (bench/wasm-core, bound with wasm-bindgen --target web),
// run from JSON text in workerd (Miniflare) and in Node: the same wasm, the same requests, no
// I/O. It separates what the Worker's core costs in workerd from what its I/O costs, and
// measures how much slower the same wasm runs in workerd than in Node on this machine.
// workerd's CPU time is read from /proc (all its threads) around requests that each run the
// core at least `--repeat` times on the request's body, less requests that run it none.
// `node bench/wasm-core-workerd.mjs --pkg target/bench/wasm-core/web [--rounds 5] [--repeat 20] [--out F]`
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { batch, largestBatch, options, root, writeJson } from './lib/scenarios.mjs';

const opts = options({
  pkg: path.join(root, 'target/bench/wasm-core/web'),
  rounds: 5,
  repeat: 20,
  out: path.join(root, 'target/bench/raw/wasm-workerd.json'),
});
const glue = 'segment_ld_bridge_wasm_bench.js';
const wasmFile = 'segment_ld_bridge_wasm_bench_bg.wasm';
const requests = {
  typical_100: { events: 100, body: JSON.stringify(batch(100)) },
  largest_batch: { events: 2500, body: JSON.stringify(largestBatch()) },
};

// The Worker: runs the core `?repeat=` times on the request's body and answers how many bytes
// the last LaunchDarkly body had (so that the work is observable).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-wasm-workerd-'));
// As an ES module for both workerd and Node (`.mjs`).
fs.copyFileSync(path.join(opts.pkg, glue), path.join(dir, 'glue.mjs'));
fs.copyFileSync(path.join(opts.pkg, wasmFile), path.join(dir, wasmFile));
fs.writeFileSync(
  path.join(dir, 'worker.mjs'),
  `import { initSync, Bench } from './glue.mjs';
import module from './${wasmFile}';
initSync({ module });
const bench = new Bench('typical', 1);
export default {
  async fetch(request) {
    const repeat = Number(new URL(request.url).searchParams.get('repeat'));
    const body = new Uint8Array(await request.arrayBuffer());
    let bytes = 0;
    for (let i = 0; i < repeat; i++) bytes = bench.run_text(body).length;
    return new Response(String(bytes));
  },
};
`,
);

/** A fresh workerd (Miniflare) running the Worker, and a way to read its CPU time. Each request
 * kind gets its own: one isolate running thousands of large requests in a row was seen to close
 * the connection. */
async function startWorkerd() {
  const mf = new Miniflare({
    scriptPath: path.join(dir, 'worker.mjs'),
    modulesRoot: dir,
    modules: true,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
  });
  const url = await mf.ready;
  const pids = execSync('pgrep -x workerd || pgrep -f /workerd').toString().trim().split('\n');
  const ticks = Number(execSync('getconf CLK_TCK').toString()) || 100;
  /** workerd's CPU time so far (user + system, all its processes), in ms. */
  const cpuMs = () =>
    pids.reduce((sum, pid) => {
      try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
      } catch {
        return sum;
      }
    }, 0);
  const post = async (body, repeat) => {
    const answer = await fetch(`${url}?repeat=${repeat}`, { method: 'POST', body });
    const text = await answer.text();
    if (!answer.ok || (repeat > 0 && !(Number(text) > 0))) throw new Error(`workerd answered ${answer.status}: ${text.slice(0, 200)}`);
  };
  return { mf, cpuMs, post };
}

/** workerd CPU ms per run of the core on `body`: best of the rounds, each of 10 requests of
 * `repeat` runs (less 10 requests of none). */
async function inWorkerd(body, repeat) {
  const { mf, cpuMs, post } = await startWorkerd();
  for (let i = 0; i < 3; i++) await post(body, repeat);
  let best = Infinity;
  for (let round = 0; round < opts.rounds; round++) {
    let start = cpuMs();
    for (let i = 0; i < 10; i++) await post(body, 0);
    const empty = cpuMs() - start;
    start = cpuMs();
    for (let i = 0; i < 10; i++) await post(body, repeat);
    const full = cpuMs() - start;
    best = Math.min(best, (full - empty) / (10 * repeat));
  }
  await mf.dispose();
  return best;
}

// Node: the same glue and wasm, loaded as the Worker loads them.
const { initSync, Bench } = await import(path.join(dir, 'glue.mjs'));
initSync({ module: new WebAssembly.Module(fs.readFileSync(path.join(dir, wasmFile))) });
const nodeBench = new Bench('typical', 1);
/** Node ms per run (process CPU time): best of the rounds, each of `10 × repeat` runs. */
function inNode(body, repeat) {
  const bytes = new TextEncoder().encode(body);
  for (let i = 0; i < 3 * repeat; i++) nodeBench.run_text(bytes);
  let best = Infinity;
  for (let round = 0; round < opts.rounds; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 10 * repeat; i++) nodeBench.run_text(bytes);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000 / (10 * repeat));
  }
  return best;
}

const results = {};
for (const [name, request] of Object.entries(requests)) {
  // Enough runs per request that 10 requests take about a second: /proc counts CPU time in ticks
  // (10 ms).
  const single = inNode(request.body, 1);
  const repeat = Math.max(opts.repeat, Math.ceil(100 / single));
  const node = inNode(request.body, repeat);
  const workerd = await inWorkerd(request.body, repeat);
  results[name] = {
    events: request.events,
    bytes: Buffer.byteLength(request.body),
    workerd_ms: workerd,
    node_ms: node,
    workerd_over_node: workerd / node,
    runs_per_request: repeat,
  };
  console.log(
    `wasm core from JSON text, ${name} (${request.events} events): workerd ${workerd.toFixed(2)} ms, Node ${node.toFixed(2)} ms ` +
      `(${((workerd * 1000) / request.events).toFixed(2)} vs ${((node * 1000) / request.events).toFixed(2)} µs/event; workerd/Node ${(workerd / node).toFixed(2)}×)`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
writeJson(opts.out, { tool: 'wasm-workerd', node: process.version, rounds: opts.rounds, requests: results });
