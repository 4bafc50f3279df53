package scrape

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestStartOff(t *testing.T) {
	sc := New(nil, nil, Config{}, nil)
	for _, schedule := range []string{"", "off", " OFF "} {
		stop, err := sc.Start(schedule)
		if err != nil {
			t.Fatalf("Start(%q): %v", schedule, err)
		}
		if err := stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

func TestStartInvalidSchedule(t *testing.T) {
	sc := New(nil, nil, Config{}, nil)
	for _, schedule := range []string{"every hour", "61 * * * *", "* * * *", "@fortnightly"} {
		stop, err := sc.Start(schedule)
		if err == nil {
			stop(context.Background())
			t.Errorf("Start(%q) succeeded", schedule)
			continue
		}
		if !strings.Contains(err.Error(), "SCRAPE_SCHEDULE") || !strings.Contains(err.Error(), schedule) {
			t.Errorf("Start(%q): %v; want SCRAPE_SCHEDULE and the spec named", schedule, err)
		}
	}
}

func TestStartRunsAndStops(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		mustDestinations(t, s)
		base := serve(t, map[string]http.HandlerFunc{"/rss.xml": fixture(t, "rss.xml")})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/rss.xml"}})
		stop, err := sc.Start("@every 1s")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			runs, err := s.FindScrapeRuns(context.Background(), 1)
			return err == nil && len(runs) == 1 && runs[0].Status == db.RunSucceeded
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
	})
}

// stop cancels a run in progress and waits for it to be recorded.
func TestStopCancelsRunningTick(t *testing.T) {
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		arrived := make(chan struct{}, 1)
		base := serve(t, map[string]http.HandlerFunc{
			"/slow": func(w http.ResponseWriter, r *http.Request) {
				select {
				case arrived <- struct{}{}:
				default:
				}
				<-r.Context().Done()
			},
		})
		sc := newTestScraper(t, s, &recorder{}, nil, Config{Feeds: []string{base + "/slow"}, FetchTimeout: time.Minute})
		stop, err := sc.Start("@every 1s")
		if err != nil {
			t.Fatal(err)
		}
		<-arrived
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		runs, err := s.FindScrapeRuns(context.Background(), 10)
		if err != nil || len(runs) != 1 || runs[0].Status != db.RunFailed || !strings.Contains(deref(runs[0].Error), "run ended") {
			t.Errorf("runs = %+v, %v; want one FAILED run ended by stop", runs, err)
		}
	})
}
