package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// feedServer serves the scraper's RSS fixture.
func feedServer(t *testing.T) string {
	t.Helper()
	rss, err := os.ReadFile(filepath.Join("scrape", "testdata", "rss.xml"))
	if err != nil {
		t.Fatal(err)
	}
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(rss)
	}))
	t.Cleanup(feed.Close)
	return feed.URL + "/rss.xml"
}

// pageFigures is a script that is true when the page shows exactly the
// figures of a cacheStats answer: the totals and one row per coordinate
// plus the Responses row (ratios formatted as the page formats them).
func pageFigures(t *testing.T, stats map[string]any) string {
	t.Helper()
	want, _ := json.Marshal(stats)
	return `(() => {
  const want = ` + string(want) + `;
  const text = (id) => document.getElementById(id).textContent;
  if (text('total-hits') !== String(want.hits) || text('total-misses') !== String(want.misses) ||
      text('total-ratio') !== pct(want.hitRatio) || text('total-band') !== want.assessment ||
      text('keys') !== String(want.keys) || text('invalidations') !== String(want.invalidations)) return false;
  const rows = {};
  for (const f of want.fields) rows[f.coordinate] = f;
  rows.response = want.responses;
  const trs = [...document.querySelectorAll('#coords tbody tr')];
  if (trs.length !== Object.keys(rows).length) return false;
  return trs.every((tr) => {
    const w = rows[tr.dataset.coordinate];
    return w && tr.querySelector('.hits').textContent === String(w.hits) &&
      tr.querySelector('.misses').textContent === String(w.misses) && tr.querySelector('.ratio').textContent === pct(w.hitRatio);
  });
})()`
}

const cacheStatsQuery = `{ cacheStats { backend hits misses hitRatio assessment keys invalidations
  fields { coordinate hits misses hitRatio } responses { coordinate hits misses hitRatio } } }`

// The dashboard in a real browser: an anonymous visitor sees the login
// form; after logging in, the coordinate table shows what cacheStats
// reports; traffic moves the chart and the counts; a scrape is listed with
// its posts and tags, and its invalidations appear by family.
func TestDashboardInChromium(t *testing.T) {
	ctx := browser(t)
	base := startServer(t, map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "SCRAPE_FEEDS": feedServer(t), "DASHBOARD_INTERVAL": "500ms", "DASHBOARD_HISTORY": "2m",
	})
	var mu sync.Mutex
	var foreign []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && !strings.HasPrefix(e.Request.URL, base) && !strings.HasPrefix(e.Request.URL, "data:") {
			mu.Lock()
			foreign = append(foreign, e.Request.URL)
			mu.Unlock()
		}
	})
	for _, name := range []string{"Pantai Cenang", "Gunung Jerai"} {
		post(t, base, "tok", `mutation($n: String!) { createDestination(input: {name: $n, city: "Langkawi", category: BEACH, description: "x"}) { id } }`, map[string]any{"n": name})
	}
	poll := func(expr string) chromedp.Action {
		return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(30*time.Second))
	}

	// Anonymous: the login form, and a wrong token is refused.
	var anonymous string
	err := chromedp.Run(ctx,
		network.Enable(),
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(`#token`),
		chromedp.Text(`body`, &anonymous),
		chromedp.SendKeys(`#token`, "wrong"),
		chromedp.Submit(`#login`),
		chromedp.WaitVisible(`#login-error`),
	)
	if err != nil {
		t.Fatalf("login form: %v", err)
	}
	if strings.Contains(anonymous, "Hit ratio") || strings.Contains(anonymous, "MEMORY") {
		t.Errorf("the anonymous page shows data: %q", anonymous)
	}

	// Log in: the page shows cacheStats' figures.
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#token`, "tok"),
		chromedp.Submit(`#login`),
		chromedp.WaitVisible(`#coords`),
		poll(`document.getElementById('status').textContent === 'live'`),
	)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	stats := post(t, base, "tok", cacheStatsQuery, nil)["cacheStats"].(map[string]any)
	if err := chromedp.Run(ctx, poll(pageFigures(t, stats))); err != nil {
		t.Fatalf("the page does not show cacheStats %v: %v", stats, err)
	}

	// Traffic: ten identical queries (one response miss, nine hits) and a
	// few others; the chart gets points and the rows move.
	for range 10 {
		post(t, base, "", `{ sentimentSummary { total positive } }`, nil)
	}
	for range 5 {
		post(t, base, "", `{ sentimentSummary(city: "Langkawi") { total } }`, nil)
	}
	err = chromedp.Run(ctx,
		poll(`Number(document.querySelector('#coords tr[data-coordinate="response"] .hits').textContent) >= 13`),
		poll(`Number(document.getElementById('line-overall').dataset.points) >= 1 && Number(document.getElementById('line-response').dataset.points) >= 1`),
		poll(`document.querySelectorAll('#ratio-chart .point-response').length >= 1`),
	)
	if err != nil {
		t.Fatalf("traffic did not show: %v", err)
	}

	// A scrape: listed with its counts, its invalidations by family.
	run := post(t, base, "tok", `mutation { runScraper { id status postsStored invalidatedTags } }`, nil)["runScraper"].(map[string]any)
	if run["status"] != "SUCCEEDED" || run["postsStored"].(float64) < 1 {
		t.Fatalf("scrape run %v", run)
	}
	tags := len(run["invalidatedTags"].([]any))
	err = chromedp.Run(ctx,
		poll(fmt.Sprintf(`(() => { const tr = document.querySelector('#runs tr[data-run="%v"]');
  return !!tr && tr.querySelector('.status').textContent === 'SUCCEEDED' && tr.querySelector('.stored').textContent === '%v' && tr.querySelector('.tags').textContent === '%d'; })()`,
			run["id"], run["postsStored"], tags)),
		poll(`Number(document.getElementById('inv-chart').dataset.bars) >= 1 && !!document.querySelector('#inv-legend li[data-family="destination"]') && !!document.querySelector('#inv-legend li[data-family="analytics"]')`),
		poll(`!!document.querySelector('#procs li[data-reporting="true"]')`),
	)
	if err != nil {
		t.Fatalf("the scrape did not show: %v", err)
	}

	// The dashboard's workload again after the scrape: a new point.
	before := post(t, base, "tok", cacheStatsQuery, nil)["cacheStats"].(map[string]any)["responses"].(map[string]any)["hits"].(float64)
	for range 10 {
		post(t, base, "", `{ sentimentSummary { total positive } }`, nil)
	}
	if err := chromedp.Run(ctx, poll(fmt.Sprintf(`Number(document.querySelector('#coords tr[data-coordinate="response"] .hits').textContent) >= %v`, before+9))); err != nil {
		t.Fatalf("the second batch did not show: %v", err)
	}

	// Quiet now: the page settles on exactly what cacheStats answers.
	stats = post(t, base, "tok", cacheStatsQuery, nil)["cacheStats"].(map[string]any)
	var shot []byte
	var figures string
	err = chromedp.Run(ctx,
		poll(pageFigures(t, stats)),
		chromedp.Text(`#coords`, &figures),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatalf("the page does not show cacheStats %v: %v", stats, err)
	}
	if again := post(t, base, "tok", cacheStatsQuery, nil)["cacheStats"]; fmt.Sprint(again) != fmt.Sprint(stats) {
		t.Errorf("cacheStats moved while the page was compared: %v then %v", stats, again)
	}
	t.Logf("coordinates:\n%s", figures)
	if err := os.WriteFile(screenshotPath("dashboard"), shot, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", screenshotPath("dashboard"))

	// Log out: back to the form, and the data is refused.
	var status int64
	err = chromedp.Run(ctx,
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#token`),
		chromedp.Evaluate(`fetch('/dashboard/api/snapshot').then(r => r.status)`, &status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	if err != nil || status != http.StatusUnauthorized {
		t.Errorf("after logout: %d, %v", status, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(foreign) > 0 {
		t.Errorf("the page loaded from other origins: %v", foreign)
	}
}
