package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// A second process whose cache would not share invalidations with the
// first's refuses to start, and says what to configure: two in-process
// caches on one database, or Redis with another CACHE_PREFIX. Processes
// sharing Redis and its prefix start together. Otherwise each would serve
// the other's writes stale from its own cache.
func TestProcessesMustShareTheirCache(t *testing.T) {
	old := peerWait
	peerWait = 0
	t.Cleanup(func() { peerWait = old })
	_, prefix, _ := cachetest.NewRedis(t)
	pg := dbtest.PostgresURL(t)
	sqlite := "sqlite:" + filepath.Join(t.TempDir(), "kp.db")
	for name, c := range map[string]struct {
		first, second map[string]string
		refused       bool
	}{
		"two in-process caches on SQLite":   {map[string]string{"DATABASE_URL": sqlite}, map[string]string{"DATABASE_URL": sqlite}, true},
		"two in-process caches on Postgres": {map[string]string{"DATABASE_URL": pg}, map[string]string{"DATABASE_URL": pg}, true},
		"Redis with another prefix": {
			map[string]string{"DATABASE_URL": pg, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix},
			map[string]string{"DATABASE_URL": pg, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix + "other:"}, true},
		"Redis and its prefix shared": {
			map[string]string{"DATABASE_URL": pg, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix},
			map[string]string{"DATABASE_URL": pg, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix}, false},
	} {
		t.Run(name, func(t *testing.T) {
			startServer(t, c.first)
			vars := c.second
			vars["ADDR"], vars["ADMIN_TOKEN"], vars["SEED"], vars["SCRAPE_SCHEDULE"], vars["CACHE_LEASE"] = "127.0.0.1:0", "tok", "none", "off", "1s"
			cfg, err := loadConfig(func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			started, done := make(chan struct{}), make(chan error, 1)
			go func() {
				done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(net.Addr) { close(started) })
			}()
			select {
			case err := <-done:
				cancel()
				if !c.refused {
					t.Fatalf("refused: %v", err)
				}
				if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
					t.Errorf("error %v does not say what to configure", err)
				}
			case <-started:
				cancel()
				<-done
				if c.refused {
					t.Fatal("the second process started")
				}
			}
		})
	}
}
