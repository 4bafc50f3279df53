// Package live serves live queries: a query marked @live, sent over GraphQL
// over SSE (the graphql-sse protocol, distinct connections mode) or over
// WebSocket (graphql-ws), gets its answer, then a new answer each time an
// invalidation changes it, and nothing otherwise.
//
// The Registry holds one entry per distinct request (the whole-response
// level's Digest: document, operation, variables, scope), with the last
// answer sent and the tags that answer was built from, as respcache
// recorded them (respcache.Capture): tags are never computed a second way.
// An invalidation wakes only the entries carrying one of its tags; each is
// recomputed once, through the same http.Handler users reach, from a read
// that starts after the invalidation was delivered, and its new answer is
// fanned out to its subscribers unless it equals the last one sent. Nothing
// runs while nothing changes: no polling, no timer per subscriber.
//
// Invalidations reach the Registry through the cache's Invalidated hook
// (this process) and a Redis pub/sub doorbell (other processes); either
// one makes it read the invalidation log since the last point it read, so
// a lost doorbell only delays the tags it would have announced, and a log
// that cannot say (trimmed, lost) or a pub/sub reconnection recomputes
// every entry.
//
// Bounds: subscriptions are HTTP connections (the server's connection
// limit), their documents go through the same limits and costs as queries,
// a client address holds at most MaxPerClient of them, and a subscriber is
// a slot in its connection's mailbox, where a newer answer replaces one not
// yet written (latest wins): fan-out never waits for a client.
// Only public, cached answers are live: a live query whose answer is
// PRIVATE is refused (extensions.code LIVE_PRIVATE), one the response level
// does not keep (admin-only or uncached fields, errors) too
// (LIVE_UNSUPPORTED), and every run is anonymous.
// It may import cache, graph/gqlhttp, graph/respcache and graph/limit,
// never graph or server.
package live
