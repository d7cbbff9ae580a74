// Runs the built Worker (build/index.js + build/index_bg.wasm) in workerd through Miniflare.
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `run_worker_first` patterns of wrangler.toml's [assets] (a TOML array of plain strings). */
function workerFirstRoutes() {
  const toml = fs.readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
  const line = toml.match(/^run_worker_first\s*=\s*(\[.*\])\s*$/m);
  if (!line) throw new Error('wrangler.toml: [assets] run_worker_first is missing');
  return JSON.parse(line[1]);
}

/**
 * Starts the bridge in workerd with `vars` as its [vars] (and `options`, extra Miniflare worker
 * options such as queues and KV); returns {mf, url, post, get, send, close}.
 */
export async function startBridge(vars, options = {}) {
  const scriptPath = path.join(root, 'build/index.js');
  if (!fs.existsSync(scriptPath)) {
    throw new Error('build/index.js is missing: run scripts/build-worker.sh first');
  }
  const mf = new Miniflare({
    scriptPath,
    modules: true,
    modulesRoot: root,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
    compatibilityDate: '2026-04-01',
    bindings: vars,
    ...options,
    // As wrangler.toml [assets]: the playground (www/) at /, the bridge's routes to the Worker.
    assets: {
      directory: path.join(root, 'www'),
      routerConfig: { has_user_worker: true, static_routing: { user_worker: workerFirstRoutes() } },
    },
  });
  const url = await mf.ready;
  const send = async (method, pathname, body, headers = {}) => {
    const response = await mf.dispatchFetch(new URL(pathname, url), {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return {
    mf,
    url,
    post: (pathname, body, headers) => send('POST', pathname, body, headers),
    get: (pathname) => send('GET', pathname),
    send,
    close: () => mf.dispose(),
  };
}
