package graph

import (
	"context"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

func rangeArg(r *db.TimeRange) db.TimeRange {
	if r == nil {
		return db.Last7Days
	}
	return *r
}

// analyticsArgs canonicalises the arguments shared by the analytics root
// fields at the request's instant.
func (r *Resolver) analyticsArgs(ctx context.Context, destinationID *int64, city *string, category *db.Category, rng *db.TimeRange) (db.AnalyticsArgs, error) {
	return db.NewAnalyticsArgs(destinationID, city, category, rangeArg(rng), r.instant(ctx))
}

func (r *Resolver) posts(ctx context.Context, destinationID *int64, rng *db.TimeRange, first *int, after *string) (*model.PostConnection, error) {
	a, err := r.postArgs(ctx, destinationID, rng, first, after)
	if err != nil {
		return nil, err
	}
	page, err := queryPosts.read(ctx, r, a)
	if err != nil {
		return nil, err
	}
	conn := &model.PostConnection{TotalCount: page.TotalCount, Edges: make([]*model.PostEdge, len(page.Posts)),
		PageInfo: pageInfo(page.HasNext, page.Cursors)}
	for i, p := range page.Posts {
		conn.Edges[i] = &model.PostEdge{Cursor: page.Cursors[i], Node: p}
	}
	return conn, nil
}

// postArgs canonicalises posts' arguments and checks its page.
func (r *Resolver) postArgs(ctx context.Context, destinationID *int64, rng *db.TimeRange, first *int, after *string) (db.PostArgs, error) {
	n, err := queryPosts.page.size(first)
	if err != nil {
		return db.PostArgs{}, err
	}
	aa, err := r.analyticsArgs(ctx, destinationID, nil, nil, rng)
	if err != nil {
		return db.PostArgs{}, err
	}
	return db.PostArgs{AnalyticsArgs: aa, First: n, After: str(after)}, nil
}

func (r *Resolver) topDestinations(ctx context.Context, limit *int, rng *db.TimeRange, city *string, category *db.Category) ([]*db.DestinationRank, error) {
	a, n, err := r.rankingArgs(ctx, queryTopDestinations.page, limit, rng, city, category)
	if err != nil {
		return nil, err
	}
	ranks, err := queryTopDestinations.read(ctx, r, a)
	return ranks[:min(n, len(ranks))], err
}

// rankingArgs canonicalises a ranking's arguments and checks its limit,
// which is not part of them (see db.AnalyticsArgs).
func (r *Resolver) rankingArgs(ctx context.Context, p *page, limit *int, rng *db.TimeRange, city *string, category *db.Category) (db.AnalyticsArgs, int, error) {
	n, err := p.size(limit)
	if err != nil {
		return db.AnalyticsArgs{}, 0, err
	}
	a, err := r.analyticsArgs(ctx, nil, city, category, rng)
	return a, n, err
}

func (r *Resolver) sentimentSummary(ctx context.Context, city *string, destinationID *int64, rng *db.TimeRange) (*db.SentimentSummary, error) {
	a, err := r.analyticsArgs(ctx, destinationID, city, nil, rng)
	if err != nil {
		return nil, err
	}
	return querySentimentSummary.read(ctx, r, a)
}

// trends answers Query.trends: the ranking (destination ids) is cached under
// the ranking's tags, each destination's trend under its own.
func (r *Resolver) trends(ctx context.Context, rng *db.TimeRange, city *string, category *db.Category, limit *int) ([]*db.Trend, error) {
	a, n, err := r.rankingArgs(ctx, queryTrends.page, limit, rng, city, category)
	if err != nil {
		return nil, err
	}
	ids, err := queryTrends.read(ctx, r, a)
	if err != nil {
		return nil, err
	}
	ids = ids[:min(n, len(ids))]
	trends, errs := r.loadersFor(ctx).trend.LoadMany(ctx, trendKeys(a, ids))
	return compact(trends), firstError(errs)
}

// trendKeys are the keys of the trends of a ranking's destinations ids.
func trendKeys(a db.AnalyticsArgs, ids []int64) []rangeKey {
	return mapSlice(ids, func(id int64) rangeKey { return rangeKey{DestinationID: id, Range: a.Range, End: a.End} })
}

// rangeKey is the key of a destination's analytics over rng at the
// request's instant.
func (r *Resolver) rangeKey(ctx context.Context, d *db.Destination, rng *db.TimeRange) rangeKey {
	k := r.rangeWindow(ctx, rng)
	k.DestinationID = d.ID
	return k
}

// rangeWindow is the key of rng's window at the request's instant, with no
// destination: the part of rangeKey its destinations share.
func (r *Resolver) rangeWindow(ctx context.Context, rng *db.TimeRange) rangeKey {
	rg := rangeArg(rng)
	return rangeKey{Range: rg, End: db.WindowEnd(rg, r.instant(ctx))}
}

func (r *Resolver) destinationSentiment(ctx context.Context, d *db.Destination, rng *db.TimeRange) (*db.SentimentSummary, error) {
	s, err := r.loadersFor(ctx).sentiment.Load(ctx, r.rangeKey(ctx, d, rng))
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (r *Resolver) destinationTrend(ctx context.Context, d *db.Destination, rng *db.TimeRange) (*db.Trend, error) {
	return r.loadersFor(ctx).trend.Load(ctx, r.rangeKey(ctx, d, rng))
}

func (r *Resolver) ingestPosts(ctx context.Context, posts []*db.PostInput) (*model.IngestResult, error) {
	in := make([]db.PostInput, len(posts))
	for i, p := range posts {
		in[i] = *p
	}
	res, ch, err := r.Store.IngestPosts(ctx, in)
	if err != nil {
		return nil, err
	}
	r.committed(ctx, ch)
	tags := ch.Tags
	if tags == nil {
		tags = []string{}
	}
	return &model.IngestResult{Received: res.Received, Stored: res.Stored, Duplicates: res.Duplicates, InvalidatedTags: tags}, nil
}
