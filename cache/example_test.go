package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
)

// Load reads through the cache: the first read fills from the source, the
// second is a hit, and once a tag the value carries is invalidated the
// next read fills again.
func ExampleCache_Load() {
	store := cache.NewMemoryStore(cache.MemoryLimits{})
	c := cache.New(store, cache.Options{Timeout: -1, BreakerThreshold: -1}) // in process: no timeout, no breaker
	ctx := context.Background()
	lookups := []cache.Lookup{{Key: "property:1:title", Tags: []string{"property:1"}}}
	title := "Villa by the sea" // the source of truth
	fill := func(_ context.Context, misses []int) ([][]byte, error) {
		fmt.Println("fill", len(misses))
		return [][]byte{[]byte(title)}, nil
	}
	read := func() {
		v, err := c.Load(ctx, "Property.title", time.Hour, lookups, fill)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(v[0]))
	}
	read()
	read()
	title = "Villa on the beach"
	if err := c.Invalidate(ctx, "property:1"); err != nil {
		panic(err)
	}
	read()
	// Output:
	// fill 1
	// Villa by the sea
	// Villa by the sea
	// fill 1
	// Villa on the beach
}
