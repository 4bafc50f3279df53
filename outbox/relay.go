package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
)

// ErrUndelivered is returned by Deliver when a committed change's
// invalidation could not be confirmed before the deadline: the write is
// saved, and other processes may answer from their caches until a relay
// delivers it.
var ErrUndelivered = errors.New("outbox: the change is saved, but its invalidation is not delivered yet")

// DefaultWait is how long Deliver waits when its context has no deadline.
const DefaultWait = 10 * time.Second

// Relay delivers invalidations. Safe for concurrent use.
type Relay struct {
	store  *db.Store
	cache  *cache.Cache
	bypass *Bypass
	log    *slog.Logger
	// Poll bounds the wait between two checks while Deliver waits for
	// another relay (50 ms, doubling up to 500 ms).
	poll time.Duration
	// wait bounds Deliver's wait for another relay (0: none but ctx's).
	wait time.Duration

	mu       sync.Mutex
	inflight map[int64]int // outbox rows this process's Deliver calls are delivering
}

// New returns a Relay from store's outbox to c, whose drains turn bypass
// off (c's Options.Bypass).
func New(store *db.Store, c *cache.Cache, bypass *Bypass, log *slog.Logger) *Relay {
	return &Relay{store: store, cache: c, bypass: bypass, log: log, poll: 50 * time.Millisecond, inflight: map[int64]int{}}
}

// WithWait bounds how long Deliver waits for another relay, below the
// request's own deadline, and returns r.
func (r *Relay) WithWait(d time.Duration) *Relay {
	r.wait = d
	return r
}

// Deliver makes a committed change visible: it invalidates the change's
// tags and acks its outbox row. When this process cannot invalidate (the
// cache unreachable from here, its breaker open), the row stays for the
// relays and this process reads from the database until one has delivered
// it (the bypass). If no other process holds a lease on the cache (the
// bypass's Lease), none can answer from it, and Deliver returns nil at
// once. Otherwise it retries, and checks whether another relay sharing the
// database has delivered the row or every other lease has ended, until
// ctx's deadline (DefaultWait without one) or the WithWait bound; then it
// returns ErrUndelivered. A client going away does not stop it: the change
// is already committed.
func (r *Relay) Deliver(ctx context.Context, ch db.Change) error {
	if len(ch.Tags) == 0 {
		return nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultWait)
	}
	if bound := time.Now().Add(r.wait); r.wait > 0 && bound.Before(deadline) {
		deadline = bound
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	r.track(ch.OutboxID, 1)
	defer r.track(ch.OutboxID, -1)
	wait := r.poll
	for {
		err := r.cache.Invalidate(ctx, ch.Tags...)
		if err == nil {
			if err := r.store.AckInvalidation(ctx, ch.OutboxID); err != nil {
				r.log.WarnContext(ctx, "outbox ack failed; a relay will deliver again (idempotent)", "outbox_id", ch.OutboxID, "err", err)
			}
			return nil
		}
		if acked, aerr := r.store.InvalidationAcked(ctx, ch.OutboxID); aerr == nil && acked {
			return nil // another process's relay delivered it
		}
		if r.bypass.lease != nil && !r.bypass.lease.others(ctx) {
			return nil // no other process may answer from the cache; each drains before it does
		}
		select {
		case <-ctx.Done():
			r.log.WarnContext(ctx, "invalidation not delivered before the deadline; left to the relays", "tags", ch.Tags, "outbox_id", ch.OutboxID, "err", err)
			return fmt.Errorf("%w: %w", ErrUndelivered, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// Drain delivers every row in the outbox, oldest first, and returns how
// many it delivered. Once the outbox is empty, every invalidation that had
// failed before the drain began is delivered: the bypass goes off unless
// one failed since.
//
// While no invalidation of this process has failed, it skips the rows
// this process's Deliver calls are delivering (a second invalidation of
// the same tags would cost a CDN purge and a miss); should one of them
// fail, the bypass goes on and the next drain delivers every row.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	mark := r.bypass.mark()
	skipOwn := mark == r.bypass.delivered.Load() // nothing failed to cover
	delivered := 0
	for {
		rows, err := r.store.PendingInvalidations(ctx, 100)
		if err != nil {
			return delivered, err
		}
		n := 0
		for _, row := range rows {
			if skipOwn && r.delivering(row.ID) {
				continue
			}
			if err := r.cache.Invalidate(ctx, row.Tags...); err != nil {
				return delivered, err
			}
			if err := r.store.AckInvalidation(ctx, row.ID); err != nil {
				return delivered, err
			}
			n++
		}
		delivered += n
		if n == 0 { // the outbox is empty, or holds only rows being delivered
			r.bypass.covered(mark)
			return delivered, nil
		}
	}
}

// track counts a Deliver call of outbox row id in (+1) or out (-1).
func (r *Relay) track(id int64, d int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight[id] += d; r.inflight[id] <= 0 {
		delete(r.inflight, id)
	}
}

func (r *Relay) delivering(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight[id] > 0
}

// Run drains the outbox every interval until ctx is done.
func (r *Relay) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("outbox relay: delivery failed; retrying", "err", err)
		} else if n > 0 {
			r.log.Info("outbox relay: delivered pending invalidations", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
