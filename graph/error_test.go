package graph_test

import (
	"strings"
	"testing"
)

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

// A body that is JSON but not an object (a batch array, a bare string) is
// told so, instead of a type error about a field named "".
func TestNonObjectBodyIsExplained(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	for body, want := range map[string]string{
		`[{"query": "{ __typename }"}]`: "a JSON array",
		`"{ __typename }"`:              "a JSON string",
		`{"query": 1}`:                  `\"query\" has the wrong type`, // as JSON escapes it
	} {
		res := e.doWithBody(e.handler, body)
		if !strings.Contains(res, want) || strings.Contains(res, `\"\" has`) {
			t.Errorf("%s: %s, want a message with %q", body, res, want)
		}
	}
}
