package respcache_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// The counts hold at most Capacity requests whatever the traffic, skip
// requests too large to keep, and a request sent often stays on top
// through a flood of distinct ones.
func TestWarmerCountsAreBounded(t *testing.T) {
	const capacity = 1000
	w := respcache.NewWarmer(respcache.WarmOptions{Capacity: capacity})
	hot := []byte(`{"hot":true}`)
	for i := range 100_000 {
		w.Count("doc", "{ sentimentSummary { total } }", []byte(`{"i":`+strconv.Itoa(i)+`}`), "all,analytics")
		if i%10 == 0 {
			w.Count("doc", "{ sentimentSummary { total } }", hot, "all,analytics")
		}
		if got := w.Stats().Tracked; got > capacity {
			t.Fatalf("after %d requests: %d tracked, above the capacity %d", i+1, got, capacity)
		}
	}
	if got := w.Stats().Tracked; got != capacity {
		t.Errorf("tracked %d, want the capacity %d", got, capacity)
	}
	if top := w.Picked("analytics"); len(top) != respcache.DefaultWarmTop || top[0] != string(hot) {
		t.Errorf("picked %d, first %q; want %d with the hot request first", len(top), top[0], respcache.DefaultWarmTop)
	}
	if got := w.Picked("destination:1:analytics"); len(got) != 0 {
		t.Errorf("picked %d requests for a tag none carries", len(got))
	}

	w = respcache.NewWarmer(respcache.WarmOptions{})
	w.Count("doc", strings.Repeat(" ", respcache.DefaultWarmMaxBytes), nil, "analytics")
	w.Count("doc", "{ properties { totalCount } }", nil, "all,properties")
	if got := w.Stats().Tracked; got != 0 {
		t.Errorf("tracked %d; want none (too large, and not analytics)", got)
	}
}

// replayCounter answers replays as a fresh fill, each taking step on the
// clock it advances, and counts them.
type replayCounter struct {
	mu    sync.Mutex
	now   time.Time
	step  time.Duration
	calls int
}

func (c *replayCounter) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *replayCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.now = c.now.Add(c.step)
	c.calls++
	c.mu.Unlock()
	w.Header().Set("X-Cache", "MISS")
	w.Header().Set("Cache-Control", "public, no-cache")
	w.Write([]byte(`{"data":{}}`))
}

// A round spends at most its budget replaying: with 10 requests of 300 ms
// each and a budget of 1 s, it replays 4 and skips 6. Replays whose last
// fill took longer than MaxFill are not replayed at all. An ingest after
// clients repeated expensive analytics used to replay every one of them
// (7 s of CPU for three requests sent twice).
func TestWarmerRoundsKeepTheirBudget(t *testing.T) {
	h := &replayCounter{now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), step: 300 * time.Millisecond}
	w := respcache.NewWarmer(respcache.WarmOptions{Concurrency: 1, Budget: time.Second, MaxFill: 500 * time.Millisecond,
		Now: h.Now, Logger: slog.New(slog.DiscardHandler)})
	for i := range 12 {
		vars := []byte(`{"i":` + strconv.Itoa(i) + `}`)
		w.Count("doc", "{ trends { growth } }", vars, "all,analytics")
		if i >= 10 { // filled at great cost: 2 s each
			w.Filled("doc", vars, 2*time.Second)
		}
	}
	w.Round(context.Background(), h, "analytics")
	s := w.Stats()
	if h.calls != 4 || s.Replayed != 4 || s.OverBudget != 6 || s.Costly != 2 || s.Spent != 1200*time.Millisecond {
		t.Errorf("replays %d, stats %+v; want 4 replayed (1.2 s spent), 6 over the budget and 2 too costly", h.calls, s)
	}
	// The replays' own durations are remembered: a request replayed in
	// more than MaxFill drops out of the next round.
	h.step = time.Second
	w.Round(context.Background(), h, "analytics")
	if s := w.Stats(); h.calls != 5 || s.Costly != 2+2 {
		t.Errorf("a round of 1 s replays: %d replays, stats %+v; want one replay (the budget spent) and the 2 costly left out", h.calls, s)
	}
	w.Round(context.Background(), h, "analytics")
	if s := w.Stats(); h.calls != 6 || s.Costly != 2+2+3 {
		t.Errorf("the next round: %d replays, stats %+v; want one more, and the request replayed in 1 s left out too", h.calls, s)
	}
}
