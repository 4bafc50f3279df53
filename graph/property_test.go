package graph_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
)

// clearDestination detaches a property from its destination through the
// API, and every cached read that showed the link forgets it: the
// property's destination, the destination's properties and the list
// filtered by the destination.
func TestUpdatePropertyClearsItsDestination(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 3)
		p, d := sid(f.props[0].ID), sid(f.dests[0].ID)
		const read = `query($p: ID!, $d: ID) {
			property(id: $p) { destination { id } }
			destination(id: $d) { properties(first: 50) { id } }
			properties(filter: {destinationId: $d}, first: 50) { edges { node { id } } }
		}`
		vars := map[string]any{"p": p, "d": d}
		listed := func(data map[string]any) (inDest, inList bool) {
			return slices.Contains(ids(path(data, "destination", "properties")), p),
				slices.Contains(nodeIDs(path(data, "properties", "edges")), p)
		}
		before := e.ok(read, vars, false)
		if got := id(path(before, "property", "destination", "id")); got != d {
			t.Fatalf("before: destination %q, want %q", got, d)
		}
		if inDest, inList := listed(before); !inDest || !inList {
			t.Fatalf("before: listed under its destination %v, in the filtered list %v", inDest, inList)
		}
		e.ok(`mutation($p: ID!) { updateProperty(id: $p, input: {clearDestination: true}) { id destination { id } } }`, vars, true)
		after := e.ok(read, vars, false)
		if dest := path(after, "property", "destination"); dest != nil {
			t.Errorf("after: destination %v, want null", dest)
		}
		if inDest, inList := listed(after); inDest || inList {
			t.Errorf("after: listed under its destination %v, in the filtered list %v", inDest, inList)
		}

		res := e.do(`mutation($p: ID!, $d: ID) { updateProperty(id: $p, input: {destinationId: $d, clearDestination: true}) { id } }`, vars, true)
		if res.code() != gqlhttp.CodeBadUserInput {
			t.Errorf("setting and clearing the destination: %s, want %s", res.Raw, gqlhttp.CodeBadUserInput)
		}
	})
}

// nodeIDs are the ids of the nodes of a connection's edges.
func nodeIDs(edges any) []string {
	var out []string
	for _, e := range edges.([]any) {
		out = append(out, id(path(e, "node", "id")))
	}
	return out
}

// statements records the SQL a bun.DB runs.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (h *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (h *statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sql = append(h.sql, e.Query)
}

// counts returns how many statements since the last call counted rows.
func (h *statements) counts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, q := range h.sql {
		if strings.Contains(q, "COUNT(") {
			n++
		}
	}
	h.sql = nil
	return n
}

// TestPropertiesCountOnlyWhenSelected: a search page that does not select
// totalCount runs no COUNT, empty or not; the same page selecting it
// (directly or through a fragment) is never answered by the count-less
// entry and gets the right total.
func TestPropertiesCountOnlyWhenSelected(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 3)
		sqlLog := &statements{}
		e.store.DB.AddQueryHook(sqlLog)
		const (
			plain    = `query($s: String) { properties(filter: {search: $s}, first: 2) { edges { node { id } } } }`
			direct   = `query($s: String) { properties(filter: {search: $s}, first: 2) { totalCount edges { node { id } } } }`
			fragment = `query($s: String, $n: Boolean!) { properties(filter: {search: $s}, first: 2) { ...n @include(if: $n) } } fragment n on PropertyConnection { totalCount }`
		)
		for _, search := range []string{"no such listing", "a"} {
			var matches int
			if err := e.store.DB.NewSelect().TableExpr("properties").ColumnExpr("COUNT(*)").
				Where("search_text LIKE ?", "%"+search+"%").Scan(context.Background(), &matches); err != nil {
				t.Fatal(err)
			}
			sqlLog.counts()
			e.ok(plain, map[string]any{"s": search}, false)
			e.ok(fragment, map[string]any{"s": search, "n": false}, false)
			if n := sqlLog.counts(); n != 0 {
				t.Errorf("search %q without totalCount: %d statements count", search, n)
			}
			for _, q := range []string{direct, fragment} {
				data := e.ok(q, map[string]any{"s": search, "n": true}, false)
				if got := path(data, "properties", "totalCount"); got != float64(matches) {
					t.Errorf("search %q: totalCount %v, want %d", search, got, matches)
				}
			}
		}
	})
}
