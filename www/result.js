// The result pane: outcomes, the requests to LaunchDarkly, each value's origin, the key check.
import { $, append, code, copy, h } from './dom.js';
import { highlightJson, inlineJson } from './json.js';
import { focusLocation } from './problems.js';

export function renderResult(result, problems) {
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
        h('h4', {}, title, s.rejection ? rejectionBadge(s.rejection) : null),
        s.rejection ? h('p', { class: ENVELOPE_CODES.has(s.rejection.code) ? 'rejection skip' : 'rejection' }, code(s.rejection.code), ' ', s.rejection.message) : null,
        envelopeBlock(s.envelope),
        h('div', { class: 'fields' }, s.fields.map((f) => fieldRow(f, f.output === 'data' ? s.envelope?.dropped_properties : null)))));
    }
  }
  return h('section', { class: 'provenance' },
    h('h3', {}, 'Where each value came from'),
    blocks.length ? blocks : h('p', { class: 'muted' }, 'No subscription handled these events.'));
}

/** The codes of the Segment envelope: the event is skipped, not rejected. */
const ENVELOPE_CODES = new Set(['disabled_by_integrations', 'no_consent', 'sampled_out']);

function rejectionBadge(rejection) {
  return ENVELOPE_CODES.has(rejection.code)
    ? h('span', { class: 'status skipped' }, 'skipped')
    : h('span', { class: 'status rejected' }, 'rejected');
}

/** What the Segment envelope decided for one subscription: only what is not the default. */
function envelopeBlock(envelope) {
  if (!envelope) return null;
  const quote = (text) => code(JSON.stringify(text));
  const items = [];
  for (const gate of envelope.destinations) {
    const notes = [];
    const { integrations, consent } = gate;
    if (integrations.result === 'disabled') notes.push(['the integrations object turns ', quote(integrations.name), ' off']);
    if (integrations.result === 'all_disabled') notes.push(['the integrations object turns ', quote('All'), ' off and none of its names on']);
    if (integrations.result === 'enabled') notes.push(['the integrations object turns ', quote(integrations.name), ' on']);
    if (consent.result === 'given') notes.push('consent given');
    if (consent.result === 'missing') notes.push(['no consent for ', consent.categories.map((c, n) => [n ? ', ' : '', quote(c)])]);
    if (consent.result === 'no_preferences') notes.push(`no consent preferences: ${consent.sent ? 'sent' : 'skipped'} (without_consent = "${consent.sent ? 'send' : 'skip'}")`);
    if (!notes.length) continue;
    items.push(h('li', { class: gate.passes ? 'pass' : 'closed', 'data-test': 'gate', 'data-destination': gate.destination, 'data-passes': String(gate.passes) },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, gate.passes ? '✓' : '✗'), ' ', gate.destination, ': ', notes.map((note, n) => [n ? '; ' : '', note])));
  }
  const sampling = envelope.sampling;
  if (sampling) {
    items.push(h('li', { class: sampling.kept ? 'pass' : 'closed', 'data-test': 'sampling', 'data-kept': String(sampling.kept) },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, sampling.kept ? '✓' : '✗'), ' sampling: context key ', quote(sampling.context_key),
      ` falls at ${sampling.position.toFixed(4)}, ${sampling.kept ? 'below' : 'at or above'} sample_rate ${sampling.rate}: ${sampling.kept ? 'in' : 'sampled out'}`));
  }
  const dropped = envelope.dropped_properties;
  if (dropped) {
    items.push(h('li', { 'data-test': 'dropped' },
      dropped.length
        ? ['dropped from data (never sent): ', dropped.map((d, n) => [n ? ', ' : '', h('span', { class: 'dropped', 'data-path': d.path, 'data-reason': d.reason },
          code(d.path), h('span', { class: 'muted' }, d.reason === 'denied' ? ` (denied by ${d.by})` : ' (not in allow_properties)'))])]
        : 'property filters: nothing dropped'));
  }
  if (!items.length) return null;
  return h('div', { class: 'envelope-trace', 'data-test': 'envelope' }, h('h5', {}, 'Segment envelope'), h('ul', {}, items));
}

/** A field's row; `dropped`: what the property filters then dropped from it (for `data`). */
function fieldRow(f, dropped) {
  const value = f.state === 'missing' ? h('span', { class: 'muted' }, '—') : code(inlineJson(f.value), { class: 'value' });
  return h('div', { class: `field-row ${f.state}`, 'data-field': f.field },
    h('div', { class: 'ld' }, code(f.output), h('div', { class: 'muted small' }, f.label, f.customized ? h('span', { class: 'badge custom' }, 'custom') : null)),
    h('div', { class: 'how' },
      h('div', {}, value),
      h('div', { class: 'via' }, h('span', { class: 'muted' }, 'from '), code(f.via)),
      f.note ? h('div', { class: `note ${f.state}` }, f.note) : null,
      dropped?.length
        ? h('div', { class: 'note dropped-note', 'data-test': 'dropped-note' }, 'then the property filters drop ', dropped.map((d, n) => [n ? ', ' : '', code(d.path)]), ': never sent')
        : null));
}

function keyCheckSection(result) {
  const section = h('section', { class: 'key-check', 'data-test': 'key-check' }, h('h3', {}, 'Will it count? Metric key check'));
  if (!result.catalogues.length) {
    return append(section, [h('p', { class: 'muted' },
      'Paste the event keys of your LaunchDarkly metrics into a destination\'s "Metric event keys", or its metric catalogue (what segment-ld-bridge launchdarkly pull prints) into "Metric catalogue": each event key is checked against them, exactly, with near misses (case, whitespace, punctuation) pointed out, and each event is checked against the metrics it feeds (numeric metrics need a value; the context kinds must include a randomization unit).')]);
  }
  for (const c of result.catalogues) {
    if (c.source) section.append(catalogueSource(c));
  }
  const lines = result.key_checks.map(keyCheckLine);
  append(section, [lines.length ? h('ul', { class: 'keys' }, lines) : h('p', { class: 'muted' }, 'No event produced a metric event key.')]);
  for (const c of result.catalogues) {
    if (c.unfed.length) {
      section.append(h('p', { class: 'muted' }, `Metrics of ${c.destination} no event here feeds: `, c.unfed.map((k, n) => [n ? ', ' : '', code(JSON.stringify(k))])));
    }
  }
  return section;
}

/** Where a destination's catalogue was pulled from. */
function catalogueSource(c) {
  const { project, environment, api_base: apiBase, pulled_at: pulledAt } = c.source;
  const count = c.metrics.length;
  return h('p', { class: 'muted catalogue-source', 'data-test': 'catalogue-source', 'data-destination': c.destination },
    `Catalogue of ${c.destination}: ${count} metric${count === 1 ? '' : 's'}, pulled from project `, code(project),
    environment ? [', environment ', code(environment)] : null,
    apiBase ? ` (${apiBase})` : null,
    pulledAt ? ` at ${pulledAt}` : null, '.');
}

/** One destination's verdicts on one LaunchDarkly event: the key, the metrics it feeds, every verdict. */
function keyCheckLine(k) {
  const symbol = { known: k.counted ? '✓' : '✗', near_miss: '≈', unknown: '✗' };
  const own = new Set(['unknown_event_key', 'event_key_near_miss']);
  const verdicts = k.verdicts.filter((v) => !own.has(v.code));
  return h('li', { class: `key ${k.result}${k.counted ? '' : ' uncounted'}`, 'data-result': k.result, 'data-counted': String(k.counted) },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, symbol[k.result]), ' ', code(JSON.stringify(k.key)),
    k.result === 'known' ? ` is a metric event key of ${k.destination}` : null,
    k.result === 'near_miss' ? [' is not a metric event key of ', k.destination, ': did you mean ', code(JSON.stringify(k.suggestion)), ` (differs in ${k.difference})?`] : null,
    k.result === 'unknown' ? ` matches no metric of ${k.destination}` : null,
    k.counted ? null : h('span', { class: 'muted' }, k.sent ? ' — sent anyway; no metric counts it' : ' — not sent (unknown_event_keys = "drop")'),
    k.metrics.length
      ? h('ul', { class: 'metrics', 'data-test': 'metrics' }, k.metrics.map((m) => h('li', { class: m.counts ? 'counts' : 'ignores', 'data-metric': m.key, 'data-counts': String(m.counts) },
        h('span', { class: 'icon', 'aria-hidden': 'true' }, m.counts ? '✓' : '✗'), ' feeds ', code(m.key),
        m.name && m.name !== m.key ? ` (${m.name})` : null,
        h('span', { class: 'muted' }, ` — ${m.numeric ? 'numeric' : 'conversion'}, randomized by ${m.randomization_units.length ? m.randomization_units.join(' or ') : 'any context kind'}`),
        m.counts ? ': counts this event' : ': does not count this event')))
      : null,
    verdicts.length
      ? h('ul', { class: 'verdicts' }, verdicts.map((v) => h('li', { class: `warning ${v.code}`, 'data-code': v.code },
        h('span', { class: 'icon', 'aria-hidden': 'true' }, '⚠'), ' ', code(v.code), ' ', v.message)))
      : null);
}
