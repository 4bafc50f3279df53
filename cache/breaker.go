package cache

import (
	"errors"
	"sync"
	"time"
)

// ErrBreakerOpen is returned for store calls skipped because the store
// failed too often in a row.
var ErrBreakerOpen = errors.New("cache: store unavailable (circuit breaker open)")

// ErrFull is wrapped by a store's error when the store answered but
// refused the call for lack of memory (Redis's OOM under a noeviction
// policy). The store is up: the breaker does not count it, a read is a
// miss answered by the source, and a write fails as any failed write.
var ErrFull = errors.New("cache: store full")

// breaker is a consecutive-failure circuit breaker. Closed: calls pass.
// After threshold consecutive failures it opens for cooldown and calls fail
// fast; then one call at a time passes as a probe (half-open) until one
// succeeds, which closes it, or fails, which reopens it for cooldown.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	probing   bool
}

type outcome int

const (
	success outcome = iota
	failure
	// neutral is a call that says nothing about the store being
	// reachable (the caller's context ended first, or the store answered
	// ErrFull).
	neutral
)

// allow reports whether a call may go ahead and whether it is the probe.
func (b *breaker) allow() (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold {
		return false, nil
	}
	if b.probing || b.now().Before(b.openUntil) {
		return false, ErrBreakerOpen
	}
	b.probing = true
	return true, nil
}

// done records the outcome of a call that allow let through.
func (b *breaker) done(probe bool, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch o {
	case success:
		b.failures = 0
	case failure:
		b.failures++
		if b.failures >= b.threshold {
			b.openUntil = b.now().Add(b.cooldown)
		}
	}
}

// open reports whether calls are currently being refused.
func (b *breaker) open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures >= b.threshold
}
