// The bridge configuration document built from the edited state, as BRIDGE_CONFIG reads it.
import * as core from './pkg/segment_ld_bridge.js';
import { sameJson } from './json.js';
import { DEFAULT_INTEGRATION_NAMES, PRESET, state } from './state.js';

/** The non-empty lines of a list editor, trimmed. */
const lines = (text) => (text ?? '').split('\n').map((line) => line.trim()).filter(Boolean);

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
 * The metric catalogue pasted into a destination: what `segment-ld-bridge launchdarkly pull`
 * prints (a document whose destinations have `metrics`: the one with this destination's name or
 * client-side ID, or the only one), a destination with `metrics`, or an array of metric
 * definitions. `{metrics, source}`, or null when there is none (problems go to `problems`, at
 * `location`); the core validates the definitions themselves.
 */
export function readCatalogue(d, location, problems) {
  const text = (d.catalogue ?? '').trim();
  if (!text) return null;
  const parsed = parseEditor(text);
  if (!parsed.ok) {
    problems.push({ ...parsed, location });
    return null;
  }
  const value = parsed.value;
  if (Array.isArray(value)) return { metrics: value };
  if (value && typeof value === 'object' && Array.isArray(value.destinations)) {
    const pulled = value.destinations.filter((x) => x && typeof x === 'object' && x.metrics !== undefined);
    const chosen = pulled.find((x) => x.name === d.name)
      ?? pulled.find((x) => x.client_side_id === d.client_side_id)
      ?? (pulled.length === 1 ? pulled[0] : null);
    if (chosen) return { metrics: chosen.metrics, source: chosen.catalogue_source };
    problems.push({
      location,
      message: pulled.length
        ? `the pasted document has several destinations with metrics (${pulled.map((x) => JSON.stringify(x.name)).join(', ')}) and none is named ${JSON.stringify(d.name)} or has its client-side ID`
        : 'the pasted document has no destination with "metrics"',
    });
    return null;
  }
  if (value && typeof value === 'object' && value.metrics !== undefined) {
    return { metrics: value.metrics, source: value.catalogue_source };
  }
  problems.push({
    location,
    message: 'paste what segment-ld-bridge launchdarkly pull prints (a document with destinations[].metrics), a destination with "metrics", or an array of metric definitions',
  });
  return null;
}

/**
 * The configuration document, exactly as `BRIDGE_CONFIG` and `segment-ld-bridge check --config`
 * read it: only the Track Event fields that differ from Segment's preset are written. Problems
 * found here (JSON syntax in a field) come back located like the core's.
 */
export function buildDocument() {
  const problems = [];
  const destinations = state.destinations.map((d, i) => {
    const out = { name: d.name, client_side_id: d.client_side_id, events_host: d.events_host };
    const keys = d.keys.split('\n').map((k) => k.trim()).filter(Boolean);
    if (keys.length) out.metric_event_keys = keys;
    const catalogue = readCatalogue(d, `destinations[${i}].metrics`, problems);
    if (catalogue) {
      out.metrics = catalogue.metrics;
      if (catalogue.source !== undefined) out.catalogue_source = catalogue.source;
    }
    if ((keys.length || catalogue) && d.unknown_event_keys === 'drop') out.unknown_event_keys = 'drop';
    // The Segment envelope: written only when not the defaults (a saved state may predate it).
    const names = lines(d.integration_names ?? DEFAULT_INTEGRATION_NAMES.join('\n'));
    if (!sameJson(names, DEFAULT_INTEGRATION_NAMES)) out.integration_names = names;
    const consent = lines(d.required_consent);
    if (consent.length) out.required_consent = consent;
    if (d.without_consent === 'skip') out.without_consent = 'skip';
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
    const allow = lines(s.allow_properties);
    if (allow.length) out.allow_properties = allow;
    const deny = lines(s.deny_properties);
    if (deny.length) out.deny_properties = deny;
    const rate = (s.sample_rate ?? '').trim();
    if (rate && /^[0-9.eE+-]+$/.test(rate) && Number.isFinite(Number(rate))) out.sample_rate = Number(rate);
    else if (rate) problems.push({ location: `subscriptions[${i}].sample_rate`, message: `${JSON.stringify(rate)} is not a number: a share from 0 (send none) to 1 (send all)` });
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
