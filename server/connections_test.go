package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Idle keep-alive connections cannot exhaust the server: beyond
// MAX_CONNECTIONS the longest-idle ones are closed to make room, so every
// new client is answered, and the server never holds more than the limit.
func TestIdleConnectionsCannotExhaustServer(t *testing.T) {
	const limit, idle = 50, 200
	base := startServer(t, map[string]string{
		"DATABASE_URL":    "sqlite:" + filepath.Join(t.TempDir(), "kp.db"),
		"MAX_CONNECTIONS": strconv.Itoa(limit),
	})
	addr := strings.TrimPrefix(base, "http://")
	most := 0
	for i := range idle {
		c, code := dialGet(t, addr, "/healthz")
		defer c.Close()
		if code != http.StatusOK {
			t.Fatalf("idle connection %d: status %d", i, code)
		}
		if n := serverConns(t, addr); n > most {
			most = n
		}
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("a new client after %d idle connections: %v", idle, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a new client after %d idle connections: status %d", idle, resp.StatusCode)
	}
	if most > limit {
		t.Errorf("the server held %d connections; MAX_CONNECTIONS is %d", most, limit)
	}
	if n := metric(t, base, "kedahpulse_http_connections_evicted_total"); n < idle-limit {
		t.Errorf("%v idle connections evicted, want at least %d", n, idle-limit)
	}
	t.Logf("%d idle connections, limit %d: at most %d open on the server side", idle, limit, most)
}

// A keep-alive connection left idle for IDLE_TIMEOUT is closed by the server.
func TestIdleTimeout(t *testing.T) {
	base := startServer(t, map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"),
		"IDLE_TIMEOUT": "100ms",
	})
	c, _ := dialGet(t, strings.TrimPrefix(base, "http://"), "/healthz")
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a guard against a hang, not a timing assertion
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("an idle connection past IDLE_TIMEOUT: read %d bytes, %v; want the server to close it (EOF)", n, err)
	}
}

// Request headers beyond 64 KiB are refused before any handler runs.
func TestHeaderLimit(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	for size, want := range map[int]int{1 << 10: http.StatusOK, 100 << 10: http.StatusRequestHeaderFieldsTooLarge} {
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("x", size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d-byte header: status %d, want %d", size, resp.StatusCode, want)
		}
	}
}

// dialGet opens a connection, sends one keep-alive GET and reads the
// answer, leaving the connection open and idle.
func dialGet(t *testing.T, addr, path string) (net.Conn, int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second)) // a guard against a hang
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: kp\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c, resp.StatusCode
}
