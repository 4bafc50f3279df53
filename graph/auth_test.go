package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// Admin fields and every mutation need the admin token; without it nothing
// changes.
func TestAdminOnly(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 1)
		for _, q := range []string{
			`mutation($id: ID!) { updateProperty(id: $id, input: {title: "Hacked"}) { id } }`,
			`mutation($id: ID!) { deleteProperty(id: $id) }`,
			`{ cacheStats { hits } }`,
			`{ scrapeRuns { id } }`,
			`mutation { clearCache }`,
		} {
			res := e.do(q, map[string]any{"id": sid(f.props[0].ID)}, false)
			if res.code() != "UNAUTHENTICATED" {
				t.Errorf("%s without token: code %q, want UNAUTHENTICATED (%s)", q, res.code(), res.Raw)
			}
		}
		got := e.ok(`query($id: ID!) { property(id: $id) { title } }`, map[string]any{"id": sid(f.props[0].ID)}, false)
		if path(got, "property", "title") != f.props[0].Title {
			t.Errorf("an unauthenticated mutation changed data: %v", got)
		}
	})
}

// A refused admin field is null, and its type is non-null, so the null
// propagates to data (GraphQL spec, "Handling Execution Errors") and the
// error names the field's path. A wrong token is told apart from a
// missing one.
func TestAdminRefusalIsSpecExact(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	newFixture(t, e, 1)
	for _, c := range []struct {
		name, query, token string
		path               []any
		message            string
	}{
		{"cacheStats without token", `{ cacheStats { hitRatio } destinations(first: 1) { totalCount } }`, "", []any{"cacheStats"}, "admin token required"},
		{"scrapeRuns without token", `{ destinations(first: 1) { totalCount } runs: scrapeRuns { id } }`, "", []any{"runs"}, "admin token required"},
		{"cacheStats with a wrong token", `{ cacheStats { hitRatio } }`, "wrong", []any{"cacheStats"}, "admin token rejected"},
		{"mutation with a wrong token", `mutation { clearCache }`, "wrong", []any{"clearCache"}, "admin token rejected"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": c.query})
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			var res struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Path       []any          `json:"path"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatalf("decode %q: %v", rec.Body.String(), err)
			}
			if string(res.Data) != "null" {
				t.Errorf("data %s, want null (the refused field is non-null): %s", res.Data, rec.Body.String())
			}
			if len(res.Errors) != 1 {
				t.Fatalf("%d errors, want 1: %s", len(res.Errors), rec.Body.String())
			}
			got := res.Errors[0]
			if !reflect.DeepEqual(got.Path, c.path) {
				t.Errorf("path %v, want %v", got.Path, c.path)
			}
			if got.Extensions["code"] != "UNAUTHENTICATED" {
				t.Errorf("code %v, want UNAUTHENTICATED", got.Extensions["code"])
			}
			if !strings.HasPrefix(got.Message, c.message) {
				t.Errorf("message %q, want it to start with %q", got.Message, c.message)
			}
		})
	}
}
