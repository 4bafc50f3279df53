package cachecontrol

import (
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Hint is the cache policy of a field, a type or a whole operation.
type Hint struct {
	MaxAge  int // seconds; 0 means not cacheable
	Private bool
}

// Policy reads @cacheControl hints from the schema and applies Apollo's
// rules: a field's own hint wins over its return type's; inheritMaxAge takes
// the parent's maxAge; fields returning objects (and root fields) default to
// 0; scalar fields take their parent's.
type Policy struct {
	schema *ast.Schema
	coords map[string]Hint // every type's and field's own hint, read once
}

// New reads the hints of schema.
func New(schema *ast.Schema) *Policy {
	p := &Policy{schema: schema, coords: map[string]Hint{}}
	for name, def := range schema.Types {
		th := readHint(def.Directives)
		p.coords[name] = Hint{MaxAge: th.maxAge, Private: th.private}
		for _, fd := range def.Fields {
			h := readHint(fd.Directives)
			if !h.hasMaxAge { // a field without its own maxAge takes its type's
				if rt := schema.Types[fd.Type.Name()]; rt != nil {
					h.maxAge = readHint(rt.Directives).maxAge
				}
			}
			p.coords[name+"."+fd.Name] = Hint{MaxAge: h.maxAge, Private: h.private}
		}
	}
	return p
}

type rawHint struct {
	maxAge           int
	hasMaxAge        bool
	inherit, private bool
}

func readHint(dirs ast.DirectiveList) (h rawHint) {
	d := dirs.ForName("cacheControl")
	if d == nil {
		return h
	}
	if a := d.Arguments.ForName("maxAge"); a != nil && a.Value != nil {
		if n, err := strconv.Atoi(a.Value.Raw); err == nil {
			h.maxAge, h.hasMaxAge = n, true
		}
	}
	if a := d.Arguments.ForName("inheritMaxAge"); a != nil && a.Value != nil {
		h.inherit = a.Value.Raw == "true"
	}
	if a := d.Arguments.ForName("scope"); a != nil && a.Value != nil {
		h.private = a.Value.Raw == "PRIVATE"
	}
	return h
}

// TTL returns the maxAge of a schema coordinate: "Type.field" for a field's
// own hint (falling back to its return type's), or "Type" for a type's hint.
func (p *Policy) TTL(coord string) time.Duration {
	return time.Duration(p.coords[coord].MaxAge) * time.Second
}

// Private reports whether a coordinate's hint has scope PRIVATE.
func (p *Policy) Private(coord string) bool { return p.coords[coord].Private }

// Operation computes the hint of op, a validated operation (its fields'
// Definitions set). Each fragment is walked at most once per distinct
// (parent maxAge, root) context.
func (p *Policy) Operation(op *ast.OperationDefinition) Hint {
	if op == nil || op.Operation != ast.Query {
		return Hint{}
	}
	w := walker{policy: p, memo: map[fragmentContext]result{}}
	r := w.selections(op.SelectionSet, 0, true)
	if r.min < 0 {
		r.min = 0
	}
	return Hint{MaxAge: r.min, Private: r.private}
}

// result is what a selection set contributes: the minimum maxAge of its
// fields (-1 when none restricts it) and whether any is PRIVATE.
type result struct {
	min     int
	private bool
}

func (r *result) merge(o result) {
	if o.min >= 0 && (r.min < 0 || o.min < r.min) {
		r.min = o.min
	}
	r.private = r.private || o.private
}

type fragmentContext struct {
	name   string
	parent int
	root   bool
}

type walker struct {
	policy *Policy
	memo   map[fragmentContext]result
}

func (w *walker) selections(set ast.SelectionSet, parent int, root bool) result {
	r := result{min: -1}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			r.merge(w.field(s, parent, root))
		case *ast.InlineFragment:
			r.merge(w.selections(s.SelectionSet, parent, root))
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			k := fragmentContext{s.Name, parent, root}
			fr, ok := w.memo[k]
			if !ok {
				w.memo[k] = result{min: -1} // a cycle (invalid anyway) adds nothing
				fr = w.selections(s.Definition.SelectionSet, parent, root)
				w.memo[k] = fr
			}
			r.merge(fr)
		}
	}
	return r
}

func (w *walker) field(f *ast.Field, parent int, root bool) result {
	switch f.Name {
	case "__typename":
		return result{min: -1}
	case "__schema", "__type":
		return result{min: 0}
	}
	if f.Definition == nil {
		return result{min: 0}
	}
	h := readHint(f.Definition.Directives)
	rt := w.policy.schema.Types[f.Definition.Type.Name()]
	composite := rt != nil && (rt.Kind == ast.Object || rt.Kind == ast.Interface || rt.Kind == ast.Union)
	if !h.hasMaxAge && !h.inherit && rt != nil {
		th := readHint(rt.Directives)
		if th.hasMaxAge || th.inherit {
			h.maxAge, h.hasMaxAge, h.inherit = th.maxAge, th.hasMaxAge, th.inherit
		}
		h.private = h.private || th.private
	}
	maxAge := parent
	switch {
	case h.hasMaxAge:
		maxAge = h.maxAge
	case h.inherit && !root:
		maxAge = parent
	case composite || root:
		maxAge = 0
	}
	r := result{min: maxAge, private: h.private}
	if len(f.SelectionSet) > 0 {
		r.merge(w.selections(f.SelectionSet, maxAge, false))
	}
	return r
}

// Header is the Cache-Control header of a successful answer with hint h.
// A cacheable answer may be stored by browsers and (unless PRIVATE) shared
// caches, but must be revalidated before each reuse (its ETag answers 304
// when it has not changed), so no HTTP cache serves it after a write;
// anything else is no-store. The hint's maxAge bounds the server's own
// cache.
func Header(h Hint) string {
	switch {
	case h.MaxAge <= 0:
		return "no-store"
	case h.Private:
		return "private, no-cache"
	}
	return "public, no-cache"
}
