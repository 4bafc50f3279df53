package graph

import (
	"context"
	"hash/maphash"
	"sync/atomic"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
)

// The table of cached schema coordinates. Each row names a coordinate the
// resolvers read through the cache: its canonical arguments (a db type
// whose JSON is the key), the tags it depends on (db's read side), the
// page argument the cost limiter prices, and the database read that fills
// a miss. Its TTL and scope are the schema's @cacheControl hint, read by
// readThrough from the policy. Pricing and CachedCoordinates are derived
// from this table; adding a cached field means adding a row here.

// coordinate is what every row shares: its schema coordinate ("Type.field",
// or a type for its entity entries) and, for a list, its page argument.
type coordinate struct {
	name string
	page *page
}

// page is a list's page argument: the resolver reads the argument through
// it, the cost limiter prices the list by it.
type page struct {
	arg           string
	def, min, max int
}

// size checks a page argument and applies its default.
func (p *page) size(v *int) (int, error) {
	if v == nil {
		return p.def, nil
	}
	if *v < p.min || *v > p.max {
		return 0, db.Invalid(p.arg, "must be between %d and %d, got %d", p.min, p.max, *v)
	}
	return *v, nil
}

// rooted is a root field cached as one entry per canonical arguments A.
type rooted[A, V any] struct {
	coordinate
	tags  func(A) []string
	fetch func(ctx context.Context, s *db.Store, a A) (V, error)
}

// read reads the field's value for a through the cache.
func (c *rooted[A, V]) read(ctx context.Context, r *Resolver, a A) (V, error) {
	return c.readAt(ctx, r, c.lookup(a), a)
}

// lookup is a's entry key and tags.
func (c *rooted[A, V]) lookup(a A) cache.Lookup {
	return cache.NewLookup(cacheKey(c.name, 0, a), c.tags(a))
}

// readAt is read with a's lookup built already (the compiled plan keeps
// the lookup of arguments written without variables).
func (c *rooted[A, V]) readAt(ctx context.Context, r *Resolver, l cache.Lookup, a A) (V, error) {
	return readOne(ctx, r, c.name, l, func(ctx context.Context) (V, error) { return c.fetch(ctx, r.Store, a) })
}

// batched is a coordinate cached as one entry per key K (an entity, or a
// field of one parent), read through a request's dataloader: one cache
// round trip per batch, one database call for its misses.
type batched[K comparable, V any] struct {
	coordinate
	key   func(K) (parent int64, args any) // args nil or a value whose JSON is canonical
	tags  func(K) []string
	fetch func(ctx context.Context, s *db.Store, keys []K) (map[K]V, error)
	built lookupMemo[K]
}

func (c *batched[K, V]) loader(r *Resolver) *loader[K, V] {
	return newLoader(r, c.name, c.lookup, func(ctx context.Context, keys []K) (map[K]V, error) {
		return c.fetch(ctx, r.Store, keys)
	})
}

// lookup is k's entry key and tags, built once for the keys read often.
func (c *batched[K, V]) lookup(k K) cache.Lookup {
	return c.built.get(k, func(k K) cache.Lookup {
		parent, args := c.key(k)
		return cache.NewLookup(cacheKey(c.name, parent, args), c.tags(k))
	})
}

// lookupMemo keeps the lookups last built for keys, in a direct-mapped
// table of lookupSlots (a key evicts the one in its slot), so a warm read
// of the same entities builds no key or tag strings. A lookup is a pure
// function of its key; a kept one is shared and must not be modified.
type lookupMemo[K comparable] struct {
	slots [lookupSlots]atomic.Pointer[builtLookup[K]]
}

type builtLookup[K comparable] struct {
	k K
	l cache.Lookup
}

const lookupSlots = 4096

var lookupSeed = maphash.MakeSeed()

func (m *lookupMemo[K]) get(k K, build func(K) cache.Lookup) cache.Lookup {
	slot := &m.slots[maphash.Comparable(lookupSeed, k)%lookupSlots]
	if b := slot.Load(); b != nil && b.k == k {
		return b.l
	}
	l := build(k)
	slot.Store(&builtLookup[K]{k: k, l: l})
	return l
}

// Page arguments.
var (
	firstPage      = &page{arg: "first", def: 20, min: 0, max: db.MaxFirst}
	nestedPage     = &page{arg: "first", def: 10, min: 0, max: db.MaxFirst}
	rankingLimit   = &page{arg: "limit", def: 10, min: 1, max: db.MaxFirst}
	scrapeRunsPage = &page{arg: "last", def: 10, min: 1, max: db.MaxFirst}
)

// destPropsKey asks for the newest First property ids of a destination.
type destPropsKey struct {
	DestinationID int64
	First         int
}

// rangeKey asks for an analytics figure of a destination over a range; End
// is the end of the range's window at the request's instant.
type rangeKey struct {
	DestinationID int64
	Range         db.TimeRange
	End           int64
}

// windowArgs identify an analytics window in a cache key.
type windowArgs struct {
	Range db.TimeRange
	End   int64
}

// The rows.
var (
	queryProperties = &rooted[db.PropertyArgs, *db.IDPage]{
		coordinate: coordinate{"Query.properties", firstPage},
		tags:       db.PropertyArgs.Tags,
		fetch: func(ctx context.Context, s *db.Store, a db.PropertyArgs) (*db.IDPage, error) {
			return s.FindPropertyIDsByArgs(ctx, a)
		},
	}
	// Query.property is served by the Property entity entry.
	queryProperty     = &coordinate{name: "Query.property"}
	queryDestinations = &rooted[db.DestinationArgs, *db.IDPage]{
		coordinate: coordinate{"Query.destinations", firstPage},
		tags:       db.DestinationArgs.Tags,
		fetch: func(ctx context.Context, s *db.Store, a db.DestinationArgs) (*db.IDPage, error) {
			return s.FindDestinationIDs(ctx, a.Filter(), a.Page())
		},
	}
	// Query.destination by id is served by the Destination entity entry; by
	// slug through this slug → id entry (0: no such destination).
	queryDestination = &rooted[db.SlugArgs, int64]{
		coordinate: coordinate{name: "Query.destination"},
		tags:       db.SlugArgs.Tags,
		fetch: func(ctx context.Context, s *db.Store, a db.SlugArgs) (int64, error) {
			d, err := s.FindDestinationBySlug(ctx, a.Slug)
			if err != nil {
				return 0, ignoreNotFound(err)
			}
			return d.ID, nil
		},
	}
	queryPosts = &rooted[db.PostArgs, *db.PostPage]{
		coordinate: coordinate{"Query.posts", firstPage},
		tags:       db.PostArgs.Tags,
		fetch: func(ctx context.Context, s *db.Store, a db.PostArgs) (*db.PostPage, error) {
			return s.FindPosts(ctx, a.DestinationID, a.Range, a.Page())
		},
	}
	queryTopDestinations = &rooted[db.AnalyticsArgs, []*db.DestinationRank]{
		coordinate: coordinate{"Query.topDestinations", rankingLimit},
		tags:       db.AnalyticsArgs.RankingTags,
		fetch:      ranking,
	}
	querySentimentSummary = &rooted[db.AnalyticsArgs, *db.SentimentSummary]{
		coordinate: coordinate{name: "Query.sentimentSummary"},
		tags:       db.AnalyticsArgs.Tags,
		fetch: func(ctx context.Context, s *db.Store, a db.AnalyticsArgs) (*db.SentimentSummary, error) {
			sum, err := s.Sentiment(ctx, a.DestinationID, a.City, a.Range)
			return &sum, err
		},
	}
	// Query.trends caches its ranking (destination ids) here and each
	// destination's trend under Destination.trend.
	queryTrends = &rooted[db.AnalyticsArgs, []int64]{
		coordinate: coordinate{"Query.trends", rankingLimit},
		tags:       db.AnalyticsArgs.RankingTags,
		fetch: func(ctx context.Context, s *db.Store, a db.AnalyticsArgs) ([]int64, error) {
			ranks, err := ranking(ctx, s, a)
			return mapSlice(ranks, func(d *db.DestinationRank) int64 { return d.DestinationID }), err
		},
	}
	entityDestination = &batched[int64, *db.Destination]{
		coordinate: coordinate{name: "Destination"},
		key:        func(id int64) (int64, any) { return id, nil },
		tags:       db.DestinationTags,
		fetch: func(ctx context.Context, s *db.Store, ids []int64) (map[int64]*db.Destination, error) {
			rows, err := s.FindDestinationsByIDs(ctx, ids)
			return byID(rows, func(d *db.Destination) int64 { return d.ID }), err
		},
	}
	entityProperty = &batched[int64, *db.Property]{
		coordinate: coordinate{name: "Property"},
		key:        func(id int64) (int64, any) { return id, nil },
		tags:       db.PropertyTags,
		fetch: func(ctx context.Context, s *db.Store, ids []int64) (map[int64]*db.Property, error) {
			rows, err := s.FindPropertiesByIDs(ctx, ids)
			return byID(rows, func(p *db.Property) int64 { return p.ID }), err
		},
	}
	destinationProperties = &batched[destPropsKey, []int64]{
		coordinate: coordinate{"Destination.properties", nestedPage},
		key:        func(k destPropsKey) (int64, any) { return k.DestinationID, struct{ First int }{k.First} },
		tags:       func(k destPropsKey) []string { return db.DestinationPropertiesTags(k.DestinationID) },
		fetch: func(ctx context.Context, s *db.Store, keys []destPropsKey) (map[destPropsKey][]int64, error) {
			return perDestination(func(k destPropsKey) (int64, int) { return k.DestinationID, k.First }, s.FindPropertyIDsByDestinations)(ctx, keys)
		},
	}
	destinationSentiment = &batched[rangeKey, db.SentimentSummary]{
		coordinate: coordinate{name: "Destination.sentiment"},
		key:        rangeKey.window,
		tags:       rangeKey.tags,
		fetch: func(ctx context.Context, s *db.Store, keys []rangeKey) (map[rangeKey]db.SentimentSummary, error) {
			return perDestination(rangeKey.split, s.SentimentByDestinations)(ctx, keys)
		},
	}
	destinationTrend = &batched[rangeKey, *db.Trend]{
		coordinate: coordinate{name: "Destination.trend"},
		key:        rangeKey.window,
		tags:       rangeKey.tags,
		fetch: func(ctx context.Context, s *db.Store, keys []rangeKey) (map[rangeKey]*db.Trend, error) {
			return perDestination(rangeKey.split, s.TrendsByDestinations)(ctx, keys)
		},
	}
)

// coordinates is the table: every cached coordinate, once.
var coordinates = []*coordinate{
	&queryProperties.coordinate, queryProperty, &queryDestinations.coordinate, &queryDestination.coordinate,
	&queryPosts.coordinate, &queryTopDestinations.coordinate, &querySentimentSummary.coordinate, &queryTrends.coordinate,
	&entityDestination.coordinate, &entityProperty.coordinate,
	&destinationProperties.coordinate, &destinationSentiment.coordinate, &destinationTrend.coordinate,
}

// uncached are the lists the cost limiter prices that the cache does not
// serve.
var uncached = []*coordinate{
	{"Query.scrapeRuns", scrapeRunsPage},
}

// CachedCoordinates lists every schema coordinate whose values the
// resolvers read through the cache (types stand for their entity entries).
func CachedCoordinates() []string {
	return mapSlice(coordinates, func(c *coordinate) string { return c.name })
}

func (k rangeKey) split() (int64, db.TimeRange) { return k.DestinationID, k.Range }

func (k rangeKey) window() (int64, any) {
	return k.DestinationID, windowArgs{Range: k.Range, End: k.End}
}

func (k rangeKey) tags() []string { return db.DestinationAnalyticsTags(k.DestinationID) }

// ranking reads a ranking of destinations at the largest limit, so that
// one entry per window, city and category serves every limit.
func ranking(ctx context.Context, s *db.Store, a db.AnalyticsArgs) ([]*db.DestinationRank, error) {
	rows, err := s.TopDestinations(ctx, a.Range, a.Filter(), rankingLimit.max)
	out := make([]*db.DestinationRank, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, err
}
