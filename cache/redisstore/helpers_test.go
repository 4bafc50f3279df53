package redisstore_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// newCache returns a Cache on s configured as the server configures one on
// Redis, with a generous timeout (a loaded CI machine must not turn a slow
// Redis reply into a degraded Load) and no logging.
func newCache(tb testing.TB, s *redisstore.Store, o cache.Options) *cache.Cache {
	tb.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return cache.New(s, cachetest.Options(s, o))
}

// waitFor polls cond until it holds, failing the test after 10 seconds. It waits for
// an event, never for a duration.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Error("condition not reached in 10s") // not Fatal: this runs on other goroutines too
			return
		}
		time.Sleep(time.Millisecond)
	}
}
