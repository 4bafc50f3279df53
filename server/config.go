package main

import (
	"crypto/rand"
	"encoding/hex"
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
	"github.com/kedahpulse/kedahpulse/server/alert"
	"github.com/kedahpulse/kedahpulse/server/dashboard"
	"github.com/kedahpulse/kedahpulse/server/scrape"
)

// config is every setting of the server, read from the environment by
// loadConfig. The README's configuration table documents each variable.
type config struct {
	DatabaseURL    string        // DATABASE_URL; empty: SQLite at data/kedahpulse.db (the embedded default)
	Embedded       bool          // DATABASE_URL was empty
	RedisURL       string        // REDIS_URL; empty: the in-process cache
	AdminToken     string        // ADMIN_TOKEN; empty: generated at start and logged once
	TokenGenerated bool          //
	Addr           string        // ADDR, default 127.0.0.1:8080
	LogLevel       slog.Level    // LOG_LEVEL: debug, info, warn, error (default info)
	LogFormat      string        // LOG_FORMAT: text (default) or json
	ScrapeSchedule string        // SCRAPE_SCHEDULE: cron spec, default "0 */2 * * *"; "off" disables
	ScrapeFeeds    []string      // SCRAPE_FEEDS: comma-separated feed URLs
	Introspection  bool          // INTROSPECTION: true (default) or false
	Seed           string        // SEED: none or demo (default demo on the embedded default, none otherwise)
	CachePrefix    string        // CACHE_PREFIX, default "kp:v1:"
	CacheTimeout   time.Duration // CACHE_TIMEOUT, default 50ms
	LoaderWait     time.Duration // LOADER_WAIT, default 1ms
	// MAX_CONNECTIONS, default 4096 (lower if the open-file limit, less 256
	// kept for the database, the cache and files, is lower): the HTTP
	// connections held open at most. At the limit a new connection closes
	// the one idle the longest; if none is idle it waits.
	MaxConnections int
	IdleTimeout    time.Duration // IDLE_TIMEOUT, default 60s: a keep-alive connection idle this long is closed

	// The bounds of one GraphQL request (graph.Options), each from its own
	// variable: QUERY_MAX_CHARACTERS, QUERY_MAX_TOKENS, QUERY_MAX_ALIASES,
	// QUERY_MAX_DIRECTIVES, QUERY_MAX_DEPTH, QUERY_MAX_COST,
	// QUERY_MAX_INTROSPECTION, QUERY_MAX_INTROSPECTION_DEPTH,
	// MAX_BODY_BYTES, DOCUMENT_CACHE_BYTES, REQUEST_TIMEOUT and
	// ROOT_CONCURRENCY. Defaults: limit.Defaults and graph's Default*.
	Request        graph.Options
	DBMaxConns     int   // DB_MAX_CONNS, default 16 on PostgreSQL, 8 on SQLite (db.PoolOptions)
	CacheMaxBytes  int64 // CACHE_MEMORY_BYTES, default 64 MiB: the in-process cache's size
	ScrapeMaxBytes int64 // SCRAPE_MAX_BYTES, default 2 MiB: the largest feed read
	ScrapeMaxItems int   // SCRAPE_MAX_ITEMS, default 500: items taken from one feed
	// SCRAPE_REDIRECT_HOSTS: comma-separated hosts feeds may redirect to
	// besides their own.
	ScrapeRedirectHosts []string
	// CORS_ORIGINS: comma-separated origins browser apps may call the API
	// from, default "*" (any: answers hold no cookies, and the admin token
	// travels in the Authorization header, never implicitly).
	CORSOrigins []string
	// CDN_PURGE_URL turns the CDN mode on: public answers may be kept by
	// shared caches for their maxAge and name their tags in CDN_TAG_HEADER
	// (default Cache-Tag; Surrogate-Key for Fastly), and every invalidation
	// is POSTed there as {"tags": [...]}.
	CDNPurgeURL string
	// PPROF_ADDR, empty (default): off; else an address (keep it on
	// loopback) serving net/http/pprof, for profiling under load.
	PprofAddr string
	// WARM_TOP, default 50 (0: off): the most requested public analytics
	// answers replayed after their tags are invalidated; WARM_CONCURRENCY,
	// default 2: replays at once (graph.Warmer).
	WarmTop, WarmConcurrency int
	// DASHBOARD_HISTORY, default 1h: how far back /dashboard's charts go
	// (the samples kept in the cache backend). DASHBOARD_INTERVAL, default
	// 2s: how often each process samples the cache and the page updates.
	DashboardHistory  time.Duration
	DashboardInterval time.Duration
	Alert             alert.Config // ALERT_INTERVAL, ALERT_WINDOW, ALERT_HIT_RATIO, ALERT_MIN_LOOKUPS, ALERT_ERROR_RATE
}

const (
	defaultSQLite         = "sqlite:data/kedahpulse.db"
	defaultMaxConnections = 4096
)

// loadConfig reads and validates the configuration; an invalid value is an
// error naming its variable.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL:    getenv("DATABASE_URL"),
		RedisURL:       getenv("REDIS_URL"),
		AdminToken:     getenv("ADMIN_TOKEN"),
		Addr:           or(getenv("ADDR"), "127.0.0.1:8080"),
		LogFormat:      or(getenv("LOG_FORMAT"), "text"),
		ScrapeSchedule: or(getenv("SCRAPE_SCHEDULE"), "0 */2 * * *"),
		CachePrefix:    or(getenv("CACHE_PREFIX"), "kp:v1:"),
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL, c.Embedded = defaultSQLite, true
	}
	if scheme, _, ok := strings.Cut(c.DatabaseURL, "://"); ok && !slices.Contains([]string{"postgres", "postgresql", "sqlite", "file"}, scheme) {
		return c, fmt.Errorf("DATABASE_URL: unsupported scheme %q: want postgres://…, sqlite:path or a file path", scheme)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("ADDR %q: want host:port: %w", c.Addr, err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", getenv("LOG_LEVEL"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("LOG_FORMAT %q: want text or json", c.LogFormat)
	}
	if c.ScrapeSchedule != "off" {
		if _, err := cron.ParseStandard(c.ScrapeSchedule); err != nil {
			return c, fmt.Errorf("SCRAPE_SCHEDULE %q: %w", c.ScrapeSchedule, err)
		}
	}
	for _, f := range strings.Split(getenv("SCRAPE_FEEDS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			if !strings.HasPrefix(f, "http://") && !strings.HasPrefix(f, "https://") {
				return c, fmt.Errorf("SCRAPE_FEEDS: %q is not an http(s) URL", f)
			}
			c.ScrapeFeeds = append(c.ScrapeFeeds, f)
		}
	}
	var err error
	if c.Introspection, err = boolVar(getenv, "INTROSPECTION", true); err != nil {
		return c, err
	}
	c.Seed = getenv("SEED")
	switch {
	case c.Seed == "" && c.Embedded:
		c.Seed = "demo"
	case c.Seed == "":
		c.Seed = "none"
	case c.Seed != "none" && c.Seed != "demo":
		return c, fmt.Errorf("SEED %q: want none or demo", c.Seed)
	}
	if c.CacheTimeout, err = durationVar(getenv, "CACHE_TIMEOUT", 50*time.Millisecond); err != nil {
		return c, err
	}
	if c.LoaderWait, err = durationVar(getenv, "LOADER_WAIT", time.Millisecond); err != nil {
		return c, err
	}
	if c.MaxConnections, err = maxConnections(getenv); err != nil {
		return c, err
	}
	if c.IdleTimeout, err = durationVar(getenv, "IDLE_TIMEOUT", 60*time.Second); err != nil {
		return c, err
	}
	if c.IdleTimeout == 0 {
		return c, fmt.Errorf("IDLE_TIMEOUT %q: want a positive duration such as 60s", getenv("IDLE_TIMEOUT"))
	}
	if err := c.loadLimits(getenv); err != nil {
		return c, err
	}
	if c.WarmTop, c.WarmConcurrency, err = warmVars(getenv); err != nil {
		return c, err
	}
	if err := c.loadDashboard(getenv); err != nil {
		return c, err
	}
	if c.Alert, err = loadAlert(getenv); err != nil {
		return c, err
	}
	if c.AdminToken == "" {
		b := make([]byte, 16)
		rand.Read(b)
		c.AdminToken, c.TokenGenerated = hex.EncodeToString(b), true
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

// loadLimits reads the bounds of requests, pools, the in-process cache and
// the scraper. Unset variables keep their packages' defaults (zero values).
func (c *config) loadLimits(getenv func(string) string) error {
	r := &c.Request
	for name, dst := range map[string]*int{
		"QUERY_MAX_CHARACTERS": &r.Limits.Characters, "QUERY_MAX_TOKENS": &r.Limits.Tokens,
		"QUERY_MAX_ALIASES": &r.Limits.Aliases, "QUERY_MAX_DIRECTIVES": &r.Limits.Directives,
		"QUERY_MAX_DEPTH": &r.Limits.Depth, "QUERY_MAX_COST": &r.Limits.Cost,
		"QUERY_MAX_INTROSPECTION": &r.Limits.Introspection, "QUERY_MAX_INTROSPECTION_DEPTH": &r.Limits.IntrospectionDepth,
		"DOCUMENT_CACHE_BYTES": &r.DocumentCacheBytes, "ROOT_CONCURRENCY": &r.RootConcurrency,
		"DB_MAX_CONNS": &c.DBMaxConns, "SCRAPE_MAX_ITEMS": &c.ScrapeMaxItems,
	} {
		n, err := positiveVar(getenv, name)
		if err != nil {
			return err
		}
		*dst = int(n)
	}
	for name, dst := range map[string]*int64{
		"MAX_BODY_BYTES": &r.MaxBodyBytes, "CACHE_MEMORY_BYTES": &c.CacheMaxBytes, "SCRAPE_MAX_BYTES": &c.ScrapeMaxBytes,
	} {
		n, err := positiveVar(getenv, name)
		if err != nil {
			return err
		}
		*dst = n
	}
	var err error
	if r.Timeout, err = durationVar(getenv, "REQUEST_TIMEOUT", graph.DefaultTimeout); err != nil {
		return err
	}
	if r.Timeout == 0 {
		return fmt.Errorf("REQUEST_TIMEOUT %q: want a positive duration such as 10s", getenv("REQUEST_TIMEOUT"))
	}
	if c.CDNPurgeURL = getenv("CDN_PURGE_URL"); c.CDNPurgeURL != "" {
		if !strings.HasPrefix(c.CDNPurgeURL, "http://") && !strings.HasPrefix(c.CDNPurgeURL, "https://") {
			return fmt.Errorf("CDN_PURGE_URL %q: want an http(s) URL", c.CDNPurgeURL)
		}
		r.CDNTagHeader = or(getenv("CDN_TAG_HEADER"), "Cache-Tag")
	}
	switch v := getenv("RESPONSE_CACHE"); v {
	case "", "on":
	case "off": // the field level alone (benchmarks, diagnosis)
		r.NoResponseCache = true
	default:
		return fmt.Errorf("RESPONSE_CACHE %q: want on (default) or off", v)
	}
	c.PprofAddr = getenv("PPROF_ADDR")
	c.CORSOrigins = []string{"*"}
	if v := getenv("CORS_ORIGINS"); v != "" {
		c.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
					return fmt.Errorf("CORS_ORIGINS: %q is not an origin such as https://app.example", o)
				}
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
	}
	for _, h := range strings.Split(getenv("SCRAPE_REDIRECT_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.ScrapeRedirectHosts = append(c.ScrapeRedirectHosts, h)
		}
	}
	return nil
}

// loadDashboard reads DASHBOARD_INTERVAL and DASHBOARD_HISTORY.
func (c *config) loadDashboard(getenv func(string) string) error {
	var err error
	if c.DashboardInterval, err = durationVar(getenv, "DASHBOARD_INTERVAL", dashboard.DefaultInterval); err != nil {
		return err
	}
	if c.DashboardInterval < 100*time.Millisecond {
		return fmt.Errorf("DASHBOARD_INTERVAL %q: want at least 100ms", getenv("DASHBOARD_INTERVAL"))
	}
	if c.DashboardHistory, err = durationVar(getenv, "DASHBOARD_HISTORY", dashboard.DefaultWindow); err != nil {
		return err
	}
	if c.DashboardHistory < 10*c.DashboardInterval || c.DashboardHistory > 24*time.Hour {
		return fmt.Errorf("DASHBOARD_HISTORY %q: want from 10 × DASHBOARD_INTERVAL to 24h", getenv("DASHBOARD_HISTORY"))
	}
	return nil
}

// scrapeConfig is the scraper's configuration.
func (c config) scrapeConfig() scrape.Config {
	return scrape.Config{Feeds: c.ScrapeFeeds, MaxBytes: c.ScrapeMaxBytes, MaxItems: c.ScrapeMaxItems, RedirectHosts: c.ScrapeRedirectHosts}
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
		if !ok || r == 0 { // POOR has no floor
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
