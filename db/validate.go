package db

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits of the validated inputs, in characters (runes). They are
// exported so that every producer of input (the API's arguments, the
// scraper's items) checks or truncates against the same numbers.
const (
	MaxTitle       = 200
	MaxDescription = 10_000
	MaxLocation    = 200
	MaxName        = 200
	MaxSlug        = 100
	MaxCity        = 100
	MaxSource      = 100
	MaxExternalID  = 200
	MaxPostText    = 10_000
	MaxAuthor      = 200
	MaxURL         = 2048
	// MaxSearch bounds a text search (filter.search).
	MaxSearch = 200
	// MaxIngestBatch is the most posts one IngestPosts call accepts.
	MaxIngestBatch = 1000
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// text trims s and checks that it has lo..hi runes.
func text(field, s string, lo, hi int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0:
		return "", Invalid(field, "must be valid text")
	case n < lo && lo == 1:
		return "", Invalid(field, "must not be empty")
	case n < lo:
		return "", Invalid(field, "must be at least %d characters", lo)
	case n > hi:
		return "", Invalid(field, "must be at most %d characters", hi)
	}
	return s, nil
}

func checkPrice(field string, m Money) error {
	if m < 0 || m >= MaxMoney {
		return Invalid(field, "must be at least 0 and less than %s", MaxMoney)
	}
	return nil
}

func checkCoord(field string, v *float64, limit float64) error {
	if v != nil && !(*v >= -limit && *v <= limit) {
		return Invalid(field, "must be between -%g and %g", limit, limit)
	}
	return nil
}

func checkCategory(field string, c Category) error {
	if !c.Valid() {
		return Invalid(field, "unknown category %q", c)
	}
	return nil
}

func checkRange(r TimeRange) error {
	if !r.Valid() {
		return Invalid("range", "unknown time range %q", r)
	}
	return nil
}

func equalFloatPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func equalIDPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
