package cachetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
)

// Source stands in for the database: values with a version per key.
type Source struct {
	mu sync.Mutex
	v  map[string]int
}

// NewSource returns a Source where every key is at version 0.
func NewSource() *Source { return &Source{v: make(map[string]int)} }

// Get returns key's version.
func (s *Source) Get(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v[key]
}

// Bump writes key: its version goes up by one, which it returns.
func (s *Source) Bump(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v[key]++
	return s.v[key]
}

// Read returns the versions of keys in one consistent read, like a SELECT.
func (s *Source) Read(keys []string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = s.v[k]
	}
	return out
}

// Filler is a fill function reading a Source that counts its calls and
// the keys it filled.
type Filler struct {
	src   *Source
	Calls atomic.Int64
	mu    sync.Mutex
	keys  map[string]int
	// Before, if set, runs after the source was read and before the fill
	// returns.
	Before func(keys []string)
}

// NewFiller returns a Filler reading src.
func NewFiller(src *Source) *Filler { return &Filler{src: src, keys: make(map[string]int)} }

// Fill returns Load's fill function for lookups.
func (f *Filler) Fill(lookups []cache.Lookup) func(context.Context, []int) ([][]byte, error) {
	return func(_ context.Context, misses []int) ([][]byte, error) {
		f.Calls.Add(1)
		vals := make([][]byte, len(misses))
		keys := make([]string, len(misses))
		for j, i := range misses {
			keys[j] = lookups[i].Key
			vals[j] = []byte(strconv.Itoa(f.src.Get(lookups[i].Key)))
		}
		f.mu.Lock()
		for _, k := range keys {
			f.keys[k]++
		}
		f.mu.Unlock()
		if f.Before != nil {
			f.Before(keys)
		}
		return vals, nil
	}
}

// Filled returns how many times key was filled.
func (f *Filler) Filled(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[key]
}

// Reset forgets the keys filled so far.
func (f *Filler) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.keys)
}

// MustLoad loads lookups under the coordinate Query.test and returns the
// values as strings. A failure is reported with Errorf, not Fatal: it runs
// on other goroutines too.
func MustLoad(tb testing.TB, c *cache.Cache, ctx context.Context, lookups []cache.Lookup, fill func(context.Context, []int) ([][]byte, error)) []string {
	tb.Helper()
	vals, err := c.Load(ctx, "Query.test", time.Hour, lookups, fill)
	if err != nil {
		tb.Errorf("Load: %v", err)
		return make([]string, len(lookups))
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// MustInvalidate invalidates tags or fails the test.
func MustInvalidate(tb testing.TB, c *cache.Cache, tags ...string) {
	tb.Helper()
	if err := c.Invalidate(context.Background(), tags...); err != nil {
		tb.Fatalf("Invalidate(%v): %v", tags, err)
	}
}

// Gather returns every counter sample of reg as name{labels} -> value.
func Gather(tb testing.TB, reg *prometheus.Registry) map[string]float64 {
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

// WaitFor polls cond until it holds, failing the test after 10 seconds. It
// waits for an event, never for a duration; it reports with Error, not
// Fatal, since it runs on other goroutines too.
func WaitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Error("condition not reached in 10s")
			return
		}
		time.Sleep(time.Millisecond)
	}
}
