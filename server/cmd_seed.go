package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// seedCommand loads a data set of a chosen size (for benchmarks).
func seedCommand(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	o := db.DemoSeed()
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.IntVar(&o.Destinations, "destinations", o.Destinations, "destinations to create")
	fs.IntVar(&o.Properties, "properties", o.Properties, "property listings to create")
	fs.IntVar(&o.Posts, "posts", o.Posts, "posts to create over the last 90 days")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed (same seed, same data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := db.OpenWith(ctx, cfg.Database.URL, db.PoolOptions{MaxOpenConns: cfg.Database.MaxConns})
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if done, err := store.Seeded(ctx); err != nil || done {
		if done {
			fmt.Fprintln(stdout, "the database already holds a seeded data set; use an empty database")
		}
		return err
	}
	return seed(ctx, store, o, log)
}

// seedIfAsked loads the demo data set once when SEED=demo.
func (a *app) seedIfAsked(ctx context.Context) error {
	if a.cfg.Database.Seed != "demo" {
		return nil
	}
	done, err := a.store.Seeded(ctx)
	if err != nil || done {
		return err
	}
	return seed(ctx, a.store, db.DemoSeed(), a.log)
}

func seed(ctx context.Context, store *db.Store, o db.SeedOptions, log *slog.Logger) error {
	start := time.Now()
	log.Info("loading data set", "destinations", o.Destinations, "properties", o.Properties, "posts", o.Posts)
	last := time.Time{}
	o.Progress = func(stage string, done, total int) {
		if done == total || time.Since(last) > time.Second {
			last = time.Now()
			log.Info("seeding", "stage", stage, "done", done, "total", total)
		}
	}
	if err := store.Seed(ctx, o); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	log.Info("data set loaded", "took", time.Since(start).Round(time.Millisecond))
	return nil
}
