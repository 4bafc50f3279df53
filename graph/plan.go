package graph

// The compiled read path. A query the plan supports is answered without
// gqlgen's executor: its fields are collected once per selection (with
// gqlgen's own CollectFields, so aliases, fragments, @skip/@include and
// __typename mean the same), its arguments coerced by the generated
// argument functions, its values loaded breadth-first (one batch per field
// for all its parents, through the same rows and read-through as the
// resolvers), and its JSON written with gqlgen's own scalar marshalers.
//
// It answers queries whose fields are all in planFields: Query.properties,
// property, destinations, destination (id or slug), the connections,
// edges and pageInfo, every scalar field of Property, Destination and
// SentimentSummary, Property.destination, Destination.properties and
// Destination.sentiment, and __typename anywhere. It hands to gqlgen,
// before writing a byte: mutations and subscriptions, any other field
// (admin fields, analytics roots, Destination.trend, introspection), any
// directive but @skip/@include, any argument error, and any error while
// loading or writing. It lives in package graph because the rows of
// coordinate.go, the read-through and the generated argument coercion are
// unexported here.

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/model"
)

// Plan turns the compiled read path on (Options.Plan) and counts how often
// it answers and why it hands a request to gqlgen. It is a Prometheus
// collector.
type Plan struct {
	executions atomic.Int64
	fallbacks  map[string]*atomic.Int64 // by reason, fixed at NewPlan
}

var (
	planExecutionsDesc = prometheus.NewDesc("kedahpulse_plan_executions_total", "Queries answered by the compiled read path.", nil, nil)
	planFallbacksDesc  = prometheus.NewDesc("kedahpulse_plan_fallbacks_total", "Queries the compiled read path handed to gqlgen, by reason.", []string{"reason"}, nil)
)

// NewPlan returns a Plan with its counters at zero.
func NewPlan() *Plan {
	p := &Plan{fallbacks: map[string]*atomic.Int64{}}
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

func (p *Plan) fallback(reason string) *graphql.Response {
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
		"destinations": "DestinationConnection", "destination": "Destination"},
	"PropertyConnection":    {"edges": "PropertyEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"PropertyEdge":          {"cursor": "", "node": "Property"},
	"DestinationConnection": {"edges": "DestinationEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"DestinationEdge":       {"cursor": "", "node": "Destination"},
	"PageInfo":              {"hasNextPage": "", "endCursor": ""},
	"Property": {"id": "", "title": "", "description": "", "price": "", "location": "",
		"destination": "Destination", "createdAt": "", "updatedAt": ""},
	"Destination": {"id": "", "slug": "", "name": "", "city": "", "category": "", "description": "",
		"latitude": "", "longitude": "", "createdAt": "", "updatedAt": "",
		"properties": "Property", "sentiment": "SentimentSummary"},
	"SentimentSummary": {"range": "", "positive": "", "neutral": "", "negative": "", "total": "", "averageScore": ""},
}

// planField is one collected field of a plan, with its object's collected
// fields when it has any.
type planField struct {
	graphql.CollectedField
	children []*planField
	args     map[string]any // coerced, per request
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

// compile collects the fields of set on typ, recursively; "" is a reason
// to fall back.
func compile(oc *graphql.OperationContext, typ string, set ast.SelectionSet) ([]*planField, string) {
	if reason := directives(set, map[string]bool{}); reason != "" {
		return nil, reason
	}
	supported := planFields[typ]
	collected := graphql.CollectFields(oc, set, []string{typ})
	out := make([]*planField, len(collected))
	for i, cf := range collected {
		f := &planField{CollectedField: cf}
		out[i] = f
		if cf.Name == "__typename" {
			continue
		}
		child, ok := supported[cf.Name]
		if !ok {
			return nil, fallbackField
		}
		if child != "" {
			var reason string
			if f.children, reason = compile(oc, child, cf.Selections); reason != "" {
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

// serve answers oc through the plan, or returns nil (having written and
// stored nothing) for gqlgen to answer it.
func (p *Plan) serve(ctx context.Context, r *Resolver, es graphql.ExecutableSchema, oc *graphql.OperationContext) *graphql.Response {
	if oc.Operation.Operation != ast.Query {
		return p.fallback(fallbackOperation)
	}
	roots, reason := compile(oc, "Query", oc.Operation.SelectionSet)
	if reason != "" {
		return p.fallback(reason)
	}
	run := &planRun{ctx: ctx, r: r, ec: newExecutionContext(oc, es.(*executableSchema), nil),
		props: map[int64]*db.Property{}, dests: map[int64]*db.Destination{},
		destProps: map[destPropsKey][]int64{}, sentiments: map[rangeKey]db.SentimentSummary{},
		pages: map[*planField]*db.IDPage{}, roots: map[*planField]int64{}}
	if err := run.coerce("Query", roots); err != nil {
		return p.fallback(fallbackArgs)
	}
	if err := run.load(roots); err != nil {
		return p.fallback(fallbackError)
	}
	var buf bytes.Buffer
	run.writeQuery(&buf, roots)
	if run.err != nil {
		return p.fallback(fallbackError)
	}
	p.executions.Add(1)
	return &graphql.Response{Data: buf.Bytes()}
}

// planRun is one request's walk over a plan: what it loaded, memoised per
// row as a dataloader would.
type planRun struct {
	ctx        context.Context
	r          *Resolver
	ec         *executionContext
	props      map[int64]*db.Property
	dests      map[int64]*db.Destination
	destProps  map[destPropsKey][]int64
	sentiments map[rangeKey]db.SentimentSummary
	pages      map[*planField]*db.IDPage // a connection root's page
	roots      map[*planField]int64      // a single root's id (0: null)
	err        error
}

var errArgs = errors.New("graph: plan: invalid arguments")

// coerce coerces every field's arguments with the generated functions and
// checks them as the resolvers would, before anything is read.
func (run *planRun) coerce(typ string, fields []*planField) error {
	ctx := graphql.WithUnmarshalerMap(run.ctx, graphql.BuildUnmarshalerMap(run.ec.unmarshalInputPropertyFilter))
	for _, f := range fields {
		var argf func(context.Context, map[string]any) (map[string]any, error)
		switch typ + "." + f.Name {
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
		}
		if argf != nil {
			args, err := argf(ctx, f.ArgumentMap(run.ec.OperationContext.Variables))
			if err != nil {
				return err
			}
			f.args = args
		}
		switch typ + "." + f.Name {
		case "Query.properties":
			if _, err := propertyArgs(f.args["filter"].(*db.PropertyFilter), f.args["first"].(*int), f.args["after"].(*string), f.args["orderBy"].(*db.PropertyOrder)); err != nil {
				return err
			}
		case "Query.destinations":
			if _, err := destinationArgs(f.args); err != nil {
				return err
			}
		case "Query.destination":
			if (f.args["id"].(*int64) == nil) == (f.args["slug"].(*string) == nil) {
				return errArgs
			}
		case "Destination.properties":
			if _, err := destinationProperties.page.size(f.args["first"].(*int)); err != nil {
				return err
			}
		}
		if f.children != nil {
			if err := run.coerce(planFields[typ][f.Name], f.children); err != nil {
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

// load reads the roots, then every level below them.
func (run *planRun) load(roots []*planField) error {
	ctx, r := run.ctx, run.r
	var propIDs, destIDs []int64
	for _, f := range roots {
		switch f.Name {
		case "properties":
			a, _ := propertyArgs(f.args["filter"].(*db.PropertyFilter), f.args["first"].(*int), f.args["after"].(*string), f.args["orderBy"].(*db.PropertyOrder))
			a.Count = f.selects("totalCount")
			page, err := queryProperties.read(ctx, r, a)
			if err != nil {
				return err
			}
			run.pages[f] = page
			propIDs = append(propIDs, page.IDs...)
		case "destinations":
			a, _ := destinationArgs(f.args)
			page, err := queryDestinations.read(ctx, r, a)
			if err != nil {
				return err
			}
			run.pages[f] = page
			destIDs = append(destIDs, page.IDs...)
		case "property":
			id := f.args["id"].(int64)
			run.roots[f] = id
			propIDs = append(propIDs, id)
		case "destination":
			var id int64
			if p := f.args["id"].(*int64); p != nil {
				id = *p
			} else {
				found, err := queryDestination.read(ctx, r, db.SlugArgs{Slug: *f.args["slug"].(*string)})
				if err != nil {
					return err
				}
				id = found
			}
			run.roots[f] = id
			if id != 0 {
				destIDs = append(destIDs, id)
			}
		}
	}
	if err := memoLoad(ctx, r, entityProperty, run.props, propIDs); err != nil {
		return err
	}
	if err := memoLoad(ctx, r, entityDestination, run.dests, destIDs); err != nil {
		return err
	}
	for _, f := range roots {
		switch f.Name {
		case "properties":
			for _, node := range nodes(f) {
				if err := run.loadProperties(node, pickFrom(run.props, run.pages[f].IDs)); err != nil {
					return err
				}
			}
		case "destinations":
			for _, node := range nodes(f) {
				if err := run.loadDestinations(node, pickFrom(run.dests, run.pages[f].IDs)); err != nil {
					return err
				}
			}
		case "property":
			if err := run.loadProperties(f.children, pickFrom(run.props, []int64{run.roots[f]})); err != nil {
				return err
			}
		case "destination":
			if err := run.loadDestinations(f.children, pickFrom(run.dests, []int64{run.roots[f]})); err != nil {
				return err
			}
		}
	}
	return nil
}

func (run *planRun) pick(m map[int64]*db.Property, ids []int64) []*db.Property {
	return pickFrom(m, ids)
}

// pickFrom returns the loaded values of ids, without the missing ones.
func pickFrom[V any](m map[int64]*V, ids []int64) []*V {
	out := make([]*V, 0, len(ids))
	for _, id := range ids {
		if v := m[id]; v != nil {
			out = append(out, v)
		}
	}
	return out
}

// nodes returns the selections of a connection's edges' nodes.
func nodes(conn *planField) [][]*planField {
	var out [][]*planField
	for _, e := range conn.children {
		if e.Name != "edges" {
			continue
		}
		for _, n := range e.children {
			if n.Name == "node" {
				out = append(out, n.children)
			}
		}
	}
	return out
}

func (run *planRun) loadProperties(fields []*planField, objs []*db.Property) error {
	if len(objs) == 0 {
		return nil
	}
	for _, f := range fields {
		if f.Name != "destination" {
			continue
		}
		var ids []int64
		for _, p := range objs {
			if p.DestinationID != nil {
				ids = append(ids, *p.DestinationID)
			}
		}
		if err := memoLoad(run.ctx, run.r, entityDestination, run.dests, ids); err != nil {
			return err
		}
		if err := run.loadDestinations(f.children, pickFrom(run.dests, ids)); err != nil {
			return err
		}
	}
	return nil
}

func (run *planRun) loadDestinations(fields []*planField, objs []*db.Destination) error {
	if len(objs) == 0 {
		return nil
	}
	for _, f := range fields {
		switch f.Name {
		case "properties":
			keys := make([]destPropsKey, len(objs))
			for i, d := range objs {
				keys[i] = run.destPropsKey(f, d)
			}
			if err := memoLoad(run.ctx, run.r, destinationProperties, run.destProps, keys); err != nil {
				return err
			}
			var ids []int64
			for _, k := range keys {
				ids = append(ids, run.destProps[k]...)
			}
			if err := memoLoad(run.ctx, run.r, entityProperty, run.props, ids); err != nil {
				return err
			}
			if err := run.loadProperties(f.children, pickFrom(run.props, ids)); err != nil {
				return err
			}
		case "sentiment":
			keys := make([]rangeKey, len(objs))
			for i, d := range objs {
				keys[i] = run.r.rangeKey(run.ctx, d, f.args["range"].(*db.TimeRange))
			}
			if err := memoLoad(run.ctx, run.r, destinationSentiment, run.sentiments, keys); err != nil {
				return err
			}
		}
	}
	return nil
}

func (run *planRun) destPropsKey(f *planField, d *db.Destination) destPropsKey {
	n, _ := destinationProperties.page.size(f.args["first"].(*int))
	return destPropsKey{DestinationID: d.ID, First: n}
}

// Writing: the same bytes as gqlgen's marshalers.

func (run *planRun) key(w *bytes.Buffer, i int, f *planField) {
	if i > 0 {
		w.WriteByte(',')
	}
	graphql.MarshalString(f.Alias).MarshalGQL(w)
	w.WriteByte(':')
}

func (run *planRun) float(w *bytes.Buffer, v float64) {
	if err := graphql.MarshalFloatContext(v).MarshalGQLContext(run.ctx, w); err != nil && run.err == nil {
		run.err = err
	}
}

func null(w *bytes.Buffer) { w.WriteString("null") }

func (run *planRun) writeQuery(w *bytes.Buffer, fields []*planField) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString("Query").MarshalGQL(w)
		case "properties":
			page := run.pages[f]
			run.writeConnection(w, f.children, "PropertyConnection", "PropertyEdge", page, func(w *bytes.Buffer, fields []*planField, id int64) bool {
				p := run.props[id]
				if p != nil && w != nil {
					run.writeProperty(w, fields, p)
				}
				return p != nil
			})
		case "destinations":
			page := run.pages[f]
			run.writeConnection(w, f.children, "DestinationConnection", "DestinationEdge", page, func(w *bytes.Buffer, fields []*planField, id int64) bool {
				d := run.dests[id]
				if d != nil && w != nil {
					run.writeDestination(w, fields, d)
				}
				return d != nil
			})
		case "property":
			if p := run.props[run.roots[f]]; p != nil {
				run.writeProperty(w, f.children, p)
			} else {
				null(w)
			}
		case "destination":
			if d := run.dests[run.roots[f]]; d != nil && run.roots[f] != 0 {
				run.writeDestination(w, f.children, d)
			} else {
				null(w)
			}
		}
	}
	w.WriteByte('}')
}

// writeConnection writes a page as a connection; node writes the node of
// an id (with a nil w, only reports whether it exists: the edge of a row
// deleted since the page was read is left out, as the resolvers do).
func (run *planRun) writeConnection(w *bytes.Buffer, fields []*planField, typ, edgeTyp string, page *db.IDPage,
	node func(w *bytes.Buffer, fields []*planField, id int64) bool) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString(typ).MarshalGQL(w)
		case "totalCount":
			graphql.MarshalInt(page.TotalCount).MarshalGQL(w)
		case "pageInfo":
			run.writePageInfo(w, f.children, page)
		case "edges":
			w.WriteByte('[')
			n := 0
			for j, id := range page.IDs {
				if !node(nil, nil, id) {
					continue // deleted since the page was read
				}
				if n > 0 {
					w.WriteByte(',')
				}
				n++
				run.writeEdge(w, f.children, edgeTyp, page.Cursors[j], id, node)
			}
			w.WriteByte(']')
		}
	}
	w.WriteByte('}')
}

func (run *planRun) writeEdge(w *bytes.Buffer, fields []*planField, typ, cursor string, id int64,
	node func(w *bytes.Buffer, fields []*planField, id int64) bool) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString(typ).MarshalGQL(w)
		case "cursor":
			graphql.MarshalString(cursor).MarshalGQL(w)
		case "node":
			node(w, f.children, id)
		}
	}
	w.WriteByte('}')
}

func (run *planRun) writePageInfo(w *bytes.Buffer, fields []*planField, page *db.IDPage) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString("PageInfo").MarshalGQL(w)
		case "hasNextPage":
			graphql.MarshalBoolean(page.HasNext).MarshalGQL(w)
		case "endCursor":
			if n := len(page.Cursors); n > 0 {
				graphql.MarshalString(page.Cursors[n-1]).MarshalGQL(w)
			} else {
				null(w)
			}
		}
	}
	w.WriteByte('}')
}

func (run *planRun) writeProperty(w *bytes.Buffer, fields []*planField, p *db.Property) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString("Property").MarshalGQL(w)
		case "id":
			model.MarshalID(p.ID).MarshalGQL(w)
		case "title":
			graphql.MarshalString(p.Title).MarshalGQL(w)
		case "description":
			graphql.MarshalString(p.Description).MarshalGQL(w)
		case "price":
			model.MarshalDecimal(p.Price).MarshalGQL(w)
		case "location":
			graphql.MarshalString(p.Location).MarshalGQL(w)
		case "createdAt":
			model.MarshalTime(p.CreatedAt).MarshalGQL(w)
		case "updatedAt":
			model.MarshalTime(p.UpdatedAt).MarshalGQL(w)
		case "destination":
			var d *db.Destination
			if p.DestinationID != nil {
				d = run.dests[*p.DestinationID]
			}
			if d == nil {
				null(w)
			} else {
				run.writeDestination(w, f.children, d)
			}
		}
	}
	w.WriteByte('}')
}

func (run *planRun) writeDestination(w *bytes.Buffer, fields []*planField, d *db.Destination) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString("Destination").MarshalGQL(w)
		case "id":
			model.MarshalID(d.ID).MarshalGQL(w)
		case "slug":
			graphql.MarshalString(d.Slug).MarshalGQL(w)
		case "name":
			graphql.MarshalString(d.Name).MarshalGQL(w)
		case "city":
			graphql.MarshalString(d.City).MarshalGQL(w)
		case "category":
			graphql.MarshalString(marshalNDestinationCategory2githubᚗcomᚋkedahpulseᚋkedahpulseᚋdbᚐCategory[d.Category]).MarshalGQL(w)
		case "description":
			graphql.MarshalString(d.Description).MarshalGQL(w)
		case "latitude":
			run.optFloat(w, d.Latitude)
		case "longitude":
			run.optFloat(w, d.Longitude)
		case "createdAt":
			model.MarshalTime(d.CreatedAt).MarshalGQL(w)
		case "updatedAt":
			model.MarshalTime(d.UpdatedAt).MarshalGQL(w)
		case "properties":
			w.WriteByte('[')
			n := 0
			for _, id := range run.destProps[run.destPropsKey(f, d)] {
				p := run.props[id]
				if p == nil {
					continue
				}
				if n > 0 {
					w.WriteByte(',')
				}
				n++
				run.writeProperty(w, f.children, p)
			}
			w.WriteByte(']')
		case "sentiment":
			run.writeSentiment(w, f.children, run.sentiments[run.r.rangeKey(run.ctx, d, f.args["range"].(*db.TimeRange))])
		}
	}
	w.WriteByte('}')
}

func (run *planRun) optFloat(w *bytes.Buffer, v *float64) {
	if v == nil {
		null(w)
		return
	}
	run.float(w, *v)
}

func (run *planRun) writeSentiment(w *bytes.Buffer, fields []*planField, s db.SentimentSummary) {
	w.WriteByte('{')
	for i, f := range fields {
		run.key(w, i, f)
		switch f.Name {
		case "__typename":
			graphql.MarshalString("SentimentSummary").MarshalGQL(w)
		case "range":
			graphql.MarshalString(marshalNTimeRange2githubᚗcomᚋkedahpulseᚋkedahpulseᚋdbᚐTimeRange[s.Range]).MarshalGQL(w)
		case "positive":
			graphql.MarshalInt(s.Positive).MarshalGQL(w)
		case "neutral":
			graphql.MarshalInt(s.Neutral).MarshalGQL(w)
		case "negative":
			graphql.MarshalInt(s.Negative).MarshalGQL(w)
		case "total":
			graphql.MarshalInt(s.Total).MarshalGQL(w)
		case "averageScore":
			run.float(w, s.AverageScore)
		}
	}
	w.WriteByte('}')
}
