package graph_test

import (
	"testing"
)

// Admin fields and every mutation need the admin token; without it nothing
// changes.
func TestAdminOnly(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 1)
		for _, q := range []string{
			`mutation($id: ID!) { updateProperty(id: $id, input: {title: "Hacked"}) { id } }`,
			`mutation($id: ID!) { deleteProperty(id: $id) }`,
			`{ cacheStats { hits } }`,
			`{ scrapeRuns { id } }`,
			`mutation { clearCache }`,
		} {
			res := e.do(q, map[string]any{"id": sid(f.props[0].ID)}, false)
			if res.code() != "UNAUTHENTICATED" {
				t.Errorf("%s without token: code %q, want UNAUTHENTICATED (%s)", q, res.code(), res.Raw)
			}
		}
		got := e.ok(`query($id: ID!) { property(id: $id) { title } }`, map[string]any{"id": sid(f.props[0].ID)}, false)
		if path(got, "property", "title") != f.props[0].Title {
			t.Errorf("an unauthenticated mutation changed data: %v", got)
		}
	})
}
