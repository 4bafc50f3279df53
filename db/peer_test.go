package db_test

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

const peerTTL = 30 * time.Second

// wantConflict fails unless err is ErrCacheConflict naming identity.
func wantConflict(t *testing.T, err error, identity string) {
	t.Helper()
	if !errors.Is(err, db.ErrCacheConflict) || !strings.Contains(err.Error(), `"`+identity+`"`) {
		t.Fatalf("err = %v, want ErrCacheConflict naming %q", err, identity)
	}
}

// clearPeers deletes every cache peer of s's database.
func clearPeers(t *testing.T, s *db.Store) {
	t.Helper()
	if _, err := s.DB.NewDelete().Model((*db.Peer)(nil)).Where("1 = 1").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// age moves every peer's heartbeat d into the past, as d passing on the
// database's clock would.
func age(t *testing.T, s *db.Store, d time.Duration) {
	t.Helper()
	var peers []db.Peer
	ctx := context.Background()
	if err := s.DB.NewSelect().Model(&peers).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if _, err := s.DB.NewUpdate().Model((*db.Peer)(nil)).Set("heartbeat_at = ?", p.HeartbeatAt.Add(-d)).
			Set("expires_at = ?", p.ExpiresAt.Add(-d)).Where("id = ?", p.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJoinCache joins two processes (two stores on one database) to
// caches. Their own clocks are an hour apart and never consulted: a peer's
// age is the database's.
func TestJoinCache(t *testing.T) {
	t.Parallel()
	const redisA, redisB = "redis:127.0.0.1:6379/kp:", "redis:127.0.0.1:6379/other:"
	tests := []struct {
		name          string
		first, second string
		// aged is how far the first peer's heartbeat is moved into the past
		// before the second joins; beat says the first heartbeats after
		// that.
		aged      time.Duration
		beat      bool
		secondTTL time.Duration // 0: peerTTL
		conflict  bool
	}{
		{name: "two memory caches", first: "memory:a", second: "memory:b", conflict: true},
		{name: "one memory cache twice", first: "memory:a", second: "memory:a", conflict: true},
		{name: "memory after redis", first: redisA, second: "memory:b", conflict: true},
		{name: "redis after memory", first: "memory:a", second: redisA, conflict: true},
		{name: "one redis cache", first: redisA, second: redisA},
		{name: "two redis caches", first: redisA, second: redisB, conflict: true},
		{name: "stale memory peer", first: "memory:a", second: "memory:b", aged: peerTTL},
		{name: "stale redis peer", first: redisA, second: redisB, aged: peerTTL + time.Second},
		{name: "almost stale", first: "memory:a", second: "memory:b", aged: peerTTL - 5*time.Second, conflict: true},
		{name: "the second's lease is shorter", first: redisA, second: redisB, aged: 5 * time.Second, secondTTL: time.Second, conflict: true},
		{name: "kept live by heartbeat", first: "memory:a", second: "memory:b", aged: peerTTL + time.Second, beat: true, conflict: true},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		other, otherClock := dbtest.Reopen(t, s)
		clock.Set(dbtest.Epoch)
		otherClock.Set(dbtest.Epoch.Add(time.Hour))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				clearPeers(t, s)
				p1, err := s.JoinCache(ctx, tt.first, peerTTL)
				if err != nil {
					t.Fatal(err)
				}
				if len(p1.ID) != 32 || p1.Identity != tt.first || time.Since(p1.HeartbeatAt).Abs() > time.Minute {
					t.Fatalf("peer = %+v, want a heartbeat at the database's now", p1)
				}
				age(t, s, tt.aged)
				if tt.beat {
					if err := s.Heartbeat(ctx, p1, peerTTL); err != nil {
						t.Fatal(err)
					}
				}
				p2, err := other.JoinCache(ctx, tt.second, cmp.Or(tt.secondTTL, peerTTL))
				if tt.conflict {
					wantConflict(t, err, tt.first)
					if n := count(t, s, "cache_peers"); n != 1 {
						t.Fatalf("cache_peers = %d after a conflict, want 1", n)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if p2.ID == p1.ID {
					t.Fatalf("two peers share id %s", p1.ID)
				}
				stale := tt.aged >= peerTTL
				if err := s.Heartbeat(ctx, p1, peerTTL); stale != errors.Is(err, db.ErrNotFound) {
					t.Fatalf("heartbeat of the first peer: %v (stale: %v)", err, stale)
				}
			})
		}
		t.Run("live peers", func(t *testing.T) {
			clearPeers(t, s)
			p1, err := s.JoinCache(ctx, redisA, peerTTL)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := other.JoinCache(ctx, redisA, peerTTL)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				aged      time.Duration
				of        db.Peer
				by        *db.Store
				wantOther int
			}{
				{0, p1, other, 1}, {0, p2, s, 1},
				{peerTTL - 5*time.Second, p1, s, 1},
				{5 * time.Second, p1, other, 0}, // both now peerTTL old
			} {
				age(t, s, c.aged)
				if n, err := c.by.LiveCachePeers(ctx, c.of); err != nil || n != c.wantOther {
					t.Fatalf("after %s more: live peers other than %s = %d, %v; want %d", c.aged, c.of.ID, n, err, c.wantOther)
				}
			}
		})
		t.Run("leave", func(t *testing.T) {
			clearPeers(t, s)
			p1, err := s.JoinCache(ctx, "memory:a", peerTTL)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := s.LeaveCache(ctx, p1); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Heartbeat(ctx, p1, peerTTL); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("heartbeat after leaving: %v, want ErrNotFound", err)
			}
			if _, err := other.JoinCache(ctx, "memory:b", peerTTL); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("invalid", func(t *testing.T) {
			for _, id := range []string{"", "memory:\x00", strings.Repeat("x", db.MaxIdentity+1)} {
				if _, err := s.JoinCache(ctx, id, peerTTL); err == nil {
					t.Fatalf("JoinCache(%q) succeeded", id)
				}
			}
			if _, err := s.JoinCache(ctx, "memory:a", 0); err == nil {
				t.Fatal("JoinCache with ttl 0 succeeded")
			}
		})
	})
}

// TestJoinCacheConcurrently starts two processes with conflicting caches
// together, many times: exactly one joins each time.
func TestJoinCacheConcurrently(t *testing.T) {
	t.Parallel()
	const rounds = 30
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		second, _ := dbtest.Reopen(t, s)
		stores := []*db.Store{s, second}
		identities := [][2]string{{"memory:a", "memory:b"}, {"redis:x/a:", "redis:x/b:"}}
		for round := range rounds {
			clearPeers(t, s)
			ids := identities[round%len(identities)]
			errs := make([]error, len(stores))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, st := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = st.JoinCache(ctx, ids[i], peerTTL)
				}()
			}
			close(start)
			wg.Wait()
			joined := 0
			for i, err := range errs {
				switch {
				case err == nil:
					joined++
				case !errors.Is(err, db.ErrCacheConflict):
					t.Fatalf("round %d, store %d: %v", round, i, err)
				}
			}
			if n := count(t, s, "cache_peers"); joined != 1 || n != 1 {
				t.Fatalf("round %d: %d joined, %d peers registered (%v), want 1 and 1", round, joined, n, errs)
			}
		}
	})
}
