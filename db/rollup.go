package db

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Span rollups: beside the hourly and daily rollups, the sums of each
// destination's aligned runs of 2^k hours (k = 1..maxSpanLevel), so that
// any hour-aligned window is the sum of at most about 2·maxSpanLevel rows
// per destination (see coverOf) instead of one row per day or hour. Sums
// are only ever added, never subtracted, so an answer read from spans is
// the same sum as one read from hours, in another order.

// maxSpanLevel is the longest span, 2^11 hours (about 85 days): a 90-day
// window and the one before it are covered by at most 2·11+2 runs.
const maxSpanLevel = 11

const secondsPerHour = int64(BucketSize / time.Second)

// spanRollup is the sums of one destination's posts over 2^Level hours.
type spanRollup struct {
	bun.BaseModel `bun:"table:post_rollup_spans"`

	DestinationID int64 `bun:",pk"`
	Span          int64 `bun:",pk"` // spanKey: the run's start (unix seconds) plus its level
	rollupSums
}

// spanKey identifies the run of 2^level hours starting at start, a
// multiple of its length: the start plus the level, which is below an
// hour's seconds, so keys order by start and never collide.
func spanKey(start int64, level int) int64 { return start + int64(level) }

// spanLength is the length in seconds of a run of 2^level hours.
func spanLength(level int) int64 { return secondsPerHour << level }

// spanRollupsOf sums hourly rollups into every span containing them, in
// key order.
func spanRollupsOf(rollups []*postRollup) []*spanRollup {
	type key struct{ dest, span int64 }
	byKey := make(map[key]*spanRollup)
	var out []*spanRollup
	for _, r := range rollups {
		for level := 1; level <= maxSpanLevel; level++ {
			n := spanLength(level)
			k := key{r.DestinationID, spanKey(r.Bucket-r.Bucket%n, level)}
			sp := byKey[k]
			if sp == nil {
				sp = &spanRollup{DestinationID: k.dest, Span: k.span}
				byKey[k] = sp
				out = append(out, sp)
			}
			sp.add(r.rollupSums)
		}
	}
	slices.SortFunc(out, func(a, b *spanRollup) int {
		return cmp.Or(cmp.Compare(a.DestinationID, b.DestinationID), cmp.Compare(a.Span, b.Span))
	})
	return out
}

// upsertSpanRollups adds span rollups (at most one per key) to the stored
// ones.
func upsertSpanRollups(ctx context.Context, idb bun.IDB, rollups []*spanRollup) error {
	return upsertSums(ctx, idb, rollups, "destination_id, span", "span rollups")
}

// coverOf is the rollup rows whose sums are the window [start, end)
// (hour-aligned, unix seconds): the longest aligned runs, left to right,
// so that at most maxSpanLevel runs grow towards the longest, the longest
// repeat, and at most maxSpanLevel shrink towards the end. Single hours
// are read from the hourly rollups.
func coverOf(start, end int64) []rowSet {
	var hours, spans []int64
	for s := start; s < end; {
		level := 0
		for level < maxSpanLevel && s%spanLength(level+1) == 0 && s+spanLength(level+1) <= end {
			level++
		}
		if level == 0 {
			hours = append(hours, s)
		} else {
			spans = append(spans, spanKey(s, level))
		}
		s += spanLength(level)
	}
	var out []rowSet
	if len(hours) > 0 {
		out = append(out, rowSet{table: "post_rollups", key: "bucket", keys: hours})
	}
	if len(spans) > 0 {
		out = append(out, rowSet{table: "post_rollup_spans", key: "span", keys: spans})
	}
	return out
}
