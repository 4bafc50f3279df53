package respcache_test

import (
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

func TestKeyNamesExactlyWhatRuns(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	c := respcache.New(respcache.Options{Cache: newMemoryCache(), Now: func() time.Time { return now }})
	key := func(r respcache.Request) string {
		d, err := respcache.Digest(r)
		if err != nil {
			t.Fatal(err)
		}
		return c.Key(d)
	}
	base := respcache.Request{Document: "d", Operation: "L", Variables: map[string]any{"first": 5}, Scope: "public"}
	same := []respcache.Request{
		{Document: "d", Operation: "L", Variables: map[string]any{"first": 5}, Scope: "public"},
	}
	different := []respcache.Request{
		{Document: "d", Operation: "L", Variables: map[string]any{"first": 5, "city": "Nowhere"}, Scope: "public"},
		{Document: "d", Operation: "L", Variables: map[string]any{"first": 6}, Scope: "public"},
		{Document: "d", Operation: "M", Variables: map[string]any{"first": 5}, Scope: "public"},
		{Document: "e", Operation: "L", Variables: map[string]any{"first": 5}, Scope: "public"},
		{Document: "d", Operation: "L", Variables: map[string]any{"first": 5}, Scope: "private:ab"},
		{Document: "dL", Operation: "", Variables: map[string]any{"first": 5}, Scope: "public"},
	}
	k := key(base)
	for _, r := range same {
		if key(r) != k {
			t.Errorf("%+v: another key", r)
		}
	}
	for _, r := range different {
		if key(r) == k {
			t.Errorf("%+v: same key as %+v", r, base)
		}
	}
	long := base
	long.Variables = map[string]any{"city": string(make([]byte, 1<<20))}
	if n := len(key(long)); n != len(k) {
		t.Errorf("a 1 MB variable gives a key of %d bytes, want %d", n, len(k))
	}
	now = now.Add(time.Hour)
	if key(base) == k {
		t.Error("the key does not change with the hour")
	}
}

func newMemoryCache() *cache.Cache {
	m := cache.NewMemoryStore(cache.MemoryLimits{})
	return cache.New(m, cachetest.Options(m, cache.Options{}))
}
