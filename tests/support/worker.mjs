// Runs the built Worker (build/index.js + build/index_bg.wasm) in workerd through Miniflare.
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts the bridge in workerd with `vars` as its [vars]; returns {mf, url, post, get, close}. */
export async function startBridge(vars) {
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
