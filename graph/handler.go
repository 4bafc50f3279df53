package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
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
	// a quarter of it the memo of repeated requests (requestMemo).
	DocumentCacheBytes int
	// Timeout bounds a request's execution (10 s); work stops when it passes
	// or when the client goes away.
	Timeout time.Duration
	// RootConcurrency bounds how many root fields of one request resolve at
	// once (4), so one request holds at most that many database
	// connections.
	RootConcurrency int
	// NoResponseCache turns the whole-response level off (the field level
	// stays on), for measuring the field level alone.
	NoResponseCache bool
	// CDNTagHeader turns the CDN mode on: public answers say
	// "public, max-age=0, s-maxage=<maxAge>" and name their tags in this
	// header (Cache-Tag for Cloudflare, Surrogate-Key for Fastly). The
	// server must then purge every invalidation from the CDN.
	CDNTagHeader string
	// Warmer, if set, counts the public analytics answers served and
	// replays the most requested after their tags are invalidated.
	Warmer *Warmer
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes       = 1 << 20
	DefaultDocumentCacheBytes = 32 << 20
	DefaultTimeout            = 10 * time.Second
	DefaultRootConcurrency    = 4
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
	return o
}

// NewSchema returns the executable schema with the resolvers of r.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: r})
}

// NewHandler serves GraphQL over POST and GET: admin auth, per-request
// dataloaders, document limits, the whole-response cache and the error
// presenter.
func NewHandler(r *Resolver, o Options) http.Handler {
	o = o.withDefaults()
	es := NewSchema(r)
	if r.Policy == nil {
		r.Policy = cachecontrol.New(es.Schema())
	}
	t := &transport{
		docs:      newDocuments(es.Schema(), o.Limits, Pricing, r.Policy, o.DocumentCacheBytes),
		persisted: newPersisted(r.Cache),
		maxBody:   o.MaxBodyBytes,
		cdnHeader: o.CDNTagHeader,
		memo:      newRequestMemo(o.DocumentCacheBytes / 4), // its entries are far smaller than documents
		warm:      o.Warmer,
	}
	if !o.NoResponseCache {
		t.resp = respcache.New(r.Cache, r.now)
	}
	srv := handler.New(es)
	srv.AddTransport(t)
	srv.SetQueryCache(preparedQuery{})
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundRootFields(requireAdmin)
	srv.AroundRootFields(boundRootFields)
	srv.SetErrorPresenter(errorPresenter(r.Log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		r.Log.ErrorContext(ctx, "panic in resolver", "panic", v)
		return gqlerror.Errorf("internal server error")
	})

	var h http.Handler = srv
	h = withRequestBounds(o.Timeout, o.RootConcurrency, h)
	h = r.withLoaders(h)
	h = withAdmin(o.AdminToken, h)
	if t.resp != nil {
		h = t.answerRepeated(h)
	}
	if o.Warmer != nil {
		o.Warmer.serve(h)
	}
	return h
}

type rootSlotsKey struct{}

// withRequestBounds gives each request its deadline and its root-field
// slots.
func withRequestBounds(timeout time.Duration, roots int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		ctx = context.WithValue(ctx, rootSlotsKey{}, make(chan struct{}, roots))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// boundRootFields lets at most the request's slot count of root fields
// resolve at once (gqlgen starts every root field of a query in its own
// goroutine); a field that cannot get a slot before the deadline fails as
// unavailable.
func boundRootFields(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	slots, ok := ctx.Value(rootSlotsKey{}).(chan struct{})
	if !ok {
		return next(ctx)
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		graphql.AddError(ctx, unavailable(ctx.Err()))
		return graphql.Null
	}
	defer func() { <-slots }()
	return next(ctx)
}
