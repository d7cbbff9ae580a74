// End to end, in workerd: the Worker keeps its metric catalogue current by itself. With
// LD_API_TOKEN and LD_PROJECT_KEY, its Cron Trigger (the scheduled handler, fired here through
// Miniflare) reads the project's environments and metrics from a stand-in of LaunchDarkly's REST
// API, every page, and keeps them in KV; requests judge event keys by it; a failed refresh keeps
// the last good copy and /health (admin) says why; the token never appears in logs or answers.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import readline from 'node:readline';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startRestStandIn } from '../support/launchdarkly-rest-standin.mjs';
import { startBridge } from '../support/worker.mjs';

const TOKEN = 'api-cron-token-5e1b9d27c4a8f0';
const ADMIN_TOKEN = 'admin-token-cron-3';
const CRON = '*/15 * * * *';

let api; // LaunchDarkly's REST API
let ld; // LaunchDarkly's events host
let bridge; // refresh on, the simple configuration (one destination: production)
let lines = []; // every line workerd printed, for every bridge of this file

before(async () => {
  api = await startRestStandIn({ token: TOKEN, project: 'default' });
  ld = await startStandIn();
  bridge = await start();
});
after(async () => {
  await bridge?.close();
  await api?.close();
  await ld?.close();
});
beforeEach(() => {
  api.reset();
  ld.reset();
});

/** A bridge with the refresh on (`vars` over the defaults; `undefined` removes one), its logs captured. */
function start(vars = {}, options = {}) {
  const capture = (stream) => readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const bindings = {
    LD_CLIENT_SIDE_ID: 'env-production-cron',
    LD_EVENTS_HOST: ld.baseUrl,
    SEGMENT_ALLOW_UNSIGNED: 'true',
    ADMIN_TOKEN,
    LD_API_TOKEN: TOKEN,
    LD_PROJECT_KEY: 'default',
    LD_API_BASE: api.baseUrl,
    ...vars,
  };
  return startBridge(
    // `undefined` leaves a default out.
    Object.fromEntries(Object.entries(bindings).filter(([, value]) => value !== undefined)),
    {
      kvNamespaces: ['DEAD_LETTERS'],
      handleRuntimeStdio(stdout, stderr) {
        capture(stdout);
        capture(stderr);
      },
      ...options,
    },
  );
}

/** Fires the Cron Trigger, as Cloudflare would. */
async function scheduled(target = bridge) {
  const worker = await target.mf.getWorker();
  return worker.scheduled({ cron: CRON });
}

/** The record the refresh keeps in KV, or null. */
async function stored(target = bridge, binding = 'DEAD_LETTERS') {
  const kv = await target.mf.getKVNamespace(binding);
  const text = await kv.get('catalogue:default');
  return text === null ? null : JSON.parse(text);
}

const adminHealth = (target = bridge) => target.send('GET', '/health', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });

let sequence = 0;
/** Posts one track event with key `event`; answers with every outcome. */
function track(event, target = bridge, path = '/segment', properties = { revenue: 5 }) {
  sequence += 1;
  return target.post(`${path}?outcomes=all`, {
    type: 'track',
    event,
    userId: 'user-cron',
    messageId: `m-cron-${sequence}`,
    properties,
  });
}

/** The JSON log lines workerd printed (after its output has arrived). */
async function logLines() {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return lines.flatMap((line) => {
    const start = line.indexOf('{');
    try {
      return start < 0 ? [] : [JSON.parse(line.slice(start))];
    } catch {
      return [];
    }
  });
}

const codes = (outcome) => (outcome.warnings ?? []).map((warning) => warning.code);

test('before the first refresh, events are judged by nothing, as without the feature', async () => {
  const answer = await track('Anything At All');
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json.outcomes[0].status, 'accepted');
  assert.deepEqual(codes(answer.json.outcomes[0]), []);
  assert.equal(ld.received.length, 1);
  const health = await adminHealth();
  assert.equal(health.json.catalogue_refresh.state, 'not_yet_refreshed');
  assert.equal(health.json.catalogue_refresh.refreshed_at, null);
  assert.equal(health.json.config.destinations[0].metric_event_keys, null);
});

test('the Cron Trigger stores the project\'s catalogue, every page, with when and from where', async () => {
  const result = await scheduled();
  assert.equal(result.outcome, 'ok');
  // Environments (3 on 2 pages) and metrics (5 on 3 pages), each next link followed.
  assert.deepEqual(
    api.requests.map((request) => request.url),
    [
      '/api/v2/projects/default/environments',
      '/api/v2/projects/default/environments?limit=2&offset=2',
      '/api/v2/metrics/default',
      '/api/v2/metrics/default?limit=2&offset=2',
      '/api/v2/metrics/default?limit=2&offset=4',
    ],
  );
  for (const request of api.requests) {
    assert.equal(request.authorization, TOKEN, 'Authorization: <token>, without Bearer');
    assert.equal(request.headers.accept, 'application/json');
    assert.match(request.headers['user-agent'], /^segment-ld-bridge\//);
  }
  const record = await stored();
  assert.equal(record.v, 1);
  assert.equal(record.project, 'default');
  assert.equal(record.api_base, api.baseUrl);
  assert.equal(record.last_error, undefined);
  assert.match(record.catalogue.fetched_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(record.last_attempt_at, record.catalogue.fetched_at);
  assert.deepEqual(record.catalogue.environments, [
    { key: 'production', client_side_id: 'env-production-cron' },
    { key: 'test', client_side_id: 'env-test-cron' },
    { key: 'staging', client_side_id: 'env-staging-cron' },
  ]);
  assert.deepEqual(
    record.catalogue.metrics.map((metric) => [metric.key, metric.event_key, metric.numeric, metric.randomization_units]),
    [
      ['revenue', 'Order Completed', true, ['user']],
      ['orders', 'Order Completed', false, ['user', 'organization']],
      ['signups', 'Signed Up', false, ['user']],
    ],
  );
  assert.deepEqual(record.catalogue.left_out, [
    { key: 'home-visits', kind: 'pageview' },
    { key: 'cta-clicks', kind: 'click' },
  ]);
  const text = JSON.stringify(record);
  for (const secret of [TOKEN, 'sdk-server-secret', 'mob-secret']) {
    assert.ok(!text.includes(secret), `the record holds no ${secret}`);
  }
});

test('requests then judge event keys by it: unknown keys and near misses are reported, and still sent', async () => {
  const known = await track('Order Completed');
  assert.equal(known.json.outcomes[0].status, 'accepted');
  assert.deepEqual(codes(known.json.outcomes[0]), []);
  const unknown = await track('Checkout Started');
  assert.equal(unknown.json.outcomes[0].status, 'accepted');
  assert.deepEqual(codes(unknown.json.outcomes[0]), ['unknown_event_key']);
  const near = await track('signed up');
  assert.deepEqual(codes(near.json.outcomes[0]), ['event_key_near_miss']);
  assert.match(near.json.outcomes[0].warnings[0].message, /"Signed Up"/);
  // The metrics' definitions came with it: a numeric metric without a value is reported.
  const valueless = await track('Order Completed', bridge, '/segment', {});
  assert.deepEqual(codes(valueless.json.outcomes[0]), ['numeric_metric_without_value']);
  assert.match(valueless.json.outcomes[0].warnings[0].message, /revenue/);
  // unknown_event_keys is "send" by default: all four reached LaunchDarkly.
  assert.deepEqual(
    ld.received.map((request) => request.json[0].key),
    ['Order Completed', 'Checkout Started', 'signed up', 'Order Completed'],
  );
});

test('/health with the admin token says when, from where and how many; public /health is unchanged', async () => {
  const health = await adminHealth();
  assert.equal(health.status, 200);
  const refresh = health.json.catalogue_refresh;
  const record = await stored();
  assert.deepEqual(refresh, {
    state: 'ok',
    project: 'default',
    api_base: api.baseUrl,
    refreshed_at: record.catalogue.fetched_at,
    metrics: 3,
    event_keys: 2,
    metrics_left_out: 2,
    environments: 3,
    last_attempt_at: record.last_attempt_at,
    applies_to: 'destinations_without_catalogue',
    unknown_event_keys: 'send',
    destinations: [{ destination: 'default', environment: 'production' }],
    kept_their_own: [],
    not_in_project: [],
  });
  assert.equal(health.json.config.destinations[0].metric_event_keys, 2);
  assert.equal(health.json.config.destinations[0].metrics, 3);
  assert.deepEqual(health.json.config.destinations[0].catalogue_source, {
    project: 'default',
    environment: 'production',
    api_base: api.baseUrl,
    pulled_at: record.catalogue.fetched_at,
  });
  const open = await bridge.get('/health');
  assert.deepEqual(Object.keys(open.json), ['status', 'name', 'version', 'dev_mode']);
  const wrong = await bridge.send('GET', '/health', undefined, { authorization: 'Bearer wrong' });
  assert.equal(wrong.json.catalogue_refresh, undefined);
});

for (const [status, headers, expected, level] of [
  [401, {}, /refused the access token \(401 unauthorized\)/, 'error'],
  [429, { 'x-ratelimit-reset': String(Date.now() + 30_000) }, /rate limit was reached \(429\).*it resets at/, 'warn'],
  [500, {}, /LaunchDarkly failed \(500\)/, 'warn'],
]) {
  test(`a refresh answered ${status} keeps the last good copy, and /health (admin) shows why`, async () => {
    const before = await stored();
    api.respondWith(() => ({
      status,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ code: 'x', message: `echoing ${TOKEN}` }),
    }));
    lines = [];
    assert.equal((await scheduled()).outcome, 'ok');
    const after = await stored();
    assert.deepEqual(after.catalogue, before.catalogue, 'the good copy stays');
    assert.match(after.last_error, expected);
    const refresh = (await adminHealth()).json.catalogue_refresh;
    assert.equal(refresh.state, 'failing');
    assert.equal(refresh.refreshed_at, before.catalogue.fetched_at);
    assert.equal(refresh.metrics, 3);
    assert.match(refresh.last_error, expected);
    const [line] = (await logLines()).filter((logged) => logged.log === 'catalogue_refresh');
    assert.equal(line.result, 'failed');
    assert.equal(line.level, level);
    assert.match(line.error, expected);
    assert.equal(line.kept_catalogue_of, before.catalogue.fetched_at);
    assert.equal(line.stored, true);
    // The catalogue is still in use.
    const unknown = await track('Checkout Started');
    assert.deepEqual(codes(unknown.json.outcomes[0]), ['unknown_event_key']);
  });
}

test('a refresh that fails on a later page keeps the last good copy whole', async () => {
  const before = await stored();
  api.metrics = [...api.metrics, { key: 'trials', kind: 'custom', eventKey: 'Trial Started' }];
  api.respondWith((record) => (record.url.includes('metrics') && record.url.includes('offset=4') ? { status: 503 } : undefined));
  await scheduled();
  const after = await stored();
  assert.deepEqual(after.catalogue, before.catalogue);
  assert.match(after.last_error, /LaunchDarkly failed \(503\) reading the metrics of project "default"/);
});

test('a next link to another host is not followed, so the token goes nowhere else', async () => {
  api.respondWith((record) =>
    record.url === '/api/v2/metrics/default'
      ? {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: [], _links: { next: { href: 'http://127.0.0.2:9/api/v2/metrics/default?offset=2' } } }),
        }
      : undefined,
  );
  await scheduled();
  assert.ok(api.requests.every((request) => !request.url.includes('127.0.0.2')));
  assert.match((await stored()).last_error, /outside http:\/\/127\.0\.0\.1:\d+: not followed/);
});

test('a refresh reads at most 40 pages in all (a Worker\'s subrequests are limited), and keeps the last good copy', async () => {
  const before = await stored();
  // Environments on 2 pages, then 80 metrics on 40 more.
  api.metrics = Array.from({ length: 80 }, (_, i) => ({ key: `m${i}`, kind: 'custom', eventKey: `E${i}` }));
  await scheduled();
  assert.equal(api.requests.length, 40);
  assert.equal(api.requests.at(-1).url, '/api/v2/metrics/default?limit=2&offset=74');
  const after = await stored();
  assert.deepEqual(after.catalogue, before.catalogue);
  assert.match(after.last_error, /reading the metrics of project "default": more than 40 pages in all/);
});

test('a refresh that succeeds again replaces the copy and clears the error', async () => {
  api.metrics = [...api.metrics, { key: 'trials', name: 'Trials', kind: 'custom', eventKey: 'Trial Started' }];
  await scheduled();
  const record = await stored();
  assert.equal(record.last_error, undefined);
  assert.deepEqual(record.catalogue.metrics.map((metric) => metric.key), ['revenue', 'orders', 'signups', 'trials']);
  // This isolate uses it at once (a conversion metric: the value is ignored).
  const trial = await track('Trial Started');
  assert.deepEqual(codes(trial.json.outcomes[0]), ['metric_value_ignored']);
  const counted = await track('Trial Started', bridge, '/segment', {});
  assert.deepEqual(codes(counted.json.outcomes[0]), []);
  assert.equal((await adminHealth()).json.catalogue_refresh.state, 'ok');
});

test('the token never appears in logs or answers', async () => {
  api.respondWith(() => ({ status: 401, body: JSON.stringify({ code: 'unauthorized', message: TOKEN }) }));
  await scheduled();
  api.respondWith(() => undefined);
  await scheduled();
  const answers = [await adminHealth(), await bridge.get('/health'), await track('Order Completed')];
  for (const answer of answers) {
    assert.ok(!answer.text.includes(TOKEN), answer.text);
  }
  const logged = await logLines();
  assert.ok(logged.some((line) => line.log === 'catalogue_refresh'), 'the refreshes were logged');
  for (const line of lines) {
    assert.ok(!line.includes(TOKEN), `a log line holds the token: ${line}`);
  }
});

test('with unknown_event_keys "drop", events no metric would count are not sent; other projects\' destinations are left alone', async () => {
  const dropping = await start({
    LD_CLIENT_SIDE_ID: undefined,
    LD_EVENTS_HOST: undefined,
    SEGMENT_ALLOW_UNSIGNED: undefined,
    LD_CATALOGUE_UNKNOWN_EVENT_KEYS: 'drop',
    BRIDGE_CONFIG: JSON.stringify({
      destinations: [
        { name: 'production', client_side_id: 'env-production-cron', events_host: ld.baseUrl },
        { name: 'test', client_side_id: 'env-test-cron', events_host: ld.baseUrl, metric_event_keys: ['Checkout Started'] },
        { name: 'other-project', client_side_id: 'env-of-another-project', events_host: ld.baseUrl },
      ],
      sources: [{ name: 'local', source_ids: ['local'], allow_unsigned: true }],
    }),
  });
  try {
    await scheduled(dropping);
    const unknown = await track('Checkout Started', dropping, '/segment/local');
    assert.equal(unknown.status, 200, unknown.text);
    const outcome = unknown.json.outcomes[0];
    // production (refreshed catalogue, drop): not sent; test (its own list): sent;
    // other-project (not in the project): sent, unjudged.
    assert.deepEqual(outcome.destinations, ['test', 'other-project']);
    assert.deepEqual(codes(outcome), ['unknown_event_key']);
    assert.match(outcome.warnings[0].message, /"production"/);
    const sentTo = ld.received.map((request) => request.url.split('/').pop()).sort();
    assert.deepEqual(sentTo, ['env-of-another-project', 'env-test-cron']);
    ld.reset();
    // An event only the refreshed catalogue does not know, at its only destination: skipped.
    const onlyProduction = await track('Nobody Counts This', dropping, '/segment/local');
    assert.equal(onlyProduction.json.outcomes[0].destinations.includes('production'), false);
    assert.ok(ld.received.every((request) => !request.url.endsWith('/env-production-cron')));
    const refresh = (await adminHealth(dropping)).json.catalogue_refresh;
    assert.equal(refresh.unknown_event_keys, 'drop');
    assert.deepEqual(refresh.destinations, [{ destination: 'production', environment: 'production' }]);
    assert.deepEqual(refresh.kept_their_own, ['test']);
    assert.deepEqual(refresh.not_in_project, ['other-project']);
  } finally {
    await dropping.close();
  }
});

test('an event whose key no metric uses is skipped when dropped at its only destination', async () => {
  const dropping = await start({ LD_CATALOGUE_UNKNOWN_EVENT_KEYS: 'drop' });
  try {
    await scheduled(dropping);
    const answer = await track('Checkout Started', dropping);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.outcomes[0].status, 'skipped');
    assert.equal(answer.json.outcomes[0].reason, 'unknown_event_key');
    const counted = await track('Order Completed', dropping);
    assert.equal(counted.json.outcomes[0].status, 'accepted');
    assert.deepEqual(
      ld.received.map((request) => request.json.map((event) => event.key)),
      [['Order Completed']],
    );
  } finally {
    await dropping.close();
  }
});

test('another isolate reads the stored copy from KV, at most once a minute', async () => {
  const record = await stored();
  const reader = await start({ LD_API_BASE: api.baseUrl }, { kvNamespaces: ['CATALOGUE'] });
  try {
    const kv = await reader.mf.getKVNamespace('CATALOGUE');
    await kv.put('catalogue:default', JSON.stringify(record));
    const unknown = await track('Checkout Started', reader);
    assert.deepEqual(codes(unknown.json.outcomes[0]), ['unknown_event_key'], 'read from KV, without a refresh here');
    assert.equal(api.requests.length, 0, 'no refresh ran in this Worker');
    // A change in KV is not read on every request.
    const changed = structuredClone(record);
    changed.catalogue.metrics.push({ ...changed.catalogue.metrics[0], key: 'checkouts', event_key: 'Checkout Started' });
    await kv.put('catalogue:default', JSON.stringify(changed));
    const again = await track('Checkout Started', reader);
    assert.deepEqual(codes(again.json.outcomes[0]), ['unknown_event_key'], 'still the copy read a moment ago');
    // The admin's /health reads KV at once (and the isolate's copy with it).
    assert.equal((await adminHealth(reader)).json.catalogue_refresh.metrics, record.catalogue.metrics.length + 1);
    const now = await track('Checkout Started', reader);
    assert.deepEqual(codes(now.json.outcomes[0]), []);
  } finally {
    await reader.close();
  }
});

test('without LD_API_TOKEN the Cron Trigger does nothing and /health shows no refresh', async () => {
  const off = await start({ LD_API_TOKEN: undefined });
  try {
    lines = [];
    assert.equal((await scheduled(off)).outcome, 'ok');
    assert.equal(api.requests.length, 0);
    assert.equal(await stored(off), null);
    const health = await adminHealth(off);
    assert.equal(health.status, 200);
    assert.equal(health.json.catalogue_refresh, undefined);
    const answer = await track('Checkout Started', off);
    assert.deepEqual(codes(answer.json.outcomes[0]), []);
    const [line] = (await logLines()).filter((logged) => logged.log === 'catalogue_refresh');
    assert.equal(line.result, 'off');
  } finally {
    await off.close();
  }
});

test('with LD_API_TOKEN but bad settings, events still flow and /health (admin) lists the problems', async () => {
  const invalid = await start({ LD_PROJECT_KEY: undefined, LD_API_TOKEN: 'sdk-looks-like-an-sdk-key' });
  try {
    assert.equal((await scheduled(invalid)).outcome, 'ok');
    assert.equal(api.requests.length, 0);
    const refresh = (await adminHealth(invalid)).json.catalogue_refresh;
    assert.equal(refresh.state, 'invalid_settings');
    assert.deepEqual(
      refresh.problems.map((problem) => problem.location),
      ['LD_API_TOKEN', 'LD_PROJECT_KEY'],
    );
    assert.ok(!JSON.stringify(refresh).includes('sdk-looks-like'));
    const answer = await track('Order Completed', invalid);
    assert.equal(answer.json.outcomes[0].status, 'accepted');
  } finally {
    await invalid.close();
  }
});
