package respcache_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// Replay sends what both of its callers (the Warmer, graph/live) need: a
// JSON POST with the request's fields, the Authorization only when given,
// and hands back the status, headers and, when asked, the body.
func TestReplay(t *testing.T) {
	type seen struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		auth, ctype   string
		method, path  string
		marked        bool
	}
	type marker struct{}
	var got seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type"), method: r.Method, path: r.URL.Path}
		got.marked, _ = r.Context().Value(marker{}).(bool)
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		w.Header().Set("X-Cache", "MISS")
		if got.auth == "" {
			w.Write([]byte(`{"data":{}}`)) // no WriteHeader: 200
			return
		}
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errors":[]}`))
	})
	ctx := context.WithValue(context.Background(), marker{}, true)

	a, err := respcache.Replay(ctx, h, respcache.ReplayRequest{Query: "{ a }", KeepBody: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusOK || string(a.Body) != `{"data":{}}` || a.Header.Get("X-Cache") != "MISS" {
		t.Errorf("anonymous: %d %q %v", a.Status, a.Body, a.Header)
	}
	if got.method != http.MethodPost || got.path != "/graphql" || got.ctype != "application/json" || got.auth != "" ||
		got.Query != "{ a }" || string(got.Variables) != "null" || !got.marked {
		t.Errorf("anonymous request: %+v", got)
	}

	a, err = respcache.Replay(ctx, h, respcache.ReplayRequest{Query: "query Q($x: Int) { a(x: $x) }", OperationName: "Q",
		Variables: json.RawMessage(`{"x":1}`), Authorization: "Bearer t"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusForbidden || a.Body != nil {
		t.Errorf("with a token, body not kept: %d %q", a.Status, a.Body)
	}
	if got.auth != "Bearer t" || got.OperationName != "Q" || string(got.Variables) != `{"x":1}` {
		t.Errorf("request with a token: %+v", got)
	}

	if _, err := respcache.Replay(ctx, h, respcache.ReplayRequest{Query: "{ a }", Variables: json.RawMessage(`{`)}); err == nil {
		t.Error("variables that are not JSON: no error")
	}
}
