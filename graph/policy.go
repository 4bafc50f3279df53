package graph

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
// 0; scalar fields take their parent's. An operation's hint is the minimum
// over every field it selects; mutations and introspection are never
// cacheable.
type Policy struct {
	schema *ast.Schema
	coords map[string]Hint // every type's and field's own hint, read once
}

// NewPolicy reads the hints of schema.
func NewPolicy(schema *ast.Schema) *Policy {
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

// Operation computes the hint of op, a validated operation of doc.
func (p *Policy) Operation(op *ast.OperationDefinition) Hint {
	if op == nil || op.Operation != ast.Query {
		return Hint{}
	}
	w := walker{policy: p, min: -1}
	w.selections(op.SelectionSet, 0, true, map[string]bool{})
	if w.min < 0 {
		w.min = 0
	}
	return Hint{MaxAge: w.min, Private: w.private}
}

type walker struct {
	policy  *Policy
	min     int // -1 until a field restricts it
	private bool
}

func (w *walker) restrict(maxAge int) {
	if w.min < 0 || maxAge < w.min {
		w.min = maxAge
	}
}

func (w *walker) selections(set ast.SelectionSet, parent int, root bool, seen map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.field(s, parent, root, seen)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet, parent, root, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				w.selections(s.Definition.SelectionSet, parent, root, seen)
				delete(seen, s.Name)
			}
		}
	}
}

func (w *walker) field(f *ast.Field, parent int, root bool, seen map[string]bool) {
	switch f.Name {
	case "__typename":
		return
	case "__schema", "__type":
		w.restrict(0)
		return
	}
	if f.Definition == nil {
		w.restrict(0)
		return
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
	w.private = w.private || h.private
	w.restrict(maxAge)
	if len(f.SelectionSet) > 0 {
		w.selections(f.SelectionSet, maxAge, false, seen)
	}
}
