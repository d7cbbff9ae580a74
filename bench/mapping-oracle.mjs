// Segment's own code as an oracle: random mappings (every directive of mapping-kit) and random
// `@liquid` templates, evaluated by `@segment/actions-core`'s `transform` (liquidjs 10.27.2
// with Segment's options), and random triggers (FQL) evaluated by
// `@segment/destination-subscriptions`' `parseFql` and `validate`, printed as JSON for
// tests/mapping_differential.rs, which runs the same cases through the bridge and requires
// the same results.
// `node bench/mapping-oracle.mjs mappings|liquid SEED COUNT` prints
// `{"payload", "cases": [{"mapping", "result": <value> | null (undefined), "error"?}]}`;
// `node bench/mapping-oracle.mjs triggers SEED COUNT` prints
// `{"events", "cases": [{"trigger", "matches": [<bool per event>], "error"?}]}`.
import { createRequire } from 'node:module';
import { seeded } from './lib/random.mjs';

const require = createRequire(import.meta.url);
const { transform } = require('@segment/actions-core');
const { parseFql, validate } = require('@segment/destination-subscriptions');
const [kind, seedText = '1', countText = '1000'] = process.argv.slice(2);
const { random, pick } = seeded(seedText);
const price = () =>
  pick([
    () => Math.round(random() * 100000) / 100,
    () => Math.round(random() * 1000) / 1000,
    () => -Math.round(random() * 10000) / 100,
    () => Math.floor(random() * 1000),
    () => random() * 1000,
    () => Math.floor(random() * 40) * 0.005,
  ])();

const payload = {
  type: 'track', event: 'Order Completed', userId: 'u-1', anonymousId: 'a-1', n: 0, e: '', nul: null, t: true,
  properties: {
    total: 27.5, revenue: 25, currency: 'usd', coupon: null, zero: 0, neg: -3, name: 'Ada Lovelace', tags: ['a', 'b', ''],
    products: [{ sku: 'x', price: 19, qty: 1 }, { sku: 'y', price: 3.5 }, { name: 'z' }],
    nested: { a: { b: 1, c: [1, 2] }, d: '' }, tiny: 1e-7, str_num: '42', emptyarr: [], emptyobj: {},
    p1: price(), p2: price(), p3: price(), s1: String(price()), list: 'a,b,c', html: '<b>"x" & y</b>', sp: '  ',
    obj: { a: 1 }, arr: [1, 'a', null], word: 'héllo', num: '3', t: true, f: false,
    // Keys that are array indexes, which JavaScript orders first (JSON text, @flatten, @merge).
    ix: { k: 'kay', 10: 'ten', 2: { 1: 'one', z: null } },
    // Numbers JavaScript prints in exponent form, or past 2^53.
    big: 1e21, small: 1.5e-9, huge: 12345678901234567000, frac: 123456789.123,
    // Text whose case mapping or length differs between Unicode's rules and a naive one:
    // characters that grow (ß, ﬁ, İ), a final sigma, title case, signs that fold to ASCII
    // (Kelvin, long s), and characters outside the Basic Multilingual Plane.
    uni: 'Straße İstanbul ΟΔΟΣ ǅemal ﬁne \u212Aelvin ſun 😀 𐐀x', uni2: 'ÀÉÎ ß and ς', emoji: '😀😃',
    deseret: '𐐨𐐩 ΣΑΣ',
    // Keys that are not identifiers: not ASCII, with a space, with a dot.
    'ключ': 1, 'a b': 2, '😀': 3, 'a.b': 4,
  },
  context: { library: { name: 'analytics.js', version: '1.2' }, campaign: { source: 'news', medium: 'email' }, groupId: 'g-1' },
};

const paths = ['$.event', '$.userId', '$.properties.total', '$.properties.revenue', '$.properties.currency',
  '$.properties.coupon', '$.properties.zero', '$.properties.neg', '$.properties.name', '$.properties.tags',
  '$.properties.products', '$.properties.products[0].sku', '$.properties.products.0.price', '$.properties.nested',
  '$.properties.nested.a', '$.properties.nested.a.c', '$.properties.missing', '$.properties.tiny',
  '$.properties.str_num', '$.properties.emptyarr', '$.properties.emptyobj', '$.context', '$.context.library', '$.n',
  '$.e', '$.nul', '$.t', '$.properties.tags[1]', '$.properties.nested.d', '$.properties.products[*].sku', '$.properties.p1',
  '$.properties.ix', '$.properties.ix.2',
  // `length` of arrays and strings (own properties in JavaScript), falsy values met on the way,
  // quoted and bracketed keys.
  '$.properties.tags.length', '$.properties.products.length', '$.properties.emptyarr.length',
  '$.properties.emptyarr.length.x', '$.properties.tags.length.x', '$.properties.word.length', '$.properties.e.length',
  '$.properties.obj.length', '$.properties.zero.x', '$.nul.x', '$.properties.f.x', '$.e.x', "$.properties['ix'][2]",
  '$.properties.products[1]["sku"]', '$.properties.big', '$.properties.huge', '$.properties.uni', '$.properties.uni2',
  '$.properties.emoji', '$.properties.uni.length', '$.properties.emoji.length', '$.properties.deseret',
  '$.properties.ключ', '$.properties["a b"]', '$.properties.😀', '$.properties["a.b"]', "$.properties['ключ']",
  '$.properties.a b', '$["properties"].name', '$.properties.a.b'];
const templates = ['{{event}}', '{{properties.total}} {{properties.currency}}', '{{properties.tags}}', '{{properties.products}}',
  '{{properties.nested}}', '{{properties.missing}}x', '{{properties.tiny}}', '{{properties.zero}}/{{properties.coupon}}',
  '{{{properties.name}}}', '{{ properties.name }}', '{{properties.emptyobj}}', '{{properties.ix}}',
  '{{properties.tags.length}}/{{properties.word.length}}', '{{properties.emptyarr.length}}',
  '{{properties.big}} {{properties.small}} {{properties.huge}} {{properties.frac}}', '{{properties.products.0.sku}}',
  '{{properties.uni}}|{{properties.emoji.length}}', '{{properties.uni2}}', '{{properties.ключ}}/{{properties.😀}}',
  '{{properties.a.b}}', '{{properties.a b}}'];

// `inApply`: inside a `@transform`'s `apply`, whose result the bridge hands on as JSON (an
// undefined item of an array is null there; Segment's code keeps it undefined, which only
// `@flatten` and `@merge` then tell apart: the README's deliberate differences), so no
// `@arrayPath` item there may be undefined.
// Directives written wrong (missing or extra options, wrong types, unknown names): Segment's
// validation refuses some, and the bridge must refuse the same ones.
const malformed = [
  { '@if': { exists: { '@path': '$.e' } } }, { '@if': { exists: 1, blank: 2, then: 1 } }, { '@if': { then: 1, else: 2 } },
  { '@case': { value: 'x' } }, { '@case': { operator: 'title', value: 'x' } }, { '@case': 'x' }, { '@foo': 1 },
  { '@path': 3 }, { '@path': '$.event', extra: 1 }, { '@path': 'event' }, { '@path': '' }, { '@template': 3 },
  { '@replace': { pattern: 'a', value: 'x' } }, { '@replace': { replacement: 'a', value: 'x' } },
  { '@replace': { pattern: 'a', replacement: 'b', value: 'x', global: 'yes' } }, { '@json': { mode: 'both', value: 'x' } },
  { '@json': { value: 'x' } }, { '@flatten': { value: { a: { b: 1 } } } }, { '@flatten': { separator: 1, value: {} } },
  { '@merge': { objects: [] } }, { '@merge': { direction: 'up', objects: [{}] } }, { '@merge': { direction: 'left', objects: 'x' } },
  { '@arrayPath': 'x' }, { '@arrayPath': [] }, { '@arrayPath': ['$.a', {}, 3] }, { '@transform': { apply: 'x', mapping: {} } },
  { '@transform': { mapping: {} } }, { '@liquid': 3 }, { '@liquid': '{% if %}' }, { '@liquid': '{{ x | nofilter }}' },
  { '@excludeWhenNull': 3 }, { '@literal': 1, '@path': '$.e' }, { '@template': '{{' }];
function mappingValue(depth, inApply = false) {
  if (random() < 0.02) return pick(malformed);
  const r = random();
  if (depth > 2 || r < 0.3) return { '@path': pick(paths) };
  if (r < 0.38) return pick(['lit', 3, 0, '', null, true, false, 2.5, [], {}, ['a', 1]]);
  if (r < 0.45) return { '@template': pick(templates) };
  if (r < 0.52) return { '@if': { [pick(['exists', 'blank'])]: mappingValue(depth + 1, inApply), then: mappingValue(depth + 1, inApply), else: mappingValue(depth + 1, inApply) } };
  if (r < 0.58) return { '@case': { operator: pick(['lower', 'upper']), value: mappingValue(depth + 1, inApply) } };
  if (r < 0.64) {
    return { '@replace': { pattern: pick(['a', ' ', '-', '.', 'A', 'ß', 'SS', 's', 'S', 'k', 'K', 'i', 'I', 'σ', 'Σ', 'ς', 'ǆ', 'à', '😀', 'ﬁ']), replacement: pick(['', 'X', '$&', '$$', '$`', "$'", '$1', '$<n>', '$', 'a$&b$$']), global: pick([true, false]),
      ignorecase: pick([true, false]), value: mappingValue(depth + 1, inApply) } };
  }
  if (r < 0.70) {
    const item = pick([undefined, { s: { '@path': '$.sku' }, p: { '@path': '$.price' } },
      { t: { '@template': '{{sku}}:{{price}}' }, c: { '@case': { operator: 'upper', value: { '@path': '$.sku' } } },
        e: { '@if': { exists: { '@path': '$.qty' }, then: { '@path': '$.qty' }, else: 0 } } },
      ...(inApply ? [] : [{ '@path': '$.sku' }, 'lit'])]);
    return { '@arrayPath': [pick(paths), item].filter((x) => x !== undefined) };
  }
  if (r < 0.75) return { '@merge': { direction: pick(['left', 'right']), objects: [mappingValue(depth + 1, inApply), mappingValue(depth + 1, inApply)] } };
  if (r < 0.80) return { '@json': { mode: pick(['encode', 'decode']), value: mappingValue(depth + 1, inApply) } };
  if (r < 0.85) return { '@flatten': { value: mappingValue(depth + 1, inApply), separator: pick(['.', '_']) } };
  if (r < 0.88) return { '@literal': pick(['x', 1, null, { a: 1 }]) };
  if (r < 0.92) return { '@excludeWhenNull': mappingValue(depth + 1, inApply) };
  if (r < 0.96) {
    return { '@transform': { apply: { a: mappingValue(depth + 1, true), b: mappingValue(depth + 1, true) },
      mapping: { x: { '@path': '$.a' }, y: { '@template': '{{b}}' } } } };
  }
  return { k1: mappingValue(depth + 1, inApply), k2: mappingValue(depth + 1, inApply) };
}

// Liquid on everyday values: filters, chains, conditions and property reads, and the literals
// `nil`, `empty` and `blank` (objects in liquidjs) filtered, assigned and compared on either
// side. Left out, as the README lists it: `round` to a fractional number of digits.
const variables = ['properties.p1', 'properties.p2', 'properties.p3', 'properties.s1', 'properties.missing', 'properties.coupon',
  'properties.name', 'properties.e', 'properties.arr', 'properties.obj', 'properties.t', 'properties.word', 'properties.tags',
  'properties.big', 'properties.small', 'properties.huge', 'properties.frac', 'properties.uni', 'properties.uni2',
  'properties.emoji', 'properties.deseret', 'properties.ключ', 'properties["a b"]', 'properties["😀"]', 'properties["a.b"]',
  'nil', 'empty', 'blank'];
const filters = ['round', 'round: 1', 'round: 2', 'round: 3', 'round: -1', 'ceil', 'floor', 'abs', 'plus: properties.p2',
  'minus: properties.p3', 'times: properties.p2', 'divided_by: properties.p3', 'divided_by: 3, true', 'modulo: 7',
  'at_least: properties.p2', 'at_most: 5', 'json', 'size', 'default: "d"', 'upcase', 'downcase', 'capitalize', 'append: "!"',
  'prepend: "$"', 'truncate: 5', 'truncatewords: 1', 'split: ","', 'join: "-"', 'first', 'last', 'strip', 'escape',
  'url_encode', 'slice: 1, 2', 'replace: "a", "b"', 'remove: "a"', 'times: 100 | round', 'times: 1.0825 | round: 2',
  'plus: 0.1 | times: 3', 'truncate: 3', 'truncate: 9, ""', 'slice: -2', 'slice: 0, 1', 'truncatewords: 2, "~"',
  'replace: "ß", "ss"', 'escape_once', 'upcase | downcase', 'capitalize | size'];
const operands = ['properties.p1', 'properties.zero', 'properties.name', 'properties.e', 'properties.sp', 'properties.t',
  'properties.f', 'properties.coupon', 'properties.arr', 'properties.emptyarr', 'properties.obj', 'properties.emptyobj',
  'properties.num', 'properties.neg', 'properties.missing'];
const literals = ['3', '"3"', '"Ada"', '""', '2.5', 'nil', 'empty', 'blank', 'true', 'false', '0', '-1', '"a"'];
const keys = ['[0]', '[1]', '[-1]', '[1.0]', '["1"]', '.length', '.size', '.first', '.last', '.0', '[99]'];
function liquidTemplate() {
  const r = random();
  if (r < 0.5) {
    const more = random() < 0.3 ? ` | ${pick(filters)}` : '';
    return `{{ ${pick(variables)} | ${pick(filters)}${more} }}`;
  }
  if (r < 0.6) return `{{ ${price()} | round: ${pick([0, 1, 2, 3])} }}`;
  if (r < 0.7) return `{{ ${pick(['properties.word', 'properties.uni', 'properties.tags', 'properties.products', 'properties.obj', 'properties.p1'])}${pick(keys)} | json }}`;
  if (r < 0.8) return `{% assign a = ${pick(variables)} %}{{ a | json }}|{% if a %}t{% endif %}`;
  const comparison = () => `${pick([...operands, 'nil', 'empty', 'blank'])} ${pick(['==', '!=', '<', '>', '<=', '>=', 'contains'])} ${pick([...operands, ...literals])}`;
  const condition = random() < 0.3 ? `${comparison()} ${pick(['and', 'or'])} ${comparison()}` : comparison();
  return random() < 0.8 ? `{% if ${condition} %}T{% else %}F{% endif %}` : `{% unless ${condition} %}T{% else %}F{% endunless %}`;
}

// Triggers: comparisons, `contains` and `match`, negations, `and`/`or` and parentheses over
// fields that are present, missing, null, numbers, booleans, text, arrays and objects.
const events = [
  { type: 'track', event: 'Order Completed', userId: 'u-1', properties: { total: 27.5, price: 100, name: 'Nike Air', tags: ['a'], flag: true, none: null, code: '123', nested: { x: 1 }, empty: '', uni: '😀 Straße' }, context: { library: { name: 'analytics.js', version: '2.1.0' }, ip: '1.1.1.1' } },
  { type: 'track', event: 'Product Added', anonymousId: 'a-1', properties: { total: '30', price: 99.99, name: 'Button X', flag: false, code: 123, uni: 'x😀' }, context: { library: { name: 'analytics-node', version: '1.0' } } },
  { type: 'identify', userId: 'u-2', traits: { name: 'Ada', logins: 150, age: 49 }, context: {} },
  { type: 'page', name: 'Home', properties: { total: 0, name: null } },
  { type: 'track', event: 'Click', userId: '', properties: {} },
];
const fields = ['type', 'event', 'name', 'userId', 'anonymousId', 'properties.total', 'properties.price', 'properties.name',
  'properties.tags', 'properties.flag', 'properties.none', 'properties.code', 'properties.nested', 'properties.empty',
  'properties.missing', 'traits.name', 'traits.logins', 'traits.age', 'context.library.name', 'context.library.version',
  'context.ip', 'properties.uni'];
const triggerLiterals = ['"track"', "'track'", '"Order Completed"', '"Nike Air"', '"123"', '123', '100', '99.99', '27.5',
  '-1', '0', '"0"', 'true', 'false', 'null', '"Ada"', '""', '30', '"30"', '150', '1e2', '"x😀"', '"😀 Straße"'];
const patterns = ['"Order*"', '"*X"', '"X*"', '"*Air"', '"2.*"', '"1.*"', '"*"', '"Nike*"', '"B?tton*"', "'Button *'",
  '"😀*"', '"*😀"', '"?😀"', '"??😀"', '"*ße"', '"😀 S?raße"'];
function atom() {
  const r = random();
  const field = pick(fields);
  if (r < 0.6) return `${field} ${pick(['=', '!=', '<', '>', '<=', '>='])} ${pick(triggerLiterals)}`;
  if (r < 0.8) return `${pick(['', '!'])}contains(${field}, ${pick(['"Nike"', '"b"', '"1"', '"Order"', '"js"', '""', '"😀"', '"ß"'])})`;
  return `${pick(['', '!'])}match(${field}, ${pick(patterns)})`;
}
function trigger(depth) {
  if (depth > 2 || random() < 0.4) return atom();
  const inner = `${trigger(depth + 1)} ${pick(['and', 'or'])} ${trigger(depth + 1)}`;
  return random() < 0.4 ? `(${inner})` : inner;
}

const cases = [];
if (kind === 'triggers') {
  for (let i = 0; i < Number(countText); i++) {
    const source = trigger(0);
    const parsed = parseFql(source);
    if (parsed.error) cases.push({ trigger: source, error: String(parsed.error.message ?? parsed.error).slice(0, 200) });
    else {
      // `validate` throws on some trees it parsed (a `!` before a group, for one): `null`.
      const matches = events.map((event) => {
        try {
          return validate(parsed, event);
        } catch {
          return null;
        }
      });
      cases.push({ trigger: source, matches });
    }
  }
  // Printed, not followed by `process.exit`: a pipe would lose what is not written yet.
  console.log(JSON.stringify({ events, cases }));
}
// Cases where a lone surrogate is carried on past what `wellFormed` (below) can align: an
// `@json` text of a string with characters outside the Basic Multilingual Plane (spread by
// `@merge` into halves, whose escapes a later `@merge` spreads again), and `encodeURIComponent`
// of a half (`URI malformed`). The bridge has U+FFFD there (the README's deliberate
// differences), so these are not compared: another case is drawn instead.
const astral = ['$.properties.uni', '$.properties.emoji', '$.properties.deseret'];
const carriesHalves = (mapping, error) =>
  error?.startsWith('URI malformed') ||
  (JSON.stringify(mapping).includes('"@json"') && astral.some((path) => JSON.stringify(mapping).includes(`"${path}"`)));
while (kind !== 'triggers' && cases.length < Number(countText)) {
  const mapping = kind === 'liquid' ? { v: { '@liquid': liquidTemplate() } } : { out: mappingValue(0), other: mappingValue(1) };
  try {
    // A copy: `transform` fills in some directives' defaults (`@replace`) in the mapping it is
    // given, and the bridge must be given the mapping as written.
    const result = transform(structuredClone(mapping), payload);
    if (!carriesHalves(mapping)) cases.push({ mapping, result: result === undefined ? null : result });
  } catch (error) {
    const message = String(error.message).slice(0, 200);
    if (!carriesHalves(mapping, message)) cases.push({ mapping, error: message });
  }
}
// A lone surrogate (half of a character outside the Basic Multilingual Plane, which JavaScript
// can cut: `slice`, `truncate`, `@merge` spreading a string into its UTF-16 code units) is
// U+FFFD in the bridge's strings, as LaunchDarkly keeps it, also where Segment's code writes
// it into JSON text as an escape (`@json`, Liquid's `json`: JSON.stringify escapes only lone
// surrogates). Left out as the README lists it: `split: ""`, whose pieces are characters in
// the bridge and UTF-16 code units in liquidjs.
const wellFormed = (value) => {
  if (typeof value === 'string') return value.toWellFormed().replace(/\\ud[89a-f][0-9a-f]{2}/g, '\ufffd');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.toWellFormed(), wellFormed(inner)]));
  }
  return value;
};
if (kind !== 'triggers') console.log(JSON.stringify({ payload, cases: cases.map(wellFormed) }));
