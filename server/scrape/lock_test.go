package scrape

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// mustRedis returns a client of the test Redis (REDIS_URL, default
// 127.0.0.1:6379) and a random key prefix whose keys are deleted when t
// ends. Without Redis the test is skipped, unless CI=true.
func mustRedis(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	opt := &redis.Options{Addr: "127.0.0.1:6379"}
	if u := os.Getenv("REDIS_URL"); u != "" {
		var err error
		if opt, err = redis.ParseURL(u); err != nil {
			t.Fatal(err)
		}
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis unreachable at %s: %v", opt.Addr, err)
		}
		t.Skipf("Redis unreachable at %s: %v", opt.Addr, err)
	}
	var b [8]byte
	rand.Read(b[:])
	key := "kedahpulse:test:scrape:" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		keys, _ := client.Keys(ctx, key+"*").Result()
		if len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	return client, key
}

func TestTickOneRunPerTickAcrossProcesses(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		rdb, key := mustRedis(t)
		mustDestinations(t, s)
		base := serve(t, map[string]http.HandlerFunc{"/rss.xml": fixture(t, "rss.xml")})
		cfg := Config{Feeds: []string{base + "/rss.xml"}}
		// Two processes: two scrapers sharing the database and Redis.
		a := newTestScraper(t, s, &recorder{}, nil, cfg).WithLock(rdb, key)
		b := newTestScraper(t, s, &recorder{}, nil, cfg).WithLock(rdb, key)
		ctx := context.Background()
		tick := time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

		// Both fire for the same tick, a few milliseconds apart.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, sc := range []*Scraper{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = sc.tick(ctx, tick.Add(time.Duration(i)*3*time.Millisecond))
			}()
		}
		wg.Wait()
		ran, claimed := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ran++
			case errors.Is(err, errTickClaimed):
				claimed++
			default:
				t.Errorf("tick: %v", err)
			}
		}
		if ran != 1 || claimed != 1 {
			t.Errorf("ran %d, skipped %d; want one of each (errors %v)", ran, claimed, errs)
		}
		if n := countRuns(t, s); n != 1 {
			t.Fatalf("%d runs for one tick, want 1", n)
		}

		// A process whose clock lags fires after the run is over and the
		// run lock released: the tick key still stops it.
		if _, err := b.tick(ctx, tick.Add(2*time.Second)); !errors.Is(err, errTickClaimed) {
			t.Errorf("late tick: %v, want errTickClaimed", err)
		}
		if n := countRuns(t, s); n != 1 {
			t.Errorf("%d runs after a late tick, want 1", n)
		}

		// The next tick runs.
		run, err := b.tick(ctx, tick.Add(time.Minute))
		if err != nil || run.Status != db.RunSucceeded {
			t.Fatalf("next tick: %+v, %v", run, err)
		}
		if n := countRuns(t, s); n != 2 {
			t.Errorf("%d runs after the next tick, want 2", n)
		}
		if ttl := rdb.PTTL(ctx, a.tickKey(tick)).Val(); ttl <= 0 || ttl > tickTTL {
			t.Errorf("tick key TTL = %s, want in (0, %s]", ttl, tickTTL)
		}
		if n := rdb.Exists(ctx, key).Val(); n != 0 {
			t.Errorf("run lock still held after the runs")
		}
	})
}

func TestRunLockHeldElsewhere(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		rdb, key := mustRedis(t)
		base := serve(t, map[string]http.HandlerFunc{"/rss.xml": fixture(t, "rss.xml")})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/rss.xml"}}).WithLock(rdb, key)
		ctx := context.Background()

		// Another process holds the run lock but has not recorded its run.
		other, err := redislock.Obtain(ctx, rdb, key, time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Run(ctx); !errors.Is(err, ErrBusy) {
			t.Errorf("Run: %v, want ErrBusy", err)
		}
		if _, err := sc.tick(ctx, dbtest.Epoch); !errors.Is(err, ErrBusy) {
			t.Errorf("tick: %v, want ErrBusy", err)
		}
		// Now its run is recorded: Run returns it.
		running, err := s.StartScrapeRun(ctx)
		if err != nil {
			t.Fatal(err)
		}
		run, err := sc.Run(ctx)
		if err != nil || run.ID != running.ID || run.Status != db.RunRunning {
			t.Errorf("Run: %+v, %v; want the other process's RUNNING run %d", run, err, running.ID)
		}
		if n := countRuns(t, s); n != 1 {
			t.Errorf("%d runs, want only the other process's", n)
		}

		// Once it is released, Run runs.
		if err := other.Release(ctx); err != nil {
			t.Fatal(err)
		}
		run, err = sc.Run(ctx)
		if err != nil || run.ID == running.ID || run.Status != db.RunSucceeded {
			t.Errorf("Run after release: %+v, %v; want a new SUCCEEDED run", run, err)
		}
	})
}
