// Segment's LaunchDarkly (Actions) destination, action Track Event, as Segment's runtime runs it
// for one event, minus the HTTP request: the subscription trigger (@segment/destination-subscriptions
// `parseFql` once, `validate` per event), the field mapping (@segment/actions-core `transform`),
// the action's payload step (`removeEmptyValues` and the AJV `validateSchema` of the fields'
// JSON Schema, as `Action.execute` does), the action's `perform` (LaunchDarkly custom event, URL)
// and the body Segment's request client sends (`JSON.stringify([event])`).
//
// The action is transcribed from segmentio/action-destinations
// packages/destination-actions/src/destinations/launchdarkly/{utils.ts,trackEvent/index.ts}
// (see shared/spec/launchdarkly-and-segment.md §1.2-1.3); the runtime pieces are Segment's own
// published packages, installed into bench/ from npm.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { benchDir } from './scenarios.mjs';

const require = createRequire(import.meta.url);
const { transform, validateSchema, fieldsToJsonSchema } = require('@segment/actions-core');
const { parseFql, validate } = require('@segment/destination-subscriptions');
// Not in the package's exports map, so required by its file (it is what Action.execute calls).
const { removeEmptyValues } = require(
  path.join(benchDir, 'node_modules/@segment/actions-core/dist/cjs/remove-empty-values.js'),
);
const dayjs = require('dayjs');

const installed = (name) =>
  JSON.parse(fs.readFileSync(path.join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
export const versions = Object.fromEntries(
  ['@segment/actions-core', '@segment/destination-subscriptions', 'liquidjs', 'ajv'].map((name) => [name, installed(name)]),
);

// trackEvent/index.ts: the fields and their default mappings (the preset).
const FIELDS = {
  context_kind: {
    label: 'Context kind',
    type: 'string',
    required: false,
    default: 'user',
  },
  user_key: {
    label: 'Context Key',
    type: 'string',
    required: true,
    default: {
      '@if': { exists: { '@path': '$.userId' }, then: { '@path': '$.userId' }, else: { '@path': '$.anonymousId' } },
    },
  },
  additional_context_keys: {
    label: 'Additional context keys',
    type: 'object',
    required: false,
    default: { unauthenticatedUser: { '@path': '$.anonymousId' } },
  },
  event_name: { label: 'Event name', type: 'string', required: true, default: { '@path': '$.event' } },
  metric_value: {
    label: 'Metric Value', // as Segment's error messages spell it (tests/vectors)
    type: 'number',
    required: false,
    default: {
      '@if': {
        exists: { '@path': '$.properties.revenue' },
        then: { '@path': '$.properties.revenue' },
        else: { '@path': '$.properties.value' },
      },
    },
  },
  event_properties: { label: 'Event properties', type: 'object', required: false, default: { '@path': '$.properties' } },
  timestamp: { label: 'Event timestamp', type: 'datetime', required: false, default: { '@path': '$.timestamp' } },
};

const schema = fieldsToJsonSchema(FIELDS);

// utils.ts
const DEFAULT_EVENTS_HOST_NAME = 'events.launchdarkly.com';
const getEventsUrl = (settings) =>
  `https://${settings.events_host_name || DEFAULT_EVENTS_HOST_NAME}/events/bulk/${settings.client_id}`;
const parseTimestamp = (ts) => (dayjs(ts).isValid() ? dayjs(ts).valueOf() : new Date().getTime());

// trackEvent/index.ts
function constructContextKeys(payload) {
  const base = { [payload.context_kind || 'user']: payload.user_key };
  if (!payload.additional_context_keys) return base;
  const coerced = {};
  for (const [key, value] of Object.entries(payload.additional_context_keys)) coerced[key] = String(value);
  return { ...coerced, ...base };
}
function convertPayload(payload) {
  return {
    kind: 'custom',
    key: payload.event_name,
    contextKeys: constructContextKeys(payload),
    creationDate: parseTimestamp(payload.timestamp),
    metricValue: payload.metric_value,
    data: payload.event_properties || {},
  };
}

/** The subscription's full mapping: the preset, with a scenario's overrides laid over it (null = unmapped). */
export function fieldMapping(overrides) {
  const mapping = Object.fromEntries(Object.entries(FIELDS).map(([name, field]) => [name, field.default]));
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === null) delete mapping[name];
    else mapping[name] = value;
  }
  return mapping;
}

/**
 * The destination for one scenario. `run(event)` returns the request Segment would send for
 * the event ({url, body}), or undefined when the trigger does not match.
 * `schemaStep: false` leaves out removeEmptyValues and the AJV validation (a lower bound).
 */
export function segmentDestination(scenario, settings, { schemaStep = true } = {}) {
  const ast = parseFql(scenario.trigger);
  if (ast.error) throw new Error(`trigger: ${ast.error.message}`);
  const mapping = fieldMapping(scenario.mapping);
  const schemaKey = 'LaunchDarkly:Track Event'; // Action.execute: `${destinationName}:${title}`
  return {
    run(event) {
      if (!validate(ast, event)) return undefined;
      let payload = transform(mapping, event);
      if (schemaStep) {
        payload = removeEmptyValues(payload, schema, true);
        validateSchema(payload, schema, { schemaKey, exempt: ['dynamicAuthSettings'] });
      }
      const body = JSON.stringify([convertPayload(payload)]);
      return { url: getEventsUrl(settings), body };
    },
  };
}
