// Counts the JavaScript imports a wasm Worker calls per request (wasm-bindgen's `__wbg_*`
// functions: request headers, `Date`, `fetch`, the futures' callbacks...): a copy of the built
// Worker has every import wrapped in a counter and its `fetch` answering the counts to a request
// carrying `x-count-js-calls`; requests are sent one at a time as the load test sends them
// (with `Content-Length`), to the LaunchDarkly stand-in.
// `node bench/count-js-calls.mjs [--worker target/bench/worker/index.js] [--events 1|100|1000|largest] [--requests 50] [--top 15]`
// (`--worker target/bench/rust-forward/index.js` counts the workers-rs forward Worker's).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { fixtures, options, requestEvents, root } from './lib/scenarios.mjs';
import { runLoad, startStandIn } from './lib/harness.mjs';

const opts = options({
  worker: path.join(root, 'target/bench/worker/index.js'),
  events: '1',
  requests: 50,
  top: 15,
});

// The copy: worker-build's entry module (minified) with its imports object and its fetch
// method patched. Both patterns are worker-build 0.8's output (the bridge's build replaces the
// entry class with a plain object, scripts/patch-worker-glue.mjs); anything else is refused.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-js-calls-'));
fs.cpSync(path.dirname(opts.worker), tmp, { recursive: true });
const entry = path.join(tmp, path.basename(opts.worker));
let source = fs.readFileSync(entry, 'utf8');
const imports = /function (\w+)\(\)\{return\{__proto__:null,"\.\/index_bg\.js":\{/.exec(source);
const countsAnswer = (request) =>
  `if(${request}.headers.get("x-count-js-calls")){const counts=globalThis.__jsCalls||{};globalThis.__jsCalls={};return new Response(JSON.stringify(counts))}`;
const plainFetch = /__bridge_entry=\{fetch\((\w),(\w),(\w)\)\{/.exec(source);
const classFetch = /(\w+)\.prototype\.fetch=function\((\w)\)\{(?=return (\w+)\.call\(this,\2,this\.env,this\.ctx\)\})/.exec(source);
if (!imports || !(plainFetch || classFetch)) {
  throw new Error(`${opts.worker}: not worker-build's entry module as this script knows it`);
}
const [, importsFn] = imports;
source = source.replace(imports[0], imports[0].replace(`function ${importsFn}(`, `function ${importsFn}Uncounted(`));
source = plainFetch
  ? source.replace(plainFetch[0], plainFetch[0] + countsAnswer(plainFetch[1]))
  : source.replace(classFetch[0], classFetch[0] + countsAnswer(classFetch[2]));
source += `
function ${importsFn}(){const all=${importsFn}Uncounted();const own=all["./index_bg.js"];for(const name of Object.keys(own)){const f=own[name];if(typeof f==="function"){own[name]=function(...args){const counts=(globalThis.__jsCalls||={});counts[name]=(counts[name]||0)+1;return f.apply(this,args)}}}return all}
`;
fs.writeFileSync(entry, source);

const standIn = await startStandIn();
const { baseUrl } = standIn;
const mf = new Miniflare({
  scriptPath: entry,
  modulesRoot: tmp,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  modules: true,
  compatibilityDate: '2026-04-01',
  // As bench/worker-load.mjs: unsigned webhooks allowed, the work on events is what is counted.
  bindings: { LD_CLIENT_SIDE_ID: fixtures.client_side_id, LD_EVENTS_HOST: baseUrl, SEGMENT_ALLOW_UNSIGNED: 'true' },
  handleRuntimeStdio(stdout, stderr) {
    stdout.resume();
    stderr.resume();
  },
});
const url = new URL('/segment', await mf.ready).href;
const bodyFile = path.join(tmp, 'body.json');
fs.writeFileSync(bodyFile, JSON.stringify(requestEvents(opts.events)));
const counts = async () => JSON.parse(await (await fetch(url, { headers: { 'x-count-js-calls': '1' } })).text());
const load = (requests) => runLoad(url, bodyFile, { connections: 1, durationMs: 600000, maxRequests: requests });
try {
  await load(5); // warm-up: the first request loads the settings
  await counts();
  const run = await load(Number(opts.requests));
  if (run.failures) throw new Error(`${run.failures} of ${run.requests} requests failed: ${JSON.stringify(run.statuses)}`);
  const perRequest = Object.entries(await counts())
    .map(([name, calls]) => [name, calls / run.requests])
    .sort((a, b) => b[1] - a[1]);
  const total = perRequest.reduce((sum, [, calls]) => sum + calls, 0);
  console.log(`${path.relative(root, opts.worker)}, ${opts.events} event(s)/request: ${total.toFixed(1)} JavaScript imports called per request (${run.requests} requests)`);
  // Each import with the start of its body, which says what it calls (`return e.getTime()`).
  const body = (name) => new RegExp(`${name}:function\\([^)]*\\)\\{([^}]{0,70})`).exec(source)?.[1] ?? '';
  for (const [name, calls] of perRequest.slice(0, Number(opts.top))) console.log(`${calls.toFixed(1).padStart(8)}  ${name}  ${body(name)}`);
} finally {
  await mf.dispose();
  await standIn.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
