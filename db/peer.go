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
//
// A peer's row is also its lease on the cache: a process answers from the
// cache only while its row is live, that is until its ExpiresAt (its
// heartbeat plus the ttl the process asked for, so processes with leases
// of different lengths judge each other rightly). Every time here is the
// database's (clock_timestamp() on PostgreSQL, the host's clock on SQLite,
// whose file lives on that host), never the calling process's: two
// processes whose clocks disagree still agree on which leases are live.

// MemoryCachePrefix begins the identity of an in-process cache, which no
// other process can share: a peer with such an identity must be alone.
const MemoryCachePrefix = "memory:"

// MaxIdentity bounds a cache peer's identity, in characters.
const MaxIdentity = 500

// peersLockKey is the pg_advisory_xact_lock key that serialises JoinCache.
const peersLockKey int64 = 0x6b70_6361_6368_6570 // "kpcachep"

// JoinCache registers this process as a peer using the cache named by
// identity, with a heartbeat at the database's now, live for ttl. It fails
// with ErrCacheConflict, naming the other peer's identity, when a live
// peer (one not expired) has another identity, or when identity begins
// with MemoryCachePrefix and any other live peer exists. Expired peers are
// deleted. The check and the
// insert are one transaction under a lock (an advisory lock on PostgreSQL,
// SQLite's immediate transaction), so of two processes starting together
// with conflicting caches exactly one joins.
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
	p := Peer{ID: hex.EncodeToString(b[:]), Identity: identity}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if s.isPG() {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", peersLockKey); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		now, err := s.databaseNow(ctx, tx)
		if err != nil {
			return err
		}
		p.JoinedAt, p.HeartbeatAt, p.ExpiresAt = now, now, now.Add(ttl)
		if _, err := tx.NewDelete().Model((*Peer)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
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
		_, err = tx.NewInsert().Model(&p).Exec(ctx)
		return err
	})
	if err != nil {
		return Peer{}, fmt.Errorf("db: join cache as %q: %w", identity, err)
	}
	return p, nil
}

// Heartbeat sets p's heartbeat to the database's now, keeping it live for
// another ttl. When p is no longer registered (it left, or another
// JoinCache deleted it as expired) it fails with ErrNotFound: the process
// must JoinCache again, which checks for conflicts anew.
func (s *Store) Heartbeat(ctx context.Context, p Peer, ttl time.Duration) error {
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now, err := s.databaseNow(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model((*Peer)(nil)).Set("heartbeat_at = ?", now).Set("expires_at = ?", now.Add(ttl)).Where("id = ?", p.ID).Exec(ctx)
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("db: heartbeat of cache peer %s: %w", p.ID, err)
	}
	return nil
}

// LiveCachePeers counts the peers other than p not expired by the
// database's clock: the processes that may be answering from the cache.
func (s *Store) LiveCachePeers(ctx context.Context, p Peer) (int, error) {
	var n int
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now, err := s.databaseNow(ctx, tx)
		if err != nil {
			return err
		}
		count, err := tx.NewSelect().Model((*Peer)(nil)).Where("id <> ?", p.ID).Where("expires_at > ?", now).Count(ctx)
		n = int(count)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: count live cache peers: %w", err)
	}
	return n, nil
}

// LeaveCache deregisters p; leaving again does nothing.
func (s *Store) LeaveCache(ctx context.Context, p Peer) error {
	if _, err := s.DB.NewDelete().Model((*Peer)(nil)).Where("id = ?", p.ID).Exec(ctx); err != nil {
		return fmt.Errorf("db: leave cache as peer %s: %w", p.ID, err)
	}
	return nil
}

// databaseNow is the database's clock, as stored (dbTime): PostgreSQL's
// clock_timestamp(), or on SQLite the clock of the host that holds the
// file.
func (s *Store) databaseNow(ctx context.Context, idb bun.IDB) (time.Time, error) {
	var now time.Time
	if s.isPG() {
		if err := idb.NewRaw("SELECT clock_timestamp()").Scan(ctx, &now); err != nil {
			return time.Time{}, fmt.Errorf("read the database clock: %w", err)
		}
	} else {
		var text string
		if err := idb.NewRaw("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')").Scan(ctx, &text); err != nil {
			return time.Time{}, fmt.Errorf("read the database clock: %w", err)
		}
		var err error
		if now, err = time.Parse("2006-01-02 15:04:05.000", text); err != nil {
			return time.Time{}, fmt.Errorf("read the database clock: %w", err)
		}
	}
	return dbTime(now), nil
}
