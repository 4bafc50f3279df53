package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

var errDown = errors.New("store down")

// switchable is a store that fails every call, like a store behind a dead
// network, until healed, and counts the calls that reach it. broken, if
// set, makes each failure that of a real unreachable store.
type switchable struct {
	*cachetest.Faulty
	healed atomic.Bool
	calls  atomic.Int64
}

func newSwitchable(broken cachetest.Store) *switchable {
	s := &switchable{}
	s.Faulty = &cachetest.Faulty{Store: cache.NewMemoryStore(cache.MemoryLimits{}), Fail: func(ctx context.Context, op string, _ []string) error {
		s.calls.Add(1)
		if s.healed.Load() {
			return nil
		}
		if broken != nil {
			if err := broken.Ping(ctx); err != nil {
				return err
			}
		}
		return errDown
	}}
	return s
}

// failing is a store that fails every call.
func failing() *cachetest.Faulty {
	return &cachetest.Faulty{Store: cache.NewMemoryStore(cache.MemoryLimits{}), Fail: func(context.Context, string, []string) error { return errDown }}
}

// deadRedis is a Redis store for a port nothing listens on.
func deadRedis(t *testing.T) *redisstore.Store {
	s, err := redisstore.Open("redis://127.0.0.1:1/0?max_retries=-1", "kptest:dead:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// An unreachable store never fails a Load; Invalidate reports it; the
// breaker stops calling the store, probes after the cooldown, and closes
// when the store is back.
func TestOutage(t *testing.T) {
	for name, broken := range map[string]func(t *testing.T) cachetest.Store{
		"memory": func(*testing.T) cachetest.Store { return nil },
		"redis":  func(t *testing.T) cachetest.Store { return deadRedis(t) },
	} {
		t.Run(name, func(t *testing.T) {
			s := newSwitchable(broken(t))
			reg := prometheus.NewRegistry()
			// s stands in for a remote store: it gets timeouts, the breaker and copies in process.
			c := cache.New(s, cache.Options{Timeout: time.Second, BreakerThreshold: 3, BreakerCooldown: time.Minute,
				Registerer: reg, Logger: slog.New(slog.DiscardHandler), LocalBytes: cache.DefaultLocalBytes, Counters: s, Inspector: s})
			now := time.Unix(1_000_000, 0)
			cache.SetClock(c, func() time.Time { return now }) // this test's goroutine only
			ctx := context.Background()
			lookups := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b"}}
			fills := 0
			fill := func(_ context.Context, misses []int) ([][]byte, error) {
				fills++
				vals := make([][]byte, len(misses))
				for j, i := range misses {
					vals[j] = []byte(lookups[i].Key)
				}
				return vals, nil
			}
			load := func(step string) {
				t.Helper()
				rctx, rec := cache.WithRecorder(ctx)
				vals, err := c.Load(rctx, "Query.x", time.Hour, lookups, fill)
				if err != nil || len(vals) != 2 || string(vals[0]) != "a" || string(vals[1]) != "b" {
					t.Fatalf("%s: Load = %q, %v", step, vals, err)
				}
				if _, ok := rec.Versions(); ok == !s.healed.Load() {
					t.Fatalf("%s: recorder consistent = %v", step, ok)
				}
			}
			calls := func(step string, want int64) {
				t.Helper()
				if n := s.calls.Swap(0); n != want {
					t.Fatalf("%s: %d store calls, want %d", step, n, want)
				}
			}

			if err := c.Invalidate(ctx, "x"); err == nil || errors.Is(err, cache.ErrBreakerOpen) {
				t.Fatalf("Invalidate on a dead store: %v", err)
			}
			load("failure 2")
			load("failure 3")
			calls("closed breaker", 3)
			if fills != 2 {
				t.Fatalf("fill ran %d times, want 2", fills)
			}

			load("open")
			if err := c.Invalidate(ctx, "x"); !errors.Is(err, cache.ErrBreakerOpen) {
				t.Fatalf("Invalidate with the breaker open: %v", err)
			}
			c.GetResponse(ctx, "r")
			calls("open breaker", 0)

			now = now.Add(time.Minute) // half-open: one probe, which fails
			load("failed probe")
			load("reopened")
			calls("failed probe", 1)

			s.healed.Store(true)
			now = now.Add(time.Minute)
			load("successful probe") // Get and Set
			calls("successful probe", 2)
			fills = 0
			load("closed again") // a hit
			calls("closed again", 1)
			if fills != 0 {
				t.Fatal("no hit after the store came back")
			}
			if err := c.Invalidate(ctx, "x"); err != nil {
				t.Fatal(err)
			}

			got := cachetest.Gather(t, reg)
			if got[`kedahpulse_cache_errors_total{op="get"}`] < 4 || got[`kedahpulse_cache_errors_total{op="bump"}`] != 2 {
				t.Errorf("error metrics: %v", got)
			}
		})
	}
}

func TestHealthy(t *testing.T) {
	if err := newCache(t, cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{}).Healthy(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := newCache(t, deadRedis(t), cache.Options{Timeout: time.Second})
	if err := c.Healthy(context.Background()); err == nil {
		t.Fatal("Healthy on a dead store")
	}
}

func TestStatsDuringOutage(t *testing.T) {
	c := newCache(t, failing(), cache.Options{})
	lookups := []cache.Lookup{{Key: "a"}}
	cachetest.MustLoad(t, c, context.Background(), lookups, func(context.Context, []int) ([][]byte, error) {
		return [][]byte{nil}, nil
	})
	st, err := c.Stats(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	if st.Misses != 1 || !slices.Equal(st.Fields, []cache.FieldStats{{"Query.test", 0, 1}}) {
		t.Fatalf("local figures: %+v", st)
	}
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("Flush: no error")
	}
	st, _ = c.Stats(context.Background())
	if st.Misses != 1 {
		t.Fatalf("a failed Flush lost the counts: %+v", st)
	}
}
