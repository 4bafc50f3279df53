package scrape

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
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
		"controls":       {"a\x00b\x07c", "ab c"},
		"invalid utf8":   {"a\xffb", "ab"},
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
	yearOneEast := time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("MYT", 8*3600)) // year 0 in UTC
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
		"truncated":        {item: gofeed.Item{GUID: "g", Title: strings.Repeat("é", db.MaxPostText+5)}, ok: true, id: "g", text: strings.Repeat("é", db.MaxPostText), postedAt: now},
		"long body":        {item: gofeed.Item{GUID: "g", Title: "T", Description: strings.Repeat("é", db.MaxPostText+5)}, ok: true, id: "g", text: "T\n" + strings.Repeat("é", db.MaxPostText-2), postedAt: now},
		"year one east":    {item: gofeed.Item{GUID: "g", Title: "T", PublishedParsed: &yearOneEast}, ok: true, id: "g", text: "T", postedAt: now},
		"nul and invalid":  {item: gofeed.Item{GUID: "g\x00\xff1", Title: "Pantai\x00 Cen\xffang"}, ok: true, id: "g1", text: "Pantai Cenang", postedAt: now},
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

func TestItemPostAuthorAndURL(t *testing.T) {
	now := time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)
	fits := "https://talk.example.my/" + strings.Repeat("ä", db.MaxURL-24)
	for name, tc := range map[string]struct {
		author, link string
		wantAuthor   string
		wantURL      string
	}{
		"plain":            {author: "Aisyah", link: "https://talk.example.my/p/1", wantAuthor: "Aisyah", wantURL: "https://talk.example.my/p/1"},
		"long author":      {author: strings.Repeat("Ä", 300_000), wantAuthor: strings.Repeat("Ä", db.MaxAuthor)},
		"cut at a space":   {author: strings.Repeat("a", db.MaxAuthor-1) + " bc"},
		"nul and invalid":  {author: "Ais\x00yah\xff", wantAuthor: "Aisyah"},
		"url that fits":    {link: fits, wantURL: fits},
		"url too long":     {link: fits + "x"},
		"javascript":       {link: "javascript:alert(1)"},
		"relative":         {link: "/p/1"},
		"no host":          {link: "https:///p/1"},
		"spaces around":    {link: " http://talk.example.my/p/1\n", wantURL: "http://talk.example.my/p/1"},
		"nul in the link":  {link: "https://talk.example.my/p\x00/1", wantURL: "https://talk.example.my/p/1"},
		"only a bad byte":  {author: "\xff"},
		"author from feed": {author: " \t "},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "cut at a space" {
				tc.wantAuthor = strings.Repeat("a", db.MaxAuthor-1)
			}
			it := gofeed.Item{GUID: "g", Title: "T", Link: tc.link, Authors: []*gofeed.Person{{Name: tc.author}}}
			p, ok := itemPost(&it, "feed:example.com/rss", now)
			if !ok {
				t.Fatal("no post")
			}
			if got := deref(p.Author); got != tc.wantAuthor || (p.Author != nil && *p.Author == "") {
				t.Errorf("author %q (%d runes), want %q", got, utf8.RuneCountInString(got), tc.wantAuthor)
			}
			if got := deref(p.URL); got != tc.wantURL {
				t.Errorf("url %q, want %q", got, tc.wantURL)
			}
			checkPost(t, p, now)
		})
	}
}

// A feed of huge and hostile fields is stored, every field within db's
// limits, and its run succeeds.
func TestRunStoresBoundedPosts(t *testing.T) {
	author := strings.Repeat("Ä", 300_000) // 600 KB
	description := strings.Repeat("Pantai Cenang &lt;b&gt;sunny&lt;/b&gt; é ", 1<<20/40)
	fits := "https://talk.example.my/" + strings.Repeat("p", db.MaxURL-24)
	longID := strings.Repeat("é", 300)
	rss := `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>huge</title>` +
		`<item><title>Pantai Cenang</title><guid>huge-1</guid><link>` + fits + `</link><dc:creator>` + author +
		`</dc:creator><description>` + description + `</description></item>` +
		`<item><title>Pantai Cenang again</title><guid>` + longID + `</guid><link>` + fits + `x</link></item>` +
		`<item><title>Pantai Cenang at night</title><guid>huge-3</guid><link>javascript:alert(1)</link></item>` +
		`</channel></rss>`
	jsonFeed := `{"version":"https://jsonfeed.org/version/1.1","title":"huge","items":[{"id":"json-1",` +
		`"title":"Pantai Cenang\u0000 by night","url":"https://talk.example.my/j\u00001",` +
		`"authors":[{"name":"A\u0000isyah ` + author + `"}],"content_text":"` + html.UnescapeString(description) + `"}]}`
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		d := mustDestinations(t, s)
		base := serve(t, map[string]http.HandlerFunc{
			"/huge.xml":  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, rss) },
			"/huge.json": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, jsonFeed) },
		})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/huge.xml", base + "/huge.json"}})
		run := mustRun(t, sc)
		if run.Status != db.RunSucceeded || run.Error != nil || run.PostsStored != 4 {
			t.Fatalf("run = %s, %d stored, error %q; want SUCCEEDED with 4 posts", run.Status, run.PostsStored, deref(run.Error))
		}
		posts := map[string]*db.Post{}
		for _, p := range postsOf(t, s, d["Pantai Cenang"].ID) {
			posts[p.ExternalID] = p
			checkPost(t, db.PostInput{Source: p.Source, ExternalID: p.ExternalID, Text: p.Text, Author: p.Author, URL: p.URL,
				PostedAt: p.PostedAt.UTC()}, s.Now())
		}
		type want struct{ author, url, textPrefix string }
		for id, w := range map[string]want{
			"huge-1":       {author: strings.Repeat("Ä", db.MaxAuthor), url: fits, textPrefix: "Pantai Cenang\nPantai Cenang sunny é"},
			hash32(longID): {textPrefix: "Pantai Cenang again"},    // its link too long to store
			"huge-3":       {textPrefix: "Pantai Cenang at night"}, // no javascript: link
			"json-1": {author: "Aisyah " + strings.Repeat("Ä", db.MaxAuthor-7), url: "https://talk.example.my/j1",
				textPrefix: "Pantai Cenang by night\nPantai Cenang sunny é"},
		} {
			p := posts[id]
			if p == nil {
				t.Errorf("%s not stored; stored %d posts", id, len(posts))
				continue
			}
			if deref(p.Author) != w.author || deref(p.URL) != w.url || !strings.HasPrefix(p.Text, w.textPrefix) {
				t.Errorf("%s: author %.20q… (%d runes), url %.40q… (%d runes), text %.60q…; want author %.20q…, url %.40q…, text %q…",
					id, deref(p.Author), utf8.RuneCountInString(deref(p.Author)), deref(p.URL), utf8.RuneCountInString(deref(p.URL)),
					p.Text, w.author, w.url, w.textPrefix)
			}
		}
		// Cut to the limit, then a space at the cut trimmed.
		if p := posts["huge-1"]; p != nil && utf8.RuneCountInString(p.Text) < db.MaxPostText-1 {
			t.Errorf("huge-1: text of %d runes, want it cut to %d", utf8.RuneCountInString(p.Text), db.MaxPostText)
		}
	})
}

func TestFeedSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://Talk.Example.my/feed.xml?page=2":  "feed:talk.example.my/feed.xml",
		"http://127.0.0.1:8080/a b/rss":            "feed:127.0.0.1:8080/a%20b/rss",
		"https://x.my/" + strings.Repeat("p", 200): "feed:" + hash32("feed:x.my/"+strings.Repeat("p", 200)),
		"https://%ff.my/rss":                       "feed:\ufffd.my/rss", // a host that is not UTF-8
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
		"source":     {p.Source, 1, db.MaxSource},
		"externalId": {p.ExternalID, 1, db.MaxExternalID},
		"text":       {p.Text, 1, db.MaxPostText},
		"author":     {deref(p.Author), 0, db.MaxAuthor},
		"url":        {deref(p.URL), 0, db.MaxURL},
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
	if p.PostedAt.IsZero() || p.PostedAt.After(now) || p.PostedAt.Location() != time.UTC || p.PostedAt.Year() < 1 {
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
		const limit = 3 // below the fixtures' items: the cut is fuzzed too
		items, n, err := parseFeed(body, limit)
		if err != nil {
			return
		}
		if len(items) > limit || n < len(items) {
			t.Fatalf("%d items of %d; want at most %d", len(items), n, limit)
		}
		for _, p := range feedPosts(items, "feed:example.com/rss", now) {
			checkPost(t, p, now)
		}
	})
}
