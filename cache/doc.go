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
// A whole response may carry a hundred tags, so its hit does not read
// them: every Bump also appends a record of its tags to the store's
// invalidation log, and a response entry carries the log's stamp from
// before its fill (log.go, response.go). The same stamp at read time means
// nothing was bumped since; otherwise the records since the stamp say
// whether any of its tags was, and only when the log cannot tell (lost,
// trimmed) are its tags' versions read. On Redis, valid entries are also
// kept in process, so a hit reads only the log's head.
//
// Redis can lose writes it acknowledged: a restart from an older RDB or AOF,
// or the promotion of a replica that missed them, brings old tag versions
// back, and the entries they validate. Either changes the node's identity
// (INFO run_id, master_replid), and neither leaves the cache a connection
// opened before it: a restart breaks them, and the cache keeps none to
// replicas. So every new connection of a client from OpenRedis checks,
// before its first command, the identity recorded on that node under the
// store's prefix (the epoch, epoch.go); if it is missing or differs, it
// gives AllTag, which every entry carries, a new version, then records the
// identity. The invariant then holds on a single node whatever its
// persistence, behind Sentinel (whose client drops its connections to a
// demoted master) and on Redis Cluster (each master keeps its own epoch, and
// a read spanning masters runs again if a connection was checked meanwhile).
// It does not hold for reads from replicas (OpenRedis refuses the options
// for them, and the check refuses connections to replicas), for a client not
// from OpenRedis, for a connection left open through its node's demotion and
// re-promotion (a cluster failover and failback within the pool's idle
// time), or while two masters take writes at once (a partition).
//
// Redis must be 7.0 or later (Get uses SET ... NX GET). Every store call is
// a pipeline of single-key commands, so Redis Cluster works without hash
// tags, except the log's two keys, which share one so a script appends to
// both (the epoch check starts a new log on a node that lost writes). The entry format is in entry.go, the coalescing of fills in
// flight.go (a fill whose caller went away is handed to a Load waiting on
// it). Options.Timeout bounds every store call, connection set-up included.
package cache
