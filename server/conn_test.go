package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
		limit:  newConnLimit(max, prometheus.NewRegistry()),
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
