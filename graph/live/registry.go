package live

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph/limit"
)

// Defaults of Options.
const (
	DefaultMaxPerClient = 1000
	DefaultConcurrency  = 4
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxBody      = 1 << 20
	DefaultKeepAlive    = 20 * time.Second // what the server configures (LIVE_KEEPALIVE); Options' zero is none
)

// maxBatches is how many wakes the Registry remembers, to tell whether one
// touched an entry while it was being recomputed; an entry whose
// recompute outlived them all is recomputed again.
const maxBatches = 256

// Log is the invalidation log as the Registry reads it: the tags bumped
// since a point of it (cache.Store's Observe, with no key).
type Log interface {
	Observe(ctx context.Context, key string, since cache.Stamp) ([]byte, cache.Changes, error)
}

// Options configure a Registry. Zero values mean the defaults.
type Options struct {
	// Log is the cache's invalidation log (required): each doorbell reads
	// the tags bumped since the last read.
	Log Log
	// Redis, if set, carries the doorbell between the processes sharing the
	// cache, on Channel (pub/sub). Nil: one process.
	Redis   redis.UniversalClient
	Channel string
	// MaxPerClient bounds the live subscriptions of one client address.
	MaxPerClient int
	// Concurrency bounds the recomputes running at once.
	Concurrency int
	// Limits bound a document before it is parsed to find @live (the
	// handler checks them again, with the costs, when it runs it).
	Limits limit.Limits
	// MaxBody bounds a POST body and a WebSocket message, in bytes.
	MaxBody int64
	// WriteTimeout bounds one write to a subscriber: a client that does not
	// take it in time is dropped.
	WriteTimeout time.Duration
	// KeepAlive, if positive, is how often Run beats: each SSE stream that
	// wrote nothing since the last beat writes a comment line
	// (": keep-alive"), so that proxies do not cut idle streams. Zero: no
	// beat (the one timer is the Registry's, not one per stream).
	KeepAlive time.Duration
	// Now reads the clock for the hourly recompute (analytics windows end
	// on the hour); time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxPerClient <= 0 {
		o.MaxPerClient = DefaultMaxPerClient
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	o.Limits = o.Limits.WithDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Stats are a Registry's figures: gauges now, counters since it started.
type Stats struct {
	Entries       int   // distinct live requests held
	Subscriptions int   // live subscriptions held
	Wakes         int64 // invalidations that reached the registry (everything-wakes included)
	Recomputes    int64 // entries recomputed
	Changed       int64 // recomputes whose answer differed from the last one sent
	Pushes        int64 // answers handed to subscribers (first answers included)
	Coalesced     int64 // answers replaced in a mailbox before they were written
	Dropped       int64 // subscribers dropped because a write failed or timed out
}

// Registry holds the live queries of one process; see the package doc.
// Wire Invalidated as a listener of the cache's invalidations, Serve the
// handler recomputes go through, and run Run. Safe for concurrent use.
type Registry struct {
	opt     Options
	handler atomic.Pointer[http.Handler]
	kick    chan struct{} // the doorbell: read the log
	ring    chan struct{} // tell the other processes
	work    chan struct{} // the queue is not empty
	closed  chan struct{} // Close: streams end
	once    sync.Once
	beat    atomic.Pointer[chan struct{}] // closed at each KeepAlive beat, then replaced
	self    string                        // this process in doorbells

	coalesced, dropped atomic.Int64

	mu      sync.Mutex
	entries map[string]*entry
	byTag   map[string]map[*entry]struct{}
	wild    map[*entry]struct{} // entries whose tags are unknown: every wake reaches them
	clients map[string]int      // live subscriptions by client address
	queue   []*entry
	seq     uint64
	batches []batch // the last maxBatches wakes, oldest first
	missed  bool    // a doorbell may have been lost: wake everything on the next read
	stats   Stats
}

// batch is one wake.
type batch struct {
	seq  uint64
	all  bool
	tags []string
}

// entry is one distinct live request and the last answer sent for it.
type entry struct {
	key  string // the response level's Digest
	req  request
	tags []string // sorted; nil: unknown (in wild)
	body []byte
	hash uint64
	subs map[*Subscription]struct{}
	// queued: in the queue; running: being recomputed; again: woken while
	// running, so recomputed once more after; diverged: a subscriber holds
	// an answer other than body.
	queued, running, again, diverged bool
}

// New returns a Registry; it recomputes nothing until Serve and Run.
func New(o Options) *Registry {
	o = o.withDefaults()
	r := &Registry{opt: o, kick: make(chan struct{}, 1), ring: make(chan struct{}, 1), work: make(chan struct{}, 1),
		closed: make(chan struct{}), self: newID(),
		entries: map[string]*entry{}, byTag: map[string]map[*entry]struct{}{}, wild: map[*entry]struct{}{}, clients: map[string]int{}}
	beat := make(chan struct{})
	r.beat.Store(&beat)
	return r
}

// Serve sets the handler first answers and recomputes go through: the
// GraphQL endpoint's, so that they take the normal read path.
func (r *Registry) Serve(h http.Handler) { r.handler.Store(&h) }

// Close ends every stream (for the server's shutdown).
func (r *Registry) Close() { r.once.Do(func() { close(r.closed) }) }

// Stats returns the registry's figures.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Entries = len(r.entries)
	s.Coalesced, s.Dropped = r.coalesced.Load(), r.dropped.Load()
	return s
}

// Invalidated rings the doorbell after this process delivered an
// invalidation (tags are read back from the log, in order with the other
// processes'). It never blocks: it is a listener of the cache's
// Invalidated hook.
func (r *Registry) Invalidated([]string) {
	select {
	case r.kick <- struct{}{}:
	default: // a read is queued already; it will see these tags
	}
	select {
	case r.ring <- struct{}{}:
	default:
	}
}

// missedEvents makes the next read wake every entry.
func (r *Registry) missedEvents() {
	r.mu.Lock()
	r.missed = true
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run reads the log at each doorbell and recomputes the entries woken,
// until ctx is done.
func (r *Registry) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.opt.Concurrency {
		wg.Go(func() { r.work1(ctx) })
	}
	if r.opt.Redis != nil {
		wg.Go(func() { r.listen(ctx) })
		wg.Go(func() { r.announce(ctx) })
	}
	if r.opt.KeepAlive > 0 {
		wg.Go(func() { r.keepAlive(ctx) })
	}
	r.watch(ctx)
	wg.Wait()
}

// keepAlive beats every KeepAlive until ctx ends: it closes the channel
// the streams wait on (nextBeat) and puts a new one in its place.
func (r *Registry) keepAlive(ctx context.Context) {
	t := time.NewTicker(r.opt.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			beat := make(chan struct{})
			close(*r.beat.Swap(&beat))
		}
	}
}

// nextBeat is closed at the next keep-alive beat.
func (r *Registry) nextBeat() <-chan struct{} { return *r.beat.Load() }

// watch reads the log at each doorbell and wakes the entries its tags
// reach; at each hour it wakes every entry (analytics windows end on the
// hour, with no write to say so).
func (r *Registry) watch(ctx context.Context) {
	var stamp cache.Stamp
	if _, ch, err := r.opt.Log.Observe(ctx, "", cache.Stamp{}); err == nil {
		stamp = ch.Now
	}
	hour := time.NewTimer(r.untilHour())
	defer hour.Stop()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hour.C:
			hour.Reset(r.untilHour())
			r.wake(nil, true)
			continue
		case <-r.kick:
		case <-retry:
		}
		retry = nil
		_, ch, err := r.opt.Log.Observe(ctx, "", stamp)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.opt.Logger.Warn("live: reading the invalidation log failed; every live query is recomputed once it answers", "err", err)
			r.mu.Lock()
			r.missed = true
			r.mu.Unlock()
			retry = time.After(time.Second)
			continue
		}
		r.mu.Lock()
		missed := r.missed
		r.missed = false
		r.mu.Unlock()
		complete := ch.Complete && ch.Now.Log == stamp.Log
		stamp = ch.Now
		switch {
		case missed || !complete:
			r.wake(nil, true)
		case len(ch.Tags) > 0:
			r.wake(ch.Tags, false)
		}
	}
}

func (r *Registry) untilHour() time.Duration {
	now := r.opt.Now()
	return now.Truncate(time.Hour).Add(time.Hour).Sub(now) + time.Second
}

// wake queues the entries carrying any of tags (every entry if all).
func (r *Registry) wake(tags []string, all bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Wakes++
	r.seq++
	if len(r.batches) >= maxBatches {
		r.batches = slices.Delete(r.batches, 0, len(r.batches)-maxBatches+1)
	}
	r.batches = append(r.batches, batch{seq: r.seq, all: all, tags: tags})
	if all {
		for _, e := range r.entries {
			r.enqueue(e)
		}
		return
	}
	for e := range r.wild {
		r.enqueue(e)
	}
	for _, t := range tags {
		for e := range r.byTag[t] {
			r.enqueue(e)
		}
	}
}

// enqueue queues e for a recompute, once; r.mu is held.
func (r *Registry) enqueue(e *entry) {
	switch {
	case e.running:
		e.again = true // its recompute may have read before this wake
	case !e.queued:
		e.queued = true
		r.queue = append(r.queue, e)
		select {
		case r.work <- struct{}{}:
		default:
		}
	}
}

// touchedSince reports whether a wake after seq reached tags (nil: any
// wake), or whether the wakes remembered no longer reach back to seq;
// r.mu is held.
func (r *Registry) touchedSince(seq uint64, tags []string) bool {
	if r.seq == seq {
		return false
	}
	if len(r.batches) == 0 || r.batches[0].seq > seq+1 {
		return true
	}
	for _, b := range r.batches {
		if b.seq <= seq {
			continue
		}
		if b.all || tags == nil {
			return true
		}
		for _, t := range b.tags {
			if _, ok := slices.BinarySearch(tags, t); ok {
				return true
			}
		}
	}
	return false
}

// work1 is one recompute worker.
func (r *Registry) work1(ctx context.Context) {
	for {
		r.mu.Lock()
		var e *entry
		if len(r.queue) > 0 {
			e = r.queue[0]
			r.queue[0] = nil
			r.queue = r.queue[1:]
			if len(r.queue) > 0 {
				select {
				case r.work <- struct{}{}: // another worker may take the rest
				default:
				}
			}
		}
		r.mu.Unlock()
		if e != nil {
			r.recompute(ctx, e)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.work:
		}
	}
}

// recompute runs e's request again through the handler and fans the
// answer out if it changed; e is queued again if a wake reached it while it
// ran.
func (r *Registry) recompute(ctx context.Context, e *entry) {
	r.mu.Lock()
	e.queued = false
	if r.entries[e.key] != e { // its last subscriber left
		r.mu.Unlock()
		return
	}
	e.running = true
	seq := r.seq
	r.mu.Unlock()

	a, err := r.run(ctx, e.req)

	r.mu.Lock()
	defer r.mu.Unlock()
	e.running = false
	r.stats.Recomputes++
	if err != nil {
		if ctx.Err() == nil {
			r.opt.Logger.Warn("live: recompute failed; the next invalidation retries it", "err", err)
		}
		r.index(e, nil) // retried at the next wake, whatever it touches
	} else {
		r.index(e, a.tags)
		if a.hash != e.hash {
			r.stats.Changed++
			e.body, e.hash, e.diverged = a.body, a.hash, true
		}
		if e.diverged {
			r.fanOut(e)
		}
	}
	if r.entries[e.key] == e && (e.again || r.touchedSince(seq, e.tags)) {
		e.again = false
		r.enqueue(e)
	}
	e.again = false
}

// fanOut hands e's answer to every subscriber that does not hold it; r.mu
// is held. A mailbox never blocks.
func (r *Registry) fanOut(e *entry) {
	for s := range e.subs {
		if s.last != e.hash {
			s.last = e.hash
			s.box.put(s.op, e.body, e.hash)
			r.stats.Pushes++
		}
	}
	e.diverged = false
}

// index files e under tags (sorted; nil: unknown); r.mu is held.
func (r *Registry) index(e *entry, tags []string) {
	if e.tags == nil {
		delete(r.wild, e)
	}
	for _, t := range e.tags {
		if set := r.byTag[t]; set != nil {
			delete(set, e)
			if len(set) == 0 {
				delete(r.byTag, t)
			}
		}
	}
	e.tags = tags
	if tags == nil {
		r.wild[e] = struct{}{}
		return
	}
	for _, t := range tags {
		set := r.byTag[t]
		if set == nil {
			set = map[*entry]struct{}{}
			r.byTag[t] = set
		}
		set[e] = struct{}{}
	}
}

// splitTags is the sorted tags of respcache's comma-separated list; nil
// when unknown.
func splitTags(s string) []string {
	if s == "" {
		return nil
	}
	tags := strings.Split(s, ",")
	slices.Sort(tags)
	return slices.Compact(tags)
}
