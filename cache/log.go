package cache

import (
	"slices"
	"strconv"
	"strings"
)

// The invalidation log makes a response-level hit cost O(1) whatever the
// number of tags the response carries. Every Bump appends one record (the
// tags it bumped) to the store's log after giving them new versions; a
// Stamp names a point of the log. A response entry is stored with the
// stamp read before its fill read any tag version, so it was valid at its
// stamp: a later hit reads the entry and the log's current stamp in one
// round trip, and the same stamp means no bump since, so still valid. A
// different one asks the log for the records after the entry's stamp: if
// none names a tag of the entry, it is still valid (and is re-stamped);
// if the log no longer holds them all (trimmed, lost, another log), the
// entry's tags are checked one by one (their versions, as Load does).
//
// A log that is lost (evicted, expired, or a Redis node that restarted from
// an older snapshot, which the epoch check clears) comes back with a new
// random id, so no stamp of the old log ever matches it.

// Stamp names a point of an invalidation log: the log's random id and the
// number of bumps recorded in it so far. The zero Stamp names no point.
type Stamp struct {
	Log string
	N   int64
}

// IsZero reports whether s names no point (the store could not be read).
func (s Stamp) IsZero() bool { return s.Log == "" }

// Changes are what a store's log says since a stamp.
type Changes struct {
	Now Stamp // the log's current stamp
	// Complete: since was of this log and the log still holds every record
	// after it (at most MaxChanges), whose tags are in Tags.
	Complete bool
	Tags     []string
	// Tail: the last records of the log (at most MaxChanges, oldest
	// first), when Observe was asked for them with TailStamp.
	Tail []Record
}

// Record is one Bump in a log: its number and its tags.
type Record struct {
	N    int64
	Tags []string
}

// TailStamp asks Observe for the log's last records (Changes.Tail) rather
// than the records since a stamp: one read then answers for every stamp
// among them (see Changes.Since).
var TailStamp = Stamp{N: -1}

// Since returns the tags bumped after s, from ch.Tail; ok is false when
// the tail does not reach back to s (or s is of another log).
func (ch Changes) Since(s Stamp) (tags []string, ok bool) {
	if s.Log != ch.Now.Log || s.N > ch.Now.N {
		return nil, false
	}
	if s.N == ch.Now.N {
		return nil, true
	}
	if len(ch.Tail) == 0 || ch.Tail[0].N > s.N+1 || ch.Tail[len(ch.Tail)-1].N != ch.Now.N {
		return nil, false
	}
	for _, r := range ch.Tail {
		if r.N > s.N {
			tags = append(tags, r.Tags...)
		}
	}
	return tags, true
}

// Bounds of the log: the records a store keeps, and the records Observe
// returns (more means incomplete: checking the tags one by one is then
// cheaper).
const (
	LogCapacity = 1024
	MaxChanges  = 64
)

// ParseRecord reads a record as a store keeps it with its number,
// "n tag tag ...".
func ParseRecord(m string) (Record, bool) {
	n, tags, _ := strings.Cut(m, " ")
	v, err := strconv.ParseInt(n, 10, 64)
	return Record{N: v, Tags: decodeRecord(tags)}, err == nil
}

// EncodeRecord writes a record's tags as one string, as stores keep it;
// decodeRecord reads it back.
func EncodeRecord(tags []string) string { return strings.Join(tags, " ") }

func decodeRecord(r string) []string { return strings.Fields(r) }

// touches reports whether any of changed is in tags (sorted).
func touches(tags, changed []string) bool {
	for _, t := range changed {
		if _, ok := slices.BinarySearch(tags, t); ok {
			return true
		}
	}
	return false
}

// String is the stamp as stored in a response entry: "log n".
func (s Stamp) String() string { return s.Log + " " + strconv.FormatInt(s.N, 10) }

// parseStamp reads String's form.
func parseStamp(s string) (Stamp, bool) {
	log, n, ok := strings.Cut(s, " ")
	if !ok || !validToken(log) {
		return Stamp{}, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v < 0 {
		return Stamp{}, false
	}
	return Stamp{Log: log, N: v}, true
}
