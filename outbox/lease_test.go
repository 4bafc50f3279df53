package outbox_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/outbox"
)

// leased is a process that answers from its cache only under a lease.
type leased struct {
	process
	lease       *outbox.Lease
	bypass      *outbox.Bypass
	invalidated *[][]string // the tags of each invalidation its cache told of
}

func newLeased(t *testing.T, store *db.Store, s cache.Store, identity string, ttl time.Duration) leased {
	t.Helper()
	var ping func(context.Context) error
	rs, ok := s.(*redisstore.Store)
	if ok {
		ping = rs.Ping
	}
	l := outbox.NewLease(store, identity, ttl, ping, discard)
	b := outbox.NewBypass(l)
	var invalidated [][]string
	o := cache.Options{Logger: discard, Timeout: 200 * time.Millisecond, Bypass: b,
		Invalidated: func(tags []string) { invalidated = append(invalidated, tags) }}
	if ok {
		o = cachetest.Options(rs, o)
	} else {
		o.Timeout, o.BreakerThreshold = -1, -1
	}
	c := cache.New(s, o)
	p := leased{process: process{cache: c, relay: outbox.New(store, c, b, discard)}, lease: l, bypass: b, invalidated: &invalidated}
	if err := l.Join(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release(context.Background()) })
	return p
}

// A write whose invalidation cannot reach Redis is acknowledged at once
// when no other process holds a lease (none can answer from the cache),
// and its process reads from the database until its relay delivers it.
func TestDeliverWithNoOtherLease(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	rs := cachetest.NewRedisStore(t)
	p := newLeased(t, store, unreachable(t, rs.Prefix()), "redis:db=0:prefix="+rs.Prefix(), time.Minute)
	p.lease.Renew(context.Background(), p.relay)
	ch := write(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.relay.Deliver(ctx, ch); err != nil {
		t.Fatalf("alone, cut from Redis: %v, want nil", err)
	}
	if acked(t, store, ch) || !p.bypass.On() {
		t.Errorf("acked %v, bypass on %v: want the row left for the relay and reads from the database", acked(t, store, ch), p.bypass.On())
	}
}

// While another process holds a lease, the write waits for a relay, at
// most the relay's bound, however long the request's deadline; once the
// other process gives its lease up, the write is acknowledged.
func TestDeliverWaitsWhileAnotherLeaseIsHeld(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	rs := cachetest.NewRedisStore(t)
	identity := "redis:db=0:prefix=" + rs.Prefix()
	cut := newLeased(t, store, unreachable(t, rs.Prefix()), identity, time.Minute)
	cut.relay.WithWait(300 * time.Millisecond)
	other := newLeased(t, store, rs, identity, time.Minute)
	if err := other.lease.Renew(context.Background(), other.relay); err != nil || !other.lease.Held() {
		t.Fatalf("the healthy process holds no lease: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	ch := write(t, store)
	if err := cut.relay.Deliver(ctx, ch); !errors.Is(err, outbox.ErrUndelivered) {
		t.Fatalf("another lease held, nobody delivering: %v, want ErrUndelivered", err)
	}
	other.lease.Release(context.Background())
	if err := cut.relay.Deliver(ctx, write(t, store)); err != nil {
		t.Fatalf("the other lease released: %v, want nil", err)
	}
}

// A lease lapses by the monotonic clock; held again, the process reads
// from the database until its outbox is drained, and an in-process cache
// is cleared first (another process's writes never reached it). The first
// lease clears nothing: the cache is empty, and its listeners (a CDN's
// purger) are not told of a clear at every start.
func TestLeaseLapse(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	p := newLeased(t, store, cache.NewMemoryStore(cache.MemoryLimits{}), db.MemoryCachePrefix+"a", ttl)
	if p.lease.Held() || !p.bypass.On() {
		t.Fatal("joined, not renewed: the lease is held")
	}
	if err := p.lease.Renew(ctx, p.relay); err != nil || !p.lease.Held() || p.bypass.On() {
		t.Fatalf("renewed: %v, held %v, bypass on %v", err, p.lease.Held(), p.bypass.On())
	}
	if len(*p.invalidated) != 0 {
		t.Fatalf("the first lease invalidated %v, want nothing (the cache is empty)", *p.invalidated)
	}
	fills := 0
	read := func() {
		p.cache.Load(ctx, "Query.x", time.Hour, []cache.Lookup{{Key: "x", Tags: []string{"t"}}}, func(context.Context, []int) ([][]byte, error) {
			fills++
			return [][]byte{[]byte("v")}, nil
		})
	}
	read()
	read()
	if fills != 1 {
		t.Fatalf("%d fills of two reads under the lease, want 1", fills)
	}
	time.Sleep(ttl)
	if p.lease.Held() || !p.bypass.On() {
		t.Fatal("the lease outlived its ttl")
	}
	read()
	if fills != 2 {
		t.Fatalf("%d fills after the lapse, want a read from the database", fills)
	}
	if err := p.lease.Renew(ctx, p.relay); err != nil || !p.lease.Held() || p.bypass.On() {
		t.Fatalf("renewed after the lapse: %v, held %v, bypass on %v", err, p.lease.Held(), p.bypass.On())
	}
	read()
	if fills != 3 {
		t.Fatalf("%d fills after the lease was held again, want 3: the in-process cache was not cleared", fills)
	}
	if want := [][]string{{cache.AllTag}}; !slices.EqualFunc(*p.invalidated, want, slices.Equal) {
		t.Errorf("invalidations after the lapse: %v, want %v", *p.invalidated, want)
	}
}

// A process whose cache does not answer gives its lease up at once, so a
// write elsewhere stops waiting for it.
func TestLeaseGivenUpWhenTheCacheIsUnreachable(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	rs := cachetest.NewRedisStore(t)
	identity := "redis:db=0:prefix=" + rs.Prefix()
	cut := newLeased(t, store, unreachable(t, rs.Prefix()), identity, time.Minute)
	other := newLeased(t, store, rs, identity, time.Minute)
	ctx := context.Background()
	if err := cut.lease.Renew(ctx, cut.relay); err == nil || cut.lease.Held() {
		t.Fatalf("renewed with its cache unreachable: %v", err)
	}
	other.lease.Renew(ctx, other.relay)
	if err := other.relay.Deliver(ctx, write(t, store)); err != nil {
		t.Fatal(err)
	}
	self := db.Peer{}
	if n, err := store.LiveCachePeers(ctx, self); err != nil || n != 1 {
		t.Fatalf("live peers %d, %v; want only the healthy one", n, err)
	}
}
