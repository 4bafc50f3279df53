package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// purgeEndpoint stands in for a CDN's purge API: it records the tags it is
// sent, failing the first failures requests and holding every request
// until hold is closed.
type purgeEndpoint struct {
	*httptest.Server
	mu       sync.Mutex
	tags     [][]string
	requests int
	failures int
	hold     chan struct{}
	got      chan struct{}
}

func newPurgeEndpoint(t *testing.T, failures int) *purgeEndpoint {
	p := &purgeEndpoint{failures: failures, hold: make(chan struct{}), got: make(chan struct{}, 100)}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-p.hold
		var body struct{ Tags []string }
		json.NewDecoder(r.Body).Decode(&body)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.requests++
		if p.requests <= p.failures {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		p.tags = append(p.tags, body.Tags)
		p.got <- struct{}{}
	}))
	t.Cleanup(p.Close)
	return p
}

// The opt-in CDN mode: public answers may be kept by shared caches for
// their maxAge and name their tags; every invalidation is pushed to the
// purge endpoint, retried when it fails, and never waited for by the
// mutation.
func TestCDNMode(t *testing.T) {
	purge := newPurgeEndpoint(t, 2)
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "CDN_PURGE_URL": purge.URL})
	post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "1", location: "x"}) { id } }`, nil)
	read := base + "/graphql?query=" + url.QueryEscape(`{ properties(first: 5) { totalCount } }`)
	for _, want := range []string{"MISS", "HIT"} {
		resp, err := http.Get(read)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		tags := strings.Split(resp.Header.Get("Cache-Tag"), ",")
		if resp.Header.Get("X-Cache") != want || resp.Header.Get("Cache-Control") != "public, max-age=0, s-maxage=900" ||
			!slices.Contains(tags, "properties") || !slices.Contains(tags, "all") {
			t.Errorf("%s: %v", want, resp.Header)
		}
	}
	// The endpoint holds every request: the mutation answers anyway.
	post(t, base, "tok", `mutation { updateProperty(id: "1", input: {title: "B"}) { id } }`, nil)
	close(purge.hold)
	select {
	case <-purge.got:
	case <-time.After(30 * time.Second):
		t.Fatal("no purge reached the endpoint")
	}
	purge.mu.Lock()
	defer purge.mu.Unlock()
	if purge.requests < 3 || !slices.ContainsFunc(purge.tags, func(tags []string) bool { return slices.Contains(tags, "property:1") }) {
		t.Errorf("after %d requests the endpoint recorded %v, want the write's tags after two failures", purge.requests, purge.tags)
	}
}
