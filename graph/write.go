package graph

import (
	"context"

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
