package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// scrapeCommand runs the scraper once. With Redis it invalidates directly;
// with the in-process cache the running server's outbox relay delivers the
// invalidations this run records.
func scrapeCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	_, asJSON := jsonFlag(args)
	a, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	scraper := a.scraper
	if a.redis == nil {
		scraper = scrape.New(a.store, outboxOnly{}, cfg.Scrape.Config, log)
	}
	run, err := scraper.Run(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, scrapeRunJSON{ID: run.ID, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Status: run.Status,
			PostsFetched: run.PostsFetched, PostsStored: run.PostsStored, InvalidatedTags: run.InvalidatedTags, Error: run.Error})
	}
	fmt.Fprintf(stdout, "scrape run %d: %s\nposts fetched     %d\nposts stored      %d\ntags invalidated  %d %s\n",
		run.ID, run.Status, run.PostsFetched, run.PostsStored, len(run.InvalidatedTags), strings.Join(run.InvalidatedTags, " "))
	if run.Error != nil {
		fmt.Fprintf(stdout, "error             %s\n", *run.Error)
	}
	if len(cfg.Scrape.Feeds) == 0 {
		fmt.Fprintf(stdout, "no feeds configured: set SCRAPE_FEEDS to comma-separated feed URLs\n")
	}
	return nil
}

// scrapeRunJSON is a scrape run as the API's ScrapeRun type spells it.
type scrapeRunJSON struct {
	ID              int64      `json:"id,string"`
	StartedAt       time.Time  `json:"startedAt"`
	FinishedAt      *time.Time `json:"finishedAt"`
	Status          string     `json:"status"`
	PostsFetched    int        `json:"postsFetched"`
	PostsStored     int        `json:"postsStored"`
	InvalidatedTags []string   `json:"invalidatedTags"`
	Error           *string    `json:"error"`
}

// outboxOnly leaves a change's invalidation in the outbox for the server
// that owns the in-process cache.
type outboxOnly struct{}

func (outboxOnly) Deliver(context.Context, db.Change) error { return nil }
