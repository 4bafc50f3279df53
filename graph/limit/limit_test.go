package limit_test

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/kedahpulse/kedahpulse/graph/limit"
	"github.com/kedahpulse/kedahpulse/graph/limit/limittest"
)

func loadSchema(t testing.TB) *ast.Schema {
	t.Helper()
	src, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	return gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
}

var pricing = limit.Pricing{
	Pages: map[string]limit.Page{
		"Query.properties":       {Arg: "first", Default: 20, Max: 100},
		"Destination.properties": {Arg: "first", Default: 10, Max: 100},
		"Trend.series":           {Default: 90},
	},
	Surcharge: func(coord string, args map[string]any) int {
		if f, _ := args["filter"].(map[string]any); coord == "Query.properties" && f["search"] != nil {
			return 50
		}
		return 0
	},
}

func check(t *testing.T, query string) (code string, limitValue any) {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if e := limit.Check(loadSchema(t), doc, limit.Defaults, pricing); e != nil {
		c, _ := e.Extensions["code"].(string)
		return c, e.Extensions["limit"]
	}
	return "", nil
}

func TestCheck(t *testing.T) {
	for name, c := range map[string]struct{ query, code string }{
		"dashboard":    {`{ topDestinations(limit: 5) { rank destination { name city } } sentimentSummary { total } trends(limit: 3) { growth series { date mentions } } }`, ""},
		"listing page": {`{ properties(first: 50) { totalCount edges { node { id title price location destination { id name city } } } } }`, ""},
		// 2^40 expansions of one field, answered in a linear walk.
		"fragment bomb":           {limittest.FragmentBomb(40, "sentimentSummary { total }"), limit.CodeTooComplex},
		"fragment bomb of names":  {limittest.FragmentBomb(40, "__typename"), limit.CodeTooComplex},
		"aliases":                 {limittest.Repeated(16, "__typename", true), limit.CodeTooManyFields},
		"aliases in fragments":    {`{ ...A ...A } fragment A on Query { a1: __typename a2: __typename a3: __typename a4: __typename a5: __typename a6: __typename a7: __typename a8: __typename }`, limit.CodeTooManyFields},
		"15 aliases":              {limittest.Repeated(15, "__typename", true), ""},
		"directives":              {`{ __typename ` + strings.Repeat("@include(if: true) ", 51) + `}`, limit.CodeTooManyDirs},
		"depth":                   {`{ properties { edges { node { destination { properties { destination { name } } } } } } }`, limit.CodeTooDeep},
		"depth 6":                 {`{ properties { edges { node { destination { sentiment { total } } } } } }`, ""},
		"depth through fragments": {`{ properties { ...E } } fragment E on PropertyConnection { edges { node { ...N } } } fragment N on Property { destination { properties { destination { name } } } }`, limit.CodeTooDeep},
		"page sizes multiply":     {`{ properties(first: 100) { edges { node { destination { properties(first: 100) { id } } } } } }`, limit.CodeTooComplex},
		"a variable page is checked at its least": {`query($n: Int) { properties(first: $n) { edges { node { destination { properties(first: $n) { id } } } } } }`, ""},
		"aliased introspection":                   {limittest.Repeated(2000, "__schema { queryType { name } }", true), limit.CodeTooManyFields},
		"introspection fields":                    {`{ __schema { queryType { name } } __type(name: "Query") { name } x: __type(name: "Property") { name } }`, limit.CodeIntrospection},
		"introspection too deep":                  {`{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } } } } }`, limit.CodeTooDeep},
		"fragment cycle":                          {`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, "cycle"},
	} {
		t.Run(name, func(t *testing.T) {
			got, _ := check(t, c.query)
			if c.code == "cycle" {
				if got != "" {
					t.Fatalf("code %q, want a plain error", got)
				}
				return
			}
			if got != c.code {
				t.Errorf("code %q, want %q", got, c.code)
			}
		})
	}
}

// The introspection queries of graphql-js's getIntrospectionQuery() (as
// GraphiQL sends it, with and without every option) pass the default limits
// as they are, byte for byte, although they nest 13 to 15 levels deep.
func TestIntrospectionQueriesPass(t *testing.T) {
	for _, f := range []string{"introspection.graphql", "introspection-full.graphql"} {
		src, err := os.ReadFile("../testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		doc, perr := parser.ParseQueryWithTokenLimit(&ast.Source{Input: string(src)}, limit.Defaults.Tokens)
		if perr != nil {
			t.Fatalf("%s: %v", f, perr)
		}
		if e := limit.Check(loadSchema(t), doc, limit.Defaults, pricing); e != nil {
			t.Errorf("%s: %v", f, e)
		}
		if e := limit.Defaults.CheckCharacters(string(src)); e != nil {
			t.Errorf("%s: %v", f, e)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	l := limit.Limits{Depth: 9}.WithDefaults()
	if l.Depth != 9 || l.Cost != limit.Defaults.Cost || l.Aliases != 15 {
		t.Errorf("%+v", l)
	}
}

// Checking the largest document the defaults let through walks each
// fragment once: benchmark it against a document of the same size without
// fragments.
func BenchmarkCheckFragmentBomb(b *testing.B) {
	schema := loadSchema(b)
	doc, err := parser.ParseQuery(&ast.Source{Input: limittest.FragmentBomb(200, "sentimentSummary { total }")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		limit.Check(schema, doc, limit.Defaults, pricing)
	}
}

// A text search is priced above a lookup: under a cost limit of 100, one
// search passes and two do not, while plain lists pass; a search in a
// variable is priced once the variable is known.
func TestSearchIsPriced(t *testing.T) {
	l := limit.Defaults
	l.Cost = 100
	search := map[string]any{"f": map[string]any{"search": "x"}}
	for _, c := range []struct {
		q    string
		vars map[string]any
		want bool
	}{
		{`{ properties(filter: {search: "x"}, first: 1) { totalCount } }`, nil, true},
		{`{ a: properties(filter: {search: "x"}, first: 1) { totalCount } b: properties(filter: {search: "y"}, first: 1) { totalCount } }`, nil, false},
		{`{ a: properties(filter: {city: "x"}, first: 1) { totalCount } b: properties(first: 1) { totalCount } }`, nil, true},
		{`query($f: PropertyFilter) { a: properties(filter: $f) { totalCount } b: properties(filter: $f) { totalCount } }`, search, false},
		{`query($f: PropertyFilter) { a: properties(filter: $f) { totalCount } b: properties(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"city": "x"}}, true},
		{`query($s: String) { a: properties(filter: {search: $s}) { totalCount } b: properties(filter: {search: "y"}) { totalCount } }`, map[string]any{"s": "x"}, false},
	} {
		if got := cost(t, c.q, c.vars, pricing) <= l.Cost; got != c.want {
			t.Errorf("%s %v: passes %v, want %v", c.q, c.vars, got, c.want)
		}
	}
}

// cost checks query and returns its exact cost with vars.
func cost(t *testing.T, query string, vars map[string]any, p limit.Pricing) int {
	t.Helper()
	schema := loadSchema(t)
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	unlimited := limit.Defaults
	unlimited.Cost = math.MaxInt
	if e := limit.Check(schema, doc, unlimited, p); e != nil {
		t.Fatalf("%s: %v", query, e)
	}
	return limit.Cost(schema, doc, doc.Operations[0], vars, p)
}

// A value costs the same as a literal in the document or as a variable;
// before the variables are known, Check prices a variable at its least.
func TestVariablesArePricedAsLiterals(t *testing.T) {
	const fields = `{ edges { node { id destination { properties(first: 5) { id } } } } }`
	literal := cost(t, `{ properties(first: 10, filter: {search: "x"}) `+fields+` }`, nil, pricing)
	for name, c := range map[string]struct {
		q    string
		vars map[string]any
	}{
		"int variable":          {`query($n: Int) { properties(first: $n, filter: {search: "x"}) ` + fields + ` }`, map[string]any{"n": int64(10)}},
		"json number":           {`query($n: Int) { properties(first: $n, filter: {search: "x"}) ` + fields + ` }`, map[string]any{"n": json.Number("10")}},
		"variable default":      {`query($n: Int = 10) { properties(first: $n, filter: {search: "x"}) ` + fields + ` }`, map[string]any{"n": 10}},
		"input object variable": {`query($f: PropertyFilter) { properties(first: 10, filter: $f) ` + fields + ` }`, map[string]any{"f": map[string]any{"search": "x"}}},
		"variable in an object": {`query($s: String) { properties(first: 10, filter: {search: $s}) ` + fields + ` }`, map[string]any{"s": "x"}},
	} {
		if got := cost(t, c.q, c.vars, pricing); got != literal {
			t.Errorf("%s: cost %d, want %d as with literals", name, got, literal)
		}
	}
	// Unsent: the schema's default page (20).
	if got, want := cost(t, `query($n: Int) { properties(first: $n) { totalCount } }`, nil, pricing),
		cost(t, `{ properties { totalCount } }`, nil, pricing); got != want {
		t.Errorf("an unsent variable costs %d, want %d as the default", got, want)
	}
	// A page over the maximum is priced at the maximum (the resolver refuses it).
	huge := cost(t, `query($n: Int) { properties(first: $n) `+fields+` }`, map[string]any{"n": int64(1 << 40)}, pricing)
	if want := cost(t, `{ properties(first: 100) `+fields+` }`, nil, pricing); huge != want {
		t.Errorf("a huge page costs %d, want %d", huge, want)
	}
}

// A read that root fields share is paid once per operation: by the first
// root field that needs it, in full wherever a fragment or a list hides it.
func TestSharedReadsArePaidOnce(t *testing.T) {
	p := pricing
	p.Surcharge = func(coord string, args map[string]any) int {
		if coord == "Query.topDestinations" || coord == "Query.trends" {
			return 1000
		}
		return 0
	}
	p.Shared = func(coord string, args map[string]any) (string, int) {
		if coord == "Query.topDestinations" || coord == "Query.trends" {
			return "ranking|" + args["range"].(string), 900
		}
		return "", 0
	}
	one := cost(t, `{ topDestinations { rank } }`, nil, p)
	for q, want := range map[string]int{
		`{ topDestinations { rank } trends { growth } }`:                                          2*one - 900,
		`{ topDestinations { rank } trends(range: LAST_90_DAYS) { growth } }`:                     2 * one,
		`{ a: topDestinations { rank } b: topDestinations { rank } c: topDestinations { rank } }`: 3*one - 2*900,
		`{ topDestinations { rank } ...F } fragment F on Query { trends { growth } }`:             2 * one,
	} {
		if got := cost(t, q, nil, p); got != want {
			t.Errorf("%s: cost %d, want %d", q, got, want)
		}
	}
}
