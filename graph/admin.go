package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

func (r *Resolver) cacheStats(ctx context.Context) (*model.CacheStats, error) {
	s, err := r.Cache.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: cache stats: %w", gqlhttp.ErrUnavailable, err)
	}
	return CacheStatsOf(s), nil
}

// CacheStatsOf is s as the cacheStats query answers it: cache.ReportOf's
// figures (ratios and assessment, shared with the operator's dashboard) in
// the GraphQL model.
func CacheStatsOf(s cache.Stats) *model.CacheStats {
	r := cache.ReportOf(s)
	out := &model.CacheStats{
		Backend:       model.CacheBackend(r.Backend),
		Hits:          int(r.Hits),
		Misses:        int(r.Misses),
		HitRatio:      r.HitRatio,
		Assessment:    model.CacheAssessment(r.Assessment),
		Keys:          int(r.Keys),
		Invalidations: int(r.Invalidations),
		Fields:        make([]*model.FieldCacheStats, len(r.Fields)),
		Responses:     fieldStats(r.Responses),
		WarmReplays:   int(r.WarmReplays),
	}
	for i, f := range r.Fields {
		out.Fields[i] = fieldStats(f)
	}
	if x := r.Redis; x != nil {
		out.Redis = &model.RedisInfo{
			KeyspaceHits: int(x.KeyspaceHits), KeyspaceMisses: int(x.KeyspaceMisses),
			UsedMemoryBytes: int(x.UsedMemoryBytes), ConnectedClients: int(x.ConnectedClients),
		}
	}
	return out
}

func fieldStats(f cache.FieldReport) *model.FieldCacheStats {
	return &model.FieldCacheStats{Coordinate: f.Coordinate, Hits: int(f.Hits), Misses: int(f.Misses), HitRatio: f.HitRatio}
}

func (r *Resolver) invalidateCache(ctx context.Context, tags []string) (*model.InvalidationResult, error) {
	if len(tags) == 0 {
		return nil, db.Invalid("tags", "give at least one tag")
	}
	for i, t := range tags {
		if !db.ValidTag(t) {
			return nil, db.Invalid(fmt.Sprintf("tags[%d]", i), "invalid tag %q: want [a-z0-9:._-]+", t)
		}
	}
	tags = slices.Compact(slices.Sorted(slices.Values(tags)))
	if err := r.Cache.Invalidate(ctx, tags...); err != nil {
		return nil, fmt.Errorf("%w: invalidate: %w", gqlhttp.ErrUnavailable, err)
	}
	return &model.InvalidationResult{Tags: tags}, nil
}

func (r *Resolver) clearCache(ctx context.Context) (bool, error) {
	if err := r.Cache.Clear(ctx); err != nil {
		return false, fmt.Errorf("%w: clear cache: %w", gqlhttp.ErrUnavailable, err)
	}
	return true, nil
}

// ErrNoScraper answers runScraper when the server has no scraper.
var ErrNoScraper = errors.New("scraping is not configured on this server")

func (r *Resolver) runScraper(ctx context.Context) (*db.ScrapeRun, error) {
	if r.Scraper == nil {
		return nil, ErrNoScraper
	}
	return r.Scraper.Run(ctx)
}

func (r *Resolver) scrapeRuns(ctx context.Context, last *int) ([]*db.ScrapeRun, error) {
	n, err := scrapeRunsPage.size(last)
	if err != nil {
		return nil, db.Invalid("last", "must be between 1 and %d", db.MaxFirst)
	}
	return r.Store.FindScrapeRuns(ctx, n)
}
