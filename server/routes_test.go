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

// Shared caches and tracing: with a list of origins, an answer that
// reflects the origin varies on it (so a shared cache never hands origin
// A's answer to origin B), a preflight for any header (tracing headers,
// custom ones) is allowed, and ETag and Age are readable by the page.
func TestCORSForSharedCachesAndTracing(t *testing.T) {
	base := startServer(t, map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"),
		"CORS_ORIGINS": "http://a.example,http://b.example",
	})
	req, _ := http.NewRequest(http.MethodOptions, base+"/graphql", nil)
	req.Header.Set("Origin", "http://a.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,sentry-trace,traceparent,x-custom")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"traceparent", "sentry-trace", "x-custom", "content-type"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight for %s: %d, Allow-Headers %q", h, resp.StatusCode, allowed)
		}
	}
	for range 2 { // a miss, then a hit
		req, _ = http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ destinations(first: 1) { totalCount } }"}`))
		req.Header.Set("Origin", "http://a.example")
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "http://a.example" || resp.Header.Get("ETag") == "" {
			t.Fatalf("POST %s: Allow-Origin %q, ETag %q", resp.Header.Get("X-Cache"), resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("ETag"))
		}
		if vary := strings.Join(resp.Header.Values("Vary"), ", "); !strings.Contains(vary, "Origin") {
			t.Errorf("POST %s reflects the origin with Vary %q: a shared cache may hand it to another origin", resp.Header.Get("X-Cache"), vary)
		}
		exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
		for _, h := range []string{"etag", "age", "x-cache"} {
			if !strings.Contains(exposed, h) {
				t.Errorf("POST %s: Expose-Headers %q lacks %s", resp.Header.Get("X-Cache"), exposed, h)
			}
		}
	}
}
