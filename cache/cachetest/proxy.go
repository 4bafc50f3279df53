package cachetest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards TCP connections on a loopback port to a backend, where a
// test injects a fault: latency on every read from the backend, a cut link,
// or a switch to another backend (as a failover moves an address). It
// counts the connections it accepted and the bytes clients sent, so a test
// can tell whether a client touched the backend without timing anything.
type Proxy struct {
	ln     net.Listener
	closed chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	backend string
	latency time.Duration
	cut     bool
	conns   map[net.Conn]struct{}

	accepted, sent atomic.Int64
}

// NewProxy starts a proxy to backend, closed at cleanup.
func NewProxy(tb testing.TB, backend string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, closed: make(chan struct{}), backend: backend, conns: make(map[net.Conn]struct{})}
	tb.Cleanup(p.close)
	p.wg.Go(p.serve)
	return p
}

// Addr is the address clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted returns how many connections the proxy accepted.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Sent returns how many bytes clients sent towards the backend.
func (p *Proxy) Sent() int64 { return p.sent.Load() }

// SetLatency delays everything read from the backend by d before the
// client gets it.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// SetBackend sends new connections to addr and closes the open ones, as a
// failover does.
func (p *Proxy) SetBackend(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backend = addr
	p.closeConns()
}

// SetCut cuts the link (closing every open connection and refusing new
// ones) or restores it.
func (p *Proxy) SetCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		p.closeConns()
	}
}

func (p *Proxy) closeConns() {
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) close() {
	close(p.closed)
	_ = p.ln.Close()
	p.SetCut(true)
	p.wg.Wait()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.mu.Lock()
		backend, cut := p.backend, p.cut
		p.mu.Unlock()
		var up net.Conn
		if !cut {
			up, err = net.DialTimeout("tcp", backend, time.Second)
		}
		p.mu.Lock()
		if cut || err != nil || p.cut || p.backend != backend {
			p.mu.Unlock()
			_ = c.Close()
			if up != nil {
				_ = up.Close()
			}
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.forward(up, c, true, func() bool { return true }); p.drop(c, up) })
		p.wg.Go(func() { p.forward(c, up, false, p.delay); p.drop(c, up) })
	}
}

// forward copies from src to dst, calling wait before each write and
// counting the bytes if counted.
func (p *Proxy) forward(dst, src net.Conn, counted bool, wait func() bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if counted {
				p.sent.Add(int64(n))
			}
			if !wait() {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drop closes a proxied pair and forgets it.
func (p *Proxy) drop(c, up net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = c.Close()
	_ = up.Close()
	delete(p.conns, c)
	delete(p.conns, up)
}

// delay sleeps the current latency; false if the proxy closed meanwhile.
func (p *Proxy) delay() bool {
	p.mu.Lock()
	d := p.latency
	p.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.closed:
		return false
	}
}
