// JavaScript's Date.parse (V8, in Node) and dayjs, as Segment's destination reads an event's
// timestamp, as an oracle for tests/date_parse_differential.rs: random date-like text (the
// forms people and libraries write: ISO 8601 and its variants, RFC 2822, `May 6, 2024`,
// `5/6/2024 7:08 PM`, zone names and offsets, comments in parentheses, words around them),
// some of it mutated character by character, each with what both read it as.
// `TZ=UTC node bench/date-parse-oracle.mjs SEED COUNT` prints
// `[[text, Date.parse(text) | null, dayjs(text).valueOf() | null], ...]` (null: NaN, invalid).
import { createRequire } from 'node:module';
import { seeded } from './lib/random.mjs';

const require = createRequire(import.meta.url);
const dayjs = require('dayjs');

const [seedText = '1', countText = '1000'] = process.argv.slice(2);
const { random, pick, chance } = seeded(seedText);
const int = (low, high) => low + Math.floor(random() * (high - low + 1));
const pad = (n, width) => String(n).padStart(width, '0');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Monday', 'Thursday'];

const year = () => pick([() => int(1990, 2030), () => int(0, 99), () => int(100, 9999), () => int(10000, 300000), () => 2024])();
const month = () => pick([() => int(1, 12), () => int(0, 13), () => 5]);
const dayOfMonth = () => pick([() => int(1, 28), () => int(0, 32), () => 6]);
const twoDigits = (n) => (chance(0.7) ? pad(n, 2) : String(n));
const monthName = () => {
  const index = int(0, 11);
  return pick([MONTHS[index], LONG_MONTHS[index], MONTHS[index].toUpperCase(), MONTHS[index].toLowerCase(), `${MONTHS[index]}.`, 'Mayday', 'Ma']);
};

const datePart = () =>
  pick([
    () => `${monthName()} ${dayOfMonth()()}, ${year()}`,
    () => `${monthName()} ${dayOfMonth()()} ${year()}`,
    () => `${dayOfMonth()()} ${monthName()} ${year()}`,
    () => `${year()} ${monthName()} ${dayOfMonth()()}`,
    () => `${monthName()} ${year()}`,
    () => `${monthName()} ${dayOfMonth()()}`,
    () => `${dayOfMonth()()}-${monthName()}-${year()}`,
    () => `${month()()}/${dayOfMonth()()}/${year()}`,
    () => `${year()}/${month()()}/${dayOfMonth()()}`,
    () => `${twoDigits(month()())}-${twoDigits(dayOfMonth()())}-${year()}`,
    () => `${dayOfMonth()()}.${month()()}.${year()}`,
    () => `${pad(year(), 4)}-${twoDigits(month()())}-${twoDigits(dayOfMonth()())}`,
    () => `${pad(year(), 4)}-${twoDigits(month()())}`,
    () => `${pad(year(), 4)}`,
    () => `${pick(['+', '-'])}${pad(year(), 6)}-${twoDigits(month()())}-${twoDigits(dayOfMonth()())}`,
    () => `${pick(['+', '-'])}000000-01-01`,
    () => `${month()()} ${dayOfMonth()()} ${year()}`,
    () => `${year()}`,
  ])();

const timePart = () =>
  pick([
    () => '',
    () => `${twoDigits(int(0, 23))}:${pad(int(0, 59), 2)}`,
    () => `${twoDigits(int(0, 23))}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}`,
    () => `${twoDigits(int(0, 23))}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}.${pick(['5', '12', '123', '1234', '1234567890123', '000', '999'])}`,
    () => `${int(1, 12)}${pick([':' + pad(int(0, 59), 2), ''])} ${pick(['AM', 'PM', 'am', 'pm', 'a.m.'])}`,
    () => `${int(0, 13)}:${pad(int(0, 59), 2)}${pick(['am', 'pm', ' PM'])}`,
    () => pick(['24:00', '24:00:00', '24:00:01', '25:00', '12:60', '23:59:60', '7::', '7:', '07:08:09:10', '07:08.5', '7.08', '07:08:09,5']),
  ])();

const zonePart = () =>
  pick([
    () => '',
    () => pick(['Z', 'z', ' Z', 'GMT', ' GMT', ' UTC', ' UT', ' utc', ' EST', ' EDT', ' CST', ' CDT', ' MST', ' MDT', ' PST', ' PDT', ' CET', ' BST']),
    () => `${pick([' GMT', ' UTC', ' ', '', ' Z'])}${pick(['+', '-'])}${pick(['2', '02', '0200', '200', '02:00', '05:30', '12345', '', '14:00', '596523:', '596524:'])}`,
    () => pick([' (Central European Summer Time)', ' (PDT)', ' (nested (parens))', ' (unclosed', ')']),
  ])();

const isoText = () => {
  const ms = int(-62_000_000_000_000, 253_000_000_000_000);
  const iso = new Date(ms).toISOString();
  return pick([
    () => iso,
    () => iso.replace(/\.\d{3}Z$/, 'Z'),
    () => iso.replace('Z', pick(['+00:00', '+0000', '-05:30', '+02', '+2400', '+23:59'])),
    () => iso.replace('T', ' '),
    () => iso.replace('T', 't').replace('Z', 'z'),
    () => iso.slice(0, 16) + 'Z',
    () => iso.slice(0, 13) + 'Z',
    () => iso.slice(0, 10) + 'T24:00:00Z',
    () => iso.replace(/\.\d{3}/, `.${pick(['1', '12', '1234', '123456789', '1234567891234'])}`),
    () => ` ${iso}`,
    () => `${iso} `,
    () => new Date(ms).toUTCString(),
    () => new Date(ms).toString(),
    () => new Date(ms).toString().replace(/ \(.*\)$/, ''),
  ])();
};

const legacyText = () => {
  const prefix = pick(['', '', '', `${pick(DAYS)}, `, `${pick(DAYS)} `, 'on ', '(note) ', 'x']);
  const date = datePart();
  const time = timePart();
  const separator = time === '' ? '' : pick([' ', ' ', 'T', ', ', ' at ']);
  return `${prefix}${date}${separator}${time}${time === '' && chance(0.7) ? '' : zonePart()}`;
};

const ALPHABET = ['0', '1', '2', '5', '9', ' ', ' ', ',', '-', '+', '/', '.', ':', '(', ')', 'T', 'Z', 'a', 'M', 'p', 'm', 'GMT', 'May', '\u00a0', 'é', '😀', '\t', '\u0000', '24', '000000'];
const mutate = (text) => {
  const chars = Array.from(text);
  for (let n = int(1, 3); n > 0; n--) {
    const at = int(0, chars.length);
    const change = int(0, 2);
    if (change === 0) chars.splice(at, 1);
    else if (change === 1) chars.splice(at, 0, pick(ALPHABET));
    else chars[at] = pick(ALPHABET);
  }
  return chars.join('');
};
const noise = () => Array.from({ length: int(1, 12) }, () => pick(ALPHABET)).join('');

const read = (text) => {
  const parsed = Date.parse(text);
  const day = dayjs(text);
  return [text, Number.isNaN(parsed) ? null : parsed, day.isValid() ? day.valueOf() : null];
};

const cases = [];
for (let i = 0, count = Number(countText); i < count; i++) {
  const base = pick([isoText, legacyText, legacyText, noise])();
  cases.push(read(chance(0.3) ? mutate(base) : base));
}
console.log(JSON.stringify(cases));
