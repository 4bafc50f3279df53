package cache_test

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// bypass is a read bypass a test turns on.
type bypass struct{ on bool }

func (b *bypass) On() bool     { return b.on }
func (b *bypass) Undelivered() {}

// TestPeek: on the in-process store, and on Redis from the copies kept in
// process, Peek answers the valid entries as a Load's hits (same values,
// statistics and recorded versions) and leaves the rest to a Load; on
// Redis a lookup without a copy makes none hit (the Load reads them all
// in one round trip anyway). While the bypass is on, it answers nothing
// and counts nothing.
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
		vals, hit := peek(ctx, abc)
		if want := []bool{inProcess, inProcess, false}; !slices.Equal(hit, want) {
			t.Fatalf("Peek of a, b and c (never loaded) = %v %v, want hits %v", vals, hit, want)
		}
		if inProcess && !slices.Equal(vals[:2], []string{"1", "0"}) {
			t.Fatalf("Peek = %v, want 1, 0", vals)
		}
		peekCtx, peekRec := cache.WithRecorder(ctx)
		if vals, hit := peek(peekCtx, ab); !slices.Equal(hit, []bool{true, true}) || !slices.Equal(vals, []string{"1", "0"}) {
			t.Fatalf("Peek = %v %v, want hits 1, 0", vals, hit)
		}
		if st, want := stats(), map[bool]int64{true: 6, false: 4}[inProcess]; st.Hits != want || st.Misses != 2 {
			t.Fatalf("stats after Peek = %+v, want %d hits (2 of Load, the rest of Peek) and Load's 2 misses", st, want)
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

// On Redis without copies in process, Peek answers nothing and reads
// nothing: every lookup is left to a Load.
func TestPeekRedisWithoutCopies(t *testing.T) {
	s, rt := cachetest.NewRedisStoreCounted(t)
	c := newCache(t, s, cache.Options{LocalBytes: -1})
	f := cachetest.NewFiller(cachetest.NewSource())
	ab := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b"}}
	cachetest.MustLoad(t, c, context.Background(), ab, f.Fill(ab))
	cachetest.MustLoad(t, c, context.Background(), ab, f.Fill(ab))
	rt.Reset()
	if _, hit := c.Peek(context.Background(), "Query.a", ab); slices.Contains(hit, true) {
		t.Fatalf("Peek without copies hit: %v", hit)
	}
	if n := rt.Load(); n != 0 {
		t.Fatalf("Peek without copies: %d round trips, want 0", n)
	}
}

// An Invalidate that returned before Peek began is always seen, whichever
// process invalidated: a copy of an entry it invalidated is never served,
// without WithHead or under one taken after it returned.
func TestPeekSeesInvalidate(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c, other := copiesCache(t, s), copiesCache(t, s) // two processes
		src := cachetest.NewSource()
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}}
		for _, invalidator := range []*cache.Cache{c, other} {
			for _, ctx := range []context.Context{context.Background(), cache.WithHead(context.Background())} {
				cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups))
				want := strconv.Itoa(src.Get("property:1"))
				if vals, hit := c.Peek(context.Background(), "Query.a", lookups); !hit[0] || string(vals[0]) != want {
					t.Fatalf("Peek of a warm key = %q %v, want %s", vals[0], hit[0], want)
				}
				src.Bump("property:1")
				cachetest.MustInvalidate(t, invalidator, "property:1")
				if vals, hit := c.Peek(ctx, "Query.a", lookups); hit[0] {
					t.Fatalf("Peek after Invalidate returned = %q, a hit", vals[0])
				}
			}
		}
	})
}

// Readers peek then Load what missed, as a dataloader does, each read a
// request of its own (half of them under WithHead), while another
// process updates and invalidates: every read that began after update
// K's invalidation returned observes version K or later, and some are
// answered by Peek.
func TestPeekFreshness(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c, other := copiesCache(t, s), copiesCache(t, s)
		src := cachetest.NewSource()
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}}
		const updates = 200
		var seq, peeked atomic.Int64
		doneAt := make([]int64, updates+1) // doneAt[k]: seq after update k's invalidation returned
		reads := runFreshness(t, 8, &seq, func() {
			for k := 1; k <= updates; k++ {
				src.Bump("property:1")
				cachetest.MustInvalidate(t, other, "property:1")
				doneAt[k] = seq.Add(1)
				pause()
			}
		}, func() []int {
			ctx := context.Background()
			if seq.Load()%2 == 0 {
				ctx = cache.WithHead(ctx)
			}
			vals, hit := c.Peek(ctx, "Query.a", lookups)
			if hit[0] {
				peeked.Add(1)
			} else {
				vals = [][]byte{[]byte(cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups))[0])}
			}
			v, _ := strconv.Atoi(string(vals[0]))
			return []int{v}
		})
		violations := 0
		for _, r := range reads {
			k := sort.Search(len(doneAt)-1, func(k int) bool { return doneAt[k+1] >= r.start })
			if r.observed[0] < k {
				violations++
				if violations <= 5 {
					t.Errorf("read at seq %d observed version %d; update %d had completed", r.start, r.observed[0], k)
				}
			}
		}
		t.Logf("%d reads, %d answered by Peek, %d fills, %d violations", len(reads), peeked.Load(), f.Calls.Load(), violations)
		if peeked.Load() == 0 {
			t.Error("Peek answered no read")
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
