// What the Worker benchmarks share: the LaunchDarkly stand-in and the load client, each run as
// its own process (bench/lib/standin.mjs, bench/lib/load-client.mjs).
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { benchDir } from './scenarios.mjs';

/** Starts the stand-in; resolves to its base URL, its pid and a way to stop it. */
export async function startStandIn() {
  const child = spawn(process.execPath, [path.join(benchDir, 'lib/standin.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
  const { baseUrl, pid } = JSON.parse(first);
  return { baseUrl, pid, close: () => new Promise((resolve) => (child.once('exit', resolve), child.stdin.end())) };
}

/** POSTs `bodyFile` to `url` over `connections` connections for `durationMs` (at most
 * `maxRequests` requests); resolves to the load client's JSON line. */
export function runLoad(url, bodyFile, { connections, durationMs, maxRequests }) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(benchDir, 'lib/load-client.mjs'), url, bodyFile, String(connections), String(durationMs), String(maxRequests)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load client exited with ${code}`))));
  });
}
