package cache

import (
	"errors"
	"sync/atomic"
)

// ErrPending is how reads fail while invalidations may be undelivered.
var ErrPending = errors.New("cache: invalidations pending; reading from the source")

// pending tracks invalidations that may not have reached the store. While
// any may be undelivered, the store can hold entries that are valid but
// stale, so reads bypass it (and nothing is written) until the caller's
// relay has delivered every recorded invalidation and said so with
// Delivered. failed counts failures; delivered is the highest failure count
// known to be covered by a completed delivery.
type pending struct {
	failed, delivered atomic.Uint64
}

func (p *pending) active() bool { return p.failed.Load() != p.delivered.Load() }

// MarkPending records that an invalidation may be undelivered (its Bump
// failed, or the process cannot tell, as at start-up before the outbox was
// drained). Reads bypass the store until Delivered covers it.
func (c *Cache) MarkPending() { c.pending.failed.Add(1) }

// PendingMark returns a mark to pass to Delivered once every invalidation
// recorded so far has been delivered: take it before draining the outbox.
func (c *Cache) PendingMark() uint64 { return c.pending.failed.Load() }

// Delivered says that every invalidation that had failed when mark was
// taken has since been delivered. A failure after the mark keeps the
// bypass on.
func (c *Cache) Delivered(mark uint64) {
	for {
		cur := c.pending.delivered.Load()
		if mark <= cur || c.pending.delivered.CompareAndSwap(cur, mark) {
			return
		}
	}
}

// Pending reports whether reads currently bypass the store.
func (c *Cache) Pending() bool { return c.pending.active() }
