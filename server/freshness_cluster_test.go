//go:build linux

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The checker across two server processes on a Redis Cluster of three
// masters with a replica each, whose replicas take over their masters in
// turn with CLUSTER FAILOVER (the replica waits until it has caught up,
// then the cluster moves the slots; the old master becomes its replica).
// Connections the processes hold to a demoted master get MOVED and follow.
// It moves every master once (three failovers) and checks at least
// FRESHNESS_READS reads (5,000 by default).
func TestFreshnessUnderClusterFailover(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 1)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	url := "redis-cluster://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
	c, _ := newChecker(t, []string{url, url}, nil)
	admin := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		admin[i] = n.Client(t)
	}
	failovers := 0
	masters := int64(len(nodes) / 2) // a failover each
	c.run(t, freshnessReads(t, 5_000), masters, func(stop <-chan struct{}) {
		for i := 0; ; i++ {
			replica := clusterReplica(t, admin, i)
			if replica == nil {
				return
			}
			// A manual failover the master does not join within Redis's 5 s
			// is abandoned (a loaded machine): ask again.
			promoted := false
			for attempt := 0; attempt < 3 && !promoted; attempt++ {
				if err := replica.Do(context.Background(), "CLUSTER", "FAILOVER").Err(); err != nil {
					t.Errorf("CLUSTER FAILOVER on %s: %v", replica.Options().Addr, err)
					return
				}
				promoted = waitRole(t, replica, "master")
			}
			if !promoted {
				t.Errorf("%s did not become master after 3 CLUSTER FAILOVER", replica.Options().Addr)
				return
			}
			for _, n := range nodes {
				waitClusterOK(t, n)
			}
			failovers++
			c.rounds.Add(1)
			if !sleepOr(stop, 1500*time.Millisecond) {
				return
			}
		}
	})
	t.Logf("faults: %d cluster failovers (CLUSTER FAILOVER on a replica)", failovers)
}

// clusterReplica returns the i-th replica of the cluster (round robin over
// the nodes that are replicas now), once every replica's link to its
// master is up (a manual failover waits for the replica to catch up).
func clusterReplica(t *testing.T, nodes []*redis.Client, i int) *redis.Client {
	t.Helper()
	var replicas []*redis.Client
	for range 300 {
		for _, n := range nodes {
			info, _ := n.Info(context.Background(), "replication").Result()
			if strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up") {
				replicas = append(replicas, n)
			}
		}
		if len(replicas) == len(nodes)/2 {
			break
		}
		replicas = replicas[:0]
		time.Sleep(50 * time.Millisecond)
	}
	if len(replicas) == 0 {
		t.Error("the cluster has no replica left")
		return nil
	}
	return replicas[i%len(replicas)]
}

// role is the node's role as ROLE answers it: master or slave.
func role(t *testing.T, n *redis.Client) string {
	t.Helper()
	v, err := n.Do(context.Background(), "ROLE").Slice()
	if err != nil || len(v) == 0 {
		t.Errorf("ROLE on %s: %v", n.Options().Addr, err)
		return ""
	}
	r, _ := v[0].(string)
	return r
}

// waitRole waits up to 10 s until n has role r and reports whether it has.
func waitRole(t *testing.T, n *redis.Client, r string) bool {
	t.Helper()
	for range 200 {
		if role(t, n) == r {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
