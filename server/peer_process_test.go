//go:build linux

package main

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// runRefused runs bin with vars (and the test defaults of runProcess) and
// returns what it printed, failing the test if it starts serving.
func runRefused(t *testing.T, bin string, vars map[string]string) string {
	t.Helper()
	cmd, stderr := startCmd(t, bin, vars)
	out, started := make(chan string, 1), make(chan struct{}, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Kedah Pulse is up") {
				started <- struct{}{}
			}
		}
		cmd.Wait()
		out <- b.String()
	}()
	select {
	case s := <-out:
		return s
	case <-started:
		cmd.Process.Kill()
		t.Fatalf("the process started:\n%s", <-out)
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the process neither started nor stopped")
	}
	return ""
}

// Two processes on one Redis reached through Sentinel but on different
// databases (redis-sentinel://…/1 and …/2) do not share invalidations:
// the second refuses to start, naming the database each uses, while a
// third on the first's database starts. Real redis-server and
// redis-sentinel processes, real server processes, PostgreSQL.
func TestSentinelDatabasesAreNamed(t *testing.T) {
	t.Parallel()
	bin := serverBinary(t)
	master := cachetest.StartServer(t)
	sentinel := cachetest.StartSentinel(t, master)
	pg := dbtest.PostgresURL(t)
	url := func(database int) string {
		return fmt.Sprintf("redis-sentinel://%s/%d?master_name=%s", sentinel.Addr, database, cachetest.SentinelMaster)
	}
	vars := func(database int) map[string]string {
		return map[string]string{"DATABASE_URL": pg, "REDIS_URL": url(database), "CACHE_PREFIX": "kp:sentinel:", "CACHE_LEASE": "2s"}
	}
	runProcess(t, bin, vars(1))
	out := runRefused(t, bin, vars(2))
	if !strings.Contains(out, `redis:db=1:prefix=kp:sentinel:`) {
		t.Errorf("the refusal does not name the first process's cache (database 1):\n%s", out)
	}
	runProcess(t, bin, vars(1))
}
