package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

// properties answers Query.properties: the page of ids is cached under the
// list's tags, the rows come through the property loader (cached per row).
func (r *Resolver) properties(ctx context.Context, f *db.PropertyFilter, first *int, after *string, order *db.PropertyOrder) (*model.PropertyConnection, error) {
	a, err := propertyArgs(f, first, after, order)
	if err != nil {
		return nil, err
	}
	a.Count = selects(ctx, "totalCount")
	page, err := queryProperties.read(ctx, r, a)
	if err != nil {
		return nil, err
	}
	rows, err := r.propertiesByID(ctx, page.IDs)
	if err != nil {
		return nil, err
	}
	conn := &model.PropertyConnection{TotalCount: page.TotalCount, PageInfo: pageInfo(page.HasNext, page.Cursors)}
	for i, p := range rows {
		if p != nil { // deleted since the page was read
			conn.Edges = append(conn.Edges, &model.PropertyEdge{Cursor: page.Cursors[i], Node: p})
		}
	}
	if conn.Edges == nil {
		conn.Edges = []*model.PropertyEdge{}
	}
	return conn, nil
}

// selects reports whether the selection of the field being resolved holds
// field (fragments, aliases and @skip/@include applied). Without a field
// context it reports true: a value read for nothing in particular is whole.
func selects(ctx context.Context, field string) bool {
	if graphql.GetFieldContext(ctx) == nil || !graphql.HasOperationContext(ctx) {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == field {
			return true
		}
	}
	return false
}

// propertyArgs canonicalises the arguments of Query.properties.
func propertyArgs(f *db.PropertyFilter, first *int, after *string, order *db.PropertyOrder) (db.PropertyArgs, error) {
	n, err := queryProperties.page.size(first)
	if err != nil {
		return db.PropertyArgs{}, err
	}
	var o db.PropertyOrder
	if order != nil {
		o = *order
	}
	return db.NewPropertyArgs(f, db.Page{First: n, After: str(after)}, o)
}

// propertiesByID loads properties in one batch, keeping the order of ids;
// missing ones are nil.
func (r *Resolver) propertiesByID(ctx context.Context, ids []int64) ([]*db.Property, error) {
	rows, errs := r.loadersFor(ctx).property.LoadMany(ctx, ids)
	return rows, firstError(errs)
}

// destinationProperties answers Destination.properties.
func (r *Resolver) destinationProperties(ctx context.Context, d *db.Destination, first *int) ([]*db.Property, error) {
	n, err := destinationProperties.page.size(first)
	if err != nil {
		return nil, err
	}
	ids, err := r.loadersFor(ctx).destProps.Load(ctx, destPropsKey{DestinationID: d.ID, First: n})
	if err != nil {
		return nil, err
	}
	rows, err := r.propertiesByID(ctx, ids)
	return compact(rows), err
}

func (r *Resolver) createProperty(ctx context.Context, in db.PropertyInput) (*db.Property, error) {
	p, ch, err := r.Store.CreateProperty(ctx, in)
	if err != nil {
		return nil, err
	}
	r.committed(ctx, ch)
	return p, nil
}

func (r *Resolver) updateProperty(ctx context.Context, id int64, u db.PropertyUpdate) (*db.Property, error) {
	p, ch, err := r.Store.UpdateProperty(ctx, id, u)
	if err != nil {
		return nil, err
	}
	r.committed(ctx, ch)
	return p, nil
}

func (r *Resolver) deleteProperty(ctx context.Context, id int64) (bool, error) {
	ch, err := r.Store.DeleteProperty(ctx, id)
	if err != nil {
		return false, err
	}
	r.committed(ctx, ch)
	return true, nil
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func pageInfo(hasNext bool, cursors []string) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: hasNext}
	if n := len(cursors); n > 0 {
		info.EndCursor = &cursors[n-1]
	}
	return info
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func compact[T any](rows []*T) []*T {
	out := rows[:0:0]
	for _, row := range rows {
		if row != nil {
			out = append(out, row)
		}
	}
	return out
}
