package cache

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
)

// Whole responses. A response may carry a hundred tags, so its hit does not
// read them: it reads the invalidation log's stamp instead (log.go). A
// response entry is a stamp line, then an entry (entry.go):
//
//	<log> <n> <expires, Unix ms>[ s2]\n<tag ver ...>\n<payload>
//
// The stamp is the log's when the response's fill began, so the entry was
// valid at it; the expiry lets a re-stamped copy keep its TTL. With " s2",
// what follows the line is compressed with s2 (Options.Compress, for
// entries of compressMin bytes or more: each process decodes an entry once
// and serves its copy in process after).
//
// Local copies (Options.LocalBytes): valid response entries are kept in
// process with the stamp they were last known valid at, so a hit reads
// only the log's head, and the reads of the head are shared by concurrent
// hits (headReads), never one sent before a caller asked.

// compressMin is the smallest entry compressed: below it, s2 saves little.
const compressMin = 4 << 10

// response is a decoded response entry.
type response struct {
	stamp   Stamp
	expires time.Time
	header  []byte // "tag ver tag ver ...": parsed only when a log record must be compared
	payload []byte
	tags    []string     // parsed from header on first need; sorted
	hdr     []tagVersion // a field copy's tags at their versions (copies.go); nil for a response
}

func encodeResponse(stamp Stamp, expires time.Time, hdr []tagVersion, payload []byte, compress bool) ([]byte, error) {
	b, err := encodeEntry(hdr, payload)
	if err != nil {
		return nil, err
	}
	line := stamp.String() + " " + strconv.FormatInt(expires.UnixMilli(), 10)
	if compress && len(b) >= compressMin {
		b, line = s2.Encode(nil, b), line+" s2"
	}
	return append([]byte(line+"\n"), b...), nil
}

func decodeResponse(raw []byte) (*response, bool) {
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 {
		return nil, false
	}
	b, compressed := bytes.CutSuffix(raw[:nl], []byte(" s2"))
	line := string(b)
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return nil, false
	}
	stamp, ok := parseStamp(line[:sp])
	ms, err := strconv.ParseInt(line[sp+1:], 10, 64)
	if !ok || err != nil {
		return nil, false
	}
	rest := raw[nl+1:]
	if compressed {
		if rest, err = s2.Decode(nil, rest); err != nil {
			return nil, false
		}
	}
	nl = bytes.IndexByte(rest, '\n')
	if nl <= 0 { // a response always carries AllTag
		return nil, false
	}
	return &response{stamp: stamp, expires: time.UnixMilli(ms), header: rest[:nl], payload: rest[nl+1:]}, true
}

// tagVersions parses the header.
func (r *response) tagVersions() ([]tagVersion, bool) {
	hdr, err := parseHeader(string(r.header))
	return hdr, err == nil && len(hdr) > 0
}

// parseTags fills r.tags, before r is shared.
func (r *response) parseTags() bool {
	if r.tags != nil {
		return true
	}
	hdr, ok := r.tagVersions()
	if !ok {
		return false
	}
	r.tags = make([]string, len(hdr))
	for i, tv := range hdr {
		r.tags[i] = tv.Tag
	}
	return true
}

// validAfter reports whether r, valid at its stamp, is still valid at
// ch.Now: the log holds every record since the stamp and none names a tag
// of r. Response copies and field copies (copies.go) both use it.
func (r *response) validAfter(ch Changes) bool { return ch.Complete && !r.touchedBy(ch.Tags) }

// touchedBy reports whether a bump of any of changed made r invalid.
func (r *response) touchedBy(changed []string) bool {
	if len(changed) == 0 {
		return false
	}
	return !r.parseTags() || touches(r.tags, changed)
}

// restampAfter is how many log records a hit reads past an entry's stamp
// before it writes the entry back with the new stamp, so the records to
// read stay few.
const restampAfter = 16

// GetResponse returns the whole response stored under key if it is still
// valid, and the log's stamp read before anything else (for SetResponse
// after a miss; zero when the store failed). A hit costs one round trip
// of two commands (the entry and the log's head) when nothing was bumped
// since the entry was stamped, whatever its tags; see log.go for the
// other cases. With local copies (Options.LocalBytes), a hit then reads
// only the log's head. Hits and misses count under
// coordinate "response". Store failures are logged and count as misses.
func (c *Cache) GetResponse(ctx context.Context, key string) ([]byte, Stamp, bool) {
	v, stamp, ok := c.getResponse(ctx, key)
	c.countResponse(ctx, ok)
	return v, stamp, ok
}

func (c *Cache) getResponse(ctx context.Context, key string) ([]byte, Stamp, bool) {
	if c.bypassed() {
		return nil, Stamp{}, false
	}
	if r := c.local.get(key); r != nil {
		ch, err := c.since(ctx, r.stamp)
		if err != nil {
			return nil, Stamp{}, false
		}
		if r.validAfter(ch) {
			c.local.restamp(key, r, ch.Now)
			return r.payload, ch.Now, true
		}
		c.local.drop(key, r)
	}
	raw, ch, err := c.observe(ctx, key, Stamp{})
	if err != nil || raw == nil {
		return nil, ch.Now, false
	}
	r, ok := decodeResponse(raw)
	if !ok {
		return nil, ch.Now, false
	}
	if r.stamp != ch.Now {
		if !c.revalidate(ctx, key, r, ch.Now) {
			return nil, ch.Now, false
		}
	}
	c.local.put(key, r)
	return r.payload, ch.Now, true
}

// revalidate reports whether r, stamped before now, is still valid: no
// record of the log since its stamp names one of its tags, or, when the log
// no longer holds them all, each tag is still at its version. A valid r
// is re-stamped with now (read before this check, so conservative) and,
// when the log had many records since or could not tell, written back.
func (c *Cache) revalidate(ctx context.Context, key string, r *response, now Stamp) bool {
	ch, err := c.since(ctx, r.stamp)
	if err != nil {
		return false
	}
	old := r.stamp
	if ch.Complete {
		if r.touchedBy(ch.Tags) {
			return false
		}
	} else if !c.tagsCurrent(ctx, r) {
		return false
	}
	r.stamp = now
	if !ch.Complete || now.Log != old.Log || now.N-old.N >= restampAfter {
		c.rewrite(ctx, key, r)
	}
	return true
}

// since returns what the log says since s. Caches with copies in process
// ask the shared read of the log's head and last records
// first, and read the records since s themselves only when s is older than
// that tail.
func (c *Cache) since(ctx context.Context, s Stamp) (Changes, error) {
	if c.local != nil {
		head, err := c.heads.read(ctx, c)
		if err != nil {
			return Changes{}, err
		}
		if tags, ok := head.Since(s); ok {
			return Changes{Now: head.Now, Complete: true, Tags: tags}, nil
		}
	}
	_, ch, err := c.observe(ctx, "", s)
	return ch, err
}

// tagsCurrent checks r's tags one by one: one round trip, O(tags).
func (c *Cache) tagsCurrent(ctx context.Context, r *response) bool {
	hdr, ok := r.tagVersions()
	if !ok {
		return false
	}
	tags := make([]string, len(hdr))
	for i, tv := range hdr {
		tags[i] = tv.Tag
	}
	var current map[string]string
	err := c.do(ctx, "versions", func(ctx context.Context) (err error) {
		current, err = c.store.Versions(ctx, tags)
		return err
	})
	if err != nil {
		c.log.Warn("cache: read failed", "coord", responseCoordinate, "err", err)
		return false
	}
	for _, tv := range hdr {
		if cur, ok := current[tv.Tag]; !ok || cur != tv.Version {
			return false
		}
	}
	return true
}

// rewrite stores r again, with its stamp, for the rest of its TTL. Any
// valid copy may overwrite any other: each is valid at its own stamp.
func (c *Cache) rewrite(ctx context.Context, key string, r *response) {
	ttl := time.Until(r.expires)
	if ttl <= 0 {
		return
	}
	hdr, ok := r.tagVersions()
	if !ok {
		return
	}
	b, err := encodeResponse(r.stamp, r.expires, hdr, r.payload, c.opt.Compress)
	if err != nil {
		return
	}
	c.setResponse(ctx, key, b, ttl)
}

func (c *Cache) observe(ctx context.Context, key string, since Stamp) (raw []byte, ch Changes, err error) {
	err = c.do(ctx, "get", func(ctx context.Context) (err error) {
		raw, ch, err = c.store.Observe(ctx, key, since)
		return err
	})
	if err != nil {
		c.log.Warn("cache: read failed", "coord", responseCoordinate, "err", err)
	}
	return raw, ch, err
}

// SetResponse stores a whole response under key, valid while every tag in
// versions keeps its version. stamp is the one GetResponse returned before
// the response was computed. versions must include AllTag (every Load
// records it; see Recorder); without it, with a zero stamp or with ttl <=
// 0, nothing is stored. Failures are logged. A Cache that keeps copies in
// process keeps value too: it must not be changed after.
func (c *Cache) SetResponse(ctx context.Context, key string, value []byte, versions map[string]string, stamp Stamp, ttl time.Duration) {
	if ttl <= 0 || stamp.IsZero() {
		return
	}
	if _, ok := versions[AllTag]; !ok {
		c.log.Debug("cache: response not stored: no version of the all tag", "key", key)
		return
	}
	hdr := make([]tagVersion, 0, len(versions))
	for _, t := range sortedKeys(versions) {
		hdr = append(hdr, tagVersion{Tag: t, Version: versions[t]})
	}
	expires := time.Now().Add(ttl)
	b, err := encodeResponse(stamp, expires, hdr, value, c.opt.Compress)
	if err != nil {
		c.log.Warn("cache: response not stored", "key", key, "err", err)
		return
	}
	c.setResponse(ctx, key, b, ttl)
	if c.local != nil { // the copy in process, without reading back (and decompressing) what was just written
		line, _ := encodeEntry(hdr, nil)
		c.local.put(key, &response{stamp: stamp, expires: expires, header: line[:len(line)-1], payload: value})
	}
}

func (c *Cache) setResponse(ctx context.Context, key string, b []byte, ttl time.Duration) {
	err := c.do(context.WithoutCancel(ctx), "set", func(ctx context.Context) error {
		return c.store.Set(ctx, []Item{{Key: key, Value: b, TTL: ttl}})
	})
	if err != nil {
		c.log.Warn("cache: write failed", "coord", responseCoordinate, "err", err)
	}
}

// localCopies are the valid response entries kept in process, each with the stamp it was last known valid at, bounded in
// bytes (a full map drops arbitrary entries, Go's map order being random
// enough for that). The zero value keeps nothing.
type localCopies struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	entries map[string]*response
}

func newLocalCopies(max int64) *localCopies {
	if max <= 0 {
		return nil
	}
	return &localCopies{max: max, entries: make(map[string]*response)}
}

func (l *localCopies) get(key string) *response {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.entries[key]
	if r != nil && !time.Now().Before(r.expires) {
		l.remove(key)
		return nil
	}
	return r
}

// restamp records that r is valid at s. The entry is replaced, not
// changed: a concurrent reader may hold r.
func (l *localCopies) restamp(key string, r *response, s Stamp) {
	if l == nil || r.stamp == s {
		return
	}
	n := *r
	n.stamp = s
	l.mu.Lock()
	if l.entries[key] == r {
		l.entries[key] = &n
	}
	l.mu.Unlock()
}

func (l *localCopies) drop(key string, r *response) {
	if l == nil {
		return
	}
	l.mu.Lock()
	if l.entries[key] == r {
		l.remove(key)
	}
	l.mu.Unlock()
}

func (l *localCopies) put(key string, r *response) {
	if l == nil {
		return
	}
	size := responseSize(key, r)
	if size > l.max/8 || !r.parseTags() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remove(key)
	for k := range l.entries {
		if l.bytes+size <= l.max {
			break
		}
		l.remove(k)
	}
	l.entries[key] = r
	l.bytes += size
}

// remove deletes key. Callers hold l.mu.
func (l *localCopies) remove(key string) {
	if r, ok := l.entries[key]; ok {
		l.bytes -= responseSize(key, r)
		delete(l.entries, key)
	}
}

func responseSize(key string, r *response) int64 {
	size := int64(len(key)+len(r.header)+len(r.payload)) + itemOverhead
	for _, tv := range r.hdr {
		size += int64(len(tv.Tag)+len(tv.Version)) + 32
	}
	return size
}

// headReads coalesces the reads of the log's head that validate copies
// kept in process: at most one is in flight, and each serves every caller
// that asked before it was sent (never one sent before a caller asked, so
// a caller sees every invalidation that returned before it asked). Under
// load, one small read then validates many hits.
type headReads struct {
	mu      sync.Mutex
	running bool
	next    *headRead // the read the next callers join; not sent yet
}

type headRead struct {
	done chan struct{}
	ch   Changes // the log's stamp and last records
	err  error
}

// read returns the log's current stamp and last records, as of a moment
// after the call.
func (h *headReads) read(ctx context.Context, c *Cache) (Changes, error) {
	h.mu.Lock()
	r := h.next
	if r == nil {
		r = &headRead{done: make(chan struct{})}
		h.next = r
	}
	if !h.running { // send it now, from this caller
		h.running, h.next = true, nil
		h.mu.Unlock()
		h.send(ctx, c, r)
		return r.ch, r.err
	}
	h.mu.Unlock()
	select {
	case <-r.done:
		return r.ch, r.err
	case <-ctx.Done():
		return Changes{}, ctx.Err()
	}
}

// send reads the head for r's callers, then hands the read that gathered
// callers meanwhile to a goroutine of its own.
func (h *headReads) send(ctx context.Context, c *Cache, r *headRead) {
	_, r.ch, r.err = c.observe(context.WithoutCancel(ctx), "", TailStamp)
	close(r.done)
	h.mu.Lock()
	next := h.next
	if next == nil {
		h.running = false
		h.mu.Unlock()
		return
	}
	h.next = nil
	h.mu.Unlock()
	go h.send(context.WithoutCancel(ctx), c, next)
}
