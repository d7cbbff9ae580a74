// End to end, in workerd: what the bridge writes to its logs. One JSON line per request, with
// its deliveries summed up; a line of its own for each failed delivery attempt; never a secret.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import readline from 'node:readline';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const SECRETS = {
  WEB_WEBHOOK_SECRET: 'web-shared-secret-logs-1',
  ADMIN_TOKEN: 'admin-token-logs-2',
  WRITE_KEY: 'wk-logs-3',
};

let ld;
let bridge;
let lines = [];

before(async () => {
  ld = await startStandIn();
  const capture = (stream) => readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
  bridge = await startBridge(
    {
      BRIDGE_CONFIG: JSON.stringify({
        destinations: [{ name: 'production', client_side_id: 'env-logs', events_host: ld.baseUrl }],
        sources: [
          { name: 'web', source_ids: ['web'], webhook_secret: 'WEB_WEBHOOK_SECRET', destinations: ['production'] },
          { name: 'server', write_keys: [SECRETS.WRITE_KEY], destinations: ['production'] },
        ],
      }),
      WEB_WEBHOOK_SECRET: SECRETS.WEB_WEBHOOK_SECRET,
      ADMIN_TOKEN: SECRETS.ADMIN_TOKEN,
      DELIVERY_RETRY_DELAYS: '0',
    },
    {
      handleRuntimeStdio(stdout, stderr) {
        capture(stdout);
        capture(stderr);
      },
    },
  );
});
after(async () => {
  await bridge?.close();
  await ld?.close();
});
beforeEach(() => {
  ld.reset();
  lines = [];
});

/** The JSON log lines among `output` once workerd's output has arrived (other output is skipped). */
async function logLines(output = lines) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return output.flatMap((line) => {
    const start = line.indexOf('{');
    try {
      return start < 0 ? [] : [JSON.parse(line.slice(start))];
    } catch {
      return [];
    }
  });
}

const order = (messageId) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'user-logs',
  messageId,
  properties: { revenue: 3 },
});
const sign = (event) =>
  crypto.createHmac('sha1', SECRETS.WEB_WEBHOOK_SECRET).update(JSON.stringify(event), 'utf8').digest('hex');

test('a delivered request writes one line, with its delivery', async () => {
  const event = order('m-logs-1');
  const answer = await bridge.post('/segment/web', event, { 'x-signature': sign(event) });
  assert.equal(answer.status, 200);
  const logged = await logLines();
  assert.equal(logged.length, 1, `one line, got ${JSON.stringify(logged)}`);
  const [line] = logged;
  // Its fields, in order; `error` and `dead_lettered` are left out when there is none.
  assert.deepEqual(Object.keys(line), [
    'log', 'method', 'path', 'status', 'ms', 'received', 'accepted', 'skipped', 'rejected', 'deliveries',
  ]);
  assert.equal(line.log, 'request');
  assert.equal(line.method, 'POST');
  assert.equal(line.path, '/segment/web');
  assert.equal(line.status, 200);
  assert.equal(line.accepted, 1);
  assert.deepEqual(line.deliveries, [
    {
      destination: 'production',
      payload_id: answer.json.deliveries[0].payload_id,
      events: 1,
      attempts: 1,
      status: 202,
      result: 'delivered',
    },
  ]);
  assert.equal(typeof line.ms, 'number');
});

test('a refused request writes its error code, and no counts', async () => {
  const event = order('m-logs-refused');
  const answer = await bridge.post('/segment/web', event, { 'x-signature': 'forged' });
  assert.equal(answer.status, 401);
  const logged = await logLines();
  assert.equal(logged.length, 1, `one line, got ${JSON.stringify(logged)}`);
  const [line] = logged;
  assert.deepEqual(Object.keys(line), ['log', 'method', 'path', 'status', 'error', 'ms']);
  assert.equal(line.status, 401);
  assert.equal(line.error, answer.json.error.code);
  assert.equal(typeof line.error, 'string');
});

test('a failed attempt writes a warning line of its own', async () => {
  ld.respondWith((record, count) => ({ status: count === 1 ? 503 : 202 }));
  const event = order('m-logs-2');
  const answer = await bridge.post('/segment/web', event, { 'x-signature': sign(event) });
  assert.equal(answer.status, 200);
  const logged = await logLines();
  const attempts = logged.filter((line) => line.log === 'attempt');
  assert.equal(attempts.length, 1, `one failed attempt, got ${JSON.stringify(logged)}`);
  assert.equal(attempts[0].level, 'warn');
  assert.equal(attempts[0].status, 503);
  assert.equal(attempts[0].attempt, 1);
  const [request] = logged.filter((line) => line.log === 'request');
  assert.equal(request.deliveries[0].attempts, 2);
  assert.equal(request.deliveries[0].result, 'delivered');
});

test('no secret, write key or admin token ever reaches the logs', async () => {
  const event = order('m-logs-3');
  await bridge.post('/segment/web', event, { 'x-signature': sign(event) });
  await bridge.post('/segment/web', event, { 'x-signature': 'forged' });
  const basic = `Basic ${Buffer.from(`${SECRETS.WRITE_KEY}:`).toString('base64')}`;
  await bridge.post('/v1/track', { ...event, messageId: 'm-logs-4' }, { authorization: basic });
  await bridge.post('/v1/track', { ...event, writeKey: SECRETS.WRITE_KEY, messageId: 'm-logs-5' });
  await bridge.send('GET', '/admin/dead-letters', undefined, { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` });
  await bridge.send('GET', '/admin/dead-letters', undefined, { authorization: 'Bearer wrong' });
  await bridge.get('/health');
  const logged = await logLines();
  assert.ok(logged.length >= 7, `a line per request, got ${logged.length}`);
  const everything = lines.join('\n');
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!everything.includes(secret), `${name} appears in the logs`);
  }
  assert.ok(!everything.includes(Buffer.from(`${SECRETS.WRITE_KEY}:`).toString('base64')), 'the Basic credentials appear in the logs');
});

test('the queue consumer writes a line per payload it delivers, and one per failed attempt', async () => {
  const queued = [];
  const durable = await startBridge(
    {
      LD_CLIENT_SIDE_ID: 'env-logs-queue',
      LD_EVENTS_HOST: ld.baseUrl,
      SEGMENT_ALLOW_UNSIGNED: 'true', // a valid configuration (it authenticates something)
      DELIVERY_RETRY_DELAYS: '1',
    },
    {
      queueProducers: { DELIVERIES: { queueName: 'segment-ld-deliveries' } },
      handleRuntimeStdio(stdout, stderr) {
        for (const stream of [stdout, stderr]) readline.createInterface({ input: stream }).on('line', (line) => queued.push(line));
      },
    },
  );
  try {
    const worker = await durable.mf.getWorker();
    const payload = (id) =>
      JSON.stringify({
        v: 1,
        destination: 'default',
        payload_id: id,
        body: JSON.stringify([{ kind: 'custom', key: 'E', contextKeys: { user: 'u' }, creationDate: 1 }]),
        events: 1,
        attempts: 0,
        queued_at: 1,
      });
    const message = (id, body) => ({ id, timestamp: new Date(), body, attempts: 1 });
    await worker.queue('segment-ld-deliveries', [message('ok', payload('6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f71'))]);
    ld.respondWith(() => ({ status: 503 }));
    await worker.queue('segment-ld-deliveries', [message('later', payload('6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f72'))]);
    const logged = await logLines(queued);
    const delivered = logged.filter((line) => line.log === 'delivered');
    assert.deepEqual(
      delivered.map(({ destination, payload_id, events, attempts, status }) => ({ destination, payload_id, events, attempts, status })),
      [{ destination: 'default', payload_id: '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f71', events: 1, attempts: 1, status: 202 }],
    );
    const failed = logged.filter((line) => line.log === 'attempt');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].payload_id, '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f72');
    assert.equal(failed[0].status, 503);
  } finally {
    await durable.close();
  }
});
