package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kedahpulse/kedahpulse/db"
)

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
