// What the playground edits (saved in localStorage), Segment's preset, and the last good result.
import { SAMPLES } from './samples.js';
import { formatJson } from './json.js';

const STORAGE_KEY = 'segment-ld-bridge/playground/v1';
const DEFAULT_CLIENT_SIDE_ID = 'your-client-side-id';
/** A destination's names in an event's integrations object when it lists none (the core's). */
export const DEFAULT_INTEGRATION_NAMES = ['LaunchDarkly', 'LaunchDarkly (Actions)', 'segment-ld-bridge'];

/** Segment's Track Event preset and field descriptions, from the core. */
export let PRESET = null;
/** What is being edited; saved in localStorage. */
export let state = null;
/** The last result computed without problems, shown (dimmed) while there are some. */
export let lastGood = null;

// Other modules read these live bindings; only these setters replace them.
export function setPreset(preset) {
  PRESET = preset;
}

export function setState(next) {
  state = next;
}

export function setLastGood(result) {
  lastGood = result;
}

export function presetFieldText(name) {
  return formatJson(PRESET.mapping[name]);
}

export function newDestination(index) {
  return {
    name: index === 0 ? 'production' : `environment-${index + 1}`,
    client_side_id: DEFAULT_CLIENT_SIDE_ID,
    events_host: 'us',
    keys: '',
    catalogue: '',
    unknown_event_keys: 'send',
    ...newDestinationEnvelope(),
  };
}

/** A destination's Segment envelope settings, as edited: lists one item per line. */
export function newDestinationEnvelope() {
  return { integration_names: DEFAULT_INTEGRATION_NAMES.join('\n'), required_consent: '', without_consent: 'send' };
}

export function newSubscription(name = PRESET.subscription_name) {
  const fields = {};
  for (const field of PRESET.fields) fields[field.name] = presetFieldText(field.name);
  return { name, trigger: PRESET.trigger, enabled: true, destinations: null, fields, allow_properties: '', deny_properties: '', sample_rate: '' };
}

export function defaultState() {
  return {
    sample: SAMPLES[0].id,
    event: formatJson(SAMPLES[0].event),
    sourceId: '',
    destinations: [newDestination(0)],
    subscriptions: [newSubscription()],
    sources: '',
  };
}

export function loadState() {
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
export function saveState() {
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
export function stateFromDocument(doc) {
  const destinations = (Array.isArray(doc.destinations) ? doc.destinations : []).map((d, i) => ({
    ...newDestination(i),
    name: String(d?.name ?? ''),
    client_side_id: String(d?.client_side_id ?? ''),
    events_host: String(d?.events_host ?? 'us'),
    keys: Array.isArray(d?.metric_event_keys) ? d.metric_event_keys.join('\n') : '',
    catalogue: catalogueText(d),
    unknown_event_keys: d?.unknown_event_keys === 'drop' ? 'drop' : 'send',
    integration_names: (Array.isArray(d?.integration_names) ? d.integration_names : DEFAULT_INTEGRATION_NAMES).join('\n'),
    required_consent: Array.isArray(d?.required_consent) ? d.required_consent.join('\n') : '',
    without_consent: d?.without_consent === 'skip' ? 'skip' : 'send',
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
    if (Array.isArray(s?.allow_properties)) subscription.allow_properties = s.allow_properties.join('\n');
    if (Array.isArray(s?.deny_properties)) subscription.deny_properties = s.deny_properties.join('\n');
    if (typeof s?.sample_rate === 'number') subscription.sample_rate = String(s.sample_rate);
    return subscription;
  });
  return {
    ...state,
    destinations: destinations.length ? destinations : [newDestination(0)],
    subscriptions,
    sources: doc.sources === undefined ? '' : formatJson(doc.sources),
  };
}

/** A destination's `metrics` and `catalogue_source` as the text of its catalogue editor. */
function catalogueText(d) {
  if (d?.metrics === undefined) return '';
  if (d.catalogue_source === undefined) return formatJson(d.metrics);
  return formatJson({ metrics: d.metrics, catalogue_source: d.catalogue_source });
}

/** Lays a mapping (`null` = unmapped) over a subscription's fields. */
export function setFields(subscription, mapping) {
  for (const [name, value] of Object.entries(mapping)) {
    subscription.fields[name] = value === null ? '' : formatJson(value);
  }
}
