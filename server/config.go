package main

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/graph/gqlhttp"
	"github.com/kedahpulse/kedahpulse/graph/limit"
	"github.com/kedahpulse/kedahpulse/graph/live"
	"github.com/kedahpulse/kedahpulse/graph/respcache"
	"github.com/kedahpulse/kedahpulse/server/alert"
	"github.com/kedahpulse/kedahpulse/server/dashboard"
	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// config is every setting of the server, by subsystem, read from the
// environment by loadConfig. The README's configuration table documents
// each variable.
type config struct {
	HTTP      httpConfig
	Database  databaseConfig
	Cache     cacheConfig
	GraphQL   graphqlConfig
	Scrape    scrapeConfig
	Dashboard dashboardConfig
	Alert     alert.Config // ALERT_INTERVAL, ALERT_WINDOW, ALERT_HIT_RATIO, ALERT_MIN_LOOKUPS, ALERT_ERROR_RATE
	Warm      warmConfig
	Live      liveConfig
	CDN       cdnConfig
	Log       logConfig
}

// httpConfig is the listener, its connections and who may call it.
type httpConfig struct {
	Addr       string // ADDR, default 127.0.0.1:8080
	AdminToken string // ADMIN_TOKEN; empty: serve generates one at start and logs it once
	// MAX_CONNECTIONS, default 4096 (lower if the open-file limit, less 256
	// kept for the database, the cache and files, is lower): the HTTP
	// connections held open at most. At the limit a new connection closes
	// the one idle the longest; if none is idle it waits.
	MaxConnections int
	IdleTimeout    time.Duration // IDLE_TIMEOUT, default 60s: a keep-alive connection idle this long is closed
	// READ_HEADER_TIMEOUT, default 2s: a request's line and headers must
	// arrive within it, or the connection is closed.
	ReadHeaderTimeout time.Duration
	// CONNECTION_GRACE, default 1s: at MAX_CONNECTIONS, a connection that
	// has sent no complete request header this long after its accept is
	// closed first, before idle keep-alive ones, to make room.
	ConnectionGrace time.Duration
	// CORS_ORIGINS: comma-separated origins browser apps may call the API
	// from, default "*" (any: answers hold no cookies, and the admin token
	// travels in the Authorization header, never implicitly).
	CORSOrigins []string
	// PPROF_ADDR, empty (default): off; else an address (keep it on
	// loopback) serving net/http/pprof, for profiling under load.
	PprofAddr string
}

// databaseConfig is the database and what to load into it.
type databaseConfig struct {
	URL      string // DATABASE_URL; default SQLite at data/kedahpulse.db (the embedded default)
	MaxConns int    // DB_MAX_CONNS, default 16 on PostgreSQL, 8 on SQLite (db.PoolOptions)
	// DB_REQUEST_CONNS (default 2) and DB_RESERVED_CONNS (default a
	// quarter of the pool): graph.Options.RequestDBConns and ReservedDBConns.
	RequestConns, ReservedConns int
	Seed                        string // SEED: none or demo (default demo on the embedded default, none otherwise)
}

// cacheConfig is the cache's backend and bounds.
type cacheConfig struct {
	RedisURL string        // REDIS_URL; empty: the in-process cache
	Prefix   string        // CACHE_PREFIX, default "kp:v1:"
	Timeout  time.Duration // CACHE_TIMEOUT, default 50ms
	MaxBytes int64         // CACHE_MEMORY_BYTES, default 64 MiB: the in-process cache's size
	// CACHE_LEASE, default 10s: a process answers from the cache only while
	// it holds a lease this long, renewed every fifth of it (outbox.Lease).
	Lease time.Duration
	// INVALIDATION_WAIT, default 3/4 of REQUEST_TIMEOUT and below it: how
	// long a write cut from the cache waits for another process's relay
	// while another process holds a lease.
	InvalidationWait time.Duration
}

// graphqlConfig is the bounds of one GraphQL request and how it is
// answered. Unset numbers are 0: graph's defaults (limit.Defaults and
// graph's Default*).
type graphqlConfig struct {
	// QUERY_MAX_CHARACTERS, QUERY_MAX_TOKENS, QUERY_MAX_ALIASES,
	// QUERY_MAX_DIRECTIVES, QUERY_MAX_DEPTH, QUERY_MAX_COST,
	// QUERY_MAX_INTROSPECTION, QUERY_MAX_INTROSPECTION_DEPTH.
	Limits             limit.Limits
	MaxBodyBytes       int64 // MAX_BODY_BYTES
	DocumentCacheBytes int   // DOCUMENT_CACHE_BYTES
	// PERSISTED_QUERY_BYTES, default 4 MiB: the texts of automatic
	// persisted queries kept (in process, or on Redis for every process),
	// apart from the cache's budget.
	PersistedBytes int
	// PERSISTED_QUERY_TTL, default 1h: on Redis, a persisted text unused
	// this long is dropped (each use keeps it another TTL).
	PersistedTTL    time.Duration
	RootConcurrency int           // ROOT_CONCURRENCY
	Timeout         time.Duration // REQUEST_TIMEOUT, default graph.DefaultTimeout
	Introspection   bool          // INTROSPECTION: true (default) or false
	LoaderWait      time.Duration // LOADER_WAIT, default 1ms
	// RESPONSE_CACHE: on (default) or off (the field level alone, for
	// benchmarks and diagnosis).
	NoResponseCache bool
	// PLAN: on (default: the compiled read path, graph.Plan) or off (every
	// request through gqlgen's executor, an escape hatch).
	Plan bool
}

// scrapeConfig is when the scraper runs and what it reads.
type scrapeConfig struct {
	Schedule string // SCRAPE_SCHEDULE: cron spec, default "0 */2 * * *"; "off" disables
	// SCRAPE_FEEDS (comma-separated feed URLs), SCRAPE_MAX_BYTES (default 2
	// MiB: the largest feed read), SCRAPE_MAX_ITEMS (default 500: items
	// taken from one feed), SCRAPE_REDIRECT_HOSTS (comma-separated hosts
	// feeds may redirect to besides their own).
	scrape.Config
}

// dashboardConfig is /dashboard's charts.
type dashboardConfig struct {
	// DASHBOARD_HISTORY, default 1h: how far back the charts go (the samples
	// kept in the cache backend).
	History time.Duration
	// DASHBOARD_INTERVAL, default 2s: how often each process samples the
	// cache and the page updates.
	Interval time.Duration
}

// warmConfig is the replay of popular answers after an invalidation
// (respcache.Warmer).
type warmConfig struct {
	Top         int // WARM_TOP, default 50 (0: off): the most requested public analytics answers replayed
	Concurrency int // WARM_CONCURRENCY, default 2: replays at once
	// WARM_BUDGET, default 1s: the replay time one round spends at most.
	Budget time.Duration
	// WARM_MAX_FILL, default 250ms: requests whose last fill took longer
	// are not replayed.
	MaxFill time.Duration
}

// liveConfig is live queries (graph/live).
type liveConfig struct {
	MaxPerClient int           // LIVE_MAX_PER_CLIENT, default 1000: live subscriptions one client address holds at most
	Concurrency  int           // LIVE_CONCURRENCY, default 4: live queries recomputed at once
	KeepAlive    time.Duration // LIVE_KEEPALIVE, default 20s: an idle SSE stream gets a comment line this often; 0: never
}

// cdnConfig is the CDN mode, off unless CDN_PURGE_URL is set: public
// answers may be kept by shared caches for their maxAge and name their
// tags in TagHeader, and every invalidation is purged at PurgeURL before
// the mutation that caused it is acknowledged (server/cdn.go).
type cdnConfig struct {
	PurgeURL  string // CDN_PURGE_URL
	TagHeader string // CDN_TAG_HEADER, default Cache-Tag (Surrogate-Key for Fastly); empty when the mode is off
	// CDN_PURGE_FORMAT: json (default: POST {"tags": [...]}) or xkey
	// (method PURGE with an xkey-purge header of space-separated tags, as
	// deploy/varnish/default.vcl accepts).
	Format string
	// CDN_PURGE_WAIT, default 5s: how long a mutation waits for the CDN to
	// accept its purges before it answers CDN_PURGE_PENDING (never longer
	// than the request's deadline).
	Wait time.Duration
	// CDN_PURGE_CONCURRENCY, default 4: purge requests in flight at once.
	Concurrency int
	// CDN_PURGE_QUEUE, default 10000: distinct tags waiting to be purged;
	// beyond it the waiting purge becomes a purge of every answer (tag all).
	Queue int
	// CDN_REPURGE_AFTER, default 61s (the HTTP server's 60s write timeout
	// and a margin): when an accepted purge is sent again, removing the
	// answer of a read that began before the write and reached the CDN
	// after the first purge.
	RepurgeAfter time.Duration
}

// logConfig is the log's level and format.
type logConfig struct {
	Level  slog.Level // LOG_LEVEL: debug, info, warn, error (default info)
	Format string     // LOG_FORMAT: text (default) or json
	// LOG_REPEAT_INTERVAL, default 10s: a cache or Redis fault (a WARN
	// or ERROR of the same message) is logged at most once per interval;
	// the next line counts those left out as "repeated".
	RepeatInterval time.Duration
}

const (
	defaultSQLite         = "sqlite:data/kedahpulse.db"
	defaultMaxConnections = 4096
)

// loadConfig reads and validates the configuration, one subsystem at a
// time; an invalid value is an error naming its variable.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var err error
	if c.Log, err = loadLog(getenv); err != nil {
		return c, err
	}
	if c.HTTP, err = loadHTTP(getenv); err != nil {
		return c, err
	}
	if c.Database, err = loadDatabase(getenv); err != nil {
		return c, err
	}
	if c.Cache, err = loadCache(getenv); err != nil {
		return c, err
	}
	if c.GraphQL, err = loadGraphQL(getenv); err != nil {
		return c, err
	}
	switch {
	case c.Cache.InvalidationWait == 0:
		c.Cache.InvalidationWait = c.GraphQL.Timeout * 3 / 4
	case c.Cache.InvalidationWait >= c.GraphQL.Timeout:
		return c, fmt.Errorf("INVALIDATION_WAIT %s: want less than REQUEST_TIMEOUT (%s), so a write cut from the cache answers before its request's deadline", c.Cache.InvalidationWait, c.GraphQL.Timeout)
	}
	if c.Scrape, err = loadScrape(getenv); err != nil {
		return c, err
	}
	if c.CDN, err = loadCDN(getenv); err != nil {
		return c, err
	}
	if c.Warm, err = loadWarm(getenv); err != nil {
		return c, err
	}
	if c.Live, err = loadLive(getenv); err != nil {
		return c, err
	}
	if c.Dashboard, err = loadDashboard(getenv); err != nil {
		return c, err
	}
	if c.Alert, err = loadAlert(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// loadLog reads LOG_LEVEL, LOG_FORMAT and LOG_REPEAT_INTERVAL.
func loadLog(getenv func(string) string) (logConfig, error) {
	c := logConfig{Format: or(getenv("LOG_FORMAT"), "text")}
	if err := c.Level.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", getenv("LOG_LEVEL"))
	}
	if c.Format != "text" && c.Format != "json" {
		return c, fmt.Errorf("LOG_FORMAT %q: want text or json", c.Format)
	}
	var err error
	if c.RepeatInterval, err = durationVar(getenv, "LOG_REPEAT_INTERVAL", cache.DefaultRepeatInterval); err != nil {
		return c, err
	}
	if c.RepeatInterval == 0 {
		c.RepeatInterval = -1 // 0: every line
	}
	return c, nil
}

// loadHTTP reads ADDR, ADMIN_TOKEN, MAX_CONNECTIONS, IDLE_TIMEOUT,
// READ_HEADER_TIMEOUT, CONNECTION_GRACE, CORS_ORIGINS and PPROF_ADDR.
func loadHTTP(getenv func(string) string) (httpConfig, error) {
	c := httpConfig{
		Addr:       or(getenv("ADDR"), "127.0.0.1:8080"),
		AdminToken: getenv("ADMIN_TOKEN"),
		PprofAddr:  getenv("PPROF_ADDR"),
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("ADDR %q: want host:port: %w", c.Addr, err)
	}
	var err error
	if c.MaxConnections, err = maxConnections(getenv); err != nil {
		return c, err
	}
	if c.IdleTimeout, err = durationVar(getenv, "IDLE_TIMEOUT", 60*time.Second); err != nil {
		return c, err
	}
	if c.IdleTimeout == 0 {
		return c, fmt.Errorf("IDLE_TIMEOUT %q: want a positive duration such as 60s", getenv("IDLE_TIMEOUT"))
	}
	if c.ReadHeaderTimeout, err = durationVar(getenv, "READ_HEADER_TIMEOUT", 2*time.Second); err != nil {
		return c, err
	}
	if c.ReadHeaderTimeout == 0 {
		return c, fmt.Errorf("READ_HEADER_TIMEOUT %q: want a positive duration such as 2s", getenv("READ_HEADER_TIMEOUT"))
	}
	if c.ConnectionGrace, err = durationVar(getenv, "CONNECTION_GRACE", time.Second); err != nil {
		return c, err
	}
	c.CORSOrigins = []string{"*"}
	if v := getenv("CORS_ORIGINS"); v != "" {
		c.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
					return c, fmt.Errorf("CORS_ORIGINS: %q is not an origin such as https://app.example", o)
				}
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
	}
	return c, nil
}

// maxConnections reads MAX_CONNECTIONS: at most the open-file limit less
// what the database and cache pools, the listener and files need, so that
// the limit is reached before EMFILE is.
func maxConnections(getenv func(string) string) (int, error) {
	most, files := math.MaxInt32, uint64(0)
	if n, ok := openFileLimit(); ok && n < math.MaxInt32 {
		most, files = int(n-min(256, n/4)), n
	}
	v := getenv("MAX_CONNECTIONS")
	if v == "" {
		return min(defaultMaxConnections, most), nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 1:
		return 0, fmt.Errorf("MAX_CONNECTIONS %q: want a positive number", v)
	case n > most:
		return 0, fmt.Errorf("MAX_CONNECTIONS %d: the open-file limit (ulimit -n) is %d and %d of it is kept for the database, the cache and files; want at most %d", n, files, int(files)-most, most)
	}
	return n, nil
}

// loadDatabase reads DATABASE_URL, DB_MAX_CONNS, DB_REQUEST_CONNS,
// DB_RESERVED_CONNS and SEED.
func loadDatabase(getenv func(string) string) (databaseConfig, error) {
	c := databaseConfig{URL: getenv("DATABASE_URL"), Seed: getenv("SEED")}
	embedded := c.URL == ""
	if embedded {
		c.URL = defaultSQLite
	}
	if scheme, _, ok := strings.Cut(c.URL, "://"); ok && !slices.Contains([]string{"postgres", "postgresql", "sqlite", "file"}, scheme) {
		return c, fmt.Errorf("DATABASE_URL: unsupported scheme %q: want postgres://…, sqlite:path or a file path", scheme)
	}
	for name, dst := range map[string]*int{"DB_MAX_CONNS": &c.MaxConns, "DB_REQUEST_CONNS": &c.RequestConns, "DB_RESERVED_CONNS": &c.ReservedConns} {
		n, err := positiveVar(getenv, name)
		if err != nil {
			return c, err
		}
		*dst = int(n)
	}
	switch {
	case c.Seed == "" && embedded:
		c.Seed = "demo"
	case c.Seed == "":
		c.Seed = "none"
	case c.Seed != "none" && c.Seed != "demo":
		return c, fmt.Errorf("SEED %q: want none or demo", c.Seed)
	}
	return c, nil
}

// loadCache reads REDIS_URL, CACHE_PREFIX, CACHE_TIMEOUT,
// CACHE_MEMORY_BYTES, CACHE_LEASE and INVALIDATION_WAIT (checked against
// REQUEST_TIMEOUT by loadConfig).
func loadCache(getenv func(string) string) (cacheConfig, error) {
	c := cacheConfig{RedisURL: getenv("REDIS_URL"), Prefix: or(getenv("CACHE_PREFIX"), "kp:v1:")}
	var err error
	if c.Timeout, err = durationVar(getenv, "CACHE_TIMEOUT", 50*time.Millisecond); err != nil {
		return c, err
	}
	if c.MaxBytes, err = positiveVar(getenv, "CACHE_MEMORY_BYTES"); err != nil {
		return c, err
	}
	if c.Lease, err = durationVar(getenv, "CACHE_LEASE", 10*time.Second); err != nil {
		return c, err
	}
	if c.Lease < time.Second {
		return c, fmt.Errorf("CACHE_LEASE %q: want 1s or more (it is renewed every fifth of it)", getenv("CACHE_LEASE"))
	}
	c.InvalidationWait, err = durationVar(getenv, "INVALIDATION_WAIT", 0)
	return c, err
}

// loadGraphQL reads the QUERY_MAX_* limits, MAX_BODY_BYTES,
// DOCUMENT_CACHE_BYTES, ROOT_CONCURRENCY, PERSISTED_QUERY_BYTES,
// PERSISTED_QUERY_TTL, REQUEST_TIMEOUT, INTROSPECTION,
// LOADER_WAIT and RESPONSE_CACHE.
func loadGraphQL(getenv func(string) string) (graphqlConfig, error) {
	var c graphqlConfig
	l := &c.Limits
	for name, dst := range map[string]*int{
		"QUERY_MAX_CHARACTERS": &l.Characters, "QUERY_MAX_TOKENS": &l.Tokens,
		"QUERY_MAX_ALIASES": &l.Aliases, "QUERY_MAX_DIRECTIVES": &l.Directives,
		"QUERY_MAX_DEPTH": &l.Depth, "QUERY_MAX_COST": &l.Cost,
		"QUERY_MAX_INTROSPECTION": &l.Introspection, "QUERY_MAX_INTROSPECTION_DEPTH": &l.IntrospectionDepth,
		"DOCUMENT_CACHE_BYTES": &c.DocumentCacheBytes, "ROOT_CONCURRENCY": &c.RootConcurrency,
		"PERSISTED_QUERY_BYTES": &c.PersistedBytes,
	} {
		n, err := positiveVar(getenv, name)
		if err != nil {
			return c, err
		}
		*dst = int(n)
	}
	var err error
	if c.MaxBodyBytes, err = positiveVar(getenv, "MAX_BODY_BYTES"); err != nil {
		return c, err
	}
	if c.Timeout, err = durationVar(getenv, "REQUEST_TIMEOUT", graph.DefaultTimeout); err != nil {
		return c, err
	}
	if c.Timeout == 0 {
		return c, fmt.Errorf("REQUEST_TIMEOUT %q: want a positive duration such as 10s", getenv("REQUEST_TIMEOUT"))
	}
	if c.PersistedBytes == 0 {
		c.PersistedBytes = gqlhttp.DefaultTextBytes
	}
	if c.PersistedTTL, err = durationVar(getenv, "PERSISTED_QUERY_TTL", time.Hour); err != nil {
		return c, err
	}
	if c.PersistedTTL == 0 {
		return c, fmt.Errorf("PERSISTED_QUERY_TTL %q: want a positive duration such as 1h", getenv("PERSISTED_QUERY_TTL"))
	}
	if c.Introspection, err = boolVar(getenv, "INTROSPECTION", true); err != nil {
		return c, err
	}
	if c.LoaderWait, err = durationVar(getenv, "LOADER_WAIT", time.Millisecond); err != nil {
		return c, err
	}
	switch v := getenv("RESPONSE_CACHE"); v {
	case "", "on":
	case "off":
		c.NoResponseCache = true
	default:
		return c, fmt.Errorf("RESPONSE_CACHE %q: want on (default) or off", v)
	}
	switch v := getenv("PLAN"); v {
	case "", "on":
		c.Plan = true
	case "off":
	default:
		return c, fmt.Errorf("PLAN %q: want on (default) or off", v)
	}
	return c, nil
}

// loadScrape reads SCRAPE_SCHEDULE, SCRAPE_FEEDS, SCRAPE_MAX_BYTES,
// SCRAPE_MAX_ITEMS and SCRAPE_REDIRECT_HOSTS.
func loadScrape(getenv func(string) string) (scrapeConfig, error) {
	c := scrapeConfig{Schedule: or(getenv("SCRAPE_SCHEDULE"), "0 */2 * * *")}
	if c.Schedule != "off" {
		if _, err := cron.ParseStandard(c.Schedule); err != nil {
			return c, fmt.Errorf("SCRAPE_SCHEDULE %q: %w", c.Schedule, err)
		}
	}
	for _, f := range strings.Split(getenv("SCRAPE_FEEDS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			if !strings.HasPrefix(f, "http://") && !strings.HasPrefix(f, "https://") {
				return c, fmt.Errorf("SCRAPE_FEEDS: %q is not an http(s) URL", f)
			}
			c.Feeds = append(c.Feeds, f)
		}
	}
	var err error
	if c.MaxBytes, err = positiveVar(getenv, "SCRAPE_MAX_BYTES"); err != nil {
		return c, err
	}
	n, err := positiveVar(getenv, "SCRAPE_MAX_ITEMS")
	if err != nil {
		return c, err
	}
	c.MaxItems = int(n)
	for _, h := range strings.Split(getenv("SCRAPE_REDIRECT_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.RedirectHosts = append(c.RedirectHosts, h)
		}
	}
	return c, nil
}

// loadCDN reads CDN_PURGE_URL, CDN_TAG_HEADER, CDN_PURGE_FORMAT,
// CDN_PURGE_WAIT, CDN_PURGE_CONCURRENCY, CDN_PURGE_QUEUE and
// CDN_REPURGE_AFTER.
func loadCDN(getenv func(string) string) (cdnConfig, error) {
	c := cdnConfig{PurgeURL: getenv("CDN_PURGE_URL"), Format: or(getenv("CDN_PURGE_FORMAT"), "json"),
		Wait: 5 * time.Second, Concurrency: 4, Queue: 10_000, RepurgeAfter: 61 * time.Second}
	if c.PurgeURL == "" {
		return c, nil
	}
	if !strings.HasPrefix(c.PurgeURL, "http://") && !strings.HasPrefix(c.PurgeURL, "https://") {
		return c, fmt.Errorf("CDN_PURGE_URL %q: want an http(s) URL", c.PurgeURL)
	}
	c.TagHeader = or(getenv("CDN_TAG_HEADER"), "Cache-Tag")
	if c.Format != "json" && c.Format != "xkey" {
		return c, fmt.Errorf("CDN_PURGE_FORMAT %q: want json or xkey", c.Format)
	}
	var err error
	for name, d := range map[string]*time.Duration{"CDN_PURGE_WAIT": &c.Wait, "CDN_REPURGE_AFTER": &c.RepurgeAfter} {
		if *d, err = durationVar(getenv, name, *d); err != nil {
			return c, err
		}
		if *d <= 0 {
			return c, fmt.Errorf("%s %q: want a positive duration such as 5s", name, getenv(name))
		}
	}
	for name, n := range map[string]*int{"CDN_PURGE_CONCURRENCY": &c.Concurrency, "CDN_PURGE_QUEUE": &c.Queue} {
		v, err := positiveVar(getenv, name)
		if err != nil {
			return c, err
		}
		if v > 0 {
			*n = int(v)
		}
	}
	if c.Concurrency > 64 {
		return c, fmt.Errorf("CDN_PURGE_CONCURRENCY %d: want at most 64", c.Concurrency)
	}
	return c, nil
}

// loadWarm reads WARM_TOP (requests replayed after an analytics
// invalidation, default 50, 0 turns warming off), WARM_CONCURRENCY
// (replays at once, default 2), WARM_BUDGET and WARM_MAX_FILL.
func loadWarm(getenv func(string) string) (warmConfig, error) {
	c := warmConfig{Top: respcache.DefaultWarmTop, Concurrency: respcache.DefaultWarmConcurrency}
	var err error
	if v := getenv("WARM_TOP"); v != "" {
		if c.Top, err = strconv.Atoi(v); err != nil || c.Top < 0 || c.Top > 10_000 {
			return c, fmt.Errorf("WARM_TOP %q: want a whole number from 0 (off) to 10000", v)
		}
	}
	if v := getenv("WARM_CONCURRENCY"); v != "" {
		if c.Concurrency, err = strconv.Atoi(v); err != nil || c.Concurrency < 1 || c.Concurrency > 64 {
			return c, fmt.Errorf("WARM_CONCURRENCY %q: want a whole number from 1 to 64", v)
		}
	}
	if c.Budget, err = durationVar(getenv, "WARM_BUDGET", respcache.DefaultWarmBudget); err != nil {
		return c, err
	}
	if c.MaxFill, err = durationVar(getenv, "WARM_MAX_FILL", respcache.DefaultWarmMaxFill); err != nil {
		return c, err
	}
	if c.Budget == 0 || c.MaxFill == 0 {
		return c, fmt.Errorf("WARM_BUDGET and WARM_MAX_FILL: want positive durations such as 1s and 250ms (WARM_TOP=0 turns warming off)")
	}
	return c, nil
}

// loadLive reads LIVE_MAX_PER_CLIENT (live subscriptions of one client
// address, default 1000), LIVE_CONCURRENCY (recomputes at once, default
// 4) and LIVE_KEEPALIVE (the SSE keep-alive interval, default 20s, 0 off).
func loadLive(getenv func(string) string) (liveConfig, error) {
	c := liveConfig{MaxPerClient: live.DefaultMaxPerClient, Concurrency: live.DefaultConcurrency}
	var err error
	if v := getenv("LIVE_MAX_PER_CLIENT"); v != "" {
		if c.MaxPerClient, err = strconv.Atoi(v); err != nil || c.MaxPerClient < 1 || c.MaxPerClient > 1_000_000 {
			return c, fmt.Errorf("LIVE_MAX_PER_CLIENT %q: want a whole number from 1 to 1000000", v)
		}
	}
	if v := getenv("LIVE_CONCURRENCY"); v != "" {
		if c.Concurrency, err = strconv.Atoi(v); err != nil || c.Concurrency < 1 || c.Concurrency > 64 {
			return c, fmt.Errorf("LIVE_CONCURRENCY %q: want a whole number from 1 to 64", v)
		}
	}
	if c.KeepAlive, err = durationVar(getenv, "LIVE_KEEPALIVE", live.DefaultKeepAlive); err != nil {
		return c, err
	}
	if c.KeepAlive != 0 && (c.KeepAlive < 10*time.Millisecond || c.KeepAlive > time.Hour) {
		return c, fmt.Errorf("LIVE_KEEPALIVE %q: want 0 (off) or a duration from 10ms to 1h, such as 20s", getenv("LIVE_KEEPALIVE"))
	}
	return c, nil
}

// loadDashboard reads DASHBOARD_INTERVAL and DASHBOARD_HISTORY.
func loadDashboard(getenv func(string) string) (dashboardConfig, error) {
	var c dashboardConfig
	var err error
	if c.Interval, err = durationVar(getenv, "DASHBOARD_INTERVAL", dashboard.DefaultInterval); err != nil {
		return c, err
	}
	if c.Interval < 100*time.Millisecond {
		return c, fmt.Errorf("DASHBOARD_INTERVAL %q: want at least 100ms", getenv("DASHBOARD_INTERVAL"))
	}
	if c.History, err = durationVar(getenv, "DASHBOARD_HISTORY", dashboard.DefaultWindow); err != nil {
		return c, err
	}
	if c.History < 10*c.Interval || c.History > 24*time.Hour {
		return c, fmt.Errorf("DASHBOARD_HISTORY %q: want from 10 × DASHBOARD_INTERVAL to 24h", getenv("DASHBOARD_HISTORY"))
	}
	return c, nil
}

// loadAlert reads the ALERT_* variables.
func loadAlert(getenv func(string) string) (alert.Config, error) {
	c := alert.Defaults()
	var err error
	if c.Interval, err = durationVar(getenv, "ALERT_INTERVAL", c.Interval); err != nil {
		return c, err
	}
	if c.Interval == 0 {
		return c, fmt.Errorf("ALERT_INTERVAL %q: want a positive duration such as 15s", getenv("ALERT_INTERVAL"))
	}
	if c.Window, err = durationVar(getenv, "ALERT_WINDOW", c.Window); err != nil {
		return c, err
	}
	if c.Window < c.Interval {
		return c, fmt.Errorf("ALERT_WINDOW %v: want at least ALERT_INTERVAL (%v), such as 5m", c.Window, c.Interval)
	}
	if v := getenv("ALERT_HIT_RATIO"); v != "" {
		r, ok := cache.BandFrom(strings.ToUpper(v))
		if !ok || r == 0 { // a band's name, but not POOR: it has no floor
			r, err = strconv.ParseFloat(v, 64)
			if err != nil || !(r > 0 && r <= 1) {
				return c, fmt.Errorf("ALERT_HIT_RATIO %q: want a ratio in (0, 1] such as 0.7, or a band: EXCELLENT (0.9), GOOD (0.8), FAIR (0.7)", v)
			}
		}
		c.HitRatio = r
	}
	if n, err := positiveVar(getenv, "ALERT_MIN_LOOKUPS"); err != nil {
		return c, err
	} else if n > 0 {
		c.MinLookups = n
	}
	if v := getenv("ALERT_ERROR_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r >= 0) || math.IsInf(r, 0) {
			return c, fmt.Errorf("ALERT_ERROR_RATE %q: want cache errors per second, a number such as 1 (0: any error fires)", v)
		}
		c.ErrorRate = r
	}
	return c, nil
}

// positiveVar reads a positive whole number (0 when unset).
func positiveVar(getenv func(string) string, name string) (int64, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: want a positive whole number", name, v)
	}
	return n, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolVar(getenv func(string) string, name string, def bool) (bool, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, fmt.Errorf("%s %q: want true or false", name, v)
	}
	return b, nil
}

func durationVar(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return def, fmt.Errorf("%s %q: want a duration such as 50ms", name, v)
	}
	return d, nil
}
