// Package cachetest runs tests on every cache store: the in-process one and
// a real Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379/0), with one
// fault-injecting wrapper (Faulty), a TCP fault proxy and redis-server
// processes of a test's own. It imports cache, redisstore and go-redis.
// Each Redis user gets a random key prefix, deleted at cleanup, so parallel
// runs never collide and nothing flushes a shared server. When Redis is
// unreachable the Redis tests are skipped, except under CI=true, where that
// is a failure.
package cachetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// DefaultRedisURL is used when TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// EachStore runs fn as subtests "memory" and "redis", each on a fresh,
// empty store that is closed at cleanup, and "redis-cluster" when
// TEST_REDIS_CLUSTER_URL names a cluster (.ci/run starts one).
func EachStore(t *testing.T, fn func(t *testing.T, s Store)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		s := cache.NewMemoryStore(cache.MemoryLimits{})
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
	t.Run("redis", func(t *testing.T) {
		fn(t, NewRedisStore(t))
	})
	if url := os.Getenv("TEST_REDIS_CLUSTER_URL"); url != "" {
		t.Run("redis-cluster", func(t *testing.T) {
			s, _ := openRedis(t, url)
			fn(t, s)
		})
	}
}

// NewRedisStore returns a store on the test Redis under a fresh prefix,
// closed and its keys deleted at cleanup.
func NewRedisStore(tb testing.TB) *redisstore.Store {
	tb.Helper()
	s, _ := openRedis(tb, URL())
	return s
}

// NewRedisStoreCounted is NewRedisStore with the round-trip counter of its
// client, which starts at zero.
func NewRedisStoreCounted(tb testing.TB) (*redisstore.Store, *RoundTrips) {
	tb.Helper()
	return openRedis(tb, URL())
}

// RoundTrips counts a client's round trips to Redis: one per command sent
// alone and one per pipeline. Connection setup (HELLO, AUTH, SELECT,
// CLIENT SETINFO, the cache's epoch check) is not counted, so counts do not
// depend on the pool.
// It counts the commands sent too (Commands).
type RoundTrips struct{ n, cmds atomic.Int64 }

// Load returns the count.
func (r *RoundTrips) Load() int64 { return r.n.Load() }

// Commands returns the commands sent, a pipeline's each counted.
func (r *RoundTrips) Commands() int64 { return r.cmds.Load() }

// Reset sets the counts to zero.
func (r *RoundTrips) Reset() { r.n.Store(0); r.cmds.Store(0) }

// NewRedis opens a store on the test Redis under a fresh random key prefix
// (closed and its keys deleted at cleanup) and returns its client, the
// prefix, and the client's round-trip counter, which starts at zero.
func NewRedis(tb testing.TB) (client redis.UniversalClient, prefix string, counter *RoundTrips) {
	tb.Helper()
	s, counter := openRedis(tb, URL())
	return s.Client(), s.Prefix(), counter
}

// NewRedisCluster is NewRedis on the test cluster (ClusterURL).
func NewRedisCluster(tb testing.TB) (client redis.UniversalClient, prefix string, counter *RoundTrips) {
	tb.Helper()
	s, counter := openRedis(tb, ClusterURL(tb))
	return s.Client(), s.Prefix(), counter
}

// URL is the test Redis's: TEST_REDIS_URL, or DefaultRedisURL.
func URL() string {
	if url := os.Getenv("TEST_REDIS_URL"); url != "" {
		return url
	}
	return DefaultRedisURL
}

// ClusterURL is the test cluster's, TEST_REDIS_CLUSTER_URL; the test is
// skipped when it is unset.
func ClusterURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("TEST_REDIS_CLUSTER_URL")
	if url == "" {
		tb.Skip("cachetest: TEST_REDIS_CLUSTER_URL unset")
	}
	return url
}

func openRedis(tb testing.TB, url string) (*redisstore.Store, *RoundTrips) {
	tb.Helper()
	s, err := redisstore.Open(url, NewPrefix(tb, url))
	if err != nil {
		tb.Fatalf("cachetest: %v", err)
	}
	if err := ping(url, s); err != nil {
		_ = s.Close()
		if os.Getenv("CI") == "true" {
			tb.Fatalf("cachetest: redis at %s unreachable (CI=true): %v", url, err)
		}
		tb.Skipf("cachetest: redis at %s unreachable: %v", url, err)
	}
	tb.Cleanup(func() { _ = s.Close() }) // the test may have closed it already
	counter := &RoundTrips{}
	s.Client().AddHook(roundTripHook{counter})
	return s, counter
}

// NewPrefix returns a fresh random key prefix whose keys on the Redis at
// url are deleted at cleanup.
func NewPrefix(tb testing.TB, url string) string {
	tb.Helper()
	prefix := "kptest:" + randomHex(8) + ":"
	tb.Cleanup(func() {
		// A store of its own: the test's may be closed.
		s, err := redisstore.Open(url, prefix)
		if err != nil {
			tb.Errorf("cachetest: %v", err)
			return
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, s.Client(), prefix); err != nil {
			tb.Errorf("cachetest: delete %s*: %v", prefix, err)
		}
	})
	return prefix
}

// unreachable remembers the URLs that failed a ping, so a missing server
// costs one dial timeout per test binary rather than one per test.
var unreachable sync.Map // url -> error

func ping(url string, s *redisstore.Store) error {
	if err, ok := unreachable.Load(url); ok {
		return err.(error)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.Ping(ctx) // on a cluster: every master, as the server does at start
	if err != nil {
		unreachable.Store(url, err)
	}
	return err
}

// ScanPrefix returns every key under prefix, with SCAN (tests only: a
// request path must never scan). On a cluster it scans every master.
func ScanPrefix(ctx context.Context, client redis.UniversalClient, prefix string) ([]string, error) {
	c, ok := client.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, client, prefix)
	}
	var mu sync.Mutex
	var keys []string
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		k, err := scan(ctx, node, prefix)
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	return keys, err
}

func scan(ctx context.Context, c redis.Cmdable, prefix string) ([]string, error) {
	var keys []string
	it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	return keys, it.Err()
}

// DeletePrefix deletes every key under prefix (tests only).
func DeletePrefix(ctx context.Context, client redis.UniversalClient, prefix string) error {
	keys, err := ScanPrefix(ctx, client, prefix)
	if err != nil {
		return err
	}
	pipe := client.Pipeline()
	for _, k := range keys {
		pipe.Del(ctx, k)
	}
	if len(keys) == 0 {
		return nil
	}
	_, err = pipe.Exec(ctx)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// roundTripHook counts round trips.
type roundTripHook struct{ n *RoundTrips }

func (h roundTripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h roundTripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !setupCommand(cmd.Name()) && !redisstore.IsEpochCheck(ctx) {
			h.n.n.Add(1)
			h.n.cmds.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h roundTripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if redisstore.IsEpochCheck(ctx) {
			return next(ctx, cmds)
		}
		var sent int64
		for _, c := range cmds {
			if !setupCommand(c.Name()) {
				sent++
			}
		}
		if sent > 0 {
			h.n.n.Add(1)
			h.n.cmds.Add(sent)
		}
		return next(ctx, cmds)
	}
}

func setupCommand(name string) bool {
	switch strings.ToLower(name) {
	case "hello", "auth", "select", "client":
		return true
	}
	return false
}
