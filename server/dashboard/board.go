package dashboard

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
)

// Defaults of Options.
const (
	DefaultInterval = 2 * time.Second
	DefaultWindow   = time.Hour
	// buckets is how many points the charts have over the window.
	buckets = 120
	// reportingWithin: a process with a sample this recent is reporting.
	reportingWithin = time.Minute
	// lastRuns is how many scrape runs the page lists.
	lastRuns = 10
)

// statser is the cache as the board reads it (*cache.Cache).
type statser interface {
	Stats(ctx context.Context) (cache.Stats, error)
}

// runFinder lists scrape runs (*db.Store).
type runFinder interface {
	FindScrapeRuns(ctx context.Context, last int) ([]*db.ScrapeRun, error)
}

// Options wire a Board.
type Options struct {
	Cache    statser
	Runs     runFinder
	History  History
	Families *Families // the counts the cache's Invalidated hook feeds
	Process  string    // this process's name in the history
	Token    string    // the admin token; empty: nobody may log in
	Interval time.Duration
	Window   time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// Board samples the cache every Interval and pushes one snapshot per tick to
// every page watching.
type Board struct {
	opt      Options
	sessions sessions
	logins   attempts
	seq      uint64

	mu      sync.Mutex
	last    []byte // the latest snapshot, JSON
	watches map[chan []byte]struct{}
	closed  chan struct{}
	once    sync.Once
}

// New returns a Board; Run starts its sampler.
func New(opt Options) *Board {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Families == nil {
		opt.Families = new(Families)
	}
	if opt.History == nil {
		opt.History = NewMemoryHistory(SamplesPerProcess(opt.Window, opt.Interval))
	}
	return &Board{opt: opt, watches: make(map[chan []byte]struct{}), closed: make(chan struct{})}
}

// SamplesPerProcess is how many samples one process writes over window.
func SamplesPerProcess(window, interval time.Duration) int {
	return int(window/interval) + 1
}

// Run samples every Interval until ctx is done.
func (b *Board) Run(ctx context.Context) {
	t := time.NewTicker(b.opt.Interval)
	defer t.Stop()
	for {
		b.Tick(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Close ends every event stream (the HTTP server's shutdown waits for them).
func (b *Board) Close() { b.once.Do(func() { close(b.closed) }) }

// Tick takes one sample: one cache.Stats call, written to the history and,
// when a page is watching, turned into the snapshot pushed to it.
func (b *Board) Tick(ctx context.Context) {
	now := b.opt.Now()
	st, statsErr := b.opt.Cache.Stats(ctx)
	if statsErr == nil {
		b.seq++
		s := Sample{
			Process: b.opt.Process, Seq: b.seq, At: now.UnixMilli(),
			Hits: st.Hits, Misses: st.Misses, ResponseHits: st.Responses.Hits, ResponseMisses: st.Responses.Misses,
			Invalidations: b.opt.Families.take(),
		}
		if err := b.opt.History.Add(ctx, s); err != nil {
			b.opt.Families.restore(s.Invalidations)
			b.opt.Log.Warn("dashboard: sample not written", "err", err)
		}
	}
	if !b.watched() {
		return
	}
	snap := b.snapshot(ctx, now, st, statsErr)
	body, err := json.Marshal(snap)
	if err != nil {
		b.opt.Log.Warn("dashboard: snapshot", "err", err)
		return
	}
	b.publish(body)
}

// Snapshot builds a snapshot now, from a cache.Stats call of its own.
func (b *Board) Snapshot(ctx context.Context) *Snapshot {
	now := b.opt.Now()
	st, err := b.opt.Cache.Stats(ctx)
	return b.snapshot(ctx, now, st, err)
}

func (b *Board) watched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.watches) > 0
}

// publish keeps body as the latest snapshot and hands it to every watcher;
// a slow watcher skips to the latest.
func (b *Board) publish(body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = body
	for ch := range b.watches {
		select {
		case <-ch:
		default:
		}
		ch <- body
	}
}

// watch registers a watcher and hands it the latest snapshot, if any.
func (b *Board) watch() (ch chan []byte, stop func()) {
	ch = make(chan []byte, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.watches[ch] = struct{}{}
	if b.last != nil {
		ch <- b.last
	}
	return ch, func() {
		b.mu.Lock()
		delete(b.watches, ch)
		if len(b.watches) == 0 {
			b.last = nil // stale by the next watcher
		}
		b.mu.Unlock()
	}
}

// Snapshot is everything the page shows at one moment.
type Snapshot struct {
	At          int64           `json:"at"` // Unix milliseconds
	Process     string          `json:"process"`
	Interval    int64           `json:"intervalMs"`
	Window      int64           `json:"windowMs"`
	Stats       *cache.Report   `json:"stats"` // the figures the cacheStats query answers
	Bands       []cache.Band    `json:"bands"` // how hitRatio is assessed, best first
	StatsError  string          `json:"statsError,omitempty"`
	Ratio       []Point         `json:"ratio"`
	Invalidated []Invalidations `json:"invalidations"`
	Families    []string        `json:"families"`
	Processes   []Process       `json:"processes"`
	Runs        []Run           `json:"scrapeRuns"`
	Errors      []string        `json:"errors,omitempty"`
}

// Point is the hit ratio over one bucket of the window, overall and at the
// response level: nil when nothing was looked up in it. Cumulative is the
// cacheStats hitRatio at the bucket's end.
type Point struct {
	T          int64    `json:"t"`
	Overall    *float64 `json:"overall"`
	Response   *float64 `json:"response"`
	Lookups    int64    `json:"lookups"`
	Cumulative *float64 `json:"cumulative"`
}

// Invalidations are the tags invalidated in one bucket, by family, summed
// over every process.
type Invalidations struct {
	T        int64            `json:"t"`
	Families map[string]int64 `json:"families"`
}

// Process is a server process with a sample in the window.
type Process struct {
	ID        string `json:"id"`
	LastSeen  int64  `json:"lastSeen"`
	Reporting bool   `json:"reporting"` // a sample in the last minute
	Self      bool   `json:"self"`
}

// Run is a scrape run as the page lists it.
type Run struct {
	ID              int64  `json:"id"`
	StartedAt       int64  `json:"startedAt"`
	FinishedAt      int64  `json:"finishedAt,omitempty"`
	Status          string `json:"status"`
	PostsFetched    int    `json:"postsFetched"`
	PostsStored     int    `json:"postsStored"`
	TagsInvalidated int    `json:"tagsInvalidated"`
	Error           string `json:"error,omitempty"`
}

func (b *Board) snapshot(ctx context.Context, now time.Time, st cache.Stats, statsErr error) *Snapshot {
	s := &Snapshot{
		At: now.UnixMilli(), Process: b.opt.Process, Interval: b.opt.Interval.Milliseconds(), Window: b.opt.Window.Milliseconds(),
		Ratio: []Point{}, Invalidated: []Invalidations{}, Families: []string{}, Processes: []Process{}, Runs: []Run{},
		Bands: cache.Bands,
	}
	if statsErr != nil {
		s.StatsError = statsErr.Error()
	} else {
		r := cache.ReportOf(st)
		s.Stats = &r
	}
	from := now.Add(-b.opt.Window)
	if samples, err := b.opt.History.Since(ctx, from); err != nil {
		s.Errors = append(s.Errors, err.Error())
	} else {
		s.Ratio, s.Invalidated, s.Families = series(samples, from, b.opt.Window)
		s.Processes = processes(samples, now, b.opt.Process)
	}
	if runs, err := b.opt.Runs.FindScrapeRuns(ctx, lastRuns); err != nil {
		s.Errors = append(s.Errors, err.Error())
	} else {
		for _, r := range runs {
			s.Runs = append(s.Runs, runOf(r))
		}
	}
	return s
}

// series buckets samples (of every process, oldest first) over the window.
// The totals are every process's, seen by each at its own tick: a running
// maximum smooths the counts one process had not yet flushed when another
// sampled.
func series(samples []Sample, from time.Time, window time.Duration) ([]Point, []Invalidations, []string) {
	width := window.Milliseconds() / buckets
	start := from.UnixMilli()
	points := make([]Point, buckets)
	inv := make([]Invalidations, buckets)
	for i := range points {
		points[i].T = start + int64(i+1)*width
		inv[i] = Invalidations{T: points[i].T, Families: map[string]int64{}}
	}
	fams := map[string]bool{}
	var h, m, rh, rm int64 // running maxima
	type delta struct{ h, m, rh, rm int64 }
	deltas := make([]delta, buckets)
	seen := make([]bool, buckets)
	for i, s := range samples {
		k := int((s.At - start) / width)
		if k < 0 {
			continue
		}
		k = min(k, buckets-1)
		if i == 0 {
			h, m, rh, rm = s.Hits, s.Misses, s.ResponseHits, s.ResponseMisses
		}
		d := &deltas[k]
		d.h += max(s.Hits-h, 0)
		d.m += max(s.Misses-m, 0)
		d.rh += max(s.ResponseHits-rh, 0)
		d.rm += max(s.ResponseMisses-rm, 0)
		h, m, rh, rm = max(h, s.Hits), max(m, s.Misses), max(rh, s.ResponseHits), max(rm, s.ResponseMisses)
		if h+m > 0 {
			c := float64(h) / float64(h+m)
			points[k].Cumulative = &c
		}
		seen[k] = true
		for f, n := range s.Invalidations {
			inv[k].Families[f] += n
			fams[f] = true
		}
	}
	for k, d := range deltas {
		points[k].Lookups = d.h + d.m
		points[k].Overall = ratioOf(d.h, d.m)
		points[k].Response = ratioOf(d.rh, d.rm)
		if !seen[k] && k > 0 {
			points[k].Cumulative = points[k-1].Cumulative
		}
	}
	return points, inv, slices.Sorted(func(yield func(string) bool) {
		for f := range fams {
			if !yield(f) {
				return
			}
		}
	})
}

func ratioOf(hits, misses int64) *float64 {
	if hits+misses == 0 {
		return nil
	}
	r := float64(hits) / float64(hits+misses)
	return &r
}

// processes lists the processes with samples, the latest seen first.
func processes(samples []Sample, now time.Time, self string) []Process {
	last := map[string]int64{}
	for _, s := range samples {
		last[s.Process] = max(last[s.Process], s.At)
	}
	out := []Process{}
	for id, at := range last {
		out = append(out, Process{ID: id, LastSeen: at, Reporting: at >= now.Add(-reportingWithin).UnixMilli(), Self: id == self})
	}
	slices.SortFunc(out, func(a, b Process) int {
		if a.LastSeen != b.LastSeen {
			return int(b.LastSeen - a.LastSeen)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func runOf(r *db.ScrapeRun) Run {
	out := Run{ID: r.ID, StartedAt: r.StartedAt.UnixMilli(), Status: r.Status, PostsFetched: r.PostsFetched, PostsStored: r.PostsStored, TagsInvalidated: len(r.InvalidatedTags)}
	if r.FinishedAt != nil {
		out.FinishedAt = r.FinishedAt.UnixMilli()
	}
	if r.Error != nil {
		out.Error = *r.Error
	}
	return out
}
