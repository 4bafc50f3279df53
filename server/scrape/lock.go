package scrape

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/db"
)

// The lock scheme, with WithLock (several processes, one Redis):
//
//   - The run lock (key) is held by whichever process is running a scrape,
//     scheduled or manual: obtained with lockTTL, refreshed every
//     lockRefresh while the run lasts, released when it ends. It keeps runs
//     from overlapping, however long one takes; if the process dies, it
//     expires within lockTTL.
//
//   - The tick key (key + ":tick:" + the tick's time truncated to the
//     minute) is claimed with SET NX by the first process to fire for a
//     tick and never released: it expires after tickTTL. The run lock alone
//     cannot give one run per tick: a process whose clock or scheduler lags
//     by a second fires after a short run elsewhere has already released the
//     run lock, and would run the same tick again. The tick key outlives any
//     plausible skew between processes (tickTTL ≫ seconds) yet expires long
//     before it could pile up.
//
// A scheduled tick claims the tick key first, then the run lock; failing
// either, it logs and skips. Cron schedules have minute resolution, so the
// minute names the tick; an "@every" schedule shorter than a minute runs at
// most once a minute across processes. If Redis cannot be reached the tick
// is skipped (logged as an error) rather than run unguarded by every process.
const (
	lockTTL     = time.Minute
	lockRefresh = 20 * time.Second
	tickTTL     = 2 * time.Minute
)

// errTickClaimed: another process has claimed this tick.
var errTickClaimed = errors.New("scrape: tick already claimed by another process")

// errInProgress: a run is in progress in this process.
var errInProgress = errors.New("scrape: a run is already in progress in this process")

// WithLock makes s coordinate with other processes through Redis under key
// (see the lock scheme above) and returns s. Call it before Start or Run.
// Without it, only the in-process guard applies.
func (s *Scraper) WithLock(client redis.UniversalClient, key string) *Scraper {
	s.locker = redislock.New(client)
	s.lockKey = key
	return s
}

// tickKey names the tick at at.
func (s *Scraper) tickKey(at time.Time) string {
	return s.lockKey + ":tick:" + at.UTC().Truncate(time.Minute).Format("2006-01-02T15:04Z")
}

// tick runs the scheduled run of the tick at at, unless another process has
// claimed the tick, a run is in progress here, or another process holds the
// run lock; each of these is returned as an error (errTickClaimed,
// errInProgress, ErrBusy).
func (s *Scraper) tick(ctx context.Context, at time.Time) (*db.ScrapeRun, error) {
	if s.locker != nil {
		// Never released: see the lock scheme.
		if _, err := s.locker.Obtain(ctx, s.tickKey(at), tickTTL, nil); err != nil {
			if errors.Is(err, redislock.ErrNotObtained) {
				return nil, errTickClaimed
			}
			return nil, fmt.Errorf("scrape: claim tick: %w", err)
		}
	}
	f, lead := s.begin(false)
	if !lead {
		return nil, errInProgress
	}
	defer s.end(f)
	f.run, f.err = s.lockedScrape(ctx)
	return f.run, f.err
}

// lockedScrape runs scrape holding the run lock when there is one. It
// returns ErrBusy when another process holds it.
func (s *Scraper) lockedScrape(ctx context.Context) (*db.ScrapeRun, error) {
	if s.locker == nil {
		return s.scrape(ctx)
	}
	lock, err := s.locker.Obtain(ctx, s.lockKey, lockTTL, nil)
	if errors.Is(err, redislock.ErrNotObtained) {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, fmt.Errorf("scrape: obtain run lock: %w", err)
	}
	defer s.hold(ctx, lock)()
	return s.scrape(ctx)
}

// hold refreshes lock every lockRefresh until the returned function is
// called, which stops refreshing and releases it. A failed refresh is
// logged, not fatal: ingest is idempotent on (source, external_id), so if
// the lock lapses and another process starts a run, the overlap costs
// duplicate work, never wrong data.
func (s *Scraper) hold(ctx context.Context, lock *redislock.Lock) (release func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lockRefresh)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				err := lock.Refresh(rctx, lockTTL, nil)
				cancel()
				if err != nil {
					s.log.WarnContext(ctx, "scrape run lock refresh failed", "key", lock.Key(), "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := lock.Release(rctx); err != nil && !errors.Is(err, redislock.ErrLockNotHeld) {
			s.log.WarnContext(ctx, "scrape run lock release failed; it expires by itself", "key", lock.Key(), "err", err)
		}
	}
}
