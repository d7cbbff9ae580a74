// The LaunchDarkly stand-in of the end-to-end tests (tests/support/launchdarkly-standin.mjs) as
// its own process for the load tests: prints {"baseUrl", "pid"} as one JSON line, forgets what it
// received every 200 ms so that memory stays bounded, and stops when its parent closes stdin.
import { startStandIn } from '../../tests/support/launchdarkly-standin.mjs';

const standIn = await startStandIn();
let received = 0;
const forget = setInterval(() => {
  received += standIn.received.length;
  standIn.received.length = 0;
}, 200);
console.log(JSON.stringify({ baseUrl: standIn.baseUrl, pid: process.pid }));
process.stdin.resume();
process.stdin.on('end', async () => {
  clearInterval(forget);
  await standIn.close();
  console.error(`[stand-in] received ${received + standIn.received.length} requests`);
  process.exit(0);
});
