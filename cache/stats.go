package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FieldStats counts lookups of one schema coordinate.
type FieldStats struct {
	Coordinate   string
	Hits, Misses int64
}

// Stats are totals over every process sharing the store: the store's shared
// counters plus this process's deltas not yet flushed.
type Stats struct {
	Backend string // Options.Backend
	// Hits and Misses include responses. Keys is Inspector.Keys: on Redis,
	// DBSIZE, the whole database.
	Hits, Misses, Invalidations, Keys int64
	// Replays counts the response lookups of warming replays (WithReplay),
	// apart from Hits and Misses: a replay is the cache refilling itself,
	// not a client's request.
	Replays   int64
	Responses FieldStats   // GetResponse, coordinate "response"
	Fields    []FieldStats // Load, sorted by coordinate
	Redis     *Info        // Inspector.Info: nil but on Redis
}

// SharedCounters are the counters every process using a backend adds to.
type SharedCounters interface {
	// AddCounters adds deltas to the counters; Counters reads their totals.
	AddCounters(ctx context.Context, deltas map[string]int64) error
	Counters(ctx context.Context) (map[string]int64, error)
}

// Inspector answers what Stats and Healthy ask of a backend.
type Inspector interface {
	// Keys counts the keys the backend holds (Redis: DBSIZE).
	Keys(ctx context.Context) (int64, error)
	// Info returns Redis server figures, or nil for the in-process store.
	Info(ctx context.Context) (*Info, error)
	Ping(ctx context.Context) error
}

// Info holds Redis INFO figures.
type Info struct {
	KeyspaceHits     int64
	KeyspaceMisses   int64
	UsedMemoryBytes  int64
	ConnectedClients int64
}

// Counter names in the store's shared counters.
const (
	hitsPrefix         = "hits|"
	missesPrefix       = "misses|"
	invalidationsName  = "invalidations"
	replaysName        = "replays"
	responseCoordinate = "response"
)

// counters are this process's deltas not yet added to the store: one
// atomic cell per counter name, so counting takes no lock.
type counters struct {
	cells sync.Map // name -> *atomic.Int64
}

func (c *counters) cell(name string) *atomic.Int64 {
	if v, ok := c.cells.Load(name); ok {
		return v.(*atomic.Int64)
	}
	v, _ := c.cells.LoadOrStore(name, new(atomic.Int64))
	return v.(*atomic.Int64)
}

func (c *counters) add(name string, n int64) {
	if n != 0 {
		c.cell(name).Add(n)
	}
}

// take returns the pending deltas and starts afresh.
func (c *counters) take() map[string]int64 {
	p := make(map[string]int64)
	c.cells.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Swap(0); n != 0 {
			p[k.(string)] = n
		}
		return true
	})
	return p
}

// snapshot returns a copy of the pending deltas.
func (c *counters) snapshot() map[string]int64 {
	s := make(map[string]int64)
	c.cells.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n != 0 {
			s[k.(string)] = n
		}
		return true
	})
	return s
}

// restore adds back deltas a failed flush took.
func (c *counters) restore(deltas map[string]int64) {
	for k, v := range deltas {
		c.add(k, v)
	}
}

// coordCounters are the cells and Prometheus counters of one schema
// coordinate, looked up once.
type coordCounters struct {
	hits, misses         *atomic.Int64
	promHits, promMisses prometheus.Counter // nil without metrics
}

func (c *Cache) coordCounters(coord string) *coordCounters {
	if v, ok := c.coords.Load(coord); ok {
		return v.(*coordCounters)
	}
	cc := &coordCounters{hits: c.counters.cell(hitsPrefix + coord), misses: c.counters.cell(missesPrefix + coord)}
	if c.metrics != nil {
		cc.promHits = c.metrics.hits.WithLabelValues(coord)
		cc.promMisses = c.metrics.misses.WithLabelValues(coord)
	}
	v, _ := c.coords.LoadOrStore(coord, cc)
	return v.(*coordCounters)
}

// The names of the cache's Prometheus counters (others, such as the
// server's alerter, read them by name).
const (
	MetricHits          = "kedahpulse_cache_hits_total"
	MetricMisses        = "kedahpulse_cache_misses_total"
	MetricInvalidations = "kedahpulse_cache_invalidations_total"
	MetricErrors        = "kedahpulse_cache_errors_total"
	MetricWarmReplays   = "kedahpulse_warm_replays_total"
)

// metrics are the Prometheus collectors, nil without a Registerer.
type metrics struct {
	hits, misses  *prometheus.CounterVec
	invalidations prometheus.Counter
	replays       prometheus.Counter
	errors        *prometheus.CounterVec
}

// storeOps are the operations a Cache counts store errors under
// (MetricErrors' label op).
var storeOps = []string{"get", "versions", "set", "bump", "flush", "counters", "keys", "info"}

// newMetrics registers the collectors, each with a zero-valued series from
// the start (errors under every op, hits and misses of the response
// level), so rules and dashboards over them see zero rather than nothing
// before the first event.
func newMetrics(r prometheus.Registerer) *metrics {
	if r == nil {
		return nil
	}
	m := &metrics{
		hits: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricHits,
			Help: "Cache lookups answered from the cache, by schema coordinate.",
		}, []string{"coordinate"})),
		misses: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricMisses,
			Help: "Cache lookups answered by the source, by schema coordinate.",
		}, []string{"coordinate"})),
		invalidations: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricInvalidations,
			Help: "Tags invalidated.",
		})),
		replays: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricWarmReplays,
			Help: "Response lookups by warming replays (counted apart from hits and misses).",
		})),
		errors: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricErrors,
			Help: "Failed or skipped cache store calls, by operation.",
		}, []string{"op"})),
	}
	for _, op := range storeOps {
		m.errors.WithLabelValues(op)
	}
	m.hits.WithLabelValues(responseCoordinate)
	m.misses.WithLabelValues(responseCoordinate)
	return m
}

// register registers c, or returns the collector already registered under
// its name (a second Cache in the same process shares the metrics).
func register[C prometheus.Collector](r prometheus.Registerer, c C) C {
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("cache: register metric: %v", err))
	}
	return c
}

// count records hits and misses of coord locally and in Prometheus.
func (c *Cache) count(coord string, hits, misses int) {
	cc := c.coordCounters(coord)
	if hits > 0 {
		cc.hits.Add(int64(hits))
		if cc.promHits != nil {
			cc.promHits.Add(float64(hits))
		}
	}
	if misses > 0 {
		cc.misses.Add(int64(misses))
		if cc.promMisses != nil {
			cc.promMisses.Add(float64(misses))
		}
	}
}

type replayKey struct{}

// WithReplay marks ctx as a warming replay: its response lookups count in
// Stats.Replays, not as hits or misses.
func WithReplay(ctx context.Context) context.Context {
	return context.WithValue(ctx, replayKey{}, true)
}

// countResponse counts a response lookup: a hit, a miss, or a replay.
func (c *Cache) countResponse(ctx context.Context, hit bool) {
	if replay, _ := ctx.Value(replayKey{}).(bool); replay {
		c.counters.add(replaysName, 1)
		if c.metrics != nil {
			c.metrics.replays.Inc()
		}
		return
	}
	if hit {
		c.count(responseCoordinate, 1, 0)
	} else {
		c.count(responseCoordinate, 0, 1)
	}
}

// Stats returns the totals of every process sharing the store. When the
// store fails it returns this process's unflushed figures with the error.
func (c *Cache) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Backend: c.opt.Backend}
	totals := c.counters.snapshot()
	var shared map[string]int64
	var keys int64
	var info *Info
	var err error
	if c.opt.Counters != nil {
		err = c.do(ctx, "counters", func(ctx context.Context) (err error) {
			shared, err = c.opt.Counters.Counters(ctx)
			return err
		})
	}
	if err == nil && c.opt.Inspector != nil {
		err = c.do(ctx, "keys", func(ctx context.Context) (err error) {
			keys, err = c.opt.Inspector.Keys(ctx)
			return err
		})
	}
	if err == nil && c.opt.Inspector != nil {
		err = c.do(ctx, "info", func(ctx context.Context) (err error) {
			info, err = c.opt.Inspector.Info(ctx)
			return err
		})
	}
	for k, v := range shared {
		totals[k] += v
	}
	st.Keys, st.Redis = keys, info
	fields := make(map[string]*FieldStats)
	field := func(coord string) *FieldStats {
		f, ok := fields[coord]
		if !ok {
			f = &FieldStats{Coordinate: coord}
			fields[coord] = f
		}
		return f
	}
	for name, v := range totals {
		switch {
		case name == invalidationsName:
			st.Invalidations += v
		case name == replaysName:
			st.Replays += v
		case strings.HasPrefix(name, hitsPrefix):
			field(strings.TrimPrefix(name, hitsPrefix)).Hits += v
			st.Hits += v
		case strings.HasPrefix(name, missesPrefix):
			field(strings.TrimPrefix(name, missesPrefix)).Misses += v
			st.Misses += v
		}
	}
	for _, coord := range sortedKeys(fields) {
		if coord == responseCoordinate {
			st.Responses = *fields[coord]
			continue
		}
		st.Fields = append(st.Fields, *fields[coord])
	}
	if st.Responses.Coordinate == "" {
		st.Responses.Coordinate = responseCoordinate
	}
	if err != nil {
		return st, fmt.Errorf("cache: stats: %w", err)
	}
	return st, nil
}

// Flush adds this process's counter deltas to the shared counters
// (Options.Counters; without them, it keeps them). On failure the deltas
// are kept for the next Flush.
func (c *Cache) Flush(ctx context.Context) error {
	if c.opt.Counters == nil {
		return nil
	}
	deltas := c.counters.take()
	if len(deltas) == 0 {
		return nil
	}
	err := c.do(ctx, "flush", func(ctx context.Context) error {
		return c.opt.Counters.AddCounters(ctx, deltas)
	})
	if err != nil {
		c.counters.restore(deltas)
		return err
	}
	return nil
}

// Run flushes the counters every FlushInterval until ctx is done, then
// flushes once more (with a fresh timeout) and returns.
func (c *Cache) Run(ctx context.Context) {
	t := time.NewTicker(c.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.Flush(ctx); err != nil {
				c.log.Warn("cache: flush counters", "err", err)
			}
		case <-ctx.Done():
			if err := c.Flush(context.WithoutCancel(ctx)); err != nil {
				c.log.Warn("cache: final flush of counters", "err", err)
			}
			return
		}
	}
}

// CountHits counts one hit of each of coords: fields a whole response
// answered without loading them (see Stats).
func (c *Cache) CountHits(coords []string) {
	for _, coord := range coords {
		c.count(coord, 1, 0)
	}
}
