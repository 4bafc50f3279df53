package scrape

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/kedahpulse/kedahpulse/db"
)

func TestStripHTML(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"plain":          {"Pantai Cenang", "Pantai Cenang"},
		"inline tags":    {"<p>So <b>beautiful</b>!</p>", "So beautiful!"},
		"block tags":     {"Pantai<br>Cenang<p>Langkawi</p>", "Pantai Cenang Langkawi"},
		"entities":       {"Fish &amp; chips &lt;3 &#8211; &eacute;", "Fish & chips <3 – é"},
		"escaped tag":    {"&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>"},
		"lone angle":     {"a < b and 1<2 <3", "a < b and 1<2 <3"},
		"comment":        {"x<!-- <p>hidden</p> -->y", "xy"},
		"open comment":   {"x<!-- never closed", "x"},
		"script":         {"a<script>if (a<b) alert('<p>')</script>b", "ab"},
		"style caps":     {"a<STYLE>p{}</Style>b", "ab"},
		"open script":    {"a<script>forever", "a"},
		"quoted >":       {`<a title="x>y" href='/'>link</a>`, "link"},
		"unclosed quote": {`<a title="x>link`, "link"},
		"open tag":       {"text <a href=", "text"},
		"declaration":    {"<!DOCTYPE html><?xml ?>ok", "ok"},
		"whitespace":     {"  a\n\t b \u00a0 c\r\n", "a b c"},
		"controls":       {"a\x00b\x07c", "a b c"},
		"invalid utf8":   {"a\xffb", "a\uFFFDb"},
		"empty":          {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := stripHTML(tc.in); got != tc.want {
				t.Errorf("stripHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestItemPost(t *testing.T) {
	now := time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)
	past := time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("MYT", 8*3600))
	future := now.Add(time.Hour)
	long := strings.Repeat("x", 300)
	for name, tc := range map[string]struct {
		item     gofeed.Item
		ok       bool
		id, text string
		postedAt time.Time
	}{
		"guid":             {item: gofeed.Item{GUID: " g1 ", Link: "https://l/1", Title: "T", PublishedParsed: &past}, ok: true, id: "g1", text: "T", postedAt: past.UTC()},
		"link":             {item: gofeed.Item{Link: "https://l/1", Title: "T", Description: "D"}, ok: true, id: "https://l/1", text: "T\nD", postedAt: now},
		"hash":             {item: gofeed.Item{Title: "T", Content: "<p>C</p>"}, ok: true, id: hash32("T\nC"), text: "T\nC", postedAt: now},
		"long guid":        {item: gofeed.Item{GUID: long, Title: "T"}, ok: true, id: hash32(long), text: "T", postedAt: now},
		"content first":    {item: gofeed.Item{GUID: "g", Title: "T", Description: "summary", Content: "full"}, ok: true, id: "g", text: "T\nfull", postedAt: now},
		"body only":        {item: gofeed.Item{GUID: "g", Description: "D"}, ok: true, id: "g", text: "D", postedAt: now},
		"title is body":    {item: gofeed.Item{GUID: "g", Title: "Same", Description: "Same"}, ok: true, id: "g", text: "Same", postedAt: now},
		"updated":          {item: gofeed.Item{GUID: "g", Title: "T", UpdatedParsed: &past}, ok: true, id: "g", text: "T", postedAt: past.UTC()},
		"future":           {item: gofeed.Item{GUID: "g", Title: "T", PublishedParsed: &future}, ok: true, id: "g", text: "T", postedAt: now},
		"no text":          {item: gofeed.Item{GUID: "g", Title: "<br>", Description: " &nbsp; "}},
		"truncated":        {item: gofeed.Item{GUID: "g", Title: strings.Repeat("é", maxText+5)}, ok: true, id: "g", text: strings.Repeat("é", maxText), postedAt: now},
		"zero time":        {item: gofeed.Item{GUID: "g", Title: "T", PublishedParsed: &time.Time{}}, ok: true, id: "g", text: "T", postedAt: now},
		"nul in guid only": {item: gofeed.Item{GUID: "\x00", Link: "https://l/2", Title: "T"}, ok: true, id: "https://l/2", text: "T", postedAt: now},
	} {
		t.Run(name, func(t *testing.T) {
			p, ok := itemPost(&tc.item, "feed:example.com/rss", now)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if p.ExternalID != tc.id || p.Text != tc.text || !p.PostedAt.Equal(tc.postedAt) || p.Source != "feed:example.com/rss" {
				t.Errorf("post = %q %q %s %q, want %q %q %s", p.ExternalID, p.Text, p.PostedAt, p.Source, tc.id, tc.text, tc.postedAt)
			}
			checkPost(t, p, now)
		})
	}
}

func TestFeedSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://Talk.Example.my/feed.xml?page=2":  "feed:talk.example.my/feed.xml",
		"http://127.0.0.1:8080/a b/rss":            "feed:127.0.0.1:8080/a%20b/rss",
		"https://x.my/" + strings.Repeat("p", 200): "feed:" + hash32("feed:x.my/"+strings.Repeat("p", 200)),
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := feedSource(u); got != want {
			t.Errorf("feedSource(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFixtures(t *testing.T) {
	for name, want := range map[string]string{"rss.xml": "rss", "atom.xml": "atom", "feed.json": "json"} {
		body := readFixture(t, name)
		if got := feedFormat(body); got != want {
			t.Errorf("%s: format %q, want %q", name, got, want)
		}
		if _, _, err := parseFeed(body, DefaultMaxItems); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, _, err := parseFeed(readFixture(t, "garbage.txt"), DefaultMaxItems); err == nil {
		t.Error("garbage parsed")
	}
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// checkPost fails t unless p passes IngestPosts' validation, so that no
// item can make a batch be rejected.
func checkPost(t testing.TB, p db.PostInput, now time.Time) {
	t.Helper()
	for field, v := range map[string]struct {
		s      string
		lo, hi int
	}{
		"source":     {p.Source, 1, maxSource},
		"externalId": {p.ExternalID, 1, maxExternalID},
		"text":       {p.Text, 1, maxText},
	} {
		n := utf8.RuneCountInString(strings.TrimSpace(v.s))
		if n < v.lo || n > v.hi || !utf8.ValidString(v.s) || strings.IndexByte(v.s, 0) >= 0 {
			t.Errorf("%s %q: %d runes or invalid text", field, v.s, n)
		}
	}
	for field, s := range map[string]*string{"author": p.Author, "url": p.URL} {
		if s != nil && (*s == "" || !utf8.ValidString(*s) || strings.IndexByte(*s, 0) >= 0) {
			t.Errorf("%s %q: empty or invalid text", field, *s)
		}
	}
	if p.PostedAt.IsZero() || p.PostedAt.After(now) || p.PostedAt.Location() != time.UTC {
		t.Errorf("postedAt %s: zero, after now %s or not UTC", p.PostedAt, now)
	}
}

func FuzzStripHTML(f *testing.F) {
	for _, s := range []string{"<p>a &amp; b</p>", "<script>x</script>y", "a<!--b-->c", "<a href='>'>x</a>", "&#0;\x00", "<\xff>"} {
		f.Add(s)
	}
	for _, name := range []string{"rss.xml", "atom.xml", "feed.json", "garbage.txt"} {
		f.Add(string(readFixture(f, name)))
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := stripHTML(in)
		if !utf8.ValidString(out) || strings.TrimSpace(out) != out || strings.Contains(out, "  ") {
			t.Fatalf("stripHTML(%q) = %q: invalid UTF-8, untrimmed or double spaces", in, out)
		}
		for _, r := range out {
			if r == 0 || r == '\n' || r == '\t' {
				t.Fatalf("stripHTML(%q) = %q: contains %q", in, out, r)
			}
		}
		if !strings.ContainsAny(in, "<&") {
			if want := cleanSpace(in); out != want {
				t.Fatalf("stripHTML(%q) = %q; text without markup should only be cleaned: %q", in, out, want)
			}
		}
	})
}

func FuzzFeedPosts(f *testing.F) {
	for _, name := range []string{"rss.xml", "atom.xml", "feed.json", "garbage.txt"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"\u0000","title":"\u0000x","date_published":"9999-12-31T23:59:59Z"}]}`))
	f.Add([]byte(`<rss><channel><item><title>a</title><pubDate>Mon, 01 Jan 0001 00:00:00 +0000</pubDate></item></channel></rss>`))
	now := time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := parseFeed(body, DefaultMaxItems)
		if err != nil {
			return
		}
		for _, p := range feedPosts(items, "feed:example.com/rss", now) {
			checkPost(t, p, now)
		}
	})
}
