package graph_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/graph/limit"
	"github.com/kedahpulse/kedahpulse/graph/limit/limittest"
)

// Tests of the prices: a request is priced by the values the client sent,
// literals or variables alike, and what the README, the Playground and
// the dashboards send passes while the attacks of the pricing issue do not.

// The dashboard's trends query, as frontend clients send it: its values
// as variables.
const trendsByVariables = `query Trends($limit: Int, $city: String) { trends(limit: $limit, city: $city) { range mentions previousMentions growth averageScore destination { id name } series { date mentions averageScore } } }`

// Observation 1: a page given by a variable is priced at its value, as the
// same page written in the document is; a variable page too large for the
// limit is still refused, before any SQL runs.
func TestCostOfVariablesIsTheirValue(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	newFixture(t, e, 2)
	if res := e.do(trendsByVariables, map[string]any{"limit": 10}, false); len(res.Errors) > 0 {
		t.Errorf("trends with {limit: 10}: %s", res.Raw)
	}
	literal := strings.NewReplacer("($limit: Int, $city: String)", "", "$limit", "10", "$city", "null").Replace(trendsByVariables)
	if res := e.do(literal, nil, false); len(res.Errors) > 0 {
		t.Errorf("trends with limit: 10 written: %s", res.Raw)
	}
	// Over 90 days a trend reads 90 points of series: 100 of them are
	// priced above the limit, given by a variable as when written.
	ninety := strings.Replace(trendsByVariables, "trends(limit: $limit", "trends(range: LAST_90_DAYS, limit: $limit", 1)
	if res := e.do(strings.NewReplacer("($limit: Int, $city: String)", "", "$limit", "100", "$city", "null").Replace(ninety), nil, false); res.code() != limit.CodeTooComplex {
		t.Errorf("90-day trends with limit: 100 written: %s", res.Raw)
	}
	for _, n := range []any{100, 1 << 40} {
		sql, _ := e.counts(func() {
			if res := e.do(ninety, map[string]any{"limit": n}, false); res.code() != limit.CodeTooComplex {
				t.Errorf("trends with {limit: %v}: %s", n, res.Raw)
			}
		})
		if sql != 0 {
			t.Errorf("{limit: %v}: the refused request ran %d statements", n, sql)
		}
	}
	// A text search in a variable is priced as one in the document.
	search := limittest.Repeated(15, `properties(filter: $f, first: 0) { totalCount }`, true)
	search = "query($f: PropertyFilter) " + search
	if res := e.do(search, map[string]any{"f": map[string]any{"search": "homestay"}}, false); res.code() != limit.CodeTooComplex {
		t.Errorf("15 searches through a variable: %.300s", res.Raw)
	}
	if res := e.do(search, map[string]any{"f": map[string]any{"city": "Langkawi"}}, false); len(res.Errors) > 0 {
		t.Errorf("15 city filters through a variable: %.300s", res.Raw)
	}
}

// ninetyDayOverview is an analytics dashboard's 90-day view: about 5 ms
// cold on the demo data on either database (BenchmarkPrices), priced
// above the limit while the prices were guesses.
const ninetyDayOverview = `{ topDestinations(range: LAST_90_DAYS, limit: 10) { rank mentions destination { name } } sentimentSummary(range: LAST_90_DAYS) { total averageScore } trends(range: LAST_90_DAYS, limit: 5) { growth destination { name } series { date mentions } } }`

// legitimateQueries are what the README's curl examples, the Playground's
// default tab and the dashboards send, with their variables.
func legitimateQueries(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{
		"dashboard trends (issue 18)": {"limit": 10},
		dashboardQuery:                nil, // the benchmarks' dashboard
		properties50Query:             nil,
		ninetyDayOverview:             nil,
	}
	out[trendsByVariables] = out["dashboard trends (issue 18)"]
	delete(out, "dashboard trends (issue 18)")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?m)^curl -s localhost:8080/graphql --json '(.*)'$`)
	for _, m := range body.FindAllStringSubmatch(string(readme), -1) {
		var req struct{ Query string }
		if err := json.Unmarshal([]byte(m[1]), &req); err != nil {
			t.Fatalf("README example %s: %v", m[1], err)
		}
		out[req.Query] = nil
	}
	page, err := os.ReadFile("../server/playground/index.html")
	if err != nil {
		t.Fatal(err)
	}
	def := regexp.MustCompile(`(?s)const defaultQuery = (.*?);\n`).FindSubmatch(page)
	if def == nil {
		t.Fatal("the Playground has no defaultQuery")
	}
	var q strings.Builder
	for _, lit := range regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`).FindAllSubmatch(def[1], -1) {
		q.WriteString(strings.ReplaceAll(string(lit[1]), `\n`, "\n"))
	}
	out[q.String()] = nil
	if len(out) < 6 {
		t.Fatalf("found %d queries, want the README's (2), the Playground's and the dashboards'", len(out))
	}
	return out
}

// Every query the README, the Playground's default tab and the dashboards
// send passes the limits and is answered without errors.
func TestLegitimateQueriesPass(t *testing.T) {
	queries := legitimateQueries(t)
	eachEnv(t, func(t *testing.T, e *env) { // the prices are the database's
		newFixture(t, e, 3)
		for q, vars := range queries {
			if res := e.do(q, vars, false); len(res.Errors) > 0 {
				t.Errorf("%s %v:\n%.300s", q, vars, res.Raw)
			}
		}
	})
}

// Observations 2 and 3: sixteen distinct analytics fields over 90 days, or
// sixteen distinct text searches, in one request of about 1 KB, are refused
// for their cost before any SQL runs (one field unaliased, so the alias
// limit does not refuse them first).
func TestHostileDistinctAnalyticsAndSearches(t *testing.T) {
	e := newEnv(t, "sqlite", "memory")
	newFixture(t, e, 2)
	categories := []string{"ATTRACTION", "NATURE", "BEACH", "ISLAND", "CULTURE", "FOOD", "SHOPPING", "EVENT", "STAY"}
	var trends, searches strings.Builder
	trends.WriteString("{")
	searches.WriteString("{")
	for i := range 16 {
		alias := fmt.Sprintf("x%d: ", i)
		if i == 0 {
			alias = ""
		}
		fmt.Fprintf(&trends, " %strends(limit: %d, range: LAST_90_DAYS, category: %s) { growth }", alias, 1+i/len(categories), categories[i%len(categories)])
		fmt.Fprintf(&searches, ` %sproperties(filter: {search: "homestay %d"}, first: 0) { totalCount }`, alias, i)
	}
	trends.WriteString(" }")
	searches.WriteString(" }")
	for name, q := range map[string]string{"16 trends": trends.String(), "16 searches": searches.String()} {
		sql, _ := e.counts(func() {
			if res := e.do(q, nil, false); res.code() != limit.CodeTooComplex {
				t.Errorf("%s (%d bytes): %.300s", name, len(q), res.Raw)
			}
		})
		if sql != 0 {
			t.Errorf("%s: the refused request ran %d statements", name, sql)
		}
	}
}
