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

// Cache stores whole responses in a cache.Cache.
type Cache struct {
	cache *cache.Cache
	now   func() time.Time
}

// New returns a response cache over c, reading the hour from now.
func New(c *cache.Cache, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{cache: c, now: now}
}

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
func (c *Cache) Key(digest string) string {
	hour := c.now().UTC().Truncate(time.Hour).Unix()
	return "response|" + strconv.FormatInt(hour, 10) + "|" + digest
}

// Entry is a stored answer.
type Entry struct {
	Body []byte
	ETag string        // a strong ETag of Body, quoted
	Age  time.Duration // since it was stored (for the Age header)
	Tags []byte        // the tags it was built from, comma-separated (for a CDN's purge-by-tag header)
}

// ETag is the strong entity tag of body, quoted.
func ETag(body []byte) string {
	return `"` + strconv.FormatUint(xxhash.Sum64(body), 36) + `"`
}

// A stored value is the time it was stored (8 bytes, Unix ms), the lengths
// of its ETag (1 byte) and of its tags (2 bytes), then the ETag, the tags
// and the body.
const valueHeader = 11

// Get returns the answer stored under key if it is still valid, and
// otherwise the stamp to give Set with the answer computed now.
func (c *Cache) Get(ctx context.Context, key string) (Entry, cache.Stamp, bool) {
	v, stamp, ok := c.cache.GetResponse(ctx, key)
	if !ok || len(v) < valueHeader {
		return Entry{}, stamp, false
	}
	stored := time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
	e, n := int(v[8]), int(binary.BigEndian.Uint16(v[9:]))
	if len(v) < valueHeader+e+n {
		return Entry{}, stamp, false
	}
	v = v[valueHeader:]
	return Entry{ETag: string(v[:e]), Tags: v[e : e+n], Body: v[e+n:], Age: max(c.now().Sub(stored), 0)}, stamp, true
}

// CountHits counts a hit of each of coords, the cached root fields of an
// answer Get returned, so the statistics of a field count the requests
// for it whichever level answered them.
func (c *Cache) CountHits(coords []string) { c.cache.CountHits(coords) }

// Record returns a context whose reads record the tag versions they used,
// for Set.
func (c *Cache) Record(ctx context.Context) (context.Context, *cache.Recorder) {
	return cache.WithRecorder(ctx)
}

// Set stores body, whose ETag is etag, under key for ttl if every read
// recorded in rec was consistent (no read bypassed the cache), with the
// time and the tags it was built from, and returns those tags as
// Entry.Tags names them ("" when nothing was stored). stamp is what Get
// returned before body was computed. The write survives the caller's
// cancellation: the answer is already paid for.
func (c *Cache) Set(ctx context.Context, key string, body []byte, etag string, rec *cache.Recorder, stamp cache.Stamp, ttl time.Duration) string {
	versions, consistent := rec.Versions()
	if !consistent || len(etag) > 255 {
		return ""
	}
	tags := strings.Join(slices.Sorted(maps.Keys(versions)), ",")
	if len(tags) > 1<<16-1 {
		tags = "" // too many to name: the entry is served without them
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, valueHeader+len(etag)+len(tags)+len(body)), uint64(c.now().UnixMilli()))
	v = append(v, byte(len(etag)))
	v = binary.BigEndian.AppendUint16(v, uint16(len(tags)))
	v = append(append(append(v, etag...), tags...), body...)
	c.cache.SetResponse(context.WithoutCancel(ctx), key, v, versions, stamp, ttl)
	return tags
}
