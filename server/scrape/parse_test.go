package scrape

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestFeedFormat(t *testing.T) {
	for in, want := range map[string]string{
		`<?xml version="1.0"?><rss version="2.0"><channel/></rss>`: "rss",
		"\xef\xbb\xbf\n <RSS>": "rss",
		`<?xml version="1.0" encoding="ISO-8859-1"?><!-- c --><rdf:RDF></rdf:RDF>`: "rss",
		`<!DOCTYPE feed><feed xmlns="http://www.w3.org/2005/Atom"></feed>`:         "atom",
		` {"version":"https://jsonfeed.org/version/1.1"}`:                          "json",
		`<html><body>not a feed</body></html>`:                                     "",
		`plain text`:                                                               "",
		``:                                                                         "",
		`<?xml version="1.0"?><!-- never closed`:                                   "",
	} {
		if got := feedFormat([]byte(in)); got != want {
			t.Errorf("feedFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

// A feed gives its first items, in its own order, up to the limit, and the
// parser builds no more than that.
func TestParseFeedTakesFirstItems(t *testing.T) {
	const total, limit = 25, 10
	repeat := func(item string) string {
		var b strings.Builder
		for i := range total {
			fmt.Fprintf(&b, item, i)
		}
		return b.String()
	}
	for name, body := range map[string]string{
		"rss": `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>` +
			repeat(`<item><title>Pantai Cenang</title><guid>g%d</guid><dc:creator>Aisyah</dc:creator></item>`) + `</channel></rss>`,
		"rss 1.0": `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">` +
			`<channel><title>t</title></channel>` + repeat(`<item rdf:about="g%[1]d"><title>Pantai Cenang</title><link>g%[1]d</link></item>`) + `</rdf:RDF>`,
		"rss upper case": `<rss version="2.0"><CHANNEL><title>t</title>` + repeat(`<ITEM><title>Pantai Cenang</title><guid>g%d</guid></ITEM>`) + `</CHANNEL></rss>`,
		"atom": `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>` +
			repeat(`<entry><id>g%d</id><title>Pantai Cenang</title><author><name>Aisyah</name></author></entry>`) + `</feed>`,
		"json": `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[` +
			strings.TrimSuffix(repeat(`{"id":"g%d","title":"Pantai Cenang"},`), ",") + `],"home_page_url":"https://x.my/"}`,
	} {
		t.Run(name, func(t *testing.T) {
			items, n, err := parseFeed([]byte(body), limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != limit || n != total {
				t.Fatalf("%d items of %d, want %d of %d", len(items), n, limit, total)
			}
			for i, it := range items {
				if id := firstNonEmpty(it.GUID, it.Link); id != fmt.Sprintf("g%d", i) {
					t.Errorf("item %d is %q, want g%d", i, id, i)
				}
			}
			if all, n, err := parseFeed([]byte(body), total); err != nil || len(all) != total || n != total {
				t.Errorf("with room for all: %d items of %d, %v", len(all), n, err)
			}
		})
	}
}

func TestFirstItemsClosesOpenElements(t *testing.T) {
	body := `<rdf:RDF xmlns:rdf="r"><channel/><item>1</item><item/><item>3</item></rdf:RDF>`
	r, n := firstItems([]byte(body), 1)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<rdf:RDF xmlns:rdf="r"><channel/><item>1</item></rdf:RDF>`; string(got) != want || n != 3 {
		t.Errorf("firstItems = %q, %d; want %q, 3", got, n, want)
	}
}
