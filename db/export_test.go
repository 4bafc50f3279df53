package db

import (
	"context"
	"time"

	"github.com/kedahpulse/kedahpulse/sentiment"
)

// SetScorer replaces the sentiment scorer of s, for tests that need scores
// they can predict.
func SetScorer(s *Store, score func(text string) (float64, sentiment.Label)) { s.score = score }

// MigrationCount is the number of migrations Migrate applies.
func MigrationCount() int { return len(migrations.Sorted()) }

// EscapeLike escapes s for a LIKE pattern whose escape character is '!'.
func EscapeLike(s string) string { return escapeLike(s) }

// BackfillDailyRollups runs the migration that fills the daily rollups from
// the hourly ones.
func BackfillDailyRollups(ctx context.Context, s *Store) error {
	return s.DB.RunInTx(ctx, nil, migrateDailyRollups)
}

// BackfillSpanRollups runs the migration that fills the span rollups from
// the hourly ones.
func BackfillSpanRollups(ctx context.Context, s *Store) error {
	return s.DB.RunInTx(ctx, nil, migrateSpanRollups)
}

// SpanKeys lists the keys of the span rollups an hourly rollup adds to.
func SpanKeys(bucket int64) []int64 {
	var out []int64
	for level := 1; level <= maxSpanLevel; level++ {
		out = append(out, spanKey(bucket-bucket%spanLength(level), level))
	}
	return out
}

// LongestSpan is the length of the longest span rollups.
const LongestSpan = time.Duration(secondsPerHour<<maxSpanLevel) * time.Second

// CandidatesPerRow is candidatesPerRow.
const CandidatesPerRow = candidatesPerRow

// BackfillSeriesRollups runs the migration that fills the series rollups
// from the hourly and daily ones.
func BackfillSeriesRollups(ctx context.Context, s *Store) error {
	return s.DB.RunInTx(ctx, nil, migrateSeriesRollups)
}

// SeriesPoints unpacks every series rollup into its points with posts,
// keyed by destination, unit (seconds per point) and the point's start,
// each as posts and score sum.
func SeriesPoints(ctx context.Context, s *Store) (map[[3]int64][2]float64, error) {
	var rows []*seriesRollup
	if err := s.DB.NewSelect().Model(&rows).Order("destination_id", "unit", "day").Scan(ctx); err != nil {
		return nil, err
	}
	out := map[[3]int64][2]float64{}
	for _, r := range rows {
		var p seriesPoints
		if err := p.decode(r.Points); err != nil {
			return nil, err
		}
		for i, pt := range p {
			if pt.Posts != 0 {
				out[[3]int64{r.DestinationID, r.Unit, r.Day + int64(i)*r.Unit}] = [2]float64{float64(pt.Posts), pt.ScoreSum}
			}
		}
	}
	return out, nil
}

// TrendRows is the number of rows TrendsByDestinations reads for ids and
// r at the instant of ctx.
func TrendRows(ctx context.Context, s *Store, ids []int64, r TimeRange) (int, error) {
	now := s.windowNow(ctx)
	start, end := r.Window(now)
	prevStart, _ := r.PreviousWindow(now)
	query, args := newTrendSeries(prevStart, start, end).sql(ids, s.isPG())
	var n int
	err := s.DB.NewRaw("SELECT COUNT(*) FROM ("+query+") AS r", args...).Scan(ctx, &n)
	return n, err
}
