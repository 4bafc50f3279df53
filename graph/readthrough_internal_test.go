package graph

import (
	"testing"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/db"
)

// A payload decoded once is answered from the kept value, allocating
// nothing; other bytes under the same key are decoded afresh.
func TestDecodeKeptAllocatesNothing(t *testing.T) {
	r := &Resolver{Cache: cache.New(cache.NewMemoryStore(cache.MemoryLimits{}), cache.Options{})}
	payload := []byte(`{"ID":7,"Title":"Chalet","Price":1250}`)
	first, err := decode[*db.Property](r, "Property", "Property|7", payload)
	if err != nil || first.ID != 7 {
		t.Fatal(first, err)
	}
	var again *db.Property
	if n := testing.AllocsPerRun(100, func() { again, _ = decode[*db.Property](r, "Property", "Property|7", payload) }); n != 0 {
		t.Errorf("a kept value costs %.0f allocations, want 0", n)
	}
	if again != first {
		t.Error("the kept value was not returned")
	}
	other, err := decode[*db.Property](r, "Property", "Property|7", []byte(`{"ID":7,"Title":"Villa"}`))
	if err != nil || other.Title != "Villa" {
		t.Fatal(other, err)
	}
}
