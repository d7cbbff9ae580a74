// End to end, in workerd: Segment's own Node library (@segment/analytics-node) pointed at the
// bridge's Tracking API, and Segment's webhook signing reproduced exactly (single and batched,
// good and forged signatures), against a stand-in LaunchDarkly on 127.0.0.1.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const WEB_SECRET = 'web-shared-secret-1';
const WRITE_KEY = 'wk-node-app';
const ADMIN_TOKEN = 'inbound-admin-token';

let ld;
let bridge;

before(async () => {
  ld = await startStandIn();
  bridge = await startBridge({
    BRIDGE_CONFIG: JSON.stringify({
      destinations: [
        { name: 'web-env', client_side_id: 'env-web', events_host: ld.baseUrl },
        { name: 'server-env', client_side_id: 'env-server', events_host: ld.baseUrl },
      ],
      sources: [
        // Batched webhooks on purpose (the test of Segment's batch signing below); security.test.mjs
        // shows a source without accept_batched_webhooks refusing them.
        {
          name: 'web',
          source_ids: ['web'],
          webhook_secret: 'WEB_WEBHOOK_SECRET',
          accept_batched_webhooks: true,
          destinations: ['web-env'],
        },
        { name: 'node-app', write_keys: [WRITE_KEY], destinations: ['server-env'] },
      ],
    }),
    WEB_WEBHOOK_SECRET: WEB_SECRET,
    ADMIN_TOKEN,
  });
});
after(async () => {
  await bridge?.close();
  await ld?.close();
});
beforeEach(() => ld.reset());

/** Segment's X-Signature: hex HMAC-SHA1 of JSON.stringify(payload) (of body[0] for batches). */
const segmentSignature = (secret, signed) =>
  crypto.createHmac('sha1', secret).update(JSON.stringify(signed), 'utf8').digest('hex');

const order = (messageId, userId = 'u-1') => ({
  type: 'track',
  event: 'Order Completed',
  userId,
  messageId,
  timestamp: '2024-01-01T00:00:00.000Z',
  properties: { revenue: 12.5 },
});

test('@segment/analytics-node delivers through the Tracking API to the routed environment', async () => {
  const analytics = new Analytics({
    writeKey: WRITE_KEY,
    host: bridge.url.origin,
    path: '/v1/batch',
    flushAt: 3,
    maxRetries: 0,
  });
  const errors = [];
  analytics.on('error', (error) => errors.push(error));
  analytics.track({ userId: 'user-7', event: 'Signed Up', properties: { value: 2 } });
  analytics.track({ anonymousId: 'anon-8', event: 'Order Completed', properties: { revenue: '19.99' } });
  analytics.identify({ userId: 'user-7', traits: { plan: 'pro' } });
  await analytics.closeAndFlush({ timeout: 10000 });
  assert.deepEqual(errors, []);
  assert.equal(ld.received.length, 1, 'one payload for the two track calls');
  const [sent] = ld.received;
  assert.equal(sent.url, '/events/bulk/env-server');
  assert.deepEqual(
    sent.json.map((e) => [e.key, e.contextKeys, e.metricValue]),
    [
      ['Signed Up', { user: 'user-7' }, 2],
      ['Order Completed', { unauthenticatedUser: 'anon-8', user: 'anon-8' }, 19.99],
    ],
  );
});

test('an unknown write key gets 401 and nothing is sent', async () => {
  const response = await fetch(new URL('/v1/track', bridge.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from('wrong-key:').toString('base64')}`,
    },
    body: JSON.stringify({ event: 'E', userId: 'u' }),
  });
  assert.equal(response.status, 401);
  const body = await response.json();
  assert.equal(body.success, false);
  assert.equal(body.error.code, 'unknown_write_key');
  assert.ok(!JSON.stringify(body).includes('wrong-key'));
  assert.equal(ld.received.length, 0);
});

test('a CORS preflight from a browser is answered', async () => {
  const response = await fetch(new URL('/v1/batch', bridge.url), {
    method: 'OPTIONS',
    headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  assert.match(response.headers.get('access-control-allow-headers'), /Authorization/);
});

test('a single signed webhook event is accepted; forged and unsigned ones change nothing', async () => {
  const event = order('m-1');
  const good = await bridge.post('/segment/web', event, { 'x-signature': segmentSignature(WEB_SECRET, event) });
  assert.equal(good.status, 200, good.text);
  assert.equal(ld.received.length, 1);
  assert.equal(ld.received[0].url, '/events/bulk/env-web');

  const forged = await bridge.post('/segment/web', event, { 'x-signature': segmentSignature('not-the-secret', event) });
  assert.equal(forged.status, 401);
  assert.equal(forged.json.error.code, 'invalid_signature');
  const unsigned = await bridge.post('/segment/web', event);
  assert.equal(unsigned.status, 401);
  assert.equal(unsigned.json.error.code, 'missing_signature');
  const tampered = await bridge.post('/segment/web', { ...event, event: 'Tampered' }, {
    'x-signature': segmentSignature(WEB_SECRET, event),
  });
  assert.equal(tampered.status, 401);
  assert.equal(ld.received.length, 1, 'nothing more reached LaunchDarkly');
  for (const response of [forged, unsigned, tampered]) {
    assert.ok(!response.text.includes(WEB_SECRET));
  }
});

test("a batched webhook is verified on its first event, as Segment signs it", async () => {
  const batch = [order('m-2'), order('m-3', 'u-2')];
  const good = await bridge.post('/segment/web', batch, { 'x-signature': segmentSignature(WEB_SECRET, batch[0]) });
  assert.equal(good.status, 200, good.text);
  assert.equal(ld.received[0].json.length, 2);
  const wholeBody = await bridge.post('/segment/web', batch, { 'x-signature': segmentSignature(WEB_SECRET, batch) });
  assert.equal(wholeBody.status, 401);
  assert.equal(ld.received.length, 1);
});

test('limits and errors come back as JSON with a code', async () => {
  const big = { ...order('m-4'), properties: { blob: 'x'.repeat(33 * 1024) } };
  const tooLarge = await bridge.post('/segment/web', big, { 'x-signature': segmentSignature(WEB_SECRET, big) });
  assert.equal(tooLarge.status, 400);
  assert.equal(tooLarge.json.error.code, 'event_too_large');
  const form = await fetch(new URL('/v1/track', bridge.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'event=E',
  });
  assert.equal(form.status, 415);
  assert.equal((await form.json()).error.code, 'unsupported_media_type');
  const many = await fetch(new URL('/v1/batch', bridge.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ writeKey: WRITE_KEY, batch: Array.from({ length: 2501 }, () => ({})) }),
  });
  assert.equal(many.status, 400);
  assert.equal((await many.json()).error.code, 'too_many_events');
  assert.equal(ld.received.length, 0);
});

test('/health never shows a secret or a write key', async () => {
  const open = await bridge.get('/health');
  assert.equal(open.status, 200);
  assert.equal(open.json.config, undefined, 'the summary only with the admin token');
  const health = await bridge.send('GET', '/health', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.equal(health.status, 200);
  for (const text of [open.text, health.text]) {
    assert.ok(!text.includes(WEB_SECRET));
    assert.ok(!text.includes(WRITE_KEY));
    assert.ok(!text.includes(ADMIN_TOKEN));
  }
  assert.equal(health.json.config.sources[0].webhook_secret, 'WEB_WEBHOOK_SECRET');
});
