package cache

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// An entry is a header line of tag/version pairs followed by the payload:
//
//	tag1 ver1 tag2 ver2\n<payload bytes>
//
// Tags and versions match [a-z0-9:._-]+, so neither a space nor a newline
// can occur inside them and the header is unambiguous. The payload is opaque
// and may be empty (a cached "no value").

// tagVersion is one tag of an entry and the version it was filled at.
type tagVersion struct {
	Tag     string
	Version string
}

var errBadEntry = errors.New("cache: malformed entry")

// validToken reports whether s matches [a-z0-9:._-]+.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == ':', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// ValidTag reports whether tag can be used as a cache tag: it must match
// [a-z0-9:._-]+.
func ValidTag(tag string) bool { return validToken(tag) }

// encodeEntry writes the header for tags (sorted by tag; each tag at most
// once) followed by payload.
func encodeEntry(tags []tagVersion, payload []byte) ([]byte, error) {
	n := 1 + len(payload)
	for i, tv := range tags {
		if !validToken(tv.Tag) || !validToken(tv.Version) {
			return nil, fmt.Errorf("cache: encode entry: invalid tag %q or version %q", tv.Tag, tv.Version)
		}
		if i > 0 && tags[i-1].Tag >= tv.Tag {
			return nil, fmt.Errorf("cache: encode entry: tags not sorted and unique at %q", tv.Tag)
		}
		n += len(tv.Tag) + len(tv.Version) + 2
	}
	b := make([]byte, 0, n)
	for i, tv := range tags {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, tv.Tag...)
		b = append(b, ' ')
		b = append(b, tv.Version...)
	}
	b = append(b, '\n')
	return append(b, payload...), nil
}

// decodeEntry splits a stored entry into its tag versions and payload. The
// payload aliases b.
func decodeEntry(b []byte) ([]tagVersion, []byte, error) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return nil, nil, errBadEntry
	}
	tags, err := parseHeader(string(b[:nl]))
	if err != nil {
		return nil, nil, err
	}
	return tags, b[nl+1:], nil
}

// parseHeader reads an entry's header line (without its newline).
func parseHeader(header string) ([]tagVersion, error) {
	if header == "" {
		return nil, nil
	}
	fields := strings.Split(header, " ")
	if len(fields)%2 != 0 {
		return nil, errBadEntry
	}
	tags := make([]tagVersion, 0, len(fields)/2)
	for i := 0; i < len(fields); i += 2 {
		if !validToken(fields[i]) || !validToken(fields[i+1]) {
			return nil, errBadEntry
		}
		tags = append(tags, tagVersion{Tag: fields[i], Version: fields[i+1]})
	}
	return tags, nil
}

// appendTagSet appends tags plus AllTag to dst, sorted and without
// duplicates (an entry's tag set).
func appendTagSet(dst, tags []string) []string {
	start := len(dst)
	dst = append(dst, tags...)
	dst = append(dst, AllTag)
	s := dst[start:]
	slices.Sort(s)
	return dst[:start+len(slices.Compact(s))]
}
