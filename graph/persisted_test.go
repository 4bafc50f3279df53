package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// Automatic persisted queries, the protocol Apollo Client's
// persisted-queries link speaks: an unknown hash gets
// PERSISTED_QUERY_NOT_FOUND, the retry with the text is answered and
// remembered, and from then on the hash alone works, over POST and GET,
// through any handler sharing the store.
func TestPersistedQueries(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 2)
		const query = `{ properties(first: 1) { totalCount } }`
		sum := sha256.Sum256([]byte(query))
		hash := hex.EncodeToString(sum[:])
		ext := `"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + hash + `"}}`

		if rec := e.postRaw(`{` + ext + `}`); !strings.Contains(rec.Body.String(), "PERSISTED_QUERY_NOT_FOUND") || rec.Code != http.StatusOK {
			t.Fatalf("unknown hash: %d %s", rec.Code, rec.Body.String())
		}
		if rec := e.postRaw(`{"query": "` + query + `", ` + ext + `}`); !strings.Contains(rec.Body.String(), `"totalCount":2`) {
			t.Fatalf("hash with its text: %s", rec.Body.String())
		}
		if rec := e.postRaw(`{` + ext + `}`); !strings.Contains(rec.Body.String(), `"totalCount":2`) {
			t.Fatalf("known hash over POST: %s", rec.Body.String())
		}
		get := httptest.NewRequest(http.MethodGet, "/graphql?extensions="+url.QueryEscape(`{"persistedQuery": {"version": 1, "sha256Hash": "`+hash+`"}}`), nil)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, get)
		if !strings.Contains(rec.Body.String(), `"totalCount":2`) {
			t.Fatalf("known hash over GET: %s", rec.Body.String())
		}
		// Another process: its own Cache on the same store.
		other := *e.resolver
		other.Cache = cache.New(e.cache.Store(), cache.Options{Backend: "OTHER", LocalBytes: cache.DefaultLocalBytes, Compress: true})
		if res := e.doWithBody(graph.NewHandler(&other, graph.Options{Persisted: e.texts}), `{`+ext+`}`); !strings.Contains(res, `"totalCount":2`) {
			t.Errorf("another process sharing the store: %s", res)
		}
		for name, body := range map[string]string{
			"wrong hash":   `{"query": "{ __typename }", ` + ext + `}`,
			"invalid hash": `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + strings.Repeat("z", 5000) + `"}}}`,
			"long text":    `{"query": "{ __typename ` + strings.Repeat(" ", 20_000) + `}", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + hash + `"}}}`,
		} {
			if rec := e.postRaw(body); strings.Contains(rec.Body.String(), `"data"`) {
				t.Errorf("%s: answered %s", name, rec.Body.String())
			}
		}
	})
}

// persistedBody is a request body of text with its persisted-query hash
// (the text left out when hashOnly).
func persistedBody(text string, hashOnly bool) string {
	sum := sha256.Sum256([]byte(text))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	req := map[string]any{"extensions": ext}
	if !hashOnly {
		req["query"] = text
	}
	body, _ := json.Marshal(req)
	return string(body)
}

// A text is registered only once its document parsed, passed the limits
// and validated: after each refused one, its hash alone still answers
// PERSISTED_QUERY_NOT_FOUND (it used to answer "no operation provided" for
// 24 h after a 14,900-character comment).
func TestPersistedQueriesRegisterOnlyPrepared(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		for name, text := range map[string]string{
			"comment only":   "#" + strings.Repeat("a", 14_900),
			"parse error":    "{ properties(first: 1) { totalCount }",
			"invalid":        "{ nope }",
			"over the limit": "{ " + strings.Repeat("a: __typename ", 60) + "}",
		} {
			rec := e.postRaw(persistedBody(text, false))
			if strings.Contains(rec.Body.String(), `"data"`) {
				t.Errorf("%s: answered %s", name, rec.Body.String())
			}
			if rec := e.postRaw(persistedBody(text, true)); !strings.Contains(rec.Body.String(), "PERSISTED_QUERY_NOT_FOUND") {
				t.Errorf("%s: its hash alone answers %s; want PERSISTED_QUERY_NOT_FOUND", name, rec.Body.String())
			}
		}
		const valid = "{ __typename }"
		e.postRaw(persistedBody(valid, false))
		if rec := e.postRaw(persistedBody(valid, true)); !strings.Contains(rec.Body.String(), `"__typename":"Query"`) {
			t.Errorf("a valid text was not registered: %s", rec.Body.String())
		}
	})
}

// Registered texts live in a budget of their own: on the in-process cache,
// 5,000 junk registrations (each a valid document of 1 KB, 5 MB in all,
// five times the cache) leave 40 of 40 warm answers hits. They used to
// share the cache's store, where texts outlived every answer and so
// evicted them first.
func TestPersistedFloodKeepsAnswers(t *testing.T) {
	dbStore, clock := dbtest.Open(t, "sqlite")
	e := newEnvOn(t, dbStore, clock, cache.NewMemoryStore(cache.MemoryLimits{MaxBytes: 1 << 20}))
	newFixture(t, e, 2)
	warm := func(i int) string { return fmt.Sprintf("{ properties(first: %d) { totalCount } }", i+1) }
	for i := range 40 {
		if r := e.do(warm(i), nil, false); len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
	}
	pad := strings.Repeat("x", 1000)
	for i := range 5000 {
		if rec := e.postRaw(persistedBody(fmt.Sprintf("# %s\nquery J%d { __typename }", pad, i), false)); rec.Code != http.StatusOK {
			t.Fatalf("junk %d: %d %s", i, rec.Code, rec.Body.String())
		}
	}
	if m, ok := e.texts.(*gqlhttp.MemoryTexts); !ok || m.Bytes() > gqlhttp.DefaultTextBytes {
		t.Errorf("texts %T hold more than their budget", e.texts)
	}
	hits := 0
	for i := range 40 {
		if r := e.do(warm(i), nil, false); r.Header.Get("X-Cache") == "HIT" {
			hits++
		}
	}
	if hits != 40 {
		t.Errorf("%d of 40 warm answers hit after the flood; want 40", hits)
	}
}

// doWithBody posts a raw body to h.
func (e *env) doWithBody(h http.Handler, body string) string {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}
