package cache_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// bypass is a read bypass a test turns on.
type bypass struct{ on bool }

func (b *bypass) On() bool     { return b.on }
func (b *bypass) Undelivered() {}

// TestPeek: on the in-process store, Peek answers the valid entries as a
// Load's hits (same values, statistics and recorded versions) and leaves
// the rest to a Load; on Redis, and while the bypass is on, it answers
// nothing and counts nothing.
func TestPeek(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		inProcess := cachetest.Options(s, cache.Options{}).InProcess
		b := &bypass{}
		c := newCache(t, s, cache.Options{Bypass: b})
		ctx := context.Background()
		src := cachetest.NewSource()
		src.Bump("a")
		f := cachetest.NewFiller(src)
		ab := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b"}}
		peek := func(ctx context.Context, lookups []cache.Lookup) ([]string, []bool) {
			t.Helper()
			vals, hit := c.Peek(ctx, "Query.a", lookups)
			return mapStrings(vals), hit
		}
		stats := func() cache.Stats {
			t.Helper()
			st, err := c.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}

		if _, hit := peek(ctx, ab); slices.Contains(hit, true) {
			t.Fatalf("Peek before any Load hit: %v", hit)
		}
		if st := stats(); st.Hits != 0 || st.Misses != 0 {
			t.Fatalf("Peek's misses were counted: %+v", st)
		}
		cachetest.MustLoad(t, c, ctx, ab, f.Fill(ab)) // 2 misses
		loadCtx, loadRec := cache.WithRecorder(ctx)
		cachetest.MustLoad(t, c, loadCtx, ab, f.Fill(ab)) // 2 hits

		abc := append(slices.Clone(ab), cache.Lookup{Key: "c", Tags: []string{"x"}})
		peekCtx, peekRec := cache.WithRecorder(ctx)
		vals, hit := peek(peekCtx, abc)
		if !inProcess {
			if slices.Contains(hit, true) {
				t.Fatalf("Peek on a remote store hit: %v", hit)
			}
			if st := stats(); st.Hits != 2 || st.Misses != 2 {
				t.Fatalf("stats after Peek on a remote store = %+v, want Load's 2 hits, 2 misses", st)
			}
			return
		}
		if !slices.Equal(hit, []bool{true, true, false}) || !slices.Equal(vals[:2], []string{"1", "0"}) {
			t.Fatalf("Peek = %v %v, want hits 1, 0 and a miss", vals, hit)
		}
		if st := stats(); st.Hits != 4 || st.Misses != 2 {
			t.Fatalf("stats after Peek = %+v, want 4 hits (2 of Load, 2 of Peek) and Load's 2 misses", st)
		}
		lv, lok := loadRec.Versions()
		pv, pok := peekRec.Versions()
		if !lok || !pok || !maps.Equal(lv, pv) {
			t.Fatalf("Peek recorded %v (%v), a Load hit %v (%v)", pv, pok, lv, lok)
		}

		cachetest.MustInvalidate(t, c, "x")
		if vals, hit := peek(ctx, ab); !slices.Equal(hit, []bool{false, true}) || vals[1] != "0" {
			t.Fatalf("Peek after invalidating x = %v %v, want a miss and 0", vals, hit)
		}
		b.on = true
		if _, hit := peek(ctx, ab); slices.Contains(hit, true) {
			t.Fatalf("Peek hit while the bypass is on: %v", hit)
		}
	})
}

func mapStrings(vals [][]byte) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}
