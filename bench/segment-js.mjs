// Segment's own JavaScript on the benchmark scenarios: events per second through the trigger,
// the Track Event mapping and the LaunchDarkly body (bench/lib/segment-launchdarkly.mjs).
// `node bench/segment-js.mjs [--runs 7] [--run-ms 300] [--out target/bench/segment-js.json]`
import path from 'node:path';
import { batch, fixtures, line, measure, options, root, scenarioNames, summary, writeJson } from './lib/scenarios.mjs';
import { segmentDestination, versions } from './lib/segment-launchdarkly.mjs';

const opts = options({ runs: 7, runMs: 300, out: path.join(root, 'target/bench/segment-js.json') });
const settings = { client_id: fixtures.client_side_id };
const n = 100;
const events = batch(n);
// The request body's bytes, as a Worker receives them (`await request.json()` decodes, then parses).
const bytes = new TextEncoder().encode(JSON.stringify(events));
const decoder = new TextDecoder();

const scenarios = {};
for (const name of scenarioNames) {
  const full = segmentDestination(fixtures.scenarios[name], settings);
  const lean = segmentDestination(fixtures.scenarios[name], settings, { schemaStep: false });
  const each = (destination, list) => {
    let bytes = 0;
    for (const event of list) bytes += destination.run(event).body.length;
    return bytes;
  };
  const cells = {
    // Segment's runtime: trigger, transform, removeEmptyValues + AJV, perform, JSON.stringify.
    full: measure(opts, n, () => each(full, events)),
    // The same without the schema step (removeEmptyValues + AJV): a lower bound of Segment's cost.
    without_schema_step: measure(opts, n, () => each(lean, events)),
    // From the JSON text of 100 events, as a request body arrives: its bytes decoded and parsed.
    full_from_text: measure(opts, n, () => each(full, JSON.parse(decoder.decode(bytes)))),
  };
  scenarios[name] = { body: full.run(events[0]).body };
  for (const [cell, runs] of Object.entries(cells)) {
    scenarios[name][cell] = summary(runs);
    line('segment', name, cell.replaceAll('_', ' '), scenarios[name][cell]);
  }
}
writeJson(opts.out, { tool: 'segment-js', node: process.version, versions, runs: opts.runs, run_ms: opts.runMs, scenarios });
