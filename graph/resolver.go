package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/cache"
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
	// batch.
	LoaderWait time.Duration
}

// ErrNotYetVisible is added to a mutation's response (beside its data)
// when its change is saved but its invalidation could not be confirmed
// before the request's deadline: other processes may still answer from
// their caches until a relay delivers it.
var ErrNotYetVisible = errors.New("the change is saved, but other servers may not show it yet")

// committed follows every write of a mutation: it delivers the change's
// invalidation (a failure is reported beside the data, not instead of it:
// the write is committed) and forgets what the request's loaders loaded
// before the write, so the fields resolved after it read the new state.
func (r *Resolver) committed(ctx context.Context, ch db.Change) {
	forgetLoaded(ctx)
	if err := r.Outbox.Deliver(ctx, ch); err != nil {
		graphql.AddError(ctx, fmt.Errorf("%w: %w", ErrNotYetVisible, err))
	}
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
