// Runs the bridge core on the edited event and configuration, and shows the outcome.
import * as core from './pkg/segment_ld_bridge.js';
import { guard } from './dom.js';
import { buildDocument } from './config-document.js';
import { showProblems } from './problems.js';
import { renderResult } from './result.js';
import { lastGood, saveState, setLastGood, state } from './state.js';

let runTimer = 0;
export function scheduleRun() {
  clearTimeout(runTimer);
  runTimer = setTimeout(guard(runNow), 40);
}

export function runNow() {
  const { doc, problems: local } = buildDocument();
  let result;
  try {
    result = core.run(JSON.stringify(doc), state.event, state.sourceId.trim() || undefined, undefined);
  } catch (error) {
    result = { ok: false, problems: [{ location: '', message: `internal error in the bridge core: ${error}` }] };
  }
  const problems = [...local, ...(result.problems ?? [])];
  showProblems(problems, result.ok ? result.warnings ?? [] : []);
  if (problems.length === 0 && result.ok) setLastGood(result);
  renderResult(problems.length === 0 && result.ok ? result : lastGood, problems);
  saveState();
}
