// DOM helpers of the playground: `h` builds elements, `guard` shows exceptions instead of throwing.

export const $ = (selector, root = document) => root.querySelector(selector);

/** Builds an element: `h('div', {class: 'x', onclick: f}, 'text', child)`. Never parses HTML. */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), guard(value));
    else if (name === 'class') node.className = value;
    else if (name === 'value') node.value = value;
    else if (name === 'checked') node.checked = Boolean(value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const code = (text, attributes = {}) => h('code', attributes, text);

/** Wraps a handler so that an exception is shown instead of escaping. */
export function guard(fn) {
  return (...args) => {
    try {
      const result = fn(...args);
      if (result && typeof result.catch === 'function') result.catch(showFatal);
      return result;
    } catch (error) {
      showFatal(error);
      return undefined;
    }
  };
}

export function showFatal(error) {
  const box = $('#fatal');
  if (!box) return;
  box.replaceChildren(
    h('strong', {}, 'Something went wrong: '),
    String(error?.message ?? error),
    h('span', { class: 'muted' }, ' The page keeps working; "Start over" resets it.'),
  );
  box.hidden = false;
  console.error(error);
}

/** Tab indents by two spaces in code editors (Escape then Tab leaves the editor). */
export function indentOnTab(event) {
  if (event.key === 'Escape') {
    event.target.dataset.tabOut = 'true';
    return;
  }
  if (event.key !== 'Tab' || event.shiftKey || event.target.dataset.tabOut === 'true') {
    delete event.target.dataset.tabOut;
    return;
  }
  event.preventDefault();
  const editor = event.target;
  const { selectionStart: start, selectionEnd: end } = editor;
  editor.setRangeText('  ', start, end, 'end');
  editor.dispatchEvent(new Event('input'));
}

/** Copies `text` to the clipboard and says in `status` whether it could. */
export async function copy(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    status.textContent = 'Copying is not allowed here: select the text and copy it.';
  }
}
