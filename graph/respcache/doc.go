// Package respcache is the whole-response level: the front that answers a
// repeated request before anything else (Level.Front, with the memo of
// requests as sent), the lookup and fill around execution (Level.Serve, the
// transport's gqlhttp.Level), the headers of cacheable answers (ETag and
// 304, Vary, Cache-Control, the CDN's tag header), the Warmer, which
// replays popular requests through the front after an invalidation,
// Replay, the one way this process sends itself a request (the Warmer's
// replays, graph/live's runs), and Capture, which tells a caller
// (graph/live) the digest and tags of the answer it wrote.
// It imports cache, db (the analytics tags the Warmer watches),
// graph/gqlhttp (the parameters, the prepared request and the writing of
// bodies) and graph/cachecontrol, never graph: graph.NewHandler composes
// the chain that puts it in front of auth and gqlgen.
// Invariants: an entry's key is exactly what gqlgen executes (document id,
// operation, coerced variables) for a scope and an hour; an entry is stored
// only from a clean answer whose every read recorded its tag versions,
// stamped before it ran, so it is never served after one of them changed.
package respcache
