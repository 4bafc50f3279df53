package graph_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzRequest posts arbitrary bodies (and the same text as a GET query) to
// the real handler on SQLite and the in-process cache: it must never panic
// or hang, must answer JSON with an extensions.code on every error, and
// must never answer 5xx for a client's mistake. Its seed corpus runs as an
// ordinary test; fuzz with go test -fuzz FuzzRequest ./graph/.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		`{"query": "{ properties(first: 2) { totalCount edges { node { id title price } } } }"}`,
		`{"query": "query L($city: String, $first: Int) { properties(filter: {city: $city}, first: $first) { totalCount } }", "variables": {"city": "Nowhere"}, "variables": {"first": 5}}`,
		`{"query": "{ sentimentSummary(city: \"c0\") { total } sentimentSummary(city: \"c1\") { total } }"}`,
		`{"query": "query Q { ...F0 } fragment F0 on Query { ...F1 ...F1 } fragment F1 on Query { __typename }"}`,
		`{"query": "{ a: __schema { types { name } } b: __schema { types { name } } }"}`,
		`{"query": "{ properties(filter: {search: \"caf\u00e9\u0000\"}) { totalCount } }"}`,
		`{"query": "{ destination(slug: \"\u0000\") { id } }"}`,
		`{"query": "{ properties(after: \"AAAAAAAAAAAAAAAAAAAAAAAA\") { totalCount } }"}`,
		`{"query": "mutation { clearCache }"}`,
		`{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x"}}}`,
		`{"query": "{ destination(id: \"99999999999999999999\") { name } }"}`,
		`{"query": "query($n: Int) { properties(first: $n) { totalCount } }", "variables": {"n": 1e400}}`,
		`{"query": 5}`, `{"query": null}`, `[]`, `{`, ``, `null`, `"{ __typename }"`,
		`{"query": "{ __typename }", "operationName": "Nope"}`,
		`{"query": "query A { __typename } query B { __typename }"}`,
	} {
		f.Add(seed)
	}
	e := newEnv(f, "sqlite", "memory")
	f.Fuzz(func(t *testing.T, body string) {
		check := func(rec *httptest.ResponseRecorder, how string) {
			if rec.Code >= 500 {
				t.Fatalf("%s %q: status %d: %s", how, body, rec.Code, rec.Body.String())
			}
			var resp struct {
				Errors []struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("%s %q: the answer is not JSON: %q", how, body, rec.Body.String())
			}
			for _, e := range resp.Errors {
				if code, _ := e.Extensions["code"].(string); code == "" || code == "INTERNAL_SERVER_ERROR" {
					t.Fatalf("%s %q: error without a client code: %s", how, body, rec.Body.String())
				}
			}
		}
		check(e.postRaw(body), "POST")
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(body), nil)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		check(rec, "GET")
	})
}
