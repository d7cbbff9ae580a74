// The event pane: sample chips, the event editor and the source id.
import * as core from './pkg/segment_ld_bridge.js';
import { $, guard, h, indentOnTab } from './dom.js';
import { formatJson } from './json.js';
import { scheduleRun } from './run.js';
import { SAMPLES } from './samples.js';
import { state } from './state.js';

export function renderSamples() {
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

export function bindEventPane() {
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
