// The live view: the last requests a running bridge received (GET /dev/recent).
import { $, code, guard, h } from './dom.js';
import { renderSamples } from './event-pane.js';
import { formatJson } from './json.js';
import { scheduleRun } from './run.js';
import { state } from './state.js';

// GET /dev/recent answers in dev mode or with the admin token. Polls only while shown, so a page
// served elsewhere makes no requests.

const LIVE_TOKEN_KEY = 'segment-ld-bridge/admin-token';
const LIVE_POLL_MS = 2000;
const live = { on: false, timer: 0, busy: false };

export function toggleLive() {
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
