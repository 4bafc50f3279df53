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

	"github.com/kedahpulse/kedahpulse/graph/cache"
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

// Key names the entry of r. It carries the current hour because analytics
// windows end on the hour: an answer never outlives its window. Its length
// is fixed whatever the inputs.
func (c *Cache) Key(r Request) (string, error) {
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
	hour := c.now().UTC().Truncate(time.Hour).Unix()
	return "response|" + strconv.FormatInt(hour, 10) + "|" + hex.EncodeToString(h.Sum(nil)), nil
}

// Entry is a stored answer.
type Entry struct {
	Body []byte
	Age  time.Duration // since it was stored (for the Age header)
	Tags string        // the tags it was built from, comma-separated (for a CDN's purge-by-tag header)
}

// Get returns the answer stored under key if it is still valid.
func (c *Cache) Get(ctx context.Context, key string) (Entry, bool) {
	v, ok := c.cache.GetResponse(ctx, key)
	if !ok || len(v) < 10 {
		return Entry{}, false
	}
	stored := time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
	n := int(binary.BigEndian.Uint16(v[8:]))
	if len(v) < 10+n {
		return Entry{}, false
	}
	return Entry{Body: v[10+n:], Age: max(c.now().Sub(stored), 0), Tags: string(v[10 : 10+n])}, true
}

// Record returns a context whose reads record the tag versions they used,
// for Set.
func (c *Cache) Record(ctx context.Context) (context.Context, *cache.Recorder) {
	return cache.WithRecorder(ctx)
}

// Set stores body under key for ttl if every read recorded in rec was
// consistent (no read bypassed the cache), with the time and the tags it
// was built from, and returns those tags as Entry.Tags names them ("" when
// nothing was stored). The write survives the caller's cancellation: the
// answer is already paid for.
func (c *Cache) Set(ctx context.Context, key string, body []byte, rec *cache.Recorder, ttl time.Duration) string {
	versions, consistent := rec.Versions()
	if !consistent {
		return ""
	}
	tags := strings.Join(slices.Sorted(maps.Keys(versions)), ",")
	if len(tags) > 1<<16-1 {
		tags = "" // too many to name: the entry is served without them
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 10+len(tags)+len(body)), uint64(c.now().UnixMilli()))
	v = binary.BigEndian.AppendUint16(v, uint16(len(tags)))
	v = append(append(v, tags...), body...)
	c.cache.SetResponse(context.WithoutCancel(ctx), key, v, versions, ttl)
	return tags
}
