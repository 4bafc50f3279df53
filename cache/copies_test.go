package cache_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// copiesCache is a Cache keeping field copies in process, on either store.
func copiesCache(t *testing.T, s cachetest.Store) *cache.Cache {
	return newCache(t, s, cache.Options{LocalBytes: cache.DefaultLocalBytes})
}

// A bump between two reads invalidates the copy kept in process, whichever
// process bumped: the second read validates the copy against the log's
// head, read after it asked. The other key's copy stays a hit.
func TestCopiesInvalidated(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c, other := copiesCache(t, s), copiesCache(t, s) // two processes
		src := cachetest.NewSource()
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}, {Key: "property:2", Tags: []string{"property:2"}}}
		load := func() []string { return cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups)) }
		load()
		load() // from the copies
		for i, invalidator := range []*cache.Cache{c, other} {
			src.Bump("property:1")
			cachetest.MustInvalidate(t, invalidator, "property:1")
			if got, want := load(), []string{string(rune('1' + i)), "0"}; !slices.Equal(got, want) {
				t.Fatalf("after invalidation %d: %v, want %v", i+1, got, want)
			}
		}
		if n := f.Filled("property:2"); n != 1 {
			t.Fatalf("property:2 filled %d times, want 1", n)
		}
	})
}

// A lost log (a restart, a flush, an eviction) validates no copy: a new
// log has another id.
func TestCopiesLostLog(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := copiesCache(t, s)
		src := cachetest.NewSource()
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}}
		load := func() []string { return cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups)) }
		load()
		load()
		src.Bump("property:1")
		// What a restart without persistence loses: the log and the tag
		// (the bump that went with it).
		cache.DropLog(t, s)
		cache.DropTag(t, s, "property:1")
		if got := load(); !slices.Equal(got, []string{"1"}) {
			t.Fatalf("after losing the log: %v", got)
		}
	})
}

// A copy never outlives its entry: after the entry's TTL, the key is
// read from the source again.
func TestCopiesExpire(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := copiesCache(t, s)
		src := cachetest.NewSource()
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "k", Tags: []string{"t"}}}
		const ttl = 300 * time.Millisecond
		load := func() string {
			vals, err := c.Load(context.Background(), "Query.test", ttl, lookups, f.Fill(lookups))
			if err != nil {
				t.Fatal(err)
			}
			return string(vals[0])
		}
		load()
		other := copiesCache(t, s) // a copy taken from the store, with the entry's TTL
		if _, err := other.Load(context.Background(), "Query.test", ttl, lookups, f.Fill(lookups)); err != nil {
			t.Fatal(err)
		}
		src.Bump("k") // not invalidated: only the expiry makes it read again
		time.Sleep(ttl + 50*time.Millisecond)
		if got := load(); got != "1" {
			t.Fatalf("after the TTL (the filling process): %q", got)
		}
		vals, err := other.Load(context.Background(), "Query.test", ttl, lookups, f.Fill(lookups))
		if err != nil || string(vals[0]) != "1" {
			t.Fatalf("after the TTL (the reading process): %q, %v", vals, err)
		}
	})
}

// Under WithHead, the Loads of one request share one read of the log's
// head, sent after the request's first Load asked: an Invalidate that
// returned before it is seen.
func TestWithHead(t *testing.T) {
	s, rt := cachetest.NewRedisStoreCounted(t)
	c := copiesCache(t, s)
	src := cachetest.NewSource()
	f := cachetest.NewFiller(src)
	a := []cache.Lookup{{Key: "a", Tags: []string{"a"}}}
	b := []cache.Lookup{{Key: "b", Tags: []string{"b"}}}
	load := func(ctx context.Context, l []cache.Lookup) string {
		return cachetest.MustLoad(t, c, ctx, l, f.Fill(l))[0]
	}
	load(context.Background(), a)
	load(context.Background(), b)

	src.Bump("a")
	cachetest.MustInvalidate(t, c, "a")
	rt.Reset()
	ctx := cache.WithHead(context.Background())
	if got := load(ctx, a); got != "1" {
		t.Fatalf("a invalidated before the request: %q", got)
	}
	if got := load(ctx, b); got != "0" {
		t.Fatalf("b: %q", got)
	}
	// The head, then Get and Set of a; b's copy needs no read.
	if n := rt.Load(); n != 3 {
		t.Fatalf("%d round trips, want 3", n)
	}
	rt.Reset()
	ctx = cache.WithHead(context.Background())
	load(ctx, a)
	load(ctx, b)
	if n, cmds := rt.Load(), rt.Commands(); n != 1 || cmds != 1 {
		t.Fatalf("a warm request of two Loads: %d round trips, %d commands, want 1 and 1", n, cmds)
	}
}

// A copy another request re-stamped at a later head is valid at a point
// after this request's head: served, not read again.
func TestWithHeadLaterCopy(t *testing.T) {
	s, rt := cachetest.NewRedisStoreCounted(t)
	c := copiesCache(t, s)
	src := cachetest.NewSource()
	f := cachetest.NewFiller(src)
	a := []cache.Lookup{{Key: "a", Tags: []string{"a"}}}
	b := []cache.Lookup{{Key: "b", Tags: []string{"b"}}}
	load := func(ctx context.Context, l []cache.Lookup) string {
		return cachetest.MustLoad(t, c, ctx, l, f.Fill(l))[0]
	}
	load(context.Background(), a)
	load(context.Background(), b)
	first := cache.WithHead(context.Background())
	load(first, a) // takes first's head
	cachetest.MustInvalidate(t, c, "other")
	load(cache.WithHead(context.Background()), b) // re-stamps b's copy after first's head
	rt.Reset()
	if got := load(first, b); got != "0" {
		t.Fatalf("b: %q", got)
	}
	if n := rt.Load(); n != 0 {
		t.Fatalf("%d round trips, want 0", n)
	}
}

// Under WithHead, a failed read of the log's head fails the request's
// other Loads and Peeks at once: the store is asked once, Peek answers
// nothing, and the source answers every Load, never an error.
func TestWithHeadFailure(t *testing.T) {
	s, _ := cachetest.NewRedisStoreCounted(t)
	var down atomic.Bool
	var observes atomic.Int64
	faulty := &cachetest.Faulty{Store: s, Fail: func(_ context.Context, op string, _ []string) error {
		if !down.Load() {
			return nil
		}
		if op == "observe" {
			observes.Add(1)
		}
		return errors.New("down")
	}}
	c := newCache(t, faulty, cache.Options{BreakerThreshold: -1})
	src := cachetest.NewSource()
	f := cachetest.NewFiller(src)
	a := []cache.Lookup{{Key: "a", Tags: []string{"a"}}}
	b := []cache.Lookup{{Key: "b", Tags: []string{"b"}}}
	cachetest.MustLoad(t, c, context.Background(), a, f.Fill(a))
	cachetest.MustLoad(t, c, context.Background(), b, f.Fill(b))

	down.Store(true)
	f.Reset()
	ctx := cache.WithHead(context.Background())
	for _, l := range [][]cache.Lookup{a, b, a} {
		if _, hit := c.Peek(ctx, "Query.test", l); hit[0] {
			t.Fatalf("Peek of %s hit with the store down", l[0].Key)
		}
		if got := cachetest.MustLoad(t, c, ctx, l, f.Fill(l)); !slices.Equal(got, []string{"0"}) {
			t.Fatalf("Load of %s with the store down: %v", l[0].Key, got)
		}
	}
	if n := observes.Load(); n != 1 {
		t.Errorf("the head was asked %d times in one request, want 1", n)
	}
	if n := f.Filled("a") + f.Filled("b"); n != 3 {
		t.Errorf("the source answered %d Loads, want 3", n)
	}
}
