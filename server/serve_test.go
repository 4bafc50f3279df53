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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

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
	out, resp, err := request(url, token, map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return out, resp
}

// request is send for any goroutine, with the request's parameters as
// they are sent: it returns what send fails on.
func request(url, token string, params map[string]any) (map[string]any, *http.Response, error) {
	body, _ := json.Marshal(params)
	req, _ := http.NewRequest("POST", url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, resp, fmt.Errorf("%s: %w", params["query"], err)
	}
	return out, resp, nil
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
