package graph_test

import (
	"context"
	"testing"
)

// A repeated identical query is answered by the response level: no SQL, a
// HIT, and the same bytes.
func TestRepeatedQueryIsAResponseHit(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 10)
		vars := map[string]any{"first": 10}
		first := e.do(propertiesQuery, vars, false)
		if got := first.Header.Get("X-Cache"); got != "MISS" {
			t.Errorf("first request X-Cache = %q, want MISS", got)
		}
		if got := first.Header.Get("Cache-Control"); got != "public, no-cache" {
			t.Errorf("Cache-Control = %q, want public, no-cache", got)
		}
		var second *result
		sql, trips := e.counts(func() { second = e.do(propertiesQuery, vars, false) })
		if got := second.Header.Get("X-Cache"); got != "HIT" {
			t.Fatalf("second request X-Cache = %q, want HIT", got)
		}
		if sql != 0 || second.Raw != first.Raw {
			t.Errorf("hit cost %d SQL statements (want 0), same body: %v", sql, second.Raw == first.Raw)
		}
		t.Logf("response hit: %d SQL statements, %d Redis round trips", sql, trips)
		if e.trips != nil && trips != 1 {
			t.Errorf("response hit: %d Redis round trips, want 1", trips)
		}
	})
}

// A whole-response hit counts as a hit of each cached root field it
// answers, so cacheStats' rows count what users asked for: ten identical
// sentimentSummary queries raise Query.sentimentSummary's hits by nine
// (the first fills), whether the memo of repeated requests answered them
// (the same bytes) or the full path did (other bytes, same operation).
func TestResponseHitsCountTheirRootFields(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 1)
		row := func() (hits, misses int64, responses int64) {
			t.Helper()
			st, err := e.cache.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range st.Fields {
				if f.Coordinate == "Query.sentimentSummary" {
					hits, misses = f.Hits, f.Misses
				}
			}
			return hits, misses, st.Responses.Hits
		}
		h0, m0, r0 := row()
		for i := range 10 {
			q := `{ sentimentSummary { total averageScore } }`
			if i%2 == 1 {
				q = `{sentimentSummary{total averageScore}}` // another text: the full path
			}
			res := e.do(q, nil, false)
			if want := map[bool]string{true: "MISS", false: "HIT"}[i == 0]; res.Header.Get("X-Cache") != want {
				t.Fatalf("request %d: X-Cache %q, want %s", i, res.Header.Get("X-Cache"), want)
			}
		}
		h, m, r := row()
		if h-h0 != 9 || m-m0 != 1 || r-r0 != 9 {
			t.Errorf("Query.sentimentSummary +%d hits +%d misses, responses +%d hits; want +9, +1, +9", h-h0, m-m0, r-r0)
		}
	})
}
