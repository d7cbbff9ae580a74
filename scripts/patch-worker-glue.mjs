// Two changes to worker-build's glue (build/index.js), each for workerd CPU per request:
//
// 1. The Rust futures are woken with a promise reaction rather than `queueMicrotask`.
//    wasm-bindgen's futures queue wakes a Rust task by calling `queueMicrotask` when the global
//    has one (else `Promise.resolve().then`, its own fallback); workerd implements
//    `queueMicrotask` in C++ around the callback, which cost about 8% of a one-event request's
//    busy time in a profile (`bench/profile-worker.mjs --events 1`), and a promise reaction is
//    V8's own. Both run the callback as a microtask, in order. Measured in paired rounds
//    (`bench/worker-load.mjs --rust-forward` pointing at the other build): 3% less workerd CPU
//    per request at 1 and at 100 events/request. A callback error (none is thrown: the queue's
//    closure returns `Ok`) would be an unhandled rejection instead of a reported error.
// 2. The module's default export is a plain object with `fetch`, `queue` and `scheduled`, not
//    worker-build's `WorkerEntrypoint` class behind two Proxies (a `construct` trap on every
//    request, and a `get` trap that wraps each method it hands out in a new Proxy whose `apply`
//    is an extra async function). It keeps what those Proxies are for: before each call the
//    wasm instance is made anew if an earlier call trapped (a Rust panic is a
//    `WebAssembly.RuntimeError`), and a trap, thrown or in the returned promise, is recorded
//    for that (worker-build's own functions, found by their messages). The bridge has no RPC
//    methods, the one thing the class would add. Measured with `bench/worker-load.mjs --sizes 1`,
//    three alternating runs of each build: 549 to 551 µs of workerd CPU per request against 562
//    to 566 (2.6% less).
//
// scripts/build-worker.sh calls this; it fails when the glue does not have what it patches (a
// worker-build or wasm-bindgen upgrade that changes it must be looked at, not skipped), and
// leaves a patched file as it is. tests/e2e/ingest.test.mjs checks the built Worker for both.
// `node scripts/patch-worker-glue.mjs build/index.js`
import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/patch-worker-glue.mjs INDEX.js');
  process.exit(2);
}
let source = fs.readFileSync(file, 'utf8');
const fail = (what) => {
  console.error(`${file}: ${what}`);
  process.exit(1);
};

// 1. worker-build's minified import: `__wbg_queueMicrotask_<hash>:function(e){queueMicrotask(e)}`.
const original = /(__wbg_queueMicrotask_[0-9a-f]+:function\((\w+)\)\{)queueMicrotask\(\2\)\}/g;
const patched = /__wbg_queueMicrotask_[0-9a-f]+:function\((\w+)\)\{Promise\.resolve\(\)\.then\(\1\)\}/g;
const found = [...source.matchAll(original)].length;
const done = [...source.matchAll(patched)].length;
if (!(found === 0 && done === 1)) {
  if (found !== 1 || done !== 0) {
    fail(`expected one wasm-bindgen queueMicrotask import to patch, found ${found} (and ${done} patched)`);
  }
  source = source.replace(original, '$1Promise.resolve().then($2)}');
}

// 2. The default export.
const ENTRY = '__bridge_entry';
if (!source.includes(`${ENTRY} as default}`)) {
  const exported = source.match(/export\{[^}]*?\b([\w$]+) as default\}/);
  if (!exported) fail('no default export to patch');
  const proxy = source.match(new RegExp(`\\b${escape(exported[1])}=new Proxy\\(([\\w$]+),[\\w$]+\\)`));
  if (!proxy) fail(`the default export ${exported[1]} is not worker-build's proxied class`);
  const handlers = {};
  const method = new RegExp(
    `\\b${escape(proxy[1])}\\.prototype\\.(\\w+)=function\\(([\\w$]+)\\)\\{return ([\\w$]+)\\.call\\(this,\\2,this\\.env,this\\.ctx\\)\\}`,
    'g',
  );
  for (const [, name, , handler] of source.matchAll(method)) handlers[name] = handler;
  const names = Object.keys(handlers).sort().join(',');
  if (names !== 'fetch,queue,scheduled') fail(`the entry class has handlers ${names}, not fetch,queue,scheduled`);
  const reinit = source.match(/function ([\w$]+)\(\)\{[\w$]+\.criticalError&&\(console\.log\("Reinitializing Wasm application"\)/);
  const record = source.match(/function ([\w$]+)\(([\w$]+)\)\{\2 instanceof WebAssembly\.RuntimeError&&/);
  if (!reinit || !record) fail("no worker-build function to make the instance anew after a trap, or to record one");
  const [r, k] = [reinit[1], record[1]];
  const call =
    `function __bridge_call(h,a,e,c){${r}();try{const p=h(a,e,c);` +
    `return p&&typeof p.then=="function"?p.then(void 0,t=>{throw ${k}(t),t}):p}catch(t){throw ${k}(t),t}}`;
  const entry = `var ${ENTRY}={${Object.entries(handlers)
    .map(([name, handler]) => `${name}(a,e,c){return __bridge_call(${handler},a,e,c)}`)
    .join(',')}};`;
  const replaced = exported[0].replace(`${exported[1]} as default}`, `${ENTRY} as default}`);
  source = source.replace(exported[0], () => `${call}${entry}${replaced}`);
}
fs.writeFileSync(file, source);

function escape(name) {
  return name.replace(/\$/g, '\\$');
}
