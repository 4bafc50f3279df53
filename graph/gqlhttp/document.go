package gqlhttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
	"github.com/kedahpulse/kedahpulse/graph/limit"
)

// A Document is a query text parsed, within its limits, and validated once,
// with what the response level needs to know of each of its operations.
type Document struct {
	ast  *ast.QueryDocument
	id   string                       // hex sha256 of the normalised document
	hint map[string]cachecontrol.Hint // by operation name ("" for an anonymous one)
	// roots are the coordinates of each query operation's cached, public
	// root fields ("Query.properties"), which a whole-response hit counts
	// as hits.
	roots map[string][]string
	size  int // estimated bytes held

	mu    sync.Mutex
	costs map[string]int // by operation name and coerced variables (see Documents.CheckCost)
}

// maxCostsPerDocument bounds the costs a Document remembers, and
// costKeyBytes the key of one: a longer encoding of the variables is
// hashed. The bytes they hold are part of the document's size estimate.
const (
	maxCostsPerDocument = 64
	costKeyBytes        = 256
)

// operation returns the operation named name, or the only one when name
// is empty (nil when there is no such operation).
func (d *Document) operation(name string) *ast.OperationDefinition {
	if name == "" && len(d.ast.Operations) == 1 {
		return d.ast.Operations[0]
	}
	return d.ast.Operations.ForName(name)
}

// Documents prepares query texts: one parse (with the token limit), the
// limits checked on the parsed text before anything else walks it, one
// validation, and the cache hint of each operation. Prepared documents are
// kept in an LRU bounded in bytes; a text that fails any step is not kept.
type Documents struct {
	schema  *ast.Schema
	limits  limit.Limits
	pricing limit.Pricing
	policy  *cachecontrol.Policy
	rules   func() *rules.Rules

	kept *lru[*Document] // by text
}

// astBytesPerByte estimates the heap a parsed and validated document holds
// per byte of its text (measured by TestDocumentSizeEstimate).
const astBytesPerByte = 24

// NewDocuments returns the documents of schema, within l (priced by p),
// with the cache hints of policy, keeping at most budget bytes of them.
func NewDocuments(schema *ast.Schema, l limit.Limits, p limit.Pricing, policy *cachecontrol.Policy, budget int) *Documents {
	return &Documents{
		schema: schema, limits: l, pricing: p, policy: policy, kept: newLRU[*Document](budget),
		rules: func() *rules.Rules {
			// No "did you mean" suggestions: they describe the schema to
			// clients that may not introspect it.
			r := rules.NewDefaultRules()
			r.RemoveRule("FieldsOnCorrectType")
			r.AddRule(rules.FieldsOnCorrectTypeRuleWithoutSuggestions.Name, rules.FieldsOnCorrectTypeRuleWithoutSuggestions.RuleFunc)
			r.RemoveRule("ScalarLeafs")
			r.AddRule(rules.ScalarLeafsRuleWithoutSuggestions.Name, rules.ScalarLeafsRuleWithoutSuggestions.RuleFunc)
			return r
		},
	}
}

// Load returns the prepared document of text.
func (ds *Documents) Load(text string) (*Document, gqlerror.List) {
	if d, ok := ds.kept.get(text); ok {
		return d, nil
	}
	if err := ds.limits.CheckCharacters(text); err != nil {
		return nil, gqlerror.List{err}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: text}, ds.limits.Tokens)
	if err != nil {
		gqlErr, ok := err.(*gqlerror.Error)
		if !ok {
			gqlErr = gqlerror.Wrap(err)
		}
		if strings.Contains(gqlErr.Message, "token limit") {
			return nil, gqlerror.List{limit.Exceeded(limit.CodeTooLarge, "tokens:", ds.limits.Tokens+1, ds.limits.Tokens)}
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return nil, gqlerror.List{gqlErr}
	}
	if len(doc.Operations) == 0 {
		err := gqlerror.Errorf("no operation provided")
		errcode.Set(err, errcode.ValidationFailed)
		return nil, gqlerror.List{err}
	}
	if err := limit.Check(ds.schema, doc, ds.limits, ds.pricing); err != nil {
		return nil, gqlerror.List{err}
	}
	if errs := validator.ValidateWithRules(ds.schema, doc, ds.rules()); len(errs) > 0 {
		for _, e := range errs {
			errcode.Set(e, errcode.ValidationFailed)
		}
		return nil, errs
	}
	d := &Document{ast: doc, size: len(text)*astBytesPerByte + 1024 + maxCostsPerDocument*(costKeyBytes+64),
		hint: make(map[string]cachecontrol.Hint, len(doc.Operations)), roots: make(map[string][]string, len(doc.Operations))}
	for _, op := range doc.Operations {
		d.hint[op.Name] = ds.policy.Operation(op)
		if op.Operation == ast.Query {
			d.roots[op.Name] = cachedRoots(op.SelectionSet, ds.policy, map[string]bool{}, nil)
		}
	}
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	sum := sha256.Sum256([]byte(b.String()))
	d.id = hex.EncodeToString(sum[:])
	ds.kept.add(text, d, d.size)
	return d, nil
}

// CheckCost refuses op, an operation of d, when its cost with the coerced
// variables vars exceeds the cost limit: the price of the values as the
// client sent them, literals or variables alike. Costs are memoised per
// document, operation and variables (at most maxCostsPerDocument of them).
func (ds *Documents) CheckCost(d *Document, op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	key, ok := costKey(op.Name, vars)
	if !ok {
		return ds.limits.CheckCost(limit.Cost(ds.schema, d.ast, op, vars, ds.pricing))
	}
	d.mu.Lock()
	cost, seen := d.costs[key]
	d.mu.Unlock()
	if !seen {
		cost = limit.Cost(ds.schema, d.ast, op, vars, ds.pricing)
		d.mu.Lock()
		if d.costs == nil {
			d.costs = map[string]int{}
		}
		if len(d.costs) < maxCostsPerDocument {
			d.costs[key] = cost
		}
		d.mu.Unlock()
	}
	return ds.limits.CheckCost(cost)
}

// costKey names an operation with its variables: their JSON, canonical
// since maps encode with sorted keys, hashed when long.
func costKey(op string, vars map[string]any) (string, bool) {
	b, err := json.Marshal(vars)
	if err != nil {
		return "", false
	}
	if len(op)+len(b) > costKeyBytes {
		sum := sha256.Sum256(append([]byte(op+"\x00"), b...))
		return "#" + hex.EncodeToString(sum[:]), true
	}
	return op + "\x00" + string(b), true
}

// bytes reports the estimated bytes the prepared documents hold.
func (ds *Documents) bytes() int { return ds.kept.bytes() }

// QueryCache hands gqlgen the document the transport prepared for this
// request, so that gqlgen neither parses nor validates it again. It is
// gqlgen's query cache (SetQueryCache): Get answers from the request's
// context only, and Add keeps nothing (Documents keeps them, within its
// budget).
type QueryCache struct{}

type preparedKey struct{}

// withPrepared hands d to QueryCache: gqlgen's CreateOperationContext
// takes only a context and the parameters.
func withPrepared(ctx context.Context, d *Document) context.Context {
	return context.WithValue(ctx, preparedKey{}, d)
}

func (QueryCache) Get(ctx context.Context, _ string) (*ast.QueryDocument, bool) {
	d, ok := ctx.Value(preparedKey{}).(*Document)
	if !ok {
		return nil, false
	}
	return d.ast, true
}

func (QueryCache) Add(context.Context, string, *ast.QueryDocument) {}

var _ graphql.Cache[*ast.QueryDocument] = QueryCache{}

// cachedRoots appends to coords the coordinates of the cached, public root
// fields of set (through fragments, each walked once), without duplicates.
func cachedRoots(set ast.SelectionSet, p *cachecontrol.Policy, seen map[string]bool, coords []string) []string {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			coord := "Query." + sel.Name
			if !seen[coord] && p.TTL(coord) > 0 && !p.Private(coord) {
				seen[coord] = true
				coords = append(coords, coord)
			}
		case *ast.InlineFragment:
			coords = cachedRoots(sel.SelectionSet, p, seen, coords)
		case *ast.FragmentSpread:
			if sel.Definition != nil && !seen["..."+sel.Name] {
				seen["..."+sel.Name] = true
				coords = cachedRoots(sel.Definition.SelectionSet, p, seen, coords)
			}
		}
	}
	return coords
}
