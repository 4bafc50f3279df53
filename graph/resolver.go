package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
)

// Scraper runs one scrape now, or returns the run already in progress.
type Scraper interface {
	Run(ctx context.Context) (*db.ScrapeRun, error)
}

// Deliverer makes a committed write visible to every process: it returns
// nil once the change's invalidation is delivered (outbox.Relay is one).
type Deliverer interface {
	Deliver(ctx context.Context, ch db.Change) error
}

// Resolver is the one place dependencies are injected.
type Resolver struct {
	Store   *db.Store
	Cache   *cache.Cache
	Outbox  Deliverer
	Policy  *cachecontrol.Policy // nil: NewHandler reads it from the schema
	Scraper Scraper              // nil: runScraper answers that scraping is not configured
	Log     *slog.Logger
	Now     func() time.Time
	// LoaderWait is how long a dataloader collects keys before it runs a
	// batch; keys the cache holds in process never wait (loader).
	LoaderWait time.Duration
	// Batches, if set, counts the batches the dataloaders run, each after
	// LoaderWait.
	Batches *atomic.Int64
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
