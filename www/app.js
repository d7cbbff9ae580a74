// The playground's entry module: loads the bridge core (src/playground.rs, wasm), builds the page.
import init, * as core from './pkg/segment_ld_bridge.js';
import { $, code, guard, h, showFatal } from './dom.js';
import { afterStructuralChange, renderConfig } from './config-form.js';
import { bindEventPane, renderSamples } from './event-pane.js';
import { bindExportDialog } from './export-dialog.js';
import { bindImportDialog } from './import-dialog.js';
import { toggleLive } from './live.js';
import { runNow } from './run.js';
import { defaultState, loadState, setLastGood, setPreset, setState } from './state.js';

const EVENTS_HOSTS = ['us', 'eu', 'federal'];

function bindDialogs() {
  bindImportDialog();
  bindExportDialog();
  $('#live-toggle').addEventListener('click', guard(toggleLive));
  $('#reset').addEventListener('click', guard(() => {
    setState(defaultState());
    setLastGood(null);
    afterStructuralChange();
  }));
}

/**
 * Runs the bridge's core on the event and the configuration being edited and shows exactly what
 * LaunchDarkly would receive. Every problem is shown next to what caused it; no exception escapes
 * (see `guard` in dom.js).
 */
async function start() {
  window.addEventListener('error', (event) => showFatal(event.error ?? event.message));
  window.addEventListener('unhandledrejection', (event) => showFatal(event.reason));
  try {
    await init();
  } catch (error) {
    $('#result').replaceChildren(h('div', { class: 'banner error' },
      h('strong', {}, 'The bridge core could not be loaded. '),
      'The playground needs pkg/segment_ld_bridge_bg.wasm next to this page: build it with ', code('scripts/build-playground.sh'), '. ',
      h('span', { class: 'muted' }, String(error?.message ?? error))));
    $('#app').removeAttribute('aria-busy');
    document.documentElement.dataset.ready = 'error';
    return;
  }
  setPreset(core.preset());
  $('#version').textContent = `segment-ld-bridge ${core.version()}`;
  document.body.append(h('datalist', { id: 'events-hosts' }, EVENTS_HOSTS.map((host) => h('option', { value: host }))));
  setState(loadState());
  renderSamples();
  bindEventPane();
  renderConfig();
  bindDialogs();
  runNow();
  $('#app').removeAttribute('aria-busy');
  document.documentElement.dataset.ready = 'true';
}

start().catch((error) => {
  showFatal(error);
  document.documentElement.dataset.ready = 'error';
});
