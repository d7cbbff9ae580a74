// Durable mode with Segment's largest requests, in workerd: a Cloudflare queue message holds at
// most 128 KB, so the bridge cuts what it queues into messages of at most 120,000 bytes (each a
// piece of the payload with its own derived payload id). Every event must reach the LaunchDarkly
// stand-in exactly once, and the request be answered 200. Then the dead-letter store: letters
// expire (DEAD_LETTER_TTL_DAYS), are keyed by payload id and destination, and are listed,
// deleted and replayed page by page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const ADMIN_TOKEN = 'admin-token-for-tests';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let ld;

before(async () => {
  ld = await startStandIn();
});
after(async () => {
  await ld?.close();
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

/**
 * `count` track events tagged `tag` whose JSON array is close to `bytes` (at most), padded with
 * `padChar` (a quote costs 2 bytes in the request, and 4 in the queued message's JSON).
 */
function batchOf(tag, count, bytes, padChar = 'x', name = 'Order Completed') {
  const event = (i, pad) => ({
    type: 'track',
    event: name,
    userId: `u-${i}`,
    messageId: `${tag}:${i}`,
    properties: { tag, seq: i, pad },
  });
  const bare = JSON.stringify(Array.from({ length: count }, (_, i) => event(i, ''))).length;
  const padCost = JSON.stringify(padChar).length - 2;
  const pad = padChar.repeat(Math.max(0, Math.floor((bytes - bare) / count / padCost)));
  return Array.from({ length: count }, (_, i) => event(i, pad));
}

/** How often the stand-in was sent each event of `tag` (answered 2xx), by seq. */
function deliveries(tag) {
  const seen = new Map();
  for (const record of ld.received) {
    if (record.status !== 202) continue;
    for (const event of record.json ?? []) {
      if (event.data?.tag === tag) seen.set(event.data.seq, (seen.get(event.data.seq) ?? 0) + 1);
    }
  }
  return seen;
}

// The quote-heavy batch makes payloads whose queued JSON is about 1.5 times their size (every
// quote escaped), well over a queue message: they are cut into pieces that fit (Miniflare
// refuses a message over 128 KB).
for (const [name, count, bytes, padChar, eventName] of [
  ['500 KB of 2,500 small track events', 2500, 500 * 1000],
  ['500 KB of 2,500 small track events with quote-heavy properties', 2500, 500 * 1000, '"', 'E'],
  ['248 KB of 450 track events', 450, 248 * 1000],
]) {
  test(`durable mode delivers ${name} exactly once`, async () => {
    ld.reset();
    const bridge = await startBridge(
      { LD_CLIENT_SIDE_ID: 'env-large', LD_EVENTS_HOST: ld.baseUrl, SEGMENT_ALLOW_UNSIGNED: 'true', DELIVERY_RETRY_DELAYS: '1,1,1' },
      durableOptions,
    );
    try {
      const tag = `large-${count}-${padChar ? 'quotes' : 'plain'}`;
      const events = batchOf(tag, count, bytes, padChar, eventName);
      const body = JSON.stringify(events);
      assert.ok(body.length <= 500 * 1024 && body.length > bytes * 0.95, `request of ${body.length} bytes`);
      const response = await bridge.post('/segment', body);
      assert.equal(response.status, 200, JSON.stringify(response.json?.deliveries?.filter((d) => d.result !== 'queued')) ?? response.text);
      assert.equal(response.json.accepted, count);
      assert.ok(response.json.deliveries.every((d) => d.result === 'queued'));
      const deadline = Date.now() + 60000;
      let seen = deliveries(tag);
      while (seen.size < count && Date.now() < deadline) {
        await sleep(250);
        seen = deliveries(tag);
      }
      await sleep(500); // anything sent twice would show now
      seen = deliveries(tag);
      const duplicates = [...seen.values()].filter((n) => n > 1).length;
      const payloadIds = new Set(ld.received.map((r) => r.headers['x-launchdarkly-payload-id']));
      if (padChar === '"') {
        assert.ok(ld.received.length > response.json.deliveries.length, 'the payloads are cut to fit queue messages');
      }
      console.log(
        `${name}: request ${body.length} bytes, ${response.json.deliveries.length} payloads queued, ` +
          `${ld.received.length} LaunchDarkly requests (${payloadIds.size} payload ids), ` +
          `largest ${Math.max(...ld.received.map((r) => r.text.length))} bytes, ${seen.size} events, ${duplicates} duplicates`,
      );
      assert.equal(seen.size, count, 'every event is delivered');
      assert.equal(duplicates, 0, 'no event is delivered twice');
      assert.equal(payloadIds.size, ld.received.length, 'each piece has its own payload id');
      const letters = await bridge.send('GET', '/admin/dead-letters', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
      assert.notEqual(letters.status, 200, 'no admin token: the store is closed');
    } finally {
      await bridge.close();
    }
  });
}

test('a retried request is cut into the same pieces with the same payload ids', async () => {
  ld.reset();
  const bridge = await startBridge(
    { LD_CLIENT_SIDE_ID: 'env-large', LD_EVENTS_HOST: ld.baseUrl, SEGMENT_ALLOW_UNSIGNED: 'true' },
    durableOptions,
  );
  try {
    // A timestamp on each event, so that both requests carry the same creation dates.
    const events = batchOf('again', 450, 232 * 1000).map((e) => ({ ...e, timestamp: '2024-01-01T00:00:00Z' }));
    const body = JSON.stringify(events);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      assert.equal((await bridge.post('/segment', body)).status, 200);
    }
    const deadline = Date.now() + 60000;
    while (deliveries('again').size < 450 && Date.now() < deadline) await sleep(250);
    await sleep(1000);
    const byId = new Map();
    for (const record of ld.received) {
      const id = record.headers['x-launchdarkly-payload-id'];
      byId.set(id, [...(byId.get(id) ?? []), record.text]);
    }
    assert.ok(byId.size > 1, 'the payload was cut');
    for (const [id, bodies] of byId) {
      assert.equal(bodies.length, 2, `piece ${id} was sent once per request`);
      assert.equal(bodies[0], bodies[1], `piece ${id} is the same each time`);
    }
  } finally {
    await bridge.close();
  }
});

test('dead letters expire, are keyed by payload id and destination, and page', async () => {
  ld.reset();
  ld.respondWith(() => ({ status: 403 }));
  const config = {
    destinations: [
      { name: 'a', client_side_id: 'env-shared', events_host: ld.baseUrl },
      { name: 'b', client_side_id: 'env-shared', events_host: ld.baseUrl },
    ],
    sources: [{ name: 's', source_ids: ['s'], destinations: ['a', 'b'], allow_unsigned: true }],
  };
  const bridge = await startBridge(
    { BRIDGE_CONFIG: JSON.stringify(config), ADMIN_TOKEN, DEAD_LETTER_TTL_DAYS: '2' },
    { kvNamespaces: ['DEAD_LETTERS'] },
  );
  const admin = (method, path) =>
    bridge.send(method, path, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
  try {
    const startedS = Date.now() / 1000;
    for (let r = 0; r < 4; r += 1) {
      const response = await bridge.post('/segment/s', [
        { type: 'track', event: 'Order Completed', userId: `u-${r}`, messageId: `dl:${r}`, properties: { tag: 'dl', seq: r } },
      ]);
      assert.equal(response.status, 200);
      assert.equal(response.json.dead_lettered, 2, 'one letter per destination');
    }
    // The same payload id for both destinations (same client-side ID): two keys, no collision.
    const kv = await bridge.mf.getKVNamespace('DEAD_LETTERS');
    const { keys } = await kv.list({ prefix: 'dead-letter:' });
    assert.equal(keys.length, 8);
    for (const key of keys) {
      assert.match(key.name, /^dead-letter:[0-9a-f-]{36}:(a|b)$/);
      assert.ok(Math.abs(key.expiration - (startedS + 2 * 86400)) < 120, `expires in 2 days (${key.expiration})`);
    }

    // Listing, 3 by 3.
    const listed = [];
    let cursor = null;
    let pages = 0;
    do {
      const page = await admin('GET', `/admin/dead-letters?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.json.dead_letters.length <= 3);
      assert.equal(page.json.list_complete, page.json.cursor === null);
      listed.push(...page.json.dead_letters);
      cursor = page.json.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.equal(new Set(listed.map((l) => `${l.payload.payload_id}:${l.payload.destination}`)).size, 8);
    assert.ok(listed.every((l) => l.reason.code === 'launchdarkly_configuration_error'));
    assert.equal((await admin('GET', '/admin/dead-letters?limit=zero')).status, 400);
    const all = await admin('GET', '/admin/dead-letters');
    assert.equal(all.json.count, 8);
    assert.equal(all.json.list_complete, true);

    // Deleting a payload id deletes its letters for every destination.
    const victim = listed[0].payload.payload_id;
    const deleted = await admin('DELETE', `/admin/dead-letters/${victim}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.json.letters, 2);
    assert.equal((await admin('DELETE', `/admin/dead-letters/${victim}`)).status, 404);

    // Replaying all, one page of 4 per request, following the cursor.
    ld.reset();
    let replayed = 0;
    cursor = null;
    pages = 0;
    do {
      const page = await admin('POST', `/admin/dead-letters/replay?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.json.replayed.every((entry) => entry.result === 'delivered'), page.text);
      replayed += page.json.replayed.length;
      cursor = page.json.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(replayed, 6);
    assert.equal(pages, 2);
    assert.equal(ld.received.length, 6);
    assert.equal((await admin('GET', '/admin/dead-letters')).json.count, 0);

    // A letter kept under the key of earlier versions (`dead-letter:{payload_id}`) is listed and
    // deleted by its payload id.
    const payload = { v: 1, destination: 'a', payload_id: 'legacy-id', body: '[]', events: 0, attempts: 1, queued_at: 1 };
    await kv.put('dead-letter:legacy-id', JSON.stringify({ payload, reason: { code: 'x', message: 'y' }, dead_lettered_at: 1 }));
    assert.equal((await admin('GET', '/admin/dead-letters')).json.dead_letters[0].payload.payload_id, 'legacy-id');
    assert.equal((await admin('DELETE', '/admin/dead-letters/legacy-id')).json.letters, 1);
    assert.equal((await admin('GET', '/admin/dead-letters')).json.count, 0);
  } finally {
    await bridge.close();
  }
});
