package outbox

import "sync/atomic"

// Bypass is the read bypass: while an invalidation may be undelivered, the
// shared cache can hold entries that are valid but stale, so this process's
// reads skip it (and write nothing to it) until a drain has delivered every
// invalidation recorded. The cache asks On before each read and reports a
// failed invalidation with Undelivered (cache.Options.Bypass); Drain turns
// the bypass off. With a Lease (NewBypass), it is also on while the lease
// is not held. The zero value is off and needs no lease. Safe for
// concurrent use.
type Bypass struct {
	lease *Lease // nil: no lease needed

	// failed counts Undelivered calls; delivered is the highest count known
	// to be covered by a completed drain. The bypass is on while they
	// differ.
	failed, delivered atomic.Uint64
}

// NewBypass returns a bypass that is on while lease is not held.
func NewBypass(lease *Lease) *Bypass { return &Bypass{lease: lease} }

// On reports whether reads must bypass the cache.
func (b *Bypass) On() bool {
	return b.failed.Load() != b.delivered.Load() || (b.lease != nil && !b.lease.Held())
}

// Undelivered records that an invalidation may be undelivered (its bump
// failed, or the process cannot tell, as at start-up before the outbox was
// drained): the bypass stays on until a drain that begins after this call
// completes.
func (b *Bypass) Undelivered() { b.failed.Add(1) }

// mark returns what a drain beginning now will cover once it completes.
func (b *Bypass) mark() uint64 { return b.failed.Load() }

// covered says that every invalidation that had failed when mark was
// taken has since been delivered. A failure after the mark keeps the
// bypass on.
func (b *Bypass) covered(mark uint64) {
	for {
		cur := b.delivered.Load()
		if mark <= cur || b.delivered.CompareAndSwap(cur, mark) {
			return
		}
	}
}
