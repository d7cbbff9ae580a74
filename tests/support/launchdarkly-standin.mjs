// A local stand-in for LaunchDarkly's events host, on 127.0.0.1: it records every request to
// /events/bulk/{clientSideId} and answers 202 (or whatever a test scripts).
//
// As a module: `const ld = await startStandIn(); ld.baseUrl; ld.received; ld.connections; ld.respondWith(fn); await ld.close()`.
// As a program: `node tests/support/launchdarkly-standin.mjs [--port 8799]` prints every payload,
// so `scripts/dev.sh` can show exactly what would reach LaunchDarkly without an account.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

/** Starts the stand-in. `port` 0 picks a free port. */
export async function startStandIn({ port = 0, onRequest } = {}) {
  const received = [];
  let respond = () => ({ status: 202 });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const record = { method: req.method, url: req.url, headers: req.headers, text, json };
      received.push(record);
      if (onRequest) onRequest(record);
      const answer = (await respond(record, received.length)) ?? { status: 202 };
      if (answer.destroy) {
        record.status = 'destroyed';
        req.socket.destroy();
        return;
      }
      record.status = answer.status;
      // With its length, as LaunchDarkly's servers (Go's net/http) answer a body they write at
      // once; Node would otherwise send `res.writeHead(...)`'s answer chunked. A test may still
      // ask for `transfer-encoding: chunked`.
      const body = answer.body ?? '';
      const headers = answer.headers ?? {};
      const chunked = Object.keys(headers).some((name) => name.toLowerCase() === 'transfer-encoding');
      res.writeHead(answer.status, chunked ? headers : { 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    });
  });
  // TCP connections accepted since the start or the last reset (a Worker that reuses its
  // connection opens one for many requests).
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: boundPort } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    received,
    /** TCP connections accepted since the start or the last `reset()`. */
    get connections() {
      return connections;
    },
    /** Sets how to answer: `fn(record, count) -> {status, headers?, body?} | {destroy: true}`. */
    respondWith(fn) {
      respond = fn;
    },
    reset() {
      received.length = 0;
      connections = 0;
      respond = () => ({ status: 202 });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const portIndex = process.argv.indexOf('--port');
  const port = portIndex > 0 ? Number(process.argv[portIndex + 1]) : 8799;
  const standIn = await startStandIn({
    port,
    onRequest(record) {
      const headers = Object.fromEntries(
        Object.entries(record.headers).filter(([name]) =>
          ['content-type', 'user-agent', 'x-launchdarkly-event-schema', 'x-launchdarkly-payload-id'].includes(name),
        ),
      );
      console.log(
        `\n[launchdarkly stand-in] ${record.method} ${record.url}\n` +
          JSON.stringify({ headers, body: record.json ?? record.text }, null, 2),
      );
    },
  });
  console.log(`[launchdarkly stand-in] listening on ${standIn.baseUrl} (answers 202 Accepted)`);
}
