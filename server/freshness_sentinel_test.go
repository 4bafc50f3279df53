//go:build linux

package main

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// Sentinel failovers the consistency model does not claim to cover,
// measured: two server processes on a Sentinel-monitored master with one
// replica, a writer acknowledging new titles through one process and a
// reader checking them through the other right after each clean
// acknowledgement, while Sentinel fails over (SENTINEL FAILOVER):
//
//   - demote-promote: the master is demoted to a replica of the new master
//     and then promoted back, while the processes hold pooled connections
//     to it;
//   - split-brain: the old master cannot be reconfigured (its REPLICAOF is
//     renamed), so after the failover two masters accept writes.
//
// The test logs how many reads were stale and for how long after the
// failover began; it fails only if the writes stopped (nothing measured).
func TestSentinelFailoverWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string // the first master's
		rounds int      // failovers
	}{
		{"demote-promote", nil, 2},
		{"split-brain", []string{"--rename-command", "SLAVEOF", "KPSLAVEOF", "--rename-command", "REPLICAOF", "KPREPLICAOF"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bin := serverBinary(t)
			master := cachetest.StartServer(t, tc.args...)
			replica := cachetest.StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
			sentinel := cachetest.StartSentinel(t, master)
			sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.Addr})
			t.Cleanup(func() { sc.Close() })
			waitSentinelReplica(t, sc)
			url := "redis-sentinel://" + sentinel.Addr + "?master_name=" + cachetest.SentinelMaster
			pg := dbtest.PostgresURL(t)
			var clients []*gqlClient
			for range 2 {
				clients = append(clients, newClient(runProcess(t, bin, map[string]string{"DATABASE_URL": pg, "REDIS_URL": url, "REQUEST_TIMEOUT": "3s"}).addr))
			}
			_, ids := seedListings(t, clients[0], 1)
			read := `query($id: ID!) { property(id: $id) { title } }`
			vars := map[string]any{"id": ids[0]}

			var failedOver atomic.Int64 // unix nanos when the first failover was asked for
			done := make(chan struct{})
			go func() {
				defer close(done)
				time.Sleep(time.Second)
				failedOver.Store(time.Now().UnixNano())
				addrs := []string{replica.Addr, master.Addr}
				for r := range tc.rounds {
					sentinelFailover(t, sc, addrs[r%2])
					time.Sleep(2 * time.Second)
				}
				time.Sleep(3 * time.Second)
			}()
			var writes, clean, checked, stale int
			var lastStale time.Duration
			began := time.Now()
			for k := 1; ; k++ {
				select {
				case <-done:
				default:
					title := "v" + strconv.Itoa(k)
					r, err := clients[0].do(`mutation($id: ID!, $t: String) { updateProperty(id: $id, input: {title: $t}) { id } }`, map[string]any{"id": ids[0], "t": title}, true)
					writes++
					if err != nil || r.code() != "" {
						continue
					}
					clean++
					got, err := clients[1].do(read, vars, false)
					if err != nil || len(got.Errors) > 0 {
						continue
					}
					checked++
					if got.Data["property"].(map[string]any)["title"] != title {
						stale++
						if at := failedOver.Load(); at != 0 {
							lastStale = time.Duration(time.Now().UnixNano() - at)
						}
					}
					continue
				}
				break
			}
			t.Logf("%s: %d writes (%d acknowledged cleanly), %d reads checked after them (one every %v), %d stale; last stale read %v after the first failover was asked for",
				tc.name, writes, clean, checked, (time.Since(began) / time.Duration(max(checked, 1))).Round(time.Millisecond), stale, lastStale.Round(time.Millisecond))
			if tc.name == "split-brain" {
				if r := role(t, master.Client(t)); r != "master" {
					t.Errorf("the old master is %s after the failover: no split brain was measured", r)
				}
			}
			if checked < 20 {
				t.Errorf("only %d reads checked: nothing measured", checked)
			}
		})
	}
}

// waitSentinelReplica waits until Sentinel knows the master's replica, so
// that a failover can pick it.
func waitSentinelReplica(t *testing.T, sc *redis.SentinelClient) {
	t.Helper()
	for range 300 {
		rs, err := sc.Replicas(context.Background(), cachetest.SentinelMaster).Result()
		if err == nil && len(rs) > 0 && !strings.Contains(rs[0]["flags"], "down") && rs[0]["master-link-status"] == "ok" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("Sentinel does not see the replica")
}

// sentinelFailover asks Sentinel to fail over and waits until it names
// want as the master.
func sentinelFailover(t *testing.T, sc *redis.SentinelClient, want string) {
	ctx := context.Background()
	for range 100 {
		err := sc.Failover(ctx, cachetest.SentinelMaster).Err()
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond) // -NOGOODSLAVE while the replica syncs, or INPROG
	}
	for range 300 {
		addr, err := sc.GetMasterAddrByName(ctx, cachetest.SentinelMaster).Result()
		if err == nil && addr[0]+":"+addr[1] == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("Sentinel did not move the master to %s", want)
}
