package cache

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test hooks reaching into the stores and the Cache.

// redisBacked is a store on Redis (redisstore.Store, which this package
// cannot import): the helpers below reach its keys through its client, by
// the key layout redisstore documents.
type redisBacked interface {
	Client() redis.UniversalClient
	Prefix() string
}

// SetClock replaces the clock of c's circuit breaker.
func SetClock(c *Cache, now func() time.Time) {
	c.breaker.mu.Lock()
	defer c.breaker.mu.Unlock()
	c.breaker.now = now
}

// FlightWaiters returns how many Loads are waiting on another Load's fill.
func FlightWaiters(c *Cache) int { return c.flights.waiting() }

// SetMemoryClock replaces m's clock.
func SetMemoryClock(m *MemoryStore, now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// DropTag deletes tag's version in the backend, as an eviction, an expiry
// or a restart would.
func DropTag(tb testing.TB, s Store, tag string) {
	tb.Helper()
	switch s := s.(type) {
	case *MemoryStore:
		s.mu.Lock()
		delete(s.items, "t:"+tag)
		s.mu.Unlock()
	case redisBacked:
		if err := s.Client().Del(context.Background(), s.Prefix()+"t:"+tag).Err(); err != nil {
			tb.Fatal(err)
		}
	default:
		tb.Fatalf("DropTag: unknown store %T", s)
	}
}

// DropLog deletes the invalidation log in the backend, as an eviction or a
// restart would.
func DropLog(tb testing.TB, s Store) {
	tb.Helper()
	switch s := s.(type) {
	case *MemoryStore:
		s.mu.Lock()
		s.logID, s.logN, s.records = NewVersion(), 0, nil
		s.mu.Unlock()
	case redisBacked:
		if err := s.Client().Del(context.Background(), s.Prefix()+"{log}head").Err(); err != nil {
			tb.Fatal(err)
		}
		if err := s.Client().Del(context.Background(), s.Prefix()+"{log}records").Err(); err != nil {
			tb.Fatal(err)
		}
	default:
		tb.Fatalf("DropLog: unknown store %T", s)
	}
}

// DropAllTags deletes every tag version in the backend (a FLUSH of the tag
// keys).
func DropAllTags(tb testing.TB, s Store) {
	tb.Helper()
	switch s := s.(type) {
	case *MemoryStore:
		s.mu.Lock()
		for k := range s.items {
			if strings.HasPrefix(k, "t:") {
				delete(s.items, k)
			}
		}
		s.mu.Unlock()
	case redisBacked:
		ctx := context.Background()
		for _, k := range redisKeys(tb, s, s.Prefix()+"t:") {
			if err := s.Client().Del(ctx, k).Err(); err != nil {
				tb.Fatal(err)
			}
		}
	default:
		tb.Fatalf("DropAllTags: unknown store %T", s)
	}
}

// KeyTTLs returns the remaining TTL of every key the store holds (on Redis,
// under its prefix, found with SCAN); a key without a TTL has a negative
// one.
func KeyTTLs(tb testing.TB, s Store) map[string]time.Duration {
	tb.Helper()
	ttls := make(map[string]time.Duration)
	switch s := s.(type) {
	case *MemoryStore:
		s.mu.Lock()
		now := s.now()
		for k, it := range s.items {
			ttls[k] = it.expires.Sub(now)
		}
		s.mu.Unlock()
	case redisBacked:
		ctx := context.Background()
		for _, k := range redisKeys(tb, s, s.Prefix()) {
			d, err := s.Client().PTTL(ctx, k).Result()
			if err != nil {
				tb.Fatal(err)
			}
			ttls[strings.TrimPrefix(k, s.Prefix())] = d
		}
	default:
		tb.Fatalf("KeyTTLs: unknown store %T", s)
	}
	return ttls
}

// EntryTTL returns the remaining TTL of key's entry, or 0 if it has none.
func EntryTTL(tb testing.TB, s Store, key string) time.Duration {
	tb.Helper()
	return ttlOf(tb, s, "e:"+key)
}

// TagTTLOf returns the remaining TTL of tag, or 0 if it has none.
func TagTTLOf(tb testing.TB, s Store, tag string) time.Duration {
	tb.Helper()
	return ttlOf(tb, s, "t:"+tag)
}

func ttlOf(tb testing.TB, s Store, k string) time.Duration {
	switch s := s.(type) {
	case *MemoryStore:
		s.mu.Lock()
		defer s.mu.Unlock()
		it, ok := s.items[k]
		if !ok {
			return 0
		}
		return max(it.expires.Sub(s.now()), 0)
	case redisBacked:
		d, err := s.Client().PTTL(context.Background(), s.Prefix()+k).Result()
		if err != nil {
			tb.Fatal(err)
		}
		return max(d, 0)
	default:
		tb.Fatalf("ttl: unknown store %T", s)
		return 0
	}
}

// StatsTTL returns the TTL of a Redis store's shared counters.
func StatsTTL(tb testing.TB, s redisBacked) time.Duration {
	tb.Helper()
	d, err := s.Client().PTTL(context.Background(), s.Prefix()+"stats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func redisKeys(tb testing.TB, s redisBacked, prefix string) []string {
	tb.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cluster, ok := s.Client().(*redis.ClusterClient); ok { // SCAN covers one node: ask every master
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	} else {
		err = scan(ctx, s.Client())
	}
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// HeadReadQueued reports whether a read of the log's head has callers
// waiting for it to be sent.
func HeadReadQueued(c *Cache) bool {
	c.heads.mu.Lock()
	defer c.heads.mu.Unlock()
	return c.heads.next != nil
}
