// Live queries through the real npm clients: graphql-sse (GraphQL over
// Server-Sent Events, distinct connections mode) or graphql-ws (GraphQL over
// WebSocket), against the server at the URL given first. Arguments: url,
// transport (sse or ws), the id of a property to watch, the id of another
// property, the admin token. It subscribes to the watched property's price
// with @live, then: a write to the watched property must push its new price;
// a write to the other property must push nothing (a last write to the
// watched one is the barrier: the next push must be its price). Prints
// each step, the pushes counted and "N passed, N failed"; exits 1 on any
// failure.
import { spawnSync } from 'node:child_process';

if (typeof WebSocket === 'undefined') { // Node 20: WebSocket behind a flag
  const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { createClient: createSSE } = await import('graphql-sse');
const { createClient: createWS } = await import('graphql-ws');

const [url, transport, id, otherId, token] = process.argv.slice(2);
const QUERY = 'query Price($id: ID!) @live { property(id: $id) { id price } }';

let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
};

const pushes = [];
const waiters = [];
const onNext = (result) => {
  pushes.push(result);
  for (const w of waiters.splice(0)) w();
};
// pushesReach resolves once n answers arrived (or fails after a minute: a
// hang, not a timing assertion).
const pushesReach = (n) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`only ${pushes.length} pushes, waited for ${n}`)), 60000);
  const test = () => {
    if (pushes.length >= n) { clearTimeout(timer); resolve(); } else waiters.push(test);
  };
  test();
});
const priceOf = (r) => r?.data?.property?.price;

const mutate = async (pid, price) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation($id: ID!, $p: Decimal) { updateProperty(id: $id, input: {price: $p}) { id } }', variables: { id: pid, p: price } }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
};

let client;
let stop;
const sink = { next: onNext, error: (e) => { console.log('error', e); failed++; }, complete: () => {} };
if (transport === 'sse') {
  client = createSSE({ url, retryAttempts: 0 });
  stop = client.subscribe({ query: QUERY, variables: { id } }, sink);
} else {
  client = createWS({ url: url.replace(/^http/, 'ws'), retryAttempts: 0, lazy: true });
  stop = client.subscribe({ query: QUERY, variables: { id } }, sink);
}
try {
  await pushesReach(1);
  check('first answer', priceOf(pushes[0]) !== undefined, priceOf(pushes[0]));
  await mutate(id, '1111');
  await pushesReach(2);
  check('a write to the watched property pushes its new price', priceOf(pushes[1]) === '1111.00', priceOf(pushes[1]));
  await mutate(otherId, '3333');
  await mutate(id, '2222');
  await pushesReach(3);
  check('a write to another property pushes nothing', priceOf(pushes[2]) === '2222.00', `next push ${priceOf(pushes[2])}`);
} catch (e) {
  check('run', false, e.message);
} finally {
  stop();
  await client.dispose();
}
console.log(`pushes: ${pushes.length}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
