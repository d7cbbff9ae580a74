// Drives load at one URL on 127.0.0.1 (run as its own process by bench/worker-load.mjs): POSTs
// the same body over `connections` keep-alive connections for `durationMs` (and at most
// `maxRequests` requests), then prints one JSON line: requests, failures, latency percentiles
// (microseconds) and its own CPU time.
import fs from 'node:fs';
import { Pool } from 'undici';

const [url, bodyFile, connections, durationMs, maxRequests] = process.argv.slice(2);
const target = new URL(url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) {
  throw new Error(`load is only ever sent to this machine, not ${target.hostname}`);
}
const body = fs.readFileSync(bodyFile);
const pool = new Pool(target.origin, { connections: Number(connections), pipelining: 1 });
const latencies = [];
const statuses = {};
let failures = 0;
let sent = 0;
const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
const deadline = start + BigInt(Number(durationMs) * 1e6);

async function worker() {
  while (process.hrtime.bigint() < deadline && sent < Number(maxRequests)) {
    sent += 1;
    const t0 = process.hrtime.bigint();
    try {
      const response = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.body.dump({ limit: Infinity });
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      if (response.statusCode !== 200) failures += 1;
    } catch {
      failures += 1;
    }
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
}

await Promise.all(Array.from({ length: Number(connections) }, worker));
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
await pool.close();
const cpu = process.cpuUsage(cpuStart);
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
console.log(
  JSON.stringify({
    requests: latencies.length,
    failures,
    statuses,
    seconds: elapsed,
    requests_per_second: latencies.length / elapsed,
    p50_us: pct(50),
    p99_us: pct(99),
    client_cpu_seconds: (cpu.user + cpu.system) / 1e6,
  }),
);
