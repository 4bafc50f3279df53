package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The cache peers are the live processes that cache this database's data.
// Each process invalidates its own cache when it delivers an outbox row,
// then acks the row for everyone; a second process with a cache of its own
// would keep serving what the first one's writes changed. JoinCache
// therefore admits a process only when every live peer uses the same
// shared cache, named by its identity.

// MemoryCachePrefix begins the identity of an in-process cache, which no
// other process can share: a peer with such an identity must be alone.
const MemoryCachePrefix = "memory:"

// MaxIdentity bounds a cache peer's identity, in characters.
const MaxIdentity = 500

// peersLockKey is the pg_advisory_xact_lock key that serialises JoinCache.
const peersLockKey int64 = 0x6b70_6361_6368_6570 // "kpcachep"

// JoinCache registers this process as a peer using the cache named by
// identity, with a heartbeat at Now. It fails with ErrCacheConflict,
// naming the other peer's identity, when a live peer (one whose heartbeat
// is younger than ttl) has another identity, or when identity begins with
// MemoryCachePrefix and any other live peer exists. Peers whose heartbeat
// is ttl old or older are deleted. The check and the insert are one
// transaction under a lock (an advisory lock on PostgreSQL, SQLite's
// immediate transaction), so of two processes starting together with
// conflicting caches exactly one joins.
func (s *Store) JoinCache(ctx context.Context, identity string, ttl time.Duration) (Peer, error) {
	if err := checkText("identity", identity, 1, MaxIdentity); err != nil {
		return Peer{}, fmt.Errorf("db: join cache: %w", err)
	}
	if ttl <= 0 {
		return Peer{}, fmt.Errorf("db: join cache: ttl %s is not positive", ttl)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Peer{}, fmt.Errorf("db: join cache: %w", err)
	}
	now := s.now()
	p := Peer{ID: hex.EncodeToString(b[:]), Identity: identity, JoinedAt: now, HeartbeatAt: now}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if s.isPG() {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", peersLockKey); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.NewDelete().Model((*Peer)(nil)).Where("heartbeat_at <= ?", now.Add(-ttl)).Exec(ctx); err != nil {
			return fmt.Errorf("delete stale peers: %w", err)
		}
		var live []Peer
		if err := tx.NewSelect().Model(&live).Order("joined_at", "id").Scan(ctx); err != nil {
			return fmt.Errorf("find peers: %w", err)
		}
		for _, o := range live {
			if o.Identity != identity || strings.HasPrefix(identity, MemoryCachePrefix) {
				return fmt.Errorf("%w: peer %s (heartbeat at %s) uses %q", ErrCacheConflict,
					o.ID, o.HeartbeatAt.Format(time.RFC3339), o.Identity)
			}
		}
		_, err := tx.NewInsert().Model(&p).Exec(ctx)
		return err
	})
	if err != nil {
		return Peer{}, fmt.Errorf("db: join cache as %q: %w", identity, err)
	}
	return p, nil
}

// Heartbeat sets p's heartbeat to Now, keeping it live for another ttl.
// When p is no longer registered (it left, or another JoinCache deleted it
// as stale) it fails with ErrNotFound: the process must JoinCache again,
// which checks for conflicts anew.
func (s *Store) Heartbeat(ctx context.Context, p Peer) error {
	res, err := s.DB.NewUpdate().Model((*Peer)(nil)).Set("heartbeat_at = ?", s.now()).Where("id = ?", p.ID).Exec(ctx)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("db: heartbeat of cache peer %s: %w", p.ID, err)
	}
	return nil
}

// LeaveCache deregisters p; leaving again does nothing.
func (s *Store) LeaveCache(ctx context.Context, p Peer) error {
	if _, err := s.DB.NewDelete().Model((*Peer)(nil)).Where("id = ?", p.ID).Exec(ctx); err != nil {
		return fmt.Errorf("db: leave cache as peer %s: %w", p.ID, err)
	}
	return nil
}
