package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// Round trips to Redis per operation: what a request costs.
func TestRedisRoundTrips(t *testing.T) {
	s, rt := cachetest.NewRedisStoreCounted(t)
	c := newCache(t, s, cache.Options{})
	ctx := context.Background()
	lookups := make([]cache.Lookup, 50)
	for i := range lookups {
		lookups[i] = cache.Lookup{Key: fmt.Sprint("property:", i), Tags: []string{fmt.Sprint("property:", i), "properties"}}
	}
	f := cachetest.NewFiller(cachetest.NewSource())
	step := func(name string, want int64, op func()) {
		t.Helper()
		rt.Reset()
		op()
		if n := rt.Load(); n != want {
			t.Errorf("%s: %d round trips, want %d", name, n, want)
		}
	}
	load := func() { cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups)) }
	step("Load of 50, all missing (Get + Set)", 2, load)
	step("Load of 50, all hits (the copies in process, and the log's head)", 1, load)
	if n := rt.Commands(); n != 1 {
		t.Errorf("Load of 50, all hits: %d commands, want 1 (the log's head)", n)
	}
	step("Invalidate of 3 tags (versions, then the log)", 2, func() { cachetest.MustInvalidate(t, c, "property:1", "property:2", "property:3") })
	step("Load of 50, 3 invalidated (the log's head for the copies, Get of the 3, Set)", 3, load)
	step("Load of 50, all hits again (the log's head)", 1, load)
	step("Flush", 1, func() {
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	})
	c.GetResponse(ctx, "warm-up") // the first use starts the log
	var stamp cache.Stamp
	step("GetResponse of an absent key (the entry and the log's head)", 1, func() { _, stamp, _ = c.GetResponse(ctx, "resp") })
	tags := map[string]string{cache.AllTag: "1"}
	for i := range 200 { // a response of many tags costs the same
		tags[fmt.Sprint("property:", i)] = "1"
	}
	step("SetResponse", 1, func() { c.SetResponse(ctx, "resp", []byte("r"), tags, stamp, time.Hour) })
	step("GetResponse of a present key of 201 tags", 1, func() { c.GetResponse(ctx, "resp") })
	step("GetResponse again (the copy in process, and the log's head)", 1, func() { c.GetResponse(ctx, "resp") })
	step("Invalidate of an unrelated tag (versions, then the log)", 2, func() { cachetest.MustInvalidate(t, c, "other") })
	step("GetResponse after it (the log's head and last records)", 1, func() { c.GetResponse(ctx, "resp") })
	step("GetResponse again (the log's head)", 1, func() { c.GetResponse(ctx, "resp") })
	if f.Calls.Load() != 2 {
		t.Errorf("fill ran %d times, want 2", f.Calls.Load())
	}
}

// A Cache whose Redis restarted empty (simulated by a second store on a
// fresh prefix sharing nothing) simply misses.
func TestRedisPrefixIsolation(t *testing.T) {
	c1 := newCache(t, cachetest.NewRedisStore(t), cache.Options{})
	c2 := newCache(t, cachetest.NewRedisStore(t), cache.Options{})
	lookups := []cache.Lookup{{Key: "k"}}
	f := cachetest.NewFiller(cachetest.NewSource())
	cachetest.MustLoad(t, c1, context.Background(), lookups, f.Fill(lookups))
	cachetest.MustLoad(t, c2, context.Background(), lookups, f.Fill(lookups))
	if f.Calls.Load() != 2 {
		t.Fatalf("fill ran %d times, want 2: prefixes must not share entries", f.Calls.Load())
	}
}

// A large response is stored compressed on Redis (each process decodes it
// once, then serves its copy in process), and read back whole.
func TestRedisResponseCompressed(t *testing.T) {
	s := cachetest.NewRedisStore(t)
	client, prefix := s.Client(), s.Prefix()
	c := newCache(t, s, cache.Options{})
	ctx := context.Background()
	payload := []byte(strings.Repeat(`{"id":"1","title":"A house near the sea","price":"350000.00"},`, 400))
	_, stamp, _ := c.GetResponse(ctx, "big")
	c.SetResponse(ctx, "big", payload, map[string]string{cache.AllTag: "1"}, stamp, time.Hour)
	stored, err := client.Get(ctx, prefix+"e:big").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(stored, []byte("\n"))
	if !bytes.HasSuffix(line, []byte(" s2")) || len(stored) > len(payload)/4 {
		t.Errorf("stored %d bytes for a %d-byte answer, line %q: want it compressed", len(stored), len(payload), line)
	}
	c2 := newCache(t, s, cache.Options{}) // another process: no copy yet
	if v, _, ok := c2.GetResponse(ctx, "big"); !ok || !bytes.Equal(v, payload) {
		t.Fatalf("GetResponse = %d bytes, %v", len(v), ok)
	}
}
