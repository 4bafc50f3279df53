package db

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/uptrace/bun"
)

// Series rollups: each destination's daily posts and score sums packed
// into one row per aligned run of seriesDays UTC days, and its hourly ones
// into one row per UTC day, so that a trend reads a few rows per
// destination instead of one per day or hour (the rows, not their bytes,
// are what a read pays for). A series row holds exactly the values of the
// daily or hourly rollups it packs: it is updated in the transaction that
// updates them, by the same additions in the same order, and backfilled
// from them.

// seriesDays is the number of days of a series row of days.
const seriesDays = 32

// The units of series rows: the seconds of one of their points.
const (
	unitHour = secondsPerHour
	unitDay  = secondsPerDay
)

const secondsPerSeries = seriesDays * secondsPerDay

// seriesRollup is one destination's points of Unit seconds (posts and
// score sums) from Day on: seriesDays days, or the 24 hours of a day.
type seriesRollup struct {
	bun.BaseModel `bun:"table:post_rollup_series"`

	DestinationID int64  `bun:",pk"`
	Unit          int64  `bun:",pk"`      // unitDay or unitHour
	Day           int64  `bun:",pk"`      // unix seconds of its first UTC day; for unitDay a multiple of secondsPerSeries
	Points        []byte `bun:",notnull"` // see seriesPoints.encode
}

// seriesOf is the start of the series row of days holding day (unix
// seconds).
func seriesOf(day int64) int64 { return floorTo(day, secondsPerSeries) }

// floorTo rounds x down to a multiple of n, before 1970 too.
func floorTo(x, n int64) int64 {
	r := x % n
	if r < 0 {
		r += n
	}
	return x - r
}

// seriesPoint is one point of a series row.
type seriesPoint struct {
	Posts    int64
	ScoreSum float64
}

// seriesPoints are the points of one series row, oldest first (24 used
// in a row of hours).
type seriesPoints [seriesDays]seriesPoint

// encode packs p: for each point, its posts as a uvarint and, when there
// are posts, the IEEE 754 bits of its score sum (8 bytes, little endian);
// the points after the last with posts are left out. A point without posts
// has a score sum of 0, the sum of no scores.
func (p *seriesPoints) encode() []byte {
	n := len(p)
	for n > 0 && p[n-1].Posts == 0 {
		n--
	}
	out := make([]byte, 0, n*(binary.MaxVarintLen64+8))
	for _, pt := range p[:n] {
		out = binary.AppendUvarint(out, uint64(pt.Posts))
		if pt.Posts != 0 {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(pt.ScoreSum))
		}
	}
	return out
}

// decode unpacks b, written by encode, into p.
func (p *seriesPoints) decode(b []byte) error {
	*p = seriesPoints{}
	for i := 0; len(b) > 0; i++ {
		posts, n := binary.Uvarint(b)
		if n <= 0 || i >= len(p) {
			return fmt.Errorf("db: corrupt series row at point %d", i)
		}
		b = b[n:]
		if posts == 0 {
			continue
		}
		if len(b) < 8 {
			return fmt.Errorf("db: corrupt series row at point %d", i)
		}
		p[i] = seriesPoint{Posts: int64(posts), ScoreSum: math.Float64frombits(binary.LittleEndian.Uint64(b))}
		b = b[8:]
	}
	return nil
}

// addSeries adds hourly and daily rollups (at most one per key each) to
// the series rows holding them, in two statements per chunk: an upsert
// that inserts the missing rows and returns every row locked (on
// PostgreSQL a concurrent write of the same rows waits until this
// transaction ends, and then reads what it committed), then an upsert of
// the sums. Rows are locked in key order, after the hourly, daily and span
// rollups, so that writes cannot deadlock.
func addSeries(ctx context.Context, idb bun.IDB, hourly []*postRollup, daily []*dailyRollup) error {
	type key struct{ dest, unit, day int64 }
	deltas := map[key]*seriesPoints{}
	var rows []*seriesRollup
	add := func(dest, unit, day, at int64, sums rollupSums) {
		k := key{dest, unit, day}
		p := deltas[k]
		if p == nil {
			p = &seriesPoints{}
			deltas[k] = p
			rows = append(rows, &seriesRollup{DestinationID: dest, Unit: unit, Day: day, Points: []byte{}})
		}
		p[(at-day)/unit] = seriesPoint{Posts: sums.Posts, ScoreSum: sums.ScoreSum}
	}
	for _, r := range hourly {
		add(r.DestinationID, unitHour, floorTo(r.Bucket, secondsPerDay), r.Bucket, r.rollupSums)
	}
	for _, d := range daily {
		add(d.DestinationID, unitDay, seriesOf(d.Day), d.Day, d.rollupSums)
	}
	slices.SortFunc(rows, func(a, b *seriesRollup) int {
		return cmp.Or(cmp.Compare(a.DestinationID, b.DestinationID), cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Day, b.Day))
	})
	for start := 0; start < len(rows); start += rollupChunk {
		chunk := rows[start:min(start+rollupChunk, len(rows))]
		var stored []*seriesRollup
		if _, err := idb.NewInsert().Model(&chunk).
			On("CONFLICT (destination_id, unit, day) DO UPDATE").
			Set("points = ?TableAlias.points").
			Returning("destination_id, unit, day, points").
			Exec(ctx, &stored); err != nil {
			return fmt.Errorf("lock series rollups: %w", err)
		}
		current := make(map[key][]byte, len(stored))
		for _, r := range stored {
			current[key{r.DestinationID, r.Unit, r.Day}] = r.Points
		}
		for _, r := range chunk {
			k := key{r.DestinationID, r.Unit, r.Day}
			var p seriesPoints
			if err := p.decode(current[k]); err != nil {
				return err
			}
			for i, d := range deltas[k] {
				if d.Posts != 0 { // the rollup's own addition: score_sum + EXCLUDED.score_sum
					p[i].Posts += d.Posts
					p[i].ScoreSum += d.ScoreSum
				}
			}
			r.Points = p.encode()
		}
		if _, err := idb.NewInsert().Model(&chunk).
			On("CONFLICT (destination_id, unit, day) DO UPDATE").
			Set("points = EXCLUDED.points").
			Exec(ctx); err != nil {
			return fmt.Errorf("upsert series rollups: %w", err)
		}
	}
	return nil
}
