// End to end, in workerd: the Segment envelope. Events posted to the Tracking API (/v1/track,
// and through Segment's own @segment/analytics-node) with an `integrations` object that turns
// LaunchDarkly off are skipped and never reach the stand-in LaunchDarkly; a denied property
// never leaves the bridge; consent and sampling decide per destination and per user.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const WRITE_KEY = 'wk-envelope';
const basic = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;

let ld;
let bridge;

before(async () => {
  ld = await startStandIn();
  bridge = await startBridge({
    BRIDGE_CONFIG: JSON.stringify({
      destinations: [
        { name: 'production', client_side_id: 'env-prod', events_host: ld.baseUrl },
        {
          name: 'consented',
          client_side_id: 'env-consented',
          events_host: ld.baseUrl,
          integration_names: ['LaunchDarkly Consented'],
          required_consent: ['Analytics'],
          without_consent: 'skip',
        },
      ],
      subscriptions: [{ name: 'Track Event', deny_properties: ['email', 'address.street'] }],
      sources: [{ name: 'web', write_keys: [WRITE_KEY] }],
    }),
  });
});
after(async () => {
  await bridge?.close();
  await ld?.close();
});
beforeEach(() => ld.reset());

const order = (messageId, extra = {}) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'user-1',
  messageId,
  timestamp: '2024-01-01T00:00:00.000Z',
  properties: { revenue: 12.5, email: 'ann@example.com', plan: 'pro', address: { city: 'Paris', street: '1 rue X' } },
  ...extra,
});

test('{"integrations": {"LaunchDarkly": false}} on /v1/track: skipped, nothing delivered', async () => {
  const response = await bridge.post('/v1/track', order('m-off', { integrations: { LaunchDarkly: false } }), { authorization: basic });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.success, true);
  assert.equal(response.json.accepted, 0);
  assert.equal(response.json.skipped, 1);
  const [outcome] = response.json.outcomes;
  assert.equal(outcome.status, 'skipped');
  assert.equal(outcome.reason, 'disabled_by_integrations');
  assert.match(outcome.message, /not sent to "production": the event's integrations object turns "LaunchDarkly" off/);
  assert.match(outcome.message, /not sent to "consented": the event carries no consent preferences/);
  assert.deepEqual(response.json.deliveries, []);
  // Nothing was sent: give a stray delivery the time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(ld.received.length, 0);
});

test('a denied property never reaches LaunchDarkly', async () => {
  const response = await bridge.post('/v1/track', order('m-pii'), { authorization: basic });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.outcomes[0].reason, 'track_event');
  // Sent to production only: consented needs consent the event does not carry.
  assert.equal(response.json.outcomes[0].warnings[0].code, 'no_consent');
  assert.equal(ld.received.length, 1);
  const [sent] = ld.received;
  assert.equal(sent.url, '/events/bulk/env-prod');
  assert.ok(!sent.text.includes('ann@example.com'), sent.text);
  assert.ok(!sent.text.includes('1 rue X'), sent.text);
  assert.deepEqual(sent.json[0].data, { revenue: 12.5, plan: 'pro', address: { city: 'Paris' } });
  assert.equal(sent.json[0].metricValue, 12.5);
  assert.equal(sent.headers['x-launchdarkly-payload-id'], response.json.deliveries[0].payload_id);
});

test('consent and integrations decide per destination', async () => {
  const consented = order('m-consent', {
    integrations: { All: false, 'LaunchDarkly Consented': true },
    context: { consent: { categoryPreferences: { Analytics: true, Advertising: false } } },
  });
  const response = await bridge.post('/v1/track', consented, { authorization: basic });
  assert.equal(response.status, 200, response.text);
  const [outcome] = response.json.outcomes;
  assert.equal(outcome.status, 'accepted');
  assert.deepEqual(outcome.destinations, ['consented']);
  assert.deepEqual(outcome.warnings.map((w) => w.code), ['disabled_by_integrations']);
  assert.deepEqual(ld.received.map((r) => r.url), ['/events/bulk/env-consented']);
  assert.ok(!ld.received[0].text.includes('ann@example.com'));
});

test("Segment's own library: the integrations option keeps one call from LaunchDarkly", async () => {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host: bridge.url.origin, path: '/v1/batch', flushAt: 2, maxRetries: 0 });
  const errors = [];
  analytics.on('error', (error) => errors.push(error));
  analytics.track({ userId: 'user-2', event: 'Kept', properties: { revenue: 1, email: 'x@example.com' } });
  analytics.track({ userId: 'user-3', event: 'Opted Out', properties: { revenue: 2 }, integrations: { LaunchDarkly: false } });
  await analytics.closeAndFlush({ timeout: 10000 });
  assert.deepEqual(errors, []);
  assert.equal(ld.received.length, 1, 'one payload, for the kept call');
  assert.deepEqual(ld.received[0].json.map((e) => e.key), ['Kept']);
  assert.deepEqual(ld.received[0].json[0].data, { revenue: 1 });
});
