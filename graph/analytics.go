package graph

import (
	"context"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

const (
	coordQueryPosts            = "Query.posts"
	coordQueryTopDestinations  = "Query.topDestinations"
	coordQuerySentimentSummary = "Query.sentimentSummary"
	coordQueryTrends           = "Query.trends"
)

// newAnalyticsArgs canonicalises the arguments shared by the analytics root
// fields and stamps them with the end of the range's window.
func (r *Resolver) newAnalyticsArgs(destinationID *int64, city *string, category *db.Category, rng *db.TimeRange) (analyticsArgs, error) {
	a := analyticsArgs{DestinationID: destinationID, Category: category, Range: rangeArg(rng)}
	var err error
	if a.City, err = cityArg(city); err != nil {
		return analyticsArgs{}, err
	}
	a.End = windowEnd(r.now(), a.Range)
	return a, nil
}

// postsArgs are the canonical arguments of Query.posts.
type postsArgs struct {
	analyticsArgs
	First int    `json:"first"`
	After string `json:"after,omitempty"`
}

func (r *Resolver) posts(ctx context.Context, destinationID *int64, rng *db.TimeRange, first *int, after *string) (*model.PostConnection, error) {
	n, err := pageSize(first, defaultFirst)
	if err != nil {
		return nil, err
	}
	aa, err := r.newAnalyticsArgs(destinationID, nil, nil, rng)
	if err != nil {
		return nil, err
	}
	a := postsArgs{analyticsArgs: aa, First: n, After: str(after)}
	page, err := readOne(ctx, r, coordQueryPosts, a, aa.tags(false), func(ctx context.Context) (*db.PostPage, error) {
		return r.Store.FindPosts(ctx, destinationID, aa.Range, db.Page{First: a.First, After: a.After})
	})
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

func (r *Resolver) topDestinations(ctx context.Context, limit *int, rng *db.TimeRange, city *string, category *db.Category) ([]*db.DestinationRank, error) {
	a, err := r.rankingArgs(limit, rng, city, category)
	if err != nil {
		return nil, err
	}
	ranks, err := readOne(ctx, r, coordQueryTopDestinations, a, a.tags(true), func(ctx context.Context) ([]*db.DestinationRank, error) {
		return r.ranking(ctx, a)
	})
	return ranks, err
}

func (r *Resolver) rankingArgs(limit *int, rng *db.TimeRange, city *string, category *db.Category) (analyticsArgs, error) {
	n, err := limitArg(limit, 10)
	if err != nil {
		return analyticsArgs{}, err
	}
	a, err := r.newAnalyticsArgs(nil, city, category, rng)
	a.Limit = n
	return a, err
}

func (r *Resolver) ranking(ctx context.Context, a analyticsArgs) ([]*db.DestinationRank, error) {
	rows, err := r.Store.TopDestinations(ctx, a.Range, db.DestinationFilter{City: a.City, Category: a.Category}, a.Limit)
	out := make([]*db.DestinationRank, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, err
}

func (r *Resolver) sentimentSummary(ctx context.Context, city *string, destinationID *int64, rng *db.TimeRange) (*db.SentimentSummary, error) {
	a, err := r.newAnalyticsArgs(destinationID, city, nil, rng)
	if err != nil {
		return nil, err
	}
	return readOne(ctx, r, coordQuerySentimentSummary, a, a.tags(false), func(ctx context.Context) (*db.SentimentSummary, error) {
		s, err := r.Store.Sentiment(ctx, a.DestinationID, a.City, a.Range)
		return &s, err
	})
}

// trends answers Query.trends: the ranking (destination ids) is cached under
// the ranking's tags, each destination's trend under its own.
func (r *Resolver) trends(ctx context.Context, rng *db.TimeRange, city *string, category *db.Category, limit *int) ([]*db.Trend, error) {
	a, err := r.rankingArgs(limit, rng, city, category)
	if err != nil {
		return nil, err
	}
	ids, err := readOne(ctx, r, coordQueryTrends, a, a.tags(true), func(ctx context.Context) ([]int64, error) {
		ranks, err := r.ranking(ctx, a)
		return mapSlice(ranks, func(d *db.DestinationRank) int64 { return d.DestinationID }), err
	})
	if err != nil {
		return nil, err
	}
	keys := mapSlice(ids, func(id int64) rangeKey { return rangeKey{DestinationID: id, Range: a.Range} })
	trends, errs := r.loadersFor(ctx).trend.LoadMany(ctx, keys)()
	return compact(trends), firstError(errs)
}

func (r *Resolver) destinationSentiment(ctx context.Context, d *db.Destination, rng *db.TimeRange) (*db.SentimentSummary, error) {
	s, err := r.loadersFor(ctx).sentiment.Load(ctx, rangeKey{DestinationID: d.ID, Range: rangeArg(rng)})()
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (r *Resolver) destinationTrend(ctx context.Context, d *db.Destination, rng *db.TimeRange) (*db.Trend, error) {
	return r.loadersFor(ctx).trend.Load(ctx, rangeKey{DestinationID: d.ID, Range: rangeArg(rng)})()
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
