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
