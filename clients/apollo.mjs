// Apollo Client (the real @apollo/client, with its persisted-queries link
// sending hashed queries as GET) against the server at the URL given as
// the first argument, with the admin token as the second: a query, the
// same query again (hash only), a mutation, and a refetch that must see
// the mutation. Prints what each step did and "N passed, N failed"; exits 1
// on any failure.
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const [url, token] = process.argv.slice(2);
const requests = [];
const fetchLogged = async (uri, options) => {
  const res = await fetch(uri, options);
  const hashOnly = options.method === 'GET' ? !new URL(uri).searchParams.has('query') : !JSON.parse(options.body).query;
  requests.push(`${options.method} ${hashOnly ? 'hash only' : 'with text'} -> ${res.status}`);
  return res;
};
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({
    sha256: (q) => createHash('sha256').update(q).digest('hex'),
    useGETForHashedQueries: true,
  }).concat(new HttpLink({ uri: url, fetch: fetchLogged, headers: { authorization: `Bearer ${token}` } })),
});

let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
};

const LIST = gql`query Listings { properties(first: 5) { totalCount edges { node { id title } } } }`;
try {
  const first = await client.query({ query: LIST });
  const id = first.data.properties.edges[0]?.node.id;
  check('query (unknown hash, then the text)', first.data.properties.totalCount > 0 && id, `${requests.join(', ')}`);
  requests.length = 0;
  const again = await client.query({ query: LIST, fetchPolicy: 'network-only' });
  check('query again (hash only, GET)', requests.length === 1 && requests[0].startsWith('GET hash only -> 200') && again.data.properties.totalCount === first.data.properties.totalCount, requests.join(', '));
  requests.length = 0;
  const title = `Renamed by Apollo ${Date.now()}`;
  const m = await client.mutate({
    mutation: gql`mutation Rename($id: ID!, $t: String) { updateProperty(id: $id, input: {title: $t}) { id title } }`,
    variables: { id, t: title },
  });
  check('mutation (POST)', m.data.updateProperty.title === title, requests.join(', '));
  requests.length = 0;
  const refetched = await client.query({ query: LIST, fetchPolicy: 'network-only' });
  const seen = refetched.data.properties.edges.find((e) => e.node.id === id)?.node.title;
  check('refetch sees the mutation', seen === title, `${seen}; ${requests.join(', ')}`);
} catch (err) {
  check('client', false, String(err));
}
console.log(`apollo: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
