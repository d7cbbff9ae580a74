// The configuration form: destinations, subscriptions, sources; rebuilt on structural changes only.
import { $, append, h, indentOnTab } from './dom.js';
import { renderSamples } from './event-pane.js';
import { fieldEditor } from './mapping-fields.js';
import { scheduleRun } from './run.js';
import { DEFAULT_INTEGRATION_NAMES, PRESET, newDestination, newSubscription, state } from './state.js';

export function renderConfig() {
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
    row('Metric catalogue', `${at}.metrics`,
      h('textarea', {
        class: 'code catalogue',
        rows: 3,
        spellcheck: 'false',
        placeholder: 'Paste what segment-ld-bridge launchdarkly pull prints (or an array of metric definitions: {"key", "name", "event_key", "numeric", "randomization_units"}) to see which metrics each event feeds and whether they count it',
        'data-location': `${at}.metrics`,
        value: d.catalogue ?? '',
        oninput: (event) => { d.catalogue = event.target.value; scheduleRun(); },
        onkeydown: indentOnTab,
      }), 'the metrics of this environment, as LaunchDarkly defines them'),
    h('div', { class: 'problems', 'data-problems': `${at}.catalogue_source`, hidden: true }),
    row('Events no metric counts', `${at}.unknown_event_keys`,
      h('select', {
        'data-location': `${at}.unknown_event_keys`,
        onchange: (event) => { d.unknown_event_keys = event.target.value; scheduleRun(); },
      },
      h('option', { value: 'send', selected: d.unknown_event_keys !== 'drop' }, 'send, and report (default)'),
      h('option', { value: 'drop', selected: d.unknown_event_keys === 'drop' }, 'drop, and report'))),
    destinationEnvelope(d, at),
  );
}

/** A list edited one item per line. */
function linesEditor(location, value, onInput, placeholder) {
  return h('textarea', {
    class: 'code lines',
    rows: 2,
    spellcheck: 'false',
    placeholder,
    'data-location': location,
    value: value ?? '',
    oninput: (event) => { onInput(event.target.value); scheduleRun(); },
  });
}

/** A destination's Segment envelope: its names in the integrations object, and consent. */
function destinationEnvelope(d, at) {
  d.integration_names ??= DEFAULT_INTEGRATION_NAMES.join('\n');
  const changed = d.integration_names !== DEFAULT_INTEGRATION_NAMES.join('\n') || d.required_consent?.trim() || d.without_consent === 'skip';
  return h('details', { class: 'envelope', 'data-envelope': at, open: changed ? true : undefined },
    h('summary', {}, 'Segment envelope ', h('span', { class: 'muted' }, 'integrations object and consent')),
    row('Integration names', `${at}.integration_names`,
      linesEditor(`${at}.integration_names`, d.integration_names, (v) => { d.integration_names = v; }, 'empty: the integrations object is ignored'),
      'the names that address this destination in an event\'s integrations object, one per line, matched exactly'),
    h('div', { class: 'grid2' },
      row('Required consent', `${at}.required_consent`,
        linesEditor(`${at}.required_consent`, d.required_consent, (v) => { d.required_consent = v; }, 'e.g. Analytics'),
        'categories of context.consent.categoryPreferences that must be true'),
      row('Without consent', `${at}.without_consent`,
        h('select', {
          'data-location': `${at}.without_consent`,
          onchange: (event) => { d.without_consent = event.target.value; scheduleRun(); },
        },
        h('option', { value: 'send', selected: d.without_consent !== 'skip' }, 'send (default)'),
        h('option', { value: 'skip', selected: d.without_consent === 'skip' }, 'skip')),
        'events without consent preferences')));
}

/** A subscription's Segment envelope: property filters on data, keyed sampling. */
function subscriptionEnvelope(s, at) {
  const changed = s.allow_properties?.trim() || s.deny_properties?.trim() || s.sample_rate?.trim();
  return h('details', { class: 'envelope', 'data-envelope': at, open: changed ? true : undefined },
    h('summary', {}, 'Segment envelope ', h('span', { class: 'muted' }, 'property filters and sampling')),
    h('div', { class: 'grid2' },
      row('Allow properties', `${at}.allow_properties`,
        linesEditor(`${at}.allow_properties`, s.allow_properties, (v) => { s.allow_properties = v; }, 'empty: every property'),
        'dot paths in data, one per line (address.*)'),
      row('Deny properties', `${at}.deny_properties`,
        linesEditor(`${at}.deny_properties`, s.deny_properties, (v) => { s.deny_properties = v; }, 'e.g. email'),
        'never sent; wins over allow')),
    row('Sample rate', `${at}.sample_rate`,
      input(`${at}.sample_rate`, s.sample_rate ?? '', (v) => { s.sample_rate = v; }, { placeholder: 'empty: every event; 0.25: a quarter of the users', inputmode: 'decimal' }),
      'from 0 to 1, keyed on the context key: a user is always in or always out'));
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
    subscriptionEnvelope(s, at),
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

/** Shows the whole state again after it was replaced (import, start over). */
export function afterStructuralChange() {
  $('#event-editor').value = state.event;
  $('#source-id').value = state.sourceId;
  renderSamples();
  renderConfig();
  scheduleRun();
}
