package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kedahpulse/kedahpulse/db"
)

// committed follows every write of a mutation: it delivers the change's
// invalidation (a failure, outbox.ErrUndelivered, is reported beside the
// data, not instead of it: the write is committed) and forgets what the request's loaders loaded
// before the write, so the fields resolved after it read the new state.
func (r *Resolver) committed(ctx context.Context, ch db.Change) {
	forgetLoaded(ctx)
	if err := r.Outbox.Deliver(ctx, ch); err != nil {
		graphql.AddError(ctx, err)
	}
}

// ErrPurgePending is returned by a Deliverer in the CDN mode when a
// change is delivered to the cache but the CDN has not accepted the purge
// of its tags before the deadline: the write is saved and visible through
// the server, and the CDN may answer from its copy until the purge is
// accepted (it is retried, never dropped).
var ErrPurgePending = errors.New("the change is saved, but the CDN has not yet accepted the purge of the answers it changes")
