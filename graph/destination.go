package graph

import (
	"errors"

	"context"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

func (r *Resolver) destinations(ctx context.Context, city *string, category *db.Category, first *int, after *string) (*model.DestinationConnection, error) {
	n, err := queryDestinations.page.size(first)
	if err != nil {
		return nil, err
	}
	a, err := db.NewDestinationArgs(city, category, db.Page{First: n, After: str(after)})
	if err != nil {
		return nil, err
	}
	page, err := queryDestinations.read(ctx, r, a)
	if err != nil {
		return nil, err
	}
	rows, errs := r.loadersFor(ctx).destination.LoadMany(ctx, page.IDs)
	if err := firstError(errs); err != nil {
		return nil, err
	}
	conn := &model.DestinationConnection{TotalCount: page.TotalCount, PageInfo: pageInfo(page.HasNext, page.Cursors), Edges: []*model.DestinationEdge{}}
	for i, d := range rows {
		if d != nil {
			conn.Edges = append(conn.Edges, &model.DestinationEdge{Cursor: page.Cursors[i], Node: d})
		}
	}
	return conn, nil
}

// destination answers Query.destination: by id through the loader, by slug
// through a cached slug → id lookup (slugs never change; creates and deletes
// bump the destinations tag).
func (r *Resolver) destination(ctx context.Context, id *int64, slug *string) (*db.Destination, error) {
	if (id == nil) == (slug == nil) {
		return nil, db.Invalid("id", "give exactly one of id and slug")
	}
	if slug != nil {
		found, err := queryDestination.read(ctx, r, db.SlugArgs{Slug: *slug})
		if err != nil || found == 0 {
			return nil, err
		}
		id = &found
	}
	return r.destinationByID(ctx, *id)
}

func (r *Resolver) destinationByID(ctx context.Context, id int64) (*db.Destination, error) {
	return r.loadersFor(ctx).destination.Load(ctx, id)
}

// destinationOf resolves an optional destination reference.
func (r *Resolver) destinationOf(ctx context.Context, id *int64) (*db.Destination, error) {
	if id == nil {
		return nil, nil
	}
	return r.destinationByID(ctx, *id)
}

// requiredDestination resolves a non-null destination reference.
func (r *Resolver) requiredDestination(ctx context.Context, id int64) (*db.Destination, error) {
	d, err := r.destinationByID(ctx, id)
	if err == nil && d == nil {
		err = db.ErrNotFound
	}
	return d, err
}

func (r *Resolver) createDestination(ctx context.Context, in db.DestinationInput) (*db.Destination, error) {
	d, ch, err := r.Store.CreateDestination(ctx, in)
	if err != nil {
		return nil, err
	}
	r.committed(ctx, ch)
	return d, nil
}

func (r *Resolver) updateDestination(ctx context.Context, id int64, u db.DestinationUpdate) (*db.Destination, error) {
	d, ch, err := r.Store.UpdateDestination(ctx, id, u)
	if err != nil {
		return nil, err
	}
	r.committed(ctx, ch)
	return d, nil
}

func (r *Resolver) deleteDestination(ctx context.Context, id int64) (bool, error) {
	ch, err := r.Store.DeleteDestination(ctx, id)
	if err != nil {
		return false, err
	}
	r.committed(ctx, ch)
	return true, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	return err
}
