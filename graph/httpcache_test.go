package graph_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// HTTP caches cannot go stale: a cacheable answer says no-cache (store,
// but revalidate before each reuse) with a strong ETag; revalidating an
// unchanged answer costs a 304 without a body, on a hit as on a miss;
// after a write, the same ETag gets the new answer. Hits say how old they
// are.
func TestHTTPCachesRevalidate(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 1)
		const q = `{"query": "{ properties(first: 5) { edges { node { id title } } } }"}`
		get := func(etag string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(q))
			req.Header.Set("Content-Type", "application/json")
			if etag != "" {
				req.Header.Set("If-None-Match", etag)
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			return rec
		}
		first := get("")
		etag := first.Header().Get("ETag")
		if first.Code != http.StatusOK || etag == "" || first.Header().Get("Cache-Control") != "public, no-cache" ||
			!strings.Contains(first.Header().Get("Vary"), "Accept") {
			t.Fatalf("first answer: %d %v", first.Code, first.Header())
		}
		hit := get("")
		if hit.Header().Get("X-Cache") != "HIT" || hit.Header().Get("ETag") != etag || hit.Header().Get("Age") == "" {
			t.Errorf("hit: %v", hit.Header())
		}
		if rec := get(etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Errorf("revalidation of an unchanged answer: %d, %d bytes, %v", rec.Code, rec.Body.Len(), rec.Header())
		}
		if rec := get(`"other", W/` + etag); rec.Code != http.StatusNotModified {
			t.Errorf("If-None-Match list: %d", rec.Code)
		}
		e.ok(`mutation($id: ID!) { updateProperty(id: $id, input: {title: "Renamed"}) { id } }`, map[string]any{"id": sid(f.props[0].ID)}, true)
		after := get(etag)
		if after.Code != http.StatusOK || !strings.Contains(after.Body.String(), "Renamed") || after.Header().Get("ETag") == etag {
			t.Errorf("revalidation after a write: %d %s", after.Code, after.Body.String())
		}
		// Errors and mutations are never stored by anyone.
		if res := e.do(`mutation { clearCache }`, nil, true); res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("ETag") != "" {
			t.Errorf("mutation: %v", res.Header)
		}
	})
}

// A strong ETag names one representation: the application/json and the
// application/graphql-response+json answers of one query get different
// ETags, each revalidates to 304 only for its own representation, and a
// Vary set before (rs/cors's Origin) is kept beside the level's own.
func TestETagPerRepresentation(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	newFixture(t, e, 1)
	const q = `{"query": "{ properties(first: 5) { edges { node { id title } } } }"}`
	get := func(accept, etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		rec.Header().Set("Vary", "Origin") // as rs/cors sets it before the handler
		e.handler.ServeHTTP(rec, req)
		return rec
	}
	const jsonMedia, gqlMedia = "application/json", "application/graphql-response+json"
	for _, xCache := range []string{"MISS", "HIT"} {
		j, g := get(jsonMedia, ""), get(gqlMedia, "")
		je, ge := j.Header().Get("ETag"), g.Header().Get("ETag")
		if je == "" || ge == "" || je == ge || strings.HasPrefix(je, "W/") || strings.HasPrefix(ge, "W/") {
			t.Errorf("%s: ETags %q (json) and %q (graphql-response): want two different strong ETags", xCache, je, ge)
		}
		if c := get(jsonMedia, je).Code; c != http.StatusNotModified {
			t.Errorf("%s: json revalidated with its ETag: %d, want 304", xCache, c)
		}
		if c := get(gqlMedia, ge).Code; c != http.StatusNotModified {
			t.Errorf("%s: graphql-response revalidated with its ETag: %d, want 304", xCache, c)
		}
		if c := get(gqlMedia, je).Code; c != http.StatusOK {
			t.Errorf("%s: graphql-response revalidated with the json ETag: %d, want 200", xCache, c)
		}
		vary := strings.Join(j.Header().Values("Vary"), ", ")
		for _, want := range []string{"Origin", "Accept", "Authorization"} {
			if !strings.Contains(vary, want) {
				t.Errorf("%s: Vary %q lacks %s", xCache, vary, want)
			}
		}
	}
}
