package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/live"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
	"github.com/kedahpulse/kedahpulse/outbox"
	"github.com/kedahpulse/kedahpulse/server/dashboard"
	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// app is the wired program.
type app struct {
	cfg      config
	log      *slog.Logger
	registry *prometheus.Registry
	store    *db.Store
	redis    redis.UniversalClient // nil on the in-process cache
	cache    *cache.Cache
	texts    gqlhttp.TextStore // persisted queries' texts, beside the cache
	outbox   *outbox.Relay
	resolver *graph.Resolver
	scraper  *scrape.Scraper
	board    *dashboard.Board
	purger   *purger           // nil unless the CDN mode is on
	warmer   *respcache.Warmer // nil when WARM_TOP is 0
	live     *live.Registry

	closeCache func() error   // closes the cache's store
	cacheDown  bool           // the cache did not answer at start
	cacheLog   live.Log       // the cache store's invalidation log
	lease      *outbox.Lease  // this process answers from the cache only while it holds it
	bypass     *outbox.Bypass // reads skip the cache while an invalidation may be undelivered or the lease is not held
}

// open wires the program: the database (migrated), the listeners after an
// invalidation, the cache that tells them, the outbox relay, the resolver,
// the scraper and the dashboard.
func open(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	var err error
	if a.store, err = db.OpenWith(ctx, cfg.Database.URL, db.PoolOptions{MaxOpenConns: cfg.Database.MaxConns}); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := a.store.Migrate(ctx); err != nil {
		a.store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}

	families := new(dashboard.Families)
	purgeMetrics := newPurgeMetrics(a.registry)
	if cfg.CDN.PurgeURL != "" {
		a.purger = newPurger(cfg.CDN, purgeMetrics, log)
	}
	if cfg.Warm.Top > 0 {
		a.warmer = respcache.NewWarmer(respcache.WarmOptions{Top: cfg.Warm.Top, Concurrency: cfg.Warm.Concurrency,
			Budget: cfg.Warm.Budget, MaxFill: cfg.Warm.MaxFill, Logger: log})
	}
	// The listeners after an invalidation, told in this order: the
	// dashboard's counts by tag family, the CDN purge queue, the warmer,
	// the live queries (a.live, set once the cache is open, before any
	// invalidation).
	afterInvalidation := []func(tags []string){families.Add}
	if a.purger != nil {
		afterInvalidation = append(afterInvalidation, a.purger.invalidated)
	}
	if a.warmer != nil {
		afterInvalidation = append(afterInvalidation, a.warmer.Invalidated)
	}
	afterInvalidation = append(afterInvalidation, func(tags []string) { a.live.Invalidated(tags) })
	if err := a.openCache(afterInvalidation); err != nil {
		a.store.Close()
		return nil, err
	}
	a.live = a.newLive()

	a.outbox = outbox.New(a.store, a.cache, a.bypass, log).WithWait(cfg.Cache.InvalidationWait)
	a.scraper = scrape.New(a.store, a.outbox, cfg.Scrape.Config, log)
	if a.redis != nil {
		a.scraper = a.scraper.WithLock(a.redis, cfg.Cache.Prefix+"scrape-lock")
	}
	var deliverer graph.Deliverer = a.outbox
	if a.purger != nil { // a mutation is acknowledged once the CDN accepted its purges
		deliverer = purgedDelivery{a.outbox, a.purger}
	}
	a.resolver = &graph.Resolver{Store: a.store, Cache: a.cache, Outbox: deliverer, Log: log, LoaderWait: cfg.GraphQL.LoaderWait,
		Scraper: busyAsUnavailable{a.scraper}}
	a.board = a.newBoard(families)
	return a, nil
}

// openCache builds the cache on Redis (REDIS_URL) or in process, telling
// every listener of afterInvalidation, in order, the tags of each
// invalidation.
func (a *app) openCache(afterInvalidation []func(tags []string)) error {
	cfg := a.cfg.Cache
	opts := cache.Options{Timeout: cfg.Timeout, Logger: a.log, RepeatInterval: a.cfg.Log.RepeatInterval, Registerer: a.registry,
		Invalidated: func(tags []string) {
			for _, listener := range afterInvalidation {
				listener(tags)
			}
		},
	}
	var store cache.Store
	identity := memoryIdentity()
	var ping func(context.Context) error // nil: in process, always reachable
	if cfg.RedisURL != "" {
		rs, err := redisstore.Open(cfg.RedisURL, cfg.Prefix)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		// Reach every node once before serving, so each runs its epoch
		// check before an entry is written; an unreachable cache is not
		// fatal (requests are then served from the database) but is said.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := rs.Ping(ctx); err != nil {
			a.cacheDown = true
			a.log.Warn("cache unreachable at start; serving from the database until it answers", "redis_url", redisstore.RedactURL(cfg.RedisURL), "err", err)
		}
		cancel()
		a.redis, a.closeCache, store = rs.Client(), rs.Close, rs
		identity, ping = redisIdentity(rs), rs.Ping
		g := a.cfg.GraphQL
		a.texts = redisstore.NewTexts(rs, redisstore.TextOptions{MaxBytes: int64(g.PersistedBytes), TTL: g.PersistedTTL, Timeout: cfg.Timeout, Logger: a.log})
		opts.Counters, opts.Inspector, opts.Backend = rs, rs, "REDIS"
		opts.LocalBytes, opts.Compress = cache.DefaultLocalBytes, true
	} else {
		m := cache.NewMemoryStore(cache.MemoryLimits{MaxBytes: cfg.MaxBytes})
		a.closeCache, store = m.Close, m
		a.texts = gqlhttp.NewMemoryTexts(a.cfg.GraphQL.PersistedBytes)
		opts.Counters, opts.Inspector, opts.Backend = m, m, "MEMORY"
		opts.Timeout, opts.BreakerThreshold = -1, -1 // it never blocks on a network
		opts.InProcess = true                        // so Peek answers its hits without a loader's wait
		// Copies validated by the log's head: a warm batch then compares
		// stamps instead of reading every entry's tag versions.
		opts.LocalBytes = cache.DefaultLocalBytes
	}
	a.lease = outbox.NewLease(a.store, identity, cfg.Lease, ping, a.log)
	a.bypass = outbox.NewBypass(a.lease)
	opts.Bypass = a.bypass
	a.cache = cache.New(store, opts)
	a.cacheLog = store
	return nil
}

// newLive is the registry of live queries, told of this process's
// invalidations (afterInvalidation) and, through Redis pub/sub, of the
// other processes sharing the cache.
func (a *app) newLive() *live.Registry {
	g := a.cfg.GraphQL
	r := live.New(live.Options{Log: a.cacheLog, Redis: a.redis, Channel: a.cfg.Cache.Prefix + "live",
		MaxPerClient: a.cfg.Live.MaxPerClient, Concurrency: a.cfg.Live.Concurrency, KeepAlive: a.cfg.Live.KeepAlive,
		Limits: g.Limits, MaxBody: g.MaxBodyBytes, Logger: a.log})
	stat := func(f func(live.Stats) int64) func() float64 {
		return func() float64 { return float64(f(r.Stats())) }
	}
	a.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kedahpulse_live_subscriptions", Help: "Live query subscriptions held."},
			stat(func(s live.Stats) int64 { return int64(s.Subscriptions) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kedahpulse_live_queries", Help: "Distinct live queries held."},
			stat(func(s live.Stats) int64 { return int64(s.Entries) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kedahpulse_live_recomputes_total", Help: "Live queries recomputed after an invalidation."},
			stat(func(s live.Stats) int64 { return s.Recomputes })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kedahpulse_live_pushes_total", Help: "Live answers handed to subscribers (first answers included)."},
			stat(func(s live.Stats) int64 { return s.Pushes })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kedahpulse_live_coalesced_total", Help: "Live answers replaced by a newer one before they were written."},
			stat(func(s live.Stats) int64 { return s.Coalesced })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kedahpulse_live_dropped_total", Help: "Live subscribers dropped because a write failed or timed out."},
			stat(func(s live.Stats) int64 { return s.Dropped })),
	)
	return r
}

// graphqlHandler is the GraphQL endpoint: the whole-response cache in
// front, then auth, the limits and gqlgen over the resolver.
func (a *app) graphqlHandler() http.Handler {
	g := a.cfg.GraphQL
	var plan *graph.Plan
	if g.Plan {
		plan = graph.NewPlan()
		a.registry.MustRegister(plan)
	}
	return graph.NewHandler(a.resolver, graph.Options{
		AdminToken: a.cfg.HTTP.AdminToken, Introspection: g.Introspection,
		Limits: g.Limits, MaxBodyBytes: g.MaxBodyBytes, DocumentCacheBytes: g.DocumentCacheBytes,
		Timeout: g.Timeout, RootConcurrency: g.RootConcurrency, NoResponseCache: g.NoResponseCache,
		RequestDBConns: a.cfg.Database.RequestConns, ReservedDBConns: a.cfg.Database.ReservedConns,
		CDNTagHeader: a.cfg.CDN.TagHeader, Warmer: a.warmer, Plan: plan, Persisted: a.texts,
	})
}

// busyAsUnavailable reports a scrape running in another process as a
// retryable unavailability.
type busyAsUnavailable struct{ *scrape.Scraper }

func (s busyAsUnavailable) Run(ctx context.Context) (*db.ScrapeRun, error) {
	run, err := s.Scraper.Run(ctx)
	if errors.Is(err, scrape.ErrBusy) {
		err = fmt.Errorf("%w: %w", gqlhttp.ErrUnavailable, err)
	}
	return run, err
}

func (a *app) close() {
	a.closeCache()
	a.store.Close()
}
