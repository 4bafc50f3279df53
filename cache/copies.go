package cache

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Field copies (Options.LocalBytes). On any store, Load keeps the
// entries it validated or filled in process, each stamped with the log's
// stamp read before the versions that validated it (Got.Stamp, read first
// in Get's own round trip: the response level's rule, log.go, since a
// bump recorded at or before the stamp had set its versions before they
// were read). A Load whose every key has a copy asks the shared read of
// the log's head (headReads, sent after it asked; under WithHead, the one
// read of its request) and serves each copy no record since its stamp
// names a tag of (response.validAfter, the rule response copies use), or
// whose stamp is at or after the head in the same log (valid at a later
// point); it reads the others from the store as before. A Load with a key
// lacking a copy reads them all from the store, as before: the head would
// cost a round trip more. So a warm batch costs the shared head read
// alone, and a cold one what it cost before. Peek answers from the copies
// by the same rule (fromCopies), so a dataloader need not wait for a
// batch whose keys all have valid copies. A copy never outlives the
// entry it copies (the TTL the store reports, or the TTL it was written
// with), and a new or lost log (another id, or a stamp ahead of the head
// after a restart, which the epoch check gives a new id) validates none.

// fromCopies answers the groups whose copies are valid at the log's head
// into out (and rec), and returns the others, how many lookups hit, and
// the head's stamp, which values read from the store after it are valid
// at. It fails when the head cannot be read: the store is then not asked
// again, the source answers.
func (c *Cache) fromCopies(ctx context.Context, groups []group, held []*response, rec *Recorder, out [][]byte) (rest []group, hits int, stamp Stamp, err error) {
	head, err := c.head(ctx)
	if err != nil {
		return nil, 0, Stamp{}, err
	}
	for g := range groups {
		gr, r := &groups[g], held[g]
		if !slices.Equal(r.tags, gr.tags) {
			rest = append(rest, *gr)
			continue
		}
		// A copy stamped at or after the head (by a later read of the
		// log: another request's) is valid at a later point: served.
		if later := r.stamp.Log == head.Now.Log && r.stamp.N >= head.Now.N; !later {
			tags, complete := head.Since(r.stamp)
			if !r.validAfter(Changes{Now: head.Now, Complete: complete, Tags: tags}) {
				c.fields.drop(gr.key, r)
				rest = append(rest, *gr)
				continue
			}
			c.fields.restamp(gr.key, r, head.Now)
		}
		payload := r.payload
		if len(payload) == 0 {
			payload = nil // a cached "no value"
		}
		for _, i := range gr.idx {
			out[i] = payload
		}
		hits += len(gr.idx)
		if rec != nil {
			rec.record(r.hdr)
		}
	}
	return rest, hits, head.Now, nil
}

// WithHead returns a context under which the Loads and Peeks that
// validate copies in process share one read of the log's head: the first
// asks the shared read (sent after it asked), the others reuse its answer,
// or its failure (the source then answers them without waiting on the
// store again: a store that times out costs a request one timeout, not
// one per batch or per peek). For a request that writes nothing (a
// query): each of its reads sees every Invalidate that returned before
// the request's first read, though not those that returned between its
// reads; it then costs one head read, not one per batch.
func WithHead(ctx context.Context) context.Context {
	return context.WithValue(ctx, headKey{}, &requestHead{})
}

type headKey struct{}

// requestHead is the head read for the Loads and Peeks under one WithHead.
type requestHead struct {
	mu   sync.Mutex
	read bool // ch and err are the read's
	ch   Changes
	err  error
}

// head returns the log's head and last records, read after the caller
// asked, or after the first Load or Peek under ctx's WithHead asked.
func (c *Cache) head(ctx context.Context) (Changes, error) {
	rh, _ := ctx.Value(headKey{}).(*requestHead)
	if rh == nil {
		return c.heads.read(ctx, c)
	}
	rh.mu.Lock()
	defer rh.mu.Unlock()
	if !rh.read {
		rh.ch, rh.err = c.heads.read(ctx, c)
		rh.read = true
	}
	return rh.ch, rh.err
}

// keepRead keeps copies of the groups the store just answered validly
// (those not in misses), valid at stamp, for the rest of their TTL.
func (c *Cache) keepRead(groups []group, misses []int, got Got, stamp Stamp) {
	if c.fields == nil || stamp.IsZero() {
		return
	}
	now, versions := time.Now(), got.Versions
	for g := range groups {
		if _, missed := slices.BinarySearch(misses, g); missed || g >= len(got.TTLs) || got.TTLs[g] <= 0 {
			continue
		}
		payload, _ := validEntry(got.Values[g], groups[g].tags, versions)
		hdr := make([]tagVersion, len(groups[g].tags))
		for j, t := range groups[g].tags {
			hdr[j] = tagVersion{Tag: t, Version: versions[t]}
		}
		c.fields.put(groups[g].key, &response{stamp: stamp, expires: now.Add(got.TTLs[g]), hdr: hdr, tags: groups[g].tags, payload: payload})
	}
}

// keepFilled keeps copies of the values a Load filled and stored, valid
// at the stamp its versions were read after, until expires (taken before
// the write, so no later than the entries').
func (c *Cache) keepFilled(cl *claimed, mine []int, vals [][]byte, expires time.Time) {
	if c.fields == nil || cl.stamp.IsZero() {
		return
	}
	for j, m := range mine {
		g := &cl.groups[cl.misses[m]]
		c.fields.put(g.key, &response{stamp: cl.stamp, expires: expires, hdr: cl.captured[m], tags: g.tags, payload: vals[j]})
	}
}

// held returns the copies of the groups, in order, or nil unless every
// group has one: only then does a Load read the log's head first, since a
// key without one is read from the store anyway, in a round trip that
// reads the log's stamp too. One lock and one clock reading serve the
// whole batch; expired copies count as absent (and are dropped). The
// slice is sc's.
func (l *localCopies) held(groups []group, sc *scratch) []*response {
	if l == nil {
		return nil
	}
	out := slices.Grow(sc.held[:0], len(groups))[:len(groups)]
	sc.held = out
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for g := range groups {
		r := l.entries[groups[g].key]
		if r == nil {
			return nil
		}
		if !now.Before(r.expires) {
			l.remove(groups[g].key)
			return nil
		}
		out[g] = r
	}
	return out
}
