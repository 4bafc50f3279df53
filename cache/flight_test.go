package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// A client that goes away fails only its own request: Loads waiting on its
// fill get the value, from a fill of their own or from the entry it stored.
func TestOwnerCancelDoesNotFailWaiters(t *testing.T) {
	const waiters = 4
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		lookups := []cache.Lookup{{Key: "hot", Tags: []string{"hot"}}}
		var fills atomic.Int64
		entered := make(chan struct{})
		fill := func(ctx context.Context, _ []int) ([][]byte, error) {
			if fills.Add(1) == 1 { // the owner: its client is gone before the source answers
				close(entered)
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return [][]byte{[]byte("v")}, nil
		}
		ownerCtx, cancelOwner := context.WithCancel(context.Background())
		ownerErr := make(chan error, 1)
		go func() {
			_, err := c.Load(ownerCtx, "Query.test", time.Hour, lookups, fill)
			ownerErr <- err
		}()
		<-entered
		var wg sync.WaitGroup
		for range waiters {
			wg.Go(func() {
				vals, err := c.Load(context.Background(), "Query.test", time.Hour, lookups, fill)
				if err != nil || len(vals) != 1 || string(vals[0]) != "v" {
					t.Errorf("waiter: Load = %q, %v", vals, err)
				}
			})
		}
		cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == waiters })
		cancelOwner()
		wg.Wait()
		if err := <-ownerErr; err != context.Canceled {
			t.Errorf("owner: Load error = %v, want context.Canceled", err)
		}
		if n := fills.Load(); n > 2 {
			t.Errorf("fill ran %d times, want at most 2", n)
		}
		if got := cachetest.MustLoad(t, c, context.Background(), lookups, fill); got[0] != "v" || fills.Load() > 2 {
			t.Errorf("after: Load = %v, fill ran %d times", got, fills.Load())
		}
	})
}

// A flight whose owner and waiters all went away is dropped: the next Load
// fills afresh rather than wait on it.
func TestAbandonedFlightWithoutWaitersIsDropped(t *testing.T) {
	c := newCache(t, cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{})
	lookups := []cache.Lookup{{Key: "k"}}
	var fills atomic.Int64
	entered := make(chan struct{})
	fill := func(ctx context.Context, _ []int) ([][]byte, error) {
		if fills.Add(1) == 1 {
			close(entered)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return [][]byte{[]byte("v")}, nil
	}
	ownerCtx, cancelOwner := context.WithCancel(context.Background())
	ownerErr := make(chan error, 1)
	go func() {
		_, err := c.Load(ownerCtx, "Q.x", time.Hour, lookups, fill)
		ownerErr <- err
	}()
	<-entered
	waiterCtx, cancelWaiter := context.WithCancel(context.Background())
	go func() {
		cachetest.WaitFor(t, func() bool { return cache.FlightWaiters(c) == 1 })
		cancelWaiter()
	}()
	if _, err := c.Load(waiterCtx, "Q.x", time.Hour, lookups, fill); err != context.Canceled {
		t.Fatalf("waiter: Load error = %v, want context.Canceled", err)
	}
	cancelOwner()
	if err := <-ownerErr; err != context.Canceled {
		t.Fatalf("owner: Load error = %v, want context.Canceled", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a hang fails rather than blocks
	defer cancel()
	if got := cachetest.MustLoad(t, c, ctx, lookups, fill); got[0] != "v" || fills.Load() != 2 {
		t.Fatalf("Load = %v after %d fills, want v after 2", got, fills.Load())
	}
}
