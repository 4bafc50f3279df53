package graph

import (
	"hash/maphash"
	"sync"
	"unsafe"
)

// Rendered parts. An entity's JSON for one selection is a pure function of
// the entity's value and the selection, except for its object-valued
// fields (Property.destination, Destination.properties and .sentiment),
// which are other values. So the plan keeps, per value and selection, the
// bytes of the object with those fields cut out ("parts"), and a warm run
// writes an entity as its parts with the object-valued fields' own
// writing between them: a copy instead of a marshaler per scalar.
//
// A value is named by its address: the values the plan writes are shared
// and never modified after they are read (readThrough's contract), a
// value decoded again from new bytes is a new value at a new address, and
// a kept entry holds its value, so the address is never reused while the
// entry lives. A selection is named by its compiled field list, which a
// compiled plan owns and never modifies. Parts are written only when the
// whole object was written without an error, and the differential tests
// (TestPlanDifferential, FuzzPlanDifferential) send each query twice, so
// the second answer is written from parts.

// DefaultPartsBytes bounds the rendered parts a Plan keeps (with the
// values they pin, estimated as large as their bytes).
const DefaultPartsBytes = 16 << 20

const partsShards = 16

// parts is one object's bytes with its object-valued fields cut out: the
// bytes before the first, between each two and after the last, in order
// (cut[i] ends the i-th).
type parts struct {
	b   []byte
	cut []int32
}

type partsKey struct {
	value unsafe.Pointer
	sel   **planField
}

// partsCache keeps parts by value and selection, bounded in estimated
// bytes; a full shard drops arbitrary entries.
type partsCache struct {
	seed   maphash.Seed
	shards [partsShards]partsShard
}

type partsShard struct {
	mu     sync.Mutex
	m      map[partsKey]*parts
	used   int64
	budget int64
}

func newPartsCache(maxBytes int64) *partsCache {
	c := &partsCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = map[partsKey]*parts{}
		c.shards[i].budget = maxBytes / partsShards
	}
	return c
}

func (c *partsCache) shard(k partsKey) *partsShard {
	return &c.shards[maphash.Comparable(c.seed, k)%partsShards]
}

// partsSize estimates what kept parts hold: their bytes, the value they
// pin (about as large), and the map slot.
func partsSize(p *parts) int64 { return int64(2*len(p.b)+4*len(p.cut)) + 96 }

func (c *partsCache) get(k partsKey) *parts {
	s := c.shard(k)
	s.mu.Lock()
	p := s.m[k]
	s.mu.Unlock()
	return p
}

func (c *partsCache) put(k partsKey, p *parts) {
	size := partsSize(p)
	s := c.shard(k)
	if size > s.budget/8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[k]; ok {
		s.used -= partsSize(old)
	}
	for k2, old := range s.m {
		if s.used+size <= s.budget {
			break
		}
		s.used -= partsSize(old)
		delete(s.m, k2)
	}
	s.m[k] = p
	s.used += size
}

// writeObject writes the object value with the fields of sel: from the
// parts kept for them when there are, else field by field (scalar writes
// a scalar field's value, __typename included) keeping the parts for the
// next run; child writes an object-valued field's value either way.
func (run *planRun) writeObject(value unsafe.Pointer, sel []*planField, scalar, child func(*planField)) {
	k := partsKey{value: value, sel: unsafe.SliceData(sel)}
	if p := run.plan.parts.get(k); p != nil {
		from, j := 0, 0
		for _, f := range sel {
			if f.object {
				run.buf = append(run.buf, p.b[from:p.cut[j]]...)
				from = int(p.cut[j])
				j++
				child(f)
			}
		}
		run.buf = append(run.buf, p.b[from:]...)
		return
	}
	start := len(run.buf)
	var children []int // the start and end in buf of each object-valued field's value
	run.buf = append(run.buf, '{')
	for i, f := range sel {
		run.key(i, f)
		if f.object {
			children = append(children, len(run.buf))
			child(f)
			children = append(children, len(run.buf))
		} else {
			scalar(f)
		}
	}
	run.buf = append(run.buf, '}')
	if run.err != nil {
		return
	}
	p := &parts{cut: make([]int32, 0, len(children)/2)}
	from := start
	for c := 0; c < len(children); c += 2 {
		p.b = append(p.b, run.buf[from:children[c]]...)
		p.cut = append(p.cut, int32(len(p.b)))
		from = children[c+1]
	}
	p.b = append(p.b, run.buf[from:]...)
	run.plan.parts.put(k, p)
}
