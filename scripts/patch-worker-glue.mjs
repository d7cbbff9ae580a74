// Makes the built Worker schedule its Rust futures with a promise reaction rather than
// `queueMicrotask`. wasm-bindgen's futures queue wakes a Rust task by calling `queueMicrotask`
// when the global has one (else `Promise.resolve().then`, its own fallback); workerd implements
// `queueMicrotask` in C++ around the callback, which cost about 8% of a one-event request's
// busy time in a profile (`bench/profile-worker.mjs --events 1`), and a promise reaction is V8's
// own. Both run the callback as a microtask, in order. Measured in paired rounds
// (`bench/worker-load.mjs --rust-forward` pointing at the other build): 3% less workerd CPU per
// request at 1 and at 100 events/request. A callback error (none is thrown: the queue's closure
// returns `Ok`) would be an unhandled rejection instead of a reported error.
// scripts/build-worker.sh calls this; it fails when the glue does not have the one import it
// patches (a wasm-bindgen upgrade that changes it must be looked at, not skipped).
// `node scripts/patch-worker-glue.mjs build/index.js`
import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/patch-worker-glue.mjs INDEX.js');
  process.exit(2);
}
const source = fs.readFileSync(file, 'utf8');
// worker-build's minified import: `__wbg_queueMicrotask_<hash>:function(e){queueMicrotask(e)}`.
const original = /(__wbg_queueMicrotask_[0-9a-f]+:function\((\w+)\)\{)queueMicrotask\(\2\)\}/g;
const patched = /__wbg_queueMicrotask_[0-9a-f]+:function\((\w+)\)\{Promise\.resolve\(\)\.then\(\1\)\}/g;
const found = [...source.matchAll(original)].length;
const done = [...source.matchAll(patched)].length;
if (found === 0 && done === 1) {
  process.exit(0);
}
if (found !== 1 || done !== 0) {
  console.error(
    `${file}: expected one wasm-bindgen queueMicrotask import to patch, found ${found} (and ${done} patched)`,
  );
  process.exit(1);
}
fs.writeFileSync(file, source.replace(original, '$1Promise.resolve().then($2)}'));
