// Package redisstore is the cache's store on Redis 7.0 or later (a single
// node, Sentinel or Cluster): the commands and Lua scripts of the data
// path, the shared counters, the persisted queries' texts in a budget of
// their own (texts.go), the epoch check that keeps Redis's lost writes from
// bringing invalidated entries back (epoch.go), and go-redis's log routed
// to slog (log.go). It imports
// cache and go-redis. Invariant: every connection of a Store's client has
// passed the epoch check for the store's prefix before its first command,
// and none is to a replica.
package redisstore
