package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

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
