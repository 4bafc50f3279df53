package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/cors"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/outbox"
	"github.com/kedahpulse/kedahpulse/server/dashboard"
	"github.com/kedahpulse/kedahpulse/server/playground"
	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// run dispatches the subcommands; with none it serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "serve":
		return serve(ctx, cfg, log, nil)
	case "seed":
		return seedCommand(ctx, cfg, log, args, stdout)
	case "scrape":
		return scrapeCommand(ctx, cfg, log, args, stdout)
	case "cache":
		return cacheCommand(ctx, cfg, args, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: server [command]
  (none), serve             run the API server
  seed [-destinations N] [-properties N] [-posts N] [-seed N]
                            load a data set (default: the demo set) into DATABASE_URL
  scrape [--json]           run the scraper once and print the run
  cache status [--json]     print the cache statistics of the running server at ADDR
  cache invalidate TAG...   invalidate tags through the running server
  cache clear               clear the cache through the running server
  (--json prints what the API answered, as JSON, for machines; the default is a table for people)
`

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// app is the wired program.
type app struct {
	cfg      config
	log      *slog.Logger
	store    *db.Store
	redis    redis.UniversalClient // nil on the in-process cache
	cache    *cache.Cache
	outbox   *outbox.Relay
	purger   *purger // nil unless the CDN mode is on
	board    *dashboard.Board
	resolver *graph.Resolver
	scraper  *scrape.Scraper
	registry *prometheus.Registry

	warmer     *graph.Warmer  // nil when WARM_TOP is 0
	closeCache func() error   // closes the cache's store
	bypass     *outbox.Bypass // reads skip the cache while an invalidation may be undelivered
}

// open connects the database (migrating it) and the cache.
func open(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	var err error
	if a.store, err = db.OpenWith(ctx, cfg.DatabaseURL, db.PoolOptions{MaxOpenConns: cfg.DBMaxConns}); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := a.store.Migrate(ctx); err != nil {
		a.store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	a.bypass = new(outbox.Bypass)
	opts := cache.Options{Timeout: cfg.CacheTimeout, Logger: log, Registerer: a.registry, Bypass: a.bypass}
	var store cache.Store
	if cfg.RedisURL != "" {
		rs, err := redisstore.Open(cfg.RedisURL, cfg.CachePrefix)
		if err != nil {
			a.store.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.redis, a.closeCache, store = rs.Client(), rs.Close, rs
		opts.Counters, opts.Inspector, opts.Backend = rs, rs, "REDIS"
		opts.LocalBytes, opts.Compress = cache.DefaultLocalBytes, true
	} else {
		m := cache.NewMemoryStore(cache.MemoryLimits{MaxBytes: cfg.CacheMaxBytes})
		a.closeCache, store = m.Close, m
		opts.Counters, opts.Inspector, opts.Backend = m, m, "MEMORY"
		opts.Timeout, opts.BreakerThreshold = -1, -1 // it never blocks on a network
	}
	families := new(dashboard.Families)
	opts.Invalidated = families.Add
	if cfg.CDNPurgeURL != "" {
		a.purger = newPurger(cfg.CDNPurgeURL, log)
		opts.Invalidated = both(opts.Invalidated, a.purger.enqueue)
	}
	if cfg.WarmTop > 0 {
		a.warmer = graph.NewWarmer(graph.WarmOptions{Top: cfg.WarmTop, Concurrency: cfg.WarmConcurrency, Logger: log})
		opts.Invalidated = both(opts.Invalidated, a.warmer.Invalidated)
	}
	a.cache = cache.New(store, opts)
	a.board = a.newBoard(families)
	a.outbox = outbox.New(a.store, a.cache, a.bypass, log)
	a.resolver = &graph.Resolver{Store: a.store, Cache: a.cache, Outbox: a.outbox, Log: log, LoaderWait: cfg.LoaderWait}
	a.scraper = scrape.New(a.store, a.outbox, cfg.scrapeConfig(), log)
	if a.redis != nil {
		a.scraper = a.scraper.WithLock(a.redis, cfg.CachePrefix+"scrape-lock")
	}
	a.resolver.Scraper = busyAsUnavailable{a.scraper}
	return a, nil
}

// busyAsUnavailable reports a scrape running in another process as a
// retryable unavailability.
type busyAsUnavailable struct{ *scrape.Scraper }

func (s busyAsUnavailable) Run(ctx context.Context) (*db.ScrapeRun, error) {
	run, err := s.Scraper.Run(ctx)
	if errors.Is(err, scrape.ErrBusy) {
		err = fmt.Errorf("%w: %w", graph.ErrUnavailable, err)
	}
	return run, err
}

func (a *app) close() {
	a.closeCache()
	a.store.Close()
}

// maxHeaderBytes bounds a request's line and headers; a GraphQL query sent
// by GET is in the line, and stays far below it.
const maxHeaderBytes = 64 << 10

// serve runs the server until ctx is done, then shuts down in order: the
// scraper's cron (waiting for a running job), the HTTP server (letting
// in-flight requests finish), the outbox relay (one last delivery), the
// cache counters, and the database. listening, if set, is told the bound
// address.
func serve(ctx context.Context, cfg config, log *slog.Logger, listening func(net.Addr)) error {
	a, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.seedIfAsked(ctx); err != nil {
		return err
	}
	peer, err := a.joinCache(ctx)
	if err != nil {
		return err
	}
	defer a.store.LeaveCache(context.WithoutCancel(ctx), peer)
	// Writes whose invalidation a previous process could not deliver (Redis
	// down, or killed between commit and invalidation) are in the outbox:
	// deliver them before serving, or serve from the database until the
	// relay has.
	if _, err := a.outbox.Drain(ctx); err != nil {
		a.bypass.Undelivered()
		log.Warn("pending invalidations not delivered yet; reading from the database until they are", "err", err)
	}
	if cfg.TokenGenerated {
		log.Warn("ADMIN_TOKEN not set; generated one for this run (send it as 'Authorization: Bearer <token>')", "admin_token", cfg.AdminToken)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ADDR %s: %w", cfg.Addr, err)
	}
	// Every connection costs a file descriptor, whatever the client: the
	// limit closes idle ones for new ones, and the timeouts close those that
	// idle or dribble.
	limit := newConnLimit(cfg.MaxConnections, a.registry)
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         limit.track,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.board.Close) // ends the dashboard's event streams
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.cache.Run(bg) })
	wg.Go(func() { a.outbox.Run(bg, 2*time.Second) })
	wg.Go(func() { a.heartbeat(bg, peer) })
	wg.Go(func() { a.board.Run(bg) })
	alerts := newAlerter(cfg.Alert, a.registry, log, time.Now)
	wg.Go(func() { alerts.run(bg) })
	if a.purger != nil {
		wg.Go(func() { a.purger.run(bg) })
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			stopBG()
			return err
		}
		defer stopPprof()
	}
	if a.warmer != nil {
		wg.Go(func() { a.warmer.Run(bg) })
	}
	stopCron, err := a.scraper.Start(cfg.ScrapeSchedule)
	if err != nil {
		stopBG()
		return err
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(limit.listen(ln)) }()
	backend := "memory"
	if a.redis != nil {
		backend = "redis"
	}
	log.Info("Kedah Pulse is up; open the Playground", "url", "http://"+ln.Addr().String()+"/",
		"database", a.store.Dialect(), "cache", backend, "scrape_schedule", cfg.ScrapeSchedule, "feeds", len(cfg.ScrapeFeeds), "limits", cfg.Request.Limits.WithDefaults().String())
	if listening != nil {
		listening(ln.Addr())
	}

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := stopCron(shutdown); err != nil {
		log.Warn("scraper did not stop cleanly", "err", err)
	}
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	stopBG()
	wg.Wait()
	if n, err := a.outbox.Drain(shutdown); err != nil {
		log.Warn("pending invalidations stay in the outbox for the next start", "err", err)
	} else if n > 0 {
		log.Info("delivered pending invalidations", "rows", n)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (a *app) routes() http.Handler {
	opts := a.cfg.Request
	opts.AdminToken, opts.Introspection = a.cfg.AdminToken, a.cfg.Introspection
	opts.Warmer = a.warmer
	gql := graph.NewHandler(a.resolver, opts)
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kedahpulse_http_request_duration_seconds",
		Help:    "Duration of GraphQL HTTP requests by method and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "code", "cache"})
	a.registry.MustRegister(duration)

	mux := http.NewServeMux()
	page := playground.Handler()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /playground/", page)
	mux.Handle("/graphql", instrument(duration, a.cors().Handler(gql)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET /readyz", &readiness{
		log:      a.log,
		database: probe{name: "database", failed: "down", ping: a.store.Ping},
		cache:    probe{name: "cache", failed: "degraded", ping: a.cache.Healthy},
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	board := a.board.Handler()
	mux.Handle("/dashboard", board)
	mux.Handle("/dashboard/", board)
	return mux
}

// instrument records request durations. Every label comes from a fixed
// set, so that no client can add series: each one costs the registry memory
// for good.
func instrument(h *prometheus.HistogramVec, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		h.WithLabelValues(methodLabel(r.Method), codeLabel(sw.code), cacheLabel(w.Header().Get("X-Cache"))).Observe(time.Since(start).Seconds())
	})
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead:
		return m
	}
	return "other"
}

// codeLabel is the code if net/http knows it, else its class ("5xx").
func codeLabel(code int) string {
	switch {
	case http.StatusText(code) != "":
		return strconv.Itoa(code)
	case code >= 100 && code < 600:
		return strconv.Itoa(code/100) + "xx"
	}
	return "other"
}

func cacheLabel(x string) string {
	if x == "HIT" || x == "MISS" {
		return x
	}
	return ""
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// cors lets browser apps on the origins of CORS_ORIGINS call the API,
// with the Authorization header for admin tools, and read the cache
// headers.
func (a *app) cors() *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: a.cfg.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Content-Type", "Authorization", "Accept", "Apollographql-Client-Name", "Apollographql-Client-Version"},
		ExposedHeaders: []string{"X-Cache", "Cache-Control"},
		MaxAge:         600,
	})
}
