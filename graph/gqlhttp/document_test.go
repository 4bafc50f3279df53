package gqlhttp_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/cachecontrol"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/limit"
)

// The byte budget of prepared documents holds: the heap a prepared
// document keeps is within the size Documents charges it
// (astBytesPerByte per byte of text), and documents that fail are not kept.
func TestDocumentSizeEstimate(t *testing.T) {
	schema := graph.NewSchema(&graph.Resolver{}).Schema()
	l := limit.Defaults
	l.Characters, l.Tokens, l.Aliases, l.Cost = 1<<20, 1<<20, 1<<20, 1<<30
	ds := gqlhttp.NewDocuments(schema, l, graph.Pricing(""), cachecontrol.New(schema), 1<<30)
	var b strings.Builder
	b.WriteString("{")
	for i := 0; b.Len() < 14_000; i++ {
		b.WriteString(" p" + strings.Repeat("x", i%7) + "_" + string(rune('a'+i%26)) + ": properties(first: 1) { totalCount edges { node { id title } } }")
	}
	b.WriteString(" }")
	text := b.String()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, errs := ds.Load(text)
	if errs != nil {
		t.Fatal(errs)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("a %d-byte document holds %d bytes (%.1f per byte); charged %d", len(text), held, float64(held)/float64(len(text)), d.Size())
	if held > int64(d.Size()) {
		t.Errorf("the document holds %d bytes, more than the %d it is charged", held, d.Size())
	}
	if ds.Bytes() != d.Size() {
		t.Errorf("budget used %d, want %d", ds.Bytes(), d.Size())
	}
	if _, errs := ds.Load("{ nope }"); errs == nil || ds.Bytes() != d.Size() {
		t.Errorf("a failing document was kept (budget %d)", ds.Bytes())
	}
	runtime.KeepAlive(d)
}
