package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
