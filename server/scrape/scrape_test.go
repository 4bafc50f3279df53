package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/sentiment"
)

// recorder is a Deliverer that records the changes it is given; it stands
// in for the GraphQL resolver.
type recorder struct {
	mu      sync.Mutex
	changes []db.Change
}

var _ Deliverer = (*recorder)(nil)

func (r *recorder) Deliver(_ context.Context, ch db.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, ch)
	return nil
}

// tags returns the sorted union of the tags delivered so far and how many
// changes carried them.
func (r *recorder) tags() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var tags []string
	for _, ch := range r.changes {
		for _, tag := range ch.Tags {
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
	}
	slices.Sort(tags)
	return tags, len(r.changes)
}

// logSink is a slog.Handler that keeps the records it handles and writes
// them to the test's output.
type logSink struct {
	mu   sync.Mutex
	recs []slog.Record
	out  slog.Handler
}

func newLogSink(t testing.TB) *logSink {
	return &logSink{out: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})}
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logSink) WithGroup(string) slog.Handler            { return l }
func (l *logSink) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return l.out.Handle(ctx, r)
}

// last returns the attributes of the last record with message msg.
func (l *logSink) last(msg string) map[string]slog.Value {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.recs) - 1; i >= 0; i-- {
		if l.recs[i].Message == msg {
			attrs := map[string]slog.Value{}
			l.recs[i].Attrs(func(a slog.Attr) bool {
				attrs[a.Key] = a.Value
				return true
			})
			return attrs
		}
	}
	return nil
}

// fixture serves a file of testdata, without validators.
func fixture(t testing.TB, name string) http.HandlerFunc {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	ctype := "application/xml"
	if strings.HasSuffix(name, ".json") {
		ctype = "application/feed+json"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	}
}

// serve starts a server with a handler per path and returns its URL.
func serve(t testing.TB, routes map[string]http.HandlerFunc) string {
	t.Helper()
	mux := http.NewServeMux()
	for path, h := range routes {
		mux.HandleFunc(path, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// dests are the destinations the fixtures talk about, by name; Tasik Pedu
// is never mentioned.
type dests map[string]*db.Destination

func mustDestinations(t testing.TB, s *db.Store) dests {
	t.Helper()
	d := dests{}
	for _, in := range []db.DestinationInput{
		{Name: "Pantai Cenang", City: "Langkawi", Category: db.CategoryBeach, Description: "Langkawi's busiest beach"},
		{Name: "Gunung Jerai", City: "Yan", Category: db.CategoryNature, Description: "Kedah's highest peak"},
		{Name: "Pekan Rabu", City: "Alor Setar", Category: db.CategoryShopping, Description: "The Wednesday market"},
		{Name: "Menara Alor Setar", City: "Alor Setar", Category: db.CategoryAttraction, Description: "The telecom tower"},
		{Name: "Tasik Pedu", City: "Padang Terap", Category: db.CategoryNature, Description: "A lake in the north"},
	} {
		dest, _, err := s.CreateDestination(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		d[dest.Name] = dest
	}
	return d
}

// analyticsTags are the tags ingesting posts about names invalidates.
func (d dests) analyticsTags(names ...string) []string {
	tags := []string{db.TagAnalytics}
	for _, name := range names {
		tags = append(tags, db.DestinationAnalyticsTag(d[name].ID), db.CityAnalyticsTag(d[name].City))
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// newTestScraper returns a scraper of feeds on the store's clock, with
// short timeouts.
func newTestScraper(t testing.TB, s *db.Store, rec Deliverer, log *logSink, cfg Config) *Scraper {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = 5 * time.Second
	}
	if log == nil {
		log = newLogSink(t)
	}
	sc := New(s, rec, cfg, slog.New(log))
	sc.Now = s.Now
	return sc
}

func mustRun(t *testing.T, sc *Scraper) *db.ScrapeRun {
	t.Helper()
	run, err := sc.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return run
}

func countRuns(t testing.TB, s *db.Store) int {
	t.Helper()
	runs, err := s.FindScrapeRuns(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

func postsOf(t *testing.T, s *db.Store, destID int64) []*db.Post {
	t.Helper()
	page, err := s.FindPosts(context.Background(), &destID, db.Last30Days, db.Page{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Posts
}

func TestRunStoresFeeds(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		d := mustDestinations(t, s)
		base := serve(t, map[string]http.HandlerFunc{
			"/rss.xml":   fixture(t, "rss.xml"),
			"/atom.xml":  fixture(t, "atom.xml"),
			"/feed.json": fixture(t, "feed.json"),
		})
		rec := &recorder{}
		logs := newLogSink(t)
		sc := newTestScraper(t, s, rec, logs, Config{
			Feeds:     []string{base + "/rss.xml", base + "/atom.xml", base + "/feed.json"},
			BatchSize: 3, // several batches per feed
		})

		run := mustRun(t, sc)
		if run.Status != db.RunSucceeded || run.Error != nil {
			t.Fatalf("run = %s, error %v; want SUCCEEDED", run.Status, deref(run.Error))
		}
		if run.PostsFetched != 17 || run.PostsStored != 14 {
			t.Errorf("fetched %d, stored %d; want 17, 14", run.PostsFetched, run.PostsStored)
		}
		if run.FinishedAt == nil {
			t.Error("FinishedAt not set")
		}
		wantTags := d.analyticsTags("Pantai Cenang", "Gunung Jerai", "Pekan Rabu", "Menara Alor Setar")
		if !slices.Equal(run.InvalidatedTags, wantTags) {
			t.Errorf("run tags = %v, want %v", run.InvalidatedTags, wantTags)
		}
		delivered, changes := rec.tags()
		if !slices.Equal(delivered, wantTags) {
			t.Errorf("delivered %v, want %v", delivered, wantTags)
		}
		for _, tag := range delivered {
			if strings.Contains(tag, fmt.Sprintf("destination:%d:", d["Tasik Pedu"].ID)) || strings.Contains(tag, "padang-terap") {
				t.Errorf("delivered %q for a destination without new posts", tag)
			}
		}
		// 6, 4 and 4 matched posts in batches of 3: 2 + 2 + 2 batches.
		if changes != 6 {
			t.Errorf("Deliver called %d times, want 6 (once per batch)", changes)
		}
		stored, err := s.FindScrapeRuns(context.Background(), 1)
		if err != nil || len(stored) != 1 || stored[0].ID != run.ID || stored[0].Status != db.RunSucceeded ||
			!slices.Equal(stored[0].InvalidatedTags, wantTags) || stored[0].PostsStored != 14 {
			t.Fatalf("stored run = %+v, %v", stored, err)
		}

		wantCounts := map[string]int{"Pantai Cenang": 4, "Gunung Jerai": 4, "Pekan Rabu": 3, "Menara Alor Setar": 3, "Tasik Pedu": 0}
		byExternalID := map[string]*db.Post{}
		for name, want := range wantCounts {
			posts := postsOf(t, s, d[name].ID)
			if len(posts) != want {
				t.Errorf("%s: %d posts, want %d", name, len(posts), want)
			}
			for _, p := range posts {
				byExternalID[p.ExternalID] = p
				if _, label := sentiment.Score(p.Text); p.SentimentLabel != db.SentimentLabel(label) {
					t.Errorf("%s: label %s, want %s", p.ExternalID, p.SentimentLabel, label)
				}
			}
		}
		u := strings.TrimPrefix(base, "http://")
		for id, want := range map[string]struct {
			source, text string
			label        db.SentimentLabel
			author, url  string
			postedAt     time.Time
		}{
			"talk-101": {source: "feed:" + u + "/rss.xml", label: db.Positive, author: "Aisyah", url: "https://talk.example.my/p/101",
				text:     "Sunset at Pantai Cenang\nThe sunset was beautiful and the beach was lovely & clean.",
				postedAt: time.Date(2025, 6, 13, 3, 5, 0, 0, time.UTC)},
			"talk-102": {label: db.Negative, postedAt: time.Date(2025, 6, 13, 7, 40, 0, 0, time.UTC)},
			"talk-103": {text: "Pekan Rabu on a Sunday\nDodol and kuih everywhere. Amazing food, friendly sellers!"},
			// No GUID: the link identifies it.
			"https://talk.example.my/p/104": {text: "Night walk at Menara Alor Setar\nThe tower is lit up at night. Went up at 9pm."},
			"talk-105":                      {text: "Pantai Cenang, again\nJet skis <everywhere> this morning."},
			// No date: dated now.
			"talk-107":        {postedAt: dbtest.Epoch},
			"urn:review:2001": {source: "feed:" + u + "/atom.xml", author: "Daniel Tan", text: "Pantai Cenang is wonderful\nSoft sand, warm water, great seafood."},
			// Only updated: dated by it.
			"urn:review:2002": {postedAt: time.Date(2025, 6, 13, 6, 30, 0, 0, time.UTC)},
			// In the future: dated now.
			"urn:review:2005": {postedAt: dbtest.Epoch},
			"jj-301":          {source: "feed:" + u + "/feed.json", author: "Nurul", text: "Pekan Rabu\nBest dodol in Alor Setar, sedap!"},
			"jj-302":          {label: db.Negative, text: "Pantai Cenang was too crowded and the toilets were awful."},
		} {
			p := byExternalID[id]
			switch {
			case p == nil:
				t.Errorf("%s: not stored", id)
				continue
			case want.source != "" && p.Source != want.source:
				t.Errorf("%s: source %q, want %q", id, p.Source, want.source)
			case want.text != "" && p.Text != want.text:
				t.Errorf("%s: text %q, want %q", id, p.Text, want.text)
			case want.label != "" && p.SentimentLabel != want.label:
				t.Errorf("%s: label %s, want %s", id, p.SentimentLabel, want.label)
			case want.author != "" && (p.Author == nil || *p.Author != want.author):
				t.Errorf("%s: author %v, want %q", id, p.Author, want.author)
			case want.url != "" && (p.URL == nil || *p.URL != want.url):
				t.Errorf("%s: url %v, want %q", id, p.URL, want.url)
			case !want.postedAt.IsZero() && !p.PostedAt.Equal(want.postedAt):
				t.Errorf("%s: postedAt %s, want %s", id, p.PostedAt, want.postedAt)
			}
		}
		if p := byExternalID["talk-105"]; p != nil && p.URL != nil {
			t.Errorf("talk-105 has no link, got URL %q", *p.URL)
		}
		if p := byExternalID["jj-305"]; p == nil || *p.DestinationID != d["Menara Alor Setar"].ID {
			t.Errorf("jj-305 names two destinations; the longest name should win")
		}
		sum := logs.last("scrape run finished")
		if sum["feeds_done"].Int64() != 3 || sum["unmatched"].Int64() != 3 || sum["stored"].Int64() != 14 {
			t.Errorf("summary log = %v", sum)
		}

		// A second run finds only what it has stored: nothing new, nothing
		// to invalidate.
		run2 := mustRun(t, sc)
		if run2.ID == run.ID || run2.Status != db.RunSucceeded || run2.PostsFetched != 17 || run2.PostsStored != 0 ||
			len(run2.InvalidatedTags) != 0 {
			t.Errorf("second run = %+v; want SUCCEEDED, 17 fetched, 0 stored, no tags", run2)
		}
		if _, n := rec.tags(); n != changes {
			t.Errorf("second run delivered %d changes, want none", n-changes)
		}
		if sum := logs.last("scrape run finished"); sum["duplicates"].Int64() != 14 || sum["stored"].Int64() != 0 {
			t.Errorf("second summary log = %v; want 14 duplicates", sum)
		}
		if n := countRuns(t, s); n != 2 {
			t.Errorf("%d runs recorded, want 2", n)
		}
	})
}

func TestRunFeedErrors(t *testing.T) {
	const maxBytes = 16 << 10
	bigItem := "<item><title>Pantai Cenang</title><guid>x</guid><description>" + strings.Repeat("sand ", 4<<10) + "</description></item>"
	big := `<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>` + strings.Repeat(bigItem, 4) + `</channel></rss>`
	routes := map[string]http.HandlerFunc{
		"/rss.xml": fixture(t, "rss.xml"),
		"/500": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		},
		"/garbage": fixture(t, "garbage.txt"),
		"/big": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		},
		"/big-chunked": func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 1000 { // no Content-Length
				io.WriteString(w, big[i:min(i+1000, len(big))])
				w.(http.Flusher).Flush()
			}
		},
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		},
		"/loop": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/loop", http.StatusFound)
		},
	}
	wantReasons := map[string]string{
		"/500":         "HTTP status 500 Internal Server Error",
		"/garbage":     "parse: ",
		"/big":         fmt.Sprintf("feed larger than %d bytes", maxBytes),
		"/big-chunked": fmt.Sprintf("feed larger than %d bytes", maxBytes),
		"/slow":        "fetch: timed out after 200ms",
		"/loop":        "fetch: stopped after 5 redirects",
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		d := mustDestinations(t, s)
		base := serve(t, routes)
		feeds := []string{base + "/rss.xml"}
		for path := range wantReasons {
			feeds = append(feeds, base+path)
		}
		slices.Sort(feeds)
		rec := &recorder{}
		sc := newTestScraper(t, s, rec, nil, Config{Feeds: feeds, MaxBytes: maxBytes, FetchTimeout: 200 * time.Millisecond})

		run := mustRun(t, sc)
		if run.Status != db.RunSucceeded || run.PostsStored != 6 {
			t.Fatalf("run = %s with %d stored; want SUCCEEDED with the 6 posts of the good feed", run.Status, run.PostsStored)
		}
		if run.Error == nil {
			t.Fatal("run error is nil; want the failed feeds listed")
		}
		msg := *run.Error
		if !strings.HasPrefix(msg, "6 of 7 feeds failed: ") {
			t.Errorf("error = %q", msg)
		}
		for path, reason := range wantReasons {
			if !strings.Contains(msg, base+path+": "+reason) {
				t.Errorf("error %q does not give %s's reason %q", msg, path, reason)
			}
		}
		if strings.Contains(msg, base+"/rss.xml") {
			t.Errorf("error %q names the good feed", msg)
		}
		want := d.analyticsTags("Pantai Cenang", "Gunung Jerai", "Pekan Rabu", "Menara Alor Setar")
		if got, _ := rec.tags(); !slices.Equal(got, want) || !slices.Equal(run.InvalidatedTags, want) {
			t.Errorf("delivered %v, run tags %v; want %v", got, run.InvalidatedTags, want)
		}
	})
}

func TestRunAllFeedsFail(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		mustDestinations(t, s)
		base := serve(t, map[string]http.HandlerFunc{
			"/500": func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "boom", http.StatusServiceUnavailable)
			},
			"/garbage": fixture(t, "garbage.txt"),
		})
		rec := &recorder{}
		feeds := []string{base + "/500", base + "/garbage", "ftp://example.com/feed"}
		sc := newTestScraper(t, s, rec, nil, Config{Feeds: feeds})

		run := mustRun(t, sc)
		if run.Status != db.RunFailed || run.Error == nil {
			t.Fatalf("run = %s, error %v; want FAILED", run.Status, run.Error)
		}
		for _, want := range []string{"all 3 feeds failed",
			base + "/500: HTTP status 503 Service Unavailable",
			base + "/garbage: parse: ",
			"ftp://example.com/feed: invalid feed URL"} {
			if !strings.Contains(*run.Error, want) {
				t.Errorf("error %q lacks %q", *run.Error, want)
			}
		}
		if _, n := rec.tags(); n != 0 || len(run.InvalidatedTags) != 0 {
			t.Errorf("failed run delivered %d changes, tags %v", n, run.InvalidatedTags)
		}
		runs, err := s.FindScrapeRuns(context.Background(), 1)
		if err != nil || runs[0].Status != db.RunFailed || deref(runs[0].Error) != *run.Error {
			t.Errorf("stored run = %+v, %v", runs[0], err)
		}
	})
}

func TestRunConditionalGET(t *testing.T) {
	const etag = `"rss-v1"`
	const modified = "Sat, 14 Jun 2025 12:00:00 GMT"
	body, err := os.ReadFile("testdata/rss.xml")
	if err != nil {
		t.Fatal(err)
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		mustDestinations(t, s)
		type seen struct{ ifNoneMatch, ifModifiedSince, userAgent string }
		var mu sync.Mutex
		var requests []seen
		base := serve(t, map[string]http.HandlerFunc{
			"/rss.xml": func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests = append(requests, seen{r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), r.UserAgent()})
				mu.Unlock()
				if r.Header.Get("If-None-Match") == etag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", etag)
				w.Header().Set("Last-Modified", modified)
				w.Write(body)
			},
		})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/rss.xml"}, UserAgent: "kp-test/1"})
		var parses atomic.Int32
		sc.parse = func(body []byte, limit int) ([]*gofeed.Item, int, error) {
			parses.Add(1)
			return parseFeed(body, limit)
		}

		first := mustRun(t, sc)
		second := mustRun(t, sc)
		if first.PostsStored != 6 || second.Status != db.RunSucceeded || second.Error != nil ||
			second.PostsFetched != 0 || second.PostsStored != 0 {
			t.Errorf("runs = %+v, %+v; want 6 stored, then a SUCCEEDED run with nothing fetched", first, second)
		}
		if n := parses.Load(); n != 1 {
			t.Errorf("parsed %d times; a 304 must not be parsed", n)
		}
		want := []seen{{"", "", "kp-test/1"}, {etag, modified, "kp-test/1"}}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(requests, want) {
			t.Errorf("requests = %+v, want %+v", requests, want)
		}
	})
}

// An ingest that fails must not remember the feed's validators, or the next
// run's 304 would hide the posts that were never stored.
func TestRunIngestFailureForgetsValidators(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		d := mustDestinations(t, s)
		var conditional atomic.Int32
		base := serve(t, map[string]http.HandlerFunc{
			"/rss.xml": func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") != "" {
					conditional.Add(1)
				}
				w.Header().Set("ETag", `"v1"`)
				fixture(t, "rss.xml")(w, r)
			},
		})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/rss.xml"}})
		// The destination list is read, then a destination the posts name
		// disappears before they are stored: IngestPosts rejects the batch.
		sc.parse = func(body []byte, limit int) ([]*gofeed.Item, int, error) {
			if _, err := s.DeleteDestination(context.Background(), d["Gunung Jerai"].ID); err != nil && !errors.Is(err, db.ErrNotFound) {
				t.Error(err)
			}
			return parseFeed(body, limit)
		}
		run := mustRun(t, sc)
		if run.Status != db.RunFailed || !strings.Contains(deref(run.Error), "ingest: ") {
			t.Fatalf("run = %s, %q; want FAILED by ingest", run.Status, deref(run.Error))
		}
		sc.parse = parseFeed
		run = mustRun(t, sc)
		if conditional.Load() != 0 || run.Status != db.RunSucceeded || run.PostsStored != 4 {
			t.Errorf("second run: %d conditional requests, %s, %d stored; want a full fetch storing 4",
				conditional.Load(), run.Status, run.PostsStored)
		}
	})
}

func TestRunConcurrentCallsShareOneRun(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		mustDestinations(t, s)
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		rss := fixture(t, "rss.xml")
		base := serve(t, map[string]http.HandlerFunc{
			"/rss.xml": func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				<-release
				rss(w, r)
			},
		})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/rss.xml"}})

		const callers = 8
		runs := make([]*db.ScrapeRun, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		call := func(i int) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runs[i], errs[i] = sc.Run(context.Background())
			}()
		}
		call(0)
		<-arrived // the first run is in flight
		for i := 1; i < callers; i++ {
			call(i)
		}
		waitFor(t, func() bool {
			sc.mu.Lock()
			defer sc.mu.Unlock()
			return sc.inflight != nil && sc.inflight.waiters == callers-1
		})
		close(release)
		wg.Wait()

		for i := range callers {
			if errs[i] != nil || runs[i] == nil || runs[i].ID != runs[0].ID || runs[i].Status != db.RunSucceeded {
				t.Errorf("caller %d: %+v, %v; want the one SUCCEEDED run", i, runs[i], errs[i])
			}
		}
		if n := countRuns(t, s); n != 1 {
			t.Errorf("%d runs recorded, want 1", n)
		}
	})
}

func TestRunWaiterContextEnds(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		base := serve(t, map[string]http.HandlerFunc{
			"/rss.xml": func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				<-release
			},
		})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/rss.xml"}})
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc.Run(context.Background())
		}()
		<-arrived
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := sc.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("waiting with an ended context: %v, want context.Canceled", err)
		}
		close(release)
		<-done
	})
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
