// Gathers the parts written by scripts/bench.sh (target/bench/raw/*.json, one file per tool and
// round), prints the tables and writes them as JSON (target/bench/results.json) and Markdown
// (target/bench/results.md). `node bench/report.mjs [--dir target/bench] [--notes FILE]`
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { options, root, summary } from './lib/scenarios.mjs';

const opts = options({ dir: path.join(root, 'target/bench'), notes: '' });
const raw = path.join(opts.dir, 'raw');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const files = fs.existsSync(raw) ? fs.readdirSync(raw).filter((f) => f.endsWith('.json')).sort() : [];
const notes = opts.notes && fs.existsSync(opts.notes) ? fs.readFileSync(opts.notes, 'utf8').split('\n').filter(Boolean) : [];

// Core benchmarks: the runs of every round of a tool, merged.
const core = {};
for (const file of files) {
  const part = readJson(path.join(raw, file));
  if (!['native', 'wasm', 'segment-js'].includes(part.tool)) continue;
  const tool = (core[part.tool] ??= { meta: { ...part, scenarios: undefined, rounds: 0 }, scenarios: {} });
  tool.meta.rounds += 1;
  for (const [scenario, cells] of Object.entries(part.scenarios)) {
    const merged = (tool.scenarios[scenario] ??= { runs: {} });
    for (const [cell, value] of Object.entries(cells)) {
      if (cell === 'body') merged.body = value;
      else (merged.runs[cell] ??= []).push(...value.runs);
    }
  }
}
const cell = (tool, scenario, name) => {
  const runs = core[tool]?.scenarios[scenario]?.runs[name];
  return runs?.length ? summary(runs) : undefined;
};
const scenarios = Object.keys(core.native?.scenarios ?? core.wasm?.scenarios ?? core['segment-js']?.scenarios ?? {});

// The bodies must be the same LaunchDarkly events, or the comparison is not of the same work.
const sameBody = (a, b) => a !== undefined && b !== undefined && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
const outputs = {};
for (const scenario of scenarios) {
  const body = (tool) => core[tool]?.scenarios[scenario]?.body;
  outputs[scenario] = {
    native_equals_segment: core.native && core['segment-js'] ? sameBody(body('native'), body('segment-js')) : null,
    wasm_equals_native: core.native && core.wasm ? sameBody(body('wasm'), body('native')) : null,
  };
}

const coreRows = [];
for (const scenario of scenarios) {
  for (const [name, label, js] of [
    ['batch_1', '1 event/request, parsed', 'full'],
    ['batch_100', '100 events/request, parsed', 'full'],
    ['batch_100_from_text', '100 events/request, from JSON text', 'full_from_text'],
  ]) {
    const native = cell('native', scenario, name);
    const wasm = cell('wasm', scenario, name);
    const segment = cell('segment-js', scenario, js);
    const segmentLean = name === 'batch_100_from_text' ? undefined : cell('segment-js', scenario, 'without_schema_step');
    const ratio = (a, b) => (a && b ? a.events_per_second / b.events_per_second : undefined);
    coreRows.push({
      scenario,
      cell: name,
      label,
      native,
      wasm,
      segment_js: segment,
      segment_js_without_schema_step: segmentLean,
      native_over_segment: ratio(native, segment),
      wasm_over_segment: ratio(wasm, segment),
      native_over_segment_without_schema_step: ratio(native, segmentLean),
      wasm_over_segment_without_schema_step: ratio(wasm, segmentLean),
      native_over_wasm: ratio(native, wasm),
    });
  }
}

// The Worker end to end.
const workerFile = files.find((f) => f.startsWith('worker'));
const worker = workerFile ? readJson(path.join(raw, workerFile)) : undefined;

// The wasm core in workerd and in Node (bench/wasm-core-workerd.mjs).
const workerdCore = files.includes('wasm-workerd.json') ? readJson(path.join(raw, 'wasm-workerd.json')) : undefined;

// Sizes.
const sizeOf = (file) => {
  if (!fs.existsSync(file)) return undefined;
  const bytes = fs.readFileSync(file);
  return { file: path.relative(root, file), bytes: bytes.length, gzip_bytes: zlib.gzipSync(bytes, { level: 9 }).length };
};
const findWasm = (dir) =>
  fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => path.join(dir, f))[0] : undefined;
const sizes = {
  worker: sizeOf(path.join(opts.dir, 'worker/index_bg.wasm')),
  worker_js: sizeOf(path.join(opts.dir, 'worker/index.js')),
  playground: (() => {
    const wasm = findWasm(path.join(root, 'www/pkg'));
    return wasm ? sizeOf(wasm) : undefined;
  })(),
};

// Targets of issue 8.
const row = (scenario, name) => coreRows.find((r) => r.scenario === scenario && r.cell === name);
const targets = [];
for (const scenario of scenarios) {
  const r = row(scenario, 'batch_1');
  if (r.native_over_segment !== undefined)
    targets.push({ target: `native core ≥ 15× Segment's JS per event (${scenario}, 1 event/request)`, value: `${r.native_over_segment.toFixed(2)}×`, met: r.native_over_segment >= 15 });
  if (r.wasm_over_segment !== undefined)
    targets.push({ target: `wasm core ≥ 5× Segment's JS per event (${scenario}, 1 event/request)`, value: `${r.wasm_over_segment.toFixed(2)}×`, met: r.wasm_over_segment >= 5 });
}
const bridge1 = worker?.targets.bridge?.sizes['1'];
const echo1 = worker?.targets.echo?.sizes['1'];
if (bridge1 && echo1) {
  const share = bridge1.requests_per_second.median / echo1.requests_per_second.median;
  targets.push({ target: "Worker ≥ 70% of the echo Worker's requests/s (1 event/request)", value: `${(share * 100).toFixed(0)}%`, met: share >= 0.7 });
}
const bridge100 = worker?.targets.bridge?.sizes['100'];
if (bridge100 && Number.isFinite(bridge100.workerd_cpu_us_per_event.median)) {
  const cpu = bridge100.workerd_cpu_us_per_event.median;
  targets.push({ target: 'Worker < 50 µs CPU per event (100 events/request, all of workerd)', value: `${cpu.toFixed(1)} µs`, met: cpu < 50 });
}
if (sizes.worker) {
  targets.push({ target: 'Worker wasm < 400 KB gzipped', value: `${(sizes.worker.gzip_bytes / 1000).toFixed(0)} KB`, met: sizes.worker.gzip_bytes < 400_000 });
}

// Targets of issue 14: from the first byte (the request body as JSON text).
const targets14 = [];
const fromText = (scenario) => row(scenario, 'batch_100_from_text');
for (const [scenario, tool, key, floor] of [
  ['typical', 'wasm', 'wasm_over_segment', 8],
  ['typical', 'native', 'native_over_segment', 15],
  ['many_directives', 'wasm', 'wasm_over_segment', 10],
]) {
  const value = fromText(scenario)?.[key];
  if (value !== undefined)
    targets14.push({ target: `${tool} core ≥ ${floor}× Segment's JS, ${scenario}, 100 events/request from JSON text`, value: `${value.toFixed(2)}×`, met: value >= floor });
}
if (bridge100 && Number.isFinite(bridge100.workerd_cpu_us_per_event.median)) {
  const cpu = bridge100.workerd_cpu_us_per_event.median;
  targets14.push({ target: 'Worker ≤ 10 µs workerd CPU per event (100 events/request)', value: `${cpu.toFixed(1)} µs`, met: cpu <= 10 });
}
const bridge2500 = worker?.targets.bridge?.sizes['2500'];
if (bridge2500 && Number.isFinite(bridge2500.workerd_cpu_us_per_request.median)) {
  const ms = bridge2500.workerd_cpu_us_per_request.median / 1000;
  // Two decimals: near the limit, one would print 9.97 ms as 10.0 ms, met.
  targets14.push({ target: 'Worker < 10 ms workerd CPU for one request of 2,500 small track events', value: `${ms.toFixed(2)} ms`, met: ms < 10 });
}
// The paired rounds (both Workers loaded in turn, seconds apart) when the run has them; else
// the two rows' medians, measured a minute or more apart.
const paired = worker?.paired_1_event;
const forwardRust1 = worker?.targets.forward_rust?.sizes['1'];
const pct = (v) => `${(v * 100).toFixed(0)}%`;
if (paired) {
  const { median, min, max } = paired.ratio;
  targets14.push({
    target: "Worker ≥ 95% of the workers-rs forward Worker's requests/s (1 event/request)",
    value: `${pct(median)} (${pct(min)}–${pct(max)}, ${paired.rounds.length} paired rounds)`,
    met: median >= 0.95,
  });
} else if (bridge1 && forwardRust1) {
  const share = bridge1.requests_per_second.median / forwardRust1.requests_per_second.median;
  targets14.push({ target: "Worker ≥ 95% of the workers-rs forward Worker's requests/s (1 event/request)", value: `${(share * 100).toFixed(0)}%`, met: share >= 0.95 });
}
if (sizes.worker) {
  targets14.push({ target: 'Worker wasm < 300 KB gzipped', value: `${(sizes.worker.gzip_bytes / 1000).toFixed(0)} KB`, met: sizes.worker.gzip_bytes < 300_000 });
}

const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};
const machine = {
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  memory_gib: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
  rustc: sh('rustc', ['--version']),
  load_average_at_report: os.loadavg().map((x) => x.toFixed(2)).join(' '),
};

const results = {
  generated_at: new Date().toISOString(),
  machine,
  notes,
  core: {
    unit: 'events per second (median of all runs, with min and max)',
    segment_js_versions: core['segment-js']?.meta.versions,
    rounds: Object.fromEntries(Object.entries(core).map(([tool, t]) => [tool, t.meta.rounds])),
    outputs_identical: outputs,
    rows: coreRows,
  },
  worker,
  wasm_core_in_workerd: workerdCore,
  sizes,
  targets,
  targets_issue_14: targets14,
};
fs.writeFileSync(path.join(opts.dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');

// Printing.
const k = (s) => (s ? `${Math.round(s.events_per_second / 1000).toLocaleString('en-US')}k` : '—');
const spreadOf = (s) => (s ? `${k(s)} (${k({ events_per_second: s.min })}–${k({ events_per_second: s.max })})` : '—');
const x = (v) => (v === undefined ? '—' : `${v.toFixed(2)}×`);
const md = [];
md.push(`Measured ${results.generated_at.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.node}, ${machine.rustc ?? 'rustc ?'}.`);
for (const note of notes) md.push(`Note: ${note}`);
md.push('');
if (coreRows.length) {
  md.push('Core throughput, events/s, median (min–max); ratios are medians measured in the same run:');
  md.push('');
  md.push("| scenario | request | native | wasm in Node | Segment's JS | Segment's JS without schema step | native / JS | wasm / JS | native / wasm |");
  md.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of coreRows) {
    md.push(
      `| ${r.scenario} | ${r.label} | ${spreadOf(r.native)} | ${spreadOf(r.wasm)} | ${spreadOf(r.segment_js)} | ${spreadOf(r.segment_js_without_schema_step)} | ${x(r.native_over_segment)} | ${x(r.wasm_over_segment)} | ${x(r.native_over_wasm)} |`,
    );
  }
  md.push('');
  md.push(
    "native: `cargo bench --bench core` (the release profile, opt-level 3, as the CLI and the Worker ship); wasm: the same code built with the Worker's profile and wasm-opt flags, in Node " +
      `${core.wasm?.meta.node ?? ''}; Segment's JS: ${Object.entries(core['segment-js']?.meta.versions ?? {}).map(([n, v]) => `${n} ${v}`).join(', ')}, ` +
      'trigger + transform + removeEmptyValues + AJV validateSchema + perform + JSON.stringify per event (its action has no performBatch, so one event per request: the same figure in both parsed rows); ' +
      '"without schema step" leaves out removeEmptyValues and AJV (a lower bound of its cost). "from JSON text" includes parsing the request body.',
  );
  md.push('');
  for (const [scenario, o] of Object.entries(outputs)) {
    md.push(`Same LaunchDarkly body as Segment's (${scenario}): native ${o.native_equals_segment ?? '—'}, wasm = native ${o.wasm_equals_native ?? '—'}.`);
  }
  md.push('');
}
if (worker) {
  md.push(`Worker end to end in workerd (Miniflare) on 127.0.0.1, ${worker.connections} connections, ${worker.runs} runs of ${worker.run_ms / 1000} s, median (min–max):`);
  md.push('');
  md.push('| Worker | events/request | requests/s | p50 ms | p99 ms | workerd CPU µs/request | workerd CPU µs/event |');
  md.push('|---|---|---|---|---|---|---|');
  const r = (s, d = 0) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
  for (const [name, t] of Object.entries(worker.targets)) {
    for (const [size, c] of Object.entries(t.sizes)) {
      md.push(`| ${name} | ${size} | ${r(c.requests_per_second)} | ${c.p50_ms.median.toFixed(2)} | ${c.p99_ms.median.toFixed(2)} | ${c.workerd_cpu_us_per_request.median.toFixed(0)} | ${c.workerd_cpu_us_per_event.median.toFixed(1)} |${c.failures ? ` ${c.failures} failed` : ''}`);
    }
  }
  md.push('');
  md.push(Object.entries(worker.targets).map(([name, t]) => `${name}: ${t.description}`).join('; ') + '.');
  md.push('');
  const rps = (name) => worker.targets[name]?.sizes['1']?.requests_per_second.median;
  const share = (a, b) => (rps(a) && rps(b) ? `${((rps(a) / rps(b)) * 100).toFixed(0)}%` : '—');
  md.push(
    `Requests/s at 1 event/request, as a share of the echo's: forward (JavaScript) ${share('forward', 'echo')}, forward_rust ${share('forward_rust', 'echo')}, bridge ${share('bridge', 'echo')}. ` +
      `The bridge reaches ${share('bridge', 'forward_rust')} of forward_rust and ${share('bridge', 'forward')} of forward: a Worker that makes the one subrequest to LaunchDarkly that each request needs is bounded by those rows, whatever its core costs.`,
  );
  md.push('');
  if (paired) {
    const p = paired;
    md.push(
      `Paired rounds, 1 event/request (both Workers running, each round a ${worker.run_ms / 1000} s run of each, seconds apart, in alternating order): ` +
        `the bridge made ${pct(p.ratio.median)} of forward_rust's requests/s (${pct(p.ratio.min)}–${pct(p.ratio.max)} over ${p.rounds.length} rounds; ` +
        `forward_rust ${Math.round(Math.min(...p.rounds.map((r) => r[p.baseline])))}–${Math.round(Math.max(...p.rounds.map((r) => r[p.baseline])))} req/s)` +
        (p.cpu_ratio ? ` and used ${pct(p.cpu_ratio.median)} of its workerd CPU per request (${pct(p.cpu_ratio.min)}–${pct(p.cpu_ratio.max)}).` : '.'),
    );
    md.push('');
  }
  const cpuMs = (size) => worker.targets.bridge?.sizes[size]?.workerd_cpu_us_per_request.median / 1000;
  if (Number.isFinite(cpuMs('1000')) && Number.isFinite(cpuMs('2500'))) {
    const fits = (ms) => (ms < 10 ? 'within' : 'over');
    md.push(
      `Workers Free plan (10 ms of CPU per request): one request of 1,000 small track events cost the bridge ${cpuMs('1000').toFixed(2)} ms of workerd CPU (${fits(cpuMs('1000'))} the limit), ` +
        `one of 2,500 (Segment's largest batch) ${cpuMs('2500').toFixed(2)} ms (${fits(cpuMs('2500'))}).`,
    );
    md.push('');
  }
}
if (workerdCore) {
  md.push('The wasm core alone, from JSON text (the request body\'s bytes, as the Worker reads them), no I/O: CPU time per request in workerd (Miniflare, read from /proc) and in Node, the same wasm and glue, best of ' + `${workerdCore.rounds} rounds:`);
  md.push('');
  md.push('| request | workerd ms | Node ms | workerd µs/event | Node µs/event | workerd / Node |');
  md.push('|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(workerdCore.requests)) {
    md.push(`| ${name} (${r.events} events, ${(r.bytes / 1000).toFixed(0)} KB) | ${r.workerd_ms.toFixed(2)} | ${r.node_ms.toFixed(2)} | ${((r.workerd_ms * 1000) / r.events).toFixed(2)} | ${((r.node_ms * 1000) / r.events).toFixed(2)} | ${r.workerd_over_node.toFixed(2)}× |`);
  }
  md.push('');
}
md.push('| wasm | bytes | gzipped |');
md.push('|---|---|---|');
for (const [name, s] of Object.entries(sizes)) {
  md.push(s ? `| ${name} (${s.file}) | ${s.bytes.toLocaleString('en-US')} | ${s.gzip_bytes.toLocaleString('en-US')} |` : `| ${name} | not built | |`);
}
md.push('');
md.push('| target (issue 8) | measured | met |');
md.push('|---|---|---|');
for (const t of targets) md.push(`| ${t.target} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`);
if (targets14.length) {
  md.push('');
  md.push('| target (issue 14) | measured | met |');
  md.push('|---|---|---|');
  for (const t of targets14) md.push(`| ${t.target} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`);
}
const text = md.join('\n') + '\n';
fs.writeFileSync(path.join(opts.dir, 'results.md'), text);
console.log('\n' + text);
console.log(`written: ${path.relative(root, path.join(opts.dir, 'results.json'))}, ${path.relative(root, path.join(opts.dir, 'results.md'))}`);
