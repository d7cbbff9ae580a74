// The export dialog: the configuration as a JSON document and as a BRIDGE_CONFIG line of TOML.
import * as core from './pkg/segment_ld_bridge.js';
import { $, copy, guard, h } from './dom.js';
import { buildDocument } from './config-document.js';
import { highlightJson } from './json.js';

export function bindExportDialog() {
  $('#export-open').addEventListener('click', guard(openExport));
  $('#export-copy-json').addEventListener('click', guard(() => copy(JSON.stringify(buildDocument().doc, null, 2), $('#export-copied'))));
  $('#export-copy-toml').addEventListener('click', guard(() => copy(tomlLine(buildDocument().doc), $('#export-copied'))));
  $('#export-download').addEventListener('click', guard(() => download('bridge-config.json', `${JSON.stringify(buildDocument().doc, null, 2)}\n`)));
}

function openExport() {
  const { doc, problems } = buildDocument();
  const json = JSON.stringify(doc, null, 2);
  const result = core.run(JSON.stringify(doc), '{"type": "track", "event": "export check", "userId": "u"}', undefined, 0);
  const configProblems = [
    ...problems,
    ...(result.problems ?? []).filter((p) => p.location !== 'event' && p.location !== 'source'),
    ...(result.deployment_problems ?? []),
  ];
  const status = $('#export-status');
  status.className = configProblems.length ? 'banner error' : 'banner ok';
  status.textContent = configProblems.length
    ? `This configuration has ${configProblems.length} problem${configProblems.length === 1 ? '' : 's'}: the bridge would refuse it (503). ${configProblems.map((p) => `${p.location}: ${p.message}`).join(' · ')}`
    : 'Valid: the Worker and segment-ld-bridge check read it as it is here.';
  $('#export-json').replaceChildren(highlightJson(json));
  $('#export-toml').textContent = tomlLine(doc);
  $('#export-copied').textContent = '';
  $('#export-dialog').showModal();
}

/** `BRIDGE_CONFIG = "…"`: a TOML basic string holding the compact JSON (JSON escapes are TOML's). */
function tomlLine(doc) {
  return `BRIDGE_CONFIG = ${JSON.stringify(JSON.stringify(doc))}`;
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
