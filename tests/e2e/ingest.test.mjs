// End to end: the built Worker in workerd (Miniflare), a stand-in LaunchDarkly on 127.0.0.1,
// Segment events posted to /segment; asserts exactly what reaches LaunchDarkly and what the
// bridge answers.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CLIENT_SIDE_ID = 'e2e-env-1';
const ADMIN_TOKEN = 'e2e-admin-token';
/** Unsigned webhooks, as in local development: this file is about events, not authentication. */
const UNSIGNED = { SEGMENT_ALLOW_UNSIGNED: 'true' };

let ld;
let bridge;

before(async () => {
  ld = await startStandIn();
  bridge = await startBridge({ LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID, LD_EVENTS_HOST: ld.baseUrl, ...UNSIGNED });
});
after(async () => {
  await bridge?.close();
  await ld?.close();
});
beforeEach(() => ld.reset());

const purchase = {
  type: 'track',
  event: 'Order Completed',
  userId: 'user-42',
  anonymousId: 'anon-42',
  messageId: 'ajs-msg-1',
  timestamp: '2024-05-06T07:08:09.123Z',
  properties: { revenue: 39.95, currency: 'USD', products: [{ sku: 'A-1', price: 39.95 }] },
};

test('a track event reaches LaunchDarkly with the exact URL, headers and body', async () => {
  const response = await bridge.post('/segment?outcomes=all', purchase);
  assert.equal(response.status, 200, response.text);
  assert.equal(ld.received.length, 1);
  const [sent] = ld.received;
  assert.equal(sent.method, 'POST');
  assert.equal(sent.url, `/events/bulk/${CLIENT_SIDE_ID}`);
  assert.equal(sent.headers['content-type'], 'application/json');
  assert.equal(sent.headers['x-launchdarkly-event-schema'], '4');
  assert.match(sent.headers['x-launchdarkly-payload-id'], UUID);
  assert.equal(sent.headers['user-agent'], 'segment-ld-bridge/0.1.0');
  assert.equal(sent.headers.authorization, undefined);
  assert.equal(
    sent.text,
    JSON.stringify([
      {
        kind: 'custom',
        key: 'Order Completed',
        contextKeys: { unauthenticatedUser: 'anon-42', user: 'user-42' },
        creationDate: 1714979289123,
        metricValue: 39.95,
        data: { revenue: 39.95, currency: 'USD', products: [{ sku: 'A-1', price: 39.95 }] },
      },
    ]),
  );
  assert.deepEqual(response.json.outcomes, [
    {
      index: 0,
      status: 'accepted',
      reason: 'track_event',
      message: 'metric event "Order Completed" for unauthenticatedUser "anon-42", user "user-42" to default',
      subscriptions: ['Track Event'],
      destinations: ['default'],
    },
  ]);
  assert.equal(response.json.deliveries[0].status, 202);
  assert.equal(response.json.deliveries[0].result, 'delivered');
  assert.equal(response.json.deliveries[0].payload_id, sent.headers['x-launchdarkly-payload-id']);
});

test("the bridge reads LaunchDarkly's answers to the end, so one connection carries its requests", async () => {
  // An unread answer makes workerd close the connection: every payload then opened a new one
  // (with LaunchDarkly, a TLS handshake per request).
  // Answers with their length (LaunchDarkly's), then chunked (read as a stream).
  for (const headers of [{ 'content-type': 'application/json' }, { 'transfer-encoding': 'chunked' }]) {
    ld.reset();
    ld.respondWith(() => ({ status: 202, headers, body: '{"ok":true}' }));
    for (let i = 0; i < 8; i++) {
      const response = await bridge.post('/segment', { ...purchase, messageId: `reuse-${i}` });
      assert.equal(response.status, 200, response.text);
    }
    assert.equal(ld.received.length, 8);
    assert.ok(ld.connections <= 1, `${ld.connections} connections for 8 requests answered with ${JSON.stringify(headers)}`);
  }
  // An answer over the 64 KB read is cancelled (unread when its length says so, else once past
  // 64 KB): the delivery still counts.
  for (const headers of [{}, { 'transfer-encoding': 'chunked' }]) {
    ld.respondWith(() => ({ status: 202, headers, body: 'x'.repeat(200 * 1024) }));
    const response = await bridge.post('/segment?outcomes=all', { ...purchase, messageId: 'reuse-large' });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.accepted, 1);
    assert.equal(response.json.deliveries[0].status, 202, JSON.stringify(headers));
  }
});

test('a mixed array: accepted events share one payload, the others are skipped or rejected alone', async () => {
  const events = [
    purchase,
    { type: 'page', name: 'Home', userId: 'user-42' },
    { type: 'track', event: 'Signed Up', anonymousId: 'anon-7', userId: '', properties: { value: '3' } },
    { type: 'track', event: 'Orphan' },
    { type: 'track', event: 'Bad Value', userId: 'u', properties: { revenue: 'lots' } },
    42,
    { type: 'track', userId: 'u' },
  ];
  const before = Date.now();
  const response = await bridge.post('/segment?outcomes=all', events);
  const after = Date.now();
  assert.equal(response.status, 200, response.text);
  assert.deepEqual(
    response.json.outcomes.map((o) => [o.index, o.status, o.reason]),
    [
      [0, 'accepted', 'track_event'],
      [1, 'skipped', 'not_a_track_event'],
      [2, 'accepted', 'track_event'],
      [3, 'rejected', 'missing_context_key'],
      [4, 'rejected', 'invalid_metric_value'],
      [5, 'rejected', 'invalid_event'],
      [6, 'rejected', 'missing_event_name'],
    ],
  );
  assert.match(response.json.outcomes[1].message, /only track events/);
  assert.equal(response.json.accepted, 2);
  assert.equal(response.json.skipped, 1);
  assert.equal(response.json.rejected, 4);
  assert.equal(ld.received.length, 1, 'one payload for the accepted events');
  const body = ld.received[0].json;
  assert.equal(body.length, 2);
  assert.equal(body[0].key, 'Order Completed');
  assert.deepEqual(body[1].contextKeys, { unauthenticatedUser: 'anon-7', user: 'anon-7' });
  assert.equal(body[1].metricValue, 3);
  // "Signed Up" has no timestamp: its creation date is the Worker's clock when it was received,
  // in milliseconds (workerd's clock may stand still during a request, never run ahead of ours).
  assert.ok(body[1].creationDate >= before - 1000 && body[1].creationDate <= after, `${body[1].creationDate} not in [${before}, ${after}]`);
});

test('the {"batch": [...]} envelope is read like an array', async () => {
  const response = await bridge.post('/segment', { batch: [purchase, { ...purchase, messageId: 'ajs-msg-2' }] });
  assert.equal(response.status, 200, response.text);
  assert.equal(ld.received[0].json.length, 2);
});

test('the payload id is derived from the source and the events, so a retried request carries the same id', async () => {
  await bridge.post('/segment', purchase);
  await bridge.post('/segment', purchase);
  await bridge.post('/segment', { ...purchase, messageId: 'ajs-msg-other' });
  const ids = ld.received.map((r) => r.headers['x-launchdarkly-payload-id']);
  assert.equal(ids[0], ids[1]);
  assert.notEqual(ids[0], ids[2]);
});

test('LaunchDarkly failing makes the bridge answer 503 so Segment retries', async () => {
  ld.respondWith(() => ({ status: 503 }));
  const response = await bridge.post('/segment', purchase);
  assert.equal(response.status, 503, response.text);
  assert.equal(response.json.error.code, 'delivery_failed');
  assert.equal(response.json.deliveries[0].status, 503);
  assert.equal(response.json.deliveries[0].attempts, 2, 'one retry within the request, as the SDKs do');
  assert.equal(ld.received.length, 2);
  ld.respondWith(() => ({ status: 401 }));
  const refused = await bridge.post('/segment', purchase);
  assert.equal(refused.status, 502);
  assert.equal(refused.json.error.code, 'launchdarkly_configuration_error');
});

test('bad requests get clear JSON errors', async () => {
  const malformed = await bridge.post('/segment', '{"type": "track",');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.error.code, 'malformed_json');
  assert.match(malformed.json.error.message, /not valid JSON/);
  const notEvents = await bridge.post('/segment', '"hello"');
  assert.equal(notEvents.status, 400);
  assert.equal(notEvents.json.error.code, 'invalid_body');
  const wrongMethod = await bridge.get('/segment');
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.json.error.code, 'method_not_allowed');
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  const unknown = await bridge.post('/v2/whatever', purchase);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'not_found');
  const allRejected = await bridge.post('/segment', { type: 'track', event: 'No Ids' });
  assert.equal(allRejected.status, 400);
  assert.equal(allRejected.json.error.code, 'all_events_rejected');
  assert.equal(ld.received.length, 0, 'nothing reached LaunchDarkly');
});

/** GET /health with the admin token (the configuration summary is shown only to it). */
const adminHealth = (target) => target.send('GET', '/health', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });

test('/health reports the version, and the configuration to the admin token', async () => {
  const open = await bridge.get('/health');
  assert.equal(open.status, 200);
  assert.deepEqual(open.json, { status: 'ok', name: 'segment-ld-bridge', version: '0.1.0', dev_mode: false });
  const withAdmin = await startBridge({ LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID, LD_EVENTS_HOST: ld.baseUrl, ...UNSIGNED, ADMIN_TOKEN });
  try {
    const publicHealth = await withAdmin.get('/health');
    assert.equal(publicHealth.status, 200);
    assert.equal(publicHealth.json.config, undefined, 'no configuration without the admin token');
    const health = await adminHealth(withAdmin);
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
    assert.equal(health.json.version, '0.1.0');
    assert.equal(health.json.config.destinations[0].client_side_id, CLIENT_SIDE_ID);
    assert.equal(health.json.config.destinations[0].events_host, 'custom');
    assert.equal(health.json.config.subscriptions[0].mapping, 'preset');
    assert.equal(health.json.config.subscriptions[0].trigger, 'type = "track"');
    assert.ok(!health.text.includes(ADMIN_TOKEN));
  } finally {
    await withAdmin.close();
  }
});

test('a custom Track Event mapping from the configuration is applied', async () => {
  const custom = await startBridge({
    LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID,
    LD_EVENTS_HOST: ld.baseUrl,
    ...UNSIGNED,
    ADMIN_TOKEN,
    TRACK_EVENT_MAPPING: JSON.stringify({
      context_kind: 'account',
      user_key: { '@path': '$.properties.accountId' },
      additional_context_keys: { user: { '@path': '$.userId' } },
      event_name: { '@template': 'checkout:{{properties.step}}' },
      metric_value: { '@path': '$.properties.total' },
      event_properties: null,
    }),
  });
  try {
    const response = await custom.post('/segment', {
      type: 'track',
      event: 'Checkout Step',
      userId: 'u-1',
      timestamp: '2024-01-01T00:00:00+01:00',
      properties: { accountId: 'acct-9', step: 'payment', total: '12.5' },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(
      ld.received[0].text,
      JSON.stringify([
        {
          kind: 'custom',
          key: 'checkout:payment',
          contextKeys: { user: 'u-1', account: 'acct-9' },
          creationDate: 1704063600000,
          metricValue: 12.5,
          data: {},
        },
      ]),
    );
    const health = await adminHealth(custom);
    assert.deepEqual(health.json.config.subscriptions[0].mapping.customized_fields, [
      'context_kind',
      'user_key',
      'additional_context_keys',
      'event_name',
      'metric_value',
      'event_properties',
    ]);
  } finally {
    await custom.close();
  }
});

test('without a client-side ID the bridge refuses events with 503 and lists the problems', async () => {
  const unconfigured = await startBridge({ LD_EVENTS_HOST: 'ftp://nowhere' });
  try {
    const response = await unconfigured.post('/segment', purchase);
    assert.equal(response.status, 503);
    assert.equal(response.json.error.code, 'invalid_configuration');
    assert.deepEqual(
      response.json.problems.map((p) => p.location),
      ['LD_CLIENT_SIDE_ID', 'LD_EVENTS_HOST', 'sources'],
    );
    const health = await unconfigured.get('/health');
    assert.equal(health.status, 503);
    assert.equal(health.json.status, 'misconfigured');
    assert.equal(health.json.problems, 3, 'only the count without the admin token');
    assert.equal(ld.received.length, 0);
  } finally {
    await unconfigured.close();
  }
});

test('the live view and the admin routes are closed unless enabled', async () => {
  const closed = await bridge.get('/dev/recent');
  assert.equal(closed.status, 404);
  assert.equal(closed.json.error.code, 'admin_disabled');
  const admin = await bridge.get('/admin/dead-letters');
  assert.equal(admin.status, 404);
  const open = await startBridge(
    { LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID, LD_EVENTS_HOST: ld.baseUrl, ...UNSIGNED, DEV_MODE: 'true', ADMIN_TOKEN: 'tok-1' },
    { kvNamespaces: ['DEAD_LETTERS'] },
  );
  try {
    await open.post('/segment', purchase);
    const recent = await open.get('/dev/recent');
    assert.equal(recent.status, 200);
    assert.equal(recent.json.recent[0].path, '/segment');
    assert.equal(recent.json.recent[0].received.event, 'Order Completed');
    assert.equal(recent.json.recent[0].deliveries[0].result, 'delivered');
    const noToken = await open.get('/admin/dead-letters');
    assert.equal(noToken.status, 401);
    assert.equal(noToken.json.error.code, 'unauthorized');
    const wrong = await open.send('GET', '/admin/dead-letters', undefined, { authorization: 'Bearer tok-2' });
    assert.equal(wrong.status, 401);
    const right = await open.send('GET', '/admin/dead-letters', undefined, { authorization: 'Bearer tok-1' });
    assert.equal(right.status, 200);
    assert.equal(right.json.count, 0);
  } finally {
    await open.close();
  }
});

test('the answer to a batch of 2,500 events lists counts and only the outcomes that need attention', async () => {
  const events = Array.from({ length: 2500 }, (_, i) => ({
    type: 'track', event: 'Order Completed', userId: `u-${i}`, messageId: `big-${i}`,
    properties: { revenue: 1 },
  }));
  events[10] = { type: 'track', event: 'Orphan', messageId: 'big-10' };
  events[2499] = { type: 'page', name: 'Home', userId: 'u', messageId: 'big-2499' };
  const response = await bridge.post('/segment', { batch: events });
  assert.equal(response.status, 200, response.text.slice(0, 500));
  assert.equal(response.json.received, 2500);
  assert.equal(response.json.accepted, 2498);
  assert.equal(response.json.outcomes_listed, 'notable');
  assert.deepEqual(
    response.json.outcomes.map((o) => [o.index, o.reason]),
    [[10, 'missing_context_key'], [2499, 'not_a_track_event']],
  );
  assert.ok(response.text.length < 8_192, `${response.text.length} bytes`);
  const all = await bridge.post('/segment?outcomes=all', { batch: events });
  assert.equal(all.json.outcomes_listed, 'all');
  assert.equal(all.json.outcomes.length, 2500);
});

test('the built Worker wakes its Rust futures with promise reactions, not workerd\'s queueMicrotask', async () => {
  // scripts/patch-worker-glue.mjs, run by scripts/build-worker.sh: every request above ran on it.
  const fs = await import('node:fs');
  const glue = fs.readFileSync(new URL('../../build/index.js', import.meta.url), 'utf8');
  const imports = glue.match(/__wbg_queueMicrotask_[0-9a-f]+:function\(\w+\)\{[^}]*\}/g) ?? [];
  const calls = imports.filter((body) => !body.includes('return '));
  assert.equal(calls.length, 1, imports.join('\n'));
  assert.match(calls[0], /\{Promise\.resolve\(\)\.then\(\w+\)\}$/);
});

test('the built Worker\'s default export is the plain entry object, which makes the instance anew after a trap', async () => {
  // scripts/patch-worker-glue.mjs: every request, queue batch and Cron run of these tests goes through it.
  const fs = await import('node:fs');
  const glue = fs.readFileSync(new URL('../../build/index.js', import.meta.url), 'utf8');
  assert.match(glue, /export\{[^}]*\b__bridge_entry as default\}/);
  const entry = glue.match(/var __bridge_entry=\{([^;]*)\};/);
  assert.ok(entry, 'no __bridge_entry');
  for (const handler of ['fetch', 'queue', 'scheduled']) {
    assert.match(entry[1], new RegExp(`\\b${handler}\\(a,e,c\\)\\{return __bridge_call\\(`));
  }
  // Each call first makes the instance anew when an earlier one trapped, and records traps.
  const call = glue.match(/function __bridge_call\(h,a,e,c\)\{([\w$]+)\(\);.*?\}\}/);
  assert.ok(call, 'no __bridge_call');
  assert.match(glue, new RegExp(`function ${call[1].replace(/\$/g, '\\$')}\\(\\)\\{[\\w$]+\\.criticalError&&\\(console\\.log\\("Reinitializing`));
});

test('after a trap, thrown or in the returned promise, the plain entry makes the wasm instance anew before the next request', async () => {
  // A copy of the built glue whose wasm `fetch` traps on two marker paths (a Rust panic is a
  // `WebAssembly.RuntimeError`), and which answers /instance with worker-build's instance count.
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { root } = await import('../support/worker.mjs');
  const glue = fs.readFileSync(path.join(root, 'build/index.js'), 'utf8');
  const handler = glue.match(/fetch\(a,e,c\)\{return __bridge_call\(([\w$]+),a,e,c\)\}/)[1];
  const marker = `function ${handler}(`;
  assert.equal(glue.split(marker).length, 2, `one function ${handler}`);
  const copy = path.join(root, 'build/index.trap-test.js');
  fs.writeFileSync(
    copy,
    glue.replace(
      marker,
      `function ${handler}(r,...rest){const p=new URL(r.url).pathname;` +
        `if(p==="/trap")throw new WebAssembly.RuntimeError("simulated trap");` +
        `if(p==="/trap-async")return Promise.reject(new WebAssembly.RuntimeError("simulated trap"));` +
        `if(p==="/instance")return new Response(String(globalThis.__worker_init_state.instanceId));` +
        `return ${handler}_wasm(r,...rest)}function ${handler}_wasm(`,
    ),
  );
  const trapping = await startBridge(
    { LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID, LD_EVENTS_HOST: ld.baseUrl, ...UNSIGNED },
    { scriptPath: copy },
  );
  try {
    // worker-build's count goes up by 2 each time it makes the instance anew (its own glue does
    // the same: tried on the unpatched build).
    const instance = async () => Number((await trapping.get('/instance')).text);
    const first = await instance();
    assert.equal(await instance(), first, 'no trap, the same instance');
    assert.equal((await trapping.get('/trap')).status, 500);
    const second = await instance();
    assert.ok(second > first, 'made anew after a thrown trap');
    assert.equal(await instance(), second, 'once');
    assert.equal((await trapping.get('/trap-async')).status, 500);
    const third = await instance();
    assert.ok(third > second, 'made anew after a trap in the promise');
    assert.equal(await instance(), third, 'once');
    const answer = await trapping.post('/segment', purchase);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.accepted, 1);
  } finally {
    await trapping.close();
    fs.rmSync(copy, { force: true });
  }
});
