// End to end, in workerd: every attack the security review found, run against the built Worker
// and shown refused, with the legitimate events sent alongside still delivered (a stand-in
// LaunchDarkly on 127.0.0.1 records what arrives). Webhooks are signed as Segment signs them:
// hex HMAC-SHA1 of the body with the source's shared secret.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import readline from 'node:readline';
import { startStandIn } from '../support/launchdarkly-standin.mjs';
import { startBridge } from '../support/worker.mjs';

// Distinctive values, so that /health and error bodies can be searched for them.
const CLIENT_SIDE_ID = 'env-sec-5b2c';
const WEB_SECRET = 'web-shared-secret-3e8a';
const WEB_SECRET_NAME = 'WEB_SECRET_9D1E';
const WEB_SOURCE_ID = 'web-src-7f3a';
const MOBILE_SOURCE_ID = 'mobile-src-c41d';
const WRITE_KEY = 'wk-server-0a9b';
const ADMIN_TOKEN = 'admin-token-sec-77e1';
const TRIGGER_MARKER = 'Trigger Marker 42';
const MAX_REQUEST_BYTES = 512_000;

let ld;
let bridge;

/** One environment; a signed webhook source, a write-key source that is also the default, and
 * a source with neither a secret nor allow_unsigned. */
const bridgeConfig = () =>
  JSON.stringify({
    destinations: [{ name: 'prod', client_side_id: CLIENT_SIDE_ID, events_host: ld.baseUrl }],
    subscriptions: [
      { name: 'Track Event' },
      {
        name: 'Marked',
        trigger: `type = "track" and event = "${TRIGGER_MARKER}"`,
        mapping: { event_name: 'marked' },
      },
    ],
    sources: [
      { name: 'web', source_ids: [WEB_SOURCE_ID], webhook_secret: WEB_SECRET_NAME, destinations: ['prod'] },
      { name: 'server', write_keys: [WRITE_KEY], destinations: ['prod'], default: true },
      { name: 'mobile', source_ids: [MOBILE_SOURCE_ID], destinations: ['prod'] },
    ],
  });

before(async () => {
  ld = await startStandIn();
  bridge = await startBridge({ BRIDGE_CONFIG: bridgeConfig(), [WEB_SECRET_NAME]: WEB_SECRET, ADMIN_TOKEN });
});
after(async () => {
  await bridge?.close();
  await ld?.close();
});
beforeEach(() => ld.reset());

/** Segment's X-Signature over the exact body text. */
const sign = (text, secret = WEB_SECRET) => crypto.createHmac('sha1', secret).update(text, 'utf8').digest('hex');
const basic = (writeKey) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
const bearer = (token) => `Bearer ${token}`;

const order = (messageId, extra = {}) => ({
  type: 'track',
  event: 'Order Completed',
  userId: `user-${messageId}`,
  messageId,
  timestamp: '2026-01-02T03:04:05.000Z',
  properties: { revenue: 10 },
  ...extra,
});

/** A signed webhook from the web source: `{text, headers}` as Segment would post it. */
const signed = (event) => {
  const text = typeof event === 'string' ? event : JSON.stringify(event);
  return { text, headers: { 'x-signature': sign(text) } };
};
const postSigned = (target, pathname, event) => {
  const { text, headers } = signed(event);
  return target.post(pathname, text, headers);
};

/** What the stand-in received, as [payload id, event keys] per request. */
const received = () => ld.received.map((r) => [r.headers['x-launchdarkly-payload-id'], r.json.map((e) => e.key)]);

/** A legitimate signed webhook and a legitimate Tracking API call, both delivered. */
async function legitimateTrafficStillFlows(target, tag) {
  const before = ld.received.length;
  const webhook = await postSigned(target, `/segment/${WEB_SOURCE_ID}`, order(`${tag}-webhook`));
  assert.equal(webhook.status, 200, webhook.text);
  assert.equal(webhook.json.deliveries[0].result, 'delivered');
  const tracking = await target.post('/v1/track', { ...order(`${tag}-track`), type: undefined }, { authorization: basic(WRITE_KEY) });
  assert.equal(tracking.status, 200, tracking.text);
  assert.equal(tracking.json.success, true);
  assert.equal(ld.received.length, before + 2, 'both legitimate requests reached LaunchDarkly');
  assert.deepEqual(
    ld.received.slice(before).map((r) => r.json.map((e) => e.contextKeys.user)),
    [[`user-${tag}-webhook`], [`user-${tag}-track`]],
  );
}

/** `{"batch":[{},{},...],"context":[0,0,...]}` of about `bytes` bytes, `items` empty events. */
function amplificationBody(bytes, items = 100, extra = '') {
  const head = `{${extra}"batch":[${Array(items).fill('{}').join(',')}],"context":[`;
  const zeros = Math.floor((bytes - head.length - 2) / 2);
  const body = `${head}${Array(zeros).fill('0').join(',')}]}`;
  assert.ok(body.length <= MAX_REQUEST_BYTES && body.length > bytes - 10, `${body.length} bytes`);
  return body;
}

/**
 * Posts with node:http, holding back the body after its first 16 KB for half a second, and not
 * sending the rest once the answer has come: a request the Worker refuses without reading its
 * body has its connection reset, and a client still writing then loses the answer (fetch fails
 * the whole request with ECONNRESET). With `declared`, the Content-Length says `declared` bytes
 * but only `body` is sent, never the rest: an answer then proves the request was judged before
 * its body was read.
 */
function postRaw(pathname, body, headers = {}, declared = undefined) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const request = http.request({
      hostname: bridge.url.hostname,
      port: bridge.url.port,
      path: pathname,
      method: 'POST',
      agent: false, // a connection of its own: never one the Worker is closing
      headers: {
        'content-type': 'application/json',
        'content-length': String(declared ?? Buffer.byteLength(body)),
        ...headers,
      },
    });
    const timer = setTimeout(() => {
      settled = true;
      request.destroy();
      reject(new Error(`no answer to ${pathname}${declared ? ' while its declared body was unsent' : ''}`));
    }, 10_000);
    let responded = false;
    request.on('response', (response) => {
      responded = true;
      const chunks = [];
      const done = () => {
        if (settled) return;
        clearTimeout(timer);
        settled = true;
        request.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: response.statusCode, text, json: JSON.parse(text), headers: response.headers });
        } catch (error) {
          reject(new Error(`${pathname}: ${response.statusCode} with an unreadable body ${JSON.stringify(text)}: ${error}`));
        }
      };
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', done);
      response.on('close', done);
    });
    // A reset while the body is still being written, once the answer has come, is the point.
    request.on('error', (error) => {
      if (!settled && !responded) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    if (declared !== undefined) {
      request.write(body); // the rest never comes
      return;
    }
    // The whole body, but its first piece alone until the Worker had time to answer: a client
    // still writing when the connection of an early answer is reset loses that answer.
    const bytes = Buffer.from(body);
    request.write(bytes.subarray(0, 16 * 1024));
    const waited = setTimeout(() => {
      if (!responded && !settled) request.end(bytes.subarray(16 * 1024));
    }, 500);
    request.on('response', () => clearTimeout(waited));
  });
}

/** A declared body of `declared` bytes of which only the start is sent (see postRaw). */
const postDeclaringHugeBody = (pathname, declared, headers = {}) =>
  postRaw(pathname, `{"batch":[${' '.repeat(16 * 1024)}`, headers, declared);

/**
 * A body streamed without Content-Length (chunked), in `chunks` pieces. With `holdEnd`, the end
 * of the stream waits that long after the last piece: a body one byte over the limit is then
 * wholly read when the Worker answers, and no unread byte makes workerd reset the connection
 * (which would lose the answer to fetch).
 */
function postChunked(pathname, chunks, headers = {}, holdEnd = 0) {
  let next = 0;
  const body = new ReadableStream({
    async pull(controller) {
      if (next < chunks.length) {
        controller.enqueue(new TextEncoder().encode(chunks[next++]));
        return;
      }
      if (holdEnd) await new Promise((resolve) => setTimeout(resolve, holdEnd));
      controller.close();
    },
  });
  return fetch(new URL(pathname, bridge.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  }).then(async (response) => {
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text), headers: response.headers };
  });
}

/** `start` then spaces, `bytes` bytes in all, in pieces of 32 KiB. */
function pieces(start, bytes) {
  const text = start + ' '.repeat(bytes - start.length);
  const out = [];
  for (let at = 0; at < text.length; at += 32 * 1024) out.push(text.slice(at, at + 32 * 1024));
  return out;
}

/** Starts a bridge whose workerd output is captured in `lines`. */
async function startCapturing(vars, lines) {
  const capture = (stream) => readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
  return startBridge(vars, {
    handleRuntimeStdio(stdout, stderr) {
      capture(stdout);
      capture(stderr);
    },
  });
}

// a. The amplification body.

// 100 items as in the review; 2,000 (under the 2,500-event limit) would need gigabytes if the
// context were copied into each item.
const AMPLIFICATIONS = [100, 2000];

test('a. a 480 KB unauthenticated batch of empty events with a huge context: 401 missing_write_key, and the isolate keeps working', async () => {
  for (const items of AMPLIFICATIONS) {
    const body = amplificationBody(480_000, items);
    const refused = await bridge.post('/v1/batch', body);
    assert.equal(refused.status, 401, `${items} items: ${refused.text.slice(0, 500)}`);
    assert.equal(refused.json.error.code, 'missing_write_key');
    assert.equal(refused.json.success, false);
    assert.equal(ld.received.length, 0);
    await legitimateTrafficStillFlows(bridge, `amplification-anon-${items}`);
    ld.reset();
  }
});

test('a. the same body with a valid write key: every item refused alone as event_too_large, the isolate keeps working', async () => {
  for (const [how, items, body, headers] of AMPLIFICATIONS.flatMap((items) => [
    [`Basic auth, ${items} items`, items, amplificationBody(480_000, items), { authorization: basic(WRITE_KEY) }],
    [`writeKey in the body, ${items} items`, items, amplificationBody(480_000, items, `"writeKey":"${WRITE_KEY}",`), {}],
  ])) {
    const answer = await bridge.post('/v1/batch', body, headers);
    assert.equal(answer.status, 400, `${how}: ${answer.text.slice(0, 500)}`);
    assert.equal(answer.json.error.code, 'all_events_rejected', how);
    assert.equal(answer.json.received, items, how);
    assert.equal(answer.json.outcomes.length, items, how);
    assert.deepEqual(
      [...new Set(answer.json.outcomes.map((o) => `${o.status}:${o.reason}`))],
      ['rejected:event_too_large'],
      `${how}: each empty event counts the batch context it would take`,
    );
    assert.equal(ld.received.length, 0, how);
    await legitimateTrafficStillFlows(bridge, `amplification-${how.replace(/\W+/g, '-')}`);
    ld.reset();
  }
});

// b. Request size.

test('b. Content-Length over 500 KB is answered 413 before the body is sent', async () => {
  for (const [pathname, headers] of [
    [`/segment/${WEB_SOURCE_ID}`, { 'x-signature': sign('anything') }],
    ['/segment', {}],
    ['/v1/batch', {}],
    ['/v1/batch', { authorization: basic(WRITE_KEY) }],
  ]) {
    const answer = await postDeclaringHugeBody(pathname, 50_000_000, headers);
    assert.equal(answer.status, 413, `${pathname}: ${answer.text}`);
    assert.equal(answer.json.error.code, 'request_too_large', pathname);
    if (pathname.startsWith('/v1/')) assert.equal(answer.headers['access-control-allow-origin'], '*');
  }
  assert.equal(ld.received.length, 0);
  await legitimateTrafficStillFlows(bridge, 'declared');
});

test('b. a whole body over 512,000 bytes is 413 before its signature or write key is looked at; at the limit it is not', async () => {
  const padded = (bytes) => {
    const event = JSON.stringify(order('size-1', { properties: { revenue: 1, pad: '' } }));
    return event.replace('"pad":""', `"pad":"${'x'.repeat(bytes - event.length)}"`);
  };
  const over = padded(MAX_REQUEST_BYTES + 1);
  const atLimit = padded(MAX_REQUEST_BYTES);
  assert.equal(over.length, MAX_REQUEST_BYTES + 1);
  assert.equal(atLimit.length, MAX_REQUEST_BYTES);
  // Over the limit: 413 even with a valid signature, without one, or without a write key.
  for (const [pathname, headers] of [
    [`/segment/${WEB_SOURCE_ID}`, { 'x-signature': sign(over) }],
    [`/segment/${WEB_SOURCE_ID}`, {}],
    ['/v1/track', {}],
  ]) {
    const answer = await postRaw(pathname, over, headers);
    assert.equal(answer.status, 413, `${pathname}: ${answer.text}`);
    assert.equal(answer.json.error.code, 'request_too_large');
  }
  // At the limit the request is read: its signature is checked, then its event size.
  const unsigned = await bridge.post(`/segment/${WEB_SOURCE_ID}`, atLimit);
  assert.equal(unsigned.status, 401, unsigned.text);
  assert.equal(unsigned.json.error.code, 'missing_signature');
  const signedAtLimit = await bridge.post(`/segment/${WEB_SOURCE_ID}`, atLimit, { 'x-signature': sign(atLimit) });
  assert.equal(signedAtLimit.status, 400, signedAtLimit.text);
  assert.equal(signedAtLimit.json.error.code, 'event_too_large');
  assert.equal(ld.received.length, 0);
});

test('b. a chunked body (no Content-Length) over 500 KB is 413; a small chunked one is delivered', async () => {
  // One byte over the limit: refused once the last byte is read.
  const over = pieces('[', MAX_REQUEST_BYTES + 1);
  assert.equal(over.join('').length, MAX_REQUEST_BYTES + 1);
  const huge = await postChunked(`/segment/${WEB_SOURCE_ID}`, over, { 'x-signature': sign('x') }, 1000);
  assert.equal(huge.status, 413, huge.text);
  assert.equal(huge.json.error.code, 'request_too_large');
  const hugeTracking = await postChunked('/v1/batch', pieces('{"batch":[', MAX_REQUEST_BYTES + 1), { authorization: basic(WRITE_KEY) }, 1000);
  assert.equal(hugeTracking.status, 413, hugeTracking.text);
  assert.equal(hugeTracking.json.error.code, 'request_too_large');
  // At the limit, the streamed body is read whole: then the missing signature is what counts.
  const atLimit = await postChunked(`/segment/${WEB_SOURCE_ID}`, pieces('[', MAX_REQUEST_BYTES));
  assert.equal(atLimit.status, 401, atLimit.text);
  assert.equal(atLimit.json.error.code, 'missing_signature');
  assert.equal(ld.received.length, 0);
  // The same way of sending, within the limit, is read whole and delivered.
  const { text, headers } = signed(order('chunked-1'));
  const small = await postChunked(`/segment/${WEB_SOURCE_ID}`, [text.slice(0, 10), text.slice(10, 40), text.slice(40)], headers);
  assert.equal(small.status, 200, small.text);
  assert.deepEqual(received().map(([, keys]) => keys), [['Order Completed']]);
  assert.equal(ld.received[0].json[0].contextKeys.user, 'user-chunked-1');
});

test('b. the admin route checks the token before the body: a wrong token with a huge body is 401, not 413', async () => {
  const huge = JSON.stringify({ payload_ids: Array(40_000).fill('6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f71') });
  assert.ok(huge.length > MAX_REQUEST_BYTES);
  for (const authorization of [undefined, bearer('wrong-token'), bearer(`${ADMIN_TOKEN}x`)]) {
    const headers = authorization ? { authorization } : {};
    const whole = await postRaw('/admin/dead-letters/replay', huge, headers);
    assert.equal(whole.status, 401, whole.text);
    assert.equal(whole.json.error.code, 'unauthorized');
    const declared = await postDeclaringHugeBody('/admin/dead-letters/replay', 50_000_000, headers);
    assert.equal(declared.status, 401, declared.text);
    assert.equal(declared.json.error.code, 'unauthorized');
  }
  // With the right token, the admin body has its own (smaller) cap.
  const admitted = await postRaw('/admin/dead-letters/replay', huge, { authorization: bearer(ADMIN_TOKEN) });
  assert.equal(admitted.status, 413, admitted.text);
  assert.equal(admitted.json.error.code, 'request_too_large');
  assert.ok(!admitted.text.includes(ADMIN_TOKEN));
});

// c. Closed by default.

test('c. only LD_CLIENT_SIDE_ID set: /segment and /v1 answer 503 invalid_configuration (location sources)', async () => {
  const unauthenticated = await startBridge({ LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID, LD_EVENTS_HOST: ld.baseUrl });
  try {
    for (const [pathname, headers] of [
      ['/segment', {}],
      ['/segment', { 'x-signature': sign(JSON.stringify(order('open-1'))) }],
      ['/v1/track', { authorization: basic(WRITE_KEY) }],
    ]) {
      const answer = await unauthenticated.post(pathname, order('open-1'), headers);
      assert.equal(answer.status, 503, `${pathname}: ${answer.text}`);
      assert.equal(answer.json.error.code, 'invalid_configuration');
      assert.deepEqual(answer.json.problems.map((p) => p.location), ['sources']);
      assert.match(answer.json.problems[0].message, /SEGMENT_ALLOW_UNSIGNED/);
    }
    const health = await unauthenticated.get('/health');
    assert.equal(health.status, 503);
    assert.equal(health.json.status, 'misconfigured');
    assert.equal(health.json.problems, 1);
    assert.equal(ld.received.length, 0);
  } finally {
    await unauthenticated.close();
  }
});

test('c. SEGMENT_WRITE_KEY without a shared secret: unsigned /segment is 401 unsigned_refused, even with the write key; /v1 works', async () => {
  const writeKeyOnly = await startBridge({ LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID, LD_EVENTS_HOST: ld.baseUrl, SEGMENT_WRITE_KEY: WRITE_KEY });
  try {
    for (const [body, headers] of [
      [order('wk-1'), {}],
      [order('wk-1'), { authorization: basic(WRITE_KEY) }],
      [{ ...order('wk-1'), writeKey: WRITE_KEY }, {}],
      [[order('wk-1'), order('wk-2')], {}],
    ]) {
      const answer = await writeKeyOnly.post('/segment', body, headers);
      assert.equal(answer.status, 401, answer.text);
      assert.equal(answer.json.error.code, 'unsigned_refused');
    }
    assert.equal(ld.received.length, 0);
    const tracking = await writeKeyOnly.post('/v1/track', { ...order('wk-3'), type: undefined }, { authorization: basic(WRITE_KEY) });
    assert.equal(tracking.status, 200, tracking.text);
    assert.deepEqual(ld.received.map((r) => r.json[0].contextKeys.user), ['user-wk-3']);
  } finally {
    await writeKeyOnly.close();
  }
});

test('c. BRIDGE_CONFIG: the default source with write_keys, and a source without a secret, refuse unsigned webhooks', async () => {
  for (const [pathname, body, headers, code] of [
    ['/segment', order('doc-1'), {}, 'unsigned_refused'],
    ['/segment', order('doc-1'), { authorization: basic(WRITE_KEY) }, 'unsigned_refused'],
    ['/segment', { ...order('doc-1'), writeKey: WRITE_KEY }, {}, 'unsigned_refused'],
    [`/segment/${MOBILE_SOURCE_ID}`, order('doc-1'), {}, 'unsigned_refused'],
    [`/segment/${MOBILE_SOURCE_ID}`, order('doc-1'), { authorization: basic(WRITE_KEY) }, 'unsigned_refused'],
    [`/segment/${WEB_SOURCE_ID}`, order('doc-1'), {}, 'missing_signature'],
    [`/segment/${WEB_SOURCE_ID}`, order('doc-1'), { 'x-signature': sign('{}') }, 'invalid_signature'],
    ['/segment', order('doc-1'), { 'x-signature': sign(JSON.stringify(order('doc-1')), 'guessed-secret') }, 'invalid_signature'],
  ]) {
    const answer = await bridge.post(pathname, body, headers);
    assert.equal(answer.status, 401, `${pathname} ${JSON.stringify(headers)}: ${answer.text}`);
    assert.equal(answer.json.error.code, code, `${pathname} ${JSON.stringify(headers)}`);
  }
  assert.equal(ld.received.length, 0);
  // The legitimate ones: signed to the source's URL, or signed to /segment (routed by the secret).
  const toUrl = await postSigned(bridge, `/segment/${WEB_SOURCE_ID}`, order('doc-2'));
  assert.equal(toUrl.status, 200, toUrl.text);
  const bySecret = await postSigned(bridge, '/segment', order('doc-3'));
  assert.equal(bySecret.status, 200, bySecret.text);
  assert.deepEqual(ld.received.map((r) => r.json[0].contextKeys.user), ['user-doc-2', 'user-doc-3']);
});

test('c. /health without the admin token shows no source id, client-side ID, secret name or trigger', async () => {
  const open = await bridge.get('/health');
  assert.equal(open.status, 200);
  assert.deepEqual(open.json, { status: 'ok', name: 'segment-ld-bridge', version: '0.1.0', dev_mode: false });
  const wrong = await bridge.send('GET', '/health', undefined, { authorization: bearer('wrong-token') });
  assert.deepEqual(wrong.json, open.json);
  const admin = await bridge.send('GET', '/health', undefined, { authorization: bearer(ADMIN_TOKEN) });
  assert.equal(admin.status, 200);
  // The admin sees them all, so their absence from the public answer means something.
  for (const value of [WEB_SOURCE_ID, MOBILE_SOURCE_ID, CLIENT_SIDE_ID, WEB_SECRET_NAME, TRIGGER_MARKER]) {
    assert.ok(admin.text.includes(value), `the admin summary shows ${value}`);
    assert.ok(!open.text.includes(value), `public /health shows ${value}`);
    assert.ok(!wrong.text.includes(value), `/health with a wrong token shows ${value}`);
  }
  for (const secret of [WEB_SECRET, WRITE_KEY, ADMIN_TOKEN]) {
    assert.ok(!admin.text.includes(secret));
  }
});

// d. Batched webhooks and replays.

test('d. a captured signed webhook with forged events appended is 401 batched_webhook_refused', async () => {
  const captured = signed(order('capture-1'));
  const original = await bridge.post(`/segment/${WEB_SOURCE_ID}`, captured.text, captured.headers);
  assert.equal(original.status, 200, original.text);
  const forged = [
    { ...order('forged-1'), event: 'Order Completed', properties: { revenue: 99999 } },
    { ...order('forged-2'), event: 'Signed Up' },
  ];
  const appended = `[${captured.text},${forged.map((e) => JSON.stringify(e)).join(',')}]`;
  for (const pathname of [`/segment/${WEB_SOURCE_ID}`, '/segment']) {
    const answer = await bridge.post(pathname, appended, captured.headers);
    assert.equal(answer.status, 401, `${pathname}: ${answer.text}`);
    assert.equal(answer.json.error.code, 'batched_webhook_refused', pathname);
  }
  assert.deepEqual(
    ld.received.map((r) => r.json.map((e) => [e.key, e.metricValue])),
    [[['Order Completed', 10]]],
    'only the original reached LaunchDarkly',
  );
});

test('d. an exact replay of a signed single-event webhook carries the same payload id', async () => {
  const captured = signed(order('replay-1'));
  const first = await bridge.post(`/segment/${WEB_SOURCE_ID}`, captured.text, captured.headers);
  const replay = await bridge.post(`/segment/${WEB_SOURCE_ID}`, captured.text, captured.headers);
  // Without a timestamp the creation date is the receive time; the id still stays the same.
  const untimed = signed({ ...order('replay-2'), timestamp: undefined });
  const untimedFirst = await bridge.post(`/segment/${WEB_SOURCE_ID}`, untimed.text, untimed.headers);
  await new Promise((resolve) => setTimeout(resolve, 25));
  const untimedReplay = await bridge.post(`/segment/${WEB_SOURCE_ID}`, untimed.text, untimed.headers);
  for (const answer of [first, replay, untimedFirst, untimedReplay]) assert.equal(answer.status, 200, answer.text);
  assert.equal(ld.received.length, 4);
  const ids = ld.received.map((r) => r.headers['x-launchdarkly-payload-id']);
  assert.equal(ids[0], ids[1], 'the replay carries the original payload id, so LaunchDarkly counts it once');
  assert.equal(ids[2], ids[3]);
  assert.notEqual(ids[0], ids[2]);
  assert.notEqual(ld.received[2].json[0].creationDate, ld.received[3].json[0].creationDate, 'stamped at receipt');
  assert.equal(first.json.deliveries[0].payload_id, ids[0]);
  assert.equal(replay.json.deliveries[0].payload_id, ids[1]);
});

// e. Payload ids are scoped by source and content.

test('e. the same messageId via /v1/track and as a signed webhook from another source gets different payload ids', async () => {
  const event = order('order-1001', { userId: 'u-1001' });
  const tracking = await bridge.post('/v1/track', { ...event, type: undefined }, { authorization: basic(WRITE_KEY) });
  assert.equal(tracking.status, 200, tracking.text);
  const webhook = await postSigned(bridge, `/segment/${WEB_SOURCE_ID}`, event);
  assert.equal(webhook.status, 200, webhook.text);
  // Same messageId, other content, same source: an attacker holding the write key cannot
  // pre-empt the real order with a payload id LaunchDarkly would then drop as a repeat.
  const other = await bridge.post(
    '/v1/track',
    { ...event, type: undefined, properties: { revenue: 0.01 } },
    { authorization: basic(WRITE_KEY) },
  );
  assert.equal(other.status, 200, other.text);
  assert.equal(ld.received.length, 3, 'all three delivered');
  assert.equal(ld.received[0].text, ld.received[1].text, 'the same LaunchDarkly event from both sources');
  assert.notEqual(ld.received[0].text, ld.received[2].text);
  const ids = ld.received.map((r) => r.headers['x-launchdarkly-payload-id']);
  assert.equal(new Set(ids).size, 3, `three different payload ids: ${ids}`);
  assert.deepEqual(
    [tracking, webhook, other].map((a) => a.json.deliveries[0].payload_id),
    ids,
  );
});

// f. A number JSON can write but no one can read.

test('f. a batch item holding 1e400 is rejected alone (unreadable_event); the good ones are delivered', async () => {
  const good = (id) => JSON.stringify(order(id));
  const bad = '{"type":"track","event":"Bad Number","userId":"u-bad","messageId":"big-1","properties":{"revenue":1e400}}';
  const items = `[${good('num-1')},${bad},${good('num-2')}]`;
  for (const [pathname, text, headers] of [
    ['/v1/batch', `{"batch":${items}}`, { authorization: basic(WRITE_KEY) }],
    ['/v1/batch', `{"writeKey":"${WRITE_KEY}","batch":${items}}`, {}],
    [`/segment/${WEB_SOURCE_ID}`, `{"batch":${items}}`, { 'x-signature': sign(`{"batch":${items}}`) }],
  ]) {
    ld.reset();
    const answer = await bridge.post(`${pathname}?outcomes=all`, text, headers);
    assert.equal(answer.status, 200, `${pathname}: ${answer.text}`);
    assert.deepEqual(
      answer.json.outcomes.map((o) => [o.index, o.status, o.reason]),
      [
        [0, 'accepted', 'track_event'],
        [1, 'rejected', 'unreadable_event'],
        [2, 'accepted', 'track_event'],
      ],
      pathname,
    );
    assert.equal(ld.received.length, 1, pathname);
    assert.deepEqual(
      ld.received[0].json.map((e) => e.contextKeys.user),
      ['user-num-1', 'user-num-2'],
    );
  }
});

// g. Secrets pasted where they do not belong are never repeated.

test('g. a secret pasted as webhook_secret, or a server-side SDK key as LD_CLIENT_SIDE_ID: 503 without the value', async () => {
  const pastedSecret = 'whsec_9f8e7d6c5b4a';
  const sdkKey = 'sdk-1234abcd-5678-90ef-1234-567890abcdef';
  const lines = [];
  const cases = [
    {
      vars: {
        BRIDGE_CONFIG: JSON.stringify({
          destinations: [{ name: 'prod', client_side_id: CLIENT_SIDE_ID, events_host: ld.baseUrl }],
          sources: [
            { name: 'web', source_ids: ['web'], webhook_secret: pastedSecret, destinations: ['prod'] },
            { name: 'server', write_keys: [WRITE_KEY], destinations: ['prod'] },
          ],
        }),
        ADMIN_TOKEN,
      },
      value: pastedSecret,
      location: 'BRIDGE_CONFIG.sources[0].webhook_secret',
    },
    {
      vars: { LD_CLIENT_SIDE_ID: sdkKey, LD_EVENTS_HOST: ld.baseUrl, SEGMENT_WRITE_KEY: WRITE_KEY, ADMIN_TOKEN },
      value: sdkKey,
      location: 'LD_CLIENT_SIDE_ID',
    },
  ];
  for (const { vars, value, location } of cases) {
    const misconfigured = await startCapturing(vars, lines);
    try {
      const texts = [];
      for (const [pathname, headers] of [
        ['/segment/web', { 'x-signature': sign(JSON.stringify(order('g-1')), pastedSecret) }],
        ['/v1/track', { authorization: basic(WRITE_KEY) }],
      ]) {
        const answer = await misconfigured.post(pathname, order('g-1'), headers);
        assert.equal(answer.status, 503, `${location}: ${answer.text}`);
        assert.equal(answer.json.error.code, 'invalid_configuration');
        assert.deepEqual(answer.json.problems.map((p) => p.location), [location]);
        texts.push(answer.text);
      }
      const publicHealth = await misconfigured.get('/health');
      assert.equal(publicHealth.status, 503);
      assert.equal(publicHealth.json.problems, 1);
      const adminHealth = await misconfigured.send('GET', '/health', undefined, { authorization: bearer(ADMIN_TOKEN) });
      assert.equal(adminHealth.status, 503);
      assert.deepEqual(adminHealth.json.problems.map((p) => p.location), [location]);
      texts.push(publicHealth.text, adminHealth.text);
      await new Promise((resolve) => setTimeout(resolve, 200)); // workerd's output
      texts.push(lines.join('\n'));
      for (const text of texts) {
        assert.ok(!text.includes(value), `the value appears in ${text.slice(0, 300)}`);
        assert.ok(!text.includes(value.slice(4)), `part of the value appears in ${text.slice(0, 300)}`);
      }
    } finally {
      await misconfigured.close();
    }
  }
  assert.ok(lines.some((line) => line.includes('config_invalid')), 'the problems were logged (without the values)');
  assert.equal(ld.received.length, 0);
});

test('c. the Worker logs a warning for every open route when it loads its configuration', async () => {
  const lines = [];
  const config = {
    destinations: [{ name: 'd', client_side_id: CLIENT_SIDE_ID, events_host: ld.baseUrl }],
    sources: [
      { name: 'local', source_ids: ['local-1'], default: true, allow_unsigned: true },
      { name: 'batched', source_ids: ['b-1'], webhook_secret: WEB_SECRET_NAME, accept_batched_webhooks: true },
    ],
  };
  const open = await startCapturing({ BRIDGE_CONFIG: JSON.stringify(config), [WEB_SECRET_NAME]: WEB_SECRET }, lines);
  try {
    const answer = await open.post('/segment/local-1', order('warn-1'));
    assert.equal(answer.status, 200, answer.text);
    await new Promise((resolve) => setTimeout(resolve, 200)); // workerd's output
    const warnings = lines
      .filter((line) => line.includes('"config_warning"'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))));
    assert.deepEqual(
      warnings.map((w) => [w.level, w.location]),
      [['warn', 'source "local"'], ['warn', 'source "batched"']],
    );
    assert.match(warnings[0].message, /\/segment, \/segment\/local-1 accept\(s\) unsigned events/);
    assert.match(warnings[1].message, /batched webhooks/);
    assert.ok(!lines.join('\n').includes(WEB_SECRET), 'the secret appears in the logs');
  } finally {
    await open.close();
  }
});

// h. The live view.

test('h. /dev/recent with ADMIN_TOKEN but without DEV_MODE records nothing', async () => {
  const production = await startBridge({
    LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID,
    LD_EVENTS_HOST: ld.baseUrl,
    SEGMENT_WRITE_KEY: WRITE_KEY,
    ADMIN_TOKEN,
  });
  try {
    const tracked = await production.post('/v1/track', { ...order('h-1'), type: undefined, writeKey: WRITE_KEY });
    assert.equal(tracked.status, 200, tracked.text);
    const refused = await production.post('/segment', order('h-2'));
    assert.equal(refused.status, 401);
    assert.equal(ld.received.length, 1);
    const closed = await production.get('/dev/recent');
    assert.equal(closed.status, 401, closed.text);
    const recent = await production.send('GET', '/dev/recent', undefined, { authorization: bearer(ADMIN_TOKEN) });
    assert.equal(recent.status, 200, recent.text);
    assert.deepEqual(recent.json, { recent: [] });
  } finally {
    await production.close();
  }
});

test('h. with DEV_MODE on, recorded Tracking API bodies have no writeKey', async () => {
  const dev = await startBridge({
    LD_CLIENT_SIDE_ID: CLIENT_SIDE_ID,
    LD_EVENTS_HOST: ld.baseUrl,
    SEGMENT_WRITE_KEY: WRITE_KEY,
    DEV_MODE: 'true',
  });
  try {
    const tracked = await dev.post('/v1/track', { ...order('h-3'), type: undefined, writeKey: WRITE_KEY });
    assert.equal(tracked.status, 200, tracked.text);
    const batch = await dev.post('/v1/batch', {
      writeKey: WRITE_KEY,
      batch: [{ ...order('h-4'), writeKey: WRITE_KEY }, order('h-5')],
    });
    assert.equal(batch.status, 200, batch.text);
    const wrongKey = await dev.post('/v1/track', { ...order('h-6'), type: undefined, writeKey: `${WRITE_KEY}-guess` });
    assert.equal(wrongKey.status, 401);
    assert.equal(ld.received.length, 2);
    const recent = await dev.get('/dev/recent');
    assert.equal(recent.status, 200, recent.text);
    const entries = recent.json.recent;
    assert.deepEqual(entries.map((e) => [e.path, e.status]), [
      ['/v1/track', 401],
      ['/v1/batch', 200],
      ['/v1/track', 200],
    ]);
    // The bodies were recorded (so the missing writeKey was taken out, not left unrecorded).
    assert.equal(entries[2].received.messageId, 'h-3');
    assert.deepEqual(entries[1].received.batch.map((e) => e.messageId), ['h-4', 'h-5']);
    assert.equal(entries[0].received.messageId, 'h-6');
    assert.ok(!recent.text.includes('writeKey'), recent.text);
    assert.ok(!recent.text.includes(WRITE_KEY), recent.text);
  } finally {
    await dev.close();
  }
});
