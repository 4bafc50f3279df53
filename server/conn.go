package main

import (
	"container/list"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// connLimit caps the connections the HTTP server holds open, so that
// clients leaving connections silent or idle cannot use up the process's
// file descriptors (at EMFILE, Accept fails for everyone) nor make new
// clients wait. Its listener takes a slot before each accept. With none
// free it closes, in this order: the connection silent the longest among
// those that have not sent a complete request header within the grace
// period since their accept (http.Server reports the first request
// through ConnState); else the connection idle the longest; only when
// every connection is busy with a request, or silent for less than the
// grace period, does it wait, as golang.org/x/net/netutil.LimitListener
// does. The slot taken for the next accept is one of the max: at the limit
// the server serves max-1 connections and keeps one for the next client.
//
// Closing an idle connection races with a request arriving on it, exactly as
// IdleTimeout does; clients retry idempotent requests on a reused
// connection that closes before answering. A silent connection past the
// grace period has had time to send its request: clients send it at once.
type connLimit struct {
	max   int
	grace time.Duration
	now   func() time.Time

	mu        sync.Mutex
	open      int           // connections accepted and not yet closed
	accepting int           // slots taken by accepts in progress
	silent    list.List     // *limitConn with no complete request yet, accepted the earliest first
	idle      list.List     // *limitConn in StateIdle, idle the longest first
	changed   chan struct{} // when non-nil, closed once a slot frees or a connection turns idle
	evicted   int           // idle connections closed to make room
	silenced  int           // silent connections closed to make room
	waited    int           // accepts that waited for a busy connection to finish
}

func newConnLimit(max int, grace time.Duration, reg prometheus.Registerer) *connLimit {
	l := &connLimit{max: max, grace: grace, now: time.Now}
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
			Name: "kedahpulse_http_connections_silent_evicted_total", Help: "HTTP connections closed to make room because they had sent no complete request within CONNECTION_GRACE.",
		}, locked(func() int { return l.silenced })),
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

// acquire takes a slot for one accept, closing a connection silent past
// the grace period or else the longest-idle one if there is none free, or
// waiting (until one is, or done is closed).
func (l *connLimit) acquire(done <-chan struct{}) error {
	counted := false
	for {
		l.mu.Lock()
		if l.open+l.accepting < l.max {
			l.accepting++
			l.mu.Unlock()
			return nil
		}
		var quiet time.Duration // how long until the longest silent is past the grace period
		if e := l.silent.Front(); e != nil {
			c := e.Value.(*limitConn)
			if quiet = c.accepted.Add(l.grace).Sub(l.now()); quiet <= 0 {
				l.silent.Remove(e)
				c.silent = nil
				l.silenced++
				l.mu.Unlock()
				c.Close() // frees its slot before returning
				continue
			}
		}
		if e := l.idle.Front(); e != nil {
			c := l.idle.Remove(e).(*limitConn)
			c.idle = nil
			l.evicted++
			l.mu.Unlock()
			c.Close()
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
		if err := wait(changed, done, quiet); err != nil {
			return err
		}
	}
}

// wait returns when changed is closed or, if quiet > 0, once quiet has
// passed; or net.ErrClosed when done is closed.
func wait(changed, done <-chan struct{}, quiet time.Duration) error {
	var graced <-chan time.Time
	if quiet > 0 {
		t := time.NewTimer(quiet)
		defer t.Stop()
		graced = t.C
	}
	select {
	case <-changed:
	case <-graced:
	case <-done:
		return net.ErrClosed
	}
	return nil
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

// opened puts a connection just accepted on the silent list.
func (l *connLimit) opened(c *limitConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.accepted = l.now()
	c.silent = l.silent.PushBack(c)
}

// track is the http.Server's ConnState hook: it keeps the silent and idle
// lists. Any state but StateNew means the connection has sent a complete
// request header (or failed to and is closing).
func (l *connLimit) track(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.silent != nil && state != http.StateNew {
		l.silent.Remove(c.silent)
		c.silent = nil
	}
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
	if c.silent != nil {
		l.silent.Remove(c.silent)
		c.silent = nil
	}
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
	lc := &limitConn{Conn: c, limit: ln.limit}
	ln.limit.opened(lc)
	return lc, nil
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
	accepted time.Time
	silent   *list.Element // in limit.silent until its first request
	idle     *list.Element // in limit.idle while the connection is idle
	closed   bool
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
