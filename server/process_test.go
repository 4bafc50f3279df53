//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverProcess is the server running as an OS process of its own.
type serverProcess struct {
	cmd    *exec.Cmd
	addr   string // host:port
	exited chan error
	killed bool

	mu     sync.Mutex
	stderr []string // every line the process wrote to stderr so far
}

// runProcess starts bin as the server with vars (and the test defaults:
// a free port, a fixed admin token, no seed, no cron), waits until it
// listens, and stops it at cleanup (SIGINT, then SIGKILL).
//
// The tests of processes on a database and a Redis of their own run in
// parallel (t.Parallel, two at a time on two cores): they mostly wait on
// the processes, on fault schedules and on leases to lapse.
func runProcess(t *testing.T, bin string, vars map[string]string) *serverProcess {
	t.Helper()
	cmd, stderr := startCmd(t, bin, vars)
	p := &serverProcess{cmd: cmd, exited: make(chan error, 1)}
	up := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr = append(p.stderr, sc.Text())
			p.mu.Unlock()
			var line struct{ Level, Msg, URL, Err string }
			json.Unmarshal(sc.Bytes(), &line)
			switch {
			case line.URL != "":
				up <- strings.TrimSuffix(strings.TrimPrefix(line.URL, "http://"), "/")
			case line.Level == "ERROR" || line.Msg == "":
				t.Logf("server %d: %s", cmd.Process.Pid, sc.Text())
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.killed {
			return
		}
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("server process: %v", err)
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Error("the server process did not stop")
		}
	})
	select {
	case p.addr = <-up:
		return p
	case err := <-p.exited:
		p.killed = true
		t.Fatalf("server process: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the server process did not start")
	}
	return nil
}

// startCmd starts bin as the server with vars and the test defaults (a
// free port, JSON logs, a fixed admin token, no seed, no cron) where vars
// does not set them, and returns it with its stderr.
func startCmd(t *testing.T, bin string, vars map[string]string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range map[string]string{"ADDR": "127.0.0.1:0", "LOG_FORMAT": "json", "ADMIN_TOKEN": "tok", "SEED": "none", "SCRAPE_SCHEDULE": "off"} {
		if _, ok := vars[k]; !ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr
}

// interrupt stops the process with SIGINT, as an operator would, and
// returns its exit; then every line it wrote is in lines.
func (p *serverProcess) interrupt(t *testing.T) error {
	t.Helper()
	p.killed = true
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		return <-p.exited
	}
}

// lines returns the lines the process wrote to stderr so far.
func (p *serverProcess) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.stderr)
}

// kill ends the process with SIGKILL, as a crash would.
func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	p.killed = true
	p.cmd.Process.Kill()
	<-p.exited
}

// serverBuild is the one build of the server binary of a test run.
var serverBuild struct {
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{} // closed when the build ended
	path   string
	out    []byte
	err    error
}

// startServerBuild starts building the server (see serverBinary) in the
// background, once; TestMain starts it early so that the tests before the
// first process test do not wait for it.
func startServerBuild() {
	serverBuild.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		serverBuild.cancel, serverBuild.done = cancel, make(chan struct{})
		go func() {
			defer close(serverBuild.done)
			dir, err := os.MkdirTemp("", "kedahpulse-test-")
			if err != nil {
				serverBuild.err = err
				return
			}
			serverBuild.path = filepath.Join(dir, "kedahpulse")
			serverBuild.out, serverBuild.err = exec.CommandContext(ctx, "go", "build", "-o", serverBuild.path, ".").CombinedOutput()
		}()
	})
}

// stopServerBuild cancels the build if it still runs and removes what it
// built.
func stopServerBuild() {
	if serverBuild.done == nil {
		return
	}
	serverBuild.cancel()
	<-serverBuild.done
	if serverBuild.path != "" {
		os.RemoveAll(filepath.Dir(serverBuild.path))
	}
}

// serverBinary builds the server once per test run, without the race
// detector, for tests whose server processes must run at full speed
// (TestMain starts the build when the whole package runs, without -run).
// KP_SERVER_BINARY names another build instead (an older one, to show a
// test fails without a fix).
func serverBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("KP_SERVER_BINARY"); bin != "" {
		return bin
	}
	startServerBuild()
	<-serverBuild.done
	if serverBuild.err != nil {
		t.Fatalf("build the server: %v: %s", serverBuild.err, serverBuild.out)
	}
	return serverBuild.path
}
