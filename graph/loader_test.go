package graph_test

import (
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph"
)

// fieldCounts returns the cache's hits and misses by coordinate, the
// whole-response level left out.
func fieldCounts(t *testing.T, e *env) map[string]cache.FieldStats {
	t.Helper()
	st, err := e.cache.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cache.FieldStats{}
	for _, f := range st.Fields {
		out[f.Coordinate] = f
	}
	return out
}

// On the in-process store, a warm request whose keys all hit never enters
// a dataloader's wait: with a LoaderWait of a minute it runs no batch and
// no SQL, and answers the same bytes, counting one hit per key a cold
// request counted a miss for. A cold request still batches: one batch and
// one SQL statement per level.
func TestWarmInProcessNeverWaits(t *testing.T) {
	e := newEnv(t, "sqlite", "memory", noResponseCache)
	newFixture(t, e, 60)
	var batches atomic.Int64
	e.resolver.Batches = &batches
	vars := map[string]any{"first": 50}

	before := fieldCounts(t, e)
	var cold *result
	sql, _ := e.counts(func() { cold = e.do(propertiesQuery, vars, false) })
	if len(cold.Errors) > 0 {
		t.Fatalf("cold: %s", cold.Raw)
	}
	// Levels: the list (read once, not batched), then property rows,
	// destinations and their sentiment: one batch each, and one statement
	// per batch. A loaded machine may split a level in two (LoaderWait);
	// a key loaded alone would make dozens.
	if n := batches.Load(); n < 3 || n > 4 || sql != 1+n {
		t.Errorf("cold: %d batches and %d SQL statements, want 3 batches (4 if one level split) and one statement per batch after the list's", n, sql)
	}
	afterCold := fieldCounts(t, e)

	slow := *e.resolver
	var waited atomic.Int64
	slow.LoaderWait, slow.Batches = time.Minute, &waited
	h := graph.NewHandler(&slow, graph.Options{NoResponseCache: true})
	var warm *result
	sql, _ = e.counts(func() { warm = e.send(h, propertiesQuery, vars, false) })
	if warm.Raw != cold.Raw {
		t.Errorf("warm answer differs from cold:\n%s\n%s", warm.Raw, cold.Raw)
	}
	if n := waited.Load(); n != 0 || sql != 0 {
		t.Errorf("warm: %d batches waited a minute, %d SQL statements; want none", n, sql)
	}
	afterWarm := fieldCounts(t, e)
	for _, coord := range slices.Sorted(maps.Keys(afterWarm)) {
		missed := afterCold[coord].Misses - before[coord].Misses
		hits, misses := afterWarm[coord].Hits-afterCold[coord].Hits, afterWarm[coord].Misses-afterCold[coord].Misses
		if hits != missed || misses != 0 {
			t.Errorf("%s: warm counted %d hits, %d misses; cold counted %d misses", coord, hits, misses, missed)
		}
	}
}

// A whole-response entry built from values answered in process carries the
// tags of one built from a cold read: the CDN tags (the recorded tags) of
// the two answers are the same.
func TestPeekedAnswerCarriesColdTags(t *testing.T) {
	e := newEnv(t, "sqlite", "memory", func(o *graph.Options) { o.CDNTagHeader = "Cache-Tag" })
	newFixture(t, e, 20)
	vars := map[string]any{"first": 20}
	named := func(name string) string { return strings.Replace(propertiesQuery, "query(", "query "+name+"(", 1) }
	var batches atomic.Int64
	e.resolver.Batches = &batches
	cold := e.do(named("Cold"), vars, false)
	batches.Store(0)
	warm := e.do(named("Warm"), vars, false) // another response entry over the same field entries
	if n := batches.Load(); n != 0 {
		t.Errorf("the warm answer ran %d batches, want none", n)
	}
	for _, r := range []*result{cold, warm} {
		if len(r.Errors) > 0 || r.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("want a response-level miss, got %s: %s", r.Header.Get("X-Cache"), r.Raw)
		}
	}
	tags := func(r *result) []string { return slices.Sorted(strings.SplitSeq(r.Header.Get("Cache-Tag"), ",")) }
	if c, w := tags(cold), tags(warm); len(c) < 3 || !slices.Equal(c, w) {
		t.Errorf("tags of the answer from in-process hits %v, of the cold one %v", w, c)
	}
}
