package graph

// The compiled read path. A query the plan supports is answered without
// gqlgen's executor: its fields are collected once per selection (with
// gqlgen's own CollectFields, so aliases, fragments, @skip/@include and
// __typename mean the same), its arguments coerced by the generated
// argument functions, its values loaded breadth-first (one batch per field
// for all its parents, through the same rows and read-through as the
// resolvers), and its JSON written with gqlgen's own scalar marshalers,
// an entity from its rendered parts once written (plan_parts.go). A root
// whose arguments hold no variable keeps its read's lookup on the plan.
//
// It answers queries whose fields are all in planFields: Query.properties,
// property, destinations, destination (id or slug), topDestinations,
// sentimentSummary, trends and posts, the connections, edges and
// pageInfo, every scalar field of Property, Destination, DestinationRank,
// Trend, TrendPoint, Post and SentimentSummary, the destination of a
// Property, DestinationRank, Trend and Post, Trend.series,
// Destination.properties, .sentiment and .trend, and __typename anywhere.
// It hands to gqlgen, before writing a byte: mutations and subscriptions,
// any other field (the admin fields, introspection), any
// directive but @skip/@include, any argument error, and any error while
// loading or writing. It lives in package graph because the rows of
// coordinate.go, the read-through and the generated argument coercion are
// unexported here.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/limit"
)

// Plan turns the compiled read path on (Options.Plan) and counts how often
// it answers and why it hands a request to gqlgen. It is a Prometheus
// collector.
type Plan struct {
	plans      planCache
	parts      *partsCache // rendered parts of objects (plan_parts.go)
	executions atomic.Int64
	fallbacks  map[string]*atomic.Int64 // by reason, fixed at NewPlan
}

var (
	planExecutionsDesc = prometheus.NewDesc("kedahpulse_plan_executions_total", "Queries answered by the compiled read path.", nil, nil)
	planFallbacksDesc  = prometheus.NewDesc("kedahpulse_plan_fallbacks_total", "Queries the compiled read path handed to gqlgen, by reason.", []string{"reason"}, nil)
)

// NewPlan returns a Plan with its counters at zero.
func NewPlan() *Plan {
	p := &Plan{fallbacks: map[string]*atomic.Int64{}, parts: newPartsCache(DefaultPartsBytes),
		plans: planCache{max: DefaultPlanEntries, conds: map[string][]string{}, plans: map[string]*compiled{}}}
	for _, r := range []string{fallbackOperation, fallbackField, fallbackDirective, fallbackArgs, fallbackError} {
		p.fallbacks[r] = new(atomic.Int64)
	}
	return p
}

// Executions counts the queries the plan answered.
func (p *Plan) Executions() int64 { return p.executions.Load() }

// Fallbacks counts the queries handed to gqlgen, by reason.
func (p *Plan) Fallbacks() map[string]int64 {
	out := make(map[string]int64, len(p.fallbacks))
	for r, n := range p.fallbacks {
		out[r] = n.Load()
	}
	return out
}

func (p *Plan) fallback(reason string) []byte {
	p.fallbacks[reason].Add(1)
	return nil
}

func (p *Plan) Describe(ch chan<- *prometheus.Desc) {
	ch <- planExecutionsDesc
	ch <- planFallbacksDesc
}

func (p *Plan) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(planExecutionsDesc, prometheus.CounterValue, float64(p.executions.Load()))
	for r, n := range p.fallbacks {
		ch <- prometheus.MustNewConstMetric(planFallbacksDesc, prometheus.CounterValue, float64(n.Load()), r)
	}
}

// Fallback reasons.
const (
	fallbackOperation = "operation" // not a query
	fallbackField     = "field"     // a field the plan does not answer
	fallbackDirective = "directive" // a directive other than @skip/@include
	fallbackArgs      = "args"      // an argument gqlgen would answer with an error
	fallbackError     = "error"     // a load or a scalar failed
)

// planFields is what the plan answers: per object type, its supported
// fields and, for object-typed ones, the type of their objects ("" for a
// scalar).
var planFields = map[string]map[string]string{
	"Query": {"properties": "PropertyConnection", "property": "Property",
		"destinations": "DestinationConnection", "destination": "Destination",
		"topDestinations": "DestinationRank", "sentimentSummary": "SentimentSummary", "trends": "Trend",
		"posts": "PostConnection"},
	"PostConnection": {"edges": "PostEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"PostEdge":       {"cursor": "", "node": "Post"},
	"Post": {"id": "", "source": "", "externalId": "", "author": "", "text": "", "url": "", "postedAt": "",
		"sentimentScore": "", "sentimentLabel": "", "destination": "Destination"},
	"DestinationRank": {"rank": "", "destination": "Destination", "mentions": "", "averageScore": ""},
	"Trend": {"destination": "Destination", "range": "", "mentions": "", "previousMentions": "", "growth": "",
		"averageScore": "", "series": "TrendPoint"},
	"TrendPoint":            {"date": "", "mentions": "", "averageScore": ""},
	"PropertyConnection":    {"edges": "PropertyEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"PropertyEdge":          {"cursor": "", "node": "Property"},
	"DestinationConnection": {"edges": "DestinationEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"DestinationEdge":       {"cursor": "", "node": "Destination"},
	"PageInfo":              {"hasNextPage": "", "endCursor": ""},
	"Property": {"id": "", "title": "", "description": "", "price": "", "location": "",
		"destination": "Destination", "createdAt": "", "updatedAt": ""},
	"Destination": {"id": "", "slug": "", "name": "", "city": "", "category": "", "description": "",
		"latitude": "", "longitude": "", "createdAt": "", "updatedAt": "",
		"properties": "Property", "sentiment": "SentimentSummary", "trend": "Trend"},
	"SentimentSummary": {"range": "", "positive": "", "neutral": "", "negative": "", "total": "", "averageScore": ""},
}

// planField is one collected field of a compiled plan, with its object's
// collected fields when it has any. A compiled plan is shared by the
// requests of its document and operation: nothing per request is kept in
// it (planRun holds that, by idx).
type planField struct {
	graphql.CollectedField
	idx      int    // this field's slot in a run's per-field state
	key      []byte // `"alias":`, written before its value
	coord    string // its schema coordinate, "Type.field"
	object   bool   // its values are objects (or lists of them), not scalars
	children []*planField
	// constant says its arguments hold no variable: a root's read is then
	// the same every run, and lookup keeps its entry's lookup (rootLookup).
	constant bool
	lookup   atomic.Pointer[cache.Lookup]
}

// rootLookup is the lookup of root field f's read: kept on f when its
// arguments are constant, built by build otherwise.
func rootLookup(f *planField, build func() cache.Lookup) cache.Lookup {
	if !f.constant {
		return build()
	}
	if l := f.lookup.Load(); l != nil {
		return *l
	}
	l := build()
	f.lookup.Store(&l)
	return l
}

// selects reports whether f's selection holds the field name, as the
// resolvers' selects does for gqlgen's execution.
func (f *planField) selects(name string) bool {
	for _, c := range f.children {
		if c.Name == name {
			return true
		}
	}
	return false
}

// compiled is the plan of one document, operation and set of @skip/@include
// conditions, or the reason the plan does not answer it.
type compiled struct {
	roots    []*planField
	fields   int          // how many planFields, for a run's per-field state
	fallback string       // "" when the plan answers
	size     atomic.Int64 // bytes of its last answer, a run's first buffer
}

// compiler numbers a plan's fields as it collects them.
type compiler struct {
	oc *graphql.OperationContext
	n  int
}

// compile collects the fields of set on typ, recursively; a non-empty
// reason means the plan does not answer the operation.
func (c *compiler) compile(typ string, set ast.SelectionSet) ([]*planField, string) {
	if reason := directives(set, map[string]bool{}); reason != "" {
		return nil, reason
	}
	supported := planFields[typ]
	collected := graphql.CollectFields(c.oc, set, []string{typ})
	out := make([]*planField, len(collected))
	for i, cf := range collected {
		var key bytes.Buffer
		graphql.MarshalString(cf.Alias).MarshalGQL(&key)
		key.WriteByte(':')
		f := &planField{CollectedField: cf, idx: c.n, key: key.Bytes(), coord: typ + "." + cf.Name, constant: true}
		for _, a := range cf.Arguments {
			if limit.HasVariable(a.Value) {
				f.constant = false
			}
		}
		c.n++
		out[i] = f
		if cf.Name == "__typename" {
			continue
		}
		child, ok := supported[cf.Name]
		if !ok {
			return nil, fallbackField
		}
		if child != "" {
			f.object = true
			var reason string
			if f.children, reason = c.compile(child, cf.Selections); reason != "" {
				return nil, reason
			}
		}
	}
	return out, ""
}

// directives refuses any directive but @skip and @include (CollectFields
// applies those), through fragments.
func directives(set ast.SelectionSet, seen map[string]bool) string {
	ok := func(ds ast.DirectiveList) bool {
		for _, d := range ds {
			if d.Name != "skip" && d.Name != "include" {
				return false
			}
		}
		return true
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !ok(sel.Directives) {
				return fallbackDirective
			}
		case *ast.InlineFragment:
			if !ok(sel.Directives) {
				return fallbackDirective
			}
			if r := directives(sel.SelectionSet, seen); r != "" {
				return r
			}
		case *ast.FragmentSpread:
			if !ok(sel.Directives) || sel.Definition == nil || !ok(sel.Definition.Directives) {
				return fallbackDirective
			}
			if !seen[sel.Name] {
				seen[sel.Name] = true
				if r := directives(sel.Definition.SelectionSet, seen); r != "" {
					return r
				}
			}
		}
	}
	return ""
}

// conditions returns the variables the @skip/@include directives of set
// read, through fragments: with the document and operation, their values
// decide which fields CollectFields collects, so they name a compiled plan.
func conditions(set ast.SelectionSet, seen map[string]bool, out []string) []string {
	add := func(ds ast.DirectiveList) {
		for _, d := range ds {
			if d.Name != "skip" && d.Name != "include" {
				continue
			}
			if a := d.Arguments.ForName("if"); a != nil && a.Value != nil && a.Value.Kind == ast.Variable && !slices.Contains(out, a.Value.Raw) {
				out = append(out, a.Value.Raw)
			}
		}
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			add(sel.Directives)
			out = conditions(sel.SelectionSet, seen, out)
		case *ast.InlineFragment:
			add(sel.Directives)
			out = conditions(sel.SelectionSet, seen, out)
		case *ast.FragmentSpread:
			add(sel.Directives)
			if sel.Definition != nil && !seen[sel.Name] {
				seen[sel.Name] = true
				add(sel.Definition.Directives)
				out = conditions(sel.Definition.SelectionSet, seen, out)
			}
		}
	}
	return out
}

// DefaultPlanEntries bounds the compiled plans a Plan keeps.
const DefaultPlanEntries = 1024

// planCache keeps compiled plans by document, operation and condition
// values, at most max of them: when full, an arbitrary one is dropped (a
// plan is cheap to compile again; the bound is what matters).
type planCache struct {
	mu    sync.Mutex
	max   int
	conds map[string][]string  // document id + operation name -> condition variables
	plans map[string]*compiled // that key + the conditions' values
}

// plan returns the compiled plan of p, compiling it on first use.
func (pc *planCache) plan(p *gqlhttp.Prepared) *compiled {
	oc := p.Operation
	opKey := p.DocumentID() + "\x00" + oc.Operation.Name
	pc.mu.Lock()
	conds, ok := pc.conds[opKey]
	pc.mu.Unlock()
	if !ok {
		conds = conditions(oc.Operation.SelectionSet, map[string]bool{}, nil)
	}
	key, cacheable := opKey, true
	if len(conds) > 0 {
		b := make([]byte, 0, len(opKey)+1+len(conds))
		b = append(append(b, opKey...), 0)
		for _, v := range conds {
			switch oc.Variables[v] {
			case true:
				b = append(b, 't')
			case false:
				b = append(b, 'f')
			default: // gqlgen's coercion refuses it; do not name a plan by it
				cacheable = false
			}
		}
		key = string(b)
	}
	pc.mu.Lock()
	c := pc.plans[key]
	pc.mu.Unlock()
	if c != nil {
		return c
	}
	cp := &compiler{oc: oc}
	c = &compiled{}
	c.roots, c.fallback = cp.compile("Query", oc.Operation.SelectionSet)
	c.fields = cp.n
	if !cacheable {
		return c
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for k := range pc.plans {
		if len(pc.plans) < pc.max {
			break
		}
		delete(pc.plans, k)
	}
	for k := range pc.conds {
		if len(pc.conds) < pc.max {
			break
		}
		delete(pc.conds, k)
	}
	pc.conds[opKey] = conds
	pc.plans[key] = c
	return c
}

// serve answers p through the plan, or returns nil (having written and
// stored nothing) for gqlgen to answer it.
func (p *Plan) serve(ctx context.Context, r *Resolver, es graphql.ExecutableSchema, prep *gqlhttp.Prepared) []byte {
	oc := prep.Operation
	if oc.Operation.Operation != ast.Query {
		return p.fallback(fallbackOperation)
	}
	c := p.plans.plan(prep)
	if c.fallback != "" {
		return p.fallback(c.fallback)
	}
	run := newPlanRun(ctx, p, r, newExecutionContext(oc, es.(*executableSchema), nil), c)
	defer run.release()
	if err := run.coerce(c.roots); err != nil {
		return p.fallback(fallbackArgs)
	}
	if err := run.load(c.roots); err != nil {
		return p.fallback(fallbackError)
	}
	run.buf = append(run.buf, `{"data":`...)
	run.writeQuery(c.roots)
	run.buf = append(run.buf, '}')
	if run.err != nil {
		return p.fallback(fallbackError)
	}
	p.executions.Add(1)
	// The buffer goes to the caller, who keeps the answer, instead of a
	// copy of it: the plan's next run starts one of this answer's size.
	out := run.buf
	run.buf = nil
	c.size.Store(int64(len(out)))
	return out
}

// planRun is one request's walk over a compiled plan: its arguments and
// pages by field, and what it loaded, memoised per row as a dataloader
// would. Runs are pooled; release returns one.
type planRun struct {
	ctx        context.Context
	argCtx     context.Context // ctx with the input unmarshalers (coerce)
	plan       *Plan
	r          *Resolver
	ec         *executionContext
	fields     []fieldRun // by field idx
	trends     map[rangeKey]*db.Trend
	props      map[int64]*db.Property
	dests      map[int64]*db.Destination
	destProps  map[destPropsKey][]int64
	sentiments map[rangeKey]db.SentimentSummary
	buf        []byte
	err        error
}

// fieldRun is what a run holds for one field of its plan: its coerced
// arguments, and for a root what it read (the one its name reads).
type fieldRun struct {
	args    map[string]any
	page    *db.IDPage            // properties, destinations
	root    int64                 // property, destination (0: null)
	window  rangeKey              // an analytics field's window (sentimentKey)
	ranks   []*db.DestinationRank // topDestinations
	trends  []*db.Trend           // trends
	posts   *db.PostPage          // posts
	summary db.SentimentSummary   // sentimentSummary
}

var planRuns = sync.Pool{New: func() any {
	return &planRun{props: map[int64]*db.Property{}, dests: map[int64]*db.Destination{},
		destProps: map[destPropsKey][]int64{}, sentiments: map[rangeKey]db.SentimentSummary{}, trends: map[rangeKey]*db.Trend{}}
}}

// maxPooledBuffer bounds the output buffer a pooled run keeps.
const maxPooledBuffer = 1 << 20

func newPlanRun(ctx context.Context, p *Plan, r *Resolver, ec *executionContext, c *compiled) *planRun {
	run := planRuns.Get().(*planRun)
	run.ctx, run.plan, run.r, run.ec = ctx, p, r, ec
	run.fields = slices.Grow(run.fields[:0], c.fields)[:c.fields]
	if run.buf == nil {
		n := c.size.Load()
		run.buf = make([]byte, 0, n+n/16+64)
	}
	return run
}

func (run *planRun) release() {
	run.ctx, run.argCtx, run.plan, run.r, run.ec, run.err = nil, nil, nil, nil, nil, nil
	clear(run.fields)
	clear(run.trends)
	clear(run.props)
	clear(run.dests)
	clear(run.destProps)
	clear(run.sentiments)
	if cap(run.buf) > maxPooledBuffer {
		run.buf = nil
	}
	run.buf = run.buf[:0]
	planRuns.Put(run)
}

var errArgs = errors.New("graph: plan: invalid arguments")

// coerce coerces every field's arguments with the generated functions and
// checks them as the resolvers would, before anything is read.
func (run *planRun) coerce(fields []*planField) error {
	for _, f := range fields {
		var argf func(context.Context, map[string]any) (map[string]any, error)
		switch f.coord {
		case "Query.properties":
			argf = run.ec.field_Query_properties_args
		case "Query.property":
			argf = run.ec.field_Query_property_args
		case "Query.destinations":
			argf = run.ec.field_Query_destinations_args
		case "Query.destination":
			argf = run.ec.field_Query_destination_args
		case "Destination.properties":
			argf = run.ec.field_Destination_properties_args
		case "Destination.sentiment":
			argf = run.ec.field_Destination_sentiment_args
		case "Query.topDestinations":
			argf = run.ec.field_Query_topDestinations_args
		case "Query.sentimentSummary":
			argf = run.ec.field_Query_sentimentSummary_args
		case "Query.trends":
			argf = run.ec.field_Query_trends_args
		case "Query.posts":
			argf = run.ec.field_Query_posts_args
		case "Destination.trend":
			argf = run.ec.field_Destination_trend_args
		}
		if argf != nil {
			if run.argCtx == nil { // the input unmarshalers the generated functions look up, once a run
				run.argCtx = graphql.WithUnmarshalerMap(run.ctx, graphql.BuildUnmarshalerMap(run.ec.unmarshalInputPropertyFilter))
			}
			args, err := argf(run.argCtx, f.ArgumentMap(run.ec.OperationContext.Variables))
			if err != nil {
				return err
			}
			run.fields[f.idx].args = args
		}
		args := run.fields[f.idx].args
		switch f.coord {
		case "Query.properties":
			if _, err := propertyArgs(args["filter"].(*db.PropertyFilter), args["first"].(*int), args["after"].(*string), args["orderBy"].(*db.PropertyOrder)); err != nil {
				return err
			}
		case "Query.destinations":
			if _, err := destinationArgs(args); err != nil {
				return err
			}
		case "Query.destination":
			if (args["id"].(*int64) == nil) == (args["slug"].(*string) == nil) {
				return errArgs
			}
		case "Destination.properties":
			if _, err := destinationProperties.page.size(args["first"].(*int)); err != nil {
				return err
			}
		case "Query.topDestinations":
			if _, _, err := run.rankingArgs(queryTopDestinations.page, args); err != nil {
				return err
			}
		case "Query.trends":
			if _, _, err := run.rankingArgs(queryTrends.page, args); err != nil {
				return err
			}
		case "Query.posts":
			if _, err := run.postArgs(args); err != nil {
				return err
			}
		case "Query.sentimentSummary":
			if _, err := run.summaryArgs(args); err != nil {
				return err
			}
		}
		if f.children != nil {
			if err := run.coerce(f.children); err != nil {
				return err
			}
		}
	}
	return nil
}

func destinationArgs(args map[string]any) (db.DestinationArgs, error) {
	n, err := queryDestinations.page.size(args["first"].(*int))
	if err != nil {
		return db.DestinationArgs{}, err
	}
	return db.NewDestinationArgs(args["city"].(*string), args["category"].(*db.Category), db.Page{First: n, After: str(args["after"].(*string))})
}
