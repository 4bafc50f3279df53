package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache"
)

// The alerts the alerter raises, as the alert label of kedahpulse_cache_alert.
const (
	alertHitRatio = "hit_ratio_low"
	alertErrors   = "cache_errors"
)

// bandFloor returns the smallest hit ratio of the assessment band named
// name (cache.Bands), for ALERT_HIT_RATIO; POOR has none.
func bandFloor(name string) (float64, bool) {
	for _, b := range cache.Bands {
		if b.Name == strings.ToUpper(name) && b.From > 0 {
			return b.From, true
		}
	}
	return 0, false
}

// alertConfig is the alerter's part of config.
type alertConfig struct {
	Interval   time.Duration // ALERT_INTERVAL, default 15s: how often the window is checked
	Window     time.Duration // ALERT_WINDOW, default 5m: the sliding window the figures cover
	HitRatio   float64       // ALERT_HIT_RATIO, default 0.70 (FAIR): a ratio in (0, 1] or EXCELLENT, GOOD, FAIR
	MinLookups int64         // ALERT_MIN_LOOKUPS, default 100: fewer lookups in the window judge no ratio
	ErrorRate  float64       // ALERT_ERROR_RATE, default 1: cache errors per second above which the alert fires
}

// loadAlertConfig reads the ALERT_* variables.
func loadAlertConfig(getenv func(string) string) (alertConfig, error) {
	fair, _ := bandFloor(cache.Fair)
	c := alertConfig{HitRatio: fair, MinLookups: 100, ErrorRate: 1}
	var err error
	if c.Interval, err = durationVar(getenv, "ALERT_INTERVAL", 15*time.Second); err != nil {
		return c, err
	}
	if c.Interval == 0 {
		return c, fmt.Errorf("ALERT_INTERVAL %q: want a positive duration such as 15s", getenv("ALERT_INTERVAL"))
	}
	if c.Window, err = durationVar(getenv, "ALERT_WINDOW", 5*time.Minute); err != nil {
		return c, err
	}
	if c.Window < c.Interval {
		return c, fmt.Errorf("ALERT_WINDOW %v: want at least ALERT_INTERVAL (%v), such as 5m", c.Window, c.Interval)
	}
	if v := getenv("ALERT_HIT_RATIO"); v != "" {
		r, ok := bandFloor(v)
		if !ok {
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

// alerter watches the cache's own Prometheus counters over a sliding window
// and raises two alerts: the hit ratio below a threshold (once the window
// holds enough lookups to judge), and cache errors above a rate. It logs one
// line per transition, never one per check, and exports the state as gauges.
// It reads the registry, not the cache, so it knows nothing of cache.
type alerter struct {
	cfg     alertConfig
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

// newAlerter registers the alerter's gauges in r, which it also reads.
func newAlerter(cfg alertConfig, r *prometheus.Registry, log *slog.Logger, now func() time.Time) *alerter {
	a := &alerter{
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

// run checks every ALERT_INTERVAL until ctx is done.
func (a *alerter) run(ctx context.Context) {
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
func (a *alerter) check() {
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
func (a *alerter) slide(s sample) {
	a.samples = append(a.samples, s)
	start := s.at.Add(-a.cfg.Window)
	drop := 0
	for drop+1 < len(a.samples) && !a.samples[drop+1].at.After(start) {
		drop++
	}
	a.samples = append(a.samples[:0], a.samples[drop:]...)
}

// move logs and exports a transition of alert; nothing when it stays.
func (a *alerter) move(alert string, fire bool, msg string, figures ...any) {
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
func (a *alerter) read() (sample, error) {
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
