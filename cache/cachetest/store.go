package cachetest

import (
	"context"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// Store is what both stores implement: the data path, the shared counters
// and inspection.
type Store interface {
	cache.Store
	cache.SharedCounters
	cache.Inspector
}

var (
	_ Store = (*cache.MemoryStore)(nil)
	_ Store = (*redisstore.Store)(nil)
	_ Store = (*Faulty)(nil)
)

// Options returns o completed as the server wires a Cache on s: its shared
// counters and inspection, its name, copies in process, on Redis
// compression, and on the in-process store InProcess and no timeout and
// no breaker whatever o says. A Faulty is wired as the store it wraps.
func Options(s Store, o cache.Options) cache.Options {
	if o.Counters == nil {
		o.Counters = s
	}
	if o.Inspector == nil {
		o.Inspector = s
	}
	inner := s
	if f, ok := s.(*Faulty); ok {
		inner = f.Store
	}
	switch inner.(type) {
	case *redisstore.Store:
		if o.Backend == "" {
			o.Backend = "REDIS"
		}
		o.Compress = true
	case *cache.MemoryStore:
		if o.Backend == "" {
			o.Backend = "MEMORY"
		}
		o.Timeout, o.BreakerThreshold = -1, -1
		o.InProcess = true
	}
	if o.LocalBytes == 0 {
		o.LocalBytes = cache.DefaultLocalBytes
	}
	return o
}

// Faulty is a real store with a fault injector in front of every call: a
// test fails calls, counts them, or holds one at a point, and the calls it
// lets through reach the real store.
type Faulty struct {
	Store
	// Fail, if set, runs before each call with the call's operation ("get",
	// "versions", "set", "bump", "observe", "add-counters", "counters",
	// "keys", "info", "ping") and keys (of a get or a set, the tags of a
	// bump or versions, the key of an observe); an error fails the call
	// without reaching the store.
	Fail func(ctx context.Context, op string, keys []string) error
	// After, if set, runs after each call that reached the store, before
	// the call returns.
	After func(op string, keys []string)
}

func (f *Faulty) before(ctx context.Context, op string, keys []string) error {
	if f.Fail == nil {
		return nil
	}
	return f.Fail(ctx, op, keys)
}

func (f *Faulty) after(op string, keys []string) {
	if f.After != nil {
		f.After(op, keys)
	}
}

func (f *Faulty) Get(ctx context.Context, keys, tags []string) (cache.Got, error) {
	if err := f.before(ctx, "get", keys); err != nil {
		return cache.Got{}, err
	}
	defer f.after("get", keys)
	return f.Store.Get(ctx, keys, tags)
}

func (f *Faulty) Versions(ctx context.Context, tags []string) (map[string]string, error) {
	if err := f.before(ctx, "versions", tags); err != nil {
		return nil, err
	}
	defer f.after("versions", tags)
	return f.Store.Versions(ctx, tags)
}

func (f *Faulty) Set(ctx context.Context, items []cache.Item) error {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	if err := f.before(ctx, "set", keys); err != nil {
		return err
	}
	defer f.after("set", keys)
	return f.Store.Set(ctx, items)
}

func (f *Faulty) Bump(ctx context.Context, tags []string) error {
	if err := f.before(ctx, "bump", tags); err != nil {
		return err
	}
	defer f.after("bump", tags)
	return f.Store.Bump(ctx, tags)
}

func (f *Faulty) Observe(ctx context.Context, key string, since cache.Stamp) ([]byte, cache.Changes, error) {
	keys := []string{key}
	if key == "" {
		keys = nil
	}
	if err := f.before(ctx, "observe", keys); err != nil {
		return nil, cache.Changes{}, err
	}
	defer f.after("observe", keys)
	return f.Store.Observe(ctx, key, since)
}

func (f *Faulty) AddCounters(ctx context.Context, deltas map[string]int64) error {
	if err := f.before(ctx, "add-counters", nil); err != nil {
		return err
	}
	defer f.after("add-counters", nil)
	return f.Store.AddCounters(ctx, deltas)
}

func (f *Faulty) Counters(ctx context.Context) (map[string]int64, error) {
	if err := f.before(ctx, "counters", nil); err != nil {
		return nil, err
	}
	defer f.after("counters", nil)
	return f.Store.Counters(ctx)
}

func (f *Faulty) Keys(ctx context.Context) (int64, error) {
	if err := f.before(ctx, "keys", nil); err != nil {
		return 0, err
	}
	defer f.after("keys", nil)
	return f.Store.Keys(ctx)
}

func (f *Faulty) Info(ctx context.Context) (*cache.Info, error) {
	if err := f.before(ctx, "info", nil); err != nil {
		return nil, err
	}
	defer f.after("info", nil)
	return f.Store.Info(ctx)
}

func (f *Faulty) Ping(ctx context.Context) error {
	if err := f.before(ctx, "ping", nil); err != nil {
		return err
	}
	defer f.after("ping", nil)
	return f.Store.Ping(ctx)
}
