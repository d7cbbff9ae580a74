// The Worker end to end in workerd (Miniflare) on 127.0.0.1, posting to the LaunchDarkly
// stand-in: requests per second, p50/p99 latency and workerd CPU time per request and per event,
// for requests of 1, of 100, of 1,000 small and of 2,500 (Segment's largest batch) events, next to trivial Workers on the same
// machine (an echo, and an echo that makes the same one subrequest to the stand-in).
// `node bench/worker-load.mjs [--worker target/bench/worker/index.js]
//   [--rust-forward target/bench/rust-forward/index.js] [--runs 3] [--run-ms 4000]
//   [--connections 8] [--targets echo,forward,forward_rust,bridge] [--sizes 1,100,1000,2500]
//   [--paired-rounds 6] [--paired-size 1] (`--sizes ''` with two targets: the paired rounds only)
//   [--out target/bench/worker.json]`
// Every load run is bounded in time (run-ms) and count (max-requests) and goes to 127.0.0.1 only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { benchDir, fixtures, options, requestEvents, root, writeJson } from './lib/scenarios.mjs';
import { runLoad, startStandIn } from './lib/harness.mjs';

const opts = options({
  worker: path.join(root, 'target/bench/worker/index.js'),
  rustForward: path.join(root, 'target/bench/rust-forward/index.js'),
  runs: 3,
  runMs: 4000,
  warmupMs: 1500,
  connections: 8,
  maxRequests: 200000,
  targets: 'echo,forward,forward_rust,bridge',
  sizes: '1,100,1000,2500',
  pairedRounds: 6,
  pairedSize: '1',
  out: path.join(root, 'target/bench/worker.json'),
});
const CLK_TCK = 100; // Linux USER_HZ, the unit of /proc/<pid>/stat times

/** User + system CPU seconds of a process (all its threads). */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The workerd processes this process started (Miniflare spawns one per instance). */
function workerdChildren() {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return comm === 'workerd' && ppid === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function startWorker(target, bindings) {
  const before = new Set(workerdChildren());
  const mf = new Miniflare({
    ...target.script,
    modules: true,
    compatibilityDate: '2026-04-01',
    bindings,
    // workerd's own output (the bridge logs a line per request and per delivery) is drained,
    // not printed.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  });
  const url = await mf.ready;
  const pids = workerdChildren().filter((pid) => !before.has(pid));
  return { mf, url, pid: pids.length === 1 ? pids[0] : undefined };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
};
const spread = (runs, key) => ({
  median: median(runs.map((r) => r[key])),
  min: Math.min(...runs.map((r) => r[key])),
  max: Math.max(...runs.map((r) => r[key])),
});

const wasmWorker = (scriptPath) => ({
  scriptPath,
  modulesRoot: path.dirname(scriptPath),
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
});
const targets = [
  {
    name: 'echo',
    description: 'JavaScript Worker answering with the request body',
    script: { scriptPath: path.join(benchDir, 'echo-worker.mjs') },
  },
  {
    name: 'forward',
    description: 'JavaScript Worker doing the bridge I/O only: body to the stand-in (one subrequest), two log lines',
    script: { scriptPath: path.join(benchDir, 'forward-worker.mjs') },
  },
  {
    name: 'forward_rust',
    description: 'the same as forward, in Rust with workers-rs (bench/rust-forward): what workers-rs and wasm-bindgen add',
    script: wasmWorker(opts.rustForward),
  },
  {
    name: 'bridge',
    description: 'the bridge (Rust/wasm), preset mapping, posting to the stand-in',
    script: wasmWorker(opts.worker),
  },
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-bench-'));
// 1,000 small events: the batch size the README advises on the Workers Free plan (10 ms of CPU).
const bodies = Object.fromEntries(
  [['1', '1'], ['100', '100'], ['1000', '1000'], ['2500', 'largest']]
    .filter(([size]) => size === opts.pairedSize || opts.sizes.split(',').includes(size))
    .map(([size, kind]) => [size, requestEvents(kind)]),
);
const standIn = await startStandIn();
const results = { connections: opts.connections, runs: opts.runs, run_ms: opts.runMs, targets: {} };
try {
  for (const target of targets.filter((t) => opts.targets.split(',').includes(t.name))) {
    if (!fs.existsSync(target.script.scriptPath ?? '')) {
      console.log(`worker  ${target.name}: skipped, ${target.script.scriptPath} is not built`);
      continue;
    }
    // Unsigned webhooks are allowed: the benchmark measures the work on events, not HMAC.
    const bindings = {
      LD_CLIENT_SIDE_ID: fixtures.client_side_id,
      LD_EVENTS_HOST: standIn.baseUrl,
      SEGMENT_ALLOW_UNSIGNED: 'true',
    };
    const worker = await startWorker(target, bindings);
    results.targets[target.name] = { description: target.description, sizes: {} };
    try {
      for (const [size, events] of Object.entries(bodies).filter(([size]) => opts.sizes.split(',').includes(size))) {
        const bodyFile = path.join(tmp, `${size}.json`);
        fs.writeFileSync(bodyFile, JSON.stringify(events));
        const url = new URL('/segment', worker.url).href;
        // Check the answer once: the bridge must accept every event and deliver them.
        const check = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fs.readFileSync(bodyFile) });
        const answer = await check.text();
        if (check.status !== 200 || (target.name === 'bridge' && JSON.parse(answer).accepted !== Number(size))) {
          throw new Error(`${target.name}: unexpected answer ${check.status} ${answer.slice(0, 300)}`);
        }
        await timedLoad(worker, url, bodyFile, opts.warmupMs);
        const runs = [];
        for (let i = 0; i < opts.runs; i++) {
          const standIn0 = cpuSeconds(standIn.pid);
          const run = await timedLoad(worker, url, bodyFile, opts.runMs);
          run.workerd_cpu_us_per_event = run.workerd_cpu_us_per_request / Number(size);
          run.standin_cpu_us_per_request = ((cpuSeconds(standIn.pid) - standIn0) / run.requests) * 1e6;
          runs.push(run);
        }
        const cell = {
          requests_per_second: spread(runs, 'requests_per_second'),
          p50_ms: spread(runs.map((r) => ({ v: r.p50_us / 1e3 })), 'v'),
          p99_ms: spread(runs.map((r) => ({ v: r.p99_us / 1e3 })), 'v'),
          workerd_cpu_us_per_event: spread(runs, 'workerd_cpu_us_per_event'),
          workerd_cpu_us_per_request: spread(runs, 'workerd_cpu_us_per_request'),
          failures: runs.reduce((sum, r) => sum + r.failures, 0),
          runs,
        };
        results.targets[target.name].sizes[size] = cell;
        const f = (x, d = 0) => x.toFixed(d);
        console.log(
          `worker  ${target.name.padEnd(8)} ${String(size).padStart(3)} event(s)/request  ${f(cell.requests_per_second.median).padStart(6)} req/s` +
            `  p50 ${f(cell.p50_ms.median, 2)} ms  p99 ${f(cell.p99_ms.median, 2)} ms` +
            `  workerd CPU ${f(cell.workerd_cpu_us_per_request.median)} µs/request, ${f(cell.workerd_cpu_us_per_event.median, 1)} µs/event` +
            (cell.failures ? `  (${cell.failures} failed)` : ''),
        );
      }
    } finally {
      await worker.mf.dispose();
    }
  }
  // The bridge against the workers-rs forward Worker (at 1 event/request unless --paired-size
  // says otherwise), in rounds that load one then the other (in alternating order), both Workers
  // running: each round's ratio compares two runs seconds apart, where the rows above are
  // measured a minute or more apart on a machine whose speed drifts.
  const pair = ['forward_rust', 'bridge'].map((name) => targets.find((t) => t.name === name));
  if (opts.pairedRounds > 0 && pair.every((t) => opts.targets.split(',').includes(t.name) && fs.existsSync(t.script.scriptPath))) {
    const paired = await pairedRounds(pair, standIn.baseUrl);
    results[`paired_${opts.pairedSize}_event${opts.pairedSize === '1' ? '' : 's'}`] = paired;
    const pct = ({ median, min, max }) => `${(median * 100).toFixed(0)}% (${(min * 100).toFixed(0)}–${(max * 100).toFixed(0)}%)`;
    console.log(
      `worker  bridge / forward_rust, ${opts.pairedSize} event(s)/request, ${opts.pairedRounds} paired rounds: ` +
        `requests/s ${pct(paired.ratio)}, workerd CPU per request ${pct(paired.cpu_ratio)}`,
    );
  }
} finally {
  await standIn.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
writeJson(opts.out, results);

/** One load run of `durationMs` against `url`: the load client's figures, with the workerd CPU
 * of `worker` per request and in cores (NaN when its process is not known). */
async function timedLoad(worker, url, bodyFile, durationMs) {
  const cpu0 = worker.pid ? cpuSeconds(worker.pid) : NaN;
  const run = await runLoad(url, bodyFile, { connections: opts.connections, durationMs, maxRequests: opts.maxRequests });
  const workerdCpu = worker.pid ? cpuSeconds(worker.pid) - cpu0 : NaN;
  run.workerd_cpu_us_per_request = (workerdCpu / run.requests) * 1e6;
  run.workerd_cores = workerdCpu / run.seconds;
  return run;
}

/** Requests/s and workerd CPU per request of `a` and `b` at `opts.pairedSize` events/request in
 * `opts.pairedRounds` rounds, each a run of `a` and one of `b` (`b` first in every other round);
 * the ratios b/a of each round. */
async function pairedRounds([a, b], baseUrl) {
  const bodyFile = path.join(tmp, `paired-${opts.pairedSize}.json`);
  fs.writeFileSync(bodyFile, JSON.stringify(bodies[opts.pairedSize]));
  const bindings = { LD_CLIENT_SIDE_ID: fixtures.client_side_id, LD_EVENTS_HOST: baseUrl, SEGMENT_ALLOW_UNSIGNED: 'true' };
  const workers = [await startWorker(a, bindings), await startWorker(b, bindings)];
  try {
    const urls = workers.map((w) => new URL('/segment', w.url).href);
    const load = (which, durationMs) => timedLoad(workers[which], urls[which], bodyFile, durationMs);
    for (const which of [0, 1]) await load(which, opts.warmupMs);
    const rounds = [];
    for (let i = 0; i < opts.pairedRounds; i++) {
      const order = i % 2 ? [1, 0] : [0, 1];
      const runs = [];
      for (const which of order) runs[which] = await load(which, opts.runMs);
      const [rpsA, rpsB] = runs.map((run) => run.requests_per_second);
      const [cpuA, cpuB] = runs.map((run) => run.workerd_cpu_us_per_request);
      rounds.push({
        [a.name]: rpsA,
        [b.name]: rpsB,
        ratio: rpsB / rpsA,
        [`${a.name}_workerd_cpu_us_per_request`]: cpuA,
        [`${b.name}_workerd_cpu_us_per_request`]: cpuB,
        cpu_ratio: cpuB / cpuA,
      });
    }
    return {
      baseline: a.name,
      measured: b.name,
      events_per_request: Number(opts.pairedSize),
      rounds,
      ratio: spread(rounds, 'ratio'),
      cpu_ratio: spread(rounds, 'cpu_ratio'),
    };
  } finally {
    for (const w of workers) await w.mf.dispose();
  }
}
