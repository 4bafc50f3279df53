// Runs graphql-http's server audits (the GraphQL over HTTP spec's) against
// the server at the URL given as the first argument and prints one line per
// audit, then "N passed, N failed"; it exits 1 if any audit is not ok
// (warnings and notices count as failures: the server must pass them all).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
let passed = 0;
let failed = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const ok = result.status === 'ok';
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : result.status.padEnd(4)} ${audit.name}${ok ? '' : ': ' + result.reason}`);
}
console.log(`audit: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
