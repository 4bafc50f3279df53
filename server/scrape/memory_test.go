package scrape

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// maxFeedHeap bounds the heap that reading one feed of DefaultMaxBytes may
// take at its peak: ten times the body. Generous (no shape takes half of
// it); what it catches is a parse whose cost grows with the number of
// items, which took 35 to 42 MiB for these feeds.
const maxFeedHeap = 10 * DefaultMaxBytes

// maxSizeFeeds are makers of feeds of just under DefaultMaxBytes, by
// name: a feed of ordinary posts, the shapes that cost a parser most per
// byte (many tiny items; one item of nothing but markup) and tiny items in
// the other formats.
func maxSizeFeeds() map[string]func() []byte {
	const size = DefaultMaxBytes - 1<<10
	fill := func(head, tail string, item func(i int) string) func() []byte {
		return func() []byte { return fillFeed(size, head, tail, item) }
	}
	const rssHead, rssTail = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>max</title>`, `</channel></rss>`
	post := html.EscapeString(strings.Repeat("<p>The sunset at <b>Pantai Cenang</b> was beautiful &amp; calm.</p>\n", 12))
	return map[string]func() []byte{
		"rss posts": fill(rssHead, rssTail, func(i int) string {
			return fmt.Sprintf(`<item><title>Day %d at Pantai Cenang</title><link>https://max.example.my/p/%d</link><guid>max-%d</guid>`+
				`<pubDate>Fri, 13 Jun 2025 11:05:00 +0800</pubDate><description>%s</description></item>`, i, i, i, post)
		}),
		"rss tiny items": fill(rssHead, rssTail, func(i int) string { return fmt.Sprintf("<item><title>Pantai Cenang %d</title></item>", i) }),
		"rss one item": func() []byte {
			markup := strings.Repeat("<p><b><i>Pantai Cenang</i></b></p>", (size-200)/35)
			return []byte(rssHead + "<item><title>Pantai Cenang</title><guid>one</guid><description><![CDATA[" + markup + "]]></description></item>" + rssTail)
		},
		"atom tiny items": fill(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>max</title>`, `</feed>`, func(i int) string {
			return fmt.Sprintf("<entry><id>%d</id><title>Pantai Cenang</title></entry>", i)
		}),
		"json tiny items": fill(`{"version":"https://jsonfeed.org/version/1.1","title":"max","items":[`, `{"id":"last"}]}`, func(i int) string {
			return fmt.Sprintf(`{"id":"%d","title":"Pantai Cenang"},`, i)
		}),
	}
}

// fillFeed returns head, as many items as fit in size bytes, and tail.
func fillFeed(size int, head, tail string, item func(i int) string) []byte {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; ; i++ {
		it := item(i)
		if b.Len()+len(it)+len(tail) > size {
			break
		}
		b.WriteString(it)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// peakHeap runs f and returns the most the heap grew above where it
// started while f ran, sampled every 100µs: a lower bound of the true peak.
// The collector runs at GOGC=10 meanwhile, so that the figure is what f
// holds rather than what garbage it leaves for a collection the default
// pacing would put off.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := make(chan uint64)
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		top := base
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
			select {
			case <-stop:
				peak <- top - base
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	f()
	close(stop)
	return <-peak
}

// Reading a feed of the maximum size, in any shape, takes a bounded heap:
// the body is read into one buffer, parsed in place, and no more items are
// built than Config.MaxItems.
func TestReadFeedMemory(t *testing.T) {
	m := db.NewMatcher([]*db.Destination{{ID: 1, Name: "Pantai Cenang", Slug: "pantai-cenang"}})
	for name, feed := range maxSizeFeeds() {
		t.Run(name, func(t *testing.T) {
			body := feed()
			base := serve(t, map[string]http.HandlerFunc{"/feed": func(w http.ResponseWriter, r *http.Request) { w.Write(body) }})
			sc := New(nil, nil, Config{}, nil)
			var r *feedResult
			peak := peakHeap(func() { r = sc.readFeed(context.Background(), base+"/feed", m) })
			if r.err != nil || len(r.posts) == 0 || r.items > DefaultMaxItems {
				t.Fatalf("read %d bytes: %d items, %d posts, error %v; want posts of at most %d items",
					len(body), r.items, len(r.posts), r.err, DefaultMaxItems)
			}
			t.Logf("%d bytes, %d items taken, %d skipped: peak heap %.1f MiB", len(body), r.items, r.skipped, float64(peak)/(1<<20))
			if peak > maxFeedHeap {
				t.Errorf("peak heap %d MiB, want at most %d MiB", peak>>20, maxFeedHeap>>20)
			}
		})
	}
}
