package db

import (
	"regexp"
	"strings"
	"time"
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
	// MaxCursor bounds a page cursor (after): the base64 of the longest
	// cursor, a name key of MaxName runes of up to 4 bytes each plus the
	// order and two varints.
	MaxCursor = 4 * (40 + 4*MaxName) / 3
	// MaxFirst is the largest page a list returns.
	MaxFirst = 100
	// MaxIngestBatch is the most posts one IngestPosts call accepts.
	MaxIngestBatch = 1000
)

// minTime and maxTime bound the times a client may send (cursor keys,
// postedAt): years 1 to 9999, which both dialects store, format and
// compare as written. PostgreSQL refuses some times outside them.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// text trims s and checks it with checkText.
func text(field, s string, lo, hi int) (string, error) {
	s = strings.TrimSpace(s)
	if err := checkText(field, s, lo, hi); err != nil {
		return "", err
	}
	return s, nil
}

// checkText checks that s is valid UTF-8 without NUL bytes (PostgreSQL
// refuses both, and SQLite's C API cuts a statement at a NUL) and has
// lo..hi runes. Every string a client sends, to a write or to a filter,
// goes through it or through text before any SQL runs.
func checkText(field, s string, lo, hi int) error {
	if len(s) > 4*hi { // too long whatever it holds: spare counting it
		return Invalid(field, "must be at most %d characters", hi)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0:
		return Invalid(field, "must be valid text")
	case n < lo && lo == 1:
		return Invalid(field, "must not be empty")
	case n < lo:
		return Invalid(field, "must be at least %d characters", lo)
	case n > hi:
		return Invalid(field, "must be at most %d characters", hi)
	}
	return nil
}

// optionalText is text for an optional field: nil stays nil.
func optionalText(field string, s *string, hi int) (*string, error) {
	if s == nil {
		return nil, nil
	}
	v, err := text(field, *s, 0, hi)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// checkCityFilter checks a city filter; nil is no filter. Cities are compared
// by CitySlug, so the text itself is only bounded.
func checkCityFilter(field string, city *string) error {
	if city == nil {
		return nil
	}
	return checkText(field, *city, 0, MaxCity)
}

func checkFirst(first int) error {
	if first < 0 || first > MaxFirst {
		return Invalid("first", "must be between 0 and %d", MaxFirst)
	}
	return nil
}

// checkTime checks that t is within minTime..maxTime.
func checkTime(field string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return Invalid(field, "must be between years 1 and 9999")
	}
	return nil
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
