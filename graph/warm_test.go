package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// backends are the storage dialects and cache stores warming is tested on.
var backends = []struct{ dialect, backend string }{{"sqlite", "memory"}, {"postgres", "redis"}}

// newWarmEnv builds an env whose handler counts requests in a Warmer fed by
// the cache's invalidations, with the Warmer's loop running until the test
// ends. It returns a nil Warmer and a plain env when warm is false.
func newWarmEnv(t *testing.T, dialect, backend string, warm bool) (*env, *respcache.Warmer) {
	t.Helper()
	if !warm {
		return newEnv(t, dialect, backend), nil
	}
	var logTo io.Writer = io.Discard
	if testing.Verbose() {
		logTo = os.Stderr
	}
	w := respcache.NewWarmer(respcache.WarmOptions{Logger: slog.New(slog.NewTextHandler(logTo, nil))})
	e := newEnv(t, dialect, backend, func(o *graph.Options) { o.Warmer = w })
	startWarmer(t, e, w)
	return e, w
}

// startWarmer feeds e's invalidations to w and runs w until the test ends.
func startWarmer(t *testing.T, e *env, w *respcache.Warmer) {
	hook := w.Invalidated
	e.invalidated.Store(&hook)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// settle waits for w's queued and running rounds (nothing on a nil w).
func settle(t *testing.T, w *respcache.Warmer) {
	t.Helper()
	if w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("warming did not finish: %v", err)
	}
}

// ingest stores n new posts about dest through the API, as the scraper's
// runs and ingestPosts do: it invalidates the analytics tags.
func ingest(t *testing.T, e *env, dest int64, n int, batch string) {
	t.Helper()
	var posts []map[string]any
	for i := range n {
		posts = append(posts, map[string]any{"source": "warm", "externalId": batch + "-" + strconv.Itoa(i),
			"text": "Best gila, sangat cantik!", "postedAt": e.clock.Now().Add(-time.Hour).Format(time.RFC3339),
			"destinationId": sid(dest)})
	}
	d := e.ok(`mutation($p: [PostInput!]!) { ingestPosts(posts: $p) { stored } }`, map[string]any{"p": posts}, true)
	if got := path(d, "ingestPosts", "stored"); got != float64(n) {
		t.Fatalf("stored %v posts, want %d", got, n)
	}
}

const summaryQuery = `{ sentimentSummary { total positive } }`

func total(d map[string]any) int {
	n, _ := path(d, "sentimentSummary", "total").(float64)
	return int(n)
}

// After an ingest invalidates analytics, the next request of a hot
// dashboard query is a response-level hit with warming, with the new
// figures, and a miss without.
func TestWarmingMakesTheRequestAfterAnIngestAHit(t *testing.T) {
	for _, b := range backends {
		for _, warm := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s+%s/warm=%v", b.dialect, b.backend, warm), func(t *testing.T) {
				e, w := newWarmEnv(t, b.dialect, b.backend, warm)
				f := newFixture(t, e, 3)
				var before int
				for range 3 {
					before = total(e.ok(summaryQuery, nil, false))
				}
				ingest(t, e, f.dests[0].ID, 2, "a")
				settle(t, w)
				res := e.do(summaryQuery, nil, false)
				want := map[bool]string{true: "HIT", false: "MISS"}[warm]
				if got := res.Header.Get("X-Cache"); got != want {
					t.Errorf("X-Cache after the ingest = %q, want %s", got, want)
				}
				if got := total(res.Data); got != before+2 {
					t.Errorf("total after the ingest = %d, want %d", got, before+2)
				}
				if w != nil {
					if s := w.Stats(); s.Rounds != 1 || s.Replayed != 1 || s.Failed != 0 {
						t.Errorf("stats = %+v, want one round replaying one request", s)
					}
				}
			})
		}
	}
}

// A warm fill that read the database before a newer write committed, and
// stores its answer after the write's invalidation, never validates: the
// write's own round replays the request again, and the next request gets
// the newer answer.
func TestWarmFillRacingAWriteIsNeverServed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.dialect+"+"+b.backend, func(t *testing.T) {
			e, w := newWarmEnv(t, b.dialect, b.backend, true)
			f := newFixture(t, e, 3)
			var before int
			for range 3 {
				before = total(e.ok(summaryQuery, nil, false))
			}
			g := newGate("response|") // holds the first warm fill between its database read and its write
			e.gate.Store(g)
			defer e.gate.Store(nil)
			ingest(t, e, f.dests[0].ID, 1, "a")
			select {
			case <-g.reached:
			case <-time.After(time.Minute):
				t.Fatal("the warm fill never reached the cache write")
			}
			ingest(t, e, f.dests[1].ID, 2, "b") // commits and invalidates while the fill holds the older answer
			close(g.release)
			settle(t, w)

			res := e.do(summaryQuery, nil, false)
			if got := total(res.Data); got != before+3 {
				t.Fatalf("total = %d after both writes, want %d: the racing warm fill was served", got, before+3)
			}
			if got := res.Header.Get("X-Cache"); got != "HIT" {
				t.Errorf("X-Cache = %q, want HIT (the second round warmed it)", got)
			}
			// Had the first fill validated, the second round's replay would
			// have been a hit ("fresh").
			if s := w.Stats(); s.Rounds != 2 || s.Replayed != 2 || s.Fresh != 0 || s.Failed != 0 {
				t.Errorf("stats = %+v, want two rounds that each stored a fill", s)
			}
		})
	}
}

// An answer whose scope is PRIVATE is never counted, so never replayed
// (a replay is anonymous and would store nothing useful, or worse).
func TestWarmerNeverReplaysPrivateAnswers(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "type Destination @cacheControl(maxAge: 43200)", "type Destination @cacheControl(maxAge: 43200, scope: PRIVATE)", 1)
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: text})
	if gerr != nil {
		t.Fatal(gerr)
	}
	for _, b := range backends {
		t.Run(b.dialect+"+"+b.backend, func(t *testing.T) {
			e := newEnv(t, b.dialect, b.backend)
			w := respcache.NewWarmer(respcache.WarmOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			e.resolver.Policy = cachecontrol.New(schema) // Property.destination takes Destination's PRIVATE scope
			e.handler = graph.NewHandler(e.resolver, graph.Options{AdminToken: adminToken, Warmer: w})
			startWarmer(t, e, w)
			f := newFixture(t, e, 3)

			private := `query($id: ID!) { property(id: $id) { destination { sentiment { total } } } }`
			vars := map[string]any{"id": sid(f.props[0].ID)}
			for range 3 {
				res := e.do(private, vars, false)
				if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
					t.Fatalf("Cache-Control = %q: the query is not PRIVATE", cc)
				}
			}
			for range 3 {
				e.ok(summaryQuery, nil, false) // a public one, as a control
			}
			if got := w.Stats().Tracked; got != 1 {
				t.Fatalf("tracked %d requests, want 1 (the public one only)", got)
			}
			ingest(t, e, f.dests[0].ID, 1, "a") // the property's destination: its analytics tag
			settle(t, w)
			if s := w.Stats(); s.Replayed+s.Fresh+s.Failed != 1 {
				t.Errorf("stats = %+v, want the public request replayed, and it alone", s)
			}
			if got := e.do(private, vars, false).Header.Get("X-Cache"); got != "MISS" {
				t.Errorf("private X-Cache after the ingest = %q, want MISS (not warmed)", got)
			}
		})
	}
}

// dashboard is the workload of an analytics dashboard: the ranking, the
// global and one city's summary, the trends, and each destination's
// sentiment.
func dashboard(f *fixture) []struct {
	query string
	vars  map[string]any
} {
	w := []struct {
		query string
		vars  map[string]any
	}{
		{`{ topDestinations(limit: 10) { rank mentions averageScore destination { id name } } }`, nil},
		{`{ sentimentSummary { total positive neutral negative averageScore } }`, nil},
		{`{ sentimentSummary(city: "Langkawi") { total averageScore } }`, nil},
		{`{ trends(limit: 5) { mentions growth destination { id } series { mentions } } }`, nil},
	}
	for _, d := range f.dests {
		w = append(w, struct {
			query string
			vars  map[string]any
		}{`query($id: ID) { destination(id: $id) { name sentiment { total averageScore } } }`, map[string]any{"id": sid(d.ID)}})
	}
	return w
}

// The dashboard's response-level hit ratio in the pass after an ingest,
// with and without warming: run the workload until warm, ingest posts
// about one destination, let warming finish, then run one pass.
func TestWarmingHitRatioAcrossAnIngest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.dialect+"+"+b.backend, func(t *testing.T) {
			hits := map[bool]int{}
			for _, warm := range []bool{false, true} {
				e, w := newWarmEnv(t, b.dialect, b.backend, warm)
				f := newFixture(t, e, 3)
				work := dashboard(f)
				pass := func() (hit int) {
					for _, r := range work {
						res := e.do(r.query, r.vars, false)
						if len(res.Errors) > 0 {
							t.Fatalf("%s: %s", r.query, res.Raw)
						}
						if res.Header.Get("X-Cache") == "HIT" {
							hit++
						}
					}
					return hit
				}
				for range 3 {
					pass()
				}
				warmed := pass()
				ingest(t, e, f.dests[0].ID, 3, "tick")
				settle(t, w)
				var sql int64
				sql, _ = e.counts(func() { hits[warm] = pass() })
				t.Logf("%s+%s warming=%-5v: before the ingest %d/%d hits; in the pass after it %d/%d hits (%.0f%%), %d SQL statements",
					b.dialect, b.backend, warm, warmed, len(work), hits[warm], len(work), 100*float64(hits[warm])/float64(len(work)), sql)
				if w != nil {
					t.Logf("  warmer: %+v", w.Stats())
				}
			}
			if hits[true] <= hits[false] {
				t.Errorf("hits after the ingest: %d with warming, %d without; want strictly more with warming", hits[true], hits[false])
			}
		})
	}
}

// Warming replays are counted apart: a replay's lookup is neither a
// response-level miss nor a hit in the statistics, and is counted in
// Stats.Replays (and kedahpulse_warm_replays_total).
func TestWarmReplaysAreNotMisses(t *testing.T) {
	for _, b := range backends {
		t.Run(b.dialect+"+"+b.backend, func(t *testing.T) {
			e, w := newWarmEnv(t, b.dialect, b.backend, true)
			f := newFixture(t, e, 3)
			for range 3 {
				e.ok(summaryQuery, nil, false)
			}
			before, err := e.cache.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ingest(t, e, f.dests[0].ID, 2, "a")
			settle(t, w)
			after, err := e.cache.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s := w.Stats(); s.Replayed != 1 {
				t.Fatalf("warmer stats = %+v, want one replay", s)
			}
			if got := after.Responses.Misses - before.Responses.Misses; got != 0 {
				t.Errorf("the replay counted %d response-level misses, want 0", got)
			}
			if got := after.Replays - before.Replays; got != 1 {
				t.Errorf("Replays grew by %d, want 1", got)
			}
			if got := path(e.ok(`{ cacheStats { warmReplays } }`, nil, true), "cacheStats", "warmReplays"); got != float64(after.Replays) {
				t.Errorf("cacheStats.warmReplays = %v, want %d", got, after.Replays)
			}
		})
	}
}
