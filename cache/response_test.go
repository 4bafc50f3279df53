package cache_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

func TestResponse(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		c := newCache(t, s, cache.Options{})
		f := cachetest.NewFiller(cachetest.NewSource())
		lookups := []cache.Lookup{{Key: "a", Tags: []string{"x"}}, {Key: "b", Tags: []string{"y"}}}
		build := func() map[string]string {
			ctx, rec := cache.WithRecorder(context.Background())
			cachetest.MustLoad(t, c, ctx, lookups, f.Fill(lookups))
			v, ok := rec.Versions()
			if !ok {
				t.Fatal("inconsistent")
			}
			return v
		}
		ctx := context.Background()
		get := func(key string) (string, bool) {
			t.Helper()
			v, _, ok := c.GetResponse(ctx, key)
			return string(v), ok
		}
		set := func(key, v string) {
			t.Helper()
			_, stamp, _ := c.GetResponse(ctx, key) // the stamp before the fill
			c.SetResponse(ctx, key, []byte(v), build(), stamp, time.Hour)
		}
		if _, ok := get("resp:1"); ok {
			t.Fatal("hit on an empty cache")
		}
		set("resp:1", `{"data":1}`)
		if v, ok := get("resp:1"); !ok || v != `{"data":1}` {
			t.Fatalf("GetResponse = %q %v", v, ok)
		}
		cachetest.MustInvalidate(t, c, "y")
		if _, ok := get("resp:1"); ok {
			t.Fatal("hit after invalidating one of its tags")
		}
		set("resp:1", `{"data":2}`)
		if v, ok := get("resp:1"); !ok || v != `{"data":2}` {
			t.Fatalf("GetResponse = %q %v", v, ok)
		}
		cachetest.MustInvalidate(t, c, "z") // a bump of another tag: still valid, by the log
		if v, ok := get("resp:1"); !ok || v != `{"data":2}` {
			t.Fatalf("GetResponse after an unrelated bump = %q %v", v, ok)
		}
		// An evicted tag alone changes nothing the log does not know; an
		// evicted log leaves the tags to check, and a dropped tag misses.
		cache.DropTag(t, s, "x")
		cache.DropLog(t, s)
		if _, ok := get("resp:1"); ok {
			t.Fatal("hit after its tag and the log were dropped")
		}
		if v, _ := s.Versions(ctx, []string{"x"}); len(v) != 0 {
			t.Fatal("GetResponse recreated a tag")
		}
		set("resp:1", `{"data":3}`)
		cache.DropLog(t, s) // the log lost, the tags intact: still valid, checked tag by tag
		if v, ok := get("resp:1"); !ok || v != `{"data":3}` {
			t.Fatalf("GetResponse after the log was lost = %q %v", v, ok)
		}
		c.SetResponse(ctx, "resp:3", []byte("r"), build(), cache.Stamp{}, time.Hour)
		if _, ok := get("resp:3"); ok {
			t.Fatal("a response without a stamp was stored")
		}
		set("resp:2", "r")
		if err := c.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := get("resp:2"); ok {
			t.Fatal("hit after Clear")
		}
		_, stamp, _ := c.GetResponse(ctx, "resp:3")
		c.SetResponse(ctx, "resp:3", []byte("r"), map[string]string{"x": "1"}, stamp, time.Hour) // no AllTag: not stored
		if _, ok := get("resp:3"); ok {
			t.Fatal("a response without the all tag was stored")
		}
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Responses != (cache.FieldStats{Coordinate: "response", Hits: 4, Misses: 11}) {
			t.Errorf("Responses = %+v", st.Responses)
		}
		for _, fs := range st.Fields {
			if fs.Coordinate == "response" {
				t.Error("Fields includes response")
			}
		}
	})
}

// Hits on copies kept in process share reads of the log's head, but a hit
// never takes the answer of a read sent before it asked: after an
// invalidation returns, a caller joins the next read, which sees it.
func TestHeadReadsNeverServeAReadSentEarlier(t *testing.T) {
	// The store holds a read of the log's head after it read it, until
	// released: a read in flight.
	var hold atomic.Bool
	read, release := make(chan struct{}), make(chan struct{})
	s := &cachetest.Faulty{Store: cache.NewMemoryStore(cache.MemoryLimits{}), After: func(op string, keys []string) {
		if op == "observe" && keys == nil && hold.CompareAndSwap(true, false) {
			read <- struct{}{}
			<-release
		}
	}}
	c := cache.New(s, cache.Options{Timeout: time.Minute, LocalBytes: cache.DefaultLocalBytes}) // copies in process
	ctx := context.Background()
	_, stamp, _ := c.GetResponse(ctx, "r")
	c.SetResponse(ctx, "r", []byte("old"), map[string]string{cache.AllTag: "1", "x": "1"}, stamp, time.Hour)
	for range 2 { // the second reads the copy in process
		if v, _, ok := c.GetResponse(ctx, "r"); !ok || string(v) != "old" {
			t.Fatalf("GetResponse = %q %v", v, ok)
		}
	}
	hold.Store(true)
	first := make(chan bool)
	go func() { _, _, ok := c.GetResponse(ctx, "r"); first <- ok }()
	<-read // the first caller's read has read the head, and is held
	cachetest.MustInvalidate(t, c, "x")
	second := make(chan bool)
	go func() { _, _, ok := c.GetResponse(ctx, "r"); second <- ok }()
	cachetest.WaitFor(t, func() bool { return cache.HeadReadQueued(c) })
	close(release)
	if !<-first {
		t.Error("the caller that asked before the invalidation missed")
	}
	if <-second {
		t.Error("a caller that asked after the invalidation returned was served the old answer")
	}
}
