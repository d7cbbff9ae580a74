// The editor of one Track Event mapping field: its JSON, a preset/custom/unmapped badge, reset.
import * as core from './pkg/segment_ld_bridge.js';
import { code, h, indentOnTab } from './dom.js';
import { sameJson } from './json.js';
import { scheduleRun } from './run.js';
import { PRESET, presetFieldText } from './state.js';

function fieldState(s, name) {
  const text = s.fields[name] ?? '';
  if (!text.trim()) return 'unmapped';
  const parsed = core.parse_json(text);
  if (parsed.ok && sameJson(parsed.value, PRESET.mapping[name])) return 'preset';
  return 'custom';
}

export function fieldEditor(s, i, field) {
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
