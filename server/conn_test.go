package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
)

// At the limit, each new connection closes the one idle the longest, and
// the server never holds more connections than the limit.
func TestConnLimitClosesLongestIdle(t *testing.T) {
	const limit, conns = 5, 12
	s := startLimited(t, limit, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i := range conns {
		c, code := dialGet(t, s.addr, "/")
		defer c.Close()
		if code != http.StatusOK {
			t.Fatalf("connection %d: status %d", i, code)
		}
		<-s.idle // the server saw it idle: eviction order is the order of dials
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One slot is kept for the next client: after the last dial the accept
	// closes one more, unless the test looks first.
	n := len(s.closed)
	if want := conns - limit; n < want || n > want+1 || !slices.Equal(s.closed, seq(n)) {
		t.Errorf("server closed connections %v, want 0 to %d or %d (longest idle first)", s.closed, want-1, want)
	}
	if s.most > limit {
		t.Errorf("%d connections open at once; the limit is %d", s.most, limit)
	}
}

// Thousands of real sockets that never send a byte do not hold the server:
// at the limit, each new client closes the socket silent the longest past
// the grace period, before any idle keep-alive connection and without
// waiting, and is answered. They used to be left alone (only idle
// keep-alive connections were evictable), so new clients closed the idle
// ones, then waited for ReadHeaderTimeout to close a silent one.
func TestConnLimitClosesSilentFirst(t *testing.T) {
	const limit, clients = 2000, 200
	s := startLimited(t, limit, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var shift atomic.Int64 // how far the limiter's clock is ahead
	s.limit.mu.Lock()
	s.limit.grace = time.Hour
	s.limit.now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	s.limit.mu.Unlock()
	idle, code := dialGet(t, s.addr, "/")
	defer idle.Close()
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	<-s.idle
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the clients below turn idle too
		for {
			select {
			case <-s.idle:
			case <-stop:
				return
			}
		}
	}()
	for i := range limit - 2 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatalf("silent socket %d: %v", i, err)
		}
		defer c.Close()
	}
	// Every slot is taken (one by the accept waiting for the next client).
	cachetest.WaitFor(t, func() bool {
		s.limit.mu.Lock()
		defer s.limit.mu.Unlock()
		return s.limit.open == limit-1
	})
	shift.Store(int64(2 * time.Hour)) // every silent socket is past the grace period
	for i := range clients {
		c, code := dialGet(t, s.addr, "/")
		c.Close()
		if code != http.StatusOK {
			t.Fatalf("client %d: status %d", i, code)
		}
	}
	s.limit.mu.Lock()
	silenced, evicted, waited := s.limit.silenced, s.limit.evicted, s.limit.waited
	s.limit.mu.Unlock()
	s.mu.Lock()
	most := s.most
	s.mu.Unlock()
	t.Logf("%d silent sockets, %d new clients: %d silent closed, %d idle closed, %d accepts waited, at most %d open", limit-2, clients, silenced, evicted, waited, most)
	if waited != 0 {
		t.Errorf("%d accepts waited for a slot; want none", waited)
	}
	if silenced == 0 || evicted != 0 {
		t.Errorf("%d silent and %d idle connections closed; want silent ones only", silenced, evicted)
	}
	if most > limit {
		t.Errorf("%d connections open at once; the limit is %d", most, limit)
	}
}

// With every connection busy, a new one waits for a slot instead of
// closing one; every request is answered.
func TestConnLimitWaitsForBusy(t *testing.T) {
	const limit = 3
	var busy sync.WaitGroup
	release := make(chan struct{})
	var mu sync.Mutex
	running, servedWhileFull := 0, false
	s := startLimited(t, limit, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if running == limit {
			servedWhileFull = true
		}
		if r.URL.Path != "/block" {
			mu.Unlock()
			return
		}
		running++
		mu.Unlock()
		busy.Done()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
	}))
	codes := make(chan int, limit+1)
	get := func(path string) {
		c, code := dialGet(t, s.addr, path)
		c.Close()
		codes <- code
	}
	busy.Add(limit)
	for range limit {
		go get("/block")
	}
	busy.Wait()
	go get("/")
	// Give a limiter that does not wait the time to serve the new client
	// while every slot is busy; a correct one passes whatever the timing.
	time.Sleep(200 * time.Millisecond)
	close(release)
	for range limit + 1 {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if servedWhileFull {
		t.Error("a new connection was served while every slot was busy")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.most > limit {
		t.Errorf("%d connections open at once; the limit is %d", s.most, limit)
	}
	if s.limit.waited == 0 {
		t.Error("no accept waited")
	}
}

// Closing the server ends an accept waiting for a slot.
func TestConnLimitCloseEndsWait(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := startLimited(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: kp\r\n\r\n")
	for waited := 0; waited == 0; { // until the next accept waits
		s.limit.mu.Lock()
		waited = s.limit.waited
		s.limit.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	s.srv.Close()
	select {
	case err := <-s.served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing assertion
		t.Fatal("Serve did not return")
	}
}

// limited is an http.Server behind a connLimit, over a listener that counts
// the connections really open below it.
type limited struct {
	addr   string
	srv    *http.Server
	limit  *connLimit
	idle   chan struct{} // a connection turned idle
	served chan error

	mu     sync.Mutex
	open   int
	most   int
	closed []int // connections closed by the server, by accept order
}

func startLimited(t *testing.T, max int, h http.Handler) *limited {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &limited{
		addr:   ln.Addr().String(),
		limit:  newConnLimit(max, time.Second, prometheus.NewRegistry()),
		idle:   make(chan struct{}, 100),
		served: make(chan error, 1),
	}
	s.srv = &http.Server{Handler: h, ConnState: func(c net.Conn, state http.ConnState) {
		s.limit.track(c, state)
		if state == http.StateIdle {
			s.idle <- struct{}{}
		}
	}}
	go func() { s.served <- s.srv.Serve(s.limit.listen(&countListener{Listener: ln, s: s})) }()
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

type countListener struct {
	net.Listener
	s *limited
	n int
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.open++
	l.s.most = max(l.s.most, l.s.open)
	l.n++
	return &countConn{Conn: c, s: l.s, i: l.n - 1}, nil
}

type countConn struct {
	net.Conn
	s    *limited
	i    int
	once sync.Once
}

func (c *countConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		c.s.open--
		c.s.closed = append(c.s.closed, c.i)
	})
	return err
}
