package cache_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

func TestStats(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		reg := prometheus.NewRegistry()
		c1 := newCache(t, s, cache.Options{Registerer: reg})
		c2 := newCache(t, s, cache.Options{Registerer: reg}) // another process on the same store
		f := cachetest.NewFiller(cachetest.NewSource())
		ab := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b"}}
		q := []cache.Lookup{{Key: "q"}}
		load := func(c *cache.Cache, coord string, lookups []cache.Lookup) {
			t.Helper()
			if _, err := c.Load(ctx, coord, time.Hour, lookups, f.Fill(lookups)); err != nil {
				t.Fatal(err)
			}
		}
		load(c1, "Query.a", ab) // 2 misses
		load(c1, "Query.a", ab) // 2 hits
		load(c2, "Query.b", q)  // 1 miss
		load(c2, "Query.a", ab) // 2 hits
		cachetest.MustInvalidate(t, c1, "x", "y")
		c2.GetResponse(ctx, "r") // 1 response miss

		st, err := c1.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Hits != 2 || st.Misses != 2 || st.Invalidations != 2 {
			t.Errorf("before flushing, c1 sees %+v, want only its own counts", st)
		}
		for _, c := range []*cache.Cache{c1, c2} {
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range []*cache.Cache{c1, c2} {
			st, err := c.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []cache.FieldStats{{"Query.a", 4, 2}, {"Query.b", 0, 1}}
			if st.Hits != 4 || st.Misses != 4 || st.Invalidations != 2 ||
				st.Responses != (cache.FieldStats{"response", 0, 1}) || !slices.Equal(st.Fields, want) {
				t.Errorf("cache %d: Stats = %+v", i+1, st)
			}
			if st.Keys < 3 {
				t.Errorf("Keys = %d", st.Keys)
			}
			_, isRedis := s.(*redisstore.Store)
			if isRedis != (st.Backend == "REDIS") || isRedis != (st.Redis != nil) {
				t.Errorf("Backend %q, Redis %+v", st.Backend, st.Redis)
			}
		}
		if err := c1.Flush(ctx); err != nil { // nothing pending: no change
			t.Fatal(err)
		}

		// Prometheus: both caches share the collectors.
		got := cachetest.Gather(t, reg)
		want := map[string]float64{
			`kedahpulse_cache_hits_total{coordinate="Query.a"}`:    4,
			`kedahpulse_cache_misses_total{coordinate="Query.a"}`:  2,
			`kedahpulse_cache_misses_total{coordinate="Query.b"}`:  1,
			`kedahpulse_cache_misses_total{coordinate="response"}`: 1,
			`kedahpulse_cache_invalidations_total`:                 2,
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	})
}

func TestRunFlushesOnStop(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.Run(ctx); close(done) }()
		lookups := []cache.Lookup{{Key: "a"}}
		f := cachetest.NewFiller(cachetest.NewSource())
		cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups))
		cancel()
		<-done
		got, err := s.Counters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got["misses|Query.test"] != 1 {
			t.Fatalf("shared counters after Run returned: %v", got)
		}
	})
}
