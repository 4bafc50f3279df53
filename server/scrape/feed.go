package scrape

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/kedahpulse/kedahpulse/db"
)

// feedSource is the Source of the posts of the feed at u: "feed:" + host +
// path of the URL the feed is configured with, which is stable across runs
// (the feed's own link is not under our control). Too long a source is
// replaced by a hash of it. It is valid UTF-8: ToLower makes the host so,
// and EscapedPath is ASCII.
func feedSource(u *url.URL) string {
	src := "feed:" + strings.ToLower(u.Host) + u.EscapedPath()
	if len(src) > db.MaxSource { // bytes: at least as many as runes
		return "feed:" + hash32(src)
	}
	return src
}

// feedPosts maps items to posts from source, their destinations not yet
// set. Items with no text at all are left out. Every field of a post keeps
// within db's limits (db.MaxPostText and the others), so that an odd item
// never makes IngestPosts reject the batch it is in: text and author are
// cut, an identifier too long is replaced by its hash, a link too long is
// left out, and all are valid UTF-8 without NUL bytes.
func feedPosts(items []*gofeed.Item, source string, now time.Time) []db.PostInput {
	posts := make([]db.PostInput, 0, len(items))
	for _, it := range items {
		if p, ok := itemPost(it, source, now); ok {
			posts = append(posts, p)
		}
	}
	return posts
}

// itemPost maps one item. Text is the title, a newline and the plain text
// of the content (else the description), at most db.MaxPostText runes.
// ExternalID is the GUID, else the link, else a hash of the text. PostedAt
// is the published time, else the updated time, else now, and never after
// now. URL is the link when it is an absolute http(s) URL that fits.
func itemPost(it *gofeed.Item, source string, now time.Time) (db.PostInput, bool) {
	if it == nil {
		return db.PostInput{}, false
	}
	// Each part is cut before they are joined: a megabyte of description
	// is not copied again to keep its first ten thousand runes.
	title := truncate(stripHTML(it.Title), db.MaxPostText)
	body := stripHTML(it.Content)
	if body == "" {
		body = stripHTML(it.Description)
	}
	body = truncate(body, db.MaxPostText)
	text := title
	if body != "" && body != title {
		if text != "" {
			text += "\n"
		}
		text += body
	}
	text = strings.TrimSpace(truncate(text, db.MaxPostText))
	if text == "" {
		return db.PostInput{}, false
	}
	p := db.PostInput{
		Source:     source,
		ExternalID: externalID(it, text),
		Text:       text,
		PostedAt:   postedAt(it, now),
	}
	if name := itemAuthor(it); name != "" {
		p.Author = &name
	}
	if link := itemURL(it.Link); link != "" {
		p.URL = &link
	}
	return p, true
}

// externalID is the item's GUID, else its link, else the first 32 hex
// digits of the SHA-256 of its text. An identifier too long to store is
// replaced by its hash, which keeps it unique and stable.
func externalID(it *gofeed.Item, text string) string {
	for _, id := range []string{it.GUID, it.Link} {
		if id = cleanSpace(id); id != "" {
			if utf8.RuneCountInString(id) > db.MaxExternalID {
				return hash32(id)
			}
			return id
		}
	}
	return hash32(text)
}

// postedAt is the item's time in UTC, which must fall in year 1 or later
// (db refuses earlier ones; 0001-01-01 in a zone east of UTC does not).
func postedAt(it *gofeed.Item, now time.Time) time.Time {
	t := now
	for _, p := range []*time.Time{it.PublishedParsed, it.UpdatedParsed} {
		if p != nil && !p.IsZero() && p.UTC().Year() >= 1 {
			t = *p
			break
		}
	}
	if t.After(now) {
		t = now
	}
	return t.UTC()
}

func itemAuthor(it *gofeed.Item) string {
	var name string
	switch {
	case len(it.Authors) > 0 && it.Authors[0] != nil:
		name = it.Authors[0].Name
	case it.Author != nil:
		name = it.Author.Name
	}
	return strings.TrimSpace(truncate(cleanSpace(name), db.MaxAuthor))
}

// itemURL is link cleaned, or "" unless it is an absolute http or https URL
// of at most db.MaxURL runes: a longer one is left out rather than stored
// cut, and any other scheme (javascript:, data:) has no place in a post a
// client may render as a link.
func itemURL(link string) string {
	link = cleanSpace(link)
	if link == "" || utf8.RuneCountInString(link) > db.MaxURL {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return link
}

// truncate cuts s to at most n runes, on a rune boundary. A cut string is
// a copy, so that a post does not keep the whole of a long one alive.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return strings.Clone(s[:j])
		}
		i++
	}
	return s
}

// hash32 is the first 32 hex digits of the SHA-256 of s.
func hash32(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:32]
}
