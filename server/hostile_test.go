//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets a test start the program in a process of its own (the test
// binary run with KP_TEST_SERVE=1 is the server), and clients too.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("KP_TEST_SERVE") == "1":
		main()
		os.Exit(0)
	case os.Getenv("KP_TEST_IDLE") != "":
		idleClient(os.Getenv("KP_TEST_IDLE"))
		os.Exit(0)
	}
	flag.Parse()
	if os.Getenv("KP_SERVER_BINARY") == "" && flag.Lookup("test.run").Value.String() == "" {
		startServerBuild() // every test runs, the process tests too
	}
	code := m.Run()
	stopServerBuild()
	os.Exit(code)
}

// A client opening 20,000 keep-alive connections and leaving them idle,
// against the server in a process of its own with its default
// configuration: every connection is answered, the server holds no more
// than MAX_CONNECTIONS, and a new client is still answered. HOSTILE=1 runs
// it (HOSTILE=N opens N connections). The connections come from client
// processes holding 5,000 each, so that no process needs more open files
// than a usual ulimit -n gives.
func TestHostileIdleConnections(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HOSTILE"))
	switch {
	case n == 0:
		t.Skip("HOSTILE=1 opens 20,000 idle connections against a server process")
	case n == 1:
		n = 20_000
	}
	pid, addr := startProcess(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})

	// The server's sockets, counted while the connections open.
	most, stop, sampled := 0, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n, err := countSockets(pid, addr); err == nil {
				most = max(most, n)
			}
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	const each = 5000
	results := make(chan idleResult)
	for i := 0; i < n; i += each {
		go func() { results <- startIdleClient(t, addr, min(each, n-i)) }()
	}
	var total idleResult
	for i := 0; i < n; i += each {
		r := <-results
		total.Answered += r.Answered
		total.Failed += r.Failed
		if total.Err == "" {
			total.Err = r.Err
		}
	}
	took := time.Since(start)
	close(stop)
	<-sampled
	most = max(most, socketsOn(t, pid, addr))

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second} // a guard, not a timing assertion
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Errorf("a new client after %d idle connections: %v", n, err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a new client after %d idle connections: status %d", n, resp.StatusCode)
		}
	}
	if total.Answered != n {
		t.Errorf("%d of %d connections answered; first error: %s", total.Answered, n, total.Err)
	}
	var limit float64 = -1
	if err == nil {
		if resp, err := client.Get("http://" + addr + "/metrics"); err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "kedahpulse_http_connections_") {
					t.Log(sc.Text())
				}
				if v, ok := strings.CutPrefix(sc.Text(), "kedahpulse_http_connections_limit "); ok {
					limit, _ = strconv.ParseFloat(v, 64)
				}
			}
			resp.Body.Close()
		}
	}
	if limit < 0 || float64(most) > limit {
		t.Errorf("the server held up to %d connections; limit %v", most, limit)
	}
	t.Logf("%d connections opened in %v: %d answered, %d failed; the server held at most %d (sampled), %d now; it has %d files open",
		n, took.Round(time.Millisecond), total.Answered, total.Failed, most, socketsOn(t, pid, addr), openFiles(t, pid))
}

type idleResult struct {
	Answered, Failed int
	Err              string // the first failure
}

// startIdleClient runs a process opening n idle connections to addr until
// the test ends, and returns what it reports once they are open.
func startIdleClient(t *testing.T, addr string, n int) idleResult {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("KP_TEST_IDLE=%s %d", addr, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return idleResult{Failed: n, Err: err.Error()}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return idleResult{Failed: n, Err: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return idleResult{Failed: n, Err: err.Error()}
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var r idleResult
	if err := json.NewDecoder(stdout).Decode(&r); err != nil {
		return idleResult{Failed: n, Err: "client process: " + err.Error()}
	}
	return r
}

// idleClient is a client process: it opens the connections ("addr n"),
// each answered once and left idle, reports on stdout, and holds them until
// stdin closes.
func idleClient(arg string) {
	addr, count, _ := strings.Cut(arg, " ")
	n, _ := strconv.Atoi(count)
	var mu sync.Mutex
	var r idleResult
	var conns []net.Conn
	next := make(chan struct{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range next {
				c, err := idleConn(addr)
				mu.Lock()
				if err != nil {
					r.Failed++
					if r.Err == "" {
						r.Err = err.Error()
					}
				} else {
					r.Answered++
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(r)
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// idleConn opens a connection, is answered once and leaves it idle.
func idleConn(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second)) // a guard against a hang
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: kp\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// startProcess starts the test binary as the server (see TestMain) in a
// process of its own and returns its pid and address.
func startProcess(t *testing.T, vars map[string]string) (pid, addr string) {
	t.Helper()
	vars["KP_TEST_SERVE"] = "1"
	p := runProcess(t, os.Args[0], vars)
	return strconv.Itoa(p.cmd.Process.Pid), p.addr
}
