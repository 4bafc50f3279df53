package cachecontrol_test

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
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

func TestHints(t *testing.T) {
	schema := loadSchema(t)
	p := cachecontrol.New(schema)
	for coord, want := range map[string]int{
		"Query.destinations": 86400, "Destination": 43200, "Query.topDestinations": 21600, "Destination.sentiment": 7200,
		"Query.trends": 1800, "Query.properties": 900, "Property": 3600, "Query.cacheStats": 0,
	} {
		if got := int(p.TTL(coord).Seconds()); got != want {
			t.Errorf("TTL(%s) = %d, want %d", coord, got, want)
		}
	}
	for _, c := range []struct {
		query string
		want  cachecontrol.Hint
	}{
		{`{ properties { edges { node { title destination { name } } } } }`, cachecontrol.Hint{MaxAge: 900}},
		{`{ destinations { edges { node { name } } } }`, cachecontrol.Hint{MaxAge: 43200}},
		{`{ destination(id: "1") { name sentiment { total } trend { series { mentions } } } }`, cachecontrol.Hint{MaxAge: 1800}},
		{`{ sentimentSummary { total } cacheStats { hits } }`, cachecontrol.Hint{}},
		{`{ __schema { types { name } } }`, cachecontrol.Hint{}},
		{`query { ...F } fragment F on Query { property(id: "1") { title } }`, cachecontrol.Hint{MaxAge: 3600}},
		{`query { ...F ...G } fragment F on Query { property(id: "1") { title } } fragment G on Query { ...F trends { mentions } }`, cachecontrol.Hint{MaxAge: 1800}},
		{`mutation { clearCache }`, cachecontrol.Hint{}},
	} {
		doc, errs := gqlparser.LoadQuery(schema, c.query)
		if errs != nil {
			t.Fatal(errs)
		}
		if got := p.Operation(doc.Operations[0]); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.query, got, c.want)
		}
	}
}

// A fragment bomb of 2^64 expansions is walked in linear time: each
// fragment once per context.
func TestFragmentBombIsLinear(t *testing.T) {
	schema := loadSchema(t)
	doc, errs := gqlparser.LoadQuery(schema, limittest.FragmentBomb(64, "sentimentSummary { total }"))
	if errs != nil {
		t.Fatal(errs)
	}
	if got := cachecontrol.New(schema).Operation(doc.Operations[0]); got != (cachecontrol.Hint{MaxAge: 7200}) {
		t.Errorf("hint %+v", got)
	}
}

func TestHeader(t *testing.T) {
	for h, want := range map[cachecontrol.Hint]string{
		{}:                          "no-store",
		{MaxAge: 60}:                "public, no-cache",
		{MaxAge: 60, Private: true}: "private, no-cache",
		{MaxAge: -1, Private: true}: "no-store",
	} {
		if got := cachecontrol.Header(h); got != want {
			t.Errorf("Header(%+v) = %q, want %q", h, got, want)
		}
	}
}
