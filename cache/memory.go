package cache

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Defaults of MemoryLimits.
const (
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 64 << 20
)

// MemoryLimits bound a MemoryStore. Zero fields mean the defaults.
type MemoryLimits struct {
	MaxEntries int   // entries and tags together
	MaxBytes   int64 // keys, values and versions, plus a fixed overhead per item
}

// itemOverhead approximates what the map and the item struct cost per item
// beyond its key and value bytes.
const itemOverhead = 96

// MemoryStore is the in-process Store of the embedded default: one
// mutex-guarded map holding entries and tag versions (under "e:" and "t:"
// like Redis keys), each with an expiry. It has the same semantics as
// redisstore.Store and no goroutine.
//
// Expired items are removed when read, and by a sweep whenever an insert
// takes the map past either limit: the sweep first drops every expired
// item, then, if still over, the items closest to expiry (entries usually,
// as tag versions live for TagTTL) until the map is at 90% of both limits,
// so the sweep's cost is spread over many inserts. Dropping a tag is safe: it comes
// back with a fresh version, so its old entries miss.
type MemoryStore struct {
	mu       sync.Mutex
	items    map[string]memItem
	counters map[string]int64
	limits   MemoryLimits
	bytes    int64 // held by items, as itemSize counts
	now      func() time.Time

	// The invalidation log (log.go): its id, its bumps so far, and the
	// records of the last ones (at most 2*LogCapacity; the last is bump
	// logN). A record is never changed once appended, and a trim copies
	// the ones it keeps to a new array, so Observe hands out its tail
	// shared (clipped), without a copy.
	logID   string
	logN    int64
	records []Record
}

type memItem struct {
	value   []byte // entries; nil for tags
	version string // tags
	expires time.Time
}

var (
	_ Store          = (*MemoryStore)(nil)
	_ SharedCounters = (*MemoryStore)(nil)
	_ Inspector      = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store within l.
func NewMemoryStore(l MemoryLimits) *MemoryStore {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return &MemoryStore{
		items:    make(map[string]memItem),
		counters: make(map[string]int64),
		limits:   l,
		now:      time.Now,
		logID:    NewVersion(),
	}
}

func itemSize(k string, it memItem) int64 {
	return int64(len(k) + len(it.value) + len(it.version) + itemOverhead)
}

// put stores it at k, keeping the byte count. Callers hold m.mu.
func (m *MemoryStore) put(k string, it memItem) {
	if old, ok := m.items[k]; ok {
		m.bytes -= itemSize(k, old)
	}
	m.items[k] = it
	m.bytes += itemSize(k, it)
}

// remove deletes k, keeping the byte count. Callers hold m.mu.
func (m *MemoryStore) remove(k string) {
	if old, ok := m.items[k]; ok {
		m.bytes -= itemSize(k, old)
		delete(m.items, k)
	}
}

func (m *MemoryStore) over(entries, bytes int64) bool {
	return int64(len(m.items)) > entries || m.bytes > bytes
}

// live returns the item at k unless it is absent or expired (which it
// deletes). Callers hold m.mu.
func (m *MemoryStore) live(k string, now time.Time) (memItem, bool) {
	it, ok := m.items[k]
	if !ok {
		return memItem{}, false
	}
	if !now.Before(it.expires) {
		m.remove(k)
		return memItem{}, false
	}
	return it, true
}

// liveBytes is live for the key spelt by k, which it copies only to
// remove an expired item. Callers hold m.mu.
func (m *MemoryStore) liveBytes(k []byte, now time.Time) (memItem, bool) {
	it, ok := m.items[string(k)]
	if !ok {
		return memItem{}, false
	}
	if !now.Before(it.expires) {
		m.remove(string(k))
		return memItem{}, false
	}
	return it, true
}

// Get returns the values under keys, shared with the store (read-only, as
// Store.Get says; Set stored copies of exactly their length, so an append
// to one reallocates), and the versions of tags, creating absent tags
// with a fresh version.
func (m *MemoryStore) Get(_ context.Context, keys, tags []string) (Got, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	values, ttls := make([][]byte, len(keys)), make([]time.Duration, len(keys))
	var buf [256]byte
	name := buf[:0] // "e:"+k and "t:"+t, built in one buffer: a lookup by string(name) copies nothing
	for i, k := range keys {
		name = append(append(name[:0], "e:"...), k...)
		if it, ok := m.liveBytes(name, now); ok {
			values[i], ttls[i] = it.value, it.expires.Sub(now)
			if values[i] == nil {
				values[i] = []byte{}
			}
		}
	}
	versions := make(map[string]string, len(tags))
	created := false
	for _, t := range tags {
		name = append(append(name[:0], "t:"...), t...)
		if it, ok := m.liveBytes(name, now); ok {
			versions[t] = it.version
			continue
		}
		v := NewVersion()
		m.put("t:"+t, memItem{version: v, expires: now.Add(TagTTL)})
		versions[t] = v
		created = true
	}
	if created {
		m.sweep(now)
	}
	return Got{Values: values, TTLs: ttls, Versions: versions, Stamp: Stamp{Log: m.logID, N: m.logN}}, nil
}

// Versions returns the versions of the tags that exist.
func (m *MemoryStore) Versions(_ context.Context, tags []string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	versions := make(map[string]string, len(tags))
	for _, t := range tags {
		if it, ok := m.live("t:"+t, now); ok {
			versions[t] = it.version
		}
	}
	return versions, nil
}

// Set stores copies of the items' values.
func (m *MemoryStore) Set(_ context.Context, items []Item) error {
	for _, it := range items {
		if it.TTL <= 0 {
			return errNonPositiveTTL(it)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, it := range items {
		v := make([]byte, len(it.Value))
		copy(v, it.Value)
		m.put("e:"+it.Key, memItem{value: v, expires: now.Add(it.TTL)})
	}
	m.sweep(now)
	return nil
}

// Bump gives tags fresh versions.
func (m *MemoryStore) Bump(_ context.Context, tags []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, t := range tags {
		m.put("t:"+t, memItem{version: NewVersion(), expires: now.Add(TagTTL)})
	}
	m.logN++
	m.records = append(m.records, Record{N: m.logN, Tags: slices.Clone(tags)})
	if len(m.records) >= 2*LogCapacity {
		m.records = slices.Clone(m.records[len(m.records)-LogCapacity:])
	}
	m.sweep(now)
	return nil
}

// Observe returns the entry at key (not a copy: callers never modify
// values) and the log since since.
func (m *MemoryStore) Observe(_ context.Context, key string, since Stamp) ([]byte, Changes, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var raw []byte
	if key != "" {
		if it, ok := m.live("e:"+key, m.now()); ok {
			raw = it.value
			if raw == nil {
				raw = []byte{}
			}
		}
	}
	ch := Changes{Now: Stamp{Log: m.logID, N: m.logN}}
	if since == TailStamp {
		n := len(m.records)
		ch.Tail = m.records[max(n-MaxChanges, 0):n:n]
		return raw, ch, nil
	}
	if d := m.logN - since.N; since.Log == m.logID && d >= 0 && d <= MaxChanges && d <= int64(len(m.records)) {
		ch.Complete = true
		for _, r := range m.records[len(m.records)-int(d):] {
			ch.Tags = append(ch.Tags, r.Tags...)
		}
	}
	return raw, ch, nil
}

// sweep brings the map back within its limits; see MemoryStore. Callers
// hold m.mu.
func (m *MemoryStore) sweep(now time.Time) {
	maxEntries, maxBytes := int64(m.limits.MaxEntries), m.limits.MaxBytes
	if !m.over(maxEntries, maxBytes) {
		return
	}
	for k, it := range m.items {
		if !now.Before(it.expires) {
			m.remove(k)
		}
	}
	entries, bytes := maxEntries*9/10, maxBytes*9/10
	if !m.over(entries, bytes) {
		return
	}
	type keyed struct {
		key     string
		expires time.Time
	}
	all := make([]keyed, 0, len(m.items))
	for k, it := range m.items {
		all = append(all, keyed{k, it.expires})
	}
	slices.SortFunc(all, func(a, b keyed) int { return a.expires.Compare(b.expires) })
	for _, kv := range all {
		if !m.over(entries, bytes) {
			break
		}
		m.remove(kv.key)
	}
}

// AddCounters adds deltas to the store's counters.
func (m *MemoryStore) AddCounters(_ context.Context, deltas map[string]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, d := range deltas {
		m.counters[k] += d
	}
	return nil
}

// Counters returns a copy of the counters.
func (m *MemoryStore) Counters(context.Context) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(map[string]int64, len(m.counters))
	for k, v := range m.counters {
		c[k] = v
	}
	return c, nil
}

// Bytes reports the bytes the store holds, as it counts them for MaxBytes.
func (m *MemoryStore) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Keys counts entries and tags, including expired ones not yet removed (as
// Redis's DBSIZE does).
func (m *MemoryStore) Keys(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.items)), nil
}

// Info returns nil: there is no server.
func (m *MemoryStore) Info(context.Context) (*Info, error) { return nil, nil }

// Ping always succeeds.
func (m *MemoryStore) Ping(context.Context) error { return nil }

// Close does nothing; the store holds no resources beyond memory.
func (m *MemoryStore) Close() error { return nil }

func errNonPositiveTTL(it Item) error {
	return fmt.Errorf("cache: set %q: ttl %v must be positive", it.Key, it.TTL)
}
