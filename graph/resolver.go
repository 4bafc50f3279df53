package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"log/slog"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/cache"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
)

// Scraper runs one scrape now, or returns the run already in progress.
type Scraper interface {
	Run(ctx context.Context) (*db.ScrapeRun, error)
}

// Resolver is the one place dependencies are injected.
type Resolver struct {
	Store   *db.Store
	Cache   *cache.Cache
	Policy  *cachecontrol.Policy // nil: NewHandler reads it from the schema
	Scraper Scraper              // nil: runScraper answers that scraping is not configured
	Log     *slog.Logger
	Now     func() time.Time
	// LoaderWait is how long a dataloader collects keys before it runs a
	// batch.
	LoaderWait time.Duration
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Deliver delivers a committed write's invalidation and acknowledges its
// outbox row. When the cache cannot be reached the row stays in the outbox
// and the relay (DeliverPending) delivers it later; the write itself has
// succeeded, so the mutation does not fail.
func (r *Resolver) Deliver(ctx context.Context, ch db.Change) {
	if len(ch.Tags) == 0 {
		return
	}
	if err := r.Cache.Invalidate(ctx, ch.Tags...); err != nil {
		r.Log.WarnContext(ctx, "invalidation deferred to the outbox relay", "tags", ch.Tags, "outbox_id", ch.OutboxID, "err", err)
		return
	}
	if err := r.Store.AckInvalidation(context.WithoutCancel(ctx), ch.OutboxID); err != nil {
		r.Log.WarnContext(ctx, "outbox ack failed; the relay will deliver again (idempotent)", "outbox_id", ch.OutboxID, "err", err)
	}
}

// DeliverPending delivers the invalidations left in the outbox by writes
// whose own delivery failed (cache unreachable, or the process died between
// commit and invalidation). Invalidation is idempotent, so delivering twice
// is harmless. Once the outbox is empty, the cache is told that every
// invalidation that had failed before the drain began has been delivered,
// so it serves reads again. It returns how many outbox rows it delivered.
func (r *Resolver) DeliverPending(ctx context.Context) (int, error) {
	mark := r.Cache.PendingMark()
	delivered := 0
	for {
		rows, err := r.Store.PendingInvalidations(ctx, 100)
		if err != nil {
			return delivered, err
		}
		if len(rows) == 0 {
			r.Cache.Delivered(mark)
			return delivered, nil
		}
		for _, row := range rows {
			if err := r.Cache.Invalidate(ctx, row.Tags...); err != nil {
				return delivered, err
			}
			if err := r.Store.AckInvalidation(ctx, row.ID); err != nil {
				return delivered, err
			}
			delivered++
		}
	}
}
