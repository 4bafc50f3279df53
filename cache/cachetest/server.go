package cachetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of one test's own, on a free loopback
// port, with its directory in a t.TempDir(). It is killed at cleanup.
type Server struct {
	Addr string
	Dir  string
	argv func(port string) []string
	cmd  *exec.Cmd
	exit chan error // receives the process's exit once
}

// StartServer starts a Redis with no automatic snapshots (the test calls
// SAVE), no AOF, and extra arguments args (for example "--replicaof", host,
// port). Without redis-server on the PATH the test is skipped, or fails
// under CI=true.
func StartServer(tb testing.TB, args ...string) *Server {
	tb.Helper()
	dir := tb.TempDir()
	return startServer(tb, dir, func(port string) []string {
		return append([]string{
			"--port", port, "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--protected-mode", "no",
			"--logfile", filepath.Join(dir, "redis.log"),
		}, args...)
	})
}

// SentinelMaster is the name StartSentinel monitors its master under.
const SentinelMaster = "mymaster"

// StartSentinel starts a Sentinel monitoring master as SentinelMaster,
// with a quorum of one.
func StartSentinel(tb testing.TB, master *Server) *Server {
	tb.Helper()
	dir := tb.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %[1]s 1000\n", SentinelMaster, master.Port())
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return startServer(tb, dir, func(port string) []string {
		return []string{conf, "--sentinel", "--port", port, "--bind", "127.0.0.1", "--dir", dir,
			"--protected-mode", "no", "--logfile", filepath.Join(dir, "redis.log")}
	})
}

func startServer(tb testing.TB, dir string, argv func(port string) []string) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("cachetest: redis-server not found (CI=true): %v", err)
		}
		tb.Skipf("cachetest: redis-server not found: %v", err)
	}
	s := &Server{Dir: dir, argv: argv}
	tb.Cleanup(func() { s.stop() })
	var err error
	for range 5 { // another process may take the free port first
		s.Addr = freeAddr(tb)
		if err = s.start(); err == nil {
			return s
		}
	}
	tb.Fatalf("cachetest: start redis-server: %v", err)
	return nil
}

// freeAddr returns a loopback address nobody listens on (for now).
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command("redis-server", s.argv(port)...)
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exit = cmd, make(chan error, 1)
	go func() { s.exit <- cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.exit:
			s.cmd = nil
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			return fmt.Errorf("redis-server on %s exited (%v): %s", s.Addr, werr, lastLines(log, 5))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("redis-server on %s not answering: %w", s.Addr, err)
		}
	}
}

// Kill kills the server with SIGKILL, as a crash would: nothing is saved.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	if !s.stop() {
		tb.Fatal("cachetest: Kill: the server is not running")
	}
}

// Restart starts the server again on the same port and directory, so it
// loads the last snapshot the test SAVEd.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if s.cmd != nil {
		tb.Fatal("cachetest: Restart: the server is running")
	}
	if err := s.start(); err != nil {
		tb.Fatalf("cachetest: restart: %v", err)
	}
}

// stop kills the process if it runs and reports whether it did.
func (s *Server) stop() bool {
	if s.cmd == nil {
		return false
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
	return true
}

// Client returns a plain client of the server for the test's own commands
// (SAVE, REPLICAOF, INFO...): not a store's (redisstore.Open), so it runs no
// epoch check. It is closed at cleanup.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Port returns the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// lastLines returns the last n lines of b.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
