package cache

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// flights coalesces fills in this process. A flight is keyed by the entry
// key AND the versions of its tags that the owner read before filling, so a
// Load that saw a newer version (an Invalidate returned in between) never
// joins a flight whose fill may predate the invalidation. Unlike
// singleflight, one call claims many keys at once and fills them in one
// batch.
type flights struct {
	mu      sync.Mutex
	m       map[string]*flight
	waiters int // Loads currently waiting on a flight (for tests)
}

type flight struct {
	done  chan struct{} // closed when value and err are set
	value []byte
	err   error
}

// flightKey identifies key at the tag versions in tags (sorted, with
// AllTag).
func flightKey(key string, tags []string, versions map[string]string) string {
	var b strings.Builder
	b.WriteString(key)
	for _, t := range tags {
		b.WriteByte(0)
		b.WriteString(t)
		b.WriteByte('=')
		b.WriteString(versions[t])
	}
	return b.String()
}

// claim returns, for each flight key, the flight this call now owns or the
// flight another call owns (owned[i] tells which). keys must be distinct.
func (f *flights) claim(keys []string) (fl []*flight, owned []bool) {
	fl = make([]*flight, len(keys))
	owned = make([]bool, len(keys))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = make(map[string]*flight)
	}
	for i, k := range keys {
		if g, ok := f.m[k]; ok {
			fl[i] = g
			continue
		}
		g := &flight{done: make(chan struct{})}
		f.m[k] = g
		fl[i], owned[i] = g, true
	}
	return fl, owned
}

// finish publishes results for owned flights and removes them.
func (f *flights) finish(keys []string, fl []*flight, values [][]byte, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, k := range keys {
		if err != nil {
			fl[i].err = err
		} else {
			fl[i].value = values[i]
		}
		delete(f.m, k)
		close(fl[i].done)
	}
}

// wait waits for g or ctx.
func (f *flights) wait(ctx context.Context, g *flight) ([]byte, error) {
	select {
	case <-g.done:
		return g.value, g.err
	default:
	}
	f.mu.Lock()
	f.waiters++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.waiters--
		f.mu.Unlock()
	}()
	select {
	case <-g.done:
		return g.value, g.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *flights) waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiters
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
