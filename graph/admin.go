package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

func (r *Resolver) cacheStats(ctx context.Context) (*model.CacheStats, error) {
	s, err := r.Cache.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: cache stats: %w", ErrUnavailable, err)
	}
	return CacheStatsOf(s), nil
}

// CacheStatsOf is s as the cacheStats query answers it (ratios and
// assessment included), for every view of the same figures: the query and
// the operator's dashboard.
func CacheStatsOf(s cache.Stats) *model.CacheStats {
	out := &model.CacheStats{
		Backend:       model.CacheBackend(s.Backend),
		Hits:          int(s.Hits),
		Misses:        int(s.Misses),
		HitRatio:      ratio(s.Hits, s.Misses),
		Keys:          int(s.Keys),
		Invalidations: int(s.Invalidations),
		Fields:        make([]*model.FieldCacheStats, len(s.Fields)),
		Responses:     fieldStats(s.Responses),
	}
	out.Assessment = Assess(out.HitRatio)
	for i, f := range s.Fields {
		out.Fields[i] = fieldStats(f)
	}
	if s.Redis != nil {
		out.Redis = &model.RedisInfo{
			KeyspaceHits: int(s.Redis.KeyspaceHits), KeyspaceMisses: int(s.Redis.KeyspaceMisses),
			UsedMemoryBytes: int(s.Redis.UsedMemoryBytes), ConnectedClients: int(s.Redis.ConnectedClients),
		}
	}
	return out
}

func fieldStats(f cache.FieldStats) *model.FieldCacheStats {
	return &model.FieldCacheStats{Coordinate: f.Coordinate, Hits: int(f.Hits), Misses: int(f.Misses), HitRatio: ratio(f.Hits, f.Misses)}
}

func ratio(hits, misses int64) float64 {
	if hits+misses == 0 {
		return 0
	}
	return float64(hits) / float64(hits+misses)
}

// Band is an assessment and the smallest hit ratio that earns it.
type Band struct {
	Assessment model.CacheAssessment `json:"name"`
	From       float64               `json:"from"`
}

// Bands grade hit ratios, best first: EXCELLENT from 90 %, GOOD from 80 %,
// FAIR from 70 %, POOR below. Assess, the alerts' ALERT_HIT_RATIO and the
// dashboard's chart all read them here.
var Bands = []Band{
	{model.CacheAssessmentExcellent, 0.9},
	{model.CacheAssessmentGood, 0.8},
	{model.CacheAssessmentFair, 0.7},
	{model.CacheAssessmentPoor, 0},
}

// Assess grades a hit ratio by Bands.
func Assess(hitRatio float64) model.CacheAssessment {
	for _, b := range Bands {
		if hitRatio >= b.From {
			return b.Assessment
		}
	}
	return model.CacheAssessmentPoor
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
		return nil, fmt.Errorf("%w: invalidate: %w", ErrUnavailable, err)
	}
	return &model.InvalidationResult{Tags: tags}, nil
}

func (r *Resolver) clearCache(ctx context.Context) (bool, error) {
	if err := r.Cache.Clear(ctx); err != nil {
		return false, fmt.Errorf("%w: clear cache: %w", ErrUnavailable, err)
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
