package graph

import (
	"context"
	"sync"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// No request holds more than its share of the database: each request's
// reads hold at most Options.RequestDBConns connections at once, and the
// priced reads of every request together (analytics, posts, lists and text
// search: the coordinates with a surcharge) at most the pool's size less
// Options.ReservedDBConns, so that many expensive requests never leave a
// cheap read (an entity by id, a slug) without a connection. A read waits
// for its slots before it asks the pool for a connection; the slots are
// held while the fill runs its statements, one at a time.

// share is what one request may hold, and how its deadline is reported.
type share struct {
	roots  chan struct{} // root fields resolving at once
	reads  chan struct{} // this request's database reads at once
	priced chan struct{} // every request's priced reads at once; nil: unbounded
	cut    sync.Once     // the deadline is logged once per request
}

type shareKey struct{}

// shareOf returns the request's share, nil outside the HTTP handler.
func shareOf(ctx context.Context) *share {
	s, _ := ctx.Value(shareKey{}).(*share)
	return s
}

// expensive reports whether coord's reads are priced beyond a lookup: they
// take a priced slot.
func expensive(coord string) bool { return prices[db.DialectPostgres].surcharge(coord, nil) > 0 }

// acquire waits for the slots a read of coord needs and returns their
// release; outside the HTTP handler it waits for nothing.
func (s *share) acquire(ctx context.Context, coord string) (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	select {
	case s.reads <- struct{}{}:
	case <-ctx.Done():
		return nil, gqlhttp.Unavailable(ctx.Err())
	}
	if s.priced == nil || !expensive(coord) {
		return func() { <-s.reads }, nil
	}
	select {
	case s.priced <- struct{}{}:
	case <-ctx.Done():
		<-s.reads
		return nil, gqlhttp.Unavailable(ctx.Err())
	}
	return func() { <-s.priced; <-s.reads }, nil
}

// withShare runs fetch within the request's share of connections.
func withShare[K comparable, V any](coord string, fetch func(context.Context, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		release, err := shareOf(ctx).acquire(ctx, coord)
		if err != nil {
			return nil, err
		}
		defer release()
		return fetch(ctx, keys)
	}
}
