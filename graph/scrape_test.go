package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// A scrape that brings posts about one destination invalidates that
// destination's analytics and nothing about another: the other stays a
// cache hit, the first is fresh.
func TestScrapeInvalidatesOnlyWhatItTouched(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 1)
		feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>a</guid><title>Pantai Cenang sunset</title><description>Sangat cantik, best gila!</description><pubDate>%s</pubDate></item>
<item><guid>b</guid><title>Pantai Cenang again</title><description>Teruk dan kotor.</description><pubDate>%s</pubDate></item>
</channel></rss>`, e.clock.Now().Format(http.TimeFormat), e.clock.Now().Format(http.TimeFormat))
		}))
		defer feed.Close()
		sentiment := `query($d: ID) { destination(id: $d) { sentiment(range: LAST_24_HOURS) { total } } }`
		touched, other := map[string]any{"d": sid(f.dests[0].ID)}, map[string]any{"d": sid(f.dests[2].ID)}
		before := path(e.ok(sentiment, touched, false), "destination", "sentiment", "total").(float64)
		e.ok(sentiment, other, false)

		s := scrape.New(e.store, e.relay, scrape.Config{Feeds: []string{feed.URL + "/feed.xml"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.Now = e.clock.Now
		run, err := s.Run(context.Background())
		if err != nil || run.PostsStored != 2 {
			t.Fatalf("run: %+v, %v", run, err)
		}
		if res := e.do(sentiment, other, false); res.Header.Get("X-Cache") != "HIT" {
			t.Errorf("an untouched destination's sentiment was evicted (X-Cache %s)", res.Header.Get("X-Cache"))
		}
		after := e.do(sentiment, touched, false)
		if got := path(after.Data, "destination", "sentiment", "total").(float64); got != before+2 || after.Header.Get("X-Cache") != "MISS" {
			t.Errorf("touched destination: total %v (was %v), X-Cache %s", got, before, after.Header.Get("X-Cache"))
		}
		for _, tag := range run.InvalidatedTags {
			if tag == fmt.Sprintf("destination:%d:analytics", f.dests[2].ID) {
				t.Errorf("the run invalidated an untouched destination: %v", run.InvalidatedTags)
			}
		}
	})
}
