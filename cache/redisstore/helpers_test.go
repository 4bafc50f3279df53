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
