// The import dialog: a mapping or subscription copied from Segment, or a configuration document.
import * as core from './pkg/segment_ld_bridge.js';
import { $, guard, h } from './dom.js';
import { afterStructuralChange } from './config-form.js';
import { problemNode } from './problems.js';
import { newSubscription, setFields, setState, state, stateFromDocument } from './state.js';

export function bindImportDialog() {
  $('#import-open').addEventListener('click', guard(openImport));
  $('#import-apply').addEventListener('click', guard(applyImport));
}

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
    setState(stateFromDocument(parsed.value));
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
