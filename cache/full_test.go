package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// A Redis at maxmemory under noeviction answers OOM to every command that
// may write, the tag reads of a Load included. A Load is then a miss the
// source answers, and the breaker stays closed: an invalidation goes to
// Redis as soon as it has room again, not after a cooldown.
func TestFullRedisIsAMissNotAnOutage(t *testing.T) {
	srv := cachetest.StartServer(t, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
	store, err := redisstore.Open("redis://"+srv.Addr+"/0", "kptest:full:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	c := cache.New(store, cache.Options{Timeout: 5 * time.Second, BreakerThreshold: 3, BreakerCooldown: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	lookups := []cache.Lookup{{Key: "k", Tags: []string{"t"}}}
	src := cachetest.NewFiller(cachetest.NewSource())
	fill := src.Fill(lookups)
	if _, err := c.Load(ctx, "Query.x", time.Minute, lookups, fill); err != nil {
		t.Fatal(err)
	}

	admin := srv.Client(t)
	// Entries beside ours, then a maxmemory below what they take: Redis
	// refuses every command that may write until it has room again.
	for i := range 16 {
		if err := admin.Set(ctx, "filler:"+strconv.Itoa(i), strings.Repeat("x", 128<<10), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := admin.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Set(ctx, "probe", "1", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("Redis is not full: SET answered %v", err)
	}
	src.Calls.Store(0)
	const reads = 20
	for range reads {
		vals, err := c.Load(ctx, "Query.x", time.Minute, lookups, fill)
		if err != nil || string(vals[0]) != "0" {
			t.Fatalf("Load on a full Redis: %q, %v", vals, err)
		}
	}
	if n := src.Calls.Load(); n != reads {
		t.Errorf("%d of %d reads filled from the source", n, reads)
	}
	if err := c.Invalidate(ctx, "t"); !errors.Is(err, cache.ErrFull) {
		t.Errorf("Invalidate on a full Redis: %v, want cache.ErrFull (not the breaker)", err)
	}

	if err := admin.ConfigSet(ctx, "maxmemory", "64mb").Err(); err != nil { // room again
		t.Fatal(err)
	}
	if err := c.Invalidate(ctx, "t"); err != nil {
		t.Fatalf("Invalidate once Redis has room: %v (the OOM reads opened the breaker)", err)
	}
}
