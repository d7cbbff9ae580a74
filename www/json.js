// JSON helpers of the playground: readable formatting, comparison and highlighting.

/** One line: `{"a": 1, "b": [2, 3]}`. */
export function inlineJson(value) {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Readable JSON: short values stay on one line, longer ones are broken up. */
export function formatJson(value, width = 58, indent = '') {
  const flat = inlineJson(value);
  if (value === null || typeof value !== 'object' || indent.length + flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + formatJson(v, width, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, width, inner)}`);
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** JSON with object keys sorted, to compare values regardless of key order. */
export function stableJson(value) {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const sameJson = (a, b) => stableJson(a) === stableJson(b);

const TOKEN = /("(?:[^"\\\n]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

/** JSON text as a fragment of text and coloured spans (never HTML parsing). */
export function highlightJson(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    if (match.index > last) fragment.append(text.slice(last, match.index));
    const span = document.createElement('span');
    if (match[1] !== undefined) {
      span.className = match[2] ? 'j-key' : 'j-str';
      span.textContent = match[1];
    } else {
      span.className = match[3] !== undefined ? 'j-num' : 'j-lit';
      span.textContent = match[0];
    }
    fragment.append(span);
    if (match[2]) fragment.append(match[2]);
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

/** The character offset of a 1-based line and column in `text`. */
export function offsetOf(text, line, column) {
  let offset = 0;
  for (let l = 1; l < line; l += 1) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + Math.max(0, column - 1));
}
