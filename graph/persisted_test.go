package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph"
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
		if res := e.doWithBody(graph.NewHandler(&other, graph.Options{}), `{`+ext+`}`); !strings.Contains(res, `"totalCount":2`) {
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

// doWithBody posts a raw body to h.
func (e *env) doWithBody(h http.Handler, body string) string {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}
