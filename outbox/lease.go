package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// The lease protocol
//
// A process answers from the shared cache only while it holds a lease: its
// cache peer row (db.JoinCache), live while the database's clock says its
// heartbeat is younger than the ttl. Renew renews it only when the process
// reaches both the cache and the database, and gives it up (deletes the
// row) when the cache is unreachable. Locally the lease ends ttl minus a
// tenth after the renewal was sent, by the monotonic clock, which runs on
// while a process is stopped: the process's own view ends before the
// database's, whatever its wall clock says, so a process that was stopped,
// cut off or dropped has noticed before another process can count it
// gone. The read bypass asks Held before every read of the cache.
//
// A write whose invalidation cannot reach the cache waits (Deliver) only
// while another process holds a lease; with none, no process can answer
// from the cache, and each delivers the outbox before it holds a lease
// again: after any lapse, Renew turns the bypass on once the database has
// recorded the renewal (so a drain that turns it off sees every row
// written by a process that counted this one gone), clears an in-process
// cache (the others' writes never reached it), and drains.

// Lease is this process's lease on the shared cache. Safe for concurrent
// use; Renew and Release are called by one goroutine at a time.
type Lease struct {
	store    *db.Store
	identity string
	ttl      time.Duration
	ping     func(context.Context) error // nil: the cache is in process
	log      *slog.Logger

	base  time.Time    // the monotonic origin of until
	until atomic.Int64 // when the lease ends, in ns after base; 0: not held
	// once is set when the lease is first held: before it, an in-process
	// cache has stored nothing (it skips its store while bypassed), so a first
	// renewal clears nothing and tells no listener (a CDN purge of every
	// answer at each start would be a deploy's cost).
	once atomic.Bool

	mu   sync.Mutex
	peer db.Peer // this process's registration; ID "" when none
	lost string  // why the lease was last not renewed, for logging changes only
}

// NewLease returns a lease, not yet held, on the cache named by identity
// (see db.JoinCache) that lapses ttl after its last renewal. Each renewal
// first pings the cache with ping, within a tenth of ttl (nil: an
// in-process cache, always reachable).
func NewLease(store *db.Store, identity string, ttl time.Duration, ping func(context.Context) error, log *slog.Logger) *Lease {
	return &Lease{store: store, identity: identity, ttl: ttl, ping: ping, log: log, base: time.Now()}
}

// Held reports whether the lease is held now, by the monotonic clock.
func (l *Lease) Held() bool {
	until := l.until.Load()
	return until != 0 && int64(time.Since(l.base)) < until
}

// Join registers this process, failing with db.ErrCacheConflict when a
// live process uses a cache this one does not share. The lease is not
// held until Renew.
func (l *Lease) Join(ctx context.Context) error {
	p, err := l.store.JoinCache(ctx, l.identity, l.ttl)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.peer = p
	l.mu.Unlock()
	return nil
}

// Renew renews the lease when r's cache answers and the database records
// the renewal, joining again if the registration was dropped; a lapsed
// lease is held again only once the outbox is drained (or the bypass stays
// on until a drain of r succeeds). When the cache does not answer, the
// lease is given up at once. A failure is returned and logged when it
// differs from the last one.
func (l *Lease) Renew(ctx context.Context, r *Relay) error {
	err := l.renew(ctx, r)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil && err.Error() != l.lost:
		l.log.Warn("cache lease not renewed: reading from the database", "err", err)
		l.lost = err.Error()
	case err == nil && l.lost != "":
		l.log.Info("cache lease held again")
		l.lost = ""
	}
	return err
}

func (l *Lease) renew(ctx context.Context, r *Relay) error {
	sent := time.Since(l.base)
	if err := l.pingCache(ctx); err != nil {
		l.Release(ctx)
		return fmt.Errorf("outbox: lease given up, the cache is unreachable: %w", err)
	}
	before := l.until.Load()
	if err := l.record(ctx); err != nil {
		return err
	}
	lapsed := before == 0 || int64(time.Since(l.base)) >= before
	if lapsed {
		r.bypass.Undelivered()
		if strings.HasPrefix(l.identity, db.MemoryCachePrefix) && l.once.Load() {
			if err := r.cache.Clear(ctx); err != nil {
				return fmt.Errorf("outbox: clear the in-process cache after a lapsed lease: %w", err)
			}
		}
	}
	l.until.Store(int64(sent + l.ttl - l.ttl/10))
	l.once.Store(true)
	if lapsed {
		if _, err := r.Drain(ctx); err != nil {
			return fmt.Errorf("outbox: lease renewed, the outbox not delivered yet: %w", err)
		}
	}
	return nil
}

func (l *Lease) pingCache(ctx context.Context) error {
	if l.ping == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.ttl/10)
	defer cancel()
	return l.ping(ctx)
}

// record has the database record a renewal: a heartbeat, or a new
// registration when the last was dropped.
func (l *Lease) record(ctx context.Context) error {
	l.mu.Lock()
	p := l.peer
	l.mu.Unlock()
	if p.ID != "" {
		err := l.store.Heartbeat(ctx, p, l.ttl)
		if !errors.Is(err, db.ErrNotFound) {
			return err
		}
	}
	return l.Join(ctx)
}

// Release gives the lease up: this process stops answering from the cache
// at once, then deregisters, so writes stop waiting for it.
func (l *Lease) Release(ctx context.Context) {
	l.until.Store(0)
	l.mu.Lock()
	p := l.peer
	l.peer = db.Peer{}
	l.mu.Unlock()
	if p.ID == "" {
		return
	}
	if err := l.store.LeaveCache(ctx, p); err != nil {
		l.log.Warn("cache lease: deregistration failed; the row lapses by itself", "err", err)
	}
}

// others reports whether another process may hold a lease now (true when
// the database cannot tell).
func (l *Lease) others(ctx context.Context) bool {
	l.mu.Lock()
	p := l.peer
	l.mu.Unlock()
	n, err := l.store.LiveCachePeers(ctx, p)
	return err != nil || n > 0
}

// Run renews the lease every interval until ctx is done, then releases it.
func (l *Lease) Run(ctx context.Context, r *Relay, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Release(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
		l.Renew(ctx, r)
	}
}
