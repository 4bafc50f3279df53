package redisstore_test

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// Options.Timeout bounds every Redis call of a store from Open: a
// slow or hung Redis makes Loads fall back to the source, each counted as a
// failed call, until the breaker opens and Loads stop touching Redis.
func TestTimeoutBoundsRedisCalls(t *testing.T) {
	for name, latency := range map[string]time.Duration{
		"slow": 200 * time.Millisecond, // four times the timeout
		"hung": time.Hour,
	} {
		t.Run(name, func(t *testing.T) {
			srv := cachetest.StartServer(t)
			p := cachetest.NewProxy(t, srv.Addr)
			store, err := redisstore.Open("redis://"+p.Addr()+"/0", "kptest:timeout:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			reg := prometheus.NewRegistry()
			c := cache.New(store, cachetest.Options(store, cache.Options{Timeout: 50 * time.Millisecond, BreakerThreshold: 3,
				BreakerCooldown: time.Hour, Registerer: reg, Logger: slog.New(slog.DiscardHandler)}))
			lookups := []cache.Lookup{{Key: "k", Tags: []string{"t"}}}
			var version, fills atomic.Int64
			fill := func(context.Context, []int) ([][]byte, error) {
				fills.Add(1)
				return [][]byte{[]byte(strconv.FormatInt(version.Load(), 10))}, nil
			}
			load := func(step string, want int64) {
				t.Helper()
				before := fills.Load()
				got := cachetest.MustLoad(t, c, context.Background(), lookups, fill)[0]
				if got != strconv.FormatInt(want, 10) {
					t.Fatalf("%s: Load = %s, want %d", step, got, want)
				}
				if fromFill := fills.Load() > before; fromFill != (want == version.Load()) {
					t.Fatalf("%s: from the fill: %v", step, fromFill)
				}
			}
			load("cold", 0)
			version.Store(1) // not invalidated: a hit answers 0, the source 1
			load("warm", 0)

			p.SetLatency(latency)
			for i := range 3 {
				load("slow Redis "+strconv.Itoa(i), 1)
			}
			if got := cachetest.Gather(t, reg)[`kedahpulse_cache_errors_total{op="get"}`]; got != 3 {
				t.Fatalf("%v failed gets counted, want 3", got)
			}
			if err := c.Healthy(context.Background()); err == nil {
				t.Fatal("Healthy: no error")
			}
			conns, sent := p.Accepted(), p.Sent()
			for i := range 3 {
				load("breaker open "+strconv.Itoa(i), 1)
			}
			if p.Accepted() != conns || p.Sent() != sent {
				t.Fatalf("with the breaker open, Loads reached Redis: %d connections, %d bytes",
					p.Accepted()-conns, p.Sent()-sent)
			}
		})
	}
}

// A TLS server that never completes the handshake holds a call no longer
// than its context, whatever dial_timeout says (go-redis dials in the
// background).
func TestTimeoutBoundsTLSDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() { // accept and say nothing
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	for _, url := range []string{
		"rediss://" + ln.Addr().String() + "/0?dial_timeout=1h",
		"rediss-cluster://" + ln.Addr().String() + "?dial_timeout=1h",
	} {
		store, err := redisstore.Open(url, "kptest:")
		if err != nil {
			t.Fatal(err)
		}
		client := store.Client()
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			done <- client.Ping(ctx).Err()
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: Ping succeeded", url)
			}
		case <-time.After(10 * time.Second): // a hang, not a measurement
			t.Errorf("%s: Ping still blocked 10s after its 50ms deadline", url)
		}
		_ = store.Close()
	}
}

// Every kind of URL gets a client whose commands respect their context.
func TestOpenRespectsContext(t *testing.T) {
	for _, url := range []string{
		"redis://127.0.0.1:1/0",
		"rediss://127.0.0.1:1/0",
		"redis-cluster://127.0.0.1:1?addr=127.0.0.1:2",
		"redis-sentinel://127.0.0.1:1?master_name=m",
	} {
		store, err := redisstore.Open(url, "kptest:")
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		client := store.Client()
		var enabled bool
		switch c := client.(type) {
		case *redis.Client:
			enabled = c.Options().ContextTimeoutEnabled
		case *redis.ClusterClient:
			enabled = c.Options().ContextTimeoutEnabled
		default:
			t.Fatalf("%s: client %T", url, client)
		}
		if !enabled {
			t.Errorf("%s: ContextTimeoutEnabled is off", url)
		}
		_ = store.Close()
	}
}
