package db_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestScrapeRuns(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		first, err := s.StartScrapeRun(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first.Status != db.RunRunning || !first.StartedAt.Equal(dbtest.Epoch) || first.ID == 0 {
			t.Fatalf("started %+v", first)
		}
		clock.Add(time.Minute)
		first.PostsFetched, first.PostsStored = 40, 12
		first.InvalidatedTags = []string{db.TagAnalytics, db.DestinationAnalyticsTag(3)}
		if err := s.FinishScrapeRun(ctx, first); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		second, err := s.StartScrapeRun(ctx)
		if err != nil {
			t.Fatal(err)
		}
		second.Status = db.RunFailed
		second.Error = ptr("feed timed out")
		if err := s.FinishScrapeRun(ctx, second); err != nil {
			t.Fatal(err)
		}
		third, err := s.StartScrapeRun(ctx)
		if err != nil {
			t.Fatal(err)
		}

		runs, err := s.FindScrapeRuns(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 3 || runs[0].ID != third.ID || runs[1].ID != second.ID || runs[2].ID != first.ID {
			t.Fatalf("runs not newest first: %+v", runs)
		}
		got := runs[2]
		if got.Status != db.RunSucceeded || got.PostsFetched != 40 || got.PostsStored != 12 ||
			!slices.Equal(got.InvalidatedTags, first.InvalidatedTags) || got.FinishedAt == nil ||
			!got.FinishedAt.Equal(dbtest.Epoch.Add(time.Minute)) || got.Error != nil {
			t.Fatalf("finished run %+v", got)
		}
		if runs[1].Status != db.RunFailed || *runs[1].Error != "feed timed out" {
			t.Fatalf("failed run %+v", runs[1])
		}
		if runs[0].Status != db.RunRunning || runs[0].FinishedAt != nil {
			t.Fatalf("running run %+v", runs[0])
		}
		if last, err := s.FindScrapeRuns(ctx, 1); err != nil || len(last) != 1 || last[0].ID != third.ID {
			t.Fatalf("last 1: %v, %v", last, err)
		}
		if err := s.FinishScrapeRun(ctx, &db.ScrapeRun{ID: 999, Status: db.RunSucceeded}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("finish unknown run: %v", err)
		}
	})
}
