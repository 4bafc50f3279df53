package graph_test

import (
	"context"
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

// A repeated identical query is answered by the response level: no SQL, a
// HIT, and the same bytes.
func TestRepeatedQueryIsAResponseHit(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 10)
		vars := map[string]any{"first": 10}
		first := e.do(propertiesQuery, vars, false)
		if got := first.Header.Get("X-Cache"); got != "MISS" {
			t.Errorf("first request X-Cache = %q, want MISS", got)
		}
		if got := first.Header.Get("Cache-Control"); got != "public, no-cache" {
			t.Errorf("Cache-Control = %q, want public, no-cache", got)
		}
		var second *result
		sql, trips := e.counts(func() { second = e.do(propertiesQuery, vars, false) })
		if got := second.Header.Get("X-Cache"); got != "HIT" {
			t.Fatalf("second request X-Cache = %q, want HIT", got)
		}
		if sql != 0 || second.Raw != first.Raw {
			t.Errorf("hit cost %d SQL statements (want 0), same body: %v", sql, second.Raw == first.Raw)
		}
		t.Logf("response hit: %d SQL statements, %d Redis round trips", sql, trips)
		if e.trips != nil && trips != 1 {
			t.Errorf("response hit: %d Redis round trips, want 1", trips)
		}
	})
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

func TestBadInputCodes(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 1)
		pid := sid(f.props[0].ID)
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			admin       bool
			code, field string
		}{
			{"first above 100", `{ properties(first: 101) { totalCount } }`, nil, false, "BAD_USER_INPUT", "first"},
			{"first below 0", `{ destinations(first: -1) { totalCount } }`, nil, false, "BAD_USER_INPUT", "first"},
			{"both id and slug", `{ destination(id: "1", slug: "x") { id } }`, nil, false, "BAD_USER_INPUT", ""},
			{"neither id nor slug", `{ destination { id } }`, nil, false, "BAD_USER_INPUT", ""},
			{"malformed ID", `{ property(id: "abc") { id } }`, nil, false, "BAD_USER_INPUT", ""},
			{"garbage cursor", `{ properties(after: "garbage") { totalCount } }`, nil, false, "BAD_USER_INPUT", "after"},
			{"empty title", `mutation { createProperty(input: {title: "", description: "d", price: "1", location: "x"}) { id } }`, nil, true, "BAD_USER_INPUT", "title"},
			{"three decimals", `mutation { createProperty(input: {title: "t", description: "d", price: "1.005", location: "x"}) { id } }`, nil, true, "BAD_USER_INPUT", ""},
			{"negative price", `mutation { createProperty(input: {title: "t", description: "d", price: "-1", location: "x"}) { id } }`, nil, true, "BAD_USER_INPUT", "price"},
			{"bad slug", `mutation { createDestination(input: {name: "X", slug: "Not Valid", city: "Yan", category: FOOD, description: "d"}) { id } }`, nil, true, "BAD_USER_INPUT", "slug"},
			{"latitude out of range", `mutation { createDestination(input: {name: "X", city: "Yan", category: FOOD, description: "d", latitude: 91}) { id } }`, nil, true, "BAD_USER_INPUT", "latitude"},
			{"malformed time", `mutation { ingestPosts(posts: [{source: "s", externalId: "e", text: "Pantai Cenang", postedAt: "yesterday"}]) { stored } }`, nil, true, "BAD_USER_INPUT", ""},
			{"unknown id", `mutation { updateProperty(id: "999999", input: {title: "x"}) { id } }`, nil, true, "NOT_FOUND", ""},
			{"unknown id delete", `mutation { deleteDestination(id: "999999") }`, nil, true, "NOT_FOUND", ""},
			{"bad tag", `mutation { invalidateCache(tags: ["Bad Tag"]) { tags } }`, nil, true, "BAD_USER_INPUT", "tags[0]"},
			{"limit zero", `{ topDestinations(limit: 0) { rank } }`, nil, false, "BAD_USER_INPUT", "limit"},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := e.do(c.query, c.vars, c.admin)
				if res.code() != c.code {
					t.Fatalf("code %q, want %q: %s", res.code(), c.code, res.Raw)
				}
				if c.field != "" && res.Errors[0].Extensions["field"] != c.field {
					t.Errorf("field %v, want %q: %s", res.Errors[0].Extensions["field"], c.field, res.Raw)
				}
				if res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("an error response has Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
				}
			})
		}
		_ = pid
	})
}

// Decimal accepts a string or a JSON number and always answers with two
// decimals.
func TestDecimalIsExact(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		for in, want := range map[any]string{"250000": "250000.00", 12.5: "12.50", "0.1": "0.10", 99999999.99: "99999999.99"} {
			got := e.ok(`mutation($p: Decimal!) { createProperty(input: {title: "t", description: "d", price: $p, location: "x"}) { price } }`,
				map[string]any{"p": in}, true)
			if p := path(got, "createProperty", "price"); p != want {
				t.Errorf("price %v: got %v, want %s", in, p, want)
			}
		}
	})
}

// A whole-response hit counts as a hit of each cached root field it
// answers, so cacheStats' rows count what users asked for: ten identical
// sentimentSummary queries raise Query.sentimentSummary's hits by nine
// (the first fills), whether the memo of repeated requests answered them
// (the same bytes) or the full path did (other bytes, same operation).
func TestResponseHitsCountTheirRootFields(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newFixture(t, e, 1)
		row := func() (hits, misses int64, responses int64) {
			t.Helper()
			st, err := e.cache.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range st.Fields {
				if f.Coordinate == "Query.sentimentSummary" {
					hits, misses = f.Hits, f.Misses
				}
			}
			return hits, misses, st.Responses.Hits
		}
		h0, m0, r0 := row()
		for i := range 10 {
			q := `{ sentimentSummary { total averageScore } }`
			if i%2 == 1 {
				q = `{sentimentSummary{total averageScore}}` // another text: the full path
			}
			res := e.do(q, nil, false)
			if want := map[bool]string{true: "MISS", false: "HIT"}[i == 0]; res.Header.Get("X-Cache") != want {
				t.Fatalf("request %d: X-Cache %q, want %s", i, res.Header.Get("X-Cache"), want)
			}
		}
		h, m, r := row()
		if h-h0 != 9 || m-m0 != 1 || r-r0 != 9 {
			t.Errorf("Query.sentimentSummary +%d hits +%d misses, responses +%d hits; want +9, +1, +9", h-h0, m-m0, r-r0)
		}
	})
}
