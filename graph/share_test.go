package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/kedahpulse/kedahpulse/graph"
)

// holder is a bun hook that holds the statements of tagged requests until
// released (or their context ends), counting them per request and in all.
type holder struct {
	release chan struct{}

	mu               sync.Mutex
	now, most        map[int]int // by request
	total, mostTotal int
	changed          *sync.Cond
}

type requestTag struct{}

func newHolder() *holder {
	h := &holder{release: make(chan struct{}), now: map[int]int{}, most: map[int]int{}}
	h.changed = sync.NewCond(&h.mu)
	return h
}

func (h *holder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	i, ok := ctx.Value(requestTag{}).(int)
	if !ok {
		return ctx
	}
	h.mu.Lock()
	h.now[i]++
	h.most[i] = max(h.most[i], h.now[i])
	h.total++
	h.mostTotal = max(h.mostTotal, h.total)
	h.changed.Broadcast()
	h.mu.Unlock()
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	h.mu.Lock()
	h.now[i]--
	h.total--
	h.mu.Unlock()
	return ctx
}

func (h *holder) AfterQuery(context.Context, *bun.QueryEvent) {}

// waitFor waits until n tagged statements are held at once.
func (h *holder) waitFor(t *testing.T, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		h.mu.Lock()
		for h.total < n {
			h.changed.Wait()
		}
		h.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a guard against a hang, not a measure
		t.Fatalf("%d statements held, want %d", h.total, n)
	}
}

// sendTagged posts query with the request tagged i for the holder.
func (e *env) sendTagged(h http.Handler, i int, query string) *result {
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(context.WithValue(req.Context(), requestTag{}, i))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := &result{Status: rec.Code, Raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), res)
	return res
}

// analyticsRequest is a request of 4 distinct cold analytics fields.
func analyticsRequest(i int) string {
	var b strings.Builder
	b.WriteString("{")
	for j := range 4 {
		fmt.Fprintf(&b, ` s%d: sentimentSummary(city: "r%dc%d", range: LAST_24_HOURS) { total }`, j, i, j)
	}
	b.WriteString(" }")
	return b.String()
}

// No request holds more than its share: with 8 expensive requests in
// flight on SQLite's 8 connections, each holds at most RequestDBConns (2)
// statements at once, all of them together at most the pool less its
// reserve (8 - 2), and a one-row read is answered while they are all held.
func TestExpensiveRequestsLeaveConnectionsForCheapReads(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	f := newFixture(t, e, 1)
	if got := e.store.DB.Stats().MaxOpenConnections; got != 8 {
		t.Fatalf("pool of %d connections, want SQLite's default 8", got)
	}
	h := newHolder()
	e.store.DB.AddQueryHook(h)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { e.sendTagged(e.handler, i, analyticsRequest(i)) })
	}
	h.waitFor(t, 6)
	res := e.do(fmt.Sprintf(`{ property(id: "%d") { title } }`, f.props[0].ID), nil, false)
	if len(res.Errors) > 0 || path(res.Data, "property", "title") == nil {
		t.Errorf("one-row read while 8 expensive requests run: %s", res.Raw)
	}
	close(h.release)
	wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, n := range h.most {
		if n > graph.DefaultRequestDBConns {
			t.Errorf("request %d held %d statements at once, want at most %d", i, n, graph.DefaultRequestDBConns)
		}
	}
	if h.mostTotal > 6 {
		t.Errorf("expensive requests held %d statements at once, want at most 6 (8 connections, 2 reserved)", h.mostTotal)
	}
}

// A deadline that cuts a request of many fields logs one line for the
// request, not one per field.
func TestDeadlineLogsOneLinePerRequest(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	var logs bytes.Buffer
	var mu sync.Mutex
	e.resolver.Log = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelWarn}))
	handler := graph.NewHandler(e.resolver, graph.Options{Timeout: 200 * time.Millisecond, RequestDBConns: 4})
	h := newHolder() // never released: the deadline ends every statement
	e.store.DB.AddQueryHook(h)
	res := e.sendTagged(handler, 1, analyticsRequest(1))
	if !strings.Contains(res.Raw, "UNAVAILABLE") {
		t.Errorf("cut request: %s", res.Raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "request cut by its deadline") {
		t.Errorf("%d log lines for one cut request of 4 fields, want 1:\n%s", n, logs.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
