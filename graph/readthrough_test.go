package graph_test

import (
	"testing"

	"github.com/kedahpulse/kedahpulse/graph"
)

const propertiesQuery = `query($first: Int) { properties(first: $first) { totalCount edges { node { id title price
	destination { id name sentiment { total averageScore } } } } } }`

const destinationsQuery = `query($first: Int) { destinations(first: $first) { edges { node { id name
	properties(first: 5) { id title } trend { mentions growth series { mentions } } } } } }`

// No N+1: the statements a nested list costs do not grow with its length.
func TestStatementsDoNotGrowWithPageSize(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 60)
		for _, q := range []struct{ name, query string }{{"properties", propertiesQuery}, {"destinations", destinationsQuery}} {
			for _, first := range []int{5, 50} {
				e.ok(`mutation { clearCache }`, nil, true)
				sql, _ := e.counts(func() { e.ok(q.query, map[string]any{"first": first}, false) })
				if sql > 5 {
					t.Errorf("%s(first: %d): %d SQL statements, want at most 5", q.name, first, sql)
				}
				t.Logf("%s(first: %d): %d statements cold", q.name, first, sql)
			}
		}
	}, noResponseCache, func(o *graph.Options) { o.Limits.Cost = 20_000 }) // 50 trends of 90 points each
}

// A warm field level answers without SQL and in a constant number of cache
// round trips: one per level of nesting (list ids, rows, destinations,
// sentiment), whatever the page size.
func TestWarmFieldLevelCostsNoSQL(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 60)
		var tripsAt []int64
		for _, first := range []int{5, 50} {
			vars := map[string]any{"first": first}
			cold := e.ok(propertiesQuery, vars, false)
			sql, trips := e.counts(func() {
				warm := e.ok(propertiesQuery, vars, false)
				if jsonString(warm) != jsonString(cold) {
					t.Errorf("warm answer differs from cold:\n%s\n%s", jsonString(warm), jsonString(cold))
				}
			})
			if sql != 0 {
				t.Errorf("warm properties(first: %d): %d SQL statements, want 0", first, sql)
			}
			if e.trips != nil && trips > 8 {
				t.Errorf("warm properties(first: %d): %d Redis round trips, want at most 2 per level (8)", first, trips)
			}
			tripsAt = append(tripsAt, trips)
			t.Logf("warm properties(first: %d): %d SQL, %d Redis round trips", first, sql, trips)
		}
		if tripsAt[0] != tripsAt[1] {
			t.Errorf("Redis round trips grow with page size: %v", tripsAt)
		}
	}, noResponseCache)
}

// Updating a property evicts what contains it and nothing else: a list
// that does not contain it stays a hit.
func TestUpdateInvalidatesOnlyWhatItAffects(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 12)
		inD0 := `query($d: ID) { properties(filter: {destinationId: $d}, first: 50) { edges { node { id title } } } }`
		d0, d1 := map[string]any{"d": sid(f.dests[0].ID)}, map[string]any{"d": sid(f.dests[1].ID)}
		e.ok(inD0, d0, false)
		e.ok(inD0, d1, false)
		target := f.props[0] // in dests[0]
		e.ok(`mutation($id: ID!) { updateProperty(id: $id, input: {description: "Renovated"}) { id } }`, map[string]any{"id": sid(target.ID)}, true)

		unrelated := e.do(inD0, d1, false)
		if unrelated.Header.Get("X-Cache") != "HIT" {
			t.Errorf("a list without the updated property was evicted (X-Cache %s)", unrelated.Header.Get("X-Cache"))
		}
		related := e.do(`query($id: ID!) { property(id: $id) { description } }`, map[string]any{"id": sid(target.ID)}, false)
		if got := path(related.Data, "property", "description"); got != "Renovated" {
			t.Errorf("property description = %v after update, want Renovated", got)
		}
		list := e.do(inD0, d0, false)
		if list.Header.Get("X-Cache") != "MISS" {
			t.Errorf("the list containing the updated property was served from the response cache")
		}
	})
}
