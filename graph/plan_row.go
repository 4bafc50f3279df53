package graph

import (
	"context"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
)

// readMany reads the values of keys through the cache exactly as the row's
// dataloader batch does (same keys, tags and fill), for the compiled read
// path, which batches a whole level itself.
func (c *batched[K, V]) readMany(ctx context.Context, r *Resolver, keys []K) ([]V, error) {
	return readThrough(ctx, r, c.name, keys, c.lookup, func(ctx context.Context, keys []K) (map[K]V, error) {
		return c.fetch(ctx, r.Store, keys)
	})
}

// memoLoad reads the keys not yet in memo through row in one batch and
// adds them (nil values included: a missing entity is remembered as such,
// as the dataloader's cache does).
func memoLoad[K comparable, V any](ctx context.Context, r *Resolver, row *batched[K, V], memo map[K]V, keys []K) error {
	var missing []K
	for _, k := range keys {
		if _, ok := memo[k]; ok {
			continue
		}
		var zero V
		memo[k] = zero // a key asked twice is read once; on an error the run is dropped
		missing = append(missing, k)
	}
	if len(missing) == 0 {
		return nil
	}
	vals, err := row.readMany(ctx, r, missing)
	if err != nil {
		return err
	}
	for i, k := range missing {
		memo[k] = vals[i]
	}
	return nil
}

// load reads the roots, then every level below them: one batch per field
// for all its parents.
func (run *planRun) load(roots []*planField) error {
	ctx, r := run.ctx, run.r
	var propIDs, destIDs []int64
	for _, f := range roots {
		args := run.fields[f.idx].args
		switch f.Name {
		case "properties":
			a, _ := propertyArgs(args["filter"].(*db.PropertyFilter), args["first"].(*int), args["after"].(*string), args["orderBy"].(*db.PropertyOrder))
			a.Count = f.selects("totalCount")
			page, err := queryProperties.readAt(ctx, r, rootLookup(f, func() cache.Lookup { return queryProperties.lookup(a) }), a)
			if err != nil {
				return err
			}
			run.fields[f.idx].page = page
			propIDs = append(propIDs, page.IDs...)
		case "destinations":
			a, _ := destinationArgs(args)
			page, err := queryDestinations.readAt(ctx, r, rootLookup(f, func() cache.Lookup { return queryDestinations.lookup(a) }), a)
			if err != nil {
				return err
			}
			run.fields[f.idx].page = page
			destIDs = append(destIDs, page.IDs...)
		case "property":
			id := args["id"].(int64)
			run.fields[f.idx].root = id
			propIDs = append(propIDs, id)
		case "topDestinations":
			a, n, _ := run.rankingArgs(queryTopDestinations.page, args)
			ranks, err := queryTopDestinations.read(ctx, r, a) // its window moves: no kept lookup
			if err != nil {
				return err
			}
			ranks = ranks[:min(n, len(ranks))]
			run.fields[f.idx].ranks = ranks
			for _, rk := range ranks {
				destIDs = append(destIDs, rk.DestinationID)
			}
		case "trends":
			a, n, _ := run.rankingArgs(queryTrends.page, args)
			ids, err := queryTrends.read(ctx, r, a)
			if err != nil {
				return err
			}
			keys := trendKeys(a, ids[:min(n, len(ids))])
			if err := memoLoad(ctx, r, destinationTrend, run.trends, keys); err != nil {
				return err
			}
			trends := make([]*db.Trend, 0, len(keys)) // the resolver's compact: a missing trend is left out
			for _, k := range keys {
				if t := run.trends[k]; t != nil {
					trends = append(trends, t)
					destIDs = append(destIDs, t.DestinationID)
				}
			}
			run.fields[f.idx].trends = trends
		case "posts":
			a, _ := run.postArgs(args)
			page, err := queryPosts.read(ctx, r, a)
			if err != nil {
				return err
			}
			run.fields[f.idx].posts = page
		case "sentimentSummary":
			a, _ := run.summaryArgs(args)
			s, err := querySentimentSummary.read(ctx, r, a)
			if err != nil {
				return err
			}
			run.fields[f.idx].summary = *s
		case "destination":
			var id int64
			if p := args["id"].(*int64); p != nil {
				id = *p
			} else {
				a := db.SlugArgs{Slug: *args["slug"].(*string)}
				found, err := queryDestination.readAt(ctx, r, rootLookup(f, func() cache.Lookup { return queryDestination.lookup(a) }), a)
				if err != nil {
					return err
				}
				id = found
			}
			run.fields[f.idx].root = id
			if id != 0 {
				destIDs = append(destIDs, id)
			}
		}
	}
	if err := memoLoad(ctx, r, entityProperty, run.props, propIDs); err != nil {
		return err
	}
	if err := memoLoad(ctx, r, entityDestination, run.dests, destIDs); err != nil {
		return err
	}
	for _, f := range roots {
		switch f.Name {
		case "properties":
			for _, node := range nodes(f) {
				if err := run.loadProperties(node, pickFrom(run.props, run.fields[f.idx].page.IDs)); err != nil {
					return err
				}
			}
		case "destinations":
			for _, node := range nodes(f) {
				if err := run.loadDestinations(node, pickFrom(run.dests, run.fields[f.idx].page.IDs)); err != nil {
					return err
				}
			}
		case "property":
			if err := run.loadProperties(f.children, pickFrom(run.props, []int64{run.fields[f.idx].root})); err != nil {
				return err
			}
		case "destination":
			if err := run.loadDestinations(f.children, pickFrom(run.dests, []int64{run.fields[f.idx].root})); err != nil {
				return err
			}
		case "topDestinations":
			ids := make([]int64, len(run.fields[f.idx].ranks))
			for i, rk := range run.fields[f.idx].ranks {
				ids[i] = rk.DestinationID
			}
			if err := run.loadRequired(f.children, ids); err != nil {
				return err
			}
		case "trends":
			if err := run.loadTrends(f.children, run.fields[f.idx].trends); err != nil {
				return err
			}
		case "posts":
			if err := run.loadPosts(f, run.fields[f.idx].posts.Posts); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadPosts loads the levels below the posts of connection conn.
func (run *planRun) loadPosts(conn *planField, posts []*db.Post) error {
	for _, node := range nodes(conn) {
		if err := run.loadReferences(node, func() []int64 { return references(posts, func(p *db.Post) *int64 { return p.DestinationID }) }); err != nil {
			return err
		}
	}
	return nil
}

// loadReferences loads the destinations of fields' destination field (a
// nullable reference; ids returns the ones not null), then the levels
// below them.
func (run *planRun) loadReferences(fields []*planField, ids func() []int64) error {
	for _, f := range fields {
		if f.Name != "destination" {
			continue
		}
		ids := ids()
		if err := memoLoad(run.ctx, run.r, entityDestination, run.dests, ids); err != nil {
			return err
		}
		if err := run.loadDestinations(f.children, pickFrom(run.dests, ids)); err != nil {
			return err
		}
	}
	return nil
}

// references returns the ids objs refer to through ref, leaving out nulls.
func references[T any](objs []*T, ref func(*T) *int64) []int64 {
	ids := make([]int64, 0, len(objs))
	for _, o := range objs {
		if id := ref(o); id != nil {
			ids = append(ids, *id)
		}
	}
	return ids
}

// postArgs are posts' arguments as the resolver reads them.
func (run *planRun) postArgs(args map[string]any) (db.PostArgs, error) {
	return run.r.postArgs(run.ctx, args["destinationId"].(*int64), args["range"].(*db.TimeRange), args["first"].(*int), args["after"].(*string))
}

// loadRequired loads the levels below the destination field of fields
// (a Destination! of each of ids, loaded already): a destination gone
// since its id was read fails the run, as the resolvers' error would.
func (run *planRun) loadRequired(fields []*planField, ids []int64) error {
	dests := make([]*db.Destination, len(ids))
	for i, id := range ids {
		if dests[i] = run.dests[id]; dests[i] == nil {
			return db.ErrNotFound
		}
	}
	for _, c := range fields {
		if c.Name == "destination" {
			if err := run.loadDestinations(c.children, dests); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadTrends loads the destinations of trends, then the levels below them.
func (run *planRun) loadTrends(fields []*planField, trends []*db.Trend) error {
	ids := make([]int64, len(trends))
	for i, t := range trends {
		ids[i] = t.DestinationID
	}
	if err := memoLoad(run.ctx, run.r, entityDestination, run.dests, ids); err != nil {
		return err
	}
	return run.loadRequired(fields, ids)
}

// rankingArgs are a ranking's arguments (topDestinations', trends') as
// the resolver reads them.
func (run *planRun) rankingArgs(p *page, args map[string]any) (db.AnalyticsArgs, int, error) {
	return run.r.rankingArgs(run.ctx, p, args["limit"].(*int), args["range"].(*db.TimeRange),
		args["city"].(*string), args["category"].(*db.Category))
}

// summaryArgs are sentimentSummary's arguments as the resolver reads them.
func (run *planRun) summaryArgs(args map[string]any) (db.AnalyticsArgs, error) {
	return run.r.analyticsArgs(run.ctx, args["destinationId"].(*int64), args["city"].(*string), nil, args["range"].(*db.TimeRange))
}

// pickFrom returns the loaded values of ids, without the missing ones.
func pickFrom[V any](m map[int64]*V, ids []int64) []*V {
	out := make([]*V, 0, len(ids))
	for _, id := range ids {
		if v := m[id]; v != nil {
			out = append(out, v)
		}
	}
	return out
}

// nodes returns the selections of a connection's edges' nodes.
func nodes(conn *planField) [][]*planField {
	var out [][]*planField
	for _, e := range conn.children {
		if e.Name != "edges" {
			continue
		}
		for _, n := range e.children {
			if n.Name == "node" {
				out = append(out, n.children)
			}
		}
	}
	return out
}

func (run *planRun) loadProperties(fields []*planField, objs []*db.Property) error {
	if len(objs) == 0 {
		return nil
	}
	return run.loadReferences(fields, func() []int64 { return references(objs, func(p *db.Property) *int64 { return p.DestinationID }) })
}

func (run *planRun) loadDestinations(fields []*planField, objs []*db.Destination) error {
	if len(objs) == 0 {
		return nil
	}
	for _, f := range fields {
		switch f.Name {
		case "properties":
			keys := make([]destPropsKey, len(objs))
			for i, d := range objs {
				keys[i] = run.destPropsKey(f, d)
			}
			if err := memoLoad(run.ctx, run.r, destinationProperties, run.destProps, keys); err != nil {
				return err
			}
			var ids []int64
			for _, k := range keys {
				ids = append(ids, run.destProps[k]...)
			}
			if err := memoLoad(run.ctx, run.r, entityProperty, run.props, ids); err != nil {
				return err
			}
			if err := run.loadProperties(f.children, pickFrom(run.props, ids)); err != nil {
				return err
			}
		case "sentiment":
			keys := make([]rangeKey, len(objs))
			for i, d := range objs {
				keys[i] = run.sentimentKey(f, d)
			}
			if err := memoLoad(run.ctx, run.r, destinationSentiment, run.sentiments, keys); err != nil {
				return err
			}
		case "trend":
			keys := make([]rangeKey, len(objs))
			for i, d := range objs {
				keys[i] = run.sentimentKey(f, d)
			}
			if err := memoLoad(run.ctx, run.r, destinationTrend, run.trends, keys); err != nil {
				return err
			}
			trends := make([]*db.Trend, len(keys))
			for i, k := range keys {
				if trends[i] = run.trends[k]; trends[i] == nil {
					return db.ErrNotFound // Trend!: the resolvers' error
				}
			}
			if err := run.loadTrends(f.children, trends); err != nil {
				return err
			}
		}
	}
	return nil
}

func (run *planRun) destPropsKey(f *planField, d *db.Destination) destPropsKey {
	n, _ := destinationProperties.page.size(run.fields[f.idx].args["first"].(*int))
	return destPropsKey{DestinationID: d.ID, First: n}
}

// sentimentKey is rangeKey of an analytics field of d (sentiment, trend),
// from the field's window computed once a run.
func (run *planRun) sentimentKey(f *planField, d *db.Destination) rangeKey {
	k := run.fields[f.idx].window
	if k.Range == "" {
		k = run.r.rangeWindow(run.ctx, run.fields[f.idx].args["range"].(*db.TimeRange))
		run.fields[f.idx].window = k
	}
	k.DestinationID = d.ID
	return k
}
