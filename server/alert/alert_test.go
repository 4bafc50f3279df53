package alert

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kedahpulse/kedahpulse/cache"
)

// alertRig is an alerter over a registry holding the cache's counters as
// cache registers them, with a clock the test moves.
type alertRig struct {
	t                    *testing.T
	a                    *Alerter
	clock                time.Time
	hits, misses, errors *prometheus.CounterVec
	log                  bytes.Buffer
}

func newAlertRig(t *testing.T, cfg Config) *alertRig {
	r := prometheus.NewRegistry()
	g := &alertRig{t: t, clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	g.hits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: cache.MetricHits}, []string{"coordinate"})
	g.misses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: cache.MetricMisses}, []string{"coordinate"})
	g.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: cache.MetricErrors}, []string{"op"})
	r.MustRegister(g.hits, g.misses, g.errors)
	log := slog.New(slog.NewTextHandler(&g.log, nil))
	g.a = New(cfg, r, log, func() time.Time { return g.clock })
	g.a.check() // the server's first check, at start
	return g
}

// tick adds traffic spread over two label values each, moves the clock one
// interval and checks.
func (g *alertRig) tick(hits, misses, errors int) {
	g.hits.WithLabelValues("Query.property").Add(float64(hits - hits/2))
	g.hits.WithLabelValues("response").Add(float64(hits / 2))
	g.misses.WithLabelValues("Query.property").Add(float64(misses - misses/2))
	g.misses.WithLabelValues("response").Add(float64(misses / 2))
	g.errors.WithLabelValues("get").Add(float64(errors - errors/2))
	g.errors.WithLabelValues("set").Add(float64(errors / 2))
	g.clock = g.clock.Add(g.a.cfg.Interval)
	g.a.check()
}

// lines returns the log lines holding every one of parts.
func (g *alertRig) lines(parts ...string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(g.log.String()), "\n") {
		all := l != ""
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

func (g *alertRig) gauge(alert string) float64 {
	return testutil.ToFloat64(g.a.alert.WithLabelValues(alert))
}

// A low ratio fires once, with its figures, however many checks see it;
// it resolves once when the window's traffic recovers.
func TestAlertHitRatio(t *testing.T) {
	g := newAlertRig(t, Defaults()) // 15s checks over 5m, 0.70, 100 lookups
	for range 2 {
		g.tick(10, 30, 0) // 40 lookups a check at 0.25
	}
	if n := len(g.lines("level=WARN")); n != 0 || g.gauge(alertHitRatio) != 0 {
		t.Fatalf("fired before 100 lookups: %d WARN, gauge %v\n%s", n, g.gauge(alertHitRatio), g.log.String())
	}
	for range 40 { // 10 minutes: twice the window
		g.tick(10, 30, 0)
	}
	warn := g.lines("level=WARN")
	if len(warn) != 1 || g.gauge(alertHitRatio) != 1 {
		t.Fatalf("%d WARN lines (want 1), gauge %v:\n%s", len(warn), g.gauge(alertHitRatio), g.log.String())
	}
	for _, want := range []string{`msg="cache hit ratio below threshold"`, "alert=hit_ratio_low", "ratio=0.25", "lookups=120", "window=5m0s", "threshold=0.7"} {
		if !strings.Contains(warn[0], want) {
			t.Errorf("the WARN line lacks %s: %s", want, warn[0])
		}
	}
	if r := testutil.ToFloat64(g.a.ratio); r != 0.25 {
		t.Errorf("kedahpulse_cache_window_hit_ratio = %v, want 0.25", r)
	}
	if l := testutil.ToFloat64(g.a.lookups); l != 20*40 { // 5m is 20 checks
		t.Errorf("kedahpulse_cache_window_lookups = %v, want %d", l, 20*40)
	}

	for range 40 {
		g.tick(100, 0, 0)
	}
	info := g.lines("level=INFO", "alert=hit_ratio_low")
	if len(info) != 1 || len(g.lines("level=WARN")) != 1 || g.gauge(alertHitRatio) != 0 {
		t.Fatalf("%d INFO lines (want 1), gauge %v:\n%s", len(info), g.gauge(alertHitRatio), g.log.String())
	}
	if !strings.Contains(info[0], `msg="cache alert resolved"`) || !strings.Contains(info[0], "lookups=") {
		t.Errorf("resolve line: %s", info[0])
	}
	if n := len(strings.Split(strings.TrimSpace(g.log.String()), "\n")); n != 2 {
		t.Errorf("%d log lines over 83 checks, want 2:\n%s", n, g.log.String())
	}
	if r := testutil.ToFloat64(g.a.ratio); r != 1 {
		t.Errorf("ratio after recovery %v, want 1", r)
	}
}

// Under ALERT_MIN_LOOKUPS in the window the ratio judges nothing, however
// low it is.
func TestAlertHitRatioNeedsLookups(t *testing.T) {
	g := newAlertRig(t, Defaults())
	for range 100 { // 25 minutes at 4 lookups a check: 80 in any 5m window
		g.tick(0, 4, 0)
	}
	if g.log.String() != "" || g.gauge(alertHitRatio) != 0 {
		t.Fatalf("gauge %v, log:\n%s", g.gauge(alertHitRatio), g.log.String())
	}
	if r, l := testutil.ToFloat64(g.a.ratio), testutil.ToFloat64(g.a.lookups); r != 0 || l != 80 {
		t.Errorf("ratio %v over %v lookups, want 0 over 80", r, l)
	}

	idle := newAlertRig(t, Defaults())
	idle.tick(0, 0, 0)
	if r := testutil.ToFloat64(idle.a.ratio); !math.IsNaN(r) {
		t.Errorf("ratio without lookups %v, want NaN", r)
	}
}

func TestAlertErrorRate(t *testing.T) {
	cfg := Defaults()
	cfg.Window = time.Minute
	g := newAlertRig(t, cfg)
	for range 20 {
		g.tick(100, 0, 10) // 10 errors per 15s: 0.67/s
	}
	if g.log.String() != "" || g.gauge(alertErrors) != 0 {
		t.Fatalf("fired under 1/s: gauge %v\n%s", g.gauge(alertErrors), g.log.String())
	}
	for range 20 {
		g.tick(100, 0, 30) // 2/s
	}
	warn := g.lines("level=WARN")
	if len(warn) != 1 || g.gauge(alertErrors) != 1 || g.gauge(alertHitRatio) != 0 {
		t.Fatalf("%d WARN (want 1), gauges %v %v:\n%s", len(warn), g.gauge(alertErrors), g.gauge(alertHitRatio), g.log.String())
	}
	for _, want := range []string{`msg="cache errors above threshold"`, "alert=cache_errors", "window=1m0s", "threshold=1"} {
		if !strings.Contains(warn[0], want) {
			t.Errorf("the WARN line lacks %s: %s", want, warn[0])
		}
	}
	if r := testutil.ToFloat64(g.a.errorRate); r != 2 {
		t.Errorf("kedahpulse_cache_window_error_rate = %v, want 2", r)
	}
	for range 20 {
		g.tick(100, 0, 0)
	}
	if info := g.lines("level=INFO", "alert=cache_errors"); len(info) != 1 || g.gauge(alertErrors) != 0 {
		t.Fatalf("%d INFO (want 1), gauge %v:\n%s", len(info), g.gauge(alertErrors), g.log.String())
	}
	if n := len(g.lines("level=")); n != 2 {
		t.Errorf("%d log lines, want 2:\n%s", n, g.log.String())
	}
}
