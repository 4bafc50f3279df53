package graph_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// gate holds the first cache write of a key containing match until
// released: the reader has read the database but not yet filled the cache.
type gate struct {
	match   string
	armed   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func newGate(match string) *gate {
	g := &gate{match: match, reached: make(chan struct{}), release: make(chan struct{})}
	g.armed.Store(true)
	return g
}

func (g *gate) hold(keys []string) {
	for _, k := range keys {
		if strings.Contains(k, g.match) && g.armed.CompareAndSwap(true, false) {
			close(g.reached)
			<-g.release
			return
		}
	}
}

// A reader that read the old row before a mutation committed, and writes it
// to the cache after the mutation's invalidation, must not make the old row
// servable: the next read sees the mutation.
func TestFillRacingAnInvalidationIsNeverServed(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 3)
		cases := []struct {
			name, read, write, key string
			vars                   map[string]any
			fresh                  func(data map[string]any) bool
		}{{
			name:  "entity field",
			key:   "Property|",
			read:  `query($id: ID!) { property(id: $id) { title } }`,
			write: `mutation($id: ID!) { updateProperty(id: $id, input: {title: "After"}) { id } }`,
			vars:  map[string]any{"id": sid(f.props[0].ID)},
			fresh: func(d map[string]any) bool { return path(d, "property", "title") == "After" },
		}, {
			name:  "list field",
			key:   "Destination.properties|",
			read:  `query($d: ID) { destination(id: $d) { properties(first: 50) { title } } }`,
			write: `mutation($d: ID) { createProperty(input: {title: "Brand new", description: "d", price: "1", location: "x", destinationId: $d}) { id } }`,
			vars:  map[string]any{"d": sid(f.dests[0].ID)},
			fresh: func(d map[string]any) bool { return contains(jsonString(d), "Brand new") },
		}}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e.ok(`mutation { clearCache }`, nil, true)
				g := newGate(c.key)
				e.gate.Store(g)
				defer e.gate.Store(nil)
				done := make(chan map[string]any)
				go func() { done <- e.ok(c.read, c.vars, false) }()
				<-g.reached
				e.ok(c.write, c.vars, true) // commits and invalidates while the reader holds the old row
				close(g.release)
				<-done // the racing reader may answer the old value: it started before the write
				if got := e.ok(c.read, c.vars, false); !c.fresh(got) {
					t.Fatalf("stale read after the mutation's response: %s", jsonString(got))
				}
			})
		}
	})
}

// 8 readers and 1 writer doing 200 sequential writes: any read that started
// after write K's response saw K or later. Sequence numbers, not clocks,
// order the events.
func TestNoStaleReadsUnderConcurrency(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 2)
		pid, did := sid(f.props[0].ID), sid(f.dests[2].ID)
		base := len(f.props) / 3 // properties fixture placed in dests[2]
		checks := []struct {
			name     string
			write    func(k int)
			read     string
			vars     map[string]any
			observed func(map[string]any) int
		}{{
			name: "entity field",
			write: func(k int) {
				e.ok(`mutation($id: ID!, $t: String) { updateProperty(id: $id, input: {title: $t}) { id } }`,
					map[string]any{"id": pid, "t": "v" + strconv.Itoa(k)}, true)
			},
			read: `query($id: ID!) { property(id: $id) { title } }`,
			vars: map[string]any{"id": pid},
			observed: func(d map[string]any) int {
				n, _ := strconv.Atoi(strings.TrimPrefix(fmt.Sprint(path(d, "property", "title")), "v"))
				return n
			},
		}, {
			name: "list field",
			write: func(k int) {
				e.ok(`mutation($d: ID) { createProperty(input: {title: "new", description: "d", price: "1", location: "x", destinationId: $d}) { id } }`,
					map[string]any{"d": did}, true)
			},
			read: `query($d: ID) { properties(filter: {destinationId: $d}, first: 1) { totalCount } }`,
			vars: map[string]any{"d": did},
			observed: func(d map[string]any) int {
				n, _ := path(d, "properties", "totalCount").(float64)
				return int(n) - base
			},
		}}
		for _, c := range checks {
			t.Run(c.name, func(t *testing.T) {
				const writes, readers = 200, 8
				var seq atomic.Int64
				done := make([]int64, writes+1) // done[k]: sequence number after write k's response
				var doneMu sync.RWMutex
				var stop atomic.Bool
				type read struct {
					start int64
					saw   int
				}
				reads := make([][]read, readers)
				var wg sync.WaitGroup
				for r := range readers {
					wg.Go(func() {
						for !stop.Load() {
							start := seq.Add(1)
							data := e.ok(c.read, c.vars, false)
							reads[r] = append(reads[r], read{start, c.observed(data)})
						}
					})
				}
				for k := 1; k <= writes; k++ {
					c.write(k)
					doneMu.Lock()
					done[k] = seq.Add(1)
					doneMu.Unlock()
				}
				stop.Store(true)
				wg.Wait()
				violations, total := 0, 0
				for _, rs := range reads {
					for _, rd := range rs {
						total++
						want := 0
						for k := writes; k >= 1; k-- {
							if done[k] < rd.start {
								want = k
								break
							}
						}
						if rd.saw < want {
							violations++
							if violations <= 5 {
								t.Errorf("read started at %d saw write %d, but write %d had completed", rd.start, rd.saw, want)
							}
						}
					}
				}
				t.Logf("%d reads, %d stale", total, violations)
				for r, rs := range reads {
					if len(rs) == 0 || rs[0].start > done[writes] {
						t.Errorf("reader %d never read while writes were happening", r)
					}
				}
			})
		}
	})
}

// Several mutation fields in one request: the fields resolved after a
// write read the state it left, not the request's loader memo filled
// before it.
func TestLaterMutationFieldsSeeEarlierWrites(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := newFixture(t, e, 3)
		p, d := f.props[2], f.dests[2] // property 2 is attached to destination 2
		vars := map[string]any{"p": sid(p.ID), "d": sid(d.ID)}
		data := e.ok(`mutation($p: ID!, $d: ID!) {
			a: updateProperty(id: $p, input: {title: "Before"}) { destination { name } }
			b: updateDestination(id: $d, input: {name: "Pekan Rabu Baru"}) { name }
			c: updateProperty(id: $p, input: {title: "After"}) { title destination { name } } }`, vars, true)
		if got := path(data, "a", "destination", "name"); got != d.Name {
			t.Errorf("a: %v, want %q", got, d.Name)
		}
		if got := path(data, "c", "destination", "name"); got != "Pekan Rabu Baru" {
			t.Errorf("c: destination %v after b renamed it, want Pekan Rabu Baru", got)
		}
	})
}
