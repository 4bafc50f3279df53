package cache_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// The conformance suite: every Store behaves the same.

var versionRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestStoreGetSet(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		got, err := s.Get(ctx, []string{"a", "b"}, nil)
		values, versions := got.Values, got.Versions
		if err != nil {
			t.Fatal(err)
		}
		if values[0] != nil || values[1] != nil || len(versions) != 0 {
			t.Fatalf("empty store: Get = %q %v", values, versions)
		}
		in := []byte("value a")
		err = s.Set(ctx, []cache.Item{
			{Key: "a", Value: in, TTL: time.Hour},
			{Key: "b", Value: []byte{}, TTL: time.Hour},
		})
		if err != nil {
			t.Fatal(err)
		}
		in[0] = 'X' // the store must have copied it
		got, err = s.Get(ctx, []string{"a", "b", "c"}, nil)
		values = got.Values
		if err != nil {
			t.Fatal(err)
		}
		if string(values[0]) != "value a" {
			t.Errorf("a = %q", values[0])
		}
		if values[1] == nil || len(values[1]) != 0 {
			t.Errorf("b = %#v, want empty and present", values[1])
		}
		if values[2] != nil {
			t.Errorf("c = %q, want absent", values[2])
		}
		if err := s.Set(ctx, []cache.Item{{Key: "b", Value: []byte("b2"), TTL: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Get(ctx, []string{"a", "b"}, nil)
		values = got.Values
		if err != nil {
			t.Fatal(err)
		}
		if string(values[0]) != "value a" || string(values[1]) != "b2" {
			t.Errorf("after overwrite: %q", values)
		}
		if err := s.Set(ctx, []cache.Item{{Key: "z", Value: []byte("z")}}); err == nil {
			t.Error("Set without a TTL succeeded")
		}
	})
}

func TestStoreTTL(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		err := s.Set(ctx, []cache.Item{
			{Key: "long", Value: []byte("l"), TTL: time.Hour},
			{Key: "short", Value: []byte("s"), TTL: 50 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := cache.EntryTTL(t, s, "long"); d <= 59*time.Minute || d > time.Hour {
			t.Errorf("TTL of long = %v, want about 1h", d)
		}
		if _, err := s.Get(ctx, nil, []string{"tag"}); err != nil {
			t.Fatal(err)
		}
		if d := cache.TagTTLOf(t, s, "tag"); d <= cache.TagTTL-time.Minute || d > cache.TagTTL {
			t.Errorf("TTL of a created tag = %v, want about %v", d, cache.TagTTL)
		}
		if err := s.Bump(ctx, []string{"bumped"}); err != nil {
			t.Fatal(err)
		}
		if d := cache.TagTTLOf(t, s, "bumped"); d <= cache.TagTTL-time.Minute || d > cache.TagTTL {
			t.Errorf("TTL of a bumped tag = %v, want about %v", d, cache.TagTTL)
		}
		// One real expiry: wait until it is gone (bounded), never for a fixed time.
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := s.Get(ctx, []string{"short", "long"}, nil)
			values := got.Values
			if err != nil {
				t.Fatal(err)
			}
			if values[1] == nil {
				t.Fatal("long expired")
			}
			if values[0] == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("short never expired")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestStoreTagsCreatedOnce(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		got, err := s.Get(ctx, nil, []string{"x", "y"})
		v1 := got.Versions
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.Get(ctx, []string{"k"}, []string{"y", "x"})
		v2 := got.Versions
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range []string{"x", "y"} {
			if !versionRE.MatchString(v1[tag]) {
				t.Errorf("version of %s = %q", tag, v1[tag])
			}
			if v1[tag] != v2[tag] {
				t.Errorf("version of %s changed between Gets: %q, %q", tag, v1[tag], v2[tag])
			}
		}
		if v1["x"] == v1["y"] {
			t.Error("two tags got the same version")
		}
	})
}

func TestStoreBump(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		got, err := s.Get(ctx, nil, []string{"x", "y"})
		before := got.Versions
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Bump(ctx, []string{"x", "new"}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Get(ctx, nil, []string{"x", "y"})
		after := got.Versions
		if err != nil {
			t.Fatal(err)
		}
		if after["x"] == before["x"] || !versionRE.MatchString(after["x"]) {
			t.Errorf("x: %q -> %q, want a new version", before["x"], after["x"])
		}
		if after["y"] != before["y"] {
			t.Errorf("y changed: %q -> %q", before["y"], after["y"])
		}
		current, err := s.Versions(ctx, []string{"new"})
		if err != nil {
			t.Fatal(err)
		}
		if !versionRE.MatchString(current["new"]) {
			t.Errorf("bumping an absent tag: version %q", current["new"])
		}
	})
}

func TestStoreVersions(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		got, err := s.Versions(ctx, []string{"x"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("Versions of an absent tag = %v", got)
		}
		got, err = s.Versions(ctx, []string{"x"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("Versions created the tag: %v", got)
		}
		read, err := s.Get(ctx, nil, []string{"x"})
		created := read.Versions
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.Versions(ctx, []string{"x", "absent"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got["x"] != created["x"] {
			t.Fatalf("Versions = %v, want x=%s only", got, created["x"])
		}
	})
}

func TestStoreCounters(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		got, err := s.Counters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("fresh counters = %v", got)
		}
		if err := s.AddCounters(ctx, map[string]int64{"hits|Q.a": 3, "invalidations": 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddCounters(ctx, map[string]int64{"hits|Q.a": 2, "misses|Q.a": 7}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Counters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"hits|Q.a": 5, "misses|Q.a": 7, "invalidations": 1}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("counters = %v, want %v", got, want)
		}
		if rs, ok := s.(*redisstore.Store); ok {
			if d := cache.StatsTTL(t, rs); d <= 29*24*time.Hour {
				t.Errorf("TTL of the counters = %v, want about 30 days", d)
			}
		}
	})
}

func TestStoreKeys(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		before, err := s.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, []cache.Item{{Key: "a", Value: []byte("a"), TTL: time.Hour}, {Key: "b", Value: []byte("b"), TTL: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, nil, []string{"x"}); err != nil {
			t.Fatal(err)
		}
		after, err := s.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch s.(type) {
		case *cache.MemoryStore:
			if before != 0 || after != 3 {
				t.Errorf("Keys = %d then %d, want 0 then 3", before, after)
			}
		default: // DBSIZE counts the whole database, shared with other tests
			if after < 3 {
				t.Errorf("Keys = %d, want at least 3", after)
			}
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch s.(type) {
		case *cache.MemoryStore:
			if info != nil {
				t.Errorf("memory Info = %+v, want nil", info)
			}
		default:
			if info == nil || info.UsedMemoryBytes <= 0 || info.ConnectedClients <= 0 {
				t.Errorf("redis Info = %+v", info)
			}
		}
		if err := s.Ping(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestMemoryStoreEviction(t *testing.T) {
	ctx := context.Background()
	m := cache.NewMemoryStore(cache.MemoryLimits{MaxEntries: 10})
	now := time.Unix(1_000_000, 0)
	cache.SetMemoryClock(m, func() time.Time { return now })
	// Five that will have expired, then 10 more with growing TTLs.
	for i := range 5 {
		if err := m.Set(ctx, []cache.Item{{Key: fmt.Sprint("old", i), Value: []byte("o"), TTL: time.Second}}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Second)
	for i := range 10 {
		if err := m.Set(ctx, []cache.Item{{Key: fmt.Sprint("k", i), Value: []byte("v"), TTL: time.Duration(i+1) * time.Minute}}); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := m.Keys(ctx)
	if n != 10 {
		t.Fatalf("Keys = %d, want 10 (expired ones swept first)", n)
	}
	// One more: over the limit with nothing expired, the closest to expiry go
	// until 9 remain.
	if err := m.Set(ctx, []cache.Item{{Key: "k10", Value: []byte("v"), TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	n, _ = m.Keys(ctx)
	if n != 9 {
		t.Fatalf("Keys = %d, want 9", n)
	}
	got, _ := m.Get(ctx, []string{"k0", "k1", "k2", "k3", "k9", "k10"}, nil)
	values := got.Values
	for i, want := range []bool{false, false, true, true, true, true} {
		if (values[i] != nil) != want {
			t.Errorf("value %d present = %v, want %v", i, values[i] != nil, want)
		}
	}
	// A swept tag comes back with a fresh version.
	got, _ = m.Get(ctx, nil, []string{"tag"})
	v1 := got.Versions
	for i := range 20 {
		_ = m.Set(ctx, []cache.Item{{Key: fmt.Sprint("x", i), Value: []byte("v"), TTL: 30 * 24 * time.Hour}})
	}
	got, _ = m.Get(ctx, nil, []string{"tag"})
	v2 := got.Versions
	if v1["tag"] == v2["tag"] {
		t.Error("tag survived eviction of everything closer to expiry than 30 days")
	}
}

// The in-process store is bounded in bytes, not only in entries: a burst
// of large distinct entries (what keys from unbounded input would make)
// leaves it within MaxBytes.
func TestMemoryStoreBoundedInBytes(t *testing.T) {
	ctx := context.Background()
	const limit = 1 << 20
	m := cache.NewMemoryStore(cache.MemoryLimits{MaxBytes: limit})
	value := make([]byte, 10<<10)
	for i := range 1000 { // 10 MB offered
		if err := m.Set(ctx, []cache.Item{{Key: fmt.Sprint("k", i), Value: value, TTL: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		if b := m.Bytes(); b > limit {
			t.Fatalf("after %d sets the store holds %d bytes, over its %d", i+1, b, limit)
		}
	}
	if n, _ := m.Keys(ctx); n < 50 {
		t.Errorf("only %d keys kept in 1 MB of 10 KB entries", n)
	}
	// Overwrites and expiries keep the count exact.
	for range 3 {
		_ = m.Set(ctx, []cache.Item{{Key: "k999", Value: value, TTL: time.Hour}})
	}
	got, _ := m.Get(ctx, []string{"k999"}, nil)
	values := got.Values
	if values[0] == nil {
		t.Error("the newest entry was evicted")
	}
}

// The invalidation log: every Bump is one record; Observe since a stamp
// returns the tags bumped after it while the log holds them all (at most
// 64 records), and says so otherwise; a lost log comes back under another
// id, so no old stamp names a point of it.
func TestStoreObserveLog(t *testing.T) {
	cachetest.EachStore(t, func(t *testing.T, s cachetest.Store) {
		ctx := context.Background()
		observe := func(key string, since cache.Stamp) ([]byte, cache.Changes) {
			t.Helper()
			raw, ch, err := s.Observe(ctx, key, since)
			if err != nil {
				t.Fatal(err)
			}
			return raw, ch
		}
		_, start := observe("", cache.Stamp{})
		if start.Now.IsZero() || start.Complete {
			t.Fatalf("first Observe = %+v, want a started log and no changes to tell", start)
		}
		if _, ch := observe("", start.Now); ch.Now != start.Now || !ch.Complete || len(ch.Tags) != 0 {
			t.Fatalf("nothing bumped: %+v", ch)
		}
		if err := s.Set(ctx, []cache.Item{{Key: "k", Value: []byte("v"), TTL: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		for _, tags := range [][]string{{"a", "b"}, {"c"}} {
			if err := s.Bump(ctx, tags); err != nil {
				t.Fatal(err)
			}
		}
		raw, ch := observe("k", start.Now)
		if string(raw) != "v" || ch.Now.Log != start.Now.Log || ch.Now.N != start.Now.N+2 || !ch.Complete || fmt.Sprint(ch.Tags) != "[a b c]" {
			t.Fatalf("after two bumps: %q %+v", raw, ch)
		}
		mid := ch.Now
		for i := range 65 {
			if err := s.Bump(ctx, []string{fmt.Sprint("t", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, ch := observe("", mid); ch.Complete || ch.Now.N != mid.N+65 {
			t.Fatalf("65 bumps behind: %+v, want incomplete", ch)
		}
		if _, ch := observe("", cache.Stamp{Log: mid.Log, N: mid.N + 1}); !ch.Complete || len(ch.Tags) != 64 {
			t.Fatalf("64 bumps behind: complete %v with %d tags, want 64", ch.Complete, len(ch.Tags))
		}
		_, tail := observe("", cache.TailStamp)
		if len(tail.Tail) != 64 || tail.Tail[63].N != tail.Now.N || fmt.Sprint(tail.Tail[63].Tags) != "[t64]" {
			t.Fatalf("the tail: %d records, last %+v, now %+v", len(tail.Tail), tail.Tail[len(tail.Tail)-1], tail.Now)
		}
		if tags, ok := tail.Since(cache.Stamp{Log: mid.Log, N: tail.Now.N - 2}); !ok || fmt.Sprint(tags) != "[t63 t64]" {
			t.Fatalf("the tail since two bumps ago: %v %v", tags, ok)
		}
		if _, ok := tail.Since(mid); ok {
			t.Fatal("the tail answered for a stamp before it")
		}
		cache.DropLog(t, s)
		if _, ch := observe("", mid); ch.Complete || ch.Now.Log == mid.Log {
			t.Fatalf("after the log was lost: %+v, want another log", ch)
		}
	})
}
