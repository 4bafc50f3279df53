package limit

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bound one document. Each is documented with its environment
// variable in the README; Defaults are at least as strict as GraphQL
// Armor's (characters 15,000, tokens 1,000, aliases 15, directives 50,
// depth 6, cost 5,000).
type Limits struct {
	Characters int // bytes of query text
	Tokens     int // lexer tokens, enforced by the parser
	Aliases    int // aliased fields executed, fragments expanded
	Directives int // directive uses executed, fragments expanded
	Depth      int // selection nesting outside introspection, a leaf field counting 1
	Cost       int // see Pricing
	// Introspection bounds __schema and __type fields per operation, and
	// IntrospectionDepth the nesting below them (GraphiQL's and graphql-js's
	// introspection queries need 13 to 15 levels, which Depth would refuse).
	Introspection      int
	IntrospectionDepth int
}

// Defaults are the limits used where a field of Limits is zero.
var Defaults = Limits{
	Characters: 15_000, Tokens: 1_000, Aliases: 15, Directives: 50, Depth: 6, Cost: 5_000,
	Introspection: 2, IntrospectionDepth: 16,
}

// WithDefaults returns l with its zero fields set from Defaults.
func (l Limits) WithDefaults() Limits {
	or := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	d := Defaults
	return Limits{
		Characters: or(l.Characters, d.Characters), Tokens: or(l.Tokens, d.Tokens),
		Aliases: or(l.Aliases, d.Aliases), Directives: or(l.Directives, d.Directives),
		Depth: or(l.Depth, d.Depth), Cost: or(l.Cost, d.Cost),
		Introspection: or(l.Introspection, d.Introspection), IntrospectionDepth: or(l.IntrospectionDepth, d.IntrospectionDepth),
	}
}

// Pricing says what fields cost. Every field costs 1. A field listed in
// Pages costs 1 plus its children's cost times its page: the value of its
// page argument (at least 1, at most Max), Default when it has none.
// Surcharge adds a field's own extra cost from its arguments (an analytics
// window, a text search). Arguments are priced as the client sent them,
// literals or variables alike: Cost prices an operation with its coerced
// variables; Check, which runs before they are known, prices a variable at
// the least it could cost (a page of 1, no surcharge from it), a lower
// bound that Cost then makes exact. Introspection fields cost nothing here:
// they are bounded by Introspection and IntrospectionDepth.
type Pricing struct {
	Pages map[string]Page // by schema coordinate, "Type.field"
	// Surcharge is the extra cost of the field at coord given its
	// arguments: the values sent, the schema's defaults where none was
	// sent (literals as gqlparser reads them: int64, string, bool,
	// map[string]any; variables as coerced). An argument whose variable is
	// not known yet is absent.
	Surcharge func(coord string, args map[string]any) int
	// Shared names the part of a surcharge that pays for a read other
	// fields may share (a ranking read once for every field of its
	// window): a root field of an operation whose key an earlier root
	// field already paid for is charged its surcharge less price. Fields in
	// fragments and below the root pay in full (an overcharge, never an
	// undercharge). nil: nothing is shared.
	Shared func(coord string, args map[string]any) (key string, price int)
}

// Page prices a list field.
type Page struct {
	Arg          string // "" for a fixed size
	Default, Max int
}

// Error codes in extensions.code.
const (
	CodeTooLarge      = "QUERY_TOO_LARGE"      // characters or tokens
	CodeTooComplex    = "QUERY_TOO_COMPLEX"    // cost
	CodeTooDeep       = "DEPTH_LIMIT_EXCEEDED" // depth or introspection depth
	CodeTooManyFields = "TOO_MANY_ALIASES"     // aliases
	CodeTooManyDirs   = "TOO_MANY_DIRECTIVES"  // directives
	CodeIntrospection = "INTROSPECTION_LIMIT"  // introspection fields
)

// Exceeded is the error for a limit a document exceeds.
func Exceeded(code, what string, got, limit int) *gqlerror.Error {
	err := gqlerror.Errorf("%s %s exceeds the limit of %d", what, count(got), limit)
	err.Extensions = map[string]any{"code": code, "limit": limit}
	return err
}

func count(n int) string {
	if n == math.MaxInt {
		return "(too many to count)"
	}
	return strconv.Itoa(n)
}

// CheckCharacters refuses query text longer than l.Characters.
func (l Limits) CheckCharacters(query string) *gqlerror.Error {
	if len(query) > l.Characters {
		return Exceeded(CodeTooLarge, "query of "+strconv.Itoa(len(query))+" characters:", len(query), l.Characters)
	}
	return nil
}

// Check measures every operation of doc, a parsed document that has not
// been validated, against l and returns the first limit exceeded. Its
// variables are not known yet: the cost it checks is a lower bound (see
// Pricing), which Cost makes exact once they are coerced.
func Check(schema *ast.Schema, doc *ast.QueryDocument, l Limits, p Pricing) *gqlerror.Error {
	w := newWalker(schema, doc, p, nil)
	for _, op := range doc.Operations {
		t := w.operation(op)
		switch {
		case t.cycle:
			return gqlerror.Errorf("fragments spread each other in a cycle")
		case t.aliases > l.Aliases:
			return Exceeded(CodeTooManyFields, "aliases:", t.aliases, l.Aliases)
		case t.directives > l.Directives:
			return Exceeded(CodeTooManyDirs, "directives:", t.directives, l.Directives)
		case t.introspection > l.Introspection:
			return Exceeded(CodeIntrospection, "introspection fields:", t.introspection, l.Introspection)
		case t.depth > l.Depth:
			return Exceeded(CodeTooDeep, "depth:", t.depth, l.Depth)
		case t.introDepth > l.IntrospectionDepth:
			return Exceeded(CodeTooDeep, "introspection depth:", t.introDepth, l.IntrospectionDepth)
		}
		if err := l.CheckCost(t.cost); err != nil {
			return err
		}
	}
	return nil
}

// Cost is the cost of op, an operation of doc, with its coerced variables
// vars (nil when it has none). doc has passed Check.
func Cost(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, p Pricing) int {
	if vars == nil {
		vars = map[string]any{}
	}
	return newWalker(schema, doc, p, vars).operation(op).cost
}

// CheckCost refuses a cost over l.Cost.
func (l Limits) CheckCost(cost int) *gqlerror.Error {
	if cost > l.Cost {
		return Exceeded(CodeTooComplex, "cost:", cost, l.Cost)
	}
	return nil
}

func rootType(schema *ast.Schema, op ast.Operation) *ast.Definition {
	switch op {
	case ast.Mutation:
		return schema.Mutation
	case ast.Subscription:
		return schema.Subscription
	}
	return schema.Query
}

// totals are what a selection set executes. Every sum saturates at
// math.MaxInt.
type totals struct {
	cost, depth, introDepth, aliases, directives, introspection int
	cycle                                                       bool
}

func (t *totals) addAll(o *totals) {
	t.cost = add(t.cost, o.cost)
	t.aliases = add(t.aliases, o.aliases)
	t.directives = add(t.directives, o.directives)
	t.introspection = add(t.introspection, o.introspection)
	t.depth = max(t.depth, o.depth)
	t.introDepth = max(t.introDepth, o.introDepth)
	t.cycle = t.cycle || o.cycle
}

// scaled is t with its counts multiplied by n, as when a list repeats its
// children n times. Depths do not scale.
func (t totals) scaled(n int) totals {
	t.cost, t.aliases, t.directives, t.introspection = mul(t.cost, n), mul(t.aliases, n), mul(t.directives, n), mul(t.introspection, n)
	return t
}

func add(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func mul(a, b int) int {
	if a != 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

type memoKey struct {
	fragment      string
	introspecting bool
}

type walker struct {
	schema     *ast.Schema
	doc        *ast.QueryDocument
	pricing    Pricing
	vars       map[string]any      // nil: not known yet
	memo       map[memoKey]*totals // nil value: being walked (a cycle if met again)
	paid       map[string]bool     // shared reads paid for by the operation's root fields
	inFragment int                 // fragment definitions being walked
}

func newWalker(schema *ast.Schema, doc *ast.QueryDocument, p Pricing, vars map[string]any) *walker {
	return &walker{schema: schema, doc: doc, pricing: p, vars: vars, memo: map[memoKey]*totals{}}
}

// operation totals op. Fragment totals are memoised across the operations
// of one walk: they do not depend on the operation (its variables are
// known to the walk, or to none of it).
func (w *walker) operation(op *ast.OperationDefinition) totals {
	w.paid = map[string]bool{}
	t := w.selections(op.SelectionSet, rootType(w.schema, op.Operation), false)
	t.directives = add(t.directives, len(op.Directives))
	return t
}

// selections totals set, whose parent type is parent (nil when unknown:
// the document is not validated yet, so names may be wrong).
func (w *walker) selections(set ast.SelectionSet, parent *ast.Definition, introspecting bool) totals {
	var t totals
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			ft := w.field(s, parent, introspecting)
			t.addAll(&ft)
		case *ast.InlineFragment:
			t.directives = add(t.directives, len(s.Directives))
			typ := parent
			if s.TypeCondition != "" {
				typ = w.schema.Types[s.TypeCondition]
			}
			ft := w.selections(s.SelectionSet, typ, introspecting)
			t.addAll(&ft)
		case *ast.FragmentSpread:
			t.directives = add(t.directives, len(s.Directives))
			ft := w.fragment(s.Name, introspecting)
			t.addAll(ft)
		}
	}
	return t
}

func (w *walker) fragment(name string, introspecting bool) *totals {
	k := memoKey{name, introspecting}
	if t, seen := w.memo[k]; seen {
		if t == nil {
			return &totals{cycle: true}
		}
		return t
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil {
		return &totals{} // validation reports the unknown fragment
	}
	w.memo[k] = nil
	w.inFragment++
	t := w.selections(def.SelectionSet, w.schema.Types[def.TypeCondition], introspecting)
	w.inFragment--
	t.directives = add(t.directives, len(def.Directives))
	w.memo[k] = &t
	return &t
}

func (w *walker) field(f *ast.Field, parent *ast.Definition, introspecting bool) totals {
	var t totals
	if f.Alias != "" && f.Alias != f.Name {
		t.aliases = 1
	}
	t.directives = len(f.Directives)
	entering := !introspecting && (f.Name == "__schema" || f.Name == "__type")
	if entering {
		t.introspection = 1
	}
	inside := introspecting || entering

	var def *ast.FieldDefinition
	var child *ast.Definition
	if parent != nil {
		if def = parent.Fields.ForName(f.Name); def != nil {
			child = w.schema.Types[def.Type.Name()]
		}
	}
	if entering {
		switch f.Name { // the meta-fields are not in the Query type's fields
		case "__schema":
			child = w.schema.Types["__Schema"]
		case "__type":
			child = w.schema.Types["__Type"]
		}
	}
	c := w.selections(f.SelectionSet, child, inside)
	if inside {
		t.introDepth = 1 + max(c.introDepth, c.depth)
		c.depth = 0
	} else {
		t.depth = 1 + c.depth
		t.introDepth = c.introDepth
		t.cost = 1
		if def != nil && parent != nil {
			coord := parent.Name + "." + f.Name
			page, paged := w.pricing.Pages[coord]
			if paged || w.pricing.Surcharge != nil {
				args := w.arguments(f, def)
				if paged {
					c = c.scaled(pageSize(page, args, f.Arguments))
				}
				if w.pricing.Surcharge != nil {
					t.cost = add(t.cost, max(w.pricing.Surcharge(coord, args)-w.sharedPaid(coord, args, parent), 0))
				}
			}
		}
	}
	c.depth, c.introDepth = 0, 0
	t.addAll(&c)
	return t
}

// sharedPaid is the part of a root field's surcharge an earlier root field
// of the operation paid for (see Pricing.Shared), and marks its own shared
// read paid.
func (w *walker) sharedPaid(coord string, args map[string]any, parent *ast.Definition) int {
	if w.pricing.Shared == nil || w.inFragment > 0 || parent != w.schema.Query {
		return 0
	}
	key, price := w.pricing.Shared(coord, args)
	if key == "" {
		return 0
	}
	if w.paid[key] {
		return price
	}
	w.paid[key] = true
	return 0
}

// arguments are the values of f's arguments as Pricing.Surcharge takes
// them: as sent, or the schema's default; a variable not known yet is
// absent, as is a value that does not resolve (validation refuses it).
func (w *walker) arguments(f *ast.Field, def *ast.FieldDefinition) map[string]any {
	args := make(map[string]any, len(def.Arguments))
	for _, ad := range def.Arguments {
		val := ad.DefaultValue
		if a := f.Arguments.ForName(ad.Name); a != nil && a.Value != nil {
			if w.vars == nil && HasVariable(a.Value) {
				continue
			}
			if a.Value.Kind != ast.Variable {
				val = a.Value
			} else if _, sent := w.vars[a.Value.Raw]; sent || a.Value.VariableDefinition != nil && a.Value.VariableDefinition.DefaultValue != nil {
				val = a.Value
			} // else: an unsent variable without a default leaves the argument to the field's
		}
		if val == nil {
			continue
		}
		if v, err := val.Value(w.vars); err == nil && v != nil {
			args[ad.Name] = v
		}
	}
	return args
}

// HasVariable reports whether v is or holds a variable.
func HasVariable(v *ast.Value) bool {
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if HasVariable(c.Value) {
			return true
		}
	}
	return false
}

// pageSize is the page a list field asks for: its argument's value, at
// least 1 and at most p.Max (the resolver refuses more); p.Default when it
// has none; 1 when its variable is not known yet (see Pricing).
func pageSize(p Page, args map[string]any, sent ast.ArgumentList) int {
	if p.Arg == "" {
		return max(p.Default, 1)
	}
	n, ok := Int(args[p.Arg])
	switch {
	case !ok && sent.ForName(p.Arg) != nil:
		return 1 // a variable not known yet, or a wrong value that validation refuses
	case !ok:
		return max(p.Default, 1)
	}
	return min(max(n, 1), max(p.Max, 1))
}

// Int reads an integer argument as Pricing.Surcharge receives it: an int64
// literal, or a variable coerced from JSON.
func Int(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(min(max(n, math.MinInt32), math.MaxInt32)), true
	case int32:
		return int(n), true
	case float64:
		if n != math.Trunc(n) || math.IsInf(n, 0) {
			return 0, false
		}
		return int(min(max(n, math.MinInt32), math.MaxInt32)), true
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, false
		}
		return Int(i)
	}
	return 0, false
}

// String describes l for logs.
func (l Limits) String() string {
	return fmt.Sprintf("characters=%d tokens=%d aliases=%d directives=%d depth=%d cost=%d introspection=%d introspection_depth=%d",
		l.Characters, l.Tokens, l.Aliases, l.Directives, l.Depth, l.Cost, l.Introspection, l.IntrospectionDepth)
}
