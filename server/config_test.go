package main

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/graph"
	"github.com/kedahpulse/kedahpulse/server/alert"
)

func TestLoadConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := loadConfig(env())
	if err != nil || c.Database.URL != defaultSQLite || c.Database.Seed != "demo" || c.HTTP.Addr != "127.0.0.1:8080" || c.HTTP.AdminToken != "" || c.Scrape.Schedule != "0 */2 * * *" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if c.HTTP.MaxConnections < 1 || c.HTTP.MaxConnections > defaultMaxConnections || c.HTTP.IdleTimeout != time.Minute {
		t.Errorf("defaults: MAX_CONNECTIONS %d, IDLE_TIMEOUT %v", c.HTTP.MaxConnections, c.HTTP.IdleTimeout)
	}
	if files, ok := openFileLimit(); ok && files < 1<<30 {
		over := strconv.FormatUint(files, 10)
		if _, err := loadConfig(env("MAX_CONNECTIONS", over)); err == nil || !strings.Contains(err.Error(), "MAX_CONNECTIONS") {
			t.Errorf("MAX_CONNECTIONS at the open-file limit %s: error %v", over, err)
		}
	}
	for _, bad := range []string{"many", "-1"} {
		if _, err := loadConfig(env("MAX_CONNECTIONS", bad)); err == nil || !strings.Contains(err.Error(), "MAX_CONNECTIONS") {
			t.Errorf("MAX_CONNECTIONS=%q: error %v", bad, err)
		}
	}
	if c, err := loadConfig(env("QUERY_MAX_DEPTH", "9", "CACHE_MEMORY_BYTES", "1048576", "SCRAPE_REDIRECT_HOSTS", "a.example, b.example:8080")); err != nil ||
		c.GraphQL.Limits.Depth != 9 || c.Cache.MaxBytes != 1<<20 || len(c.Scrape.RedirectHosts) != 2 || c.GraphQL.Timeout != graph.DefaultTimeout {
		t.Errorf("limits: %+v %+v %v", c.GraphQL, c.Cache, err)
	}
	if c, _ := loadConfig(env("DATABASE_URL", "postgres://x")); c.Database.Seed != "none" {
		t.Errorf("a configured DATABASE_URL seeds %q, want none", c.Database.Seed)
	}
	for name, bad := range map[string][]string{
		"LOG_LEVEL":             {"LOG_LEVEL", "loud"},
		"LOG_FORMAT":            {"LOG_FORMAT", "xml"},
		"SCRAPE_SCHEDULE":       {"SCRAPE_SCHEDULE", "every day"},
		"SCRAPE_FEEDS":          {"SCRAPE_FEEDS", "ftp://x"},
		"INTROSPECTION":         {"INTROSPECTION", "maybe"},
		"SEED":                  {"SEED", "lots"},
		"ADDR":                  {"ADDR", "nowhere"},
		"CACHE_TIMEOUT":         {"CACHE_TIMEOUT", "soon"},
		"MAX_CONNECTIONS":       {"MAX_CONNECTIONS", "0"},
		"IDLE_TIMEOUT":          {"IDLE_TIMEOUT", "0s"},
		"DATABASE_URL":          {"DATABASE_URL", "mysql://x"},
		"QUERY_MAX_DEPTH":       {"QUERY_MAX_DEPTH", "0"},
		"QUERY_MAX_COST":        {"QUERY_MAX_COST", "lots"},
		"MAX_BODY_BYTES":        {"MAX_BODY_BYTES", "-1"},
		"REQUEST_TIMEOUT":       {"REQUEST_TIMEOUT", "0s"},
		"DB_MAX_CONNS":          {"DB_MAX_CONNS", "x"},
		"DASHBOARD_INTERVAL":    {"DASHBOARD_INTERVAL", "10ms"},
		"DASHBOARD_HISTORY":     {"DASHBOARD_HISTORY", "5s"},
		"CDN_PURGE_FORMAT":      {"CDN_PURGE_URL", "http://cdn", "CDN_PURGE_FORMAT", "soap"},
		"CDN_PURGE_WAIT":        {"CDN_PURGE_URL", "http://cdn", "CDN_PURGE_WAIT", "0s"},
		"CDN_REPURGE_AFTER":     {"CDN_PURGE_URL", "http://cdn", "CDN_REPURGE_AFTER", "soon"},
		"CDN_PURGE_CONCURRENCY": {"CDN_PURGE_URL", "http://cdn", "CDN_PURGE_CONCURRENCY", "65"},
		"CDN_PURGE_QUEUE":       {"CDN_PURGE_URL", "http://cdn", "CDN_PURGE_QUEUE", "0"},
		"LIVE_KEEPALIVE":        {"LIVE_KEEPALIVE", "1ms"},
	} {
		if _, err := loadConfig(env(bad...)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", bad, err, name)
		}
	}
}

// LIVE_KEEPALIVE: 20s unless set, 0 turns it off.
func TestLoadLiveKeepAlive(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 20 * time.Second, "0": 0, "5s": 5 * time.Second} {
		c, err := loadConfig(func(k string) string { return map[string]string{"LIVE_KEEPALIVE": v}[k] })
		if err != nil || c.Live.KeepAlive != want {
			t.Errorf("LIVE_KEEPALIVE=%q: %v, %v; want %v", v, c.Live.KeepAlive, err, want)
		}
	}
}

// Without ADMIN_TOKEN the configuration holds none: serve generates one
// (and logs it), a fresh random one each start.
func TestNewAdminToken(t *testing.T) {
	a, b := newAdminToken(), newAdminToken()
	if _, err := hex.DecodeString(a); err != nil || len(a) != 32 || a == b {
		t.Errorf("tokens %q, %q: want two different 32-digit hex strings", a, b)
	}
}

func TestLoadWarm(t *testing.T) {
	for _, c := range []struct {
		name      string
		top, conc string
		wantTop   int
		wantConc  int
		wantErr   string
	}{
		{name: "defaults", wantTop: 50, wantConc: 2},
		{name: "off", top: "0", wantTop: 0, wantConc: 2},
		{name: "set", top: "10", conc: "4", wantTop: 10, wantConc: 4},
		{name: "negative top", top: "-1", wantErr: "WARM_TOP"},
		{name: "zero concurrency", conc: "0", wantErr: "WARM_CONCURRENCY"},
		{name: "words", conc: "two", wantErr: "WARM_CONCURRENCY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			vars := map[string]string{"WARM_TOP": c.top, "WARM_CONCURRENCY": c.conc}
			cfg, err := loadConfig(func(k string) string { return vars[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v does not name %s", err, c.wantErr)
				}
				return
			}
			if err != nil || cfg.Warm.Top != c.wantTop || cfg.Warm.Concurrency != c.wantConc {
				t.Fatalf("WARM_TOP %d, WARM_CONCURRENCY %d, err %v; want %d, %d", cfg.Warm.Top, cfg.Warm.Concurrency, err, c.wantTop, c.wantConc)
			}
		})
	}
}

func TestLoadAlert(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	want := alert.Config{Interval: 15 * time.Second, Window: 5 * time.Minute, HitRatio: 0.7, MinLookups: 100, ErrorRate: 1}
	if c, err := loadAlert(env()); err != nil || c != want || alert.Defaults() != want {
		t.Errorf("defaults: %+v %v (alert.Defaults %+v)", c, err, alert.Defaults())
	}
	for v, want := range map[string]float64{"EXCELLENT": 0.9, "good": 0.8, "Fair": 0.7, "0.55": 0.55, "1": 1} {
		if c, err := loadAlert(env("ALERT_HIT_RATIO", v)); err != nil || c.HitRatio != want {
			t.Errorf("ALERT_HIT_RATIO=%s: %v %v, want %v", v, c.HitRatio, err, want)
		}
	}
	if c, err := loadAlert(env("ALERT_ERROR_RATE", "0", "ALERT_MIN_LOOKUPS", "7")); err != nil || c.ErrorRate != 0 || c.MinLookups != 7 {
		t.Errorf("%+v %v", c, err)
	}
	for _, bad := range [][2]string{
		{"ALERT_INTERVAL", "0s"}, {"ALERT_INTERVAL", "often"},
		{"ALERT_WINDOW", "10s"}, {"ALERT_WINDOW", "-5m"},
		{"ALERT_HIT_RATIO", "POOR"}, {"ALERT_HIT_RATIO", "70"}, {"ALERT_HIT_RATIO", "0"},
		{"ALERT_MIN_LOOKUPS", "0"},
		{"ALERT_ERROR_RATE", "-1"}, {"ALERT_ERROR_RATE", "NaN"},
	} {
		// Through loadConfig, as the server reads them.
		if _, err := loadConfig(env(bad[0], bad[1])); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%s=%q: error %v does not name the variable", bad[0], bad[1], err)
		}
	}
}

// TestLoadPlan: PLAN is on by default, off when asked, refused otherwise.
func TestLoadPlan(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			if len(kv) == 2 && k == kv[0] {
				return kv[1]
			}
			return ""
		}
	}
	if c, err := loadConfig(env()); err != nil || !c.GraphQL.Plan {
		t.Fatalf("default: plan %v, err %v; want on", c.GraphQL.Plan, err)
	}
	if c, err := loadConfig(env("PLAN", "off")); err != nil || c.GraphQL.Plan {
		t.Fatalf("PLAN=off: plan %v, err %v", c.GraphQL.Plan, err)
	}
	if _, err := loadConfig(env("PLAN", "yes")); err == nil || !strings.Contains(err.Error(), "PLAN") {
		t.Fatalf("PLAN=yes: err %v, want a PLAN error", err)
	}
}
