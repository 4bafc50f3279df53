package cache

import "testing"

// TestDecoded: a kept value is returned only for byte-equal payloads under
// its key, a new payload replaces it, and the bytes kept stay within the
// budget.
func TestDecoded(t *testing.T) {
	d := NewDecoded(decodedShards * 1024)
	d.Put("k", []byte(`{"a":1}`), 1)
	if v, ok := d.Get("k", []byte(`{"a":1}`)); !ok || v != 1 {
		t.Fatalf("same bytes: %v %v", v, ok)
	}
	if _, ok := d.Get("k", []byte(`{"a":2}`)); ok {
		t.Fatal("other bytes under the same key were answered")
	}
	if _, ok := d.Get("other", []byte(`{"a":1}`)); ok {
		t.Fatal("the same bytes under another key were answered")
	}
	d.Put("k", []byte(`{"a":2}`), 2)
	if v, ok := d.Get("k", []byte(`{"a":2}`)); !ok || v != 2 {
		t.Fatalf("replaced: %v %v", v, ok)
	}
	for i := range 1000 {
		d.Put(string(rune('a'+i%26))+string(rune(i)), make([]byte, 100), i)
	}
	for i := range d.shards {
		if s := &d.shards[i]; s.used > s.budget {
			t.Fatalf("shard %d holds %d bytes, budget %d", i, s.used, s.budget)
		}
	}
	if n := d.Len(); n == 0 || n > 1000 {
		t.Fatalf("%d values kept", n)
	}
	var none *Decoded
	none.Put("k", nil, 1)
	if _, ok := none.Get("k", nil); ok {
		t.Fatal("a nil Decoded answered")
	}
}
