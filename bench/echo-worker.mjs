// A trivial JavaScript Worker that answers with the request's body: the ceiling for a Worker
// that takes Segment events on this machine (scripts/bench.sh, bench/worker-load.mjs).
export default {
  async fetch(request) {
    const body = await request.text();
    return new Response(body, { headers: { 'content-type': 'application/json' } });
  },
};
