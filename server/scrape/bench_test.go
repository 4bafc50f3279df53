package scrape

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

var benchTexts = []string{
	"The sunset was beautiful and the beach was lovely &amp; clean.",
	"<p>The road up was <b>terrible</b>, dirty and crowded.</p>",
	"Dodol and kuih everywhere. Amazing food, friendly sellers!",
	"Went up at 9pm, the view of the city was okay.",
}

// genRSS returns an RSS feed of n items naming the destinations in turn,
// their GUIDs starting with prefix, dated a minute apart before
// dbtest.Epoch.
func genRSS(prefix string, n int, names []string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>bench</title><link>https://bench.example.my/</link>`)
	for i := range n {
		date := dbtest.Epoch.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC1123Z)
		fmt.Fprintf(&b, `<item><title>Day %d at %s</title><link>https://bench.example.my/%s/%d</link><guid>%s-%d</guid><pubDate>%s</pubDate><description>%s</description></item>`,
			i, names[i%len(names)], prefix, i, prefix, i, date, html.EscapeString(benchTexts[i%len(benchTexts)]))
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

// benchScrape runs b.N scrapes of feeds feeds of items items each, fresh
// posts every time, on every dialect, and reports posts stored per second.
func benchScrape(b *testing.B, feeds, items int) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			s, _ := dbtest.Open(b, dialect)
			names := []string{}
			for name := range mustDestinations(b, s) {
				names = append(names, name)
			}
			bodies := make([]atomic.Pointer[[]byte], feeds)
			routes := map[string]http.HandlerFunc{}
			urls := make([]string, feeds)
			for f := range feeds {
				routes[fmt.Sprintf("/f%d.xml", f)] = func(w http.ResponseWriter, r *http.Request) { w.Write(*bodies[f].Load()) }
			}
			base := serve(b, routes)
			for f := range feeds {
				urls[f] = fmt.Sprintf("%s/f%d.xml", base, f)
			}
			sc := New(s, &recorder{}, Config{Feeds: urls, Timeout: 10 * time.Minute, FetchTimeout: time.Minute,
				MaxBytes: 64 << 20, MaxItems: items}, slog.New(slog.DiscardHandler))
			sc.Now = s.Now

			stored := 0
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				for f := range feeds {
					body := genRSS(fmt.Sprintf("run%d-feed%d", i, f), items, names)
					bodies[f].Store(&body)
				}
				b.StartTimer()
				run, err := sc.Run(context.Background())
				if err != nil || run.Status != db.RunSucceeded || run.PostsStored != feeds*items {
					b.Fatalf("run = %+v, %v; want %d posts stored", run, err, feeds*items)
				}
				stored += run.PostsStored
			}
			b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "posts/s")
		})
	}
}

// BenchmarkIngestFeed scrapes one 10 000-item RSS feed.
func BenchmarkIngestFeed(b *testing.B) { benchScrape(b, 1, 10_000) }

// BenchmarkScrape20Feeds scrapes 20 feeds of 500 items.
func BenchmarkScrape20Feeds(b *testing.B) { benchScrape(b, 20, 500) }

func BenchmarkStripHTML(b *testing.B) {
	for name, in := range map[string]string{
		"post":    strings.Repeat("<p>The sunset at <b>Pantai Cenang</b> was beautiful &amp; calm.</p>\n", 20),
		"hostile": strings.Repeat(`<a '>`, 20_000),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				stripHTML(in)
			}
		})
	}
}
