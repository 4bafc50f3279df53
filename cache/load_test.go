package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
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

// A lookup whose tags were made a set once (NewLookup), unsorted and with
// a duplicate as sent, reads the entries the same lookup built plainly
// wrote, and misses after the same invalidations; an invalid tag is still
// refused, by the Load.
func TestNewLookupReadsTheSameEntries(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		ctx := context.Background()
		f := cachetest.NewFiller(cachetest.NewSource())
		plain := []cache.Lookup{{Key: "a", Tags: []string{"y", "x", "y"}}, {Key: "b", Tags: []string{"y"}}, {Key: "c"}}
		made := make([]cache.Lookup, len(plain))
		for i, l := range plain {
			made[i] = cache.NewLookup(l.Key, l.Tags)
		}
		cachetest.MustLoad(t, c, ctx, plain, f.Fill(plain))
		f.Reset()
		cachetest.MustLoad(t, c, ctx, made, f.Fill(made))
		for _, l := range made {
			if n := f.Filled(l.Key); n != 0 {
				t.Fatalf("made lookup %s filled %d times, want a hit", l.Key, n)
			}
		}
		cachetest.MustInvalidate(t, c, "x")
		f.Reset()
		cachetest.MustLoad(t, c, ctx, made, f.Fill(made))
		if f.Filled("a") != 1 || f.Filled("b") != 0 || f.Filled("c") != 0 {
			t.Fatalf("after x: refilled a %d, b %d, c %d times; want a alone", f.Filled("a"), f.Filled("b"), f.Filled("c"))
		}
		bad := []cache.Lookup{cache.NewLookup("d", []string{"Not A Tag"})}
		if _, err := c.Load(ctx, "test", time.Minute, bad, f.Fill(bad)); err == nil {
			t.Fatal("a lookup with an invalid tag loaded")
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
		cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
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
		cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
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
