// Package outbox delivers the invalidations of committed writes: each write
// records its tags in an outbox row in its own transaction (db), and a
// Relay turns rows into cache invalidations (cache), then acks them. It
// imports db and cache.
//
// One vocabulary: Deliver makes one committed change visible; Drain
// delivers every row still in the outbox (left by a failed Deliver, or by a
// process killed between commit and invalidation); Run drains on a
// schedule; the Lease is this process's right to answer from the shared
// cache (lease.go); the Bypass keeps this process's reads off the cache
// while an invalidation may be undelivered or the lease is not held, and
// ErrUndelivered says a change is saved but not yet delivered. Invariant:
// Deliver returns nil only once the change's tags are invalidated in the
// shared cache (by this process or by another relay sharing the database,
// its row acked) or no other process holds a lease (each delivers the
// outbox before it answers from the cache again), so a write acknowledged
// to its client is visible to every process that reads afterwards.
package outbox
