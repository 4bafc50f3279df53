// Package db owns Kedah Pulse's persisted domain (destinations, listings,
// posts with their sentiment rollups, scrape runs, the invalidation outbox
// and the cache peers) and every SQL statement for PostgreSQL and SQLite
// through bun, with the migrations and the demo seed. It also owns the
// cache's vocabulary: the canonical arguments of cached reads (args.go) and
// the tags a read depends on beside the tags a write bumps (tag.go). It may
// import bun and its drivers, golang.org/x/text and sentiment, never cache,
// graph or server. Invariant: every write computes the tags it affects
// inside its transaction, from rows read locked, and records them in the
// outbox in that same transaction (Store.record), so no committed write
// can lose its invalidation. Every string a client sends is checked (valid
// UTF-8, no NUL, bounded) before any SQL runs.
package db
