package graph

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/kedahpulse/kedahpulse/db"
)

// Options configure the GraphQL handler.
type Options struct {
	AdminToken    string
	Introspection bool
	// ComplexityLimit bounds a query's cost: each field costs 1, and a list
	// field multiplies its children's cost by its page size. 0 means 20 000.
	ComplexityLimit int
	// DepthLimit bounds selection nesting. 0 means 12.
	DepthLimit int
	// NoResponseCache turns the whole-response level off (the field level
	// stays on), for measuring the field level alone.
	NoResponseCache bool
}

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// NewSchema returns the executable schema with the resolvers of r and the
// complexity functions that cost list fields by their page size.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r}
	c := &cfg.Complexity
	per := func(child int, n *int, def int) int {
		if n == nil || *n < 1 {
			return 1 + child*def
		}
		return 1 + child**n
	}
	c.Query.Properties = func(ch int, _ *db.PropertyFilter, first *int, _ *string, _ *db.PropertyOrder) int {
		return per(ch, first, defaultFirst)
	}
	c.Query.Destinations = func(ch int, _ *string, _ *db.Category, first *int, _ *string) int {
		return per(ch, first, defaultFirst)
	}
	c.Query.Posts = func(ch int, _ *int64, _ *db.TimeRange, first *int, _ *string) int {
		return per(ch, first, defaultFirst)
	}
	c.Query.TopDestinations = func(ch int, limit *int, _ *db.TimeRange, _ *string, _ *db.Category) int { return per(ch, limit, 10) }
	c.Query.Trends = func(ch int, _ *db.TimeRange, _ *string, _ *db.Category, limit *int) int { return per(ch, limit, 10) }
	c.Query.ScrapeRuns = func(ch int, last *int) int { return per(ch, last, 10) }
	c.Destination.Properties = func(ch int, first *int) int { return per(ch, first, 10) }
	c.Trend.Series = func(ch int) int { return 1 + ch*90 }
	return NewExecutableSchema(cfg)
}

// NewHandler serves GraphQL over POST and GET: admin auth, per-request
// dataloaders, the whole-response cache, depth and complexity limits, and
// the error presenter.
func NewHandler(r *Resolver, o Options) http.Handler {
	if o.ComplexityLimit == 0 {
		o.ComplexityLimit = 20_000
	}
	if o.DepthLimit == 0 {
		o.DepthLimit = 12
	}
	es := NewSchema(r)
	if r.Policy == nil {
		r.Policy = NewPolicy(es.Schema())
	}
	srv := handler.New(es)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.FixedComplexityLimit(o.ComplexityLimit))
	srv.Use(depthLimit(o.DepthLimit))
	srv.AroundRootFields(requireAdmin)
	srv.AroundResponses(noteErrors)
	srv.SetErrorPresenter(errorPresenter(r.Log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		r.Log.ErrorContext(ctx, "panic in resolver", "panic", v)
		return gqlerror.Errorf("internal server error")
	})

	h := newResponseCache(r, es.Schema(), !o.NoResponseCache, srv)
	h = r.withLoaders(h)
	h = withAdmin(o.AdminToken, h)
	return http.MaxBytesHandler(h, MaxBodyBytes)
}

// depthLimit refuses operations nested deeper than max.
type depthLimit int

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit(0)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, map[string]bool{}); depth > int(d) {
		err := gqlerror.Errorf("query is nested %d levels deep; the limit is %d", depth, int(d))
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, seen map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) > 0 {
				d = 1 + selectionDepth(s.SelectionSet, seen)
			} else {
				d = 1
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				d = selectionDepth(s.Definition.SelectionSet, seen)
				delete(seen, s.Name)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}
