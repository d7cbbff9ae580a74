// Segment's LaunchDarkly (Actions) destination as an oracle for whole events: random track
// events (context keys present, absent, empty or of other types; metric values as numbers,
// numeric text and other values; timestamps in the forms Segment's libraries send, in dayjs'
// own forms, in the forms JavaScript's Date reads, as Unix ms and not dates; nested properties) and random Track Event mappings laid over the preset, run through the
// destination as Segment's runtime runs it (`bench/lib/segment-launchdarkly.mjs`: the trigger,
// `transform`, `removeEmptyValues`, the AJV schema step, `perform`), printed as JSON for
// tests/destination_differential.rs, which runs the same events through the bridge's pipeline
// and requires the same LaunchDarkly event, or a rejection where Segment throws.
// `node bench/destination-oracle.mjs SEED COUNT` prints
// `{"received_at_ms", "cases": [{"event", "mapping", "body": <LaunchDarkly event> | "error": <message> | "skipped": true, "now"?: true, "empty_user_id"?: true}]}`
// (`now`: Segment's `creationDate` is the time of the call, where the bridge uses the receive
// time; `empty_user_id`: the event's `userId` is `""`, and the outcome is Segment's for the
// event without it, as the bridge reads it).
// Left out: timestamps that the bridge's window refuses. The README's deliberate differences
// are generated, and the test checks each one it meets.
import { segmentDestination } from './lib/segment-launchdarkly.mjs';
import { seeded } from './lib/random.mjs';

const [seedText = '1', countText = '1000'] = process.argv.slice(2);
const { random, pick, chance } = seeded(seedText);

// The bridge's receive time in tests/destination_differential.rs (2025-06-15T15:06:40Z).
const RECEIVED_AT_MS = 1_750_000_000_000;

const text = () =>
  pick(['u-1', 'user-8c1f2e', 'Ünïcödé', '😀 emoji', ' padded ', 'a'.repeat(40), '0', 'null', 'undefined', 'true', '12.50', 'x"y\\z', 'line\nbreak']);
const numberValue = () =>
  pick([0, -0, 1, -1, 12.5, 19.99, 5.99, -3.25, 1e21, 1.5e-7, 2 ** 53 + 2, 123456789.123, Number.MAX_SAFE_INTEGER, 0.1 + 0.2]);
const scalar = () =>
  pick([text, numberValue, () => pick([true, false, null]), () => '', () => pick(['12', ' 7 ', '1e3', '0x10', '12abc', '-4.5', '.5', '5.', 'Infinity', 'NaN', '1,000'])])();
const value = (depth = 0) => {
  if (depth > 2 || chance(0.6)) return scalar();
  if (chance(0.5)) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
  return object(depth + 1);
};
const key = () => pick(['a', 'b', 'name', 'sku', 'price', 'revenue', 'value', 'total', 'nested', 'ключ', 'a b', 'a.b', '0', '', '😀']);
const object = (depth) => {
  const result = {};
  for (let i = Math.floor(random() * 4); i > 0; i--) result[key()] = value(depth);
  return result;
};
// What a metric value may be sent as.
const metric = () =>
  pick([numberValue, numberValue, () => pick(['12', '19.99', ' 7 ', '1e3', '-4.5', '', 'abc', '12abc', '0x10', 'Infinity', '.5']), () => pick([null, true, false, [], [1], {}, { amount: 5 }])])();
// Timestamps as Segment's libraries send them (`toISOString`), with offsets, without
// milliseconds, in dayjs' own forms, as Unix milliseconds, or not a date: all within the
// bridge's window.
const timestamp = () => {
  const ms = Math.floor(1_704_067_200_000 + random() * (RECEIVED_AT_MS - 1_704_067_200_000));
  const iso = new Date(ms).toISOString();
  return pick([
    () => iso,
    () => iso.replace(/\.\d{3}Z$/, 'Z'),
    () => iso.replace('Z', '+00:00'),
    () => `${iso.slice(0, 19)}+02:00`,
    () => `${iso.slice(0, 23)}-05:30`,
    () => ms,
    // dayjs' own form (no Z): its parts carried over by JavaScript's Date.
    () => {
      const [date, time] = iso.slice(0, 23).split('T');
      const [y, m, d] = date.split('-');
      return pick([
        () => `${y}/${m}/${d}`,
        () => `${y}${m}${d}`,
        () => `${y}-${Number(m)}-${Number(d)} ${time.slice(0, 5)}`,
        () => `${y}-${m}-${d}T${time.slice(0, 2)}`,
        () => `${y}-${m}-${d}T${time.slice(0, 9)}${pick(['5', '12', '123456'])}`,
        // Carried over (at most a month on, from a date two months back: within the window).
        () => {
          const [y2, m2] = new Date(ms - 62 * 86_400_000).toISOString().split('-');
          return `${y2}-${m2}-${pick(['31', '30', '00'])}`;
        },
        () => pick([`${y}-00-${d}`, `${Number(y) - 1}-13-${d}`]),
        () => `${y}-${m}-${d}t${time}`,
        () => `${y}${m}${d}${time.replace(/[:.]/g, '')}`,
      ])();
    },
    // What dayjs hands to JavaScript's Date: RFC 2822 (`toUTCString`), `toString`, written-out
    // dates; and `+02`, which Date refuses (Segment then refuses the event).
    () => new Date(ms).toUTCString(),
    () => new Date(ms).toString(),
    () => {
      const date = new Date(ms);
      const month = date.toUTCString().slice(8, 11);
      return pick([
        `${month} ${date.getUTCDate()}, ${date.getUTCFullYear()}`,
        `${month} ${date.getUTCDate()}, ${date.getUTCFullYear()} ${iso.slice(11, 19)}`,
        `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${(date.getUTCHours() % 12) || 12}:${iso.slice(14, 16)} ${date.getUTCHours() < 12 ? 'AM' : 'PM'}`,
      ]);
    },
    () => `${iso.slice(0, 19)}+02`,
    () => pick(['', 'not a date', 'yesterday']),
    () => null,
    () => undefined,
  ])();
};
const contextKey = () =>
  pick([() => text(), () => text(), () => undefined, () => pick([0, 42, 1.5, true, false]), () => pick([[], ['a'], {}, { id: 'x' }])])();

const event = () => {
  const result = { type: chance(0.95) ? 'track' : pick(['page', 'identify', 'screen', 'TRACK']) };
  const eventName = chance(0.85)
    ? pick(['Order Completed', 'Signed Up', 'ß-Event', 'a.b', '😀', ' spaced '])
    : pick(['', null, undefined, 42, true, ['x'], {}]);
  if (eventName !== undefined) result.event = eventName;
  const userId = contextKey();
  if (userId !== undefined) result.userId = userId;
  if (chance(0.1)) result.userId = pick([null, '']);
  const anonymousId = contextKey();
  if (anonymousId !== undefined) result.anonymousId = anonymousId;
  if (chance(0.1)) result.anonymousId = pick([null, '']);
  const properties = chance(0.9) ? object(1) : pick([null, 'text', 5, ['a'], [{ revenue: 3 }], undefined]);
  if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
    if (chance(0.6)) properties.revenue = metric();
    if (chance(0.4)) properties.value = metric();
    if (chance(0.3)) properties.total = metric();
    if (chance(0.3)) properties.kind = pick(['org', 'device', 'User', '', 'multi', 'kind', 'a b', null, 3]);
  }
  if (properties !== undefined) result.properties = properties;
  const ts = timestamp();
  if (ts !== undefined) result.timestamp = ts;
  if (chance(0.5)) result.messageId = `m-${Math.floor(random() * 1e9)}`;
  if (chance(0.3)) result.context = { groupId: text(), traits: object(1) };
  return result;
};

// Track Event mappings laid over the preset: each field now and then mapped otherwise.
const path = () => `$.${pick(['userId', 'anonymousId', 'event', 'properties', 'properties.revenue', 'properties.value', 'properties.total', 'properties.kind', 'properties.nested', 'properties.a', 'context.groupId', 'context.traits', 'messageId', 'timestamp', 'missing'])}`;
const fieldValue = () =>
  pick([
    () => ({ '@path': path() }),
    () => ({ '@path': path() }),
    () => pick(['org', 'user', '', 'Device', 'literal', 7, true, null]),
    () => ({ '@template': pick(['{{userId}}', '{{properties.kind}}', 'fixed', '{{missing}}', '{{event}}-x']) }),
    () => ({ '@if': { exists: { '@path': path() }, then: { '@path': path() }, else: pick(['fallback', { '@path': path() }]) } }),
  ])();
const mapping = () => {
  const result = {};
  if (chance(0.2)) result.context_kind = fieldValue();
  // A required field is never unmapped: the bridge refuses such a configuration.
  const required = () => { const v = fieldValue(); return v === null ? 'literal' : v; };
  if (chance(0.15)) result.user_key = required();
  if (chance(0.2)) {
    result.additional_context_keys = pick([
      () => ({ org: fieldValue(), device: fieldValue() }),
      () => ({ '@path': path() }),
      () => null,
      () => ({}),
    ])();
  }
  if (chance(0.1)) result.event_name = required();
  if (chance(0.25)) result.metric_value = fieldValue();
  if (chance(0.15)) result.event_properties = pick([() => fieldValue(), () => null, () => ({ order: { '@path': path() }, fixed: 1 })])();
  if (chance(0.1)) result.timestamp = pick([() => ({ '@path': '$.messageId' }), () => null])();
  return result;
};

const settings = { client_id: 'client-side-id' };
/** What Segment's destination does with `theEvent`: `{body, now?}`, `{error}` or `{skipped}`. */
function outcome(destination, theEvent) {
  try {
    const before = Date.now();
    const sent = destination.run(theEvent);
    const after = Date.now();
    if (sent === undefined) return { skipped: true };
    const [body] = JSON.parse(sent.body);
    // `perform` takes the time of the call when dayjs cannot read the timestamp (or there is
    // none); a date JavaScript reads in other text may be anywhere.
    return body.creationDate >= before && body.creationDate <= after ? { now: true, body } : { body };
  } catch (error) {
    return { error: String(error.message ?? error) };
  }
}
const cases = [];
for (let i = 0, count = Number(countText); i < count; i++) {
  const theEvent = event();
  const theMapping = mapping();
  const destination = segmentDestination({ trigger: 'type = "track"', mapping: theMapping }, settings);
  if (theEvent.userId === '') {
    // A deliberate difference: an empty userId is absent, for every field of the mapping. What
    // Segment does with the event without it is what the bridge must do.
    const { userId, ...withoutUserId } = theEvent;
    cases.push({ event: theEvent, mapping: theMapping, empty_user_id: true, ...outcome(destination, withoutUserId) });
  } else {
    cases.push({ event: theEvent, mapping: theMapping, ...outcome(destination, theEvent) });
  }
}
console.log(JSON.stringify({ received_at_ms: RECEIVED_AT_MS, cases }));
