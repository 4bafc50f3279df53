package respcache

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// Defaults of WarmOptions.
const (
	DefaultWarmTop         = 50
	DefaultWarmConcurrency = 2
	DefaultWarmCapacity    = 1024
	DefaultWarmMaxBytes    = 4 << 10
	DefaultWarmTimeout     = time.Minute
	DefaultWarmBudget      = time.Second
	DefaultWarmMaxFill     = 250 * time.Millisecond
)

// maxPendingTags bounds the tags queued for the next round; past it, the
// round warms every counted request.
const maxPendingTags = 4096

// WarmOptions configure a Warmer. Zero values mean the defaults.
type WarmOptions struct {
	Top         int           // requests replayed per round
	Concurrency int           // replays at once
	Capacity    int           // requests counted at most
	MaxBytes    int           // largest request counted: document, variables and tags
	Timeout     time.Duration // bounds one round
	// Budget bounds the time one round spends replaying (the sum of its
	// replays' durations): past it, the rest of the round is skipped, so
	// that one invalidation costs about Budget of replays whatever the
	// counted requests are.
	Budget time.Duration
	// MaxFill skips the requests whose last fill (served or replayed) took
	// longer: whatever anonymous clients ask for most, an expensive answer
	// is refilled by its next request, not by the Warmer.
	MaxFill time.Duration
	Logger  *slog.Logger     // one line per round
	Now     func() time.Time // measures fills and the budget
}

func (o WarmOptions) withDefaults() WarmOptions {
	if o.Top <= 0 {
		o.Top = DefaultWarmTop
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultWarmConcurrency
	}
	if o.Capacity <= 0 {
		o.Capacity = DefaultWarmCapacity
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultWarmMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultWarmTimeout
	}
	if o.Budget <= 0 {
		o.Budget = DefaultWarmBudget
	}
	if o.MaxFill <= 0 {
		o.MaxFill = DefaultWarmMaxFill
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// WarmStats are a Warmer's counters since it started.
type WarmStats struct {
	Tracked    int           // requests counted now (at most Capacity)
	Rounds     int64         // rounds run
	Replayed   int64         // replays that stored a fresh answer
	Fresh      int64         // replays answered from the cache (someone filled it first)
	Failed     int64         // replays that errored, were not cacheable or ran out of time
	Costly     int64         // requests not replayed: their last fill took longer than MaxFill
	OverBudget int64         // requests not replayed: their round had spent its Budget
	Spent      time.Duration // time spent replaying, in every round
}

// Warmer refills the whole-response cache after analytics invalidations,
// so that the first dashboard request after a scrape or an ingest is a hit.
//
// The Level tells the Warmer about every public cacheable answer it
// serves or stores that depends on an analytics tag: the document text, the
// operation name, the coerced variables and the tags the entry carries.
// The Warmer counts these requests in a space-saving top-k of fixed
// capacity (a newcomer replaces the least counted entry), halves every
// count now and then so that old popularity fades, and skips requests
// larger than MaxBytes: its memory is bounded by Capacity × MaxBytes.
//
// When the cache invalidates analytics tags (the cache's Invalidated hook,
// which must not block), the Warmer queues them and wakes its loop; tags
// arriving while a round runs wait for the next one, so at most one round
// is queued. A round picks the Top most counted requests carrying any of
// the tags and replays them with Concurrency workers, as anonymous POST
// requests through the same http.Handler users reach. A replay takes the
// normal path (response cache Get, execution with a Recorder, Set at the
// versions read before the database), so a warm fill that races a newer
// write is stored at the old versions and never validates; the write's own
// invalidation queues the next round. Replays are not counted. So that
// anonymous clients cannot steer it into amplification, a round leaves out
// the requests whose last fill (served or replayed) took longer than
// MaxFill, and stops replaying once its replays took Budget in all.
//
// It replays through the handler of the Level built with it
// (Options.Warmer, Level.Front). Wire it with cache.Options.Invalidated,
// and run its loop with Run. Safe for concurrent use.
type Warmer struct {
	opt     WarmOptions
	handler atomic.Pointer[http.Handler]
	kick    chan struct{} // one queued round at most

	mu      sync.Mutex
	top     topK
	seen    int                      // observations since the last halving
	pending map[string]struct{}      // analytics tags invalidated since the last round began
	all     bool                     // pending overflowed: warm every counted request
	idle    chan struct{}            // closed while no round is queued or running
	fills   map[string]time.Duration // last fill of requests filled before they were counted
	stats   WarmStats
}

// NewWarmer returns a Warmer; it replays nothing until a Level's front is
// built with it (Options.Warmer) and Run is running.
func NewWarmer(o WarmOptions) *Warmer {
	o = o.withDefaults()
	idle := make(chan struct{})
	close(idle)
	return &Warmer{opt: o, kick: make(chan struct{}, 1), pending: map[string]struct{}{}, idle: idle, fills: map[string]time.Duration{},
		top: topK{index: map[string]*counted{}}}
}

// serve sets the handler replays go through (nothing on a nil w).
func (w *Warmer) serve(h http.Handler) {
	if w != nil {
		w.handler.Store(&h)
	}
}

// warmRequest is what a replay sends.
type warmRequest struct {
	query string
	op    string
	vars  []byte // JSON of the coerced variables
	key   string // its response key's digest (Digest): its identity in the counts
}

type replayingKey struct{}

// replaying reports whether ctx is a Warmer's replay.
func replaying(ctx context.Context) bool {
	v, _ := ctx.Value(replayingKey{}).(bool)
	return v
}

// request is how to replay p, whose response key's digest is digest, or
// nil when w is nil or p is PRIVATE.
func (w *Warmer) request(p *gqlhttp.Prepared, digest string) *warmRequest {
	if w == nil || p.Hint.Private {
		return nil
	}
	vars, err := json.Marshal(p.Operation.Variables)
	if err != nil {
		return nil
	}
	return &warmRequest{query: p.Operation.RawQuery, op: p.Operation.OperationName, vars: vars, key: digest}
}

// start is when a fill begins, for observe (zero when w is nil).
func (w *Warmer) start() time.Time {
	if w == nil {
		return time.Time{}
	}
	return w.opt.Now()
}

// observe counts a public answer the Level served or stored with tags (r
// from request), and remembers how long its fill took if it was filled
// from start (zero for an answer served from the cache). A replay is not
// counted: its round remembers how long it took.
func (w *Warmer) observe(ctx context.Context, r *warmRequest, tags []byte, start time.Time) {
	if w == nil || r == nil {
		return
	}
	if replaying(ctx) { // its round counts it
		return
	}
	if !start.IsZero() {
		w.filled(r.key, w.opt.Now().Sub(start))
	}
	w.count(r, tags)
}

// filled remembers the cost of the last fill of the request keyed key.
func (w *Warmer) filled(key string, cost time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fills[key] = cost
	if c, ok := w.top.index[key]; ok {
		c.cost = cost
	}
	if len(w.fills) > w.opt.Capacity { // fills of requests not counted yet
		clear(w.fills)
	}
}

// count adds one request to the top-k, unless it depends on no analytics
// tag or is too large to keep.
func (w *Warmer) count(r *warmRequest, tags []byte) {
	if len(r.query)+len(r.vars)+len(tags) > w.opt.MaxBytes || !anyAnalytics(tags) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen++; w.seen >= 16*w.opt.Capacity {
		w.top.halve()
		w.seen = 0
	}
	c := w.top.add(r, tags, w.opt.Capacity)
	if cost, ok := w.fills[r.key]; ok {
		c.cost = cost
		delete(w.fills, r.key)
	}
}

// Invalidated queues the analytics tags among tags for the next round and
// wakes Run. It never blocks: it is the cache's Invalidated hook.
func (w *Warmer) Invalidated(tags []string) {
	w.mu.Lock()
	queued := false
	for _, t := range tags {
		if !db.IsAnalyticsTag(t) {
			continue
		}
		queued = true
		if !w.all {
			w.pending[t] = struct{}{}
		}
	}
	if len(w.pending) > maxPendingTags {
		w.all, w.pending = true, map[string]struct{}{}
	}
	if queued {
		w.busy()
	}
	w.mu.Unlock()
	if queued {
		select {
		case w.kick <- struct{}{}:
		default: // a round is queued already; it will take these tags
		}
	}
}

// busy marks a round queued; w.mu is held.
func (w *Warmer) busy() {
	select {
	case <-w.idle:
		w.idle = make(chan struct{})
	default:
	}
}

// Wait returns when no round is queued or running, or when ctx is done.
func (w *Warmer) Wait(ctx context.Context) error {
	w.mu.Lock()
	idle := w.idle
	w.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the Warmer's counters.
func (w *Warmer) Stats() WarmStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Tracked = len(w.top.index)
	return s
}

// Run runs rounds as invalidations queue them, until ctx is done; a round
// running then is cancelled and waited for.
func (w *Warmer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		w.mu.Lock()
		tags, all := w.pending, w.all
		w.pending, w.all = map[string]struct{}{}, false
		w.mu.Unlock()
		if len(tags) > 0 || all {
			w.round(ctx, tags, all)
		}
		w.mu.Lock()
		if len(w.pending) == 0 && !w.all {
			select {
			case <-w.idle:
			default:
				close(w.idle)
			}
		}
		w.mu.Unlock()
	}
}

// round replays the most counted requests carrying any of tags (every one
// if all) and logs what it did.
func (w *Warmer) round(ctx context.Context, tags map[string]struct{}, all bool) {
	start := time.Now()
	h := w.handler.Load()
	reqs, costly := w.pick(tags, all)
	if h == nil || len(reqs)+costly == 0 {
		return
	}
	if len(reqs) == 0 {
		w.mu.Lock()
		w.stats.Rounds++
		w.stats.Costly += int64(costly)
		w.mu.Unlock()
		w.opt.Logger.Info("cache warmed", "tags", len(tags), "all", all, "picked", 0, "costly", costly)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	jobs := make(chan warmRequest)
	var replayed, fresh, over atomic.Int64
	var spent atomic.Int64 // nanoseconds of replays so far
	var wg sync.WaitGroup
	for range min(w.opt.Concurrency, len(reqs)) {
		wg.Go(func() {
			for r := range jobs {
				if time.Duration(spent.Load()) >= w.opt.Budget {
					over.Add(1)
					continue
				}
				began := w.opt.Now()
				switch replay(ctx, *h, r) {
				case "MISS":
					replayed.Add(1)
				case "HIT":
					fresh.Add(1)
				}
				took := w.opt.Now().Sub(began)
				spent.Add(int64(took))
				w.filled(r.key, took)
			}
		})
	}
	sent := 0
feed:
	for _, r := range reqs {
		select {
		case jobs <- r:
			sent++
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	failed := int64(sent) - replayed.Load() - fresh.Load() - over.Load()
	w.mu.Lock()
	w.stats.Rounds++
	w.stats.Replayed += replayed.Load()
	w.stats.Fresh += fresh.Load()
	w.stats.Failed += failed
	w.stats.Costly += int64(costly)
	w.stats.OverBudget += over.Load()
	w.stats.Spent += time.Duration(spent.Load())
	w.mu.Unlock()
	w.opt.Logger.Info("cache warmed", "tags", len(tags), "all", all, "picked", len(reqs),
		"replayed", replayed.Load(), "fresh", fresh.Load(), "failed", failed,
		"costly", costly, "over_budget", over.Load(), "spent", time.Duration(spent.Load()), "duration", time.Since(start))
}

// pick returns the Top most counted requests carrying any of tags (any
// request if all), most counted first, leaving out those whose last fill
// took longer than MaxFill (how many: costly).
func (w *Warmer) pick(tags map[string]struct{}, all bool) (reqs []warmRequest, costly int) {
	w.mu.Lock()
	var hits []*counted
	for _, c := range w.top.heap {
		if !all && !carriesAny(c.tags, tags) {
			continue
		}
		if c.cost > w.opt.MaxFill {
			costly++
			continue
		}
		hits = append(hits, c)
	}
	slices.SortFunc(hits, func(a, b *counted) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.key, b.key))
	})
	out := make([]warmRequest, 0, min(len(hits), w.opt.Top))
	for _, c := range hits[:min(len(hits), w.opt.Top)] {
		out = append(out, c.req)
	}
	w.mu.Unlock()
	return out, costly
}

// replay sends r through h and returns the answer's X-Cache ("HIT" or
// "MISS"), or "" if it was not a clean cacheable answer.
func replay(ctx context.Context, h http.Handler, r warmRequest) string {
	ctx = cache.WithReplay(context.WithValue(ctx, replayingKey{}, true))
	a, err := Replay(ctx, h, ReplayRequest{Query: r.query, OperationName: r.op, Variables: r.vars})
	if err != nil || a.Status != http.StatusOK || a.Header.Get("Cache-Control") == "no-store" {
		return ""
	}
	return a.Header.Get("X-Cache")
}

// anyAnalytics reports whether the comma-separated tags hold an analytics
// tag.
func anyAnalytics(tags []byte) bool {
	if !bytes.Contains(tags, []byte(db.TagAnalytics)) {
		return false
	}
	for t := range bytes.SplitSeq(tags, []byte(",")) {
		if db.IsAnalyticsTag(string(t)) {
			return true
		}
	}
	return false
}

// carriesAny reports whether the comma-separated tags hold one of set.
func carriesAny(tags string, set map[string]struct{}) bool {
	for t := range strings.SplitSeq(tags, ",") {
		if _, ok := set[t]; ok {
			return true
		}
	}
	return false
}

// counted is one request of the top-k.
type counted struct {
	key  string
	req  warmRequest
	tags string // as its entry was last stored
	n    int
	cost time.Duration // its last fill
	i    int           // position in the heap
}

// topK is a space-saving top-k: a map for lookups and a min-heap of counts,
// so that a newcomer replaces the least counted request in O(log k).
type topK struct {
	index map[string]*counted
	heap  []*counted
}

// add counts r and returns its count.
func (t *topK) add(r *warmRequest, tags []byte, capacity int) *counted {
	if c, ok := t.index[r.key]; ok {
		c.n++
		if c.tags != string(tags) { // compared without a copy
			c.tags = string(tags)
		}
		heap.Fix(t, c.i)
		return c
	}
	if len(t.heap) < capacity {
		c := &counted{key: r.key, req: *r, tags: string(tags), n: 1}
		heap.Push(t, c)
		return c
	}
	least := t.heap[0] // the newcomer inherits its count: space-saving's bound
	delete(t.index, least.key)
	least.key, least.req, least.tags, least.n, least.cost = r.key, *r, string(tags), least.n+1, 0
	t.index[r.key] = least
	heap.Fix(t, 0)
	return least
}

// halve halves every count; halving keeps the heap's order.
func (t *topK) halve() {
	for _, c := range t.heap {
		c.n /= 2
	}
}

func (t *topK) Len() int           { return len(t.heap) }
func (t *topK) Less(i, j int) bool { return t.heap[i].n < t.heap[j].n }
func (t *topK) Swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.heap[i].i, t.heap[j].i = i, j
}

func (t *topK) Push(x any) {
	c := x.(*counted)
	c.i = len(t.heap)
	t.heap = append(t.heap, c)
	t.index[c.key] = c
}

func (t *topK) Pop() any {
	c := t.heap[len(t.heap)-1]
	t.heap = t.heap[:len(t.heap)-1]
	delete(t.index, c.key)
	return c
}
