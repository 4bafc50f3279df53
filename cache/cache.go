package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Tag versions. Every entry is stored with the versions of its tags, read
// before the caller reads the source of truth (Load reads them in the same
// round trip as the entries). Invalidating a tag gives it a new random
// version, so an entry filled from a read that raced the invalidation
// carries the old version and never validates again. Tags expire or get
// evicted safely: a missing tag gets a fresh random version, which matches
// no stored entry. A store call never fails a read: the source answers.

// AllTag is carried implicitly by every entry that Load and SetResponse
// write; Clear bumps it.
const AllTag = "all"

// Options tune a Cache. Zero values mean the defaults; each capability is
// on only when its field says so.
type Options struct {
	// Timeout bounds each store call; default 50ms; negative: none (a
	// store that never blocks on a network, whose call costs less than a
	// timer).
	Timeout time.Duration
	// BreakerThreshold is the consecutive store failures that open the
	// breaker; default 5; negative: no breaker.
	BreakerThreshold int
	BreakerCooldown  time.Duration         // default 1s; after it, one call is let through (half-open)
	Logger           *slog.Logger          // default slog.Default()
	Registerer       prometheus.Registerer // nil = no Prometheus metrics
	FlushInterval    time.Duration         // how often Run adds local counters to the shared ones; default 1s
	// RepeatInterval is how often the same fault (level and message) is
	// logged; the ones between are counted on the next line (QuietHandler).
	// Default DefaultRepeatInterval; negative: every one.
	RepeatInterval time.Duration
	// Counters, if set, are the counters every process on the backend adds
	// to: Flush adds this process's counts, Stats totals them. Nil: Stats
	// reports this process's counts only.
	Counters SharedCounters
	// Inspector, if set, answers Stats' key count and server figures and
	// Healthy's ping. Nil: no keys, no figures, always healthy.
	Inspector Inspector
	// Backend is the backend's name as Stats reports it ("REDIS",
	// "MEMORY"); nothing else depends on it.
	Backend string
	// Bypass, if set, decides when reads skip the store (outbox.Bypass):
	// while On, Load fills from the source and writes nothing, and
	// GetResponse misses. Invalidate reports a failed bump to it.
	Bypass Bypass
	// Invalidated, if set, is told the tags of every successful Invalidate
	// (for example to purge a CDN). It must not block.
	Invalidated func(tags []string)
	// LocalBytes, when positive, keeps copies of valid response entries in
	// process, up to that many bytes, and as many of field entries, so a
	// hit reads only the log's head (response.go, copies.go): worth it on
	// a remote store, and on the in-process one, where comparing stamps
	// costs less than reading each entry's tag versions (DefaultLocalBytes).
	LocalBytes int64
	// DecodedBytes bounds the values callers decoded from Load's payloads
	// and keep beside them (Decoded); default DefaultDecodedBytes;
	// negative: none are kept.
	DecodedBytes int64
	// Compress stores response entries of 4 KiB or more compressed with s2
	// (response.go): worth it on a remote store whose processes keep
	// copies, since each decodes an entry once.
	Compress bool
	// InProcess says the store answers without I/O (the MemoryStore), so
	// Peek reads the keys its copies did not answer from it; on any other
	// store Peek answers only from copies (LocalBytes), when every key has
	// one.
	InProcess bool
}

// Bypass is the read bypass a Cache asks before reading its store.
type Bypass interface {
	On() bool     // reads must skip the store
	Undelivered() // an invalidation failed: its tags may hold stale entries
}

// DefaultLocalBytes bounds the copies in process a Cache on a remote store
// keeps when its wiring does not say otherwise.
const DefaultLocalBytes = 32 << 20

// Cache reads through a Store with tag invalidation, in-process coalescing
// of fills, a per-call timeout and a circuit breaker. Store failures never
// fail a Load: it falls back to the source. Safe for concurrent use.
type Cache struct {
	store    Store
	opt      Options
	log      *slog.Logger
	breaker  *breaker // nil: none
	flights  flights
	counters counters
	coords   sync.Map // coordinate -> *coordCounters
	metrics  *metrics
	local    *localCopies // nil: no copies in process
	fields   *localCopies // of field entries (copies.go); nil: none
	decoded  *Decoded     // nil: none kept
	heads    headReads
}

// New returns a Cache on store.
func New(store Store, o Options) *Cache {
	if o.Timeout == 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.BreakerThreshold == 0 {
		o.BreakerThreshold = 5
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.DecodedBytes == 0 {
		o.DecodedBytes = DefaultDecodedBytes
	}
	if o.RepeatInterval == 0 {
		o.RepeatInterval = DefaultRepeatInterval
	}
	log := o.Logger
	if o.RepeatInterval > 0 {
		log = slog.New(QuietHandler(log.Handler(), o.RepeatInterval))
	}
	c := &Cache{
		local:   newLocalCopies(o.LocalBytes),
		fields:  newLocalCopies(o.LocalBytes),
		store:   store,
		opt:     o,
		log:     log,
		metrics: newMetrics(o.Registerer),
	}
	if o.DecodedBytes > 0 {
		c.decoded = NewDecoded(o.DecodedBytes)
	}
	if o.BreakerThreshold > 0 {
		c.breaker = &breaker{threshold: o.BreakerThreshold, cooldown: o.BreakerCooldown, now: time.Now}
	}
	return c
}

// bypassed reports whether reads must skip the store (Options.Bypass).
func (c *Cache) bypassed() bool { return c.opt.Bypass != nil && c.opt.Bypass.On() }

// Decoded returns the values decoded from this cache's payloads kept in
// process (Options.DecodedBytes); nil keeps none.
func (c *Cache) Decoded() *Decoded { return c.decoded }

// Store returns the cache's store.
func (c *Cache) Store() Store { return c.store }

// do runs one store call with the breaker and the per-call timeout, when
// the Cache has them. Failures are counted under op; the caller decides
// whether to log.
func (c *Cache) do(ctx context.Context, op string, fn func(context.Context) error) error {
	var probe bool
	if c.breaker != nil {
		var err error
		if probe, err = c.breaker.allow(); err != nil {
			c.countError(op)
			return err
		}
	}
	cctx := ctx
	if c.opt.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, c.opt.Timeout)
		defer cancel()
	}
	err := fn(cctx)
	if c.breaker != nil {
		switch {
		case err == nil:
			c.breaker.done(probe, success)
		case ctx.Err() != nil, errors.Is(err, ErrFull): // the caller gave up, or the store answered
			c.breaker.done(probe, neutral)
		default:
			c.breaker.done(probe, failure)
		}
	}
	if err != nil {
		c.countError(op)
	}
	return err
}

func (c *Cache) countError(op string) {
	if c.metrics != nil {
		c.metrics.errors.WithLabelValues(op).Inc()
	}
}

// Lookup is one value a Load reads: its key and the tags whose invalidation
// must make it miss. Tags match [a-z0-9:._-]+; AllTag is added implicitly.
// Lookups of one Load with the same key must carry the same tags.
type Lookup struct {
	Key  string
	Tags []string
	set  bool // Tags is already an entry's tag set (NewLookup)
}

// NewLookup returns the lookup of key with tags made an entry's tag set
// once (valid, sorted, without duplicates, AllTag added), which every Load
// then uses as it is, sharing it: for a lookup built once and read often.
// Invalid tags are left as they are, for Load to refuse.
func NewLookup(key string, tags []string) Lookup {
	for _, t := range tags {
		if !validToken(t) {
			return Lookup{Key: key, Tags: tags}
		}
	}
	return Lookup{Key: key, Tags: slices.Clip(appendTagSet(nil, tags)), set: true}
}

// group is the lookups of one Load sharing a key.
type group struct {
	key  string
	tags []string // sorted, unique, with AllTag
	idx  []int    // indices into the lookups
}

// Fill loads the values of the lookups at indices misses from the source,
// one value per index, in order; a nil value means "no value".
type Fill func(ctx context.Context, misses []int) ([][]byte, error)

// Load reads lookups through the cache for schema coordinate coord (which
// labels the statistics), calling fill for the misses, and returns one value
// per lookup. Its steps:
//
//  1. read: one Store.Get reads every key and the current versions of the
//     union of their tags (plus AllTag); skipped while the bypass is on.
//     With copies in process (Options.LocalBytes) and a copy of every
//     key, the shared read of the log's head validates the copies first,
//     and Get reads only the keys whose copy it did not (copies.go).
//  2. validate: an entry is a hit iff its header lists exactly its lookup's
//     tags, each at its current version.
//  3. claim: misses are coalesced with concurrent Loads of the same key at
//     the same tag versions (a Load that saw newer versions never joins a
//     flight started before them). Misses nobody is filling are claimed;
//     the others are awaited (until ctx ends).
//  4. fill: fill gets the indices of the claimed lookups in one call. A nil
//     value is cached as an empty payload (negative caching), which a hit
//     returns as nil, so an empty value and no value are the same thing to
//     the cache. An error from fill is returned as is and nothing is cached.
//  5. write: the values are stored in one Store.Set with ttl (none if ttl
//     <= 0), each headed by its tags at the versions read in step 1, before
//     fill ran: a fill that raced an invalidation is stored under the old
//     version and never validates. Then the flights complete; a failed fill
//     fails its waiters too, unless it failed after its Load's ctx ended:
//     then a waiter adopts the flight and fills it with its own ctx.
//
// A store failure (a timeout or the breaker being open included) is logged
// at Warn and counted; Load then calls fill for every lookup and writes
// nothing back: Load never fails because of the cache. If ctx carries a
// Recorder, Load records the tag versions of every value it returns, or
// disables the Recorder when it did not read the store.
//
// Returned values may be shared with concurrent Loads and must not be
// modified. Lookups with invalid tags make Load fail without calling fill.
func (c *Cache) Load(ctx context.Context, coord string, ttl time.Duration, lookups []Lookup, fill Fill) ([][]byte, error) {
	out := make([][]byte, len(lookups))
	if len(lookups) == 0 {
		return out, nil
	}
	sc := newScratch()
	groups, err := groupLookups(lookups, sc)
	if err != nil {
		return nil, fmt.Errorf("cache: load %s: %w", coord, err)
	}
	rec := recorderFrom(ctx)
	if c.bypassed() {
		return c.fillUnread(ctx, coord, fill, groups, out, rec, 0)
	}
	var copyHits int
	var stamp Stamp
	if held := c.fields.held(groups, sc); held != nil {
		rest, hits, head, err := c.fromCopies(ctx, groups, held, rec, out)
		if err != nil {
			return c.fillUnread(ctx, coord, fill, groups, out, rec, 0)
		}
		copyHits, stamp = hits, head
		if len(rest) == 0 {
			c.count(coord, copyHits, 0)
			sc.release()
			return out, nil
		}
		groups = rest
	}
	got, ok := c.read(ctx, coord, groups, groupTags(groups))
	if !ok {
		return c.fillUnread(ctx, coord, fill, groups, out, rec, copyHits)
	}
	if !got.Stamp.IsZero() {
		stamp = got.Stamp
	}
	versions := got.Versions
	misses, hits := take(groups, got.Values, versions, rec, out)
	c.count(coord, copyHits+hits, lookupsIn(groups)-hits)
	c.keepRead(groups, misses, got, stamp)
	if len(misses) == 0 {
		return out, nil
	}
	cl := c.claim(groups, misses, versions)
	cl.stamp = stamp
	defer c.flights.leave(cl.waiting()) // on an early return, leave the flights not waited on
	if len(cl.mine) > 0 {
		vals, err := c.fillOwned(ctx, coord, ttl, fill, cl, cl.mine)
		if err != nil {
			return nil, err
		}
		for j, m := range cl.mine {
			cl.set(out, m, vals[j])
		}
	}
	if err := c.await(ctx, coord, ttl, fill, cl, out); err != nil {
		return nil, err
	}
	if rec != nil {
		for m := range misses {
			rec.record(cl.captured[m])
		}
	}
	return out, nil
}

// fillUnread answers groups from the source alone, when the store must not
// or could not be read; hits lookups were answered from copies already.
func (c *Cache) fillUnread(ctx context.Context, coord string, fill Fill, groups []group, out [][]byte, rec *Recorder, hits int) ([][]byte, error) {
	if rec != nil {
		rec.Disable()
	}
	c.count(coord, hits, lookupsIn(groups))
	return c.fillAll(ctx, fill, groups, out)
}

// read gets the groups' entries and the versions of tags in one round
// trip; ok is false when the store could not be read, so the source
// answers everything.
func (c *Cache) read(ctx context.Context, coord string, groups []group, tags []string) (got Got, ok bool) {
	err := c.do(ctx, "get", func(ctx context.Context) (err error) {
		got, err = c.store.Get(ctx, groupKeys(groups), tags)
		return err
	})
	if err != nil {
		c.log.Warn("cache: read failed; loading from source", "coord", coord, "err", err)
		return Got{}, false
	}
	return got, true
}

func lookupsIn(groups []group) int {
	n := 0
	for g := range groups {
		n += len(groups[g].idx)
	}
	return n
}

// take puts the valid entries into out and rec, and returns the groups
// that missed and how many lookups hit: a hit is valid at the versions
// just read, so it was not invalidated before the read.
func take(groups []group, values [][]byte, versions map[string]string, rec *Recorder, out [][]byte) (misses []int, hits int) {
	for g := range groups {
		payload, ok := validEntry(values[g], groups[g].tags, versions)
		if !ok {
			misses = append(misses, g)
			continue
		}
		if len(payload) == 0 {
			payload = nil // a cached "no value"
		}
		for _, i := range groups[g].idx {
			out[i] = payload
		}
		hits += len(groups[g].idx)
		if rec != nil {
			rec.recordAt(groups[g].tags, versions) // the entry's header, as it is valid
		}
	}
	return misses, hits
}

// claimed is the misses of one Load: for each, the versions it is stored
// and recorded with and its flight; mine are those this Load fills, joined
// those it still waits on (indices into misses).
type claimed struct {
	stamp        Stamp // the log's, read before the versions (zero: keep no copies)
	groups       []group
	misses       []int // groups
	captured     [][]tagVersion
	flights      []*flight
	mine, joined []int
}

// claim joins the flights of concurrent Loads filling the same keys at the
// same versions, and starts the others, so each value is filled once.
func (c *Cache) claim(groups []group, misses []int, versions map[string]string) *claimed {
	cl := &claimed{groups: groups, misses: misses, captured: make([][]tagVersion, len(misses))}
	fkeys := make([]string, len(misses))
	for m, g := range misses {
		cl.captured[m] = make([]tagVersion, len(groups[g].tags))
		for j, t := range groups[g].tags {
			cl.captured[m][j] = tagVersion{Tag: t, Version: versions[t]}
		}
		fkeys[m] = flightKey(groups[g].key, groups[g].tags, versions)
	}
	var owned []bool
	cl.flights, owned = c.flights.claim(fkeys)
	for m := range misses {
		if owned[m] {
			cl.mine = append(cl.mine, m)
		} else {
			cl.joined = append(cl.joined, m)
		}
	}
	return cl
}

// waiting returns the flights still to wait on.
func (cl *claimed) waiting() []*flight {
	left := make([]*flight, len(cl.joined))
	for j, m := range cl.joined {
		left[j] = cl.flights[m]
	}
	return left
}

// set gives every lookup of miss m the value v.
func (cl *claimed) set(out [][]byte, m int, v []byte) {
	for _, i := range cl.groups[cl.misses[m]].idx {
		out[i] = v
	}
}

// await takes the values of the flights other Loads fill, filling a flight
// itself when its owner went away, as its owner would have.
func (c *Cache) await(ctx context.Context, coord string, ttl time.Duration, fill Fill, cl *claimed, out [][]byte) error {
	for len(cl.joined) > 0 {
		m := cl.joined[0]
		cl.joined = cl.joined[1:]
		v, adopted, err := c.flights.wait(ctx, cl.flights[m])
		if adopted {
			var vals [][]byte
			if vals, err = c.fillOwned(ctx, coord, ttl, fill, cl, []int{m}); err == nil {
				v = vals[0]
			}
		}
		if err != nil {
			return err
		}
		cl.set(out, m, v)
	}
	return nil
}

// groupLookups groups lookups by key, in sc's buffers.
func groupLookups(lookups []Lookup, sc *scratch) ([]group, error) {
	groups := slices.Grow(sc.groups[:0], len(lookups))
	idxBuf := slices.Grow(sc.idx[:0], len(lookups))[:len(lookups)]
	sc.groups, sc.idx = groups, idxBuf
	// One backing array for every group's tags and one for their first
	// index (clipped, so a second index or a tag reallocates), rather than
	// two allocations per group.
	n := 0
	for _, l := range lookups {
		if !l.set {
			n += len(l.Tags) + 1
		}
	}
	var tagBuf []string
	if n > 0 {
		tagBuf = make([]string, 0, n)
	}
	for i, l := range lookups {
		if g, ok := sc.byKey[l.Key]; ok {
			groups[g].idx = append(groups[g].idx, i)
			continue
		}
		tags := l.Tags // a set already (NewLookup), shared and never modified
		if !l.set {
			for _, t := range l.Tags {
				if !validToken(t) {
					return nil, fmt.Errorf("invalid tag %q", t)
				}
			}
			start := len(tagBuf)
			tagBuf = appendTagSet(tagBuf, l.Tags)
			tags = tagBuf[start:len(tagBuf):len(tagBuf)]
		}
		sc.byKey[l.Key] = len(groups)
		idxBuf[i] = i
		groups = append(groups, group{key: l.Key, tags: tags, idx: idxBuf[i : i+1 : i+1]})
	}
	return groups, nil
}

// scratch is the buffers of one Load or Peek: its groups, their indices,
// their copies and the map that groups keys. A call that answers every
// lookup from copies (or Peek, which keeps nothing) returns them to
// scratches; one that reads or fills lets them go, since its flights and
// copies may hold its groups.
type scratch struct {
	byKey  map[string]int
	groups []group
	idx    []int
	held   []*response
}

var scratches = sync.Pool{New: func() any { return &scratch{byKey: map[string]int{}} }}

// maxPooledScratch bounds the batches whose buffers scratches keeps: a
// large map would cost every later clear.
const maxPooledScratch = 1024

func newScratch() *scratch { return scratches.Get().(*scratch) }

func (sc *scratch) release() {
	if len(sc.byKey) > maxPooledScratch || cap(sc.groups) > maxPooledScratch {
		return
	}
	clear(sc.byKey)
	clear(sc.groups[:cap(sc.groups)]) // drop the keys and tags they point to
	clear(sc.held[:cap(sc.held)])
	scratches.Put(sc)
}

// groupTags returns the union of the groups' tags, AllTag included,
// sorted: what a store read of the groups reads the versions of. Only a
// read of the store needs it, so a Load answered from copies never
// builds it. Sorting the tag sets merged costs less than growing a map.
func groupTags(groups []group) []string {
	n := 1
	for g := range groups {
		n += len(groups[g].tags)
	}
	union := make([]string, 1, n)
	union[0] = AllTag
	for g := range groups {
		for _, t := range groups[g].tags {
			if t != AllTag {
				union = append(union, t)
			}
		}
	}
	slices.Sort(union)
	return slices.Compact(union)
}

func groupKeys(groups []group) []string {
	keys := make([]string, len(groups))
	for g := range groups {
		keys[g] = groups[g].key
	}
	return keys
}

// validEntry reports whether raw is valid: its header lists exactly tags
// (sorted), each at its version in versions; it returns the payload, which
// aliases raw. It reads the header in place, without decoding it (the same
// answer as decodeEntry and a comparison: FuzzValidEntry).
func validEntry(raw []byte, tags []string, versions map[string]string) ([]byte, bool) {
	if raw == nil {
		return nil, false
	}
	if len(tags) == 0 {
		if len(raw) == 0 || raw[0] != '\n' {
			return nil, false
		}
		return raw[1:], true
	}
	rest := raw
	for j, t := range tags {
		v := versions[t]
		if !validToken(t) || !validToken(v) {
			return nil, false
		}
		n := len(t) + 1 + len(v) + 1 // "tag version" and a space or the newline
		if len(rest) < n || string(rest[:len(t)]) != t || rest[len(t)] != ' ' || string(rest[len(t)+1:n-1]) != v {
			return nil, false
		}
		if sep := rest[n-1]; (j < len(tags)-1 && sep != ' ') || (j == len(tags)-1 && sep != '\n') {
			return nil, false
		}
		rest = rest[n:]
	}
	return rest, true
}

// fillOwned fills the misses of cl at indices mine (which this Load
// owns), stores them and completes their flights. It returns one value per
// element of mine.
func (c *Cache) fillOwned(ctx context.Context, coord string, ttl time.Duration, fill Fill, cl *claimed, mine []int) (vals [][]byte, err error) {
	own := make([]*flight, len(mine))
	idx := make([]int, len(mine))
	for j, m := range mine {
		own[j] = cl.flights[m]
		idx[j] = cl.groups[cl.misses[m]].idx[0]
	}
	finished := false
	defer func() {
		if !finished { // fill panicked: release the waiters, then re-panic
			c.flights.finish(own, nil, fmt.Errorf("cache: load %s: fill panicked", coord))
		}
	}()
	expires := time.Now().Add(ttl) // before the write: a copy never outlives the entry
	vals, err = fill(ctx, idx)
	if err == nil && len(vals) != len(idx) {
		err = fmt.Errorf("cache: load %s: fill returned %d values for %d misses", coord, len(vals), len(idx))
	}
	if err == nil && ttl > 0 && c.write(ctx, coord, ttl, cl, mine, vals) {
		c.keepFilled(cl, mine, vals, expires)
	}
	// Complete the flights only after the write, so a Load arriving in
	// between finds either the flight or the entry, and never fills again.
	if err != nil && ctx.Err() != nil {
		// This Load's caller went away, which says nothing to the Loads
		// waiting on it: hand the flights over to them.
		c.flights.abandon(own)
	} else {
		c.flights.finish(own, vals, err)
	}
	finished = true
	return vals, err
}

// write stores filled values in one round trip, each headed by the
// versions read before the fill, so a fill that raced an invalidation
// never validates, and reports whether they were stored. It writes even
// if the caller went away: the value is already paid for.
func (c *Cache) write(ctx context.Context, coord string, ttl time.Duration, cl *claimed, mine []int, vals [][]byte) bool {
	items := make([]Item, 0, len(mine))
	for j, m := range mine {
		b, err := encodeEntry(cl.captured[m], vals[j])
		if err != nil { // cannot happen: tags and versions were checked
			c.log.Error("cache: encode entry", "coord", coord, "err", err)
			continue
		}
		items = append(items, Item{Key: cl.groups[cl.misses[m]].key, Value: b, TTL: ttl})
	}
	err := c.do(context.WithoutCancel(ctx), "set", func(ctx context.Context) error {
		return c.store.Set(ctx, items)
	})
	if err != nil {
		c.log.Warn("cache: write failed", "coord", coord, "err", err)
	}
	return err == nil && len(items) == len(mine)
}

// fillAll is Load without the store: fill everything, write nothing.
func (c *Cache) fillAll(ctx context.Context, fill Fill, groups []group, out [][]byte) ([][]byte, error) {
	idx := make([]int, len(groups))
	for g := range groups {
		idx[g] = groups[g].idx[0]
	}
	vals, err := fill(ctx, idx)
	if err != nil {
		return nil, err
	}
	if len(vals) != len(idx) {
		return nil, fmt.Errorf("cache: fill returned %d values for %d misses", len(vals), len(idx))
	}
	for g := range groups {
		for _, i := range groups[g].idx {
			out[i] = vals[g]
		}
	}
	return out, nil
}

// Invalidate gives tags new versions in one round trip, so every entry
// carrying any of them misses from the moment it returns. It returns the
// store's error (callers keep their outbox row and retry; invalidation is
// idempotent), or ErrBreakerOpen at once while the breaker is open.
func (c *Cache) Invalidate(ctx context.Context, tags ...string) error {
	for _, t := range tags {
		if !validToken(t) {
			return fmt.Errorf("cache: invalidate: invalid tag %q", t)
		}
	}
	tags = slices.Compact(slices.Sorted(slices.Values(tags)))
	if len(tags) == 0 {
		return nil
	}
	err := c.do(ctx, "bump", func(ctx context.Context) error {
		return c.store.Bump(ctx, tags)
	})
	if err != nil {
		if c.opt.Bypass != nil {
			c.opt.Bypass.Undelivered()
		}
		return fmt.Errorf("cache: invalidate %d tags: %w", len(tags), err)
	}
	c.counters.add(invalidationsName, int64(len(tags)))
	if c.metrics != nil {
		c.metrics.invalidations.Add(float64(len(tags)))
	}
	if c.opt.Invalidated != nil {
		c.opt.Invalidated(tags)
	}
	return nil
}

// Clear invalidates every entry written by Load and SetResponse.
func (c *Cache) Clear(ctx context.Context) error { return c.Invalidate(ctx, AllTag) }

// Healthy pings the backend (Options.Inspector) within the per-call
// timeout, bypassing the breaker (for /readyz).
func (c *Cache) Healthy(ctx context.Context) error {
	if c.opt.Inspector == nil {
		return nil
	}
	if c.opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opt.Timeout)
		defer cancel()
	}
	return c.opt.Inspector.Ping(ctx)
}
