package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian's chromium) for one test.
// Without it the test is skipped, or fails under CI=true (.ci/run installs
// it).
func browser(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found (CI=true; .ci/run installs it)")
		}
		t.Skip("chromium not found")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancel(); cancelA() })
	return ctx
}

// screenshotPath is where browser tests leave their screenshots.
func screenshotPath(name string) string {
	return filepath.Join(os.TempDir(), "kedahpulse-"+name+".png")
}

// The Playground in a real browser: the page loads only from the server
// (no CDN), GraphiQL loads the schema (the docs explorer lists Query), and
// running the prefilled query shows its result.
func TestPlaygroundInChromium(t *testing.T) {
	ctx := browser(t)
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	var mu sync.Mutex
	var foreign []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && !strings.HasPrefix(e.Request.URL, base) && !strings.HasPrefix(e.Request.URL, "data:") {
			mu.Lock()
			foreign = append(foreign, e.Request.URL)
			mu.Unlock()
		}
	})
	var docs, result string
	var shot []byte
	err := chromedp.Run(ctx,
		network.Enable(),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`.graphiql-container`),
		chromedp.Click(`button[aria-label="Show Documentation Explorer"]`),
		chromedp.WaitVisible(`.graphiql-doc-explorer`),
		chromedp.Poll(`document.querySelector('.graphiql-doc-explorer').innerText.includes('Query')`, nil),
		chromedp.Text(`.graphiql-doc-explorer`, &docs),
		chromedp.Click(`.graphiql-execute-button`),
		chromedp.Poll(`document.querySelector('.result-window') && document.querySelector('.result-window').innerText.includes('sentimentSummary')`, nil),
		chromedp.Text(`.result-window`, &result),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG,
	)
	if err != nil {
		t.Fatalf("playground: %v", err)
	}
	if err := os.WriteFile(screenshotPath("playground"), shot, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", screenshotPath("playground"))
	if !strings.Contains(docs, "Query") || !strings.Contains(result, `"total"`) || strings.Contains(result, `"errors"`) {
		t.Errorf("docs %q\nresult %q", docs, result)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(foreign) > 0 {
		t.Errorf("the page loaded from other origins: %v", foreign)
	}
}

// A page on another origin calls the API from Chromium, with the admin
// token in the Authorization header (a preflighted request), and reads
// the answer (no "Failed to fetch").
func TestCrossOriginFetchInChromium(t *testing.T) {
	ctx := browser(t)
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>waiting</title><script>
fetch('` + base + `/graphql', {method: 'POST', headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer tok'},
  body: JSON.stringify({query: '{ cacheStats { backend } }'})})
  .then(r => r.json()).then(j => { document.title = 'ok ' + JSON.stringify(j); })
  .catch(e => { document.title = 'failed ' + e; });
</script>`))
	}))
	t.Cleanup(app.Close)
	var title string
	err := chromedp.Run(ctx,
		chromedp.Navigate(app.URL),
		chromedp.Poll(`document.title !== 'waiting'`, nil),
		chromedp.Title(&title),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(title, "ok ") || !strings.Contains(title, "MEMORY") {
		t.Errorf("cross-origin fetch: %s", title)
	}
}

// The Playground loads without a console error in Chromium: its CSP
// allows what GraphiQL embeds (its data: fonts) and nothing from elsewhere.
func TestPlaygroundConsoleIsClean(t *testing.T) {
	ctx := browser(t)
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				problems = append(problems, "log: "+e.Entry.Text[:min(160, len(e.Entry.Text))]+" "+e.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				problems = append(problems, "console.error")
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		}
	})
	err := chromedp.Run(ctx,
		cdplog.Enable(),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`.graphiql-container`),
		chromedp.Poll(`document.fonts.status === 'loaded' && document.fonts.size > 0`, nil),
		chromedp.Click(`.graphiql-execute-button`),
		chromedp.Poll(`document.querySelector('.result-window') && document.querySelector('.result-window').innerText.includes('sentimentSummary')`, nil),
		chromedp.Poll(`document.fonts.status === 'loaded'`, nil),
	)
	if err != nil {
		t.Fatalf("playground: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("%d console errors, want 0; the first: %v", len(problems), problems[:min(3, len(problems))])
	}
}

// A live query typed into the Playground streams: its first answer shows
// in the result pane, and after an updateProperty the new price replaces
// it there, with no click.
func TestPlaygroundLiveQueryInChromium(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	id := createProperty(t, base, "Playground")
	setPrice(t, base, id, "700")
	ctx := browser(t)
	query := fmt.Sprintf("query Price @live { property(id: %q) { id price } }", id)
	result := func(price string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`(document.querySelector('.result-window') || {innerText: ''}).innerText.includes(%q)`, `"price": "`+price+`"`), nil)
	}
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`.graphiql-query-editor .CodeMirror`),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(%q)`, query), nil),
		chromedp.Click(`.graphiql-execute-button`),
		result("700.00"),
	)
	if err != nil {
		t.Fatalf("the live query's first answer: %v", err)
	}
	setPrice(t, base, id, "710")
	var text string
	if err := chromedp.Run(ctx, result("710.00"), chromedp.Text(`.result-window`, &text)); err != nil {
		t.Fatalf("the new price never reached the result pane: %v", err)
	}
	if strings.Contains(text, "700.00") || strings.Contains(text, "errors") {
		t.Errorf("result pane after the write: %s", text)
	}
}
