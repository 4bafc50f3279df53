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

// Limits of a mapped post, in runes. They mirror db's validation so that an
// odd item can never make IngestPosts reject the batch it is in.
const (
	maxText       = 10_000
	maxSource     = 100
	maxExternalID = 200
	maxAuthor     = 200
	maxURL        = 2000
)

// feedSource is the Source of the posts of the feed at u: "feed:" + host +
// path of the URL the feed is configured with, which is stable across runs
// (the feed's own link is not under our control). Too long a source is
// replaced by a hash of it.
func feedSource(u *url.URL) string {
	src := "feed:" + strings.ToLower(u.Host) + u.EscapedPath()
	if len(src) > maxSource { // EscapedPath is ASCII: bytes are runes
		return "feed:" + hash32(src)
	}
	return src
}

// feedPosts maps items to posts from source, their destinations not yet
// set. Items with no text at all are left out.
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
// of the content (else the description), at most maxText runes. ExternalID
// is the GUID, else the link, else a hash of the text. PostedAt is the
// published time, else the updated time, else now, and never after now.
func itemPost(it *gofeed.Item, source string, now time.Time) (db.PostInput, bool) {
	if it == nil {
		return db.PostInput{}, false
	}
	title := stripHTML(it.Title)
	body := stripHTML(it.Content)
	if body == "" {
		body = stripHTML(it.Description)
	}
	text := title
	if body != "" && body != title {
		if text != "" {
			text += "\n"
		}
		text += body
	}
	text = strings.TrimSpace(truncate(text, maxText))
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
	if link := cleanSpace(it.Link); link != "" && utf8.RuneCountInString(link) <= maxURL {
		p.URL = &link
	}
	return p, true
}

// externalID is the item's GUID, else its link, else the first 32 hex
// digits of the SHA-256 of its text. An identifier too long to store is
// replaced by its hash.
func externalID(it *gofeed.Item, text string) string {
	for _, id := range []string{it.GUID, it.Link} {
		if id = cleanSpace(id); id != "" {
			if utf8.RuneCountInString(id) > maxExternalID {
				return hash32(id)
			}
			return id
		}
	}
	return hash32(text)
}

func postedAt(it *gofeed.Item, now time.Time) time.Time {
	t := now
	for _, p := range []*time.Time{it.PublishedParsed, it.UpdatedParsed} {
		if p != nil && !p.IsZero() && p.Year() >= 1 {
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
	return truncate(cleanSpace(name), maxAuthor)
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
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
