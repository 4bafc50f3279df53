package respcache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/kedahpulse/kedahpulse/cache"
)

// Lookup and fill: an answer is stored in the cache.Cache as one value
// under Key, validated by the versions of the tags its reads recorded
// (record), and read back by get with the stamp that set needs.

// Request identifies what one request executes.
type Request struct {
	Document  string         // id of the prepared document
	Operation string         // the operation's name ("" when anonymous)
	Variables map[string]any // as coerced by gqlgen for the operation
	Scope     string         // "public", or the caller's for PRIVATE answers
}

// Digest identifies r: a hash of exactly what gqlgen executes and for
// whom, the same whatever the hour. Its length is fixed whatever the
// inputs.
func Digest(r Request) (string, error) {
	vars, err := json.Marshal(r.Variables) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("respcache: key: %w", err)
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(r.Document), []byte(r.Operation), vars, []byte(r.Scope)} {
		h.Write(strconv.AppendInt(nil, int64(len(part)), 10)) // length-prefixed: no two splits collide
		h.Write([]byte{':'})
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Key names the entry of the request whose Digest is digest, now. It
// carries the current hour because analytics windows end on the hour: an
// answer never outlives its window.
func (l *Level) Key(digest string) string {
	hour := l.now().UTC().Truncate(time.Hour).Unix()
	return "response|" + strconv.FormatInt(hour, 10) + "|" + digest
}

// entry is a stored answer.
type entry struct {
	Body []byte
	ETag string        // a strong ETag of Body, quoted
	Age  time.Duration // since it was stored (for the Age header)
	Tags []byte        // the tags it was built from, comma-separated (for a CDN's purge-by-tag header)
}

// etagOf is the strong entity tag of body, quoted.
func etagOf(body []byte) string {
	return `"` + strconv.FormatUint(xxhash.Sum64(body), 36) + `"`
}

// A stored value is the time it was stored (8 bytes, Unix ms), the lengths
// of its ETag (1 byte) and of its tags (2 bytes), then the ETag, the tags
// and the body.
const valueHeader = 11

// get returns the answer stored under key if it is still valid, and
// otherwise the stamp to give set with the answer computed now.
func (l *Level) get(ctx context.Context, key string) (entry, cache.Stamp, bool) {
	v, stamp, ok := l.cache.GetResponse(ctx, key)
	if !ok || len(v) < valueHeader {
		return entry{}, stamp, false
	}
	stored := time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
	e, n := int(v[8]), int(binary.BigEndian.Uint16(v[9:]))
	if len(v) < valueHeader+e+n {
		return entry{}, stamp, false
	}
	v = v[valueHeader:]
	return entry{ETag: string(v[:e]), Tags: v[e : e+n], Body: v[e+n:], Age: max(l.now().Sub(stored), 0)}, stamp, true
}

// record returns a context whose reads record the tag versions they used,
// for set.
func record(ctx context.Context) (context.Context, *cache.Recorder) {
	return cache.WithRecorder(ctx)
}

// set stores body, whose ETag is etag, under key for ttl if every read
// recorded in rec was consistent (no read bypassed the cache), with the
// time and the tags it was built from, and returns those tags as
// entry.Tags names them ("" when nothing was stored). stamp is what get
// returned before body was computed. The write survives the caller's
// cancellation: the answer is already paid for.
func (l *Level) set(ctx context.Context, key string, body []byte, etag string, rec *cache.Recorder, stamp cache.Stamp, ttl time.Duration) string {
	versions, consistent := rec.Versions()
	if !consistent || len(etag) > 255 {
		return ""
	}
	tags := strings.Join(slices.Sorted(maps.Keys(versions)), ",")
	if len(tags) > 1<<16-1 {
		tags = "" // too many to name: the entry is served without them
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, valueHeader+len(etag)+len(tags)+len(body)), uint64(l.now().UnixMilli()))
	v = append(v, byte(len(etag)))
	v = binary.BigEndian.AppendUint16(v, uint16(len(tags)))
	v = append(append(append(v, etag...), tags...), body...)
	l.cache.SetResponse(context.WithoutCancel(ctx), key, v, versions, stamp, ttl)
	return tags
}
