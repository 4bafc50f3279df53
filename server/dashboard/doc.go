// Package dashboard serves the operator's live cache dashboard at
// /dashboard: an embedded page (HTML, script and style, no build step) fed
// by server-sent events, behind a login with the admin token. It owns the
// history behind its charts: each server process samples cache.Stats once
// per tick and writes one Sample (the shared totals plus the tags it
// invalidated, by family) to a History shared through the cache backend (a
// Redis sorted set, or an in-memory ring on the in-process cache).
//
// It imports cache (whose Report holds the figures the cacheStats query
// answers, so that the page and the query agree), db and go-redis, never
// graph; server wires it. Invariants: no data leaves without the session
// cookie or the admin bearer token, the cookie is a random session id (in
// this process, revoked at logout) that never holds the token, login
// attempts are limited per client, and
// the history stays bounded (trimmed to the window and a member cap, with a
// TTL) whatever the number of processes.
package dashboard
