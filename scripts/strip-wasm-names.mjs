// Removes the "name" custom section (function names, about 115 KB, 32 KB gzipped) from a wasm
// file in place, byte for byte otherwise. worker-build always keeps it (wasm-opt --debuginfo);
// scripts/build-worker.sh calls this unless WORKER_WASM_NAMES=1.
// `node scripts/strip-wasm-names.mjs FILE.wasm`
import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/strip-wasm-names.mjs FILE.wasm');
  process.exit(2);
}
const bytes = fs.readFileSync(file);
if (bytes.readUInt32LE(0) !== 0x6d736100) {
  console.error(`${file} is not a wasm module`);
  process.exit(1);
}
/** Reads an unsigned LEB128 at `at`: [value, next offset]. */
function leb(at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}
const kept = [bytes.subarray(0, 8)];
let removed = 0;
for (let at = 8; at < bytes.length; ) {
  const start = at;
  const id = bytes[at];
  const [size, body] = leb(at + 1);
  at = body + size;
  if (id === 0) {
    const [nameLength, name] = leb(body);
    if (bytes.subarray(name, name + nameLength).toString() === 'name') {
      removed += at - start;
      continue;
    }
  }
  kept.push(bytes.subarray(start, at));
}
fs.writeFileSync(file, Buffer.concat(kept));
console.log(`${file}: removed the name section (${removed} bytes)`);
