package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// T6: 100 000 invalidate-then-refill cycles over a fixed set of 50 keys and
// 20 tags leave a bounded number of keys, all with a TTL: invalidation
// creates no garbage (no tag sets, no orphan entries).
func TestSoak(t *testing.T) {
	const (
		keys    = 50
		tags    = 20
		refills = 100_000
		workers = 4
	)
	if testing.Short() {
		t.Skip("soak")
	}
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		ctx := context.Background()
		tagName := func(i int) string { return fmt.Sprint("tag:", i) }
		lookups := make([]cache.Lookup, keys)
		for i := range lookups {
			lookups[i] = cache.Lookup{
				Key:  fmt.Sprint("key:", i),
				Tags: []string{tagName(i % tags), tagName((i*7 + 3) % tags), "collection"},
			}
		}
		var filled, rounds atomic.Int64
		fill := func(_ context.Context, misses []int) ([][]byte, error) {
			filled.Add(int64(len(misses)))
			vals := make([][]byte, len(misses))
			for j, i := range misses {
				vals[j] = []byte(lookups[i].Key)
			}
			return vals, nil
		}
		// Each round invalidates a few tags (one round trip) and reloads every
		// key (two), refilling the entries that carry them.
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 0))
				for filled.Load() < refills && !t.Failed() {
					bump := make([]string, 6)
					for i := range bump {
						bump[i] = tagName(rng.IntN(tags))
					}
					if rng.IntN(50) == 0 {
						bump = append(bump, "collection")
					}
					if err := c.Invalidate(ctx, bump...); err != nil {
						t.Error(err)
						return
					}
					if _, err := c.Load(ctx, "Query.soak", time.Hour, lookups, fill); err != nil {
						t.Error(err)
						return
					}
					rounds.Add(1)
				}
			})
		}
		wg.Wait()
		if err := c.Flush(ctx); err != nil { // creates the stats hash, which must expire too
			t.Fatal(err)
		}
		ttls := cache.KeyTTLs(t, s)
		epochs := 0 // one per Redis master
		for k := range ttls {
			if strings.HasPrefix(k, "epoch") {
				epochs++
			}
		}
		if _, ok := s.(*redisstore.Store); ok != (epochs > 0) {
			t.Errorf("%d epoch keys on %T", epochs, s)
		}
		logKeys := 0 // the invalidation log's head and records, on Redis
		if epochs > 0 {
			logKeys = 2
		}
		limit := keys + tags + 2 /* collection, all */ + 1 /* stats */ + epochs + logKeys
		if len(ttls) > limit {
			t.Errorf("%d keys after the soak, want <= %d", len(ttls), limit)
		}
		for k, d := range ttls {
			if d <= 0 {
				t.Errorf("%s has no TTL (%v)", k, d)
			}
		}
		n, err := s.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*cache.MemoryStore); ok && n > int64(limit) {
			t.Errorf("memory store holds %d items, want <= %d", n, limit)
		}
		t.Logf("%d rounds, %d refills, %d keys", rounds.Load(), filled.Load(), len(ttls))
	})
}
