package outbox

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// After an invalidation failed, the store may hold entries that are valid
// but stale: reads bypass it, even once it is reachable again, until a
// drain that began after the failure completes.
func TestFailedInvalidationBypassesReadsUntilDelivered(t *testing.T) {
	var down atomic.Bool
	var calls atomic.Int64
	s := &cachetest.Faulty{Store: cache.NewMemoryStore(cache.MemoryLimits{}), Fail: func(context.Context, string, []string) error {
		calls.Add(1)
		if down.Load() {
			return errors.New("store down")
		}
		return nil
	}}
	b := new(Bypass)
	c := cache.New(s, cachetest.Options(s, cache.Options{Bypass: b}))
	ctx := context.Background()
	lookups := []cache.Lookup{{Key: "k", Tags: []string{"t"}}}
	value := "old"
	fill := func(context.Context, []int) ([][]byte, error) { return [][]byte{[]byte(value)}, nil }
	load := func() string {
		vals, err := c.Load(ctx, "Query.x", time.Hour, lookups, fill)
		if err != nil {
			t.Fatal(err)
		}
		return string(vals[0])
	}
	load() // cached "old"
	down.Store(true)
	value = "new"
	mark := b.mark()
	if err := c.Invalidate(ctx, "t"); err == nil {
		t.Fatal("Invalidate on a dead store succeeded")
	}
	down.Store(false) // the link is back; the stale entry is still valid in the store
	calls.Store(0)
	if got := load(); got != "new" || !b.On() {
		t.Fatalf("before delivery: got %q (bypass on %v), want the source's value", got, b.On())
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the store was read %d times while invalidations were undelivered", n)
	}
	b.covered(mark) // a drain that began before the failure does not cover it
	if !b.On() {
		t.Fatal("an older drain ended the bypass")
	}
	mark = b.mark()
	if err := c.Invalidate(ctx, "t"); err != nil { // the relay delivers
		t.Fatal(err)
	}
	b.covered(mark)
	if got := load(); got != "new" || b.On() {
		t.Fatalf("after delivery: %q, bypass on %v", got, b.On())
	}
}
