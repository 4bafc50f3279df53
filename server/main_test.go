package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/server/alert"
)

func TestLoadConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := loadConfig(env())
	if err != nil || !c.Embedded || c.Seed != "demo" || c.Addr != "127.0.0.1:8080" || !c.TokenGenerated || c.ScrapeSchedule != "0 */2 * * *" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if c.MaxConnections < 1 || c.MaxConnections > defaultMaxConnections || c.IdleTimeout != time.Minute {
		t.Errorf("defaults: MAX_CONNECTIONS %d, IDLE_TIMEOUT %v", c.MaxConnections, c.IdleTimeout)
	}
	if files, ok := openFileLimit(); ok && files < 1<<30 {
		over := strconv.FormatUint(files, 10)
		if _, err := loadConfig(env("MAX_CONNECTIONS", over)); err == nil || !strings.Contains(err.Error(), "MAX_CONNECTIONS") {
			t.Errorf("MAX_CONNECTIONS at the open-file limit %s: error %v", over, err)
		}
	}
	for _, bad := range []string{"many", "-1"} {
		if _, err := loadConfig(env("MAX_CONNECTIONS", bad)); err == nil || !strings.Contains(err.Error(), "MAX_CONNECTIONS") {
			t.Errorf("MAX_CONNECTIONS=%q: error %v", bad, err)
		}
	}
	if c, err := loadConfig(env("QUERY_MAX_DEPTH", "9", "CACHE_MEMORY_BYTES", "1048576", "SCRAPE_REDIRECT_HOSTS", "a.example, b.example:8080")); err != nil ||
		c.Request.Limits.Depth != 9 || c.CacheMaxBytes != 1<<20 || len(c.ScrapeRedirectHosts) != 2 || c.Request.Timeout != graph.DefaultTimeout {
		t.Errorf("limits: %+v %v", c.Request, err)
	}
	if c, _ := loadConfig(env("DATABASE_URL", "postgres://x")); c.Seed != "none" {
		t.Errorf("a configured DATABASE_URL seeds %q, want none", c.Seed)
	}
	for name, bad := range map[string][]string{
		"LOG_LEVEL":          {"LOG_LEVEL", "loud"},
		"LOG_FORMAT":         {"LOG_FORMAT", "xml"},
		"SCRAPE_SCHEDULE":    {"SCRAPE_SCHEDULE", "every day"},
		"SCRAPE_FEEDS":       {"SCRAPE_FEEDS", "ftp://x"},
		"INTROSPECTION":      {"INTROSPECTION", "maybe"},
		"SEED":               {"SEED", "lots"},
		"ADDR":               {"ADDR", "nowhere"},
		"CACHE_TIMEOUT":      {"CACHE_TIMEOUT", "soon"},
		"MAX_CONNECTIONS":    {"MAX_CONNECTIONS", "0"},
		"IDLE_TIMEOUT":       {"IDLE_TIMEOUT", "0s"},
		"DATABASE_URL":       {"DATABASE_URL", "mysql://x"},
		"QUERY_MAX_DEPTH":    {"QUERY_MAX_DEPTH", "0"},
		"QUERY_MAX_COST":     {"QUERY_MAX_COST", "lots"},
		"MAX_BODY_BYTES":     {"MAX_BODY_BYTES", "-1"},
		"REQUEST_TIMEOUT":    {"REQUEST_TIMEOUT", "0s"},
		"DB_MAX_CONNS":       {"DB_MAX_CONNS", "x"},
		"DASHBOARD_INTERVAL": {"DASHBOARD_INTERVAL", "10ms"},
		"DASHBOARD_HISTORY":  {"DASHBOARD_HISTORY", "5s"},
	} {
		if _, err := loadConfig(env(bad...)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v does not name the variable", bad[0], bad[1], err)
		}
	}
}

// The whole program, started as main starts it, on a free port: SQLite with
// the in-process cache, and PostgreSQL with Redis.
func TestServerEndToEnd(t *testing.T) {
	_, prefix, _ := cachetest.NewRedis(t)
	for name, vars := range map[string]map[string]string{
		"sqlite+memory":  {"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")},
		"postgres+redis": {"DATABASE_URL": dbtest.PostgresURL(t), "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix},
	} {
		t.Run(name, func(t *testing.T) {
			base := startServer(t, vars)
			for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/": 200, "/metrics": 200} {
				resp, err := http.Get(base + path)
				if err != nil || resp.StatusCode != want {
					t.Errorf("GET %s: %v %v", path, resp.StatusCode, err)
				}
				resp.Body.Close()
			}
			create := `mutation { createDestination(input: {name: "Pantai Cenang", city: "Langkawi", category: BEACH, description: "Beach"}) { id slug } }`
			if out, _ := send(t, base, "wrong", create, nil); !strings.Contains(fmt.Sprint(out), "UNAUTHENTICATED") {
				t.Errorf("wrong token: %v", out)
			}
			if out, _ := send(t, base, "tok", create, nil); !strings.Contains(fmt.Sprint(out), "pantai-cenang") {
				t.Fatalf("create: %v", out)
			}
			read := `{ destination(slug: "pantai-cenang") { name } }`
			if _, resp := send(t, base, "", read, nil); resp.Header.Get("X-Cache") != "MISS" {
				t.Errorf("first read X-Cache %q", resp.Header.Get("X-Cache"))
			}
			if out, resp := send(t, base, "", read, nil); resp.Header.Get("X-Cache") != "HIT" || !strings.Contains(fmt.Sprint(out), "Pantai Cenang") {
				t.Errorf("second read: %v, X-Cache %q", out, resp.Header.Get("X-Cache"))
			}
			post(t, base, "tok", `mutation { updateDestination(id: "1", input: {name: "Pantai Cenang Baru"}) { name } }`, nil)
			if out := post(t, base, "", read, nil); !strings.Contains(fmt.Sprint(out), "Pantai Cenang Baru") {
				t.Errorf("stale after update: %v", out)
			}
			resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader([]byte("{bad")))
			if err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Errorf("malformed JSON: %v %v", resp.StatusCode, err)
			}
		})
	}
}

func TestRunRejectsUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("err = %v", err)
	}
}

func redisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return cachetest.DefaultRedisURL
}

// startServer runs the whole program with vars on a free port until the
// test ends, and returns its base URL.
func startServer(t *testing.T, vars map[string]string) string {
	t.Helper()
	return startServerLog(t, vars, io.Discard)
}

// startServerLog is startServer logging to w.
func startServerLog(t *testing.T, vars map[string]string, w io.Writer) string {
	t.Helper()
	vars["ADDR"], vars["ADMIN_TOKEN"], vars["SEED"], vars["SCRAPE_SCHEDULE"] = "127.0.0.1:0", "tok", "none", "off"
	cfg, err := loadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(w, nil)), func(a net.Addr) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not shut down")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	}
	return ""
}

// syncBuffer is a log the server writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// send posts a GraphQL request and returns the decoded body and response.
func send(t *testing.T, url, token, query string, vars map[string]any) (map[string]any, *http.Response) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out, resp
}

// post sends a request that must succeed and returns its data.
func post(t *testing.T, url, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	out, _ := send(t, url, token, query, vars)
	if out["errors"] != nil {
		t.Fatalf("%s: %v", query, out["errors"])
	}
	return out["data"].(map[string]any)
}

// Two server processes sharing PostgreSQL and Redis: a write through one is
// visible through the other on the very next request, every time.
func TestTwoServersShareFreshness(t *testing.T) {
	_, prefix, _ := cachetest.NewRedis(t)
	dsn := dbtest.PostgresURL(t)
	shared := func() map[string]string {
		return map[string]string{"DATABASE_URL": dsn, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix}
	}
	a, b := startServer(t, shared()), startServer(t, shared())
	created := post(t, a, "tok", `mutation { createDestination(input: {name: "Gunung Jerai", city: "Yan", category: NATURE, description: "Peak"}) { id } }`, nil)
	id := created["createDestination"].(map[string]any)["id"]
	read := `query($id: ID) { destination(id: $id) { name } }`
	stale := 0
	for i := range 50 {
		post(t, b, "", read, map[string]any{"id": id}) // B has it cached
		name := fmt.Sprintf("Gunung Jerai %d", i)
		post(t, a, "tok", `mutation($id: ID!, $n: String) { updateDestination(id: $id, input: {name: $n}) { id } }`, map[string]any{"id": id, "n": name})
		got := post(t, b, "", read, map[string]any{"id": id})["destination"].(map[string]any)["name"]
		if got != name {
			stale++
			t.Errorf("iteration %d: B answered %v after A wrote %q", i, got, name)
		}
	}
	t.Logf("50 iterations, %d stale", stale)
}

// The request limits come from the environment: a server started with
// QUERY_MAX_DEPTH=2 and QUERY_MAX_ALIASES=1 refuses what the defaults
// allow, naming the limit.
func TestLimitsFromEnvironment(t *testing.T) {
	base := startServer(t, map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "QUERY_MAX_DEPTH": "2", "QUERY_MAX_ALIASES": "1",
	})
	for query, code := range map[string]string{
		`{ properties { totalCount } }`:                "",
		`{ properties { edges { cursor } } }`:          "DEPTH_LIMIT_EXCEEDED",
		`{ a: __typename b: __typename }`:              "TOO_MANY_ALIASES",
		`{ a: __typename sentimentSummary { total } }`: "",
	} {
		out, _ := send(t, base, "", query, nil)
		got := ""
		if errs, ok := out["errors"].([]any); ok && len(errs) > 0 {
			got, _ = errs[0].(map[string]any)["extensions"].(map[string]any)["code"].(string)
		}
		if got != code {
			t.Errorf("%s: code %q, want %q (%v)", query, got, code, out)
		}
	}
}

// A browser app on another origin can call the API: a real preflight
// for POST with Content-Type and Authorization is allowed, and the answer
// exposes the cache headers. CORS_ORIGINS narrows the origins.
func TestCORS(t *testing.T) {
	for name, c := range map[string]struct {
		origins string
		allowed bool
	}{"default": {"", true}, "listed": {"http://localhost:3000", true}, "not listed": {"https://app.example", false}} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")}
			if c.origins != "" {
				vars["CORS_ORIGINS"] = c.origins
			}
			base := startServer(t, vars)
			req, _ := http.NewRequest(http.MethodOptions, base+"/graphql", nil)
			req.Header.Set("Origin", "http://localhost:3000")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type") // as browsers send it
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			allowOrigin := resp.Header.Get("Access-Control-Allow-Origin")
			if got := allowOrigin != ""; got != c.allowed {
				t.Fatalf("preflight: %d, Allow-Origin %q, want allowed %v", resp.StatusCode, allowOrigin, c.allowed)
			}
			if !c.allowed {
				return
			}
			if h := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "content-type") {
				t.Errorf("Allow-Headers %q", h)
			}
			req, _ = http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
			req.Header.Set("Origin", "http://localhost:3000")
			req.Header.Set("Content-Type", "application/json")
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Header.Get("Access-Control-Allow-Origin") == "" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Cache") {
				t.Errorf("POST: Allow-Origin %q, Expose-Headers %q", resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

// The cache commands talk to the running server in one style: a table (or
// a sentence) for people by default, the API's JSON with --json.
func TestCacheCommandOutput(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	env := map[string]string{"ADMIN_TOKEN": "tok", "ADDR": strings.TrimPrefix(base, "http://")}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		args []string
		want string
		json bool
	}{
		{[]string{"cache", "status"}, "hit ratio", false},
		{[]string{"cache", "status", "--json"}, `"cacheStats"`, true},
		{[]string{"cache", "invalidate", "properties", "analytics"}, "invalidated 2 tags: properties analytics", false},
		{[]string{"cache", "invalidate", "--json", "properties"}, `"invalidateCache"`, true},
		{[]string{"cache", "clear"}, "cleared the cache", false},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), c.args, getenv, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !strings.Contains(out.String(), c.want) || json.Valid(out.Bytes()) != c.json {
			t.Errorf("%v: %q", c.args, out.String())
		}
	}
}

func TestLoadAlert(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	want := alert.Config{Interval: 15 * time.Second, Window: 5 * time.Minute, HitRatio: 0.7, MinLookups: 100, ErrorRate: 1}
	if c, err := loadAlert(env()); err != nil || c != want || alert.Defaults() != want {
		t.Errorf("defaults: %+v %v (alert.Defaults %+v)", c, err, alert.Defaults())
	}
	for v, want := range map[string]float64{"EXCELLENT": 0.9, "good": 0.8, "Fair": 0.7, "0.55": 0.55, "1": 1} {
		if c, err := loadAlert(env("ALERT_HIT_RATIO", v)); err != nil || c.HitRatio != want {
			t.Errorf("ALERT_HIT_RATIO=%s: %v %v, want %v", v, c.HitRatio, err, want)
		}
	}
	if c, err := loadAlert(env("ALERT_ERROR_RATE", "0", "ALERT_MIN_LOOKUPS", "7")); err != nil || c.ErrorRate != 0 || c.MinLookups != 7 {
		t.Errorf("%+v %v", c, err)
	}
	for _, bad := range [][2]string{
		{"ALERT_INTERVAL", "0s"}, {"ALERT_INTERVAL", "often"},
		{"ALERT_WINDOW", "10s"}, {"ALERT_WINDOW", "-5m"},
		{"ALERT_HIT_RATIO", "POOR"}, {"ALERT_HIT_RATIO", "70"}, {"ALERT_HIT_RATIO", "0"},
		{"ALERT_MIN_LOOKUPS", "0"},
		{"ALERT_ERROR_RATE", "-1"}, {"ALERT_ERROR_RATE", "NaN"},
	} {
		// Through loadConfig, as the server reads them.
		if _, err := loadConfig(env(bad[0], bad[1])); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%s=%q: error %v does not name the variable", bad[0], bad[1], err)
		}
	}
}
