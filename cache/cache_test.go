package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// newCache returns a Cache on s with a generous timeout (a loaded CI machine
// must not turn a slow Redis reply into a degraded Load) and no logging.
func newCache(tb testing.TB, s cachetest.Store, o cache.Options) *cache.Cache {
	tb.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return cache.New(s, cachetest.Options(s, o))
}

func TestLoadHitAfterFill(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		ctx := context.Background()
		src := cachetest.NewSource()
		src.Bump("a")
		f := cachetest.NewFiller(src)
		lookups := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b", Tags: []string{"y"}}}
		if got := cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups)); !slices.Equal(got, []string{"1", "0"}) {
			t.Fatalf("first Load = %v", got)
		}
		src.Bump("a") // not invalidated: the cache keeps answering 1, by design
		if got := cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups)); !slices.Equal(got, []string{"1", "0"}) {
			t.Fatalf("second Load = %v", got)
		}
		if n := f.Calls.Load(); n != 1 {
			t.Fatalf("fill ran %d times, want 1", n)
		}
		if got := cachetest.MustLoad(t, c, ctx, nil, f.Fill(nil)); len(got) != 0 {
			t.Fatalf("Load of nothing = %v", got)
		}
	})
}

func TestInvalidatePrecision(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		ctx := context.Background()
		f := cachetest.NewFiller(cachetest.NewSource())
		lookups := []cache.Lookup{
			{Key: "a", Tags: []string{"x", "y"}},
			{Key: "b", Tags: []string{"y"}},
			{Key: "c", Tags: []string{"z"}},
			{Key: "d"}, // AllTag only
		}
		cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups))
		check := func(step string, want ...string) {
			t.Helper()
			f.Reset()
			cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups))
			var refilled []string
			for _, l := range lookups {
				if f.Filled(l.Key) > 0 {
					refilled = append(refilled, l.Key)
				}
			}
			if !slices.Equal(refilled, want) {
				t.Errorf("%s: refilled %v, want %v", step, refilled, want)
			}
		}
		check("no invalidation")
		cachetest.MustInvalidate(t, c, "x")
		check("after x", "a")
		cachetest.MustInvalidate(t, c, "y")
		check("after y", "a", "b")
		cachetest.MustInvalidate(t, c, "z", "unused")
		check("after z", "c")
		if err := c.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		check("after Clear", "a", "b", "c", "d")
		check("after refill")
	})
}

func TestLoadDifferentTagsForKeyMiss(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		ctx := context.Background()
		f := cachetest.NewFiller(cachetest.NewSource())
		one := []cache.Lookup{{Key: "k", Tags: []string{"x"}}}
		two := []cache.Lookup{{Key: "k", Tags: []string{"x", "y"}}}
		cachetest.MustLoad(t, c, ctx, one, f.Fill(one))
		cachetest.MustLoad(t, c, ctx, two, f.Fill(two)) // an entry filled without y must not serve a lookup depending on y
		cachetest.MustLoad(t, c, ctx, one, f.Fill(one))
		if n := f.Calls.Load(); n != 3 {
			t.Fatalf("fill ran %d times, want 3", n)
		}
	})
}

func TestLoadDuplicateKeys(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		var got [][]int
		fill := func(_ context.Context, misses []int) ([][]byte, error) {
			got = append(got, slices.Clone(misses))
			vals := make([][]byte, len(misses))
			for j, i := range misses {
				vals[j] = []byte(fmt.Sprint("v", i))
			}
			return vals, nil
		}
		lookups := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b"}, {Key: "a", Tags: []string{"x"}}}
		vals := cachetest.MustLoad(t, c, context.Background(), lookups, fill)
		if !slices.Equal(vals, []string{"v0", "v1", "v0"}) || len(got) != 1 || !slices.Equal(got[0], []int{0, 1}) {
			t.Fatalf("Load = %v, fill got %v", vals, got)
		}
	})
}

func TestNegativeCaching(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		var calls int
		fill := func(_ context.Context, misses []int) ([][]byte, error) {
			calls++
			return [][]byte{nil, {}}, nil
		}
		lookups := []cache.Lookup{{Key: "absent", Tags: []string{"x"}}, {Key: "empty"}}
		for range 2 {
			vals, err := c.Load(context.Background(), "Query.test", time.Hour, lookups, fill)
			if err != nil {
				t.Fatal(err)
			}
			if len(vals) != 2 || vals[0] != nil || len(vals[1]) != 0 {
				t.Fatalf("Load = %#v", vals)
			}
		}
		if calls != 1 {
			t.Fatalf("fill ran %d times, want 1: a nil value must be cached", calls)
		}
	})
}

func TestFillErrorNotCached(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		ctx := context.Background()
		boom := errors.New("db down")
		calls := 0
		failing := func(context.Context, []int) ([][]byte, error) { calls++; return nil, boom }
		wrongCount := func(context.Context, []int) ([][]byte, error) { calls++; return [][]byte{[]byte("x")}, nil }
		ok := func(_ context.Context, misses []int) ([][]byte, error) {
			calls++
			return slices.Repeat([][]byte{[]byte("ok")}, len(misses)), nil
		}
		lookups := []cache.Lookup{{Key: "a"}, {Key: "b"}}
		if _, err := c.Load(ctx, "Query.test", time.Hour, lookups, failing); !errors.Is(err, boom) {
			t.Fatalf("Load error = %v, want %v", err, boom)
		}
		if _, err := c.Load(ctx, "Query.test", time.Hour, lookups, wrongCount); err == nil {
			t.Fatal("fill returning too few values: no error")
		}
		if got := cachetest.MustLoad(t, c, ctx, lookups, ok); !slices.Equal(got, []string{"ok", "ok"}) {
			t.Fatalf("Load = %v", got)
		}
		if calls != 3 {
			t.Fatalf("fill ran %d times, want 3", calls)
		}
	})
}

func TestInvalidTags(t *testing.T) {
	c := newCache(t, cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{})
	ctx := context.Background()
	fill := func(context.Context, []int) ([][]byte, error) { t.Fatal("fill called"); return nil, nil }
	for _, tag := range []string{"", "Upper", "with space", "new\nline"} {
		if _, err := c.Load(ctx, "Q.x", time.Hour, []cache.Lookup{{Key: "k", Tags: []string{tag}}}, fill); err == nil {
			t.Errorf("Load with tag %q: no error", tag)
		}
		if err := c.Invalidate(ctx, tag); err == nil {
			t.Errorf("Invalidate(%q): no error", tag)
		}
		if cache.ValidTag(tag) {
			t.Errorf("ValidTag(%q)", tag)
		}
	}
	if err := c.Invalidate(ctx); err != nil {
		t.Errorf("Invalidate(): %v", err)
	}
}

func TestLoadFillPanicReleasesWaiters(t *testing.T) {
	c := newCache(t, cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{})
	lookups := []cache.Lookup{{Key: "k"}}
	waiterErr := make(chan error, 1)
	panicking := func(context.Context, []int) ([][]byte, error) {
		go func() {
			_, err := c.Load(context.Background(), "Q.x", time.Hour, lookups, func(context.Context, []int) ([][]byte, error) {
				return nil, errors.New("waiter must not fill")
			})
			waiterErr <- err
		}()
		waitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
		panic("boom")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic did not propagate")
			}
		}()
		_, _ = c.Load(context.Background(), "Q.x", time.Hour, lookups, panicking)
	}()
	if err := <-waiterErr; err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("waiter error = %v", err)
	}
}

func TestLoadWaiterRespectsContext(t *testing.T) {
	c := newCache(t, cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{})
	lookups := []cache.Lookup{{Key: "k"}}
	release := make(chan struct{})
	entered := make(chan struct{})
	go func() {
		_, _ = c.Load(context.Background(), "Q.x", time.Hour, lookups, func(context.Context, []int) ([][]byte, error) {
			close(entered)
			<-release
			return [][]byte{[]byte("v")}, nil
		})
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
		cancel()
	}()
	_, err := c.Load(ctx, "Q.x", time.Hour, lookups, func(context.Context, []int) ([][]byte, error) {
		return nil, errors.New("waiter must not fill")
	})
	close(release)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter error = %v, want context.Canceled", err)
	}
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

func TestRecorder(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		f := cachetest.NewFiller(cachetest.NewSource())
		a := []cache.Lookup{{Key: "a", Tags: []string{"x", "y"}}}
		b := []cache.Lookup{{Key: "b", Tags: []string{"x"}}}

		ctx, rec := cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, a, f.Fill(a)) // fill: captured versions
		filled, ok := rec.Versions()
		if !ok || len(filled) != 3 || filled["x"] == "" || filled["y"] == "" || filled[cache.AllTag] == "" {
			t.Fatalf("after a fill: %v %v", filled, ok)
		}
		ctx, rec = cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, a, f.Fill(a)) // hit: the stored header
		hit, ok := rec.Versions()
		if !ok || fmt.Sprint(hit) != fmt.Sprint(filled) {
			t.Fatalf("after a hit: %v %v, want %v", hit, ok, filled)
		}

		// A response whose parts straddle an invalidation is inconsistent.
		ctx, rec = cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, a, f.Fill(a))
		cachetest.MustInvalidate(t, c, "x")
		cachetest.MustLoad(t, c, ctx, b, f.Fill(b))
		if v, ok := rec.Versions(); ok {
			t.Fatalf("x seen at two versions, yet consistent: %v", v)
		}

		ctx, rec = cache.WithRecorder(context.Background())
		cachetest.MustLoad(t, c, ctx, b, f.Fill(b))
		rec.Disable()
		if _, ok := rec.Versions(); ok {
			t.Fatal("disabled recorder is consistent")
		}
	})
}

func TestResponse(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		f := cachetest.NewFiller(cachetest.NewSource())
		lookups := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b", Tags: []string{"y"}}}
		build := func() map[string]string {
			ctx, rec := cache.WithRecorder(context.Background())
			cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups))
			v, ok := rec.Versions()
			if !ok {
				t.Fatal("inconsistent")
			}
			return v
		}
		ctx := context.Background()
		get := func(key string) (string, bool) {
			t.Helper()
			v, _, ok := c.GetResponse(ctx, key)
			return string(v), ok
		}
		set := func(key, v string) {
			t.Helper()
			_, stamp, _ := c.GetResponse(ctx, key) // the stamp before the fill
			c.SetResponse(ctx, key, []byte(v), build(), stamp, time.Hour)
		}
		if _, ok := get("resp:1"); ok {
			t.Fatal("hit on an empty cache")
		}
		set("resp:1", `{"data":1}`)
		if v, ok := get("resp:1"); !ok || v != `{"data":1}` {
			t.Fatalf("GetResponse = %q %v", v, ok)
		}
		cachetest.MustInvalidate(t, c, "y")
		if _, ok := get("resp:1"); ok {
			t.Fatal("hit after invalidating one of its tags")
		}
		set("resp:1", `{"data":2}`)
		if v, ok := get("resp:1"); !ok || v != `{"data":2}` {
			t.Fatalf("GetResponse = %q %v", v, ok)
		}
		cachetest.MustInvalidate(t, c, "z") // a bump of another tag: still valid, by the log
		if v, ok := get("resp:1"); !ok || v != `{"data":2}` {
			t.Fatalf("GetResponse after an unrelated bump = %q %v", v, ok)
		}
		// An evicted tag alone changes nothing the log does not know; an
		// evicted log leaves the tags to check, and a dropped tag misses.
		cache.DropTag(t, s, "x")
		cache.DropLog(t, s)
		if _, ok := get("resp:1"); ok {
			t.Fatal("hit after its tag and the log were dropped")
		}
		if v, _ := s.Versions(ctx, []string{"x"}); len(v) != 0 {
			t.Fatal("GetResponse recreated a tag")
		}
		set("resp:1", `{"data":3}`)
		cache.DropLog(t, s) // the log lost, the tags intact: still valid, checked tag by tag
		if v, ok := get("resp:1"); !ok || v != `{"data":3}` {
			t.Fatalf("GetResponse after the log was lost = %q %v", v, ok)
		}
		c.SetResponse(ctx, "resp:3", []byte("r"), build(), cache.Stamp{}, time.Hour)
		if _, ok := get("resp:3"); ok {
			t.Fatal("a response without a stamp was stored")
		}
		set("resp:2", "r")
		if err := c.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := get("resp:2"); ok {
			t.Fatal("hit after Clear")
		}
		_, stamp, _ := c.GetResponse(ctx, "resp:3")
		c.SetResponse(ctx, "resp:3", []byte("r"), map[string]string{"x": "1"}, stamp, time.Hour) // no AllTag: not stored
		if _, ok := get("resp:3"); ok {
			t.Fatal("a response without the all tag was stored")
		}
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Responses != (cache.FieldStats{Coordinate: "response", Hits: 4, Misses: 11}) {
			t.Errorf("Responses = %+v", st.Responses)
		}
		for _, fs := range st.Fields {
			if fs.Coordinate == "response" {
				t.Error("Fields includes response")
			}
		}
	})
}

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

// Hits on copies kept in process share reads of the log's head, but a hit
// never takes the answer of a read sent before it asked: after an
// invalidation returns, a caller joins the next read, which sees it.
func TestHeadReadsNeverServeAReadSentEarlier(t *testing.T) {
	// The store holds a read of the log's head after it read it, until
	// released: a read in flight.
	var hold atomic.Bool
	read, release := make(chan struct{}), make(chan struct{})
	s := &cachetest.Faulty{Store: cache.NewMemoryStore(cache.MemoryLimits{}), After: func(op string, keys []string) {
		if op == "observe" && keys == nil && hold.CompareAndSwap(true, false) {
			read <- struct{}{}
			<-release
		}
	}}
	c := cache.New(s, cache.Options{Timeout: time.Minute, LocalBytes: cache.DefaultLocalBytes}) // copies in process
	ctx := context.Background()
	_, stamp, _ := c.GetResponse(ctx, "r")
	c.SetResponse(ctx, "r", []byte("old"), map[string]string{cache.AllTag: "1", "x": "1"}, stamp, time.Hour)
	for range 2 { // the second reads the copy in process
		if v, _, ok := c.GetResponse(ctx, "r"); !ok || string(v) != "old" {
			t.Fatalf("GetResponse = %q %v", v, ok)
		}
	}
	hold.Store(true)
	first := make(chan bool)
	go func() { _, _, ok := c.GetResponse(ctx, "r"); first <- ok }()
	<-read // the first caller's read has read the head, and is held
	cachetest.MustInvalidate(t, c, "x")
	second := make(chan bool)
	go func() { _, _, ok := c.GetResponse(ctx, "r"); second <- ok }()
	waitFor(t, func() bool { return cache.HeadReadQueued(c) })
	close(release)
	if !<-first {
		t.Error("the caller that asked before the invalidation missed")
	}
	if <-second {
		t.Error("a caller that asked after the invalidation returned was served the old answer")
	}
}
