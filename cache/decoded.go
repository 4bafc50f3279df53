package cache

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// Decoded keeps values decoded from Load's payloads beside the payload
// bytes they were decoded from, so a caller that finds the same bytes
// under the same key again skips decoding them. Validity stays with Load:
// a kept value is used only for a payload Load has just validated and
// that is byte-equal to the one it was decoded from, and decoding is a
// function of the bytes, so it is the value decoding would give (an
// invalidated entry is never validated, so its kept value is never
// reached; a refill with other bytes replaces it). Kept values are shared
// by every caller and must not be modified. It is bounded in estimated
// bytes; when a shard is full, arbitrary values are dropped. A nil
// *Decoded keeps nothing.
type Decoded struct {
	seed   maphash.Seed
	shards [decodedShards]decodedShard
}

const decodedShards = 16

type decodedShard struct {
	mu     sync.Mutex
	values map[string]decodedValue
	used   int64
	budget int64
}

type decodedValue struct {
	payload []byte
	v       any
}

// decodedOverhead estimates what a kept value holds beyond its key and
// payload: the map slot and the decoded value (about twice its JSON).
func decodedSize(key string, payload []byte) int64 {
	return int64(len(key) + 3*len(payload) + 96)
}

// DefaultDecodedBytes bounds the decoded values a Cache keeps when its
// options do not say otherwise.
const DefaultDecodedBytes = 32 << 20

// NewDecoded returns an empty Decoded holding at most about maxBytes.
func NewDecoded(maxBytes int64) *Decoded {
	d := &Decoded{seed: maphash.MakeSeed()}
	for i := range d.shards {
		d.shards[i].values = map[string]decodedValue{}
		d.shards[i].budget = maxBytes / decodedShards
	}
	return d
}

func (d *Decoded) shard(key string) *decodedShard {
	return &d.shards[maphash.String(d.seed, key)%decodedShards]
}

// Get returns the value kept for key if it was decoded from payload.
func (d *Decoded) Get(key string, payload []byte) (any, bool) {
	if d == nil {
		return nil, false
	}
	s := d.shard(key)
	s.mu.Lock()
	kept, ok := s.values[key]
	s.mu.Unlock()
	if !ok || !bytes.Equal(kept.payload, payload) {
		return nil, false
	}
	return kept.v, true
}

// Put keeps v, decoded from payload (which must not be modified
// afterwards), for key.
func (d *Decoded) Put(key string, payload []byte, v any) {
	if d == nil {
		return
	}
	size := decodedSize(key, payload)
	s := d.shard(key)
	if size > s.budget {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.values[key]; ok {
		s.used -= decodedSize(key, old.payload)
	}
	for k, old := range s.values {
		if s.used+size <= s.budget {
			break
		}
		s.used -= decodedSize(k, old.payload)
		delete(s.values, k)
	}
	s.values[key] = decodedValue{payload: payload, v: v}
	s.used += size
}

// Len reports how many values are kept.
func (d *Decoded) Len() int {
	if d == nil {
		return 0
	}
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += len(s.values)
		s.mu.Unlock()
	}
	return n
}
