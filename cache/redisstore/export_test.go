package redisstore

import (
	"context"
	"time"
)

// Test hooks reaching into the store.

var ParseInfo = parseInfo

var KeySlot = keySlot

// Read runs fn as s runs its reads.
func Read(s *Store, ctx context.Context, fn func() error) error { return s.read(ctx, fn) }

// SetTextsClock makes t read the time from now.
func SetTextsClock(t *Texts, now func() time.Time) { t.now = now }
