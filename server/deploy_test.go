package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// The alerting rules and the Grafana dashboard in deploy/ parse with
// Prometheus's own parsers, and every metric they name has a series on
// /metrics of a server that has served nothing yet: a rule over a metric
// with no series sees nothing (not zero) until the first event, so a
// renamed metric, or one whose series only appears with its first error,
// fails this test.
func TestDeployFilesReferToExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	promql := parser.NewParser(parser.Options{})

	rules, errs := rulefmt.ParseFile(filepath.Join("..", "deploy", "prometheus", "alerts.yml"), false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("alerts.yml: %v", errors.Join(errs...))
	}
	var ruleExprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			ruleExprs = append(ruleExprs, r.Expr)
		}
	}
	dashboard := dashboardExprs(t, filepath.Join("..", "deploy", "grafana", "kedahpulse.json"))

	for file, exprs := range map[string][]string{"alerts.yml": ruleExprs, "kedahpulse.json": dashboard} {
		used := map[string]bool{}
		for _, e := range exprs {
			expr, err := promql.ParseExpr(e)
			if err != nil {
				t.Errorf("%s: %q: %v", file, e, err)
				continue
			}
			for _, name := range metricNames(t, expr) {
				used[name] = true
				if !exported[name] {
					t.Errorf("%s: %q names %s, which /metrics does not export", file, e, name)
				}
			}
		}
		// The conditions of the server's own alerter are covered by both.
		for _, name := range []string{cache.MetricHits, cache.MetricMisses, cache.MetricErrors, "kedahpulse_cache_alert"} {
			if !used[name] {
				t.Errorf("%s does not use %s", file, name)
			}
		}
	}
}

// exportedMetrics starts a server on SQLite and Redis, sends it nothing,
// and returns the names /metrics exports with at least one series: a
// histogram's or summary's name counts with its _bucket, _sum and _count
// series.
func exportedMetrics(t *testing.T) map[string]bool {
	_, prefix, _ := cachetest.NewRedis(t)
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix})
	exposition := expfmt.NewTextParser(model.UTF8Validation)
	families, err := exposition.TextToMetricFamilies(strings.NewReader(getBody(t, base+"/metrics")))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	names := map[string]bool{}
	for name, f := range families {
		if len(f.GetMetric()) == 0 {
			continue
		}
		names[name] = true
		if t := f.GetType(); t == dto.MetricType_HISTOGRAM || t == dto.MetricType_SUMMARY {
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = t == dto.MetricType_HISTOGRAM, true, true
		}
	}
	return names
}

// metricNames returns the metric names expr selects.
func metricNames(t *testing.T, expr parser.Expr) []string {
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			t.Errorf("%s selects no metric by name", vs)
			return nil
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return nil
	})
	return names
}

// grafanaVar is a Grafana template variable: $name, ${name} or ${name:format}.
var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// labelValues is a Grafana variable query over a metric's label.
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

// dashboardExprs returns every PromQL expression of the dashboard: each
// panel target's expr and each variable's label_values metric, with Grafana's
// variables replaced by values PromQL parses ($__rate_interval by a range).
func dashboardExprs(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var exprs []string
	add := func(e string) {
		e = grafanaVar.ReplaceAllStringFunc(e, func(v string) string {
			switch strings.Trim(v, "${}") {
			case "__rate_interval", "__interval", "__range":
				return "5m"
			}
			return ".*"
		})
		exprs = append(exprs, e)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					add(s)
				}
				if s, ok := x.(string); ok && k == "definition" {
					if m := labelValues.FindStringSubmatch(s); m != nil {
						add(m[1])
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dash)
	panels, _ := dash["panels"].([]any)
	if len(exprs) < len(panels) || len(panels) == 0 {
		t.Fatalf("%s: %d expressions in %d panels", path, len(exprs), len(panels))
	}
	return exprs
}
