package cache

import "context"

// Peek answers the lookups a Load would answer without reading an entry
// from a remote store, so a caller that batches its misses (a dataloader)
// need not wait for a batch when every key hits: hit[i] reports that
// lookup i has a valid value, vals[i] (nil for a cached "no value"). When
// every lookup has a field copy in process (Options.LocalBytes), it
// validates them at the log's head as Load does (fromCopies): the shared
// head read (headReads, or the request's under WithHead), sent after Peek
// asked, so a hit is never older than the last Invalidate that returned.
// On the in-process store (Options.InProcess) it then reads the others as
// Load does, in one Store.Get that reads the entries and their tags'
// versions together, with no I/O. Hits are counted and recorded
// (Recorder) as Load's are; misses are neither: the caller Loads them,
// which counts them. On a remote store a lookup without a copy makes none
// hit, since the Load that follows reads every key in one round trip
// anyway; so does the bypass being on, invalid tags, or a failed read
// (Peek never fails: the Load that follows reports the fault and the
// source answers).
func (c *Cache) Peek(ctx context.Context, coord string, lookups []Lookup) (vals [][]byte, hit []bool) {
	vals, hit = make([][]byte, len(lookups)), make([]bool, len(lookups))
	if len(lookups) == 0 || (!c.opt.InProcess && c.fields == nil) || c.bypassed() {
		return vals, hit
	}
	sc := newScratch()
	defer sc.release() // fromCopies and take keep nothing of the groups
	groups, err := groupLookups(lookups, sc)
	if err != nil {
		return vals, hit
	}
	rec := recorderFrom(ctx)
	rest, hits := groups, 0 // rest: the groups not answered yet
	if held := c.fields.held(groups, sc); held != nil {
		if rest, hits, _, err = c.fromCopies(ctx, groups, held, rec, vals); err != nil {
			return vals, hit
		}
	}
	if c.opt.InProcess && len(rest) > 0 {
		if got, err := c.store.Get(ctx, groupKeys(rest), groupTags(rest)); err == nil {
			misses, n := take(rest, got.Values, got.Versions, rec, vals)
			missed := make([]group, len(misses))
			for j, g := range misses {
				missed[j] = rest[g]
			}
			rest, hits = missed, hits+n
		}
	}
	for i := range hit {
		hit[i] = true
	}
	for _, g := range rest {
		for _, i := range g.idx {
			hit[i] = false
		}
	}
	c.count(coord, hits, 0)
	return vals, hit
}
