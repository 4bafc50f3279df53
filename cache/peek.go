package cache

import "context"

// Peek answers lookups from a store in process (Options.InProcess), with
// no I/O and no wait: hit[i] reports that lookup i has a valid entry, whose
// payload is vals[i] (nil for a cached "no value"). It validates as Load
// does, in one Store.Get that reads the entries and their tags' versions
// together, so a hit is never older than the last Invalidate that
// returned. Hits are counted and recorded (Recorder) as Load's are;
// misses are neither: the caller Loads them, which counts them. On any
// other store, while the bypass is on, for invalid tags, or when the store
// fails, nothing hits, and the Load that follows reports the fault.
func (c *Cache) Peek(ctx context.Context, coord string, lookups []Lookup) (vals [][]byte, hit []bool) {
	vals, hit = make([][]byte, len(lookups)), make([]bool, len(lookups))
	if !c.opt.InProcess || len(lookups) == 0 || c.bypassed() {
		return vals, hit
	}
	sc := newScratch()
	defer sc.release() // take keeps nothing of the groups
	groups, err := groupLookups(lookups, sc)
	if err != nil {
		return vals, hit
	}
	got, err := c.store.Get(ctx, groupKeys(groups), groupTags(groups))
	if err != nil {
		return vals, hit
	}
	misses, hits := take(groups, got.Values, got.Versions, recorderFrom(ctx), vals)
	for i := range hit {
		hit[i] = true
	}
	for _, g := range misses {
		for _, i := range groups[g].idx {
			hit[i] = false
		}
	}
	c.count(coord, hits, 0)
	return vals, hit
}
