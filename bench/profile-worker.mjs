// Profiles the Worker in workerd with V8's sampling profiler (through workerd's inspector):
// starts it in Miniflare with the stand-in LaunchDarkly, drives load at /segment for a few
// seconds and prints the functions with the most self time (JavaScript and wasm; build the
// Worker with WORKER_WASM_NAMES=1 bash scripts/build-worker.sh to keep wasm function names).
// `node bench/profile-worker.mjs [--worker target/bench/worker/index.js] [--events 1|100|largest] [--run-ms 4000] [--top 40] [--out profile.cpuprofile]`
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { fixtures, options, requestEvents, root } from './lib/scenarios.mjs';
import { runLoad, startStandIn } from './lib/harness.mjs';

const opts = options({
  worker: path.join(root, 'target/bench/worker/index.js'),
  events: '1',
  runMs: 4000,
  connections: 8,
  top: 40,
  out: '',
  inspectorPort: 9231,
});

const standIn = await startStandIn();
const { baseUrl } = standIn;
const mf = new Miniflare({
  scriptPath: opts.worker,
  modulesRoot: path.dirname(opts.worker),
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  modules: true,
  compatibilityDate: '2026-04-01',
  // Unsigned webhooks are allowed, as in bench/worker-load.mjs: the profile is of the work on
  // events (without it every request would be refused with 401 before its body is read).
  bindings: { LD_CLIENT_SIDE_ID: fixtures.client_side_id, LD_EVENTS_HOST: baseUrl, SEGMENT_ALLOW_UNSIGNED: 'true' },
  inspectorPort: Number(opts.inspectorPort),
  handleRuntimeStdio(stdout, stderr) {
    stdout.resume();
    stderr.resume();
  },
});
const url = new URL('/segment', await mf.ready).href;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-profile-'));
const bodyFile = path.join(tmp, 'body.json');
// `--events largest`: Segment's largest batch (2,500 small events), as bench/worker-load.mjs sends it.
fs.writeFileSync(bodyFile, JSON.stringify(requestEvents(opts.events)));
const load = (ms) => runLoad(url, bodyFile, { connections: opts.connections, durationMs: ms, maxRequests: 1000000 });
await load(1500);

const targets = await (await fetch(`http://127.0.0.1:${opts.inspectorPort}/json`)).json();
const target = targets.find((t) => !t.url?.includes('loopback')) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve) => ws.once('open', resolve));
let id = 0;
const pending = new Map();
ws.on('message', (data) => {
  const message = JSON.parse(data);
  if (message.id && pending.has(message.id)) pending.get(message.id)(message);
});
const call = (method, params = {}) =>
  new Promise((resolve) => {
    const mid = ++id;
    pending.set(mid, resolve);
    ws.send(JSON.stringify({ id: mid, method, params }));
  });
await call('Profiler.enable');
await call('Profiler.setSamplingInterval', { interval: 100 });
await call('Profiler.start');
const run = await load(Number(opts.runMs));
const { result } = await call('Profiler.stop');
ws.close();
const profile = result.profile;
if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(profile));

// Self time per function.
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url ? path.basename(node.callFrame.url) : ''}`;
  self.set(name, (self.get(name) ?? 0) + dt);
}
const idle = self.get('(idle) ') ?? 0;
console.log(`${run.requests} requests, ${(run.requests / run.seconds).toFixed(0)} req/s; profile ${(total / 1e3).toFixed(0)} ms, busy ${((total - idle) / 1e3).toFixed(0)} ms = ${((total - idle) / run.requests).toFixed(1)} µs/request in the isolate`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top))) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / run.requests).toFixed(1).padStart(7)} µs/req  ${name.slice(0, 140)}`);
}
await mf.dispose();
await standIn.close();
fs.rmSync(tmp, { recursive: true, force: true });
