package graph_test

import (
	"slices"
	"testing"

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
