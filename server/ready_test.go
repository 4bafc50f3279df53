package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// /readyz answers a state per component, never the error behind it (which
// names internal addresses and drivers): that goes to the log.
func TestReadyzHidesInternals(t *testing.T) {
	_, prefix, _ := cachetest.NewRedis(t)
	dsn, err := url.Parse(dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pg := cachetest.NewProxy(t, dsn.Host)
	dsn.Host = pg.Addr()
	rdb, err := url.Parse(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	rd := cachetest.NewProxy(t, rdb.Host)
	rdb.Host = rd.Addr()
	var log syncBuffer
	base := startServerLog(t, map[string]string{"DATABASE_URL": dsn.String(), "REDIS_URL": rdb.String(), "CACHE_PREFIX": prefix}, &log)

	ready := func() (int, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := ready(); code != http.StatusOK || body != `{"cache":"ok","database":"ok"}`+"\n" {
		t.Errorf("up: %d %s", code, body)
	}
	pg.SetCut(true) // the hosts went away
	rd.SetCut(true)
	// The answer is at most a second old.
	cachetest.WaitFor(t, func() bool { code, _ := ready(); return code != http.StatusOK })
	// The first pings find pooled connections closed; later ones find the
	// ports refusing connections.
	for range 3 {
		code, body := ready()
		if code != http.StatusServiceUnavailable || body != `{"cache":"degraded","database":"down"}`+"\n" {
			t.Errorf("down: %d %s", code, body)
		}
		for _, internal := range []string{pg.Addr(), rd.Addr(), "127.0.0.1", "dial", "tcp", "refused", "EOF", "db:", "redis"} {
			if strings.Contains(body, internal) {
				t.Errorf("the body %s reveals %q", body, internal)
			}
		}
	}
	if logged := log.String(); !strings.Contains(logged, `level=WARN msg="readiness: database down" err="db: ping`) {
		t.Errorf("the database error is not logged at WARN:\n%s", logged)
	}
}

// /readyz answers a burst from one check a second: 1,000 requests at once
// cost one database ping and one cache command; the next second's first
// request checks again. Each request used to check (2,710 checks a second
// from one connection).
func TestReadyzChecksOncePerSecond(t *testing.T) {
	var pings atomic.Int64
	ping := func(context.Context) error { pings.Add(1); return nil }
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	rd := &readiness{log: slog.New(slog.DiscardHandler),
		database: probe{name: "database", failed: "down", ping: ping},
		cache:    probe{name: "cache", failed: "degraded", ping: ping},
		now:      func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	burst := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				if rec.Code != http.StatusOK || rec.Body.String() != `{"cache":"ok","database":"ok"}`+"\n" {
					t.Errorf("%d %s", rec.Code, rec.Body.String())
				}
			})
		}
		wg.Wait()
	}
	for _, step := range []struct {
		advance time.Duration
		pings   int64
	}{{0, 2}, {999 * time.Millisecond, 2}, {time.Millisecond, 4}, {10 * time.Second, 6}} {
		mu.Lock()
		now = now.Add(step.advance)
		mu.Unlock()
		burst(1000)
		if got := pings.Load(); got != step.pings {
			t.Errorf("after %v more: %d pings for the bursts so far; want %d", step.advance, got, step.pings)
		}
	}
}
