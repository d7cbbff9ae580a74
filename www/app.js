// The playground: runs the bridge's core (compiled to WebAssembly, see src/playground.rs) on the
// event and the configuration being edited, and shows exactly what LaunchDarkly would receive.
// Vanilla JS, no dependencies. Every problem is shown next to what caused it; nothing throws
// past this module (see `guard`).
import init, * as core from './pkg/segment_ld_bridge.js';
import { SAMPLES } from './samples.js';
import { formatJson, highlightJson, inlineJson, offsetOf, sameJson } from './json.js';

const STORAGE_KEY = 'segment-ld-bridge/playground/v1';
const DEFAULT_CLIENT_SIDE_ID = 'your-client-side-id';
const EVENTS_HOSTS = ['us', 'eu', 'federal'];

/** Segment's Track Event preset and field descriptions, from the core. */
let PRESET = null;
/** What is being edited; saved in localStorage. */
let state = null;
/** The last result computed without problems, shown (dimmed) while there are some. */
let lastGood = null;

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (selector, root = document) => root.querySelector(selector);

/** Builds an element: `h('div', {class: 'x', onclick: f}, 'text', child)`. Never parses HTML. */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), guard(value));
    else if (name === 'class') node.className = value;
    else if (name === 'value') node.value = value;
    else if (name === 'checked') node.checked = Boolean(value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const code = (text, attributes = {}) => h('code', attributes, text);

/** Wraps a handler so that an exception is shown instead of escaping. */
function guard(fn) {
  return (...args) => {
    try {
      const result = fn(...args);
      if (result && typeof result.catch === 'function') result.catch(showFatal);
      return result;
    } catch (error) {
      showFatal(error);
      return undefined;
    }
  };
}

function showFatal(error) {
  const box = $('#fatal');
  if (!box) return;
  box.replaceChildren(
    h('strong', {}, 'Something went wrong: '),
    String(error?.message ?? error),
    h('span', { class: 'muted' }, ' The page keeps working; "Start over" resets it.'),
  );
  box.hidden = false;
  console.error(error);
}

// ---------------------------------------------------------------------------------------------
// State

function presetFieldText(name) {
  return formatJson(PRESET.mapping[name]);
}

function newDestination(index) {
  return {
    name: index === 0 ? 'production' : `environment-${index + 1}`,
    client_side_id: DEFAULT_CLIENT_SIDE_ID,
    events_host: 'us',
    keys: '',
    unknown_event_keys: 'send',
  };
}

function newSubscription(name = PRESET.subscription_name) {
  const fields = {};
  for (const field of PRESET.fields) fields[field.name] = presetFieldText(field.name);
  return { name, trigger: PRESET.trigger, enabled: true, destinations: null, fields };
}

function defaultState() {
  return {
    sample: SAMPLES[0].id,
    event: formatJson(SAMPLES[0].event),
    sourceId: '',
    destinations: [newDestination(0)],
    subscriptions: [newSubscription()],
    sources: '',
  };
}

function loadState() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (saved && Array.isArray(saved.destinations) && Array.isArray(saved.subscriptions) && typeof saved.event === 'string') {
      for (const subscription of saved.subscriptions) {
        for (const field of PRESET.fields) {
          if (typeof subscription.fields?.[field.name] !== 'string') throw new Error('old format');
        }
      }
      return saved;
    }
  } catch {
    // A saved state from another version: start again.
  }
  return defaultState();
}

let saveTimer = 0;
function saveState() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch {
      // Private mode or full storage: the page works without it.
    }
  }, 300);
}

/** A bridge configuration document (from an import or a saved file) as editable state. */
function stateFromDocument(doc) {
  const destinations = (Array.isArray(doc.destinations) ? doc.destinations : []).map((d, i) => ({
    ...newDestination(i),
    name: String(d?.name ?? ''),
    client_side_id: String(d?.client_side_id ?? ''),
    events_host: String(d?.events_host ?? 'us'),
    keys: Array.isArray(d?.metric_event_keys) ? d.metric_event_keys.join('\n') : '',
    unknown_event_keys: d?.unknown_event_keys === 'drop' ? 'drop' : 'send',
  }));
  const names = destinations.map((d) => d.name);
  const subscriptions = (Array.isArray(doc.subscriptions) ? doc.subscriptions : [{}]).map((s) => {
    const subscription = newSubscription(String(s?.name ?? PRESET.subscription_name));
    if (typeof s?.trigger === 'string') subscription.trigger = s.trigger;
    subscription.enabled = s?.enabled !== false;
    if (Array.isArray(s?.destinations)) {
      subscription.destinations = s.destinations.map((n) => names.indexOf(n)).filter((i) => i >= 0);
    }
    if (s?.mapping && typeof s.mapping === 'object') setFields(subscription, s.mapping);
    return subscription;
  });
  return {
    ...state,
    destinations: destinations.length ? destinations : [newDestination(0)],
    subscriptions,
    sources: doc.sources === undefined ? '' : formatJson(doc.sources),
  };
}

/** Lays a mapping (`null` = unmapped) over a subscription's fields. */
function setFields(subscription, mapping) {
  for (const [name, value] of Object.entries(mapping)) {
    subscription.fields[name] = value === null ? '' : formatJson(value);
  }
}

// ---------------------------------------------------------------------------------------------
// The configuration document

/** Parses one editor's JSON with the core's parser; `hint` explains common slips. */
function parseEditor(text) {
  const parsed = core.parse_json(text);
  if (parsed.ok) return parsed;
  const trimmed = text.trim();
  if (trimmed.startsWith('$')) parsed.message += ` (a path is written {"@path": ${JSON.stringify(trimmed)}})`;
  else if (trimmed && !/^[[{"\d-]|^(true|false|null)\b/.test(trimmed)) parsed.message += ` (a constant string needs quotes: ${JSON.stringify(trimmed)})`;
  return parsed;
}

/**
 * The configuration document, exactly as `BRIDGE_CONFIG` and `segment-ld-bridge check --config`
 * read it: only the Track Event fields that differ from Segment's preset are written. Problems
 * found here (JSON syntax in a field) come back located like the core's.
 */
function buildDocument() {
  const problems = [];
  const destinations = state.destinations.map((d) => {
    const out = { name: d.name, client_side_id: d.client_side_id, events_host: d.events_host };
    const keys = d.keys.split('\n').map((k) => k.trim()).filter(Boolean);
    if (keys.length) out.metric_event_keys = keys;
    if (keys.length && d.unknown_event_keys === 'drop') out.unknown_event_keys = 'drop';
    return out;
  });
  const subscriptions = state.subscriptions.map((s, i) => {
    const out = { name: s.name, trigger: s.trigger };
    const mapping = {};
    for (const field of PRESET.fields) {
      const text = s.fields[field.name] ?? '';
      if (!text.trim()) {
        mapping[field.name] = null;
        continue;
      }
      const parsed = parseEditor(text);
      if (!parsed.ok) {
        problems.push({ ...parsed, location: `subscriptions[${i}].mapping.${field.name}` });
        continue;
      }
      if (!sameJson(parsed.value, PRESET.mapping[field.name])) mapping[field.name] = parsed.value;
    }
    if (Object.keys(mapping).length) out.mapping = mapping;
    if (!s.enabled) out.enabled = false;
    if (s.destinations) out.destinations = s.destinations.map((j) => state.destinations[j]?.name).filter((n) => n !== undefined);
    return out;
  });
  const doc = { destinations, subscriptions };
  if (state.sources.trim()) {
    const parsed = parseEditor(state.sources);
    if (parsed.ok) doc.sources = parsed.value;
    else problems.push({ ...parsed, location: 'sources' });
  }
  return { doc, problems };
}

// ---------------------------------------------------------------------------------------------
// Running the core

let runTimer = 0;
function scheduleRun() {
  clearTimeout(runTimer);
  runTimer = setTimeout(guard(runNow), 40);
}

function runNow() {
  const { doc, problems: local } = buildDocument();
  let result;
  try {
    result = core.run(JSON.stringify(doc), state.event, state.sourceId.trim() || undefined, undefined);
  } catch (error) {
    result = { ok: false, problems: [{ location: '', message: `internal error in the bridge core: ${error}` }] };
  }
  const problems = [...local, ...(result.problems ?? [])];
  showProblems(problems, result.ok ? result.warnings ?? [] : []);
  if (problems.length === 0 && result.ok) lastGood = result;
  renderResult(problems.length === 0 && result.ok ? result : lastGood, problems);
  saveState();
}

// ---------------------------------------------------------------------------------------------
// Problems next to their cause

/** The element showing problems for `location`, or for the closest enclosing location. */
function slotFor(location) {
  let current = location || 'config';
  for (;;) {
    const slot = document.querySelector(`[data-problems="${CSS.escape(current)}"]`);
    if (slot) return slot;
    const shorter = current.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (!shorter || shorter === current) return $('[data-problems="config"]');
    current = shorter;
  }
}

function showProblems(problems, warnings) {
  for (const slot of document.querySelectorAll('[data-problems]')) {
    if (slot.dataset.problems === 'import') continue;
    slot.replaceChildren();
    slot.hidden = true;
  }
  for (const node of document.querySelectorAll('.invalid')) node.classList.remove('invalid');
  for (const problem of problems) {
    const slot = slotFor(problem.location);
    slot.append(problemNode(problem, slot, 'problem'));
    slot.hidden = false;
    slot.closest('.has-problems')?.classList.add('invalid');
  }
  for (const warning of warnings) {
    const slot = slotFor(warning.location);
    slot.append(problemNode(warning, slot, 'warning'));
    slot.hidden = false;
  }
}

function problemNode(problem, slot, kind) {
  const label = kind === 'problem' ? '✖' : '⚠';
  const where = problem.location && slot.dataset.problems !== problem.location ? code(problem.location) : null;
  const node = h('div', { class: kind }, h('span', { class: 'icon', 'aria-hidden': 'true' }, label), ' ', where, where ? ' ' : '', problem.message);
  const editor = slot.parentElement?.querySelector('textarea');
  if (problem.line && editor) {
    node.append(' ', h('button', { type: 'button', class: 'link', onclick: () => selectAt(editor, problem.line, problem.column) }, 'show'));
  }
  return node;
}

function selectAt(editor, line, column) {
  const offset = offsetOf(editor.value, line, column);
  editor.focus();
  editor.setSelectionRange(Math.max(0, offset - 1), offset);
}

function focusLocation(location) {
  const slot = slotFor(location);
  const owner = slot.closest('.has-problems') ?? slot.parentElement;
  owner?.scrollIntoView({ block: 'center', behavior: 'smooth' });
  owner?.querySelector('textarea, input, select')?.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------
// The event pane

function renderSamples() {
  const box = $('#samples');
  box.replaceChildren(
    ...SAMPLES.map((sample) => h('button', {
      type: 'button',
      class: 'chip',
      'data-sample': sample.id,
      'aria-pressed': String(state.sample === sample.id),
      onclick: () => pickSample(sample),
    }, sample.label)),
    h('button', {
      type: 'button',
      class: 'chip',
      'data-sample': 'batch',
      'aria-pressed': String(state.sample === 'batch'),
      title: 'All the samples in one request',
      onclick: () => pickSample({ id: 'batch', event: { batch: SAMPLES.map((s) => s.event) } }),
    }, 'All, as a batch'),
  );
}

function pickSample(sample) {
  state.sample = sample.id;
  state.event = formatJson(sample.event, 70);
  $('#event-editor').value = state.event;
  renderSamples();
  scheduleRun();
}

function bindEventPane() {
  const editor = $('#event-editor');
  editor.value = state.event;
  editor.addEventListener('input', guard(() => {
    state.event = editor.value;
    if (state.sample) {
      state.sample = null;
      renderSamples();
    }
    scheduleRun();
  }));
  editor.addEventListener('keydown', guard(indentOnTab));
  $('#event-format').addEventListener('click', guard(() => {
    const parsed = core.parse_json(editor.value);
    if (!parsed.ok) return;
    editor.value = state.event = formatJson(parsed.value, 70);
    scheduleRun();
  }));
  const source = $('#source-id');
  source.value = state.sourceId;
  source.addEventListener('input', guard(() => {
    state.sourceId = source.value;
    scheduleRun();
  }));
}

/** Tab indents by two spaces in code editors (Escape then Tab leaves the editor). */
function indentOnTab(event) {
  if (event.key === 'Escape') {
    event.target.dataset.tabOut = 'true';
    return;
  }
  if (event.key !== 'Tab' || event.shiftKey || event.target.dataset.tabOut === 'true') {
    delete event.target.dataset.tabOut;
    return;
  }
  event.preventDefault();
  const editor = event.target;
  const { selectionStart: start, selectionEnd: end } = editor;
  editor.setRangeText('  ', start, end, 'end');
  editor.dispatchEvent(new Event('input'));
}

// ---------------------------------------------------------------------------------------------
// The configuration form (rebuilt on structural changes only, so typing keeps focus)

function renderConfig() {
  const form = $('#config-form');
  form.replaceChildren();
  append(form, [
    h('div', { class: 'section-head' },
      h('h3', {}, 'Destinations ', h('span', { class: 'muted' }, 'LaunchDarkly environments')),
      h('button', { type: 'button', class: 'small', onclick: addDestination }, '+ Destination')),
    h('div', { class: 'problems', 'data-problems': 'destinations', hidden: true }),
    state.destinations.map(destinationCard),
    h('div', { class: 'section-head' },
      h('h3', {}, 'Subscriptions ', h('span', { class: 'muted' }, 'trigger + Track Event mapping')),
      h('button', { type: 'button', class: 'small', onclick: addSubscription }, '+ Subscription')),
    h('div', { class: 'problems', 'data-problems': 'subscriptions', hidden: true }),
    state.subscriptions.map(subscriptionCard),
    sourcesCard(),
  ]);
}

function input(location, value, onInput, attributes = {}) {
  return h('input', {
    value,
    spellcheck: 'false',
    autocomplete: 'off',
    'data-location': location,
    oninput: (event) => {
      onInput(event.target.value);
      scheduleRun();
    },
    ...attributes,
  });
}

/** A labelled control with its problem slot. */
function row(label, location, control, help) {
  return h('div', { class: 'row has-problems' },
    h('label', {}, label, help ? h('span', { class: 'help' }, help) : null, control),
    h('div', { class: 'problems', 'data-problems': location, hidden: true }));
}

function destinationCard(d, i) {
  const at = `destinations[${i}]`;
  return h('article', { class: 'card destination', 'data-location': at },
    h('div', { class: 'card-head' },
      h('strong', { 'data-destination-label': i }, d.name || `destination ${i + 1}`),
      state.destinations.length > 1
        ? h('button', { type: 'button', class: 'small quiet', title: 'Remove this destination', onclick: () => removeDestination(i) }, 'Remove')
        : null),
    h('div', { class: 'problems', 'data-problems': at, hidden: true }),
    h('div', { class: 'grid2' },
      row('Name', `${at}.name`, input(`${at}.name`, d.name, (v) => { d.name = v; relabel(`[data-destination-label="${i}"]`, v || `destination ${i + 1}`); })),
      row('Events host', `${at}.events_host`, input(`${at}.events_host`, d.events_host, (v) => { d.events_host = v; }, { list: 'events-hosts', placeholder: 'us' }))),
    row('Client-side ID', `${at}.client_side_id`, input(`${at}.client_side_id`, d.client_side_id, (v) => { d.client_side_id = v; }, { placeholder: 'the environment\'s client-side ID' })),
    row('Metric event keys', `${at}.metric_event_keys`,
      h('textarea', {
        class: 'code keys',
        rows: 3,
        spellcheck: 'false',
        placeholder: 'Paste the event keys of your LaunchDarkly metrics, one per line, to check the events against them',
        'data-location': `${at}.metric_event_keys`,
        value: d.keys,
        oninput: (event) => { d.keys = event.target.value; scheduleRun(); },
      })),
    row('Unknown event keys', `${at}.unknown_event_keys`,
      h('select', {
        'data-location': `${at}.unknown_event_keys`,
        onchange: (event) => { d.unknown_event_keys = event.target.value; scheduleRun(); },
      },
      h('option', { value: 'send', selected: d.unknown_event_keys !== 'drop' }, 'send, and report (default)'),
      h('option', { value: 'drop', selected: d.unknown_event_keys === 'drop' }, 'drop, and report'))),
  );
}

function subscriptionCard(s, i) {
  const at = `subscriptions[${i}]`;
  const all = s.destinations === null;
  return h('article', { class: `card subscription${s.enabled ? '' : ' disabled'}`, 'data-location': at },
    h('div', { class: 'card-head' },
      h('strong', { 'data-subscription-label': i }, s.name || `subscription ${i + 1}`),
      h('label', { class: 'toggle' }, h('input', {
        type: 'checkbox',
        checked: s.enabled,
        'data-location': `${at}.enabled`,
        onchange: (event) => { s.enabled = event.target.checked; renderConfig(); scheduleRun(); },
      }), ' enabled'),
      state.subscriptions.length > 1
        ? h('button', { type: 'button', class: 'small quiet', title: 'Remove this subscription', onclick: () => removeSubscription(i) }, 'Remove')
        : null),
    h('div', { class: 'problems', 'data-problems': at, hidden: true }),
    h('div', { class: 'grid2' },
      row('Name', `${at}.name`, input(`${at}.name`, s.name, (v) => { s.name = v; relabel(`[data-subscription-label="${i}"]`, v || `subscription ${i + 1}`); })),
      row('Destinations', `${at}.destinations`, h('div', { class: 'checks' },
        state.destinations.map((d, j) => h('label', {}, h('input', {
          type: 'checkbox',
          checked: all || s.destinations.includes(j),
          onchange: (event) => toggleSubscriptionDestination(s, j, event.target.checked),
        }), ' ', h('span', { 'data-destination-label': j }, d.name || `destination ${j + 1}`)))))),
    row('Trigger', `${at}.trigger`, input(`${at}.trigger`, s.trigger, (v) => { s.trigger = v; }, { class: 'code', placeholder: PRESET.trigger }), 'Segment\'s trigger language'),
    h('div', { class: 'mapping-head' },
      h('h4', {}, 'Track Event field mapping'),
      h('span', { class: 'muted' }, 'Segment\'s mapping JSON; empty = unmapped')),
    h('div', { class: 'problems', 'data-problems': `${at}.mapping`, hidden: true }),
    PRESET.fields.map((field) => fieldEditor(s, i, field)),
  );
}

function fieldState(s, name) {
  const text = s.fields[name] ?? '';
  if (!text.trim()) return 'unmapped';
  const parsed = core.parse_json(text);
  if (parsed.ok && sameJson(parsed.value, PRESET.mapping[name])) return 'preset';
  return 'custom';
}

function fieldEditor(s, i, field) {
  const location = `subscriptions[${i}].mapping.${field.name}`;
  const badge = h('span', { class: 'badge' });
  const setBadge = () => {
    const current = fieldState(s, field.name);
    badge.textContent = current;
    badge.className = `badge ${current}`;
  };
  const editor = h('textarea', {
    class: 'code field-editor',
    spellcheck: 'false',
    rows: Math.min(8, Math.max(1, (s.fields[field.name] ?? '').split('\n').length)),
    placeholder: field.required ? 'required' : 'unmapped',
    'data-location': location,
    'data-field': field.name,
    'aria-label': `${field.label} (${field.name}) mapping`,
    value: s.fields[field.name] ?? '',
    oninput: (event) => {
      s.fields[field.name] = event.target.value;
      event.target.rows = Math.min(12, Math.max(1, event.target.value.split('\n').length));
      setBadge();
      scheduleRun();
    },
    onkeydown: indentOnTab,
  });
  setBadge();
  const reset = () => {
    s.fields[field.name] = presetFieldText(field.name);
    editor.value = s.fields[field.name];
    editor.dispatchEvent(new Event('input'));
  };
  const clear = () => {
    s.fields[field.name] = '';
    editor.value = '';
    editor.dispatchEvent(new Event('input'));
  };
  return h('div', { class: 'field has-problems', 'data-field': field.name },
    h('div', { class: 'field-head' },
      h('div', { class: 'field-title' },
        h('span', { class: 'field-name', title: field.help }, field.label, field.required ? h('span', { class: 'required', title: 'required' }, '*') : null, ' ', code(field.name)),
        h('span', { class: 'arrow', title: 'where it goes in the LaunchDarkly event' }, '→ ', code(field.output)),
        badge),
      h('span', { class: 'field-actions' },
        h('button', { type: 'button', class: 'link', title: 'Back to Segment\'s preset', onclick: reset }, 'preset'),
        field.required ? null : h('button', { type: 'button', class: 'link', title: 'Leave this field unmapped', onclick: clear }, 'unmap'))),
    editor,
    h('div', { class: 'problems', 'data-problems': location, hidden: true }),
  );
}

function sourcesCard() {
  return h('details', { class: 'card sources has-problems', open: state.sources.trim() ? true : undefined },
    h('summary', {}, 'Sources ', h('span', { class: 'muted' }, 'optional: which Segment source goes where (JSON array)')),
    h('textarea', {
      class: 'code',
      rows: 5,
      spellcheck: 'false',
      'data-location': 'sources',
      placeholder: '[{"name": "web", "source_ids": ["web"], "destinations": ["production"], "default": true}]',
      value: state.sources,
      oninput: (event) => { state.sources = event.target.value; scheduleRun(); },
      onkeydown: indentOnTab,
    }),
    h('div', { class: 'problems', 'data-problems': 'sources', hidden: true }),
  );
}

/** Renames a card title or checkbox label in place, so typing a name keeps the focus. */
function relabel(selector, text) {
  for (const node of document.querySelectorAll(selector)) node.textContent = text;
}

function addDestination() {
  state.destinations.push(newDestination(state.destinations.length));
  renderConfig();
  scheduleRun();
}

function removeDestination(index) {
  state.destinations.splice(index, 1);
  for (const s of state.subscriptions) {
    if (s.destinations) s.destinations = s.destinations.filter((j) => j !== index).map((j) => (j > index ? j - 1 : j));
  }
  renderConfig();
  scheduleRun();
}

function addSubscription() {
  const taken = new Set(state.subscriptions.map((s) => s.name));
  let n = state.subscriptions.length + 1;
  while (taken.has(`Subscription ${n}`)) n += 1;
  state.subscriptions.push(newSubscription(`Subscription ${n}`));
  renderConfig();
  scheduleRun();
}

function removeSubscription(index) {
  state.subscriptions.splice(index, 1);
  renderConfig();
  scheduleRun();
}

function toggleSubscriptionDestination(s, j, on) {
  const current = new Set(s.destinations ?? state.destinations.map((_, k) => k));
  if (on) current.add(j);
  else current.delete(j);
  s.destinations = current.size === state.destinations.length ? null : [...current].sort((a, b) => a - b);
  scheduleRun();
}

// ---------------------------------------------------------------------------------------------
// The result pane

function renderResult(result, problems) {
  const box = $('#result');
  const parts = [];
  if (problems.length) {
    parts.push(h('div', { class: 'banner error', 'data-test': 'problems' },
      h('strong', {}, problems.length === 1 ? '1 problem' : `${problems.length} problems`, ', marked where they are:'),
      h('ul', {}, problems.map((p) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => focusLocation(p.location) }, p.location || 'configuration'),
        ': ', p.message))),
      result ? h('p', { class: 'muted' }, 'Below: the last result without problems.') : null));
  }
  if (result) {
    const stale = problems.length > 0;
    parts.push(h('div', { class: stale ? 'stale' : '' },
      countsLine(result),
      result.outcomes.map((o) => outcomeCard(o, result)),
      h('h3', {}, 'Requests to LaunchDarkly'),
      result.deliveries.length
        ? result.deliveries.map(requestCard)
        : h('p', { class: 'muted nothing', 'data-test': 'no-request' }, 'Nothing is sent: no event became a LaunchDarkly event (see above).'),
      provenanceSection(result),
      keyCheckSection(result)));
  }
  box.replaceChildren(...parts);
}

function countsLine(result) {
  const { received, accepted, skipped, rejected } = result.counts;
  const requests = result.deliveries.length;
  return h('p', { class: 'counts', role: 'status' },
    `${received} event${received === 1 ? '' : 's'}: `,
    h('span', { class: 'accepted' }, `${accepted} accepted`), ' · ',
    h('span', { class: 'skipped' }, `${skipped} skipped`), ' · ',
    h('span', { class: 'rejected' }, `${rejected} rejected`),
    ` → ${requests} request${requests === 1 ? '' : 's'}`,
    result.route?.source ? ` (source "${result.route.source}")` : '');
}

function outcomeCard(outcome, result) {
  const several = result.outcomes.length > 1;
  return h('article', { class: `outcome ${outcome.status}`, 'data-test': 'outcome', 'data-status': outcome.status, 'data-reason': outcome.reason },
    h('div', { class: 'outcome-head' },
      h('span', { class: `status ${outcome.status}` }, outcome.status),
      code(outcome.reason),
      several ? h('span', { class: 'muted' }, `event ${outcome.index + 1}`) : null),
    h('p', { class: 'message' }, outcome.message),
    outcome.warnings?.length
      ? h('ul', { class: 'warnings' }, outcome.warnings.map((w) => h('li', { class: `warning ${w.code}`, 'data-code': w.code }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '⚠'), ' ', code(w.code), ' ', w.message)))
      : null);
}

function requestCard(delivery) {
  let pretty = delivery.body;
  try {
    pretty = JSON.stringify(JSON.parse(delivery.body), null, 2);
  } catch {
    // Shown as sent.
  }
  const copied = h('span', { class: 'muted', role: 'status' });
  return h('article', { class: 'request card', 'data-test': 'request', 'data-destination': delivery.destination },
    h('div', { class: 'request-line' },
      h('span', { class: 'method' }, delivery.method), ' ', code(delivery.url, { class: 'url' }),
      h('span', { class: 'muted' }, ` → ${delivery.destination}`)),
    h('table', { class: 'headers' }, h('tbody', {}, delivery.headers.map(([name, value]) => h('tr', {}, h('th', {}, name), h('td', {}, code(value)))))),
    h('pre', { class: 'code body', 'data-test': 'body' }, highlightJson(pretty)),
    h('div', { class: 'request-actions' },
      h('button', { type: 'button', class: 'small', onclick: () => copy(curlCommand(delivery), copied) }, 'Copy as curl'),
      h('details', {}, h('summary', {}, `Exact body as sent (${new TextEncoder().encode(delivery.body).length} bytes)`), h('pre', { class: 'code raw' }, delivery.body)),
      copied));
}

function curlCommand(delivery) {
  const quote = (text) => `'${text.replaceAll("'", "'\\''")}'`;
  return [`curl -X ${delivery.method} ${quote(delivery.url)}`, ...delivery.headers.map(([n, v]) => `-H ${quote(`${n}: ${v}`)}`), `--data-raw ${quote(delivery.body)}`].join(' \\\n  ');
}

function provenanceSection(result) {
  const several = result.events.length > 1;
  const blocks = [];
  for (const trace of result.events) {
    for (const s of trace.subscriptions) {
      const title = [several ? `Event ${trace.index + 1}` : null, `subscription "${s.name}"`].filter(Boolean).join(' · ');
      if (!s.matched) {
        if (!s.failed) continue;
        blocks.push(h('div', { class: 'trace unmatched' },
          h('h4', {}, title, h('span', { class: 'muted' }, ' — trigger not matched')),
          h('p', {}, code(s.trigger), ' failed on: '),
          h('ul', {}, s.failed.map((f) => h('li', {}, code(f.condition), h('span', { class: 'muted' }, ` (actual: ${f.actual})`))))));
        continue;
      }
      if (!s.enabled || !s.reachable) {
        blocks.push(h('div', { class: 'trace unmatched' }, h('h4', {}, title, h('span', { class: 'muted' }, s.enabled ? ' — matched, but none of its destinations is reachable from this source' : ' — matched, but disabled'))));
        continue;
      }
      blocks.push(h('div', { class: 'trace', 'data-test': 'provenance', 'data-subscription': s.name },
        h('h4', {}, title, s.rejection ? h('span', { class: 'status rejected' }, 'rejected') : null),
        s.rejection ? h('p', { class: 'rejection' }, code(s.rejection.code), ' ', s.rejection.message) : null,
        h('div', { class: 'fields' }, s.fields.map(fieldRow))));
    }
  }
  return h('section', { class: 'provenance' },
    h('h3', {}, 'Where each value came from'),
    blocks.length ? blocks : h('p', { class: 'muted' }, 'No subscription handled these events.'));
}

function fieldRow(f) {
  const value = f.state === 'missing' ? h('span', { class: 'muted' }, '—') : code(inlineJson(f.value), { class: 'value' });
  return h('div', { class: `field-row ${f.state}`, 'data-field': f.field },
    h('div', { class: 'ld' }, code(f.output), h('div', { class: 'muted small' }, f.label, f.customized ? h('span', { class: 'badge custom' }, 'custom') : null)),
    h('div', { class: 'how' },
      h('div', {}, value),
      h('div', { class: 'via' }, h('span', { class: 'muted' }, 'from '), code(f.via)),
      f.note ? h('div', { class: `note ${f.state}` }, f.note) : null));
}

function keyCheckSection(result) {
  const section = h('section', { class: 'key-check', 'data-test': 'key-check' }, h('h3', {}, 'Metric key check'));
  if (!result.catalogues.length) {
    return append(section, [h('p', { class: 'muted' },
      'Paste the event keys of your LaunchDarkly metrics into a destination\'s "Metric event keys": each event key is checked against them, exactly, with near misses (case, whitespace, punctuation) pointed out.')]);
  }
  const symbol = { known: '✓', near_miss: '≈', unknown: '✗' };
  const lines = result.key_checks.map((k) => h('li', { class: `key ${k.result}`, 'data-result': k.result },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, symbol[k.result]), ' ', code(JSON.stringify(k.key)),
    k.result === 'known' ? ` is a metric event key of ${k.destination}` : null,
    k.result === 'near_miss' ? [' is not a metric event key of ', k.destination, ': did you mean ', code(JSON.stringify(k.suggestion)), ` (differs in ${k.difference})?`] : null,
    k.result === 'unknown' ? ` matches no metric of ${k.destination}` : null,
    k.result !== 'known' ? h('span', { class: 'muted' }, k.sent ? ' — sent anyway; no metric counts it' : ' — not sent (unknown_event_keys = "drop")') : null));
  append(section, [lines.length ? h('ul', { class: 'keys' }, lines) : h('p', { class: 'muted' }, 'No event produced a metric event key.')]);
  for (const c of result.catalogues) {
    if (c.unfed.length) {
      section.append(h('p', { class: 'muted' }, `Metrics of ${c.destination} no event here feeds: `, c.unfed.map((k, n) => [n ? ', ' : '', code(JSON.stringify(k))])));
    }
  }
  return section;
}

// ---------------------------------------------------------------------------------------------
// Import and export

function openImport() {
  const dialog = $('#import-dialog');
  const target = $('#import-target');
  target.replaceChildren(
    ...state.subscriptions.map((s, i) => h('option', { value: String(i) }, `subscription "${s.name}" (replace its mapping)`)),
    h('option', { value: 'new' }, 'new subscriptions'),
  );
  $('#import-notes').replaceChildren();
  const slot = $('[data-problems="import"]');
  slot.replaceChildren();
  slot.hidden = true;
  dialog.showModal();
  $('#import-text').focus();
}

function applyImport() {
  const text = $('#import-text').value;
  const slot = $('[data-problems="import"]');
  const notes = $('#import-notes');
  slot.replaceChildren();
  slot.hidden = true;
  notes.replaceChildren();
  const parsed = core.parse_json(text);
  if (parsed.ok && parsed.value && typeof parsed.value === 'object' && Array.isArray(parsed.value.destinations)) {
    state = stateFromDocument(parsed.value);
    afterStructuralChange();
    notes.append(h('p', {}, 'Loaded the whole configuration document.'));
    return;
  }
  const imported = core.import_mapping(text, $('#import-absent-unmapped').checked);
  if (!imported.ok) {
    for (const problem of imported.problems) slot.append(problemNode(problem, slot, 'problem'));
    slot.hidden = false;
    return;
  }
  const target = $('#import-target').value;
  const lines = [];
  imported.subscriptions.forEach((found, n) => {
    let subscription;
    if (target !== 'new' && n === 0) {
      subscription = state.subscriptions[Number(target)];
    } else {
      subscription = newSubscription(found.name ?? `Imported ${state.subscriptions.length + 1}`);
      state.subscriptions.push(subscription);
    }
    if (found.name && target === 'new') subscription.name = uniqueName(found.name, subscription);
    if (found.trigger) subscription.trigger = found.trigger;
    if (typeof found.enabled === 'boolean') subscription.enabled = found.enabled;
    setFields(subscription, found.mapping);
    const details = [];
    if (found.unmapped.length) details.push(`unmapped: ${found.unmapped.join(', ')}`);
    if (found.kept_preset.length) details.push(`kept the preset: ${found.kept_preset.join(', ')}`);
    if (found.ignored.length) details.push(`ignored (not Track Event fields): ${found.ignored.join(', ')}`);
    lines.push(`Imported into "${subscription.name}"${details.length ? ` — ${details.join('; ')}` : ''}.`);
  });
  for (const note of imported.notes ?? []) lines.push(note);
  notes.append(...lines.map((line) => h('p', {}, line)));
  afterStructuralChange();
}

function uniqueName(name, self) {
  const taken = new Set(state.subscriptions.filter((s) => s !== self).map((s) => s.name));
  let candidate = name;
  for (let n = 2; taken.has(candidate); n += 1) candidate = `${name} (${n})`;
  return candidate;
}

function openExport() {
  const { doc, problems } = buildDocument();
  const json = JSON.stringify(doc, null, 2);
  const result = core.run(JSON.stringify(doc), '{"type": "track", "event": "export check", "userId": "u"}', undefined, 0);
  const configProblems = [
    ...problems,
    ...(result.problems ?? []).filter((p) => p.location !== 'event' && p.location !== 'source'),
    ...(result.deployment_problems ?? []),
  ];
  const status = $('#export-status');
  status.className = configProblems.length ? 'banner error' : 'banner ok';
  status.textContent = configProblems.length
    ? `This configuration has ${configProblems.length} problem${configProblems.length === 1 ? '' : 's'}: the bridge would refuse it (503). ${configProblems.map((p) => `${p.location}: ${p.message}`).join(' · ')}`
    : 'Valid: the Worker and segment-ld-bridge check read it as it is here.';
  $('#export-json').replaceChildren(highlightJson(json));
  $('#export-toml').textContent = tomlLine(doc);
  $('#export-copied').textContent = '';
  $('#export-dialog').showModal();
}

/** `BRIDGE_CONFIG = "…"`: a TOML basic string holding the compact JSON (JSON escapes are TOML's). */
function tomlLine(doc) {
  return `BRIDGE_CONFIG = ${JSON.stringify(JSON.stringify(doc))}`;
}

async function copy(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    status.textContent = 'Copying is not allowed here: select the text and copy it.';
  }
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function bindDialogs() {
  $('#import-open').addEventListener('click', guard(openImport));
  $('#import-apply').addEventListener('click', guard(applyImport));
  $('#export-open').addEventListener('click', guard(openExport));
  $('#export-copy-json').addEventListener('click', guard(() => copy(JSON.stringify(buildDocument().doc, null, 2), $('#export-copied'))));
  $('#export-copy-toml').addEventListener('click', guard(() => copy(tomlLine(buildDocument().doc), $('#export-copied'))));
  $('#export-download').addEventListener('click', guard(() => download('bridge-config.json', `${JSON.stringify(buildDocument().doc, null, 2)}\n`)));
  $('#live-toggle').addEventListener('click', guard(toggleLive));
  $('#reset').addEventListener('click', guard(() => {
    state = defaultState();
    lastGood = null;
    afterStructuralChange();
  }));
}

function afterStructuralChange() {
  $('#event-editor').value = state.event;
  $('#source-id').value = state.sourceId;
  renderSamples();
  renderConfig();
  scheduleRun();
}

// ---------------------------------------------------------------------------------------------
// Live view: the last requests a running bridge received (GET /dev/recent, open in dev mode or
// with the admin token). Polls only while shown, so a page served elsewhere makes no requests.

const LIVE_TOKEN_KEY = 'segment-ld-bridge/admin-token';
const LIVE_POLL_MS = 2000;
const live = { on: false, timer: 0, busy: false };

function toggleLive() {
  live.on = !live.on;
  const button = $('#live-toggle');
  button.textContent = live.on ? 'Hide' : 'Show';
  button.setAttribute('aria-pressed', String(live.on));
  clearTimeout(live.timer);
  if (live.on) pollLive();
  else $('#live-body').replaceChildren(h('p', { class: 'muted' }, 'Hidden.'));
}

async function pollLive() {
  clearTimeout(live.timer);
  if (!live.on || live.busy) return;
  live.busy = true;
  try {
    await loadLive();
  } finally {
    live.busy = false;
    if (live.on) live.timer = setTimeout(guard(pollLive), document.hidden ? LIVE_POLL_MS * 5 : LIVE_POLL_MS);
  }
}

async function loadLive() {
  const body = $('#live-body');
  if (!/^https?:$/.test(location.protocol)) {
    body.replaceChildren(h('p', { class: 'muted' }, 'The live view needs the page to be served by a running bridge.'));
    return;
  }
  let token = '';
  try {
    token = sessionStorage.getItem(LIVE_TOKEN_KEY) ?? '';
  } catch {
    // No session storage: no token.
  }
  let response;
  let answer;
  try {
    response = await fetch('/dev/recent', { cache: 'no-store', headers: token ? { Authorization: `Bearer ${token}` } : {} });
    answer = await response.json();
  } catch {
    body.replaceChildren(h('p', { class: 'muted' }, 'No bridge answers here: the live view needs the page to be served by a running bridge (scripts/dev.sh, then http://127.0.0.1:8787/).'));
    return;
  }
  if (!response.ok || !Array.isArray(answer?.recent)) {
    const refused = response.status === 401 || response.status === 403;
    body.replaceChildren(
      h('p', { class: 'muted' }, refused
        ? 'The admin token was refused. '
        : 'The live view of this bridge is closed: it opens in dev mode (DEV_MODE = "true", what scripts/dev.sh sets) or with the admin token. ',
      answer?.error?.message ? h('span', {}, `(${answer.error.message})`) : null),
      h('form', { class: 'token-row', onsubmit: (event) => {
        event.preventDefault();
        try {
          sessionStorage.setItem(LIVE_TOKEN_KEY, event.target.elements.token.value);
        } catch {
          // Kept nowhere: asked again next time.
        }
        pollLive();
      } },
      h('input', { name: 'token', type: 'password', placeholder: 'admin token (kept for this tab only)', autocomplete: 'off' }),
      h('button', { type: 'submit', class: 'small' }, 'Use')));
    live.on = false;
    $('#live-toggle').textContent = 'Show';
    $('#live-toggle').setAttribute('aria-pressed', 'false');
    return;
  }
  body.replaceChildren(answer.recent.length
    ? h('ol', { class: 'live-list' }, answer.recent.slice(0, 20).map(liveEntry))
    : h('p', { class: 'muted' }, 'Nothing received yet. Send an event to this bridge (POST /segment) and it appears here.'));
}

function liveEntry(entry) {
  const outcomes = Array.isArray(entry.outcomes) ? entry.outcomes : [];
  const deliveries = Array.isArray(entry.deliveries) ? entry.deliveries : [];
  const count = (status) => outcomes.filter((o) => o.status === status).length;
  const time = Number.isFinite(entry.at) ? new Date(entry.at).toLocaleTimeString() : '';
  const canOpen = entry.received !== null && typeof entry.received === 'object';
  return h('li', { class: 'live-entry', 'data-test': 'live-entry' },
    h('div', { class: 'live-line' },
      h('span', { class: 'muted' }, time), ' ',
      code(`${entry.method ?? ''} ${entry.path ?? ''}`), ' ',
      h('span', { class: `http ${entry.status < 300 ? 'ok' : 'bad'}` }, String(entry.status ?? '')), ' ',
      outcomes.length ? h('span', { class: 'muted' }, `${count('accepted')} accepted · ${count('skipped')} skipped · ${count('rejected')} rejected`) : null,
      canOpen ? h('button', { type: 'button', class: 'link', title: 'Put what the bridge received into the event editor', onclick: () => openInEditor(entry.received) }, 'open in the playground') : null),
    entry.error?.message ? h('div', { class: 'problem' }, entry.error.message) : null,
    outcomes.filter((o) => o.status !== 'accepted').map((o) => h('div', { class: 'muted small' }, code(o.reason), ' ', o.message)),
    deliveries.map((d) => h('div', { class: 'small' }, '→ ', code(d.url ?? d.destination ?? ''), ' ', h('span', { class: 'muted' }, [d.result, d.status].filter((x) => x !== undefined && x !== null).join(' ')))));
}

function openInEditor(received) {
  state.sample = null;
  state.event = formatJson(received, 70);
  $('#event-editor').value = state.event;
  renderSamples();
  scheduleRun();
  $('#event-editor').scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  window.addEventListener('error', (event) => showFatal(event.error ?? event.message));
  window.addEventListener('unhandledrejection', (event) => showFatal(event.reason));
  try {
    await init();
  } catch (error) {
    $('#result').replaceChildren(h('div', { class: 'banner error' },
      h('strong', {}, 'The bridge core could not be loaded. '),
      'The playground needs pkg/segment_ld_bridge_bg.wasm next to this page: build it with ', code('scripts/build-playground.sh'), '. ',
      h('span', { class: 'muted' }, String(error?.message ?? error))));
    $('#app').removeAttribute('aria-busy');
    document.documentElement.dataset.ready = 'error';
    return;
  }
  PRESET = core.preset();
  $('#version').textContent = `segment-ld-bridge ${core.version()}`;
  document.body.append(h('datalist', { id: 'events-hosts' }, EVENTS_HOSTS.map((host) => h('option', { value: host }))));
  state = loadState();
  renderSamples();
  bindEventPane();
  renderConfig();
  bindDialogs();
  runNow();
  $('#app').removeAttribute('aria-busy');
  document.documentElement.dataset.ready = 'true';
}

start().catch((error) => {
  showFatal(error);
  document.documentElement.dataset.ready = 'error';
});
