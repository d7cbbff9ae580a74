// The mapping playground in a real browser: Debian's Chromium, driven by playwright-core, opens
// the page the Worker serves (Workers static assets, in workerd through Miniflare), checks that
// every module of www/ loads without a console error, picks a sample, edits the event and a
// mapping field, and checks the rendered request, a rejection, a near-miss warning, errors shown
// next to their cause, import and export. The exported configuration then configures a second
// bridge, and what that bridge really sends to a stand-in LaunchDarkly must be exactly the
// request the page predicted.
// Needs www/pkg (scripts/build-playground.sh) and build/ (scripts/build-worker.sh).
// Saves docs/playground.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startBridge, root } from '../support/worker.mjs';
import { startStandIn } from '../support/launchdarkly-standin.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SCREENSHOT = path.join(root, 'docs/playground.png');
const ADMIN_TOKEN = 'playground-admin-token';
const SOURCES = [{ name: 'local', destinations: ['production'], default: true, allow_unsigned: true }];

let bridge;
let launchDarkly;
let context;
let page;
let userDataDir;
const pageErrors = [];

const field = (name, subscription = 0) => page.locator(`textarea[data-location="subscriptions[${subscription}].mapping.${name}"]`);
const body = () => page.locator('[data-test="body"]').first();
const bodyJson = async () => JSON.parse(await body().innerText());
const slot = (location) => page.locator(`[data-problems="${location}"]`);

/** Waits until the rendered request body satisfies `check` (the page re-runs as you type). */
async function waitForBody(check, message, locator = body()) {
  let last;
  for (let i = 0; i < 100; i += 1) {
    try {
      last = JSON.parse(await locator.innerText({ timeout: 200 }));
      if (check(last)) return last;
    } catch {
      // No request rendered yet.
    }
    await page.waitForTimeout(50);
  }
  assert.fail(`${message}; last body: ${JSON.stringify(last)}`);
}

before(async () => {
  if (!fs.existsSync(path.join(root, 'www/pkg/segment_ld_bridge_bg.wasm'))) {
    throw new Error('www/pkg is missing: run scripts/build-playground.sh first');
  }
  launchDarkly = await startStandIn();
  bridge = await startBridge({
    LD_CLIENT_SIDE_ID: 'served-by-the-bridge',
    LD_EVENTS_HOST: launchDarkly.baseUrl,
    SEGMENT_ALLOW_UNSIGNED: 'true', // the live view test posts an unsigned webhook, as in local development
    DEV_MODE: 'true',
    ADMIN_TOKEN,
  });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1600, height: 1000 },
    colorScheme: 'light',
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()} (${message.location().url})`);
  });
  await page.goto(new URL('/', bridge.url).href);
  // A module that fails to load stops the page before it says it is ready: say why.
  await page.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout: 20_000 }).catch((error) => {
    throw new Error(`the playground never got ready (${error.message}); ${pageErrors.join('; ') || 'no error in the console'}`);
  });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.ready), 'true', await page.locator('#result').innerText());
});

after(async () => {
  await context?.close();
  await bridge?.close();
  await launchDarkly?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

test('the Worker serves the playground at / and keeps its own routes', async () => {
  const home = await bridge.get('/');
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type'), /text\/html/);
  assert.match(home.text, /segment-ld-bridge playground/);
  const wasm = await bridge.mf.dispatchFetch(new URL('/pkg/segment_ld_bridge_bg.wasm', bridge.url));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  await wasm.arrayBuffer();
  const health = await bridge.send('GET', '/health', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.equal(health.status, 200);
  assert.match(health.text, /served-by-the-bridge/);
  assert.doesNotMatch((await bridge.get('/health')).text, /served-by-the-bridge/, 'the summary only with the admin token');
  assert.equal((await bridge.get('/segment')).status, 405);
  assert.equal(await page.title(), 'segment-ld-bridge playground');
});

test('a fresh page loads every module of www/ without a console error', async () => {
  // Its own tab, before any edit: it reads and saves the same state as the page the tests drive.
  const fresh = await context.newPage();
  const errors = [];
  const scripts = new Map();
  fresh.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  fresh.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  fresh.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  fresh.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()}: ${response.url()}`);
    const { pathname } = new URL(response.url());
    if (pathname.endsWith('.js')) scripts.set(pathname, response.headers()['content-type']);
  });
  try {
    await fresh.goto(new URL('/', bridge.url).href);
    await fresh.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout: 20_000 });
    assert.equal(await fresh.evaluate(() => document.documentElement.dataset.ready), 'true');
    await fresh.locator('[data-test="request"]').first().waitFor({ timeout: 3000 });
    assert.deepEqual(errors, []);
    // Every JavaScript file of www/ is a module the page loads (none left behind by a split).
    const modules = fs.readdirSync(path.join(root, 'www')).filter((f) => f.endsWith('.js')).map((f) => `/${f}`);
    assert.deepEqual([...scripts.keys()].filter((p) => !p.startsWith('/pkg/')).sort(), modules.sort());
    assert.ok(scripts.has('/pkg/segment_ld_bridge.js'));
    for (const [pathname, type] of scripts) assert.match(type ?? '', /javascript/, pathname);
  } finally {
    await fresh.close();
  }
});

test('a sample shows the exact LaunchDarkly request and where each value came from', async () => {
  await page.fill('[data-location="destinations[0].client_side_id"]', 'env-123');
  await page.click('[data-sample="purchase"]');
  const sent = await waitForBody((b) => b[0]?.key === 'Order Completed' && b[0]?.metricValue === 39.95, 'the purchase sample');
  assert.deepEqual(sent, [{
    kind: 'custom',
    key: 'Order Completed',
    contextKeys: { unauthenticatedUser: '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63', user: 'user-1042' },
    creationDate: Date.parse('2026-04-01T09:30:00.000Z'),
    metricValue: 39.95,
    data: { order_id: 'o-5531', revenue: 39.95, currency: 'USD', total: 45.9 },
  }]);
  const request = page.locator('[data-test="request"]');
  await assert.doesNotReject(request.locator('text=https://events.launchdarkly.com/events/bulk/env-123').waitFor({ timeout: 2000 }));
  const headers = await request.locator('table.headers').innerText();
  assert.match(headers, /X-LaunchDarkly-Event-Schema\s+4/);
  assert.match(headers, /User-Agent\s+segment-ld-bridge\//);
  assert.match(headers, /X-LaunchDarkly-Payload-ID\s+[0-9a-f-]{36}/);
  const outcome = page.locator('[data-test="outcome"]');
  assert.equal(await outcome.getAttribute('data-status'), 'accepted');
  const metric = page.locator('[data-test="provenance"] .field-row[data-field="metric_value"]');
  assert.match(await metric.innerText(), /@if exists\(@path \$\.properties\.revenue\) → then: @path \$\.properties\.revenue/);
  const key = page.locator('[data-test="provenance"] .field-row[data-field="user_key"]');
  assert.match(await key.innerText(), /contextKeys\.user[\s\S]*"user-1042"[\s\S]*→ then: @path \$\.userId/);
});

test('editing the event and a mapping field updates the request as you type', async () => {
  const event = {
    type: 'track',
    event: 'order completed',
    userId: 'user-7',
    messageId: 'm-edited',
    timestamp: '2026-04-02T10:00:00Z',
    properties: { revenue: 10, total: '120.50' },
  };
  await page.fill('#event-editor', JSON.stringify(event, null, 2));
  await waitForBody((b) => b[0]?.key === 'order completed' && b[0]?.metricValue === 10, 'the edited event');
  await field('metric_value').fill('{"@path": "$.properties.total"}');
  const sent = await waitForBody((b) => b[0]?.metricValue === 120.5, 'the edited metric_value mapping');
  assert.deepEqual(sent[0].contextKeys, { user: 'user-7' });
  assert.equal(await page.locator('.field[data-field="metric_value"] .badge').innerText(), 'custom');
  const metric = page.locator('[data-test="provenance"] .field-row[data-field="metric_value"]');
  assert.match(await metric.innerText(), /@path \$\.properties\.total/);
  assert.match(await metric.innerText(), /numeric string "120\.50" is sent as a number/);
});

test('a near miss of a metric event key is pointed out', async () => {
  await page.fill('[data-location="destinations[0].metric_event_keys"]', 'Order Completed\nSigned Up');
  const warning = page.locator('[data-test="outcome"] li[data-code="event_key_near_miss"]');
  await warning.waitFor({ timeout: 3000 });
  assert.match(await warning.innerText(), /"order completed" is not a metric event key of "production", but "Order Completed" is \(differs in case\)/);
  const check = page.locator('[data-test="key-check"] li[data-result="near_miss"]');
  assert.match(await check.innerText(), /did you mean "Order Completed" \(differs in case\)/);
  assert.match(await page.locator('[data-test="key-check"]').innerText(), /no event here feeds: "Order Completed", "Signed Up"/);
  // Sent anyway (unknown_event_keys = "send"): the request is still there.
  assert.equal((await bodyJson())[0].key, 'order completed');
});

test('a catalogue pasted from pull shows the metrics an event feeds and every verdict', async () => {
  const catalogue = page.locator('[data-location="destinations[0].metrics"]');
  // A located problem first: a randomization unit that is no context kind.
  await catalogue.fill(JSON.stringify([{ key: 'revenue', event_key: 'Order Completed', randomization_units: ['multi'] }]));
  const slotProblem = slot('destinations[0].metrics');
  await slotProblem.locator('.problem').waitFor({ timeout: 3000 });
  assert.match(await slotProblem.innerText(), /destinations\[0\]\.metrics\[0\]\.randomization_units\[0\]/);
  // What `segment-ld-bridge launchdarkly pull` prints.
  await catalogue.fill(JSON.stringify({
    destinations: [{
      name: 'production',
      client_side_id: 'env-123',
      metrics: [
        { key: 'revenue', name: 'Revenue', event_key: 'Order Completed', numeric: true, randomization_units: ['user'] },
        { key: 'signups', name: 'Sign-ups', event_key: 'Signed Up', numeric: false, randomization_units: ['account'] },
      ],
      catalogue_source: { project: 'default', environment: 'production', api_base: 'https://app.launchdarkly.com', pulled_at: '2026-11-30T13:30:00Z' },
    }],
  }, null, 2));
  await slotProblem.waitFor({ state: 'hidden', timeout: 3000 });
  // The metric_value mapping reads properties.total: without it, the numeric metric does not count.
  await page.fill('#event-editor', JSON.stringify({ type: 'track', event: 'Order Completed', userId: 'user-7', properties: { revenue: 5 } }));
  const warning = page.locator('[data-test="outcome"] li[data-code="numeric_metric_without_value"]');
  await warning.waitFor({ timeout: 3000 });
  assert.match(await warning.innerText(), /"Order Completed" feeds the numeric metric "revenue" \(Revenue\) of "production", but the event has no metricValue/);
  const fed = page.locator('[data-test="key-check"] li[data-metric="revenue"]');
  assert.equal(await fed.getAttribute('data-counts'), 'false');
  assert.match(await fed.innerText(), /feeds revenue \(Revenue\) — numeric, randomized by user: does not count this event/);
  assert.match(await page.locator('[data-test="key-check"] .verdicts').innerText(), /numeric_metric_without_value/);
  assert.match(await page.locator('[data-test="catalogue-source"]').innerText(),
    /Catalogue of production: 2 metrics, pulled from project default, environment production \(https:\/\/app\.launchdarkly\.com\) at 2026-11-30T13:30:00Z/);
  // Still sent ("send"); with "drop" it is not, and the outcome says why.
  assert.equal((await bodyJson())[0].key, 'Order Completed');
  await page.selectOption('[data-location="destinations[0].unknown_event_keys"]', 'drop');
  const skipped = page.locator('[data-test="outcome"][data-status="skipped"]');
  await skipped.waitFor({ timeout: 3000 });
  assert.equal(await skipped.getAttribute('data-reason'), 'numeric_metric_without_value');
  await page.locator('[data-test="no-request"]').waitFor({ timeout: 2000 });
  // A value: counted and sent.
  await page.fill('#event-editor', JSON.stringify({ type: 'track', event: 'Order Completed', userId: 'user-7', properties: { total: 5 } }));
  await waitForBody((b) => b[0]?.metricValue === 5, 'the counted event');
  assert.equal(await fed.getAttribute('data-counts'), 'true');
  // A kind that is no randomization unit of the metric.
  await page.fill('#event-editor', JSON.stringify({ type: 'track', event: 'Signed Up', userId: 'user-7' }));
  await page.locator('[data-test="outcome"][data-reason="no_randomization_unit"]').waitFor({ timeout: 3000 });
  assert.match(await page.locator('[data-test="key-check"] li[data-counted="false"]').innerText(), /not sent \(unknown_event_keys = "drop"\)/);
  // The export carries the catalogue as the configuration document holds it.
  await page.click('#export-open');
  const exported = JSON.parse(await page.locator('#export-json').innerText());
  await page.click('#export-dialog button[value="close"]');
  assert.equal(exported.destinations[0].metrics.length, 2);
  assert.equal(exported.destinations[0].catalogue_source.project, 'default');
  assert.equal(exported.destinations[0].unknown_event_keys, 'drop');
  // Back as before for the tests that follow.
  await page.selectOption('[data-location="destinations[0].unknown_event_keys"]', 'send');
  await catalogue.fill('');
  await page.locator('[data-test="catalogue-source"]').waitFor({ state: 'detached', timeout: 3000 });
});

test('a rejected event says why, and nothing is sent', async () => {
  await page.click('[data-sample="broken"]');
  const outcome = page.locator('[data-test="outcome"][data-status="rejected"]');
  await outcome.waitFor({ timeout: 3000 });
  assert.equal(await outcome.getAttribute('data-reason'), 'missing_context_key');
  assert.match(await outcome.innerText(), /the event has no userId or anonymousId/);
  await page.locator('[data-test="no-request"]').waitFor({ timeout: 2000 });
  const keyRow = page.locator('[data-test="provenance"] .field-row[data-field="user_key"]');
  assert.match(await keyRow.innerText(), /the event is rejected \(no context key\)/);
  await page.click('[data-sample="page"]');
  const skipped = page.locator('[data-test="outcome"][data-status="skipped"]');
  await skipped.waitFor({ timeout: 3000 });
  assert.match(await skipped.innerText(), /"page" events cannot feed LaunchDarkly custom metrics/);
});

test('errors are shown next to what caused them, never a blank page', async () => {
  await page.click('[data-sample="purchase"]');
  await waitForBody((b) => b[0]?.key === 'Order Completed', 'back to the purchase');
  await page.fill('#event-editor', '{"type": "track",\n "event": }');
  await slot('event').locator('.problem').waitFor({ timeout: 3000 });
  assert.match(await slot('event').innerText(), /not valid JSON: expected value at line 2 column 11/);
  assert.match(await page.locator('[data-test="problems"]').innerText(), /1 problem/);
  assert.equal(await page.locator('#result .stale [data-test="request"]').count(), 1, 'the last valid result stays, dimmed');
  await page.click('[data-sample="purchase"]');
  await slot('event').waitFor({ state: 'hidden', timeout: 3000 });

  await field('event_name').fill('{"@path": 42}');
  const fieldProblem = slot('subscriptions[0].mapping.event_name');
  await fieldProblem.locator('.problem').waitFor({ timeout: 3000 });
  assert.match(await fieldProblem.innerText(), /@path should be a string or a mapping directive but it is a number/);
  await field('event_name').fill('$.event');
  await fieldProblem.locator('text=a path is written {"@path": "$.event"}').waitFor({ timeout: 3000 });
  await page.click('.field[data-field="event_name"] button:text("preset")');
  await fieldProblem.waitFor({ state: 'hidden', timeout: 3000 });

  await page.fill('[data-location="subscriptions[0].trigger"]', 'type = "track" and (');
  const triggerProblem = slot('subscriptions[0].trigger');
  await triggerProblem.locator('.problem').waitFor({ timeout: 3000 });
  assert.match(await triggerProblem.innerText(), /never closed/);
  await page.fill('[data-location="subscriptions[0].trigger"]', 'type = "track"');
  await triggerProblem.waitFor({ state: 'hidden', timeout: 3000 });
  await waitForBody((b) => b[0]?.key === 'Order Completed', 'fixed again');
});

test('a mapping copied from Segment can be imported', async () => {
  await page.click('#import-open');
  await page.fill('#import-text', JSON.stringify({
    name: 'Track Event',
    subscribe: 'type = "track"',
    partnerAction: 'trackEvent',
    mapping: {
      context_kind: 'user',
      user_key: { '@path': '$.userId' },
      event_name: { '@template': '{{event}} (web)' },
      metric_value: { '@path': '$.properties.total' },
    },
  }));
  await page.click('#import-apply');
  await page.locator('#import-notes >> text=unmapped: additional_context_keys, event_properties, timestamp').waitFor({ timeout: 3000 });
  await page.click('#import-dialog button[value="cancel"]');
  const sent = await waitForBody((b) => b[0]?.key === 'Order Completed (web)', 'the imported mapping');
  assert.deepEqual(sent[0].contextKeys, { user: 'user-1042' });
  assert.equal(sent[0].metricValue, 45.9);
  assert.deepEqual(sent[0].data, {});
  assert.equal(await field('event_properties').inputValue(), '');
  // Back to the preset for the rest.
  for (const name of ['user_key', 'additional_context_keys', 'event_name', 'event_properties', 'timestamp']) {
    await page.click(`.field[data-field="${name}"] button:text("preset")`);
  }
  await waitForBody((b) => b[0]?.key === 'Order Completed' && b[0]?.contextKeys?.unauthenticatedUser, 'the preset again');
});

test('the live view shows what the bridge received, and opens it in the playground', async () => {
  const received = await bridge.post('/segment', {
    type: 'track',
    event: 'Live Event',
    userId: 'user-live',
    messageId: 'm-live',
    timestamp: '2026-04-03T12:00:00Z',
    properties: { revenue: 5 },
  });
  assert.equal(received.status, 200, received.text);
  assert.equal(launchDarkly.received.length, 1);
  await page.click('#live-toggle');
  const entry = page.locator('[data-test="live-entry"]').first();
  await entry.waitFor({ timeout: 5000 });
  assert.match(await entry.innerText(), /POST \/segment\s+200\s+1 accepted · 0 skipped · 0 rejected/);
  assert.match(await entry.innerText(), new RegExp(`${launchDarkly.baseUrl}/events/bulk/served-by-the-bridge`));
  await entry.locator('button:text("open in the playground")').click();
  const sent = await waitForBody((b) => b[0]?.key === 'Live Event', 'the received event in the playground');
  assert.deepEqual(sent[0].contextKeys, { user: 'user-live' });
  await page.click('#live-toggle');
  await page.locator('#live-body >> text=Hidden.').waitFor({ timeout: 2000 });
});

test('screenshot of the playground (docs/playground.png)', async () => {
  await page.fill('#event-editor', JSON.stringify({
    type: 'track',
    event: 'order completed',
    userId: 'user-1042',
    anonymousId: '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63',
    messageId: 'msg-purchase-1',
    timestamp: '2026-04-01T09:30:00.000Z',
    properties: { order_id: 'o-5531', revenue: 39.95, currency: 'USD', total: '45.90' },
  }, null, 2));
  await waitForBody((b) => b[0]?.key === 'order completed' && b[0]?.metricValue === 45.9, 'the screenshot state');
  await page.locator('li[data-code="event_key_near_miss"]').waitFor({ timeout: 3000 });
  // The top of the event and result panes; the configuration pane at the metric keys and fields.
  await page.evaluate(() => {
    for (const pane of document.querySelectorAll('.pane')) pane.scrollTop = 0;
    const keys = document.querySelector('[data-location="destinations[0].metric_event_keys"]');
    const pane = document.querySelector('#config-pane');
    pane.scrollTop = keys.getBoundingClientRect().top - pane.getBoundingClientRect().top - 30;
    window.scrollTo(0, 0);
    document.activeElement?.blur();
  });
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  assert.ok(fs.statSync(SCREENSHOT).size > 20_000);
});

test('the exported configuration makes a real bridge send exactly the request the page shows', async () => {
  const standIn = await startStandIn();
  try {
    // Without a source nothing authenticates events: the export says the bridge would refuse it.
    await page.click('#export-open');
    const refused = page.locator('#export-status.error');
    await refused.waitFor({ timeout: 3000 });
    assert.match(await refused.innerText(), /nothing authenticates events/);
    await page.click('#export-dialog button[value="close"]');
    // A bridge refuses events unless something authenticates them: a default source open to
    // unsigned webhooks, as in local development (the page routes through it too, so its payload
    // id is the bridge's). Filled first: the URL awaited below shows a run that includes it.
    await page.click('details.sources > summary');
    await page.fill('[data-location="sources"]', JSON.stringify(SOURCES));
    await page.fill('[data-location="destinations[0].events_host"]', standIn.baseUrl);
    const predicted = await waitForBody((b) => b[0]?.key === 'order completed', 'the request to the stand-in');
    const request = page.locator('[data-test="request"]');
    await request.locator(`text=${standIn.baseUrl}/events/bulk/env-123`).waitFor({ timeout: 3000 });
    const headers = Object.fromEntries(
      (await request.locator('table.headers tr').allInnerTexts()).map((line) => line.split('\t').map((s) => s.trim())),
    );

    await page.click('#export-open');
    await page.locator('#export-status.ok').waitFor({ timeout: 3000 });
    const exported = JSON.parse(await page.locator('#export-json').innerText());
    assert.deepEqual(exported, {
      destinations: [{
        name: 'production',
        client_side_id: 'env-123',
        events_host: standIn.baseUrl,
        metric_event_keys: ['Order Completed', 'Signed Up'],
      }],
      subscriptions: [{ name: 'Track Event', trigger: 'type = "track"', mapping: { metric_value: { '@path': '$.properties.total' } } }],
      sources: SOURCES,
    });
    const toml = await page.locator('#export-toml').innerText();
    assert.equal(JSON.parse(toml.replace(/^BRIDGE_CONFIG = /, '')), JSON.stringify(exported));
    await page.click('#export-dialog button[value="close"]');

    const configured = await startBridge({ BRIDGE_CONFIG: JSON.stringify(exported) });
    try {
      const event = JSON.parse(await page.locator('#event-editor').inputValue());
      const answer = await configured.post('/segment', event);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.outcomes[0].warnings[0].code, 'event_key_near_miss');
      assert.equal(standIn.received.length, 1);
      const [received] = standIn.received;
      assert.equal(`${standIn.baseUrl}${received.url}`, `${standIn.baseUrl}/events/bulk/env-123`);
      assert.deepEqual(received.json, predicted);
      assert.equal(received.text, await page.locator('[data-test="request"] pre.raw').textContent());
      for (const [name, value] of Object.entries(headers)) {
        assert.equal(received.headers[name.toLowerCase()], value, name);
      }
    } finally {
      await configured.close();
    }
  } finally {
    await page.fill('[data-location="sources"]', '');
    await standIn.close();
  }
});

test('several destinations and subscriptions: one request per destination', async () => {
  await page.click('button:text("+ Destination")');
  await page.fill('[data-location="destinations[1].name"]', 'staging');
  await page.fill('[data-location="destinations[1].client_side_id"]', 'env-staging');
  await page.click('button:text("+ Subscription")');
  await page.fill('[data-location="subscriptions[1].name"]', 'Big orders');
  await page.fill('[data-location="subscriptions[1].trigger"]', 'type = "track" and properties.revenue > 30');
  await field('event_name', 1).fill('"big-order"');
  await page.locator('[data-location="subscriptions[1]"] .checks label:has-text("staging") input').uncheck();
  const bodyOf = (destination) => page.locator(`[data-test="request"][data-destination="${destination}"] [data-test="body"]`);
  const keys = (events) => events.map((e) => e.key).join(', ');
  await waitForBody((b) => keys(b) === 'order completed, big-order', 'production gets both', bodyOf('production'));
  await waitForBody((b) => keys(b) === 'order completed', 'staging only gets the Track Event', bodyOf('staging'));
  const outcome = page.locator('[data-test="outcome"]');
  assert.match(await outcome.innerText(), /"big-order" is not a metric event key of "production": no metric will count it/);
  assert.equal(await page.locator('[data-subscription-label="1"]').innerText(), 'Big orders');
  assert.equal(await page.locator('[data-location="subscriptions[0]"] [data-destination-label="1"]').innerText(), 'staging');

  await page.click('#export-open');
  const exported = JSON.parse(await page.locator('#export-json').innerText());
  await page.click('#export-dialog button[value="close"]');
  assert.deepEqual(exported.subscriptions[1], {
    name: 'Big orders',
    trigger: 'type = "track" and properties.revenue > 30',
    mapping: { event_name: 'big-order' },
    destinations: ['production'],
  });
  await page.click('[data-location="subscriptions[1]"] button:text("Remove")');
  await page.click('[data-location="destinations[1]"] button:text("Remove")');
  await page.locator('[data-test="request"][data-destination="staging"]').waitFor({ state: 'detached', timeout: 3000 });
  assert.equal(await page.locator('[data-test="request"]').count(), 1);
});

test('the Segment envelope: integrations, consent, sampling and dropped properties, shown and exported', async () => {
  // A sample that turns LaunchDarkly off: skipped, nothing sent, and the gate says why.
  await page.click('[data-sample="optout"]');
  const skipped = page.locator('[data-test="outcome"][data-reason="disabled_by_integrations"]');
  await skipped.waitFor({ timeout: 3000 });
  assert.match(await skipped.innerText(), /not sent to "production": the event's integrations object turns "LaunchDarkly" off/);
  await page.locator('[data-test="no-request"]').waitFor({ timeout: 2000 });
  const gate = page.locator('[data-test="envelope"] [data-test="gate"][data-destination="production"]');
  assert.equal(await gate.getAttribute('data-passes'), 'false');
  assert.match(await gate.innerText(), /the integrations object turns "LaunchDarkly" off/);
  assert.equal(await page.locator('[data-test="provenance"] h4 .status').textContent(), 'skipped');

  // The destination answers to another name, and requires a category the event refuses.
  await page.click('[data-envelope="destinations[0]"] > summary');
  await page.fill('[data-location="destinations[0].integration_names"]', 'LaunchDarkly EU');
  await page.fill('[data-location="destinations[0].required_consent"]', 'Advertising');
  const noConsent = page.locator('[data-test="outcome"][data-reason="no_consent"]');
  await noConsent.waitFor({ timeout: 3000 });
  assert.match(await noConsent.innerText(), /no consent for "Advertising"/);
  await page.fill('[data-location="destinations[0].required_consent"]', 'Analytics');

  // A denied property never reaches the request; the trace says which and why.
  await page.click('[data-envelope="subscriptions[0]"] > summary');
  await page.fill('[data-location="subscriptions[0].deny_properties"]', 'email');
  const sent = await waitForBody((b) => b[0]?.key === 'Order Completed' && !('email' in b[0].data), 'the consented event without its email');
  assert.deepEqual(sent[0].data, { revenue: 18 });
  const dropped = page.locator('[data-test="envelope"] .dropped[data-path="email"]');
  assert.equal(await dropped.getAttribute('data-reason'), 'denied');
  assert.match(await page.locator('[data-test="envelope"] [data-test="dropped"]').innerText(), /email \(denied by email\)/);

  // Sampling: 0 sends nothing; a rate that is not a number is a problem at its field.
  await page.fill('[data-location="subscriptions[0].sample_rate"]', '0');
  await page.locator('[data-test="outcome"][data-reason="sampled_out"]').waitFor({ timeout: 3000 });
  assert.equal(await page.locator('[data-test="sampling"]').getAttribute('data-kept'), 'false');
  await page.fill('[data-location="subscriptions[0].sample_rate"]', 'half');
  await slot('subscriptions[0].sample_rate').locator('.problem').waitFor({ timeout: 3000 });
  await page.fill('[data-location="subscriptions[0].sample_rate"]', '1');
  await waitForBody((b) => b[0]?.key === 'Order Completed', 'everyone sampled in again');
  assert.equal(await page.locator('[data-test="sampling"]').getAttribute('data-kept'), 'true');

  // The export carries the settings, as the configuration document writes them.
  await page.click('#export-open');
  const exported = JSON.parse(await page.locator('#export-json').innerText());
  await page.click('#export-dialog button[value="close"]');
  assert.deepEqual(exported.destinations[0].integration_names, ['LaunchDarkly EU']);
  assert.deepEqual(exported.destinations[0].required_consent, ['Analytics']);
  assert.equal(exported.destinations[0].without_consent, undefined);
  assert.deepEqual(exported.subscriptions[0].deny_properties, ['email']);
  assert.equal(exported.subscriptions[0].sample_rate, 1);
  assert.equal(exported.subscriptions[0].allow_properties, undefined);
});

test('no uncaught exception or console error', () => {
  assert.deepEqual(pageErrors, []);
});
