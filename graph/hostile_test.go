package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/limit/limittest"
)

// Tests of hostile requests: each sends, anonymously, what an attacker
// sent against the server, and checks the request is refused or answered
// within its bounds. They assert outcomes, statement counts and bytes,
// never durations.

// postRaw sends body as it is.
func (e *env) postRaw(body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// heapGrowth runs fn and returns how much the live heap grew, after a GC.
func heapGrowth(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// allocated runs fn and returns the bytes it allocated (live or not).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// 1. A fragment bomb of 2^30 expansions, about 1.5 KB, is refused for its
// cost after one linear walk.
func TestHostileFragmentBomb(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	for _, leaf := range []string{"sentimentSummary { total }", "__typename"} {
		query := limittest.FragmentBomb(30, leaf)
		var res *result
		if n := allocated(func() { res = e.do(query, nil, false) }); n > 20<<20 {
			t.Errorf("%s: the refusal allocated %d bytes, want under 20 MB", leaf, n)
		}
		if res.code() != "QUERY_TOO_COMPLEX" {
			t.Errorf("%s: %s", leaf, res.Raw)
		}
	}
}

// 2. One hundred distinct ~1 MB documents are refused for their size
// before they are parsed, and leave nothing behind.
func TestHostileLargeDocumentsLeaveNoHeap(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	grew := heapGrowth(func() {
		for i := range 100 {
			var b strings.Builder
			fmt.Fprintf(&b, `{"query": "{ `)
			for j := range 45_000 {
				fmt.Fprintf(&b, "x%d_%d: __typename ", i, j)
			}
			b.WriteString(`}"}`)
			rec := e.postRaw(b.String())
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "QUERY_TOO_LARGE") {
				t.Fatalf("document %d: %d %.300s", i, rec.Code, rec.Body.String())
			}
		}
	})
	if grew > 64<<20 {
		t.Errorf("100 refused documents left %d bytes of heap, want under 64 MB", grew)
	}
	t.Logf("heap growth after 100 refused 1 MB documents: %d bytes", grew)
}

// 3. Many same-name fields with different arguments: refused for size by
// default; with the limits raised, the quadratic validation's errors are
// truncated to MaxErrors plus one summary.
func TestHostileConflictingFields(t *testing.T) {
	query := limittest.Repeated(300, `sentimentSummary(city: "c%d") { total }`, false)

	e := newEnv(t, "sqlite", "memory")
	if res := e.do(query, nil, false); res.code() != "QUERY_TOO_LARGE" {
		t.Errorf("default limits: %.300s", res.Raw)
	}
	raised := newEnv(t, "sqlite", "memory", func(o *graph.Options) {
		o.Limits.Characters, o.Limits.Tokens, o.Limits.Cost = 1<<20, 1<<20, 1<<20
	})
	res := raised.do(query, nil, false)
	if len(res.Errors) != gqlhttp.MaxErrors+1 || !strings.Contains(res.Errors[gqlhttp.MaxErrors].Message, "more errors were left out") {
		t.Errorf("raised limits: %d errors, want %d; last: %+v", len(res.Errors), gqlhttp.MaxErrors+1, res.Errors[len(res.Errors)-1])
	}
	if len(res.Raw) > 64<<10 {
		t.Errorf("error response of %d bytes, want under 64 KB", len(res.Raw))
	}
}

// inFlight is a bun hook that records the most statements in flight at
// once.
type inFlight struct {
	now, most atomic.Int64
}

func (f *inFlight) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	n := f.now.Add(1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	return ctx
}

func (f *inFlight) AfterQuery(context.Context, *bun.QueryEvent) { f.now.Add(-1) }

// 4. Nine hundred aliased text searches are refused before any SQL runs;
// the root fields of an accepted request resolve at most RootConcurrency at
// a time, so one request holds at most that many connections.
func TestHostileConnectionExhaustion(t *testing.T) {
	e := newEnv(t, "postgres", "redis", func(o *graph.Options) { o.RootConcurrency = 2 })
	newFixture(t, e, 3)
	sql, _ := e.counts(func() {
		res := e.do(limittest.Repeated(900, `properties(filter: {search: "homestay"}, first: 0) { totalCount }`, true), nil, false)
		if res.code() != "QUERY_TOO_LARGE" && res.code() != "TOO_MANY_ALIASES" {
			t.Errorf("900 searches: %.300s", res.Raw)
		}
	})
	if sql != 0 {
		t.Errorf("the refused request ran %d statements", sql)
	}

	f := &inFlight{}
	e.store.DB.AddQueryHook(f)
	var b strings.Builder
	b.WriteString("{")
	for i := range 12 {
		fmt.Fprintf(&b, ` c%d: sentimentSummary(city: "City %d", range: LAST_24_HOURS) { total }`, i, i)
	}
	b.WriteString(" }")
	e.ok(b.String(), nil, false)
	if f.most.Load() > 2 {
		t.Errorf("%d statements in flight at once for one request, want at most RootConcurrency (2)", f.most.Load())
	}
}

// 5. A body with two "variables" members cannot poison the response cache:
// the cache keys on the variables gqlgen coerced and executed, so the
// answer for {city: "Nowhere", first: 5} is never served for {first: 5}.
func TestHostileDuplicateVariablesCannotPoison(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 6)
		const q = `query L($city: String, $first: Int) { properties(filter: {city: $city}, first: $first) { totalCount } }`
		for range 2 { // a second time, in case the first was not stored
			rec := e.postRaw(`{"query": "` + q + `", "variables": {"city": "Nowhere"}, "variables": {"first": 5}}`)
			if !strings.Contains(rec.Body.String(), `"totalCount":0`) {
				t.Fatalf("poison request: %s", rec.Body.String())
			}
		}
		res := e.do(q, map[string]any{"first": 5}, false)
		if got := path(res.Data, "properties", "totalCount"); got != float64(6) {
			t.Errorf("{first: 5} after the poison: totalCount %v (X-Cache %s), want 6", got, res.Header.Get("X-Cache"))
		}
	})
}

// 6. Undeclared variables do not make new response keys: the second
// request, with different junk, is a hit.
func TestHostileUndeclaredVariablesShareTheKey(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 2)
		const q = `query($first: Int) { properties(first: $first) { totalCount } }`
		e.ok(q, map[string]any{"first": 1, "junk": "a"}, false)
		if res := e.do(q, map[string]any{"first": 1, "junk": strings.Repeat("b", 1000)}, false); res.Header.Get("X-Cache") != "HIT" {
			t.Errorf("X-Cache %q, want HIT", res.Header.Get("X-Cache"))
		}
	})
}

// 7. Aliased introspection is bounded like any other alias.
func TestHostileIntrospectionIsBounded(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	if res := e.do(limittest.Repeated(20, "__schema { types { name } }", true), nil, false); res.code() != "TOO_MANY_ALIASES" {
		t.Errorf("%.300s", res.Raw)
	}
	if res := e.do(`{ __schema { types { name } } a: __type(name: "Query") { name } b: __type(name: "Property") { name } }`, nil, false); res.code() != "INTROSPECTION_LIMIT" {
		t.Errorf("%.300s", res.Raw)
	}
}

// 8. GraphiQL's introspection query (graphql-js getIntrospectionQuery(),
// sent byte for byte, with and without its options) loads the schema
// although it nests deeper than the depth limit.
func TestIntrospectionQueryLoadsTheSchema(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	for _, f := range []string{"testdata/introspection.graphql", "testdata/introspection-full.graphql"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data := e.ok(string(src), nil, false)
		if name := path(data, "__schema", "queryType", "name"); name != "Query" {
			t.Errorf("%s: queryType %v", f, name)
		}
	}
}

// 9. Transport errors carry extensions.code and do not echo the body.
func TestHostileBadBodiesAreDescribedNotEchoed(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	junk := strings.Repeat("A", 100_000)
	for name, body := range map[string]string{
		"not JSON":           "{" + junk,
		"query not a string": `{"query": 5, "x": "` + junk + `"}`,
		"no query":           `{"variables": {}}`,
		"trailing data":      `{"query": "{ __typename }"} ` + junk,
	} {
		rec := e.postRaw(body)
		if rec.Code != http.StatusBadRequest || rec.Body.Len() > 1024 || !strings.Contains(rec.Body.String(), `"code":"BAD_REQUEST"`) {
			t.Errorf("%s: %d %.300s", name, rec.Code, rec.Body.String())
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, rec.Header().Get("Cache-Control"))
		}
	}
	big := `{"query": "{ __typename }", "variables": {"x": "` + strings.Repeat("A", graph.DefaultMaxBodyBytes) + `"}}`
	if rec := e.postRaw(big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %.300s", rec.Code, rec.Body.String())
	}
	req := httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{}`))
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), "BAD_REQUEST") || rec.Header().Get("Allow") != "GET, POST" {
		t.Errorf("PUT: %d %s", rec.Code, rec.Body.String())
	}
	// A mutation over GET is refused with 405 (GraphQL over HTTP) before it
	// runs, whatever the caller's credentials.
	req = httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { clearCache }`), nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec = httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET mutation: %d %s", rec.Code, rec.Body.String())
	}
}

// A request that outlives its deadline answers SERVICE_UNAVAILABLE, and
// its work stops.
func TestRequestDeadline(t *testing.T) {
	e := newEnv(t, "postgres", "redis", func(o *graph.Options) { o.Timeout = 1 })
	res := e.do(`{ sentimentSummary { total } }`, nil, false)
	if res.code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("%s", res.Raw)
	}
}

// The limits apply under concurrency too: many bombs at once are all
// refused.
func TestHostileConcurrentBombs(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 8 {
		wg.Go(func() {
			rec := e.postRaw(`{"query": ` + jsonString(limittest.FragmentBomb(28, "__typename")) + `}`)
			if bytes.Contains(rec.Body.Bytes(), []byte("QUERY_TOO_COMPLEX")) {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if refused.Load() != 8 {
		t.Errorf("%d of 8 bombs refused", refused.Load())
	}
}

// 6 and 9. Client strings are bounded and checked: NUL bytes, over-long
// cities, slugs and searches, and out-of-range cursors answer
// BAD_USER_INPUT with the field, on both databases, never
// INTERNAL_SERVER_ERROR.
func TestHostileInputIsRefusedAsBadInput(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		long := strings.Repeat("x", 300_000)
		for name, c := range map[string]struct {
			query string
			vars  map[string]any
		}{
			"NUL in search":            {`query($s: String) { properties(filter: {search: $s}) { totalCount } }`, map[string]any{"s": "caf\x00e"}},
			"long search":              {`query($s: String) { properties(filter: {search: $s}) { totalCount } }`, map[string]any{"s": long}},
			"NUL in slug":              {`query($s: String) { destination(slug: $s) { id } }`, map[string]any{"s": "pantai\x00"}},
			"long slug":                {`query($s: String) { destination(slug: $s) { id } }`, map[string]any{"s": long}},
			"long city":                {`query($c: String) { sentimentSummary(city: $c) { total } }`, map[string]any{"c": long}},
			"long list city":           {`query($c: String) { properties(filter: {city: $c}) { totalCount } }`, map[string]any{"c": long}},
			"NUL in city":              {`query($c: String) { sentimentSummary(city: $c) { total } }`, map[string]any{"c": "Lang\x00kawi"}},
			"NUL in list city":         {`query($c: String) { properties(filter: {city: $c}) { totalCount } }`, map[string]any{"c": "Langkawi\x00"}},
			"NUL in destinations city": {`query($c: String) { destinations(city: $c) { totalCount } }`, map[string]any{"c": "\x00Langkawi"}},
			"NUL in ranking city":      {`query($c: String) { topDestinations(city: $c) { rank } }`, map[string]any{"c": "Lang\x00kawi"}},
			"NUL in trends city":       {`query($c: String) { trends(city: $c) { growth } }`, map[string]any{"c": "Lang\x00kawi"}},
			"cursor far away":          {`query($a: String) { properties(after: $a) { totalCount } }`, map[string]any{"a": "BE5FV0VTVP____________8B_____________wE"}},
		} {
			res := e.do(c.query, c.vars, false)
			if res.code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %.300s", name, res.Raw)
			}
		}
	})
}
