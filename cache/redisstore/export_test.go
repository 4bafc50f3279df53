package redisstore

import "context"

// Test hooks reaching into the store.

var ParseInfo = parseInfo

var KeySlot = keySlot

// Read runs fn as s runs its reads.
func Read(s *Store, ctx context.Context, fn func() error) error { return s.read(ctx, fn) }
