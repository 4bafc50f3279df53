package main

import (
	"container/list"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// connLimit caps the connections the HTTP server holds open, so that
// clients leaving keep-alive connections idle cannot use up the process's
// file descriptors (at EMFILE, Accept fails for everyone). Its listener takes
// a slot before each accept. With none free it closes the connection idle
// the longest (http.Server reports idleness through ConnState); only when
// every connection is busy with a request does it wait, as
// golang.org/x/net/netutil.LimitListener does. The slot taken for the next
// accept is one of the max: at the limit the server serves max-1
// connections and keeps one for the next client.
//
// Closing an idle connection races with a request arriving on it, exactly as
// IdleTimeout does; clients retry idempotent requests on a reused
// connection that closes before answering.
type connLimit struct {
	max int

	mu        sync.Mutex
	open      int           // connections accepted and not yet closed
	accepting int           // slots taken by accepts in progress
	idle      list.List     // *limitConn in StateIdle, idle the longest first
	changed   chan struct{} // when non-nil, closed once a slot frees or a connection turns idle
	evicted   int           // idle connections closed to make room
	waited    int           // accepts that waited for a busy connection to finish
}

func newConnLimit(max int, reg prometheus.Registerer) *connLimit {
	l := &connLimit{max: max}
	locked := func(f func() int) func() float64 {
		return func() float64 {
			l.mu.Lock()
			defer l.mu.Unlock()
			return float64(f())
		}
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kedahpulse_http_connections_open", Help: "HTTP connections open.",
		}, locked(func() int { return l.open })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kedahpulse_http_connections_limit", Help: "HTTP connections the server holds open at most (MAX_CONNECTIONS).",
		}, func() float64 { return float64(max) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "kedahpulse_http_connections_evicted_total", Help: "Idle HTTP connections closed to make room for a new one.",
		}, locked(func() int { return l.evicted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "kedahpulse_http_connections_waits_total", Help: "Accepts that waited because every HTTP connection was busy.",
		}, locked(func() int { return l.waited })),
	)
	return l
}

// listen wraps ln so that its accepts respect the limit.
func (l *connLimit) listen(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, limit: l, done: make(chan struct{})}
}

// acquire takes a slot for one accept, closing the longest-idle connection
// if there is none free, or waiting until done is closed.
func (l *connLimit) acquire(done <-chan struct{}) error {
	counted := false
	for {
		l.mu.Lock()
		if l.open+l.accepting < l.max {
			l.accepting++
			l.mu.Unlock()
			return nil
		}
		if e := l.idle.Front(); e != nil {
			c := l.idle.Remove(e).(*limitConn)
			c.idle = nil
			l.evicted++
			l.mu.Unlock()
			c.Close() // frees its slot before returning
			continue
		}
		if !counted {
			l.waited++
			counted = true
		}
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-done:
			return net.ErrClosed
		}
	}
}

// accepted turns the slot of an accept into an open connection, or frees it
// if the accept failed.
func (l *connLimit) accepted(ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepting--
	if ok {
		l.open++
	} else {
		l.wake()
	}
}

// track is the http.Server's ConnState hook: it keeps the idle list.
func (l *connLimit) track(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.idle != nil {
		l.idle.Remove(c.idle)
		c.idle = nil
	}
	if state == http.StateIdle && !c.closed {
		c.idle = l.idle.PushBack(c)
		l.wake()
	}
}

// release frees the slot of a closed connection.
func (l *connLimit) release(c *limitConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.closed = true
	if c.idle != nil {
		l.idle.Remove(c.idle)
		c.idle = nil
	}
	l.open--
	l.wake()
}

// wake tells a waiting accept that something changed; l.mu is held.
func (l *connLimit) wake() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

type limitListener struct {
	net.Listener
	limit *connLimit
	once  sync.Once
	done  chan struct{} // closed by Close
}

func (ln *limitListener) Accept() (net.Conn, error) {
	if err := ln.limit.acquire(ln.done); err != nil {
		return nil, err
	}
	c, err := ln.Listener.Accept()
	ln.limit.accepted(err == nil)
	if err != nil {
		return nil, err
	}
	return &limitConn{Conn: c, limit: ln.limit}, nil
}

func (ln *limitListener) Close() error {
	ln.once.Do(func() { close(ln.done) })
	return ln.Listener.Close()
}

// limitConn holds a slot until its first Close.
type limitConn struct {
	net.Conn
	limit *connLimit
	once  sync.Once
	// Guarded by limit.mu.
	idle   *list.Element // in limit.idle while the connection is idle
	closed bool
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.limit.release(c) })
	return err
}

// CloseWrite lets http.Server half-close before closing after an error
// answer, so the client reads the answer instead of a reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
