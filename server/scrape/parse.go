package scrape

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	jsonfeed "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
)

// errFeedType is the parse error of a body that is not a feed.
var errFeedType = errors.New("not an RSS, Atom or JSON feed")

// parseFeed parses body as RSS, Atom or JSON Feed, told apart by their
// first element or character, and returns the first limit items of the feed
// in document order and how many it has. It reads body in place: gofeed's
// own Parse would copy it twice to detect the format, and its RSS
// translator parses every item's HTML to find an image. A panic in a
// parser on hostile input fails this feed, not the process: the workers
// that call it run outside cron.Recover.
func parseFeed(body []byte, limit int) (items []*gofeed.Item, n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			items, n, err = nil, 0, fmt.Errorf("parser panic: %v", p)
		}
	}()
	switch feedFormat(body) {
	case "rss":
		r, n := firstItems(body, limit)
		f, err := (&rss.Parser{}).Parse(r)
		if err != nil {
			return nil, 0, err
		}
		items := make([]*gofeed.Item, 0, min(len(f.Items), limit))
		for _, it := range f.Items[:min(len(f.Items), limit)] {
			items = append(items, rssItem(it))
		}
		return items, max(n, len(f.Items)), nil
	case "atom":
		r, n := firstItems(body, limit)
		f, err := (&atom.Parser{}).Parse(r)
		if err != nil {
			return nil, 0, err
		}
		n = max(n, len(f.Entries))
		f.Entries = f.Entries[:min(len(f.Entries), limit)]
		return translate(&gofeed.DefaultAtomTranslator{}, f, n)
	case "json":
		f := &jsonfeed.Feed{}
		items := &jsonItems{limit: limit}
		if err := json.Unmarshal(body, &struct {
			*jsonfeed.Feed
			Items *jsonItems `json:"items"`
		}{f, items}); err != nil {
			return nil, 0, err
		}
		f.Items = items.items
		return translate(&gofeed.DefaultJSONTranslator{}, f, items.n)
	}
	return nil, 0, errFeedType
}

func translate(t gofeed.Translator, f any, n int) ([]*gofeed.Item, int, error) {
	feed, err := t.Translate(f)
	if err != nil {
		return nil, 0, err
	}
	return feed.Items, n, nil
}

// feedFormat is "rss", "atom" or "json" by the first character of body
// past white space and byte order marks, and for XML by the name of its
// root element; "" when it is none of them.
func feedFormat(body []byte) string {
	body = bytes.TrimLeft(body, " \t\r\n\x00\xef\xbb\xbf\xfe\xff")
	switch {
	case len(body) == 0:
		return ""
	case body[0] == '{':
		return "json"
	case body[0] != '<':
		return ""
	}
	d := newXMLScanner(body)
	for {
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		if el, ok := tok.(xml.StartElement); ok {
			switch strings.ToLower(el.Name.Local) {
			case "rss", "rdf":
				return "rss"
			case "feed":
				return "atom"
			}
			return ""
		}
	}
}

// newXMLScanner returns a decoder of body's raw tokens that reads no
// further than element names need: any declared encoding is read as is, as
// the names that matter are ASCII in every feed format.
func newXMLScanner(body []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// firstItems returns a reader of the XML feed body cut short before its
// item (or entry) number limit+1, with the elements open there closed, and
// how many items the body has; a body that plainly has at most limit items
// is read whole, and its count left at 0 for the parser to tell. The parser then builds no more items than are taken: a body
// packed with tiny items would otherwise cost far more than its size.
func firstItems(body []byte, limit int) (io.Reader, int) {
	if countItemTags(body) <= limit {
		return bytes.NewReader(body), 0
	}
	d := newXMLScanner(body)
	var open []xml.Name
	cut, n := -1, 0
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bytes.NewReader(body), 0 // the parser words the error
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			// Items are children of the root (RSS 1.0, Atom) or of the
			// channel (RSS 2.0).
			if name := strings.ToLower(tok.Name.Local); len(open) <= 2 && (name == "item" || name == "entry") {
				if n++; n == limit+1 {
					cut = int(off)
				}
			}
			if cut < 0 {
				open = append(open, tok.Name)
			}
		case xml.EndElement:
			if cut < 0 && len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if cut < 0 {
		return bytes.NewReader(body), n
	}
	var end strings.Builder
	for i := len(open) - 1; i >= 0; i-- {
		end.WriteString("</")
		if open[i].Space != "" {
			end.WriteString(open[i].Space + ":")
		}
		end.WriteString(open[i].Local + ">")
	}
	return io.MultiReader(bytes.NewReader(body[:cut]), strings.NewReader(end.String())), n
}

// countItemTags counts the tags of body that may start an item or an
// entry: at least as many as it has.
func countItemTags(body []byte) int {
	n := 0
	for i := 0; ; i++ {
		j := bytes.IndexByte(body[i:], '<')
		if j < 0 {
			return n
		}
		i += j
		rest := body[i+1:]
		if len(rest) >= 4 && bytes.EqualFold(rest[:4], []byte("item")) ||
			len(rest) >= 5 && bytes.EqualFold(rest[:5], []byte("entry")) {
			n++
		}
	}
}

// jsonItems decodes a JSON Feed's items array, keeping the first limit items
// and counting the rest without decoding them.
type jsonItems struct {
	limit int
	items []*jsonfeed.Item
	n     int
}

func (j *jsonItems) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
		return errors.New("items: not an array")
	}
	for ; d.More(); j.n++ {
		var v any = &json.RawMessage{} // skipped
		if j.n < j.limit {
			it := &jsonfeed.Item{}
			j.items = append(j.items, it)
			v = it
		}
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("items[%d]: %w", j.n, err)
		}
	}
	return nil
}

// rssItem maps the fields of an RSS item that posts are made of, with the
// fallbacks gofeed's translator has for them (Dublin Core and iTunes).
func rssItem(it *rss.Item) *gofeed.Item {
	var dc struct{ title, description, author, date string }
	if ext := it.DublinCoreExt; ext != nil {
		dc.title, dc.description = first(ext.Title), first(ext.Description)
		dc.author, dc.date = firstNonEmpty(first(ext.Author), first(ext.Creator)), first(ext.Date)
	}
	var itunes struct{ summary, author string }
	if ext := it.ITunesExt; ext != nil {
		itunes.summary, itunes.author = ext.Summary, ext.Author
	}
	out := &gofeed.Item{
		Title:           firstNonEmpty(it.Title, dc.title),
		Description:     firstNonEmpty(it.Description, dc.description, itunes.summary),
		Content:         it.Content,
		Link:            it.Link,
		PublishedParsed: it.PubDateParsed,
	}
	if it.GUID != nil {
		out.GUID = it.GUID.Value
	}
	if t, ok := parseDate(dc.date); ok {
		out.UpdatedParsed = &t
		if out.PublishedParsed == nil {
			out.PublishedParsed = &t
		}
	}
	if name := rssPersonName(firstNonEmpty(it.Author, dc.author, itunes.author)); name != "" {
		out.Authors = []*gofeed.Person{{Name: name}}
	}
	return out
}

// The forms of an RSS person with a name and an address.
var (
	addressNameRE = regexp.MustCompile(`^[^@\s]+@\S+\s+\(([^@]+)\)$`)           // jo@example.my (Jo)
	nameAddressRE = regexp.MustCompile(`^([^@(<]+?)\s*[(<][^@\s]+@[^)>]+[)>]$`) // Jo (jo@example.my), Jo <jo@example.my>
)

// rssPersonName is the name in an RSS person, which is an address with or
// without a name; a bare address has none.
func rssPersonName(s string) string {
	s = strings.TrimSpace(s)
	if m := addressNameRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if m := nameAddressRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if strings.Contains(s, "@") {
		return ""
	}
	return s
}

// dateLayouts are the forms of a Dublin Core date (W3C-DTF) and, as feeds
// use it there too, RSS's own.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02", time.RFC1123Z, time.RFC1123}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
