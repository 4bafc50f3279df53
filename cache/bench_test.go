package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// eachStoreB is cachetest.EachStore for benchmarks.
func eachStoreB(b *testing.B, fn func(b *testing.B, s cachetest.Store)) {
	b.Run("memory", func(b *testing.B) { fn(b, cache.NewMemoryStore(cache.MemoryLimits{MaxEntries: 1_000_000})) })
	b.Run("redis", func(b *testing.B) { fn(b, cachetest.NewRedisStore(b)) })
}

func BenchmarkLoadHit(b *testing.B) {
	eachStoreB(b, func(b *testing.B, s cachetest.Store) {
		c := newCache(b, s, cache.Options{})
		ctx := context.Background()
		lookups := make([]cache.Lookup, 50)
		for i := range lookups {
			lookups[i] = cache.Lookup{Key: fmt.Sprint("property:", i), Tags: []string{fmt.Sprint("property:", i), "properties"}}
		}
		f := cachetest.NewFiller(cachetest.NewSource())
		cachetest.MustLoad(b, c, ctx, lookups, f.Fill(lookups))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Load(ctx, "Query.properties", time.Hour, lookups, f.Fill(lookups)); err != nil {
				b.Fatal(err)
			}
		}
		if f.Calls.Load() != 1 {
			b.Fatalf("fill ran %d times", f.Calls.Load())
		}
	})
}

func BenchmarkInvalidate(b *testing.B) {
	eachStoreB(b, func(b *testing.B, s cachetest.Store) {
		c := newCache(b, s, cache.Options{})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Invalidate(ctx, "property:1", "properties"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Invalidating a tag costs the same whatever the number of entries under
// it: O(1), one SET.
func BenchmarkInvalidateTagWithEntries(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint("entries=", n), func(b *testing.B) {
			eachStoreB(b, func(b *testing.B, s cachetest.Store) {
				c := newCache(b, s, cache.Options{Timeout: time.Minute})
				ctx := context.Background()
				const batch = 1_000
				for start := 0; start < n; start += batch {
					lookups := make([]cache.Lookup, batch)
					for i := range lookups {
						lookups[i] = cache.Lookup{Key: fmt.Sprint("e:", start+i), Tags: []string{"hot"}}
					}
					if _, err := c.Load(ctx, "Query.x", time.Hour, lookups, func(_ context.Context, misses []int) ([][]byte, error) {
						return make([][]byte, len(misses)), nil
					}); err != nil {
						b.Fatal(err)
					}
				}
				for b.Loop() {
					if err := c.Invalidate(ctx, "hot"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
