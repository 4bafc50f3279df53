package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bsm/redislock"
	"github.com/mmcdole/gofeed"

	"github.com/kedahpulse/kedahpulse/db"
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout      = 5 * time.Minute
	DefaultFetchTimeout = 20 * time.Second
	DefaultMaxBytes     = 2 << 20
	DefaultMaxItems     = 500
	DefaultUserAgent    = "KedahPulse-Scraper/1.0"
	DefaultBatchSize    = 500
)

const (
	// fetchWorkers is how many feeds are fetched and parsed at once. Ingest
	// is serial whatever this is: concurrent rollup upserts would only
	// contend for the same rows.
	fetchWorkers = 4
	// finishTimeout bounds recording a run's end, which happens even when
	// the run's own context has ended.
	finishTimeout = 10 * time.Second
	// deliverTimeout bounds delivering one batch's invalidation.
	deliverTimeout = 10 * time.Second
)

// ErrBusy is returned by Run when another process holds the run lock and no
// RUNNING row of its run can be found yet.
var ErrBusy = errors.New("scrape: another process is running a scrape")

// Config configures a Scraper. Zero fields take the defaults above.
type Config struct {
	Feeds        []string      // feed URLs (SCRAPE_FEEDS)
	Timeout      time.Duration // per run
	FetchTimeout time.Duration // per feed: request, redirects and body
	// MaxBytes bounds a feed's body: a larger one fails the feed ("feed
	// larger than N bytes") rather than be parsed cut short.
	MaxBytes int64
	// MaxItems bounds the items taken from one feed: the first MaxItems in
	// the feed's order (newest first in most feeds); the rest are skipped
	// and counted in the feed's log line.
	MaxItems  int
	UserAgent string
	BatchSize int // posts per IngestPosts call, at most db.MaxIngestBatch
	// RedirectHosts are the hosts any feed may be redirected to besides
	// its own, as "host" or "host:port" (a scheme's default port left out).
	// A redirect to any other host, or from https to http, fails the feed.
	// None by default.
	RedirectHosts []string
}

// Deliverer delivers a committed write's invalidation: it invalidates the
// change's tags in the cache and acknowledges its outbox row, or says it
// could not (the row then waits in the outbox for a relay). outbox.Relay is
// one.
type Deliverer interface {
	Deliver(ctx context.Context, ch db.Change) error
}

// Scraper pulls the configured feeds into the store. Run is safe for
// concurrent use; at most one run is in progress per Scraper.
type Scraper struct {
	// Now is the clock posts are dated by when a feed gives no date, and
	// past which no post is dated. New sets it to time.Now.
	Now func() time.Time

	store   *db.Store
	deliver Deliverer // nil: invalidations wait in the outbox for the relay
	cfg     Config
	log     *slog.Logger
	client  *http.Client
	parse   func(body []byte, limit int) ([]*gofeed.Item, int, error) // parseFeed; tests count calls

	// locker and lockKey are set by WithLock.
	locker  *redislock.Client
	lockKey string

	mu       sync.Mutex
	inflight *flight // the run in progress in this process, if any

	validatorsMu sync.Mutex
	validators   map[string]validators // by feed URL
}

// New returns a Scraper of cfg's feeds that stores posts in store and
// hands each batch's invalidation to deliver (nil leaves them in the outbox
// for the relay).
func New(store *db.Store, deliver Deliverer, cfg Config, log *slog.Logger) *Scraper {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	cfg.BatchSize = min(cfg.BatchSize, db.MaxIngestBatch)
	cfg.Feeds = append([]string(nil), cfg.Feeds...)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scraper{
		Now:        time.Now,
		store:      store,
		deliver:    deliver,
		cfg:        cfg,
		log:        log,
		client:     newClient(cfg),
		parse:      parseFeed,
		validators: make(map[string]validators),
	}
}

func (s *Scraper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// flight is the run in progress in this process. Callers arriving while it
// is in flight wait for it and share its outcome.
type flight struct {
	done    chan struct{}
	waiters int // callers waiting besides the one running it; guarded by Scraper.mu
	run     *db.ScrapeRun
	err     error
}

// begin returns the flight in progress, counting the caller as a waiter if
// it will wait, or starts one and reports that the caller leads it and must
// end it.
func (s *Scraper) begin(wait bool) (f *flight, lead bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		if wait {
			s.inflight.waiters++
		}
		return s.inflight, false
	}
	// The outcome until the leader sets one: what waiters see if the run
	// panics.
	f = &flight{done: make(chan struct{}), err: errors.New("scrape: run aborted")}
	s.inflight = f
	return f, true
}

func (s *Scraper) end(f *flight) {
	s.mu.Lock()
	s.inflight = nil
	s.mu.Unlock()
	close(f.done)
}

// Run scrapes every feed once now and returns the finished run, SUCCEEDED
// or FAILED (a FAILED run is a result, not an error). When a run is already
// in progress in this process, Run waits for it and returns its finished
// row instead of starting another, so every caller sees a final outcome.
// The run is bounded by Config.Timeout and ends early if the context of the
// caller that started it ends.
//
// With WithLock, Run also takes the run lock: when another process holds
// it, Run does not wait (that run may last minutes) but returns that
// process's RUNNING row, or ErrBusy if its row is not there yet. Manual runs
// ignore the per-tick keys: asking for a run means wanting one now.
//
// Otherwise Run returns an error only when the run could not be recorded
// or the caller's context ended while it waited.
func (s *Scraper) Run(ctx context.Context) (*db.ScrapeRun, error) {
	f, lead := s.begin(true)
	if lead {
		func() {
			defer s.end(f)
			rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
			defer cancel()
			f.run, f.err = s.lockedScrape(rctx)
		}()
	} else {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("scrape: wait for the run in progress: %w", ctx.Err())
		}
	}
	if errors.Is(f.err, ErrBusy) {
		if run := s.runningElsewhere(ctx); run != nil {
			return run, nil
		}
	}
	return f.run, f.err
}

// runningElsewhere returns the newest run if it is RUNNING, else nil.
func (s *Scraper) runningElsewhere(ctx context.Context) *db.ScrapeRun {
	runs, err := s.store.FindScrapeRuns(ctx, 1)
	if err != nil || len(runs) == 0 || runs[0].Status != db.RunRunning {
		return nil
	}
	return runs[0]
}

// tally sums a run's feeds.
type tally struct {
	feedsDone, feedsFailed                 int
	fetched, stored, duplicates, unmatched int
	tags                                   map[string]struct{}
	failures                               []string // "url: reason"
}

// scrape performs one run: it records the run, reads every feed (a few at
// a time), ingests each feed's posts in batches through the one ingest
// path, delivers each batch's invalidation as soon as it commits, and
// records the outcome.
func (s *Scraper) scrape(ctx context.Context) (*db.ScrapeRun, error) {
	start := time.Now()
	run, err := s.store.StartScrapeRun(ctx)
	if err != nil {
		return nil, fmt.Errorf("scrape: start run: %w", err)
	}
	t := &tally{tags: make(map[string]struct{})}
	runErr := s.readAll(ctx, t)

	run.PostsFetched, run.PostsStored = t.fetched, t.stored
	run.InvalidatedTags = make([]string, 0, len(t.tags))
	for tag := range t.tags {
		run.InvalidatedTags = append(run.InvalidatedTags, tag)
	}
	sort.Strings(run.InvalidatedTags)
	total := len(s.cfg.Feeds)
	run.Status = db.RunSucceeded
	switch {
	case runErr != nil:
		run.Status = db.RunFailed
		run.Error = ptr(runErr.Error())
	case total > 0 && t.feedsFailed == total:
		run.Status = db.RunFailed
		run.Error = ptr(fmt.Sprintf("all %d feeds failed: %s", total, strings.Join(t.failures, "; ")))
	case t.feedsFailed > 0:
		// Some feeds failed: the run SUCCEEDS (what the others brought is
		// stored) and its error names the failed feeds.
		run.Error = ptr(fmt.Sprintf("%d of %d feeds failed: %s", t.feedsFailed, total, strings.Join(t.failures, "; ")))
	}

	level := slog.LevelInfo
	if run.Status == db.RunFailed {
		level = slog.LevelError
	}
	s.log.Log(ctx, level, "scrape run finished", "run_id", run.ID, "status", run.Status,
		"feeds_done", t.feedsDone, "feeds_total", total, "fetched", t.fetched, "stored", t.stored,
		"duplicates", t.duplicates, "unmatched", t.unmatched, "tags", len(run.InvalidatedTags),
		"took", time.Since(start), "error", deref(run.Error))

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := s.store.FinishScrapeRun(fctx, run); err != nil {
		return nil, fmt.Errorf("scrape: finish run %d: %w", run.ID, err)
	}
	return run, nil
}

// readAll reads the feeds with fetchWorkers workers and ingests their posts
// one feed at a time, as they arrive. Its error fails the whole run.
func (s *Scraper) readAll(ctx context.Context, t *tally) error {
	dests, err := s.store.ListDestinations(ctx)
	if err != nil {
		return fmt.Errorf("list destinations: %w", err)
	}
	m := db.NewMatcher(dests)

	urls := make(chan string)
	results := make(chan *feedResult)
	var wg sync.WaitGroup
	for range min(fetchWorkers, len(s.cfg.Feeds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range urls {
				results <- s.readFeed(ctx, u, m)
			}
		}()
	}
	go func() {
		for _, u := range s.cfg.Feeds {
			urls <- u
		}
		close(urls)
		wg.Wait()
		close(results)
	}()
	// Every result is received, so no worker is left blocked; a run whose
	// context ends sees its remaining feeds fail fast.
	for r := range results {
		s.ingest(ctx, r, t)
	}
	return nil
}

// ingest stores one feed's posts in batches and delivers each batch's
// invalidation right after it commits, then logs the feed.
func (s *Scraper) ingest(ctx context.Context, r *feedResult, t *tally) {
	start := time.Now()
	stored, duplicates := 0, 0
	for i := 0; r.err == nil && i < len(r.posts); i += s.cfg.BatchSize {
		batch := r.posts[i:min(i+s.cfg.BatchSize, len(r.posts))]
		res, ch, err := s.store.IngestPosts(ctx, batch)
		if err != nil {
			r.err = fmt.Errorf("ingest: %w", err)
			break
		}
		stored += res.Stored
		duplicates += res.Duplicates
		for _, tag := range ch.Tags {
			t.tags[tag] = struct{}{}
		}
		if len(ch.Tags) > 0 && s.deliver != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliverTimeout)
			if err := s.deliver.Deliver(dctx, ch); err != nil {
				s.log.Warn("scrape: invalidation left to the outbox relay", "tags", ch.Tags, "err", err)
			}
			cancel()
		}
	}
	t.fetched += r.items
	t.stored += stored
	t.duplicates += duplicates
	t.unmatched += r.unmatched
	took := r.took + time.Since(start)
	if r.err != nil {
		t.feedsFailed++
		t.failures = append(t.failures, r.url+": "+r.err.Error())
		s.log.WarnContext(ctx, "scrape feed failed", "url", r.url, "items", r.items,
			"stored", stored, "took", took, "err", r.err)
		return
	}
	t.feedsDone++
	if !r.notModified {
		s.remember(r.url, r.validators)
	}
	s.log.InfoContext(ctx, "scrape feed", "url", r.url, "items", r.items, "skipped", r.skipped,
		"matched", len(r.posts), "stored", stored, "duplicates", duplicates, "not_modified", r.notModified,
		"took", took)
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
