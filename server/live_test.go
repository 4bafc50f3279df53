package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// sseEvent is one server-sent event and the bytes of the stream read
// until its end.
type sseEvent struct {
	event, id, data string
	at              int
}

// sseStream is a GraphQL over SSE request's open stream.
type sseStream struct {
	status int
	body   string // of a refused request
	events chan sseEvent

	mu       sync.Mutex
	read     int // bytes read
	comments int // comment lines read (": keep-alive")
}

// openSSE posts a graphql-sse request (distinct connections mode) and
// reads its events until the test ends.
func openSSE(t *testing.T, base, query string, vars map[string]any, lastID string) *sseStream {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", base+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &sseStream{status: resp.StatusCode, events: make(chan sseEvent, 64)}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.body = string(body)
		return s
	}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20) // an answer is one data line
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.read += len(line) + 1
			if strings.HasPrefix(line, ":") {
				s.comments++
			}
			e.at = s.read
			s.mu.Unlock()
			switch {
			case line == "" && e.event == "" && e.data == "": // the end of a comment
			case line == "":
				s.events <- e
				e = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				e.event = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				e.id = line[len("id: "):]
			case strings.HasPrefix(line, "data:"):
				e.data = strings.TrimPrefix(line[len("data:"):], " ")
			}
		}
	}()
	return s
}

// next returns the stream's next event (failing after a minute: a hang,
// not a timing assertion).
func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(time.Minute):
		t.Fatal("no event")
	}
	return sseEvent{}
}

// counts returns the bytes and the comment lines read so far.
func (s *sseStream) counts() (read, comments int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read, s.comments
}

// pending is how many events the stream received and nobody read.
func (s *sseStream) pending() int { return len(s.events) }

const livePrice = `query Price($id: ID!) @live { property(id: $id) { id price } }`

// priceOf is the price an event's answer carries.
func priceOf(t *testing.T, e sseEvent) string {
	t.Helper()
	var out struct {
		Data struct{ Property struct{ Price string } }
	}
	if e.event != "next" || json.Unmarshal([]byte(e.data), &out) != nil {
		t.Fatalf("not an answer: %+v", e)
	}
	return out.Data.Property.Price
}

// waitMetric waits until /metrics says name is at least want (bounded:
// a hang fails, no time is asserted) and returns it.
func waitMetric(t *testing.T, base, name string, want float64) float64 {
	t.Helper()
	for range 600 {
		if v := metric(t, base, name); v >= want {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never reached %v", name, want)
	return 0
}

func createProperty(t *testing.T, base, title string) string {
	t.Helper()
	out := post(t, base, "tok", `mutation($t: String!) { createProperty(input: {title: $t, description: "d", price: "100", location: "Alor Setar"}) { id } }`, map[string]any{"t": title})
	return out["createProperty"].(map[string]any)["id"].(string)
}

func setPrice(t *testing.T, base, id, price string) {
	t.Helper()
	post(t, base, "tok", `mutation($id: ID!, $p: Decimal) { updateProperty(id: $id, input: {price: $p}) { id } }`, map[string]any{"id": id, "p": price})
}

// An idle live stream gets a comment line at each keep-alive beat
// (LIVE_KEEPALIVE), and nothing else: after its first answer, every byte
// it reads is one of those lines.
func TestLiveQuerySSEKeepAlive(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "LIVE_KEEPALIVE": "20ms"})
	id := createProperty(t, base, "A")
	s := openSSE(t, base, livePrice, map[string]any{"id": id}, "")
	first := s.next(t)
	priceOf(t, first)
	read, comments := s.counts()
	for i := 0; comments < 5; i++ { // bounded: a hang fails, no time is asserted
		if i == 600 {
			t.Fatalf("%d keep-alive lines on an idle stream, want 5", comments)
		}
		time.Sleep(50 * time.Millisecond)
		read, comments = s.counts()
	}
	if got, want := read-first.at, comments*len(": keep-alive\n\n"); got != want || s.pending() != 0 {
		t.Errorf("%d bytes after the first answer and %d events, want %d bytes (%d keep-alive lines) and none", got, s.pending(), want, comments)
	}
}

// A live query over SSE gets its answer, then the new answer after a write
// that changes it, and nothing after a write that does not: only the entry
// the write's tags reach is recomputed, once, and an unchanged answer is
// not sent again.
func TestLiveQueryOverSSE(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	a, b, other := createProperty(t, base, "A"), createProperty(t, base, "B"), createProperty(t, base, "C")
	sa1, sa2 := openSSE(t, base, livePrice, map[string]any{"id": a}, ""), openSSE(t, base, livePrice, map[string]any{"id": a}, "")
	sb := openSSE(t, base, livePrice, map[string]any{"id": b}, "")
	for _, s := range []*sseStream{sa1, sa2, sb} {
		if s.status != http.StatusOK {
			t.Fatalf("status %d: %s", s.status, s.body)
		}
		if p := priceOf(t, s.next(t)); p != "100.00" {
			t.Fatalf("first answer %s", p)
		}
	}
	if n := metric(t, base, "kedahpulse_live_queries"); n != 2 {
		t.Errorf("%v live queries held, want 2 (two subscribers of A share one)", n)
	}

	setPrice(t, base, a, "250")
	for _, s := range []*sseStream{sa1, sa2} {
		if p := priceOf(t, s.next(t)); p != "250.00" {
			t.Errorf("pushed %s after the write, want 250.00", p)
		}
	}
	recomputes := metric(t, base, "kedahpulse_live_recomputes_total")
	if recomputes != 1 {
		t.Errorf("%v recomputes after a write to A, want 1 (B's entry carries none of its tags)", recomputes)
	}

	// A write to a property nobody watches wakes nothing; a write to B
	// that leaves its price as it was wakes B's entry, whose unchanged
	// answer is not sent. A last write to A is the barrier: the next event
	// anyone sees is its answer.
	setPrice(t, base, other, "999")
	post(t, base, "tok", `mutation($id: ID!) { updateProperty(id: $id, input: {title: "B2"}) { id } }`, map[string]any{"id": b})
	waitMetric(t, base, "kedahpulse_live_recomputes_total", recomputes+1)
	setPrice(t, base, a, "300")
	if p := priceOf(t, sa1.next(t)); p != "300.00" {
		t.Errorf("next push %s, want 300.00 (nothing for the unrelated writes)", p)
	}
	priceOf(t, sa2.next(t))
	waitMetric(t, base, "kedahpulse_live_recomputes_total", recomputes+2)
	if n := metric(t, base, "kedahpulse_live_recomputes_total"); n != recomputes+2 {
		t.Errorf("%v recomputes, want %v: B once for its title, A once, nothing for C", n, recomputes+2)
	}
	if n := sb.pending(); n != 0 {
		t.Errorf("B's subscriber got %d pushes for writes that left its answer unchanged", n)
	}
	if n := metric(t, base, "kedahpulse_live_pushes_total"); n != 3+2+2 {
		t.Errorf("%v pushes, want 7 (3 first answers, 2 subscribers × 2 changes)", n)
	}

	// The next plain query reads the answer the recompute stored.
	out, resp := send(t, base, "", `query Price($id: ID!) { property(id: $id) { id price } }`, map[string]any{"id": a})
	if resp.Header.Get("X-Cache") != "HIT" || fmt.Sprint(out["data"]) != "map[property:map[id:"+a+" price:300.00]]" {
		t.Errorf("plain query after the push: %s %v", resp.Header.Get("X-Cache"), out)
	}
}

// A subscriber that never reads its stream never holds up the others: its
// answers are coalesced in its mailbox while its connection is full, it is
// dropped when a write to it times out, and a subscriber of the same query
// gets every write's answer meanwhile.
func TestLiveQuerySlowSubscriberNeverBlocksFanOut(t *testing.T) {
	t.Parallel()
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	description := strings.Repeat("d", 10_000) // the most a description holds: answers of 300 KB fill sockets fast
	var ids []string
	for i := range 30 {
		id := createProperty(t, base, fmt.Sprint("P", i))
		post(t, base, "tok", `mutation($id: ID!, $d: String) { updateProperty(id: $id, input: {description: $d}) { id } }`, map[string]any{"id": id, "d": description})
		ids = append(ids, id)
	}
	const list = `query Listing @live { properties(first: 30) { edges { node { id price description } } } }`

	// The slow subscriber: a 4 KB receive buffer, and nothing ever read.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	slow, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body, _ := json.Marshal(map[string]any{"query": list})
	fmt.Fprintf(slow, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	fast := openSSE(t, base, list, nil, "")
	if fast.status != http.StatusOK {
		t.Fatalf("status %d: %s", fast.status, fast.body)
	}
	fast.next(t)
	waitMetric(t, base, "kedahpulse_live_subscriptions", 2)

	for i := range 40 {
		price := fmt.Sprintf("%d.00", 1000+i)
		setPrice(t, base, ids[i%len(ids)], price)
		for e := fast.next(t); !strings.Contains(e.data, `"price":"`+price+`"`); e = fast.next(t) {
		}
	}
	if n := metric(t, base, "kedahpulse_live_coalesced_total"); n == 0 {
		t.Error("no answer was coalesced for the subscriber that reads nothing")
	}
	waitMetric(t, base, "kedahpulse_live_dropped_total", 1) // its write timed out (live.DefaultWriteTimeout)
	for i := 0; metric(t, base, "kedahpulse_live_subscriptions") != 1; i++ {
		if i == 100 {
			t.Fatalf("%v subscriptions held after the slow one was dropped, want the fast one", metric(t, base, "kedahpulse_live_subscriptions"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A reconnection with Last-Event-ID gets the current answer unless it is
// the one the client holds; a query that is not live gets one answer and
// complete; an admin-only live query is refused with a code; the per-client
// cap refuses with another.
func TestLiveQuerySSEReconnectAndRefusals(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "LIVE_MAX_PER_CLIENT": "2"})
	a := createProperty(t, base, "A")
	s := openSSE(t, base, livePrice, map[string]any{"id": a}, "")
	first := s.next(t)

	same := openSSE(t, base, livePrice, map[string]any{"id": a}, first.id)
	setPrice(t, base, a, "7")
	if p := priceOf(t, same.next(t)); p != "7.00" {
		t.Errorf("a reconnection holding the current answer got %s first, want the next change (7.00)", p)
	}
	stale := openSSE(t, base, livePrice, map[string]any{"id": a}, first.id)
	if stale.status != http.StatusTooManyRequests || !strings.Contains(stale.body, `"LIVE_TOO_MANY_SUBSCRIPTIONS"`) {
		t.Errorf("third subscription of one client: %d %s", stale.status, stale.body)
	}
	priceOf(t, s.next(t))

	once := openSSE(t, base, `query($id: ID!) { property(id: $id) { price } }`, map[string]any{"id": a}, "")
	if e := once.next(t); e.event != "next" || !strings.Contains(e.data, "7.00") {
		t.Errorf("plain query over SSE: %+v", e)
	}
	if e := once.next(t); e.event != "complete" {
		t.Errorf("after a plain query's answer: %+v, want complete", e)
	}
}

// An admin-only live query is refused with LIVE_UNSUPPORTED, and a
// reconnection whose Last-Event-ID is not the current answer gets it.
func TestLiveQueryRefusedAndStaleReconnect(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	admin := openSSE(t, base, `query @live { cacheStats { backend } }`, nil, "")
	if admin.status != http.StatusBadRequest || !strings.Contains(admin.body, `"LIVE_UNSUPPORTED"`) {
		t.Errorf("admin-only live query: %d %s", admin.status, admin.body)
	}
	a := createProperty(t, base, "A")
	s := openSSE(t, base, livePrice, map[string]any{"id": a}, "")
	first := s.next(t)
	setPrice(t, base, a, "8")
	priceOf(t, s.next(t))
	back := openSSE(t, base, livePrice, map[string]any{"id": a}, first.id)
	if p := priceOf(t, back.next(t)); p != "8.00" {
		t.Errorf("reconnection after missing a change got %s, want 8.00", p)
	}
}

// Two processes sharing PostgreSQL and Redis, subscribers on both: a write
// through one pushes to the subscribers of both (the doorbell over pub/sub,
// the tags from the invalidation log), and a write elsewhere pushes
// nothing.
func TestLiveQueryTwoProcesses(t *testing.T) {
	_, prefix, _ := cachetest.NewRedis(t)
	dsn := dbtest.PostgresURL(t)
	shared := func() map[string]string {
		return map[string]string{"DATABASE_URL": dsn, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix}
	}
	p1, p2 := startServer(t, shared()), startServer(t, shared())
	a, other := createProperty(t, p1, "A"), createProperty(t, p1, "C")
	s1, s2 := openSSE(t, p1, livePrice, map[string]any{"id": a}, ""), openSSE(t, p2, livePrice, map[string]any{"id": a}, "")
	priceOf(t, s1.next(t))
	priceOf(t, s2.next(t))
	for i, via := range []string{p1, p2, p1} {
		price := fmt.Sprintf("%d.00", 500+i)
		setPrice(t, via, a, price)
		for _, s := range []*sseStream{s1, s2} {
			if p := priceOf(t, s.next(t)); p != price {
				t.Errorf("write %d: pushed %s, want %s", i, p, price)
			}
		}
	}
	setPrice(t, p2, other, "1")
	setPrice(t, p2, a, "42")
	for _, s := range []*sseStream{s1, s2} {
		if p := priceOf(t, s.next(t)); p != "42.00" {
			t.Errorf("pushed %s after an unrelated write, want the barrier's 42.00", p)
		}
	}
	for _, base := range []string{p1, p2} {
		if n := metric(t, base, "kedahpulse_live_recomputes_total"); n != 4 {
			t.Errorf("%s: %v recomputes, want 4 (one per write to A, none for C)", base, n)
		}
	}
}

// The real npm clients, graphql-sse and graphql-ws, each see a price
// change pushed after an updateProperty, and nothing pushed after a write
// to another property (clients/live.mjs counts the pushes).
func TestLiveQueryNpmClients(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	a, other := createProperty(t, base, "A"), createProperty(t, base, "B")
	for _, transport := range []string{"sse", "ws"} {
		t.Run(transport, func(t *testing.T) {
			out, err := node(t, "live.mjs", base+"/graphql", transport, a, other, "tok")
			t.Log(out)
			if err != nil || !strings.Contains(out, "pushes: 3\n") || !strings.Contains(out, " 0 failed") {
				t.Errorf("%s: %v", transport, err)
			}
		})
	}
}

// graphql-ws's npm client sends the admin token in connection_init's
// payload: the connection's one-shot operations run as admin, others are
// refused, and a live query over it is still computed anonymously.
func TestLiveWSConnectionInitToken(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	out, err := node(t, "liveauth.mjs", base+"/graphql", "tok")
	t.Log(out)
	if err != nil || !strings.Contains(out, "6 passed, 0 failed") {
		t.Errorf("liveauth.mjs: %v", err)
	}
}

// A page in headless Chromium with the browser's own EventSource (GET,
// Accept: text/event-stream) sees the price change pushed after an
// updateProperty, and nothing after a write to another property.
func TestLiveQueryEventSourceInChromium(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	a, other := createProperty(t, base, "A"), createProperty(t, base, "B")
	ctx := browser(t)
	open := fmt.Sprintf(`(() => {
		window.pushes = [];
		const u = new URL('/graphql', location);
		u.searchParams.set('query', %q);
		u.searchParams.set('variables', JSON.stringify({id: %q}));
		const es = new EventSource(u);
		es.addEventListener('next', (e) => window.pushes.push(JSON.parse(e.data).data.property.price));
		return true;
	})()`, livePrice, a)
	var ok bool
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/healthz"), chromedp.Evaluate(open, &ok)); err != nil {
		t.Fatal(err)
	}
	pushes := func(n int) []string {
		t.Helper()
		var got []string
		for range 600 {
			if err := chromedp.Run(ctx, chromedp.Evaluate(`window.pushes`, &got)); err != nil {
				t.Fatal(err)
			}
			if len(got) >= n {
				return got
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the page saw %d pushes, waited for %d", len(got), n)
		return nil
	}
	pushes(1)
	setPrice(t, base, a, "640")
	if got := pushes(2); got[1] != "640.00" {
		t.Errorf("pushes %v, want the new price 640.00 second", got)
	}
	setPrice(t, base, other, "1")
	setPrice(t, base, a, "650")
	if got := pushes(3); len(got) != 3 || got[2] != "650.00" {
		t.Errorf("pushes %v: a write to another property pushed something", got)
	}
}

// A process that may have missed invalidations recomputes every live query
// it holds: when its Redis restarts (pub/sub reconnects, the invalidation
// log comes back empty), each entry is recomputed once with no write at
// all, an unchanged answer is not pushed, and the next write still reaches
// the subscribers of both processes.
func TestLiveQueryRecomputesEverythingAfterRedisRestart(t *testing.T) {
	rs := cachetest.StartServer(t)
	dsn := dbtest.PostgresURL(t)
	shared := func() map[string]string {
		return map[string]string{"DATABASE_URL": dsn, "REDIS_URL": "redis://" + rs.Addr + "/0", "CACHE_PREFIX": "kp:live:"}
	}
	p1, p2 := startServer(t, shared()), startServer(t, shared())
	a, b := createProperty(t, p1, "A"), createProperty(t, p1, "B")
	sa, sb := openSSE(t, p2, livePrice, map[string]any{"id": a}, ""), openSSE(t, p2, livePrice, map[string]any{"id": b}, "")
	priceOf(t, sa.next(t))
	priceOf(t, sb.next(t))
	before := metric(t, p2, "kedahpulse_live_recomputes_total")

	rs.Kill(t)
	rs.Restart(t)
	waitMetric(t, p2, "kedahpulse_live_recomputes_total", before+2)
	if n := sb.pending() + sa.pending(); n != 0 {
		t.Errorf("%d pushes after the recompute of unchanged answers", n)
	}
	setPrice(t, p1, a, "77")
	if p := priceOf(t, sa.next(t)); p != "77.00" {
		t.Errorf("after the restart, pushed %s, want 77.00", p)
	}
}
