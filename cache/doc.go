// Package cache is Kedah Pulse's read-through cache with tag invalidation:
// a small data Store and the in-process one (memory.go), whose hits Peek
// answers with no I/O, entries and tag versions, the invalidation log
// (log.go), whole responses (response.go), copies of field entries kept in
// process and validated by the log (copies.go), values decoded from payloads
// kept beside their bytes (decoded.go), the coalescing of fills,
// statistics, and the quiet logging of repeated faults (quiet.go); the
// Redis store is in redisstore. It knows nothing of GraphQL or SQL (keys
// and tags are opaque strings, values are bytes) and imports only
// prometheus, s2 and the standard library. Invariant: a value is never
// served after Invalidate(tag) has returned, for any tag the value carries.
package cache
