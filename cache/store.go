package cache

import (
	"context"
	"time"
)

// Store is the data path of a cache backend. Each method is one round trip
// to the backend. Implementations: *MemoryStore and redisstore.Store. They
// never interpret values.
type Store interface {
	// Get returns the raw values stored under keys, how long each has
	// left to live, and the current version of every tag in tags (Got),
	// with the log's stamp read before them when the store can order the
	// two. A tag that has no version yet is given a fresh random one
	// atomically (only if still absent, with TTL TagTTL), so every
	// requested tag is in the result. The values are read-only: the
	// in-process store returns its own.
	Get(ctx context.Context, keys, tags []string) (Got, error)
	// Versions returns the current versions of tags; absent tags are left
	// out of the map (not created).
	Versions(ctx context.Context, tags []string) (map[string]string, error)
	// Set stores items, each with its own TTL (required, > 0).
	Set(ctx context.Context, items []Item) error
	// Bump gives every tag a new random version (TTL TagTTL), then appends
	// one record of tags to the invalidation log (log.go).
	Bump(ctx context.Context, tags []string) error
	// Observe reads the raw value at key (none when key is "") and the
	// invalidation log since since (see Changes), in one round trip.
	Observe(ctx context.Context, key string, since Stamp) ([]byte, Changes, error)
}

// Got is what Store.Get read.
type Got struct {
	Values   [][]byte          // by key; nil where absent or expired
	TTLs     []time.Duration   // by key: how long each value has left to live (a copy must not outlive it)
	Versions map[string]string // by tag
	// Stamp is the log's (log.go), read before Versions, so every bump
	// recorded at or before it is seen in them; zero when the store does
	// not read it so.
	Stamp Stamp
}

// Item is one value to store.
type Item struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// TagTTL is how long a tag version lives after it was created or bumped:
// twice the longest entry TTL (the schema's longest maxAge is 24 h), so a
// tag outlives the entries that carry it, and no longer, since every read
// of a new argument (a city nobody has asked for) creates a tag. When a tag
// expires anyway, entries carrying it simply miss.
const TagTTL = 48 * time.Hour
