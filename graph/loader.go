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

// loaders batch the loads of one request. They are never shared across
// requests: a dataloader's batch runs with the first caller's context.
type loaders struct {
	destination *loader[int64, *db.Destination]
	property    *loader[int64, *db.Property]
	destProps   *loader[destPropsKey, []int64]
	sentiment   *loader[rangeKey, db.SentimentSummary]
	trend       *loader[rangeKey, *db.Trend]
}

type loadersKey struct{}

// requestLoaders makes a request's loaders on first use, so a request
// answered by the response cache never builds them.
type requestLoaders struct {
	mu      sync.Mutex
	loaders *loaders
}

// withLoaders gives every request its own loaders and takes its instant
// (db.AtInstant): every cache key of the request that depends on the time
// (an analytics window) and the SQL windows behind it are computed from it.
func (r *Resolver) withLoaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := context.WithValue(req.Context(), loadersKey{}, &requestLoaders{})
		ctx = db.AtInstant(ctx, r.now())
		next.ServeHTTP(w, req.WithContext(ctx))
	})
}

// instant is the request's instant; a context without one (a call outside
// the HTTP handler) reads the clock.
func (r *Resolver) instant(ctx context.Context) time.Time { return db.Instant(ctx, r.now) }

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
		destination: entityDestination.loader(r),
		property:    entityProperty.loader(r),
		destProps:   destinationProperties.loader(r),
		sentiment:   destinationSentiment.loader(r),
		trend:       destinationTrend.loader(r),
	}
}

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

// loader is a request's dataloader for one batched coordinate, behind a
// peek at the cache: the keys it holds in process (cache.Peek: the
// in-process store, or on Redis the copies the request's read of the
// log's head validates) are answered at once, and only the keys that need
// an entry read from the store or the database wait for a batch
// (LoaderWait). Each key is read at most once per request, as the
// dataloader's memo would: a peeked value is primed into it.
type loader[K comparable, V any] struct {
	r      *Resolver
	coord  string
	lookup func(K) cache.Lookup
	batch  *dataloader.Loader[K, V]

	mu sync.Mutex
	// asked holds a channel per key asked for in this request, closed once
	// the key is primed into batch or queued in it.
	asked map[K]chan struct{}
}

// newLoader makes a per-request loader whose batches read through the
// cache: one cache round trip for the batch, one database call for its
// misses.
func newLoader[K comparable, V any](r *Resolver, coord string, lookup func(K) cache.Lookup,
	fetch func(context.Context, []K) (map[K]V, error)) *loader[K, V] {
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		if r.Batches != nil {
			r.Batches.Add(1)
		}
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
	return &loader[K, V]{r: r, coord: coord, lookup: lookup, asked: map[K]chan struct{}{},
		batch: dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](r.LoaderWait))}
}

// Load returns the value of key.
func (l *loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	vals, errs := l.LoadMany(ctx, []K{key})
	return vals[0], errs[0]
}

// LoadMany returns the values of keys, with an error per key.
func (l *loader[K, V]) LoadMany(ctx context.Context, keys []K) ([]V, []error) {
	thunks, err := l.thunks(ctx, keys)
	vals, errs := make([]V, len(keys)), make([]error, len(keys))
	for i := range keys {
		if err != nil {
			errs[i] = err
			continue
		}
		vals[i], errs[i] = thunks[i]()
	}
	return vals, errs
}

// thunks peeks at the keys not asked before in this request, primes the
// hits and queues the rest in the batch. A key is peeked once, by its
// first asker (so it is counted once, as a batch counts it); a concurrent
// asker waits for that peek, which reads no entry (at most the log's head,
// on Redis).
func (l *loader[K, V]) thunks(ctx context.Context, keys []K) ([]dataloader.Thunk[V], error) {
	var fresh []K
	var mine chan struct{}
	asked := make([]chan struct{}, len(keys))
	l.mu.Lock()
	for i, k := range keys {
		ch, ok := l.asked[k]
		if !ok {
			if mine == nil {
				mine = make(chan struct{})
			}
			ch = mine
			l.asked[k] = ch
			fresh = append(fresh, k)
		}
		asked[i] = ch
	}
	l.mu.Unlock()
	var err error
	if len(fresh) > 0 {
		err = l.peek(ctx, fresh, mine)
	}
	thunks := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		<-asked[i]
		thunks[i] = l.batch.Load(ctx, k)
	}
	return thunks, err
}

// peek primes the keys the cache holds in process and queues the others,
// then closes done.
func (l *loader[K, V]) peek(ctx context.Context, keys []K, done chan struct{}) error {
	defer close(done)
	vals, hit, err := peek[K, V](ctx, l.r, l.coord, keys, l.lookup)
	for i, k := range keys {
		if err == nil && hit[i] {
			l.batch.Prime(ctx, k, vals[i])
		} else {
			l.batch.Load(ctx, k)
		}
	}
	return err
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
