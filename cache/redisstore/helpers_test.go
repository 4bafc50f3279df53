package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// newCache returns a Cache on s configured as the server configures one on
// Redis, with a generous timeout (a loaded CI machine must not turn a slow
// Redis reply into a degraded Load) and no logging.
func newCache(tb testing.TB, s *redisstore.Store, o cache.Options) *cache.Cache {
	tb.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return cache.New(s, cachetest.Options(s, o))
}

// source stands in for the database: values with a version per key.
type source struct {
	mu sync.Mutex
	v  map[string]int
}

func newSource() *source { return &source{v: make(map[string]int)} }

func (s *source) get(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v[key]
}

func (s *source) bump(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v[key]++
	return s.v[key]
}

// filler is a fill function reading the source that counts its calls and
// the keys it filled.
type filler struct {
	src   *source
	calls atomic.Int64
	mu    sync.Mutex
	keys  map[string]int
	// before, if set, runs after the source was read and before fill
	// returns.
	before func(keys []string)
}

func newFiller(src *source) *filler { return &filler{src: src, keys: make(map[string]int)} }

func (f *filler) fill(lookups []cache.Lookup) func(context.Context, []int) ([][]byte, error) {
	return func(_ context.Context, misses []int) ([][]byte, error) {
		f.calls.Add(1)
		vals := make([][]byte, len(misses))
		keys := make([]string, len(misses))
		for j, i := range misses {
			keys[j] = lookups[i].Key
			vals[j] = []byte(strconv.Itoa(f.src.get(lookups[i].Key)))
		}
		f.mu.Lock()
		for _, k := range keys {
			f.keys[k]++
		}
		f.mu.Unlock()
		if f.before != nil {
			f.before(keys)
		}
		return vals, nil
	}
}

func (f *filler) filled(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[key]
}

func mustLoad(tb testing.TB, c *cache.Cache, ctx context.Context, lookups []cache.Lookup, fill func(context.Context, []int) ([][]byte, error)) []string {
	tb.Helper()
	vals, err := c.Load(ctx, "Query.test", time.Hour, lookups, fill)
	if err != nil {
		tb.Errorf("Load: %v", err) // not Fatal: this runs on other goroutines too
		return make([]string, len(lookups))
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func mustInvalidate(tb testing.TB, c *cache.Cache, tags ...string) {
	tb.Helper()
	if err := c.Invalidate(context.Background(), tags...); err != nil {
		tb.Fatalf("Invalidate(%v): %v", tags, err)
	}
}

// gather returns every sample of reg as name{labels} -> value.
func gather(tb testing.TB, reg *prometheus.Registry) map[string]float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]float64)
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			var parts []string
			for _, l := range m.GetLabel() {
				parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := fam.GetName()
			if len(parts) > 0 {
				name += "{" + strings.Join(parts, ",") + "}"
			}
			out[name] = m.GetCounter().GetValue()
		}
	}
	return out
}

// waitFor polls cond until it holds, failing the test after 10 seconds. It waits for
// an event, never for a duration.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Error("condition not reached in 10s") // not Fatal: this runs on other goroutines too
			return
		}
		time.Sleep(time.Millisecond)
	}
}
