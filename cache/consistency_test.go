package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// T1: a fill that read the source before a concurrent update and its
// invalidation completed must not be served afterwards.
func TestStaleSet(t *testing.T) {
	tests := map[string]struct {
		keys    []string
		updated []string
	}{
		"single key": {keys: []string{"property:1"}, updated: []string{"property:1"}},
		"batch":      {keys: []string{"property:1", "property:2", "property:3", "property:4", "property:5"}, updated: []string{"property:2", "property:4"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
				c := newCache(t, s, cache.Options{})
				src := cachetest.NewSource()
				lookups := make([]cache.Lookup, len(tt.keys))
				for i, k := range tt.keys {
					lookups[i] = cache.Lookup{Key: k, Tags: []string{k, "property"}}
				}
				read := make(chan struct{})
				release := make(chan struct{})
				blocked := cachetest.NewFiller(src)
				blocked.Before = func([]string) { close(read); <-release }

				first := make(chan []string, 1)
				go func() { first <- cachetest.MustLoad(t, c, context.Background(), lookups, blocked.Fill(lookups)) }()
				<-read // the reader has read the source, and not yet written the cache
				for _, k := range tt.updated {
					src.Bump(k)
				}
				cachetest.MustInvalidate(t, c, tt.updated...) // the mutation's invalidation completes
				close(release)
				if got := <-first; slices.ContainsFunc(got, func(v string) bool { return v != "0" }) {
					t.Fatalf("first Load = %v, want all 0 (it read before the update)", got)
				}

				f := cachetest.NewFiller(src)
				got := cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups))
				for i, k := range tt.keys {
					if want := strconv.Itoa(src.Get(k)); got[i] != want {
						t.Errorf("%s = %s after its invalidation returned, want %s", k, got[i], want)
					}
				}
				for _, k := range tt.keys {
					if n, want := f.Filled(k), slices.Contains(tt.updated, k); (n > 0) != want {
						t.Errorf("%s refilled %d times; updated: %v", k, n, want)
					}
				}
			})
		})
	}
}

// Flight vs invalidation: a Load that starts after an Invalidate returned
// must not join a fill that began before it.
func TestFlightAfterInvalidation(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		src := cachetest.NewSource()
		lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}}
		read := make(chan struct{})
		release := make(chan struct{})
		blocked := cachetest.NewFiller(src)
		blocked.Before = func([]string) { close(read); <-release }
		first := make(chan []string, 1)
		go func() { first <- cachetest.MustLoad(t, c, context.Background(), lookups, blocked.Fill(lookups)) }()
		<-read
		src.Bump("property:1")
		cachetest.MustInvalidate(t, c, "property:1")

		// The first fill is still blocked: joining it would hang (and return 0).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		f := cachetest.NewFiller(src)
		if got := cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups)); got[0] != "1" {
			t.Fatalf("Load after Invalidate = %v, want 1", got)
		}
		if n := cache.FlightWaiters(c); n != 0 {
			t.Fatalf("%d Loads waiting on the stale flight", n)
		}
		close(release)
		if got := <-first; got[0] != "0" {
			t.Fatalf("blocked Load = %v", got)
		}
		// The late, stale write landed last; it must not validate.
		if got := cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups)); got[0] != "1" {
			t.Fatalf("Load after the stale write = %v, want 1", got)
		}
	})
}

// T2: readers and a writer race; every read that began after update K's
// invalidation returned must observe version K or later.
func TestFreshness(t *testing.T) {
	const (
		readers  = 8
		updates  = 200
		entities = 10
	)
	entityTag := func(e int) string { return "property:" + strconv.Itoa(e) }

	t.Run("entity", func(t *testing.T) {
		cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
			c := newCache(t, s, cache.Options{})
			src := cachetest.NewSource()
			lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}}
			f := cachetest.NewFiller(src)
			f.Before = func([]string) { runtime.Gosched() } // widen the read-to-write window

			var seq atomic.Int64
			doneAt := make([]int64, updates+1) // doneAt[k]: seq after update k's invalidation returned
			reads := runFreshness(t, readers, &seq, func() {
				for k := 1; k <= updates; k++ {
					src.Bump("property:1")
					cachetest.MustInvalidate(t, c, "property:1")
					doneAt[k] = seq.Add(1)
					pause()
				}
			}, func() []int {
				v, _ := strconv.Atoi(cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups))[0])
				return []int{v}
			})
			violations := 0
			for _, r := range reads {
				k := sort.Search(len(doneAt)-1, func(k int) bool { return doneAt[k+1] >= r.start }) // updates done before the read
				if r.observed[0] < k {
					violations++
					if violations <= 5 {
						t.Errorf("read at seq %d observed version %d; update %d had completed", r.start, r.observed[0], k)
					}
				}
			}
			t.Logf("%d reads, %d fills, %d violations", len(reads), f.Calls.Load(), violations)
		})
	})

	t.Run("list", func(t *testing.T) {
		cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
			c := newCache(t, s, cache.Options{})
			src := cachetest.NewSource()
			tags := []string{"properties"}
			for e := range entities {
				tags = append(tags, entityTag(e))
			}
			lookups := []cache.Lookup{{Key: "Query.properties:first=10", Tags: tags}}
			var fills atomic.Int64
			fill := func(context.Context, []int) ([][]byte, error) {
				fills.Add(1)
				keys := make([]string, entities)
				for e := range entities {
					keys[e] = entityTag(e)
				}
				vs := make([]string, entities)
				for e, v := range src.Read(keys) { // one consistent read, like a SELECT
					vs[e] = strconv.Itoa(v)
				}
				runtime.Gosched()
				return [][]byte{[]byte(strings.Join(vs, ","))}, nil
			}

			type update struct {
				seq           int64
				entity, value int
			}
			var seq atomic.Int64
			var log []update
			reads := runFreshness(t, readers, &seq, func() {
				rng := rand.New(rand.NewPCG(1, 2))
				for range updates {
					e := rng.IntN(entities)
					v := src.Bump(entityTag(e))
					cachetest.MustInvalidate(t, c, entityTag(e))
					log = append(log, update{seq.Add(1), e, v})
					pause()
				}
			}, func() []int {
				got := cachetest.MustLoad(t, c, context.Background(), lookups, fill)[0]
				var vs []int
				for _, f := range strings.Split(got, ",") {
					v, _ := strconv.Atoi(f)
					vs = append(vs, v)
				}
				return vs
			})
			violations := 0
			for _, r := range reads {
				want := make([]int, entities)
				for _, u := range log {
					if u.seq < r.start {
						want[u.entity] = u.value
					}
				}
				for e := range entities {
					if r.observed[e] < want[e] {
						violations++
						if violations <= 5 {
							t.Errorf("read at seq %d observed %s at %d, want >= %d", r.start, entityTag(e), r.observed[e], want[e])
						}
					}
				}
			}
			t.Logf("%d reads, %d fills, %d violations", len(reads), fills.Load(), violations)
		})
	})
}

type read struct {
	start    int64
	observed []int
}

// runFreshness runs write once alongside readers goroutines calling read in
// a loop until write returns, and returns every read with the sequence
// number taken before it began.
func runFreshness(t *testing.T, readers int, seq *atomic.Int64, write func(), read1 func() []int) []read {
	t.Helper()
	var stop atomic.Bool
	var mu sync.Mutex
	var reads []read
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			var mine []read
			for !stop.Load() {
				start := seq.Add(1)
				mine = append(mine, read{start, read1()})
			}
			mu.Lock()
			reads = append(reads, mine...)
			mu.Unlock()
		})
	}
	write()
	stop.Store(true)
	wg.Wait()
	if len(reads) < readers {
		t.Fatalf("only %d reads", len(reads))
	}
	return reads
}

// pause lets readers run between updates.
func pause() { time.Sleep(100 * time.Microsecond) }

// T4: a tag that disappears (eviction, expiry, restart, flush) comes back
// with a fresh version: old entries must miss, never resurrect. Copies in
// process are left out (LocalBytes < 0): they are validated by the log,
// not by the tags (copies.go), and a tag's loss invalidates nothing; a
// restart or a flush loses the log, which TestCopiesLostLog covers.
func TestResurrection(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{LocalBytes: -1})
		src := cachetest.NewSource()
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "property:1", Tags: []string{"property:1"}}, {Key: "property:2", Tags: []string{"property:2"}}}
		load := func() []string { return cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups)) }
		load()

		src.Bump("property:1")
		cache.DropTag(t, s, "property:1")
		if got := load(); !slices.Equal(got, []string{"1", "0"}) {
			t.Fatalf("after dropping property:1: %v", got)
		}
		if n := f.Filled("property:2"); n != 1 {
			t.Fatalf("property:2 refilled: %d", n)
		}

		src.Bump("property:2")
		cache.DropTag(t, s, cache.AllTag)
		if got := load(); !slices.Equal(got, []string{"1", "1"}) {
			t.Fatalf("after dropping the all tag: %v", got)
		}

		src.Bump("property:1")
		src.Bump("property:2")
		cache.DropAllTags(t, s)
		if got := load(); !slices.Equal(got, []string{"2", "2"}) {
			t.Fatalf("after dropping every tag: %v", got)
		}
		if n := f.Calls.Load(); n != 4 {
			t.Fatalf("fill ran %d times, want 4", n)
		}
	})
}

// T5: concurrent Loads of a cold key fill it once.
func TestStampede(t *testing.T) {
	const goroutines = 50
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		f := cachetest.NewFiller(cachetest.NewSource())
		// The fill waits until every other Load is waiting on it.
		f.Before = func([]string) { cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == goroutines-1 }) }
		lookups := []cache.Lookup{{Key: "hot", Tags: []string{"hot"}}}
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				if got := cachetest.MustLoad(t, c, context.Background(), lookups, f.Fill(lookups)); got[0] != "0" {
					t.Errorf("Load = %v", got)
				}
			})
		}
		wg.Wait()
		if n := f.Calls.Load(); n != 1 {
			t.Fatalf("fill ran %d times, want 1", n)
		}
	})
}

func TestStampedeBatch(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		f := cachetest.NewFiller(cachetest.NewSource())
		entered := make(chan struct{})
		f.Before = func(keys []string) {
			if slices.Contains(keys, "k1") { // the first Load: hold its flights until the second waits on one
				close(entered)
				cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
			}
		}
		lookupsOf := func(keys ...string) []cache.Lookup {
			var l []cache.Lookup
			for _, k := range keys {
				l = append(l, cache.Lookup{Key: k, Tags: []string{k}})
			}
			return l
		}
		a, b := lookupsOf("k1", "k2", "k3"), lookupsOf("k2", "k3", "k4")
		var wg sync.WaitGroup
		wg.Go(func() { cachetest.MustLoad(t, c, context.Background(), a, f.Fill(a)) })
		<-entered
		wg.Go(func() { cachetest.MustLoad(t, c, context.Background(), b, f.Fill(b)) })
		wg.Wait()
		for _, k := range []string{"k1", "k2", "k3", "k4"} {
			if n := f.Filled(k); n != 1 {
				t.Errorf("%s filled %d times, want 1", k, n)
			}
		}
		if n := f.Calls.Load(); n != 2 {
			t.Errorf("fill ran %d times, want 2", n)
		}
	})
}

// Waiters of a failed fill get its error, and nothing is cached.
func TestStampedeError(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		var calls atomic.Int64
		fill := func(context.Context, []int) ([][]byte, error) {
			if calls.Add(1) == 1 {
				cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
				return nil, fmt.Errorf("db down")
			}
			return [][]byte{[]byte("v")}, nil
		}
		lookups := []cache.Lookup{{Key: "k"}}
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := c.Load(context.Background(), "Q.x", time.Hour, lookups, fill)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err == nil || err.Error() != "db down" {
				t.Fatalf("Load error = %v", err)
			}
		}
		if got := cachetest.MustLoad(t, c, context.Background(), lookups, fill); got[0] != "v" {
			t.Fatalf("Load = %v", got)
		}
	})
}
