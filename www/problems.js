// Problems and warnings shown next to their cause (the `data-problems` slots).
import { $, code, h } from './dom.js';
import { offsetOf } from './json.js';

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

export function showProblems(problems, warnings) {
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

export function problemNode(problem, slot, kind) {
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

export function focusLocation(location) {
  const slot = slotFor(location);
  const owner = slot.closest('.has-problems') ?? slot.parentElement;
  owner?.scrollIntoView({ block: 'center', behavior: 'smooth' });
  owner?.querySelector('textarea, input, select')?.focus({ preventScroll: true });
}
