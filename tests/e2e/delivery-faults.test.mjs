// Fault injection, in workerd: a stand-in LaunchDarkly on 127.0.0.1 answers 500, 503, 429 with
// Retry-After, 413, 401, 403, hangs past the timeout, refuses connections, and flaps. In direct
// mode (no queue) and durable mode (Cloudflare Queues + dead letters in KV), every event the
// bridge accepted must be seen by the stand-in exactly once (deduplicating by payload id) or sit
// in the dead-letter store with its reason; events the bridge did not accept go back to the
// sender (Segment) with a retryable status. The tally is printed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const ADMIN_TOKEN = 'admin-token-for-tests';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const tally = [];

let ld;
let closedPort;

async function freePortThatRefuses() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function config() {
  return JSON.stringify({
    destinations: [
      { name: 'main', client_side_id: 'env-main', events_host: ld.baseUrl },
      { name: 'refused', client_side_id: 'env-refused', events_host: `http://127.0.0.1:${closedPort}` },
    ],
    sources: [
      // Unsigned on purpose: this file is about delivery faults.
      { name: 'main', source_ids: ['main'], destinations: ['main'], allow_unsigned: true },
      { name: 'refused', source_ids: ['refused'], destinations: ['refused'], allow_unsigned: true },
    ],
  });
}

const vars = () => ({
  BRIDGE_CONFIG: config(),
  ADMIN_TOKEN,
  DELIVERY_TIMEOUT_MS: '400',
  DELIVERY_RETRY_DELAYS: '1,1,1',
});

const durableOptions = {
  queueProducers: {
    DELIVERIES: { queueName: 'segment-ld-deliveries' },
    DEAD_LETTER_QUEUE: { queueName: 'segment-ld-dead-letters' },
  },
  queueConsumers: {
    'segment-ld-deliveries': { maxBatchSize: 10, maxBatchTimeout: 0.2, maxRetries: 3, deadLetterQueue: 'segment-ld-dead-letters' },
    'segment-ld-dead-letters': { maxBatchSize: 10, maxBatchTimeout: 0.2 },
  },
  kvNamespaces: ['DEAD_LETTERS'],
};
const directOptions = { kvNamespaces: ['DEAD_LETTERS'] };

const scenarios = [
  { name: '500 forever', respond: () => ({ status: 500 }) },
  { name: '503 then recovers', respond: (_, n) => ({ status: n <= 3 ? 503 : 202 }) },
  { name: '429 with Retry-After', respond: (_, n) => (n <= 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 }) },
  { name: '413 for multi-event payloads', respond: (record) => ({ status: record.json?.length > 1 ? 413 : 202 }) },
  { name: '401 (then fixed and replayed)', respond: () => ({ status: 401 }), replayAfterFix: true },
  { name: '403', respond: () => ({ status: 403 }) },
  {
    name: 'hangs past the timeout twice',
    respond: async (_, n) => {
      if (n <= 2) {
        await sleep(1200);
        return { destroy: true };
      }
      return { status: 202 };
    },
  },
  { name: 'connection refused', source: 'refused', respond: () => ({ status: 202 }) },
  { name: 'flapping 503/202', respond: (_, n) => ({ status: n % 2 === 1 ? 503 : 202 }) },
];

before(async () => {
  ld = await startStandIn();
  closedPort = await freePortThatRefuses();
});
after(async () => {
  await ld?.close();
  console.log('\nDelivery fault tally (events):');
  console.table(tally);
  const totals = tally.reduce(
    (sum, row) => {
      for (const key of ['sent', 'delivered', 'duplicates', 'dead_lettered', 'returned_to_sender']) sum[key] += row[key];
      return sum;
    },
    { sent: 0, delivered: 0, duplicates: 0, dead_lettered: 0, returned_to_sender: 0 },
  );
  console.log(`totals: ${JSON.stringify(totals)}`);
});

/** Events, identified by properties.seq (echoed in the LaunchDarkly event's data). */
function requestsFor(scenario, mode) {
  return [0, 1, 2].map((r) =>
    [0, 1].map((e) => ({
      type: 'track',
      event: 'Order Completed',
      userId: `u-${r}`,
      messageId: `${mode}:${scenario}:${r}:${e}`,
      timestamp: '2024-01-01T00:00:00Z',
      properties: { revenue: 1, scenario: `${mode}:${scenario}`, seq: `${r}.${e}` },
    })),
  );
}

/** Acts as Segment: retries a 5xx answer a few times with the same body, then gives up. */
async function sendLikeSegment(bridge, path, events) {
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const response = await bridge.post(path, events);
    if (response.status >= 200 && response.status < 300) return { accepted: true, response };
    if (response.status < 500) return { accepted: false, response };
    await sleep(200);
  }
  return { accepted: false };
}

/** Events the stand-in answered 2xx, counted once per payload id. */
function deliveredEvents(tag) {
  const byPayload = new Map();
  for (const record of ld.received) {
    if (typeof record.status !== 'number' || record.status < 200 || record.status > 299) continue;
    const events = (record.json ?? []).filter((event) => event.data?.scenario === tag);
    if (events.length) byPayload.set(record.headers['x-launchdarkly-payload-id'], events);
  }
  const seen = new Map();
  for (const events of byPayload.values()) {
    for (const event of events) seen.set(event.data.seq, (seen.get(event.data.seq) ?? 0) + 1);
  }
  return seen;
}

async function deadLetters(bridge, tag) {
  const response = await fetch(new URL('/admin/dead-letters?limit=100', bridge.url), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200);
  const { dead_letters: letters } = await response.json();
  return letters
    .map((letter) => ({ letter, events: JSON.parse(letter.payload.body).filter((e) => e.data?.scenario === tag) }))
    .filter(({ events }) => events.length > 0);
}

async function runScenario(bridge, mode, scenario) {
  const tag = `${mode}:${scenario.name}`;
  ld.respondWith(scenario.respond);
  let sent = 0;
  let returned = 0;
  for (const events of requestsFor(scenario.name, mode)) {
    const { accepted, response } = await sendLikeSegment(bridge, `/segment/${scenario.source ?? 'main'}`, events);
    if (accepted) sent += response.json.accepted;
    else returned += events.length;
  }
  // Wait until every accepted event is delivered or dead-lettered (durable mode works later).
  const deadline = Date.now() + 30000;
  let delivered;
  let letters;
  for (;;) {
    delivered = deliveredEvents(tag);
    letters = await deadLetters(bridge, tag);
    const kept = letters.reduce((n, { events }) => n + events.length, 0);
    if (delivered.size + kept >= sent || Date.now() > deadline) break;
    await sleep(250);
  }
  if (scenario.replayAfterFix && letters.length) {
    ld.respondWith(() => ({ status: 202 }));
    const replay = await fetch(new URL('/admin/dead-letters/replay', bridge.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payload_ids: letters.map(({ letter }) => letter.payload.payload_id) }),
    });
    assert.equal(replay.status, 200);
    for (;;) {
      delivered = deliveredEvents(tag);
      letters = await deadLetters(bridge, tag);
      if (letters.length === 0 && delivered.size >= sent) break;
      if (Date.now() > deadline) break;
      await sleep(250);
    }
  }
  const deadLettered = letters.reduce((n, { events }) => n + events.length, 0);
  for (const { letter } of letters) {
    assert.ok(letter.reason?.code, 'every dead letter has a reason');
  }
  const duplicates = [...delivered.values()].reduce((n, count) => n + (count - 1), 0);
  const row = {
    mode,
    scenario: scenario.name,
    sent,
    delivered: delivered.size,
    duplicates,
    dead_lettered: deadLettered,
    reasons: [...new Set(letters.map(({ letter }) => letter.reason.code))].join(',') || '-',
    returned_to_sender: returned,
  };
  tally.push(row);
  assert.equal(duplicates, 0, `${tag}: no event is delivered twice`);
  assert.equal(row.delivered + row.dead_lettered, sent, `${tag}: every accepted event is delivered or dead-lettered (${JSON.stringify(row)})`);
  assert.equal(sent + returned, 6, `${tag}: every event is accepted or returned to the sender`);
  return row;
}

for (const mode of ['direct', 'durable']) {
  test(`${mode} mode: nothing is lost or duplicated under faults`, async (t) => {
    const bridge = await startBridge(vars(), mode === 'durable' ? durableOptions : directOptions);
    try {
      for (const scenario of scenarios) {
        await t.test(scenario.name, async () => {
          const row = await runScenario(bridge, mode, scenario);
          if (scenario.name === '503 then recovers' || scenario.name === 'flapping 503/202') {
            assert.equal(row.delivered, 6, 'recovered deliveries arrive');
          }
          if (scenario.name.startsWith('401')) {
            assert.equal(row.delivered, 6, 'fixed and replayed');
          }
          if (scenario.name === '403') {
            assert.equal(row.dead_lettered, row.sent, 'configuration errors are kept, not retried blindly');
          }
          if (mode === 'durable') {
            assert.equal(row.returned_to_sender, 0, 'durable mode accepts everything it can queue');
          }
        });
      }
    } finally {
      await bridge.close();
    }
  });
}

test('queue consumer: ack and retry decisions per message', async () => {
  ld.respondWith(() => ({ status: 202 }));
  const noStore = await startBridge(vars(), {
    queueProducers: { DELIVERIES: { queueName: 'segment-ld-deliveries' } },
  });
  try {
    const worker = await noStore.mf.getWorker();
    const payload = (id, destination = 'main') => ({
      v: 1,
      destination,
      payload_id: id,
      body: JSON.stringify([{ kind: 'custom', key: 'E', contextKeys: { user: 'u' }, creationDate: 1, data: { scenario: 'consumer' } }]),
      events: 1,
      attempts: 0,
      queued_at: 1,
    });
    const message = (id, body) => ({ id, timestamp: new Date(), body, attempts: 1 });
    const result = await worker.queue('segment-ld-deliveries', [
      message('ok', JSON.stringify(payload('6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f61'))),
      message('unreadable', 'not a payload'),
      message('gone', JSON.stringify(payload('6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f62', 'deleted-destination'))),
    ]);
    assert.deepEqual([...result.explicitAcks].sort(), ['ok']);
    assert.deepEqual(
      result.retryMessages.map((m) => m.msgId).sort(),
      ['gone', 'unreadable'],
      'with no dead-letter queue or store bound, what cannot be handed on stays in the queue',
    );
    const delivered = ld.received.filter((r) => r.headers['x-launchdarkly-payload-id'] === '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f61');
    assert.equal(delivered.length, 1);

    ld.respondWith(() => ({ status: 503 }));
    const retried = await worker.queue('segment-ld-deliveries', [
      message('later', JSON.stringify(payload('6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63'))),
    ]);
    assert.deepEqual(retried.explicitAcks, ['later'], 'a retryable failure is re-queued with a delay, then acknowledged');
  } finally {
    await noStore.close();
  }
  const withStore = await startBridge(vars(), durableOptions);
  try {
    const worker = await withStore.mf.getWorker();
    const result = await worker.queue('segment-ld-deliveries', [{ id: 'junk', timestamp: new Date(), body: '{"v":', attempts: 1 }]);
    assert.deepEqual(result.explicitAcks, ['junk'], 'an unreadable message is dead-lettered and acknowledged');
  } finally {
    await withStore.close();
  }
});
