package graph_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
)

// contractPath is the project's own copy of the public contract it
// promises, so a fresh clone checks it with nothing beside it.
const contractPath = "../docs/schema-contract.graphqls"

// upstreamContract is where the contract's owners keep it, beside the
// repository, when that checkout exists.
var upstreamContract = filepath.Join("..", "..", "shared", "contract", "schema-contract.graphqls")

// The project's copy of the contract is the contract: when the upstream
// file is beside the repository, the two are the same bytes.
func TestContractCopyMatchesUpstream(t *testing.T) {
	upstream, err := os.ReadFile(upstreamContract)
	if err != nil {
		t.Skipf("no upstream contract beside the repository (%v): the copy in docs/ is the reference", err)
	}
	ours, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(ours) != string(upstream) {
		t.Fatalf("docs/schema-contract.graphqls differs from %s: copy it again", upstreamContract)
	}
}

// The schema may add to the contract, never drop or rename from it: every
// type, field, argument, default value and enum value of the contract is in
// ours, with the same type.
func TestSchemaKeepsTheContract(t *testing.T) {
	src, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatalf("contract missing: %v", err)
	}
	contract := gqlparser.MustLoadSchema(&ast.Source{Name: "contract", Input: string(src)})
	ours := graph.NewSchema(&graph.Resolver{}).Schema()
	for name, ct := range contract.Types {
		if strings.HasPrefix(name, "__") {
			continue
		}
		ot := ours.Types[name]
		if ot == nil || ot.Kind != ct.Kind {
			t.Errorf("type %s: missing or of another kind", name)
			continue
		}
		for _, ev := range ct.EnumValues {
			if ot.EnumValues.ForName(ev.Name) == nil {
				t.Errorf("enum %s lacks %s", name, ev.Name)
			}
		}
		for _, cf := range ct.Fields {
			if strings.HasPrefix(cf.Name, "__") {
				continue
			}
			of := ot.Fields.ForName(cf.Name)
			if of == nil {
				t.Errorf("%s.%s missing", name, cf.Name)
				continue
			}
			if of.Type.String() != cf.Type.String() {
				t.Errorf("%s.%s: type %s, contract %s", name, cf.Name, of.Type, cf.Type)
			}
			if (of.DefaultValue == nil) != (cf.DefaultValue == nil) || (cf.DefaultValue != nil && of.DefaultValue.String() != cf.DefaultValue.String()) {
				t.Errorf("%s.%s: default differs from the contract", name, cf.Name)
			}
			for _, ca := range cf.Arguments {
				oa := of.Arguments.ForName(ca.Name)
				if oa == nil {
					t.Errorf("%s.%s(%s) missing", name, cf.Name, ca.Name)
					continue
				}
				if oa.Type.String() != ca.Type.String() {
					t.Errorf("%s.%s(%s): type %s, contract %s", name, cf.Name, ca.Name, oa.Type, ca.Type)
				}
				if (oa.DefaultValue == nil) != (ca.DefaultValue == nil) || (ca.DefaultValue != nil && oa.DefaultValue.String() != ca.DefaultValue.String()) {
					t.Errorf("%s.%s(%s): default differs from the contract", name, cf.Name, ca.Name)
				}
			}
		}
	}
	if ours.Directives["cacheControl"] == nil {
		t.Error("directive @cacheControl missing")
	}
}

// Every field the schema marks cacheable is one the resolvers serve through
// the cache, and every coordinate they cache has a hint.
func TestEveryCacheableFieldIsServedThroughTheCache(t *testing.T) {
	schema := graph.NewSchema(&graph.Resolver{}).Schema()
	policy := cachecontrol.New(schema)
	served := graph.CachedCoordinates()
	for _, coord := range served {
		if policy.TTL(coord) <= 0 {
			t.Errorf("%s is cached but has no maxAge in the schema", coord)
		}
	}
	for _, def := range schema.Types {
		if def.BuiltIn || def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			coord := def.Name + "." + f.Name
			rt := schema.Types[f.Type.Name()]
			if rt == nil || rt.Kind != ast.Object || f.Arguments == nil && def.Name != "Query" {
				continue // scalar fields come with their parent's entry; argument-less object fields with their parent or the type's entity entry
			}
			if f.Directives.ForName("cacheControl") != nil && policy.TTL(coord) > 0 && !has(served, coord) {
				t.Errorf("%s has maxAge %v but is not served through the cache", coord, policy.TTL(coord))
			}
		}
	}
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// db's tag for "every entry" is the tag every cache entry carries.
func TestEveryEntryTagMatchesTheCache(t *testing.T) {
	if db.TagAll != cache.AllTag {
		t.Errorf("db.TagAll %q, cache.AllTag %q", db.TagAll, cache.AllTag)
	}
}
