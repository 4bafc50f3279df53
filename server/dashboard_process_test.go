//go:build linux

package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
	"github.com/kedahpulse/kedahpulse/server/dashboard"
)

// snapshotOf reads the dashboard snapshot of the server at addr.
func snapshotOf(t *testing.T, addr string) dashboard.Snapshot {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/dashboard/api/snapshot", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s dashboard.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("snapshot: %d %v", resp.StatusCode, err)
	}
	return s
}

// waitSnapshot polls addr's snapshot until ok holds (at most 30 s).
func waitSnapshot(t *testing.T, addr string, what string, ok func(dashboard.Snapshot) bool) dashboard.Snapshot {
	t.Helper()
	for range 300 {
		if s := snapshotOf(t, addr); ok(s) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := snapshotOf(t, addr)
	t.Fatalf("%s: never; last snapshot's processes %+v", what, s.Processes)
	return s
}

func reporting(s dashboard.Snapshot) map[string]bool {
	m := map[string]bool{}
	for _, p := range s.Processes {
		m[p.ID] = p.Reporting
	}
	return m
}

// Two server processes sharing Redis both appear on either's dashboard; the
// history survives one being killed and started again: the new process
// shows the samples of the one it replaced, and its invalidations.
func TestDashboardTwoProcesses(t *testing.T) {
	t.Parallel()
	_, prefix, _ := cachetest.NewRedis(t)
	dsn := dbtest.PostgresURL(t)
	bin := serverBinary(t)
	vars := func() map[string]string {
		return map[string]string{"DATABASE_URL": dsn, "REDIS_URL": redisURL(), "CACHE_PREFIX": prefix, "DASHBOARD_INTERVAL": "200ms"}
	}
	a, b := runProcess(t, bin, vars()), runProcess(t, bin, vars())
	idA, idB := snapshotOf(t, a.addr).Process, snapshotOf(t, b.addr).Process
	if idA == idB {
		t.Fatalf("both processes are %s", idA)
	}
	waitSnapshot(t, a.addr, "A sees A and B reporting", func(s dashboard.Snapshot) bool {
		r := reporting(s)
		return r[idA] && r[idB]
	})
	post(t, "http://"+b.addr, "tok", `mutation { invalidateCache(tags: ["property:1", "property:2", "city:yan:analytics"]) { tags } }`, nil)
	family := func(s dashboard.Snapshot, f string) (n int64) {
		for _, b := range s.Invalidated {
			n += b.Families[f]
		}
		return n
	}
	waitSnapshot(t, a.addr, "A sees B's invalidations", func(s dashboard.Snapshot) bool {
		return family(s, "property") == 2 && family(s, "city") == 1
	})

	b.kill(t)
	b2 := runProcess(t, bin, vars())
	idB2 := snapshotOf(t, b2.addr).Process
	s := waitSnapshot(t, b2.addr, "the restarted B sees A, itself and the old B", func(s dashboard.Snapshot) bool {
		r := reporting(s)
		_, old := r[idB]
		return r[idA] && r[idB2] && old
	})
	if family(s, "property") != 2 || family(s, "city") != 1 {
		t.Errorf("the restarted B lost the old B's invalidations: %+v", s.Invalidated)
	}
	t.Logf("processes after the restart: %+v", s.Processes)
}
