// A local stand-in for LaunchDarkly's REST API (the parts the Worker's catalogue refresh reads),
// on 127.0.0.1, answering the documented JSON shapes of LaunchDarkly's published API reference:
//   GET /api/v2/projects/{project}/environments  {"items": [{"_id", "key", "name", "apiKey", "mobileKey", ...}], "totalCount", "_links"}
//   GET /api/v2/metrics/{project}                {"items": [{"key", "name", "kind", "eventKey", "isNumeric", "randomizationUnits", ...}], ...}
// Lists come `pageSize` items at a time, each page linking the next with `_links.next.href` (a
// path with `offset`), as LaunchDarkly does. A request without `Authorization: <token>` gets 401,
// an unknown project 404; `respondWith(fn)` scripts other answers (429 with X-Ratelimit-Reset,
// 500, ...). Every request is recorded with its Authorization header.
//
// `const api = await startRestStandIn({token, project}); api.baseUrl; api.requests; api.metrics = [...]`
import http from 'node:http';

/** Environments of the project "default" (with the secret keys the bridge must never read). */
export const ENVIRONMENTS = [
  { _id: 'env-production-cron', key: 'production', name: 'Production', apiKey: 'sdk-server-secret-prod', mobileKey: 'mob-secret-prod', color: '417505' },
  { _id: 'env-test-cron', key: 'test', name: 'Test', apiKey: 'sdk-server-secret-test', mobileKey: 'mob-secret-test', color: 'f5a623' },
  { _id: 'env-staging-cron', key: 'staging', name: 'Staging', apiKey: 'sdk-server-secret-staging', mobileKey: 'mob-secret-staging' },
];

/** Metrics of the project "default": custom ones on two event keys, and two no track event can feed. */
export const METRICS = [
  { key: 'revenue', name: 'Revenue', kind: 'custom', eventKey: 'Order Completed', isNumeric: true, randomizationUnits: ['user'], unitAggregationType: 'sum', experimentCount: 2, tags: [] },
  { key: 'orders', name: 'Orders', kind: 'custom', eventKey: 'Order Completed', isNumeric: false, randomizationUnits: ['user', 'organization'] },
  { key: 'home-visits', name: 'Home page', kind: 'pageview', urls: [{ kind: 'exact', url: 'https://example.com/' }] },
  { key: 'signups', name: 'Sign-ups', kind: 'custom', eventKey: 'Signed Up', isNumeric: false, randomizationUnits: ['user'] },
  { key: 'cta-clicks', name: 'CTA clicks', kind: 'click', selector: '#cta' },
];

/** Starts the stand-in. `port` 0 picks a free port. */
export async function startRestStandIn({ port = 0, token, project = 'default', pageSize = 2 } = {}) {
  const requests = [];
  let respond = () => undefined;
  const state = { environments: ENVIRONMENTS, metrics: METRICS };

  const page = (items, path, offset) => {
    const slice = items.slice(offset, offset + pageSize);
    const links = { self: { href: `${path}?limit=${pageSize}&offset=${offset}`, type: 'application/json' } };
    if (offset + pageSize < items.length) {
      links.next = { href: `${path}?limit=${pageSize}&offset=${offset + pageSize}`, type: 'application/json' };
    }
    return { items: slice, totalCount: items.length, _links: links };
  };
  const json = (status, body, headers = {}) => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const record = { method: req.method, url: req.url, path: url.pathname, authorization: req.headers.authorization, headers: req.headers };
    requests.push(record);
    let answer = await respond(record, requests.length);
    if (answer === undefined) {
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const environments = url.pathname.match(/^\/api\/v2\/projects\/([^/]+)\/environments$/);
      const metrics = url.pathname.match(/^\/api\/v2\/metrics\/([^/]+)$/);
      const asked = decodeURIComponent((environments ?? metrics ?? [])[1] ?? '');
      if (req.method !== 'GET' || (!environments && !metrics)) {
        answer = json(404, { code: 'not_found', message: 'Unknown resource' });
      } else if (req.headers.authorization !== token) {
        answer = json(401, { code: 'unauthorized', message: 'Invalid access token' });
      } else if (asked !== project) {
        answer = json(404, { code: 'not_found', message: 'Unknown project' });
      } else if (environments) {
        answer = json(200, page(state.environments, url.pathname, offset));
      } else {
        answer = json(200, page(state.metrics, url.pathname, offset));
      }
    }
    record.status = answer.status;
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? '');
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: boundPort } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${boundPort}`,
    requests,
    /** The project's metrics, as the list answers give them (assign to change them). */
    get metrics() {
      return state.metrics;
    },
    set metrics(metrics) {
      state.metrics = metrics;
    },
    /**
     * Scripts the answers: `fn(record, count) -> {status, headers?, body?}`, or undefined for the
     * stand-in's own answer.
     */
    respondWith(fn) {
      respond = fn;
    },
    reset() {
      requests.length = 0;
      respond = () => undefined;
      state.environments = ENVIRONMENTS;
      state.metrics = METRICS;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
