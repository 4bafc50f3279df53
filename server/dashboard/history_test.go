package dashboard

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

var epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// eachHistory runs fn on the in-memory ring and on Redis (a fresh prefix)
// and on the Redis Cluster. newHistory returns another writer on the same
// backend (for Redis: the same sorted set; in memory: the same ring).
func eachHistory(t *testing.T, window time.Duration, max int, fn func(t *testing.T, c *dbtest.Clock, newHistory func() History)) {
	t.Run("memory", func(t *testing.T) {
		c := dbtest.NewClock(epoch)
		h := NewMemoryHistory(max)
		fn(t, c, func() History { return h })
	})
	for name, open := range map[string]func(testing.TB) (string, func() History, *dbtest.Clock){
		"redis": func(tb testing.TB) (string, func() History, *dbtest.Clock) {
			return redisWriters(tb, window, max, false)
		},
		"cluster": func(tb testing.TB) (string, func() History, *dbtest.Clock) {
			return redisWriters(tb, window, max, true)
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, newHistory, c := open(t)
			fn(t, c, newHistory)
		})
	}
}

func redisWriters(tb testing.TB, window time.Duration, max int, cluster bool) (string, func() History, *dbtest.Clock) {
	client, prefix, _ := cachetest.NewRedis(tb)
	if cluster {
		client, prefix, _ = cachetest.NewRedisCluster(tb)
	}
	c := dbtest.NewClock(epoch)
	return prefix, func() History { return NewRedisHistory(client, prefix, window, max, c.Now) }, c
}

func TestHistoryOrderAndSince(t *testing.T) {
	eachHistory(t, time.Hour, 100, func(t *testing.T, c *dbtest.Clock, newHistory func() History) {
		ctx := context.Background()
		h := newHistory()
		for i := range 5 {
			at := epoch.Add(time.Duration(i) * time.Second)
			c.Set(at)
			if err := h.Add(ctx, Sample{Process: "a", Seq: uint64(i + 1), At: at.UnixMilli(), Hits: int64(i), Invalidations: map[string]int64{"property": 1}}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := h.Since(ctx, epoch.Add(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].Hits != 2 || got[2].Hits != 4 || got[1].Invalidations["property"] != 1 {
			t.Errorf("since +2s: %+v", got)
		}
	})
}

// The history never holds more than its bound: the memory ring its size,
// Redis its member cap and its window (trimmed by the writer's clock).
func TestHistoryBounded(t *testing.T) {
	const max = 10
	eachHistory(t, time.Minute, max, func(t *testing.T, c *dbtest.Clock, newHistory func() History) {
		ctx := context.Background()
		h := newHistory()
		for i := range 3 * max {
			at := epoch.Add(time.Duration(i) * time.Second)
			c.Set(at)
			if err := h.Add(ctx, Sample{Process: "a", Seq: uint64(i + 1), At: at.UnixMilli(), Hits: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := h.Since(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != max || all[0].Hits != 2*max || all[max-1].Hits != 3*max-1 {
			t.Errorf("%d samples kept (want the last %d): first %+v", len(all), max, all[0])
		}
		if _, ok := h.(*redisHistory); !ok {
			return
		}
		// Two minutes later, one more sample: everything older than the
		// window is gone.
		late := epoch.Add(3*max*time.Second + 2*time.Minute)
		c.Set(late)
		if err := h.Add(ctx, Sample{Process: "a", Seq: 999, At: late.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		if all, _ := h.Since(ctx, time.Time{}); len(all) != 1 || all[0].Seq != 999 {
			t.Errorf("after the window: %+v", all)
		}
		rh := h.(*redisHistory)
		ttl, err := rh.client.(redis.UniversalClient).PTTL(ctx, rh.key).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute+time.Minute {
			t.Errorf("TTL %v, %v: want at most the window and a minute", ttl, err)
		}
	})
}

// Two processes write concurrently: every sample of both is kept, in time
// order.
func TestHistoryTwoWriters(t *testing.T) {
	eachHistory(t, time.Hour, 1000, func(t *testing.T, c *dbtest.Clock, newHistory func() History) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for _, p := range []string{"a", "b"} {
			h := newHistory()
			wg.Go(func() {
				for i := range 50 {
					at := epoch.Add(time.Duration(i) * time.Second)
					if err := h.Add(ctx, Sample{Process: p, Seq: uint64(i + 1), At: at.UnixMilli(), Hits: int64(i)}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		all, err := newHistory().Since(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for i, s := range all {
			count[s.Process]++
			if i > 0 && s.At < all[i-1].At {
				t.Fatalf("out of order at %d: %+v", i, all[i-1:i+1])
			}
		}
		if fmt.Sprint(count) != "map[a:50 b:50]" {
			t.Errorf("samples by process: %v", count)
		}
		procs := processes(all, epoch.Add(50*time.Second), "a")
		if len(procs) != 2 || !procs[0].Reporting || !procs[1].Reporting {
			t.Errorf("processes: %+v", procs)
		}
	})
}
