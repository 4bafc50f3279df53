package scrape

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// Whatever a redirect leads to is stored as the feed's posts, so a feed is
// followed only on its own host, never from https to http, and to another
// host only when Config.RedirectHosts names it.
func TestRunRedirects(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		d := mustDestinations(t, s)
		// The other host serves the Atom fixture: its posts must not be
		// stored as the RSS feed's.
		var otherHits atomic.Int32
		atom := fixture(t, "atom.xml")
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otherHits.Add(1)
			atom(w, r)
		}))
		t.Cleanup(other.Close)
		otherHost := strings.TrimPrefix(other.URL, "http://")
		base := serve(t, map[string]http.HandlerFunc{
			"/rss.xml": fixture(t, "rss.xml"),
			"/moved": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/rss.xml", http.StatusMovedPermanently)
			},
			"/elsewhere": func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/atom.xml", http.StatusFound)
			},
		})
		secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+r.Host+"/rss.xml", http.StatusFound)
		}))
		t.Cleanup(secure.Close)

		sc := newTestScraper(t, s, &recorder{}, nil, Config{
			Feeds: []string{base + "/moved", base + "/elsewhere", secure.URL + "/downgrade"},
		})
		sc.client.Transport.(*http.Transport).TLSClientConfig = secure.Client().Transport.(*http.Transport).TLSClientConfig
		run := mustRun(t, sc)
		if run.Status != db.RunSucceeded || run.PostsStored != 6 {
			t.Fatalf("run = %s, %d stored, error %q; want SUCCEEDED with the 6 posts of the same-host redirect",
				run.Status, run.PostsStored, deref(run.Error))
		}
		for _, want := range []string{
			"2 of 3 feeds failed: ",
			base + `/elsewhere: fetch: redirect to host "` + otherHost + `" refused: not the feed's host`,
			secure.URL + "/downgrade: fetch: redirect from https to http refused",
		} {
			if !strings.Contains(deref(run.Error), want) {
				t.Errorf("run error %q lacks %q", deref(run.Error), want)
			}
		}
		if n := otherHits.Load(); n != 0 {
			t.Errorf("the other host was asked %d times; want never", n)
		}
		for name := range d {
			for _, p := range postsOf(t, s, d[name].ID) {
				if !strings.HasPrefix(p.ExternalID, "talk-") && !strings.HasPrefix(p.ExternalID, "https://talk.") {
					t.Errorf("stored %s from %s: not the feed's own post", p.ExternalID, p.Source)
				}
			}
		}

		// Named in RedirectHosts, the other host is followed.
		sc = newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/elsewhere"}, RedirectHosts: []string{otherHost}})
		run = mustRun(t, sc)
		if run.Status != db.RunSucceeded || run.Error != nil || run.PostsStored != 4 {
			t.Errorf("run = %s, %d stored, error %q; want the 4 posts of the allowed host", run.Status, run.PostsStored, deref(run.Error))
		}
	})
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://Talk.Example.my/feed":     "talk.example.my",
		"https://talk.example.my:443/":    "talk.example.my",
		"http://talk.example.my:80/":      "talk.example.my",
		"https://talk.example.my:80/":     "talk.example.my:80",
		"http://127.0.0.1:8080/rss":       "127.0.0.1:8080",
		"http://[::1]:8080/rss":           "[::1]:8080",
		"http://user@talk.example.my/rss": "talk.example.my",
		"//X.my:8080":                     "x.my:8080", // an entry of RedirectHosts
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := hostOf(u); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// A feed over DefaultMaxBytes fails whole, however it is sent, rather than
// be parsed cut short; of a feed with more than MaxItems items the first
// MaxItems are stored.
func TestRunFeedLimits(t *testing.T) {
	const items, maxItems = 30, 20
	var many strings.Builder
	many.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>many</title>`)
	for i := range items {
		fmt.Fprintf(&many, `<item><title>Day %d at Pantai Cenang</title><guid>many-%d</guid></item>`, i, i)
	}
	many.WriteString(`</channel></rss>`)
	// Valid but for its size: one byte over the default limit.
	pad := DefaultMaxBytes + 1 - many.Len() - len("<!---->")
	big := strings.Replace(many.String(), "<channel>", "<channel><!--"+strings.Repeat("x", pad)+"-->", 1)
	routes := map[string]http.HandlerFunc{
		"/many": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, many.String()) },
		"/big": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		},
		"/big-chunked": func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 64 << 10 { // no Content-Length
				io.WriteString(w, big[i:min(i+64<<10, len(big))])
				w.(http.Flusher).Flush()
			}
		},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		d := mustDestinations(t, s)
		base := serve(t, routes)
		logs := newLogSink(t)
		sc := newTestScraper(t, s, &recorder{}, logs, Config{
			Feeds:    []string{base + "/many", base + "/big", base + "/big-chunked"},
			MaxItems: maxItems,
		})
		run := mustRun(t, sc)
		if run.Status != db.RunSucceeded || run.PostsFetched != maxItems || run.PostsStored != maxItems {
			t.Errorf("run = %s, %d fetched, %d stored; want SUCCEEDED, %d of each", run.Status, run.PostsFetched, run.PostsStored, maxItems)
		}
		for _, path := range []string{"/big", "/big-chunked"} {
			if want := fmt.Sprintf("%s%s: feed larger than %d bytes", base, path, DefaultMaxBytes); !strings.Contains(deref(run.Error), want) {
				t.Errorf("run error %q lacks %q", deref(run.Error), want)
			}
		}
		for _, p := range postsOf(t, s, d["Pantai Cenang"].ID) {
			var i int
			if _, err := fmt.Sscanf(p.ExternalID, "many-%d", &i); err != nil || i >= maxItems {
				t.Errorf("stored %s; want only the first %d items", p.ExternalID, maxItems)
			}
		}
		if l := logs.last("scrape feed"); l["items"].Int64() != maxItems || l["skipped"].Int64() != items-maxItems {
			t.Errorf("feed log = %v; want %d items, %d skipped", l, maxItems, items-maxItems)
		}
	})
}
