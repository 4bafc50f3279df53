package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/graph"
)

// newTestBoard is a Board on the in-process cache and a SQLite store,
// served by a test server, with its Families hooked to the cache.
func newTestBoard(t *testing.T) (*Board, *cache.Cache, *httptest.Server) {
	t.Helper()
	fams := new(Families)
	m := cache.NewMemoryStore(cache.MemoryLimits{})
	c := cache.New(m, cachetest.Options(m, cache.Options{Invalidated: fams.Add}))
	runs, _ := dbtest.Open(t, "sqlite")
	b := New(Options{Cache: c, Runs: runs, Families: fams, Process: "test:1", Token: "s3cret", Interval: time.Second})
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(b.Close)
	return b, c, srv
}

func get(t *testing.T, client *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// Anonymous visitors get the login form and no data; every data endpoint
// answers 401 without the session; a wrong token earns nothing.
func TestAuthRefusesWithoutSession(t *testing.T) {
	_, c, srv := newTestBoard(t)
	c.GetResponse(context.Background(), "nothing") // one response miss: data to leak
	anon := srv.Client()
	resp, body := get(t, anon, srv.URL+"/dashboard")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="login"`) || strings.Contains(body, "app.js") || strings.Contains(body, "misses") {
		t.Errorf("anonymous page: %d %q", resp.StatusCode, body)
	}
	for _, path := range []string{"/dashboard/api/snapshot", "/dashboard/api/events"} {
		for name, header := range map[string][]string{
			"no credentials":  nil,
			"wrong bearer":    {"Authorization", "Bearer nope"},
			"forged cookie":   {"Cookie", cookieName + "=" + strings.Repeat("ab", 32)},
			"token as cookie": {"Cookie", cookieName + "=s3cret"},
		} {
			resp, body := get(t, anon, srv.URL+path, header...)
			if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "hits") || strings.Contains(body, "MEMORY") {
				t.Errorf("%s, %s: %d %q", path, name, resp.StatusCode, body)
			}
		}
	}
	form := url.Values{"token": {"wrong"}}
	resp, err := anon.PostForm(srv.URL+"/dashboard/login", form)
	if err != nil {
		t.Fatal(err)
	}
	body2, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(string(body2), "not the admin token") {
		t.Errorf("wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

// Logging in sets an HttpOnly, SameSite=Strict cookie on /dashboard that
// does not hold the token; with it the data flows; logging out ends it.
func TestAuthLoginThenData(t *testing.T) {
	_, c, srv := newTestBoard(t)
	ctx := context.Background()
	c.GetResponse(ctx, "nothing")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.PostForm(srv.URL+"/dashboard/login", url.Values{"token": {"s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "app.js") {
		t.Fatalf("after login: %d %q", resp.StatusCode, page)
	}
	cookies := jar.Cookies(resp.Request.URL)
	if len(cookies) != 1 || strings.Contains(cookies[0].Value, "s3cret") {
		t.Fatalf("cookies %v", cookies)
	}
	// The Set-Cookie line itself.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = noFollow.PostForm(srv.URL+"/dashboard/login", url.Values{"token": {"s3cret"}})
	resp.Body.Close()
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/dashboard"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}

	resp, body := get(t, client, srv.URL+"/dashboard/api/snapshot")
	var snap Snapshot
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &snap) != nil || snap.Stats == nil || snap.Stats.Responses.Misses != 1 {
		t.Fatalf("snapshot: %d %q", resp.StatusCode, body)
	}
	// The bearer token works too (for scripts).
	if resp, _ := get(t, srv.Client(), srv.URL+"/dashboard/api/snapshot", "Authorization", "Bearer s3cret"); resp.StatusCode != 200 {
		t.Errorf("bearer: %d", resp.StatusCode)
	}

	resp, err = client.PostForm(srv.URL+"/dashboard/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, _ := get(t, client, srv.URL+"/dashboard/api/snapshot"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

// Logging out revokes the session: its cookie, sent again as it was, no
// longer opens the data (it used to be a fixed value per token, valid
// until the token changed).
func TestAuthLogoutRevokesCookie(t *testing.T) {
	_, _, srv := newTestBoard(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func() string {
		resp, err := noFollow.PostForm(srv.URL+"/dashboard/login", url.Values{"token": {"s3cret"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == cookieName && c.Value != "" {
				return c.Value
			}
		}
		t.Fatalf("login set no session cookie: %d", resp.StatusCode)
		return ""
	}
	first, second := login(), login()
	if first == second {
		t.Errorf("two logins earned the same session %q", first)
	}
	status := func(session string) int {
		resp, _ := get(t, srv.Client(), srv.URL+"/dashboard/api/snapshot", "Cookie", cookieName+"="+session)
		return resp.StatusCode
	}
	if status(first) != http.StatusOK {
		t.Fatal("a session fresh from its login is refused")
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/dashboard/logout", nil)
	req.Header.Set("Cookie", cookieName+"="+first)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := status(first); got != http.StatusUnauthorized {
		t.Errorf("the cookie of a session logged out: %d; want 401", got)
	}
	if got := status(second); got != http.StatusOK {
		t.Errorf("another session after a logout: %d; want 200", got)
	}
}

// Login attempts are limited per client: past 10 a minute, even the right
// token answers 429 until the minute is over; other clients are not
// affected.
func TestAuthLoginAttemptsLimited(t *testing.T) {
	fams := new(Families)
	m := cache.NewMemoryStore(cache.MemoryLimits{})
	c := cache.New(m, cachetest.Options(m, cache.Options{Invalidated: fams.Add}))
	runs, _ := dbtest.Open(t, "sqlite")
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	b := New(Options{Cache: c, Runs: runs, Families: fams, Token: "s3cret", Interval: time.Second, Now: func() time.Time { return now }})
	defer b.Close()
	h := b.Handler()
	login := func(from, token string) int {
		req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range loginAttempts {
		if code := login("203.0.113.7:4000", "guess"+string(rune('a'+i))); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
	}
	if code := login("203.0.113.7:4001", "s3cret"); code != http.StatusTooManyRequests {
		t.Errorf("attempt %d, with the right token: %d; want 429", loginAttempts+1, code)
	}
	if code := login("198.51.100.2:4000", "s3cret"); code != http.StatusSeeOther {
		t.Errorf("another client: %d; want 303", code)
	}
	now = now.Add(loginWindow)
	if code := login("203.0.113.7:4002", "s3cret"); code != http.StatusSeeOther {
		t.Errorf("a minute later: %d; want 303", code)
	}
}

// No token configured: nobody logs in, not even with an empty one.
func TestAuthNoToken(t *testing.T) {
	m := cache.NewMemoryStore(cache.MemoryLimits{})
	c := cache.New(m, cachetest.Options(m, cache.Options{}))
	runs, _ := dbtest.Open(t, "sqlite")
	b := New(Options{Cache: c, Runs: runs})
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	resp, err := srv.Client().PostForm(srv.URL+"/dashboard/login", url.Values{"token": {""}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("empty token: %d", resp.StatusCode)
	}
	if r, _ := get(t, srv.Client(), srv.URL+"/dashboard/api/snapshot", "Cookie", cookieName+"="); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("empty cookie: %d", r.StatusCode)
	}
}

// A tick pushes one snapshot to the event stream, whose figures are
// cacheStats' of that tick's one Stats call, with the invalidations counted
// by family.
func TestEventsCarryTheTick(t *testing.T) {
	b, c, srv := newTestBoard(t)
	ctx := context.Background()
	req, _ := http.NewRequest("GET", srv.URL+"/dashboard/api/events", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewScanner(resp.Body)
	events.Buffer(nil, 1<<20)
	next := func() Snapshot {
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
				var s Snapshot
				if err := json.Unmarshal([]byte(data), &s); err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
		t.Fatalf("stream ended: %v", events.Err())
		return Snapshot{}
	}
	next() // the first, sent on connect
	c.GetResponse(ctx, "a")
	c.GetResponse(ctx, "b")
	c.Invalidate(ctx, "property:1", "property:2", "city:yan:analytics", "all")
	b.Tick(ctx)
	s := next()
	st, _ := c.Stats(ctx)
	if want := cache.ReportOf(st); s.Stats == nil || !reflect.DeepEqual(*s.Stats, want) {
		t.Errorf("snapshot stats %+v\nreport         %+v", s.Stats, want)
	}
	// The page reads what the cacheStats query answers, field for field.
	var page, query any
	pageJSON, _ := json.Marshal(s.Stats)
	queryJSON, _ := json.Marshal(graph.CacheStatsOf(st))
	if json.Unmarshal(pageJSON, &page) != nil || json.Unmarshal(queryJSON, &query) != nil || !reflect.DeepEqual(page, query) {
		t.Errorf("snapshot stats %s\ncacheStats     %s", pageJSON, queryJSON)
	}
	total := map[string]int64{}
	for _, b := range s.Invalidated {
		for f, n := range b.Families {
			total[f] += n
		}
	}
	if !reflect.DeepEqual(total, map[string]int64{"property": 2, "city": 1, "all": 1}) || !reflect.DeepEqual(s.Families, []string{"all", "city", "property"}) {
		t.Errorf("invalidations %v, families %v", total, s.Families)
	}
	if len(s.Processes) != 1 || s.Processes[0].ID != "test:1" || !s.Processes[0].Self {
		t.Errorf("processes %+v", s.Processes)
	}
}

// The chart's buckets: the ratio of the lookups made within each bucket,
// from the totals two processes saw, at the response level too.
func TestSeries(t *testing.T) {
	from := epoch
	at := func(s int) int64 { return from.Add(time.Duration(s) * time.Second).UnixMilli() }
	samples := []Sample{
		{Process: "a", At: at(10), Hits: 0, Misses: 0},
		{Process: "b", At: at(20), Hits: 9, Misses: 1, ResponseHits: 1, ResponseMisses: 1, Invalidations: map[string]int64{"property": 3}},
		{Process: "a", At: at(40), Hits: 9, Misses: 1},                                      // nothing new
		{Process: "a", At: at(70), Hits: 10, Misses: 4, ResponseHits: 1, ResponseMisses: 1}, // 1 hit 3 misses
		{Process: "b", At: at(75), Hits: 10, Misses: 3},                                     // b had not seen a's last miss: no negative delta
	}
	points, inv, fams := series(samples, from, 120*time.Second) // 1 s buckets
	if len(points) != buckets || len(fams) != 1 || inv[20].Families["property"] != 3 {
		t.Fatalf("%d points, families %v, inv %v", len(points), fams, inv[20])
	}
	if p := points[20]; p.Overall == nil || *p.Overall != 0.9 || *p.Response != 0.5 || p.Lookups != 10 {
		t.Errorf("bucket 20: %+v", p)
	}
	if p := points[40]; p.Overall != nil || p.Lookups != 0 || p.Cumulative == nil || *p.Cumulative != 0.9 {
		t.Errorf("bucket 40: %+v", p)
	}
	if p := points[70]; *p.Overall != 0.25 || p.Response != nil {
		t.Errorf("bucket 70: %+v", p)
	}
	if p := points[75]; p.Lookups != 0 {
		t.Errorf("bucket 75: %+v", p)
	}
}
