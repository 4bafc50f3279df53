// graphql-ws's npm client with a token in connection_init's payload
// (connectionParams), against the server at the URL given first. Arguments:
// url, the admin token. An admin-only query sent over a connection whose
// init carries {Authorization: "Bearer <token>"} is answered; the same
// query over an anonymous connection, or one with a wrong token, is
// refused; a live query over the admin's connection gets its public
// answer. Prints each step and "N passed, N failed"; exits 1 on any
// failure.
import { spawnSync } from 'node:child_process';

if (typeof WebSocket === 'undefined') { // Node 20: WebSocket behind a flag
  const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { createClient } = await import('graphql-ws');

const [url, token] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
};

// first returns the first result (or error) of query over a connection
// whose connection_init payload is params.
const first = async (params, query) => {
  const client = createClient({ url: url.replace(/^http/, 'ws'), retryAttempts: 0, lazy: true, connectionParams: params });
  try {
    return await new Promise((resolve) => {
      const stop = client.subscribe({ query }, {
        next: (r) => { stop(); resolve(r); },
        error: (e) => resolve({ errors: Array.isArray(e) ? e : [{ message: String(e?.message ?? e) }] }),
        complete: () => resolve({ errors: [{ message: 'completed with no answer' }] }),
      });
    });
  } finally {
    await client.dispose();
  }
};
const codes = (r) => (r.errors || []).map((e) => e.extensions?.code ?? e.message).join(',');

const ADMIN = '{ cacheStats { backend } }';
let r = await first({ Authorization: `Bearer ${token}` }, ADMIN);
check('admin token in connection_init: the admin-only query is answered', typeof r.data?.cacheStats?.backend === 'string', JSON.stringify(r));
r = await first({ token }, ADMIN);
check('a bare token in connection_init works too', typeof r.data?.cacheStats?.backend === 'string', JSON.stringify(r));
r = await first(undefined, ADMIN);
check('no token: refused', !r.data?.cacheStats && codes(r) !== '', codes(r));
r = await first({ Authorization: 'Bearer wrong' }, ADMIN);
check('a wrong token: refused', !r.data?.cacheStats && codes(r) !== '', codes(r));
r = await first({ Authorization: `Bearer ${token}` }, 'query @live { destinations(first: 1) { totalCount } }');
check('a live query over the admin\'s connection gets its public answer', typeof r.data?.destinations?.totalCount === 'number', JSON.stringify(r));
r = await first({ Authorization: `Bearer ${token}` }, 'query @live { cacheStats { backend } }');
check('an admin-only live query is refused, never shared', codes(r).includes('LIVE_'), codes(r));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
