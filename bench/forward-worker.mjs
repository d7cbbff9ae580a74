// A trivial JavaScript Worker doing the bridge's I/O without its core: it reads the body, posts it
// to the LaunchDarkly stand-in (one subrequest), writes the bridge's two log lines and answers
// with a small JSON document. The bridge minus this Worker is what the Rust/wasm core and its
// adapter cost (scripts/bench.sh, bench/worker-load.mjs).
export default {
  async fetch(request, env) {
    const started = Date.now();
    const body = await request.text();
    const url = `${env.LD_EVENTS_HOST}/events/bulk/${env.LD_CLIENT_SIDE_ID}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.arrayBuffer();
    console.log(JSON.stringify({ log: 'delivery', url, events: 1, status: response.status }));
    console.log(
      JSON.stringify({ log: 'request', method: 'POST', path: '/segment', status: 200, ms: Date.now() - started }),
    );
    return new Response(JSON.stringify({ status: response.status }), {
      headers: { 'content-type': 'application/json' },
    });
  },
};
