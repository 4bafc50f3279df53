package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// Idle keep-alive connections cannot exhaust the server: beyond
// MAX_CONNECTIONS the longest-idle ones are closed to make room, so every
// new client is answered, and the server never holds more than the limit.
func TestIdleConnectionsCannotExhaustServer(t *testing.T) {
	const limit, idle = 50, 200
	base := startServer(t, map[string]string{
		"DATABASE_URL":    "sqlite:" + filepath.Join(t.TempDir(), "kp.db"),
		"MAX_CONNECTIONS": strconv.Itoa(limit),
	})
	addr := strings.TrimPrefix(base, "http://")
	most := 0
	for i := range idle {
		c, code := dialGet(t, addr, "/healthz")
		defer c.Close()
		if code != http.StatusOK {
			t.Fatalf("idle connection %d: status %d", i, code)
		}
		if n := serverConns(t, addr); n > most {
			most = n
		}
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("a new client after %d idle connections: %v", idle, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a new client after %d idle connections: status %d", idle, resp.StatusCode)
	}
	if most > limit {
		t.Errorf("the server held %d connections; MAX_CONNECTIONS is %d", most, limit)
	}
	if n := metric(t, base, "kedahpulse_http_connections_evicted_total"); n < idle-limit {
		t.Errorf("%v idle connections evicted, want at least %d", n, idle-limit)
	}
	t.Logf("%d idle connections, limit %d: at most %d open on the server side", idle, limit, most)
}

// A keep-alive connection left idle for IDLE_TIMEOUT is closed by the server.
func TestIdleTimeout(t *testing.T) {
	base := startServer(t, map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"),
		"IDLE_TIMEOUT": "100ms",
	})
	c, _ := dialGet(t, strings.TrimPrefix(base, "http://"), "/healthz")
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a guard against a hang, not a timing assertion
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("an idle connection past IDLE_TIMEOUT: read %d bytes, %v; want the server to close it (EOF)", n, err)
	}
}

// Request headers beyond 64 KiB are refused before any handler runs.
func TestHeaderLimit(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	for size, want := range map[int]int{1 << 10: http.StatusOK, 100 << 10: http.StatusRequestHeaderFieldsTooLarge} {
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("x", size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d-byte header: status %d, want %d", size, resp.StatusCode, want)
		}
	}
}

// dialGet opens a connection, sends one keep-alive GET and reads the
// answer, leaving the connection open and idle.
func dialGet(t *testing.T, addr, path string) (net.Conn, int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second)) // a guard against a hang
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: kp\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c, resp.StatusCode
}

// metric reads one unlabelled sample from /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(getBody(t, base+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Made-up methods, whatever their number, add no series to /metrics: the
// labels come from a fixed set.
func TestMetricsLabelsAreBounded(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	do := func(method string) {
		req, _ := http.NewRequest(method, base+"/graphql?query={__typename}", nil)
		req.Header.Set("X-Cache", "PLANTED")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, m := range []string{"GET", "POST", "OPTIONS", "HEAD", "BREW"} {
		do(m)
	}
	before := series(t, base)
	for i := range 100 {
		do(fmt.Sprintf("MADE-UP-%d", i))
	}
	after := series(t, base)
	for s := range after {
		if !before[s] {
			t.Errorf("new series: %s", s)
		}
	}
	t.Logf("%d series before, %d after 100 made-up methods", len(before), len(after))
}

// series reads the names and labels of every sample in /metrics.
func series(t *testing.T, base string) map[string]bool {
	t.Helper()
	s := map[string]bool{}
	for _, line := range strings.Split(getBody(t, base+"/metrics"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s[line[:strings.LastIndexByte(line, ' ')]] = true
	}
	return s
}

func TestMetricLabels(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "HEAD": "HEAD", "get": "other", "PROPFIND": "other", "": "other"} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{200: "200", 431: "431", 299: "2xx", 599: "5xx", 0: "other", 1000: "other"} {
		if got := codeLabel(in); got != want {
			t.Errorf("codeLabel(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"HIT": "HIT", "MISS": "MISS", "": "", "hit": "", "STALE": ""} {
		if got := cacheLabel(in); got != want {
			t.Errorf("cacheLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

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
