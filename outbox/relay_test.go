package outbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/outbox"
)

// process is one server process's view: its cache (through its own Redis
// client) and its relay, over a database shared with the others.
type process struct {
	cache *cache.Cache
	relay *outbox.Relay
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func newProcess(t *testing.T, store *db.Store, rs *redisstore.Store) process {
	b := new(outbox.Bypass)
	c := cache.New(rs, cachetest.Options(rs, cache.Options{Logger: discard, Timeout: 200 * time.Millisecond, Bypass: b}))
	return process{cache: c, relay: outbox.New(store, c, b, discard)}
}

// unreachable is a Redis store under prefix for a port nothing listens
// on: a process cut from Redis.
func unreachable(t *testing.T, prefix string) *redisstore.Store {
	s, err := redisstore.Open("redis://127.0.0.1:1/0?max_retries=-1&dial_timeout=50ms", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func write(t *testing.T, s *db.Store) db.Change {
	t.Helper()
	_, ch, err := s.CreateDestination(context.Background(), db.DestinationInput{Name: "Pantai Cenang", City: "Langkawi", Category: db.CategoryBeach})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func acked(t *testing.T, s *db.Store, ch db.Change) bool {
	t.Helper()
	ok, err := s.InvalidationAcked(context.Background(), ch.OutboxID)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// versions reads the tags' current versions in s.
func versions(t *testing.T, s *redisstore.Store, tags []string) map[string]string {
	t.Helper()
	v, err := s.Versions(context.Background(), tags)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDeliver(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	rs := cachetest.NewRedisStore(t)
	p := newProcess(t, store, rs)
	ch := write(t, store)
	before := versions(t, rs, ch.Tags)
	if err := p.relay.Deliver(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if !acked(t, store, ch) {
		t.Error("delivered, but the row was not acked")
	}
	after := versions(t, rs, ch.Tags)
	for _, tag := range ch.Tags {
		if before[tag] != "" && before[tag] == after[tag] {
			t.Errorf("tag %s kept its version", tag)
		}
	}
}

// A client that goes away right after the commit does not cancel the
// delivery: the change is committed, so it must become visible.
func TestDeliverOutlivesTheClient(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	rs := cachetest.NewRedisStore(t)
	p := newProcess(t, store, rs)
	ch := write(t, store)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.relay.Deliver(ctx, ch); err != nil || !acked(t, store, ch) {
		t.Errorf("delivery with a cancelled context: %v, acked %v", err, acked(t, store, ch))
	}
}

// A process cut from Redis does not acknowledge its write as delivered
// until another process's relay has delivered it; if nobody does before
// the deadline, it says so.
func TestDeliverWaitsForAnotherRelay(t *testing.T) {
	store, _ := dbtest.Open(t, "postgres")
	rs := cachetest.NewRedisStore(t)
	cut := newProcess(t, store, unreachable(t, rs.Prefix()))
	healthy := newProcess(t, store, rs)

	ch := write(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := cut.relay.Deliver(ctx, ch); !errors.Is(err, outbox.ErrUndelivered) {
		t.Fatalf("nobody delivered: %v, want ErrUndelivered", err)
	}
	if acked(t, store, ch) {
		t.Fatal("undelivered, but acked")
	}

	ch = write(t, store)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done <- cut.relay.Deliver(ctx, ch)
	}()
	select {
	case err := <-done:
		t.Fatalf("the cut process acknowledged before anyone delivered: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if n, err := healthy.relay.Drain(context.Background()); err != nil || n < 2 {
		t.Fatalf("the healthy relay delivered %d rows: %v", n, err)
	}
	if err := <-done; err != nil {
		t.Errorf("after another relay delivered: %v", err)
	}
}

// A drain that runs while this process's Deliver of a row is between its
// invalidation and its ack skips the row (a second invalidation would be
// a second CDN purge); once an invalidation has failed, a drain delivers
// every row, the ones being delivered too.
func TestDrainSkipsRowsBeingDelivered(t *testing.T) {
	store, _ := dbtest.Open(t, "sqlite")
	ctx := context.Background()
	var mu sync.Mutex
	var invalidated [][]string
	inDeliver, release := make(chan struct{}), make(chan struct{})
	first := true
	b := outbox.NewBypass(nil)
	c := cache.New(cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{Logger: discard, Timeout: -1, BreakerThreshold: -1, Bypass: b,
		Invalidated: func(tags []string) {
			mu.Lock()
			invalidated = append(invalidated, tags)
			hold := first
			first = false
			mu.Unlock()
			if hold { // Deliver's invalidation: wait before its ack
				close(inDeliver)
				<-release
			}
		}})
	relay := outbox.New(store, c, b, discard)
	ch := write(t, store)
	done := make(chan error, 1)
	go func() { done <- relay.Deliver(ctx, ch) }()
	<-inDeliver
	if n, err := relay.Drain(ctx); err != nil || n != 0 {
		t.Errorf("drain during the delivery: %d delivered (%v), want 0", n, err)
	}
	b.Undelivered() // an invalidation of this process failed
	if n, err := relay.Drain(ctx); err != nil || n != 1 || b.On() {
		t.Errorf("drain after a failure: %d delivered (%v), bypass on %v; want the row delivered, the bypass off", n, err, b.On())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(invalidated) != 2 {
		t.Errorf("invalidations %v, want Deliver's and the drain after the failure", invalidated)
	}
}
