package graph

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
)

// Cached schema coordinates served by the loaders. Entity loads are counted
// under their type's coordinate.
const (
	coordDestination           = "Destination"
	coordProperty              = "Property"
	coordDestinationProperties = "Destination.properties"
	coordDestinationSentiment  = "Destination.sentiment"
	coordDestinationTrend      = "Destination.trend"
)

// destPropsKey asks for the newest First property ids of a destination.
type destPropsKey struct {
	DestinationID int64
	First         int
}

// rangeKey asks for an analytics figure of a destination over a range.
type rangeKey struct {
	DestinationID int64
	Range         db.TimeRange
}

// loaders batch the loads of one request. They are never shared across
// requests: a dataloader's batch runs with the first caller's context.
type loaders struct {
	destination *dataloader.Loader[int64, *db.Destination]
	property    *dataloader.Loader[int64, *db.Property]
	destProps   *dataloader.Loader[destPropsKey, []int64]
	sentiment   *dataloader.Loader[rangeKey, db.SentimentSummary]
	trend       *dataloader.Loader[rangeKey, *db.Trend]
}

type loadersKey struct{}

// requestLoaders makes a request's loaders on first use, so a request
// answered by the response cache never builds them.
type requestLoaders struct {
	mu      sync.Mutex
	loaders *loaders
}

// withLoaders gives every request its own loaders.
func (r *Resolver) withLoaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := context.WithValue(req.Context(), loadersKey{}, &requestLoaders{})
		next.ServeHTTP(w, req.WithContext(ctx))
	})
}

// loadersFor returns the request's loaders; a context without them (a call
// outside the HTTP handler) gets fresh ones rather than a panic.
func (r *Resolver) loadersFor(ctx context.Context) *loaders {
	rl, ok := ctx.Value(loadersKey{}).(*requestLoaders)
	if !ok {
		return r.newLoaders()
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.loaders == nil {
		rl.loaders = r.newLoaders()
	}
	return rl.loaders
}

// forgetLoaded drops the request's loaders and what they memoised, after a
// write in the same request (mutation fields run one after another, so no
// load of this request is in flight).
func forgetLoaded(ctx context.Context) {
	if rl, ok := ctx.Value(loadersKey{}).(*requestLoaders); ok {
		rl.mu.Lock()
		rl.loaders = nil
		rl.mu.Unlock()
	}
}

func (r *Resolver) newLoaders() *loaders {
	return &loaders{
		destination: newLoader(r, coordDestination,
			func(id int64) cache.Lookup {
				return cache.Lookup{Key: cacheKey(coordDestination, id, nil), Tags: []string{db.DestinationTag(id)}}
			},
			func(ctx context.Context, ids []int64) (map[int64]*db.Destination, error) {
				rows, err := r.Store.FindDestinationsByIDs(ctx, ids)
				return byID(rows, func(d *db.Destination) int64 { return d.ID }), err
			}),
		property: newLoader(r, coordProperty,
			func(id int64) cache.Lookup {
				return cache.Lookup{Key: cacheKey(coordProperty, id, nil), Tags: []string{db.PropertyTag(id)}}
			},
			func(ctx context.Context, ids []int64) (map[int64]*db.Property, error) {
				rows, err := r.Store.FindPropertiesByIDs(ctx, ids)
				return byID(rows, func(p *db.Property) int64 { return p.ID }), err
			}),
		destProps: newLoader(r, coordDestinationProperties,
			func(k destPropsKey) cache.Lookup {
				return cache.Lookup{
					Key:  cacheKey(coordDestinationProperties, k.DestinationID, struct{ First int }{k.First}),
					Tags: []string{db.DestinationPropertiesTag(k.DestinationID)},
				}
			},
			perDestination(func(k destPropsKey) (int64, int) { return k.DestinationID, k.First }, r.Store.FindPropertyIDsByDestinations)),
		sentiment: newLoader(r, coordDestinationSentiment, r.analyticsLookup(coordDestinationSentiment),
			perDestination(rangeKey.split, r.Store.SentimentByDestinations)),
		trend: newLoader(r, coordDestinationTrend, r.analyticsLookup(coordDestinationTrend),
			perDestination(rangeKey.split, r.Store.TrendsByDestinations)),
	}
}

func (k rangeKey) split() (int64, db.TimeRange) { return k.DestinationID, k.Range }

// perDestination makes a batch fetch of per-destination values from a store
// method that takes destination ids and one shared argument: one call per
// distinct argument (usually one per batch).
func perDestination[K, A comparable, V any](split func(K) (int64, A),
	fetch func(context.Context, []int64, A) (map[int64]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		out := make(map[K]V, len(keys))
		for arg, ks := range groupBy(keys, func(k K) A { _, a := split(k); return a }) {
			ids := mapSlice(ks, func(k K) int64 { id, _ := split(k); return id })
			vals, err := fetch(ctx, ids, arg)
			if err != nil {
				return nil, err
			}
			for i, k := range ks {
				out[k] = vals[ids[i]]
			}
		}
		return out, nil
	}
}

// analyticsLookup keys a destination's analytics by range and by the end of
// the range's window, so an entry never outlives the hour it describes.
func (r *Resolver) analyticsLookup(coord string) func(rangeKey) cache.Lookup {
	return func(k rangeKey) cache.Lookup {
		return cache.Lookup{
			Key:  cacheKey(coord, k.DestinationID, windowArgs{Range: k.Range, End: windowEnd(r.now(), k.Range)}),
			Tags: []string{db.DestinationAnalyticsTag(k.DestinationID)},
		}
	}
}

// windowArgs identify an analytics window in a cache key.
type windowArgs struct {
	Range db.TimeRange
	End   int64
}

func windowEnd(now time.Time, r db.TimeRange) int64 {
	_, end := r.Window(now)
	return end.Unix()
}

// newLoader makes a per-request dataloader whose batches read through the
// cache: one cache round trip for the batch, one database call for its
// misses.
func newLoader[K comparable, V any](r *Resolver, coord string, lookup func(K) cache.Lookup,
	fetch func(context.Context, []K) (map[K]V, error)) *dataloader.Loader[K, V] {
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		vals, err := readThrough(ctx, r, coord, keys, lookup, fetch)
		results := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			if err != nil {
				results[i] = &dataloader.Result[V]{Error: err}
			} else {
				results[i] = &dataloader.Result[V]{Data: vals[i]}
			}
		}
		return results
	}
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](r.LoaderWait))
}

func byID[T any](rows []*T, id func(*T) int64) map[int64]*T {
	m := make(map[int64]*T, len(rows))
	for _, row := range rows {
		m[id(row)] = row
	}
	return m
}

func groupBy[K any, G comparable](keys []K, group func(K) G) map[G][]K {
	m := map[G][]K{}
	for _, k := range keys {
		g := group(k)
		m[g] = append(m[g], k)
	}
	return m
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// CachedCoordinates lists every schema coordinate whose values the
// resolvers read through the cache (types stand for their entity entries;
// Query.property is served by the Property entity entry).
func CachedCoordinates() []string {
	return []string{"Query.property",
		coordDestination, coordProperty, coordDestinationProperties, coordDestinationSentiment, coordDestinationTrend,
		coordQueryProperties, coordQueryDestinations, coordQueryDestination, coordQueryPosts,
		coordQueryTopDestinations, coordQuerySentimentSummary, coordQueryTrends,
	}
}
