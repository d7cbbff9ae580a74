// The benchmark scenarios (bench/fixtures/scenarios.json), shared by every JavaScript benchmark.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const root = path.resolve(benchDir, '..');

export const fixtures = JSON.parse(fs.readFileSync(path.join(benchDir, 'fixtures/scenarios.json'), 'utf8'));
export const scenarioNames = Object.keys(fixtures.scenarios);

/** `n` copies of the fixtures' event with unique ids, exactly as benches/support/bridge.rs makes them. */
export function batch(n) {
  return Array.from({ length: n }, (_, i) => {
    const event = structuredClone(fixtures.event);
    for (const key of ['messageId', 'userId', 'anonymousId']) {
      if (typeof event[key] === 'string') event[key] += `-${i}`;
    }
    return event;
  });
}

/** Segment's largest batch: 2,500 small track events (about 400 KB, within its 500 KB limit). */
export function largestBatch() {
  return Array.from({ length: 2500 }, (_, i) => ({
    type: 'track',
    event: 'Order Completed',
    userId: `user-${i}`,
    messageId: `msg-${String(i).padStart(6, '0')}`,
    timestamp: '2024-05-06T07:08:09.123Z',
    properties: { revenue: 19.99 },
  }));
}

/** The events of one Worker request: `1` (one typical event, not in an array), `n` typical
 * events, `1000` (the first 1,000 of the largest batch) or `largest`. */
export function requestEvents(kind) {
  if (kind === 'largest') return largestBatch();
  if (kind === '1000') return largestBatch().slice(0, 1000);
  return kind === '1' ? batch(1)[0] : batch(Number(kind));
}

/** Median, minimum and maximum of `runs` (numbers), with the runs themselves. */
export function summary(runs) {
  const sorted = [...runs].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? 0 : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { events_per_second: median, min: sorted[0], max: sorted[n - 1], runs };
}

/**
 * Runs `work()` (which handles `eventsPerCall` events) for a warm-up, then `runs` runs of at
 * least `runMs` ms each; returns events per second of each run.
 */
export function measure({ runs, runMs, warmupMs = runMs }, eventsPerCall, work) {
  const timed = (ms) => {
    const start = process.hrtime.bigint();
    const until = start + BigInt(Math.round(ms * 1e6));
    let calls = 0;
    let sink = 0;
    let now;
    do {
      sink += work() ? 1 : 0;
      calls += 1;
      now = process.hrtime.bigint();
    } while (now < until);
    if (sink < 0) console.log(sink); // keeps the work observable
    return (calls * eventsPerCall) / (Number(now - start) / 1e9);
  };
  timed(warmupMs);
  return Array.from({ length: runs }, () => timed(runMs));
}

/** `--name value` options of a benchmark script, with defaults. */
export function options(defaults) {
  const result = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option ${argv[i]}`);
    result[key] = typeof defaults[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return result;
}

export function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

export function line(tool, scenario, what, s) {
  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(
    `${tool.padEnd(7)} ${scenario.padEnd(16)} ${what.padEnd(28)} ${f(s.events_per_second).padStart(12)} events/s  (min ${f(s.min)}, max ${f(s.max)})`,
  );
}
