package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/limit"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
)

// Options configure the GraphQL handler. Zero values mean the defaults.
type Options struct {
	AdminToken    string
	Introspection bool
	// Limits bound each document before it is validated (limit.Defaults).
	Limits limit.Limits
	// MaxBodyBytes bounds a request body (1 MiB: room for an ingestPosts
	// batch; the query text itself is bounded by Limits.Characters).
	MaxBodyBytes int64
	// DocumentCacheBytes bounds the prepared documents kept (32 MiB), and
	// a quarter of it the memo of repeated requests (respcache).
	DocumentCacheBytes int
	// Timeout bounds a request's execution (10 s); work stops when it passes
	// or when the client goes away.
	Timeout time.Duration
	// RootConcurrency bounds how many root fields of one request resolve at
	// once (4).
	RootConcurrency int
	// RequestDBConns bounds the database connections one request's reads
	// hold at once (2); ReservedDBConns are kept from the priced reads
	// (analytics, posts, lists, text search) of all requests together, for
	// cheap reads (a quarter of the pool, at least 1; see share.go).
	RequestDBConns  int
	ReservedDBConns int
	// NoResponseCache turns the whole-response level off (the field level
	// stays on), for measuring the field level alone.
	NoResponseCache bool
	// CDNTagHeader turns the CDN mode on: public answers say
	// "public, max-age=0, s-maxage=<maxAge>" and name their tags in this
	// header (Cache-Tag for Cloudflare, Surrogate-Key for Fastly). The
	// server must then purge every invalidation from the CDN.
	CDNTagHeader string
	// Plan, if set, answers the queries it supports through the compiled
	// read path (plan.go) instead of gqlgen's executor, with the same bytes;
	// nil: every request runs gqlgen.
	Plan *Plan
	// Persisted keeps automatic persisted queries' texts, in a budget of
	// their own (nil: gqlhttp.MemoryTexts of gqlhttp.DefaultTextBytes).
	Persisted gqlhttp.TextStore
	// Warmer, if set, counts the public analytics answers served and
	// replays the most requested, through this handler, after their tags
	// are invalidated.
	Warmer *respcache.Warmer
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes       = 1 << 20
	DefaultDocumentCacheBytes = 32 << 20
	DefaultTimeout            = 10 * time.Second
	DefaultRootConcurrency    = 4
	DefaultRequestDBConns     = 2
)

func (o Options) withDefaults() Options {
	o.Limits = o.Limits.WithDefaults()
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.DocumentCacheBytes <= 0 {
		o.DocumentCacheBytes = DefaultDocumentCacheBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RootConcurrency <= 0 {
		o.RootConcurrency = DefaultRootConcurrency
	}
	if o.RequestDBConns <= 0 {
		o.RequestDBConns = DefaultRequestDBConns
	}
	if o.Persisted == nil {
		o.Persisted = gqlhttp.NewMemoryTexts(gqlhttp.DefaultTextBytes)
	}
	return o
}

// NewSchema returns the executable schema with the resolvers of r.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: r})
}

// NewHandler serves GraphQL over POST and GET. The request chain, top to
// bottom:
//
//  1. respcache front: reads the parameters once and answers a repeated
//     public query from the whole-response cache;
//  2. withAdmin: who is calling;
//  3. withLoaders: per-request dataloaders;
//  4. withRequestBounds: the request's deadline and root-field slots;
//  5. gqlgen's server with the gqlhttp transport: the document prepared
//     once, persisted queries, the variables coerced; then the respcache
//     level looks the answer up, or has gqlgen execute it (requireAdmin,
//     boundRootFields, the resolvers, the error presenter) and stores it.
//
// The Warmer, if any, replays through this same chain.
func NewHandler(r *Resolver, o Options) http.Handler {
	o = o.withDefaults()
	es := NewSchema(r)
	if r.Policy == nil {
		r.Policy = cachecontrol.New(es.Schema())
	}
	lo := respcache.Options{
		Now:          r.now,
		Viewer:       viewer,
		MaxBody:      o.MaxBodyBytes,
		MemoBytes:    o.DocumentCacheBytes / 4, // its entries are far smaller than documents
		CDNTagHeader: o.CDNTagHeader,
		Warmer:       o.Warmer,
	}
	if !o.NoResponseCache {
		lo.Cache = r.Cache
	}
	level := respcache.New(lo)
	to := gqlhttp.Options{
		Documents: gqlhttp.NewDocuments(es.Schema(), o.Limits, Pricing(dialect(r)), r.Policy, o.DocumentCacheBytes),
		Persisted: o.Persisted,
		MaxBody:   o.MaxBodyBytes,
		Level:     level,
	}
	if o.Plan != nil {
		to.Plan = func(ctx context.Context, p *gqlhttp.Prepared) []byte {
			// The plan answers queries alone: its batches may share one
			// read of the log's head (cache.WithHead).
			return o.Plan.serve(cache.WithHead(ctx), r, es, p)
		}
	}
	srv := handler.New(es)
	srv.AddTransport(gqlhttp.New(to))
	srv.SetQueryCache(gqlhttp.QueryCache{})
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundOperations(headPerQuery)
	srv.AroundFields(requireAdmin)
	srv.AroundRootFields(boundRootFields)
	srv.SetErrorPresenter(errorPresenter(r.Log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		r.Log.ErrorContext(ctx, "panic in resolver", "panic", v)
		return gqlerror.Errorf("internal server error")
	})

	return level.Front(
		withAdmin(o.AdminToken,
			r.withLoaders(
				withRequestBounds(o, pricedSlots(r, o.ReservedDBConns),
					srv))))
}

// headPerQuery runs a query under cache.WithHead, as the plan does: every
// batch of the request, and every key a dataloader peeks at (on Redis,
// each object's field asks on its own), is validated by one read of the
// invalidation log's head, sent after the request's first read asked, so
// a warm request costs one command rather than one per batch or per
// peek. What it gives up: an Invalidate that returns between two reads of
// the request is not seen by the later one, which is a read overlapping a
// write (either answer is one a request could have got), and the response
// the request stores is stamped before its first read, so the next
// request sees that Invalidate. A mutation runs without it: its fields
// read after its own writes (forgetLoaded), which a head read before them
// would not see.
func headPerQuery(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if graphql.GetOperationContext(ctx).Operation.Operation == ast.Query {
		ctx = cache.WithHead(ctx)
	}
	return next(ctx)
}

// dialect is the resolver's database dialect, "" without a store.
func dialect(r *Resolver) string {
	if r.Store == nil {
		return ""
	}
	return r.Store.Dialect()
}

// pricedSlots are the slots every request's priced reads share: the
// store's pool less reserved connections (a quarter of it, at least 1). A
// pool of one connection, or none known, reserves nothing: nil.
func pricedSlots(r *Resolver, reserved int) chan struct{} {
	if r.Store == nil {
		return nil
	}
	pool := r.Store.DB.Stats().MaxOpenConnections
	if reserved <= 0 {
		reserved = max(pool/4, 1)
	}
	if pool <= reserved {
		return nil
	}
	return make(chan struct{}, pool-reserved)
}

// withRequestBounds gives each request its deadline and its share: its
// root-field slots, its database slots, and the priced slots all requests
// share.
func withRequestBounds(o Options, priced chan struct{}, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), o.Timeout)
		defer cancel()
		ctx = context.WithValue(ctx, shareKey{}, &share{
			roots: make(chan struct{}, o.RootConcurrency), reads: make(chan struct{}, o.RequestDBConns), priced: priced})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// boundRootFields lets at most the request's slot count of root fields
// resolve at once (gqlgen starts every root field of a query in its own
// goroutine); a field that cannot get a slot before the deadline fails as
// unavailable.
func boundRootFields(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	s := shareOf(ctx)
	if s == nil {
		return next(ctx)
	}
	select {
	case s.roots <- struct{}{}:
	case <-ctx.Done():
		graphql.AddError(ctx, gqlhttp.Unavailable(ctx.Err()))
		return graphql.Null
	}
	defer func() { <-s.roots }()
	return next(ctx)
}
