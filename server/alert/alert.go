package alert

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
)

// The alerts an Alerter raises, as the alert label of kedahpulse_cache_alert.
const (
	alertHitRatio = "hit_ratio_low"
	alertErrors   = "cache_errors"
)

// Config is the alerter's settings; the server reads each from the
// environment variable named beside it.
type Config struct {
	Interval   time.Duration // ALERT_INTERVAL, default 15s: how often the window is checked
	Window     time.Duration // ALERT_WINDOW, default 5m: the sliding window the figures cover
	HitRatio   float64       // ALERT_HIT_RATIO, default 0.70 (FAIR): a ratio in (0, 1] or EXCELLENT, GOOD, FAIR
	MinLookups int64         // ALERT_MIN_LOOKUPS, default 100: fewer lookups in the window judge no ratio
	ErrorRate  float64       // ALERT_ERROR_RATE, default 1: cache errors per second above which the alert fires
}

// Defaults is the Config of a server that sets no ALERT_* variable.
func Defaults() Config {
	fair, _ := cache.BandFrom(cache.Fair)
	return Config{Interval: 15 * time.Second, Window: 5 * time.Minute, HitRatio: fair, MinLookups: 100, ErrorRate: 1}
}

// Alerter watches the cache's own Prometheus counters over a sliding window
// and raises two alerts: the hit ratio below a threshold (once the window
// holds enough lookups to judge), and cache errors above a rate. It logs one
// line per transition, never one per check, and exports the state as gauges.
// It reads the registry, not the cache, so it knows nothing of cache.
type Alerter struct {
	cfg     Config
	gather  prometheus.Gatherer
	log     *slog.Logger
	now     func() time.Time
	samples []sample // oldest first; the first is at or before the window's start
	firing  map[string]bool

	alert                     *prometheus.GaugeVec
	ratio, lookups, errorRate prometheus.Gauge
}

// sample is the counters' sums at one moment.
type sample struct {
	at                   time.Time
	hits, misses, errors float64
}

// New returns an Alerter reading the registry r, in which it registers its
// gauges.
func New(cfg Config, r *prometheus.Registry, log *slog.Logger, now func() time.Time) *Alerter {
	a := &Alerter{
		cfg: cfg, gather: r, log: log, now: now, firing: map[string]bool{},
		alert: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kedahpulse_cache_alert",
			Help: "1 while the server's own cache alert fires (hit_ratio_low, cache_errors), else 0.",
		}, []string{"alert"}),
		ratio: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kedahpulse_cache_window_hit_ratio",
			Help: "Cache hit ratio over ALERT_WINDOW (NaN without lookups).",
		}),
		lookups: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kedahpulse_cache_window_lookups",
			Help: "Cache lookups (hits and misses) over ALERT_WINDOW.",
		}),
		errorRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kedahpulse_cache_window_error_rate",
			Help: "Cache errors per second over ALERT_WINDOW.",
		}),
	}
	a.alert.WithLabelValues(alertHitRatio).Set(0)
	a.alert.WithLabelValues(alertErrors).Set(0)
	a.ratio.Set(math.NaN())
	r.MustRegister(a.alert, a.ratio, a.lookups, a.errorRate)
	return a
}

// Run checks every Interval until ctx is done.
func (a *Alerter) Run(ctx context.Context) {
	a.check()
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.check()
		}
	}
}

// check takes a sample, computes the window's figures and moves the alerts.
func (a *Alerter) check() {
	s, err := a.read()
	if err != nil {
		a.log.Debug("alerts: gather metrics", "err", err)
		return
	}
	a.slide(s)
	base := a.samples[0]
	hits, misses, errs := s.hits-base.hits, s.misses-base.misses, s.errors-base.errors
	lookups := hits + misses
	ratio := math.NaN()
	if lookups > 0 {
		ratio = hits / lookups
	}
	rate := 0.0
	if span := s.at.Sub(base.at).Seconds(); span > 0 {
		rate = errs / span
	}
	a.ratio.Set(ratio)
	a.lookups.Set(lookups)
	a.errorRate.Set(rate)

	window := a.cfg.Window.String()
	a.move(alertHitRatio, lookups >= float64(a.cfg.MinLookups) && ratio < a.cfg.HitRatio,
		"cache hit ratio below threshold", "ratio", round(ratio), "lookups", int64(lookups), "window", window, "threshold", a.cfg.HitRatio)
	a.move(alertErrors, rate > a.cfg.ErrorRate,
		"cache errors above threshold", "rate", round(rate), "errors", int64(errs), "window", window, "threshold", a.cfg.ErrorRate)
}

// slide appends s and drops the samples the window no longer needs: it
// keeps the newest one at or before the window's start as the base.
func (a *Alerter) slide(s sample) {
	a.samples = append(a.samples, s)
	start := s.at.Add(-a.cfg.Window)
	drop := 0
	for drop+1 < len(a.samples) && !a.samples[drop+1].at.After(start) {
		drop++
	}
	a.samples = append(a.samples[:0], a.samples[drop:]...)
}

// move logs and exports a transition of alert; nothing when it stays.
func (a *Alerter) move(alert string, fire bool, msg string, figures ...any) {
	if fire == a.firing[alert] {
		return
	}
	a.firing[alert] = fire
	attrs := append([]any{"alert", alert}, figures...)
	if fire {
		a.alert.WithLabelValues(alert).Set(1)
		a.log.Warn(msg, attrs...)
		return
	}
	a.alert.WithLabelValues(alert).Set(0)
	a.log.Info("cache alert resolved", attrs...)
}

// read sums the cache's counters over their labels. A counter not exported
// yet (no lookup or error so far) is zero.
func (a *Alerter) read() (sample, error) {
	families, err := a.gather.Gather()
	if err != nil {
		return sample{}, err
	}
	s := sample{at: a.now()}
	for _, f := range families {
		var dst *float64
		switch f.GetName() {
		case cache.MetricHits:
			dst = &s.hits
		case cache.MetricMisses:
			dst = &s.misses
		case cache.MetricErrors:
			dst = &s.errors
		default:
			continue
		}
		for _, m := range f.GetMetric() {
			*dst += m.GetCounter().GetValue()
		}
	}
	return s, nil
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }
