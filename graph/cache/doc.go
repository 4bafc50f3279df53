// Package cache is Kedah Pulse's read-through cache with tag invalidation. It
// owns the stores (Redis through go-redis's UniversalClient, and an
// in-process store for the embedded default), the entry format, tag
// versions, in-process load coalescing and hit/miss statistics. It knows
// nothing of GraphQL or SQL: keys and tags are opaque strings, values are
// bytes. It may import go-redis, prometheus and the standard library.
//
// Every entry is stored with the versions of its tags, and those versions are
// read before the caller reads the source of truth (Load reads them in the
// same round trip as the entries). Invalidating a tag gives it a new random
// version, so an entry filled from a read that raced the invalidation carries
// the old version and never validates again. Invariant: a value is never
// served after Invalidate(tag) has returned, for any tag the value carries.
// Tags expire or get evicted safely: a missing tag gets a fresh random
// version, which matches no stored entry.
//
// Redis must be 7.0 or later (Get uses SET ... NX GET). Every store call is
// a pipeline of single-key commands, so Redis Cluster works without hash
// tags. The entry format is in entry.go, the coalescing of fills in
// flight.go.
package cache
