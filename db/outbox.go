package db

import (
	"context"
	"fmt"
)

// The outbox holds the tags of committed writes until a relay has
// invalidated them: each write inserts its row in its own transaction (see
// Store.record), the relay reads PendingInvalidations, invalidates, then
// acks. Delivery is at least once; invalidating twice is harmless.

// PendingInvalidations returns up to limit outbox entries, oldest first.
func (s *Store) PendingInvalidations(ctx context.Context, limit int) ([]*OutboxEntry, error) {
	entries := []*OutboxEntry{}
	if limit <= 0 {
		return entries, nil
	}
	if err := s.DB.NewSelect().Model(&entries).Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: pending invalidations: %w", err)
	}
	return entries, nil
}

// AckInvalidation deletes outbox entry id; acking it again does nothing.
func (s *Store) AckInvalidation(ctx context.Context, id int64) error {
	if _, err := s.DB.NewDelete().Model((*OutboxEntry)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("db: ack invalidation %d: %w", id, err)
	}
	return nil
}

// InvalidationAcked reports whether outbox entry id has been acked (by
// this process or any other relay sharing the database).
func (s *Store) InvalidationAcked(ctx context.Context, id int64) (bool, error) {
	n, err := s.DB.NewSelect().Model((*OutboxEntry)(nil)).Where("id = ?", id).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("db: invalidation %d acked: %w", id, err)
	}
	return n == 0, nil
}
