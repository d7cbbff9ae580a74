// End to end: one bridge in workerd serving two LaunchDarkly environments (two stand-ins on
// 127.0.0.1), configured by a BRIDGE_CONFIG document with sources and several subscriptions.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

let staging;
let production;
let bridge;

before(async () => {
  staging = await startStandIn();
  production = await startStandIn();
  bridge = await startBridge({
    BRIDGE_CONFIG: JSON.stringify({
      destinations: [
        { name: 'staging', client_side_id: 'env-staging', events_host: staging.baseUrl },
        {
          name: 'production',
          client_side_id: 'env-prod',
          events_host: production.baseUrl,
          metric_event_keys: ['Order Completed', 'big-order'],
        },
      ],
      subscriptions: [
        { name: 'Track Event' },
        {
          name: 'Big orders',
          trigger: 'type = "track" and event = "Order Completed" and properties.total > 100',
          mapping: { event_name: 'big-order', metric_value: { '@path': '$.properties.total' } },
          destinations: ['production'],
        },
      ],
      sources: [
        // Unsigned on purpose: this file is about routing (security.test.mjs signs).
        { name: 'web-staging', source_ids: ['web-staging'], destinations: ['staging'], allow_unsigned: true },
        { name: 'web', source_ids: ['web'], destinations: ['production'], allow_unsigned: true },
        { name: 'everything', source_ids: ['all'], destinations: ['staging', 'production'], allow_unsigned: true },
      ],
    }),
  });
});
after(async () => {
  await bridge?.close();
  await staging?.close();
  await production?.close();
});
beforeEach(() => {
  staging.reset();
  production.reset();
});

const order = (total, messageId) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'u-1',
  messageId,
  timestamp: '2024-01-01T00:00:00Z',
  properties: { total },
});

test('each source reaches its own environment', async () => {
  const toStaging = await bridge.post('/segment/web-staging', order(10, 'm-1'));
  assert.equal(toStaging.status, 200, toStaging.text);
  const toProduction = await bridge.post('/segment/web', order(10, 'm-2'));
  assert.equal(toProduction.status, 200, toProduction.text);
  assert.deepEqual(staging.received.map((r) => r.url), ['/events/bulk/env-staging']);
  assert.deepEqual(production.received.map((r) => r.url), ['/events/bulk/env-prod']);
  assert.equal(staging.received[0].json[0].key, 'Order Completed');
});

test('two destinations receive their own payloads from one request', async () => {
  const response = await bridge.post('/segment/all?outcomes=all', [order(150, 'm-3'), order(20, 'm-4')]);
  assert.equal(response.status, 200, response.text);
  assert.deepEqual(
    response.json.deliveries.map((d) => [d.destination, d.events, d.status]),
    [
      ['staging', 2, 202],
      ['production', 3, 202],
    ],
  );
  assert.deepEqual(
    staging.received[0].json.map((e) => e.key),
    ['Order Completed', 'Order Completed'],
  );
  assert.deepEqual(
    production.received[0].json.map((e) => [e.key, e.metricValue]),
    [
      ['Order Completed', undefined],
      ['big-order', 150],
      ['Order Completed', undefined],
    ],
  );
  assert.notEqual(
    staging.received[0].headers['x-launchdarkly-payload-id'],
    production.received[0].headers['x-launchdarkly-payload-id'],
  );
  assert.deepEqual(response.json.outcomes[0].subscriptions, ['Track Event', 'Big orders']);
  assert.deepEqual(response.json.outcomes[0].destinations, ['staging', 'production']);
});

test('a near miss of a metric key is reported; unknown sources are refused', async () => {
  const response = await bridge.post('/segment/web', { ...order(1, 'm-5'), event: 'order completed' });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.outcomes[0].warnings[0].code, 'event_key_near_miss');
  const unknown = await bridge.post('/segment/mobile', order(1, 'm-6'));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'unknown_source');
  const unnamed = await bridge.post('/segment', order(1, 'm-7'));
  assert.equal(unnamed.status, 400);
  assert.equal(unnamed.json.error.code, 'source_required');
});

test('an invalid configuration document makes the bridge refuse events with every problem', async () => {
  const broken = await startBridge({
    BRIDGE_CONFIG: JSON.stringify({
      destinations: [{ name: 'x', client_side_id: '' }],
      subscriptions: [{ name: 's', trigger: 'type = "track" and (' }],
    }),
  });
  try {
    const response = await broken.post('/segment', order(1, 'm-8'));
    assert.equal(response.status, 503);
    assert.deepEqual(
      response.json.problems.map((p) => p.location),
      ['BRIDGE_CONFIG.destinations[0].client_side_id', 'BRIDGE_CONFIG.subscriptions[0].trigger'],
    );
  } finally {
    await broken.close();
  }
});
