package db

import (
	"context"

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
