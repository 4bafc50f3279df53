package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// purgeEndpoint stands in for a CDN's purge API (the json format): it
// holds each request while gate is set (until it is closed), takes slow
// to answer it, answers 503 while failing is set,
// and records the tags of each request it accepted, the most requests in
// flight at once, and every request it was sent.
type purgeEndpoint struct {
	*httptest.Server
	slow     time.Duration
	gate     atomic.Pointer[chan struct{}]
	failing  atomic.Bool
	inFlight atomic.Int32
	maxIn    atomic.Int32
	sent     atomic.Int32

	mu       sync.Mutex
	accepted [][]string
}

func newPurgeEndpoint(t *testing.T, slow time.Duration) *purgeEndpoint {
	p := &purgeEndpoint{slow: slow}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.sent.Add(1)
		n := p.inFlight.Add(1)
		defer p.inFlight.Add(-1)
		for m := p.maxIn.Load(); n > m && !p.maxIn.CompareAndSwap(m, n); m = p.maxIn.Load() {
		}
		var body struct{ Tags []string }
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if gate := p.gate.Load(); gate != nil {
			<-*gate
		}
		time.Sleep(p.slow)
		if p.failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		p.accepted = append(p.accepted, body.Tags)
		p.mu.Unlock()
	}))
	t.Cleanup(p.Close)
	return p
}

// purged is how many accepted requests named tag.
func (p *purgeEndpoint) purged(tag string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, tags := range p.accepted {
		if slices.Contains(tags, tag) {
			n++
		}
	}
	return n
}

// waitPurged waits until n accepted requests named tag.
func (p *purgeEndpoint) waitPurged(t *testing.T, tag string, n int) {
	t.Helper()
	for range 600 {
		if p.purged(tag) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the endpoint accepted %d purges of %s, want %d", p.purged(tag), tag, n)
}

// updateEach updates the price of listings 1 to n at once and returns a
// wait for their answers: each must come without errors, and only once
// covered(tag), the accepted purges covering the listing's tag, grew
// since its write was sent.
func updateEach(t *testing.T, base string, n int, covered func(tag string) int) (wait func()) {
	var wg sync.WaitGroup
	for id := 1; id <= n; id++ {
		wg.Go(func() {
			tag := fmt.Sprintf("property:%d", id)
			before := covered(tag)
			out, _, err := request(base, "tok", map[string]any{"query": fmt.Sprintf(`mutation { updateProperty(id: "%d", input: {price: "7"}) { id } }`, id), "variables": nil})
			if err != nil {
				t.Error(err)
				return
			}
			if errs := out["errors"]; errs != nil || covered(tag) == before {
				t.Errorf("write of %s answered %v with %d accepted purges covering it, as many as before it", tag, errs, covered(tag))
			}
		})
	}
	return wg.Wait
}

// cdnServer starts a server in the CDN mode against endpoint with vars
// added, holding one listing, property 1.
func cdnServer(t *testing.T, endpoint string, vars map[string]string) string {
	t.Helper()
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "CDN_PURGE_URL": endpoint}
	for k, v := range vars {
		env[k] = v
	}
	base := startServer(t, env)
	post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "1", location: "x"}) { id } }`, nil)
	return base
}

// Public answers in the CDN mode may be kept by shared caches for their
// maxAge and name their tags, all included.
func TestCDNModeHeaders(t *testing.T) {
	base := cdnServer(t, newPurgeEndpoint(t, 0).URL, nil)
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
}

// A mutation answers only after the (slow) endpoint accepted the purge of
// its tags; a second purge of the same tags follows CDN_REPURGE_AFTER
// later, for reads that began before the write.
func TestCDNModeAcknowledgesAfterPurge(t *testing.T) {
	purge := newPurgeEndpoint(t, 300*time.Millisecond)
	base := cdnServer(t, purge.URL, map[string]string{"CDN_REPURGE_AFTER": "500ms"})
	for i := range 3 {
		before := purge.purged("property:1")
		post(t, base, "tok", fmt.Sprintf(`mutation { updateProperty(id: "1", input: {price: "%d"}) { id } }`, 10+i), nil)
		if after := purge.purged("property:1"); after <= before {
			t.Errorf("write %d acknowledged with %d accepted purges of property:1, as many as before it", i+1, after)
		}
	}
	// Each write's purge is sent a second time.
	purge.waitPurged(t, "property:1", 6)
}

// Concurrent writes: purges run concurrently and coalesce, and each write
// is acknowledged only after a purge of its own listing was accepted. The
// endpoint holds the first two purges (CDN_PURGE_CONCURRENCY=2) until the
// other writes' tags wait; they then go out together.
func TestCDNModeCoalescesConcurrentPurges(t *testing.T) {
	purge := newPurgeEndpoint(t, 0)
	base := cdnServer(t, purge.URL, map[string]string{"CDN_REPURGE_AFTER": "1h", "CDN_PURGE_CONCURRENCY": "2"})
	const writes = 12
	for range writes - 1 {
		post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "1", location: "x"}) { id } }`, nil)
	}
	gate := make(chan struct{})
	purge.gate.Store(&gate)
	sentBefore := purge.sent.Load()
	wait := updateEach(t, base, writes, purge.purged)
	// Two purges held, the other writes' tags waiting: every write has
	// invalidated (its new price is read), which is when its tags reach
	// the purger. How many writes each held purge covers depends on when
	// the two workers took their batch.
	for range 600 {
		out := post(t, base, "", `{ properties(first: 50) { edges { node { price } } } }`, nil)
		b, _ := json.Marshal(out)
		if strings.Count(string(b), `"7.00"`) == writes && purge.inFlight.Load() == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(gate)
	wait()
	sent := purge.sent.Load() - sentBefore
	t.Logf("%d concurrent writes: %d purge requests, at most %d in flight", writes, sent, purge.maxIn.Load())
	// 3: two held, then the rest together (the outbox relay's drain
	// skips the rows being delivered, so none is purged twice).
	if sent >= writes/2 || purge.maxIn.Load() != 2 {
		t.Errorf("%d writes sent %d purge requests with at most %d in flight: want fewer than %d (two held, then the rest together), 2 at once", writes, sent, purge.maxIn.Load(), writes/2)
	}
}

// An endpoint that refuses purges: the mutation answers its data with
// CDN_PURGE_PENDING after CDN_PURGE_WAIT, counted; the purge is retried,
// not dropped, and accepted once the endpoint recovers.
func TestCDNModePurgePending(t *testing.T) {
	purge := newPurgeEndpoint(t, 0)
	base := cdnServer(t, purge.URL, map[string]string{"CDN_PURGE_WAIT": "1s"})
	purge.failing.Store(true)
	out, _ := send(t, base, "tok", `mutation { updateProperty(id: "1", input: {price: "9"}) { price } }`, nil)
	errs, _ := out["errors"].([]any)
	data, _ := out["data"].(map[string]any)
	if len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "CDN_PURGE_PENDING" || data["updateProperty"] == nil {
		t.Fatalf("answer while the endpoint refuses purges: %v", out)
	}
	if n := metric(t, base, "kedahpulse_cdn_purge_pending_writes_total"); n != 1 {
		t.Errorf("pending writes counted %v, want 1", n)
	}
	purge.failing.Store(false)
	purge.waitPurged(t, "property:1", 1)
	if n := metric(t, base, `kedahpulse_cdn_purge_requests_total{result="failed"}`); n < 1 {
		t.Errorf("failed purge requests counted %v, want at least 1", n)
	}
}

// More tags waiting than CDN_PURGE_QUEUE (writes coming in while the one
// purge allowed in flight is slow): the waiting purge becomes a purge of
// every answer (tag all), counted, and every write is acknowledged once a
// purge covering it is accepted.
func TestCDNModeQueueOverflowPurgesAll(t *testing.T) {
	purge := newPurgeEndpoint(t, 300*time.Millisecond)
	base := cdnServer(t, purge.URL, map[string]string{"CDN_PURGE_QUEUE": "2", "CDN_PURGE_CONCURRENCY": "1", "CDN_REPURGE_AFTER": "1h"})
	const writes = 6
	for range writes - 1 {
		post(t, base, "tok", `mutation { createProperty(input: {title: "A", description: "d", price: "1", location: "x"}) { id } }`, nil)
	}
	before := purge.purged("all")
	updateEach(t, base, writes, func(tag string) int { return purge.purged(tag) + purge.purged("all") })()
	if purge.purged("all") <= before {
		t.Errorf("%d writes behind one slow purge: no purge of all", writes)
	}
	if n := metric(t, base, "kedahpulse_cdn_purge_overflows_total"); n < 1 {
		t.Errorf("overflows counted %v, want at least 1", n)
	}
}

// A write's second purge, due CDN_REPURGE_AFTER later, is sent when the
// server stops before it is due: a stop between a write and its second
// purge left whatever a read that began before the write put in the CDN.
func TestCDNModeShutdownSendsWaitingPurges(t *testing.T) {
	purge := newPurgeEndpoint(t, 0)
	var acked int
	t.Run("serve", func(t *testing.T) {
		base := cdnServer(t, purge.URL, map[string]string{"CDN_REPURGE_AFTER": "1h"})
		post(t, base, "tok", `mutation { updateProperty(id: "1", input: {price: "7"}) { id } }`, nil)
		acked = purge.purged("property:1")
	}) // the server stops here
	if n := purge.purged("property:1"); n <= acked {
		t.Errorf("property:1 purged %d times after the shutdown, as many as when its write was acknowledged: its second purge was lost", n)
	}
}
