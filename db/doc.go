// Package db owns Kedah Pulse's persisted domain: destinations, property
// listings, social posts with their hourly sentiment rollups, scrape runs and
// the cache-invalidation outbox. It holds every SQL statement for both
// dialects (PostgreSQL and SQLite through uptrace/bun), the migrations, the
// demo seed, and the tag vocabulary (tag.go) that names what each write
// affects.
//
// It may import bun and its drivers (the SQLite ones only for their error
// codes), golang.org/x/text, the standard library and the pure sentiment
// package; it never imports graph or server. Invariant: every write
// computes the cache tags it affects inside its transaction and records
// them in the outbox in that same transaction, so no committed write can
// lose its invalidation; the rows whose fields decide those tags (a
// destination's city) are read locked, FOR SHARE on PostgreSQL, so that
// the tags are those of the state the write commits in. Locks are taken
// properties first, then destinations. A bulk rewrite (the seed) records
// TagAll, which names every cached entry. The processes that cache this
// data register as cache peers (JoinCache), and only processes sharing one
// cache are admitted together, since each invalidates only its own cache
// before acking an outbox row. Every string a client sends is checked
// (valid UTF-8, no NUL, bounded) before any SQL runs.
package db
