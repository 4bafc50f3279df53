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
//
// A flight whose owner's context ended before its fill succeeded is handed
// over, not failed: one of its waiters (or the next Load to claim its key)
// adopts it and fills it with its own context, so one client going away never
// fails another's request. With no Load attached, it is dropped.
type flights struct {
	mu      sync.Mutex
	m       map[string]*flight
	waiters int // Loads currently waiting on a flight (for tests)
}

type flight struct {
	key      string
	done     chan struct{} // closed when the flight finishes or is orphaned
	finished bool          // value and err are set
	value    []byte
	err      error
	attached int  // Loads that joined the flight and have not yet left it
	orphan   bool // the owner gave up; the next Load to see it adopts it
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

// claim returns, for each flight key, the flight this call now owns (a new
// one, or an orphan it adopts) or the flight another call owns, which it
// joins (owned[i] tells which). keys must be distinct. Every joined flight
// must be passed to wait or leave.
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
			if g.orphan {
				g.orphan, owned[i] = false, true
			} else {
				g.attached++
			}
			continue
		}
		g := &flight{key: k, done: make(chan struct{})}
		f.m[k] = g
		fl[i], owned[i] = g, true
	}
	return fl, owned
}

// finish publishes results for owned flights and removes them.
func (f *flights) finish(fl []*flight, values [][]byte, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, g := range fl {
		if err != nil {
			g.err = err
		} else {
			g.value = values[i]
		}
		g.finished = true
		delete(f.m, g.key)
		close(g.done)
	}
}

// abandon hands owned flights over: each with Loads attached becomes an
// orphan that the first of them to run adopts; the others are dropped.
func (f *flights) abandon(fl []*flight) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range fl {
		f.orphan(g)
	}
}

// orphan wakes g's waiters so that one adopts it, or drops g if none is
// attached. f.mu is held.
func (f *flights) orphan(g *flight) {
	if g.attached == 0 {
		delete(f.m, g.key)
		return
	}
	g.orphan = true
	close(g.done)
	g.done = make(chan struct{})
}

// wait waits for g, which this call joined, until it finishes (returning its
// result), it is orphaned and this call adopts it (adopted: the caller now
// owns it and must fill it), or ctx ends.
func (f *flights) wait(ctx context.Context, g *flight) (value []byte, adopted bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.detach(g)
	f.waiters++
	defer func() { f.waiters-- }()
	for {
		switch {
		case g.finished:
			return g.value, false, g.err
		case g.orphan:
			g.orphan = false
			return nil, true, nil
		}
		done := g.done
		f.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		f.mu.Lock()
		if ctx.Err() != nil && !g.finished {
			return nil, false, ctx.Err()
		}
	}
}

// leave detaches from flights this call joined and will not wait on.
func (f *flights) leave(fl []*flight) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range fl {
		f.detach(g)
	}
}

// detach removes one attached Load from g; an orphan nobody is left to
// adopt is dropped. f.mu is held.
func (f *flights) detach(g *flight) {
	g.attached--
	if g.orphan && g.attached == 0 {
		delete(f.m, g.key)
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
