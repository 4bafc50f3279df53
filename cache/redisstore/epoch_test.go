package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// epochEnv is a Cache on a Redis reached at url, over a store from Open, with one lookup whose source value the test sets.
type epochEnv struct {
	c       *cache.Cache
	store   *redisstore.Store
	lookups []cache.Lookup
	value   atomic.Value // string: what the source holds
	fills   atomic.Int64
}

func newEpochEnv(t *testing.T, url, prefix string) *epochEnv {
	t.Helper()
	store, err := redisstore.Open(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &epochEnv{c: newCache(t, store, cache.Options{}), store: store, lookups: []cache.Lookup{{Key: "k", Tags: []string{"t"}}}}
	e.value.Store("old")
	return e
}

// load returns what a Load answers, and whether it came from the fill.
func (e *epochEnv) load(t *testing.T) (string, bool) {
	t.Helper()
	before := e.fills.Load()
	vals, err := e.c.Load(context.Background(), "Query.test", time.Hour, e.lookups, func(context.Context, []int) ([][]byte, error) {
		e.fills.Add(1)
		return [][]byte{[]byte(e.value.Load().(string))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(vals[0]), e.fills.Load() > before
}

// update changes the source and invalidates its tag, as a mutation does.
func (e *epochEnv) update(t *testing.T, value string) {
	t.Helper()
	e.value.Store(value)
	cachetest.MustInvalidate(t, e.c, "t")
	if got, _ := e.load(t); got != value {
		t.Fatalf("after the update: Load = %s, want %s", got, value)
	}
}

// (a) Redis restarts from a snapshot taken before an invalidation it had
// acknowledged: the old tag version and the old entry come back, and must
// not be served, through the same Cache and client.
func TestEpochRestartFromOldSnapshot(t *testing.T) {
	srv := cachetest.StartServer(t)
	admin := srv.Client(t)
	ctx := context.Background()
	url := "redis://" + srv.Addr + "/0"
	e := newEpochEnv(t, url, "kp:")
	other := newEpochEnv(t, url, "kp:") // another process on the same Redis
	if got, _ := e.load(t); got != "old" {
		t.Fatalf("Load = %s", got)
	}
	if got, fromFill := other.load(t); got != "old" || fromFill {
		t.Fatalf("other process: Load = %s (from the fill: %v), want a hit", got, fromFill)
	}
	if err := admin.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.update(t, "new") // acknowledged, not in the snapshot
	other.value.Store("new")

	srv.Kill(t)
	srv.Restart(t)
	if n, err := admin.Exists(ctx, "kp:e:k").Result(); err != nil || n != 1 {
		t.Fatalf("the snapshot did not bring the old entry back (%d, %v): the test would prove nothing", n, err)
	}
	for i := range 3 {
		if got, _ := e.load(t); got != "new" {
			t.Fatalf("Load %d after the restart = %s: an acknowledged invalidation was lost", i, got)
		}
	}
	// The other process finds the restart already dealt with: it keeps the
	// entry filled since rather than clear again.
	if got, fromFill := other.load(t); got != "new" || fromFill {
		t.Fatalf("other process after the restart: Load = %s (from the fill: %v), want a hit on new", got, fromFill)
	}
}

// (b) A replica that missed the last invalidation is promoted and the
// address moves to it: its old tag version and old entry must not be
// served.
func TestEpochPromotedReplicaMissedInvalidation(t *testing.T) {
	master := cachetest.StartServer(t, "--repl-diskless-sync-delay", "0")
	replica := cachetest.StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	p := cachetest.NewProxy(t, master.Addr)
	ctx := context.Background()
	e := newEpochEnv(t, "redis://"+p.Addr()+"/0", "kp:")
	if got, _ := e.load(t); got != "old" {
		t.Fatalf("Load = %s", got)
	}
	m, r := master.Client(t), replica.Client(t)
	// The replica has every write so far: a write after the cache's, then WAIT.
	if err := m.Set(ctx, "marker", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Do(ctx, "wait", 1, 10_000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	// Cut its link: make it the replica of a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	if err := r.Do(ctx, "replicaof", "127.0.0.1", closed).Err(); err != nil {
		t.Fatal(err)
	}
	e.update(t, "new") // acknowledged by the master only
	if n, err := r.Exists(ctx, "kp:e:k").Result(); err != nil || n != 1 {
		t.Fatalf("the replica lacks the old entry (%d, %v)", n, err)
	}
	if err := r.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	p.SetBackend(replica.Addr) // the failover: connections to the master break
	for i := range 3 {
		if got, _ := e.load(t); got != "new" {
			t.Fatalf("Load %d after the failover = %s: an acknowledged invalidation was lost", i, got)
		}
	}
}

// Through Sentinel, the check leaves the Sentinel connections alone, and a
// failover to the replica (a new identity) clears the entries before the
// client reads there: here the source changed without an invalidation, so
// a Load answering the source's value shows the clear.
func TestEpochSentinelFailoverClears(t *testing.T) {
	master := cachetest.StartServer(t, "--repl-diskless-sync-delay", "0")
	replica := cachetest.StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	ctx := context.Background()
	m := master.Client(t)
	if err := m.Set(ctx, "marker", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Do(ctx, "wait", 1, 10_000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	sentinel := cachetest.StartSentinel(t, master)
	s := sentinel.Client(t)
	// The Sentinel learns of the replica from the master's INFO, and only
	// then connects to it; until the replica's own INFO answers, it is
	// listed "disconnected", with no run id and master-link-status "err",
	// and SENTINEL FAILOVER answers NOGOODSLAVE. Wait until it can be
	// promoted.
	cachetest.WaitFor(t, func() bool {
		replicas, err := s.Do(ctx, "sentinel", "replicas", cachetest.SentinelMaster).Slice()
		return err == nil && len(replicas) == 1 && promotable(sentinelFields(replicas[0]))
	})

	e := newEpochEnv(t, "redis-sentinel://"+sentinel.Addr+"?master_name="+cachetest.SentinelMaster, "kp:")
	if got, _ := e.load(t); got != "old" {
		t.Fatalf("Load = %s", got)
	}
	if got, fromFill := e.load(t); got != "old" || fromFill {
		t.Fatalf("Load = %s (from the fill: %v), want a hit", got, fromFill)
	}
	if err := m.Set(ctx, "marker", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Do(ctx, "wait", 1, 10_000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	e.value.Store("new") // no invalidation: only a clear makes the entry miss

	if err := s.Do(ctx, "sentinel", "failover", cachetest.SentinelMaster).Err(); err != nil {
		t.Fatal(err)
	}
	cachetest.WaitFor(t, func() bool {
		addr, err := s.Do(ctx, "sentinel", "get-master-addr-by-name", cachetest.SentinelMaster).StringSlice()
		return err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(replica.Port())
	})
	// The old master rejoins as a replica (the Sentinel would see to it
	// within 10s).
	if err := m.Do(ctx, "replicaof", "127.0.0.1", replica.Port()).Err(); err != nil {
		t.Fatal(err)
	}
	// Until the client moves, the old master refuses the reads and Loads
	// fill; on the new master, the first Load fills (the clear), the next
	// hits. None answers the entry from before the failover.
	hit := false
	for i := 0; !hit && i < 1000; i++ {
		got, fromFill := e.load(t)
		if got != "new" {
			t.Fatalf("Load after the failover = %s", got)
		}
		hit = !fromFill
		if !hit {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !hit {
		t.Fatal("the client never hit on the new master")
	}
}

// promotable reports whether a replica, as SENTINEL REPLICAS lists it, is
// one the Sentinel would promote: linked and not down, its INFO received
// (the run id comes from it), its link to the master up, its priority not 0.
func promotable(f map[string]string) bool {
	for _, flag := range strings.Split(f["flags"], ",") {
		switch flag {
		case "disconnected", "s_down", "o_down":
			return false
		}
	}
	return f["runid"] != "" && f["master-link-status"] == "ok" &&
		f["slave-priority"] != "" && f["slave-priority"] != "0"
}

// sentinelFields returns the fields of one SENTINEL REPLICAS entry: a map
// under RESP3, a flat list of names and values under RESP2.
func sentinelFields(entry any) map[string]string {
	f := map[string]string{}
	switch e := entry.(type) {
	case map[any]any:
		for k, v := range e {
			f[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	case []any:
		for i := 0; i+1 < len(e); i += 2 {
			f[fmt.Sprint(e[i])] = fmt.Sprint(e[i+1])
		}
	}
	return f
}

// A connection to a replica is refused: it could be promoted under the
// connection, unchecked.
func TestEpochRefusesReplica(t *testing.T) {
	master := cachetest.StartServer(t, "--repl-diskless-sync-delay", "0")
	replica := cachetest.StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	e := newEpochEnv(t, "redis://"+replica.Addr+"/0", "kp:")
	if got, fromFill := e.load(t); got != "old" || !fromFill {
		t.Fatalf("Load = %s (from the fill: %v)", got, fromFill)
	}
	if err := e.c.Healthy(context.Background()); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("Healthy on a replica: %v", err)
	}
}

// (c) On a cluster, a new connection to each master checks that master's
// epoch, which lives on it; a master whose epoch is not its current
// identity (as after a restart) clears everything, wherever AllTag lives.
func TestEpochPerClusterNode(t *testing.T) {
	url := cachetest.ClusterURL(t)
	ctx := context.Background()
	admin, prefix, _ := cachetest.NewRedisCluster(t)
	cluster := admin.(*redis.ClusterClient)
	var mu sync.Mutex
	masters := map[string]*redis.Client{}
	if err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters[node.Options().Addr] = node
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// connect opens a process's Cache and a connection to every master.
	connect := func() *epochEnv {
		e := newEpochEnv(t, url, prefix)
		if err := e.store.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		client := e.store.Client().(*redis.ClusterClient)
		if err := client.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return node.Ping(ctx).Err()
		}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := connect()
	if got, _ := e.load(t); got != "old" {
		t.Fatalf("Load = %s", got)
	}
	for addr, node := range masters {
		key, id := nodeEpoch(t, node, prefix)
		if got, err := node.Get(ctx, key).Result(); err != nil || got != id {
			t.Fatalf("%s: epoch %q = %q (%v), want %q", addr, key, got, err, id)
		}
		if ttl := node.TTL(ctx, key).Val(); ttl <= 0 {
			t.Fatalf("%s: epoch %q has no TTL", addr, key)
		}
	}
	if got, fromFill := connect().load(t); got != "old" || fromFill {
		t.Fatalf("a second process: Load = %s (from the fill: %v), want a hit", got, fromFill)
	}
	for addr, node := range masters {
		key, _ := nodeEpoch(t, node, prefix)
		if err := node.Set(ctx, key, "an-older-run", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if got, fromFill := connect().load(t); !fromFill {
			t.Fatalf("%s restarted: Load = %s, a hit through a stale epoch", addr, got)
		}
	}
}

// On a cluster, a read during which a connection was set up (and checked)
// runs again: that check may have given AllTag a new version after the
// read had read it on another node.
func TestEpochReadRerunsAfterNewConnection(t *testing.T) {
	for name, url := range map[string]func(testing.TB) string{
		"redis":         func(testing.TB) string { return cachetest.URL() },
		"redis-cluster": cachetest.ClusterURL,
	} {
		t.Run(name, func(t *testing.T) {
			store, err := redisstore.Open(url(t), cachetest.NewPrefix(t, url(t))) // no connection yet
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			client := store.Client()
			ctx := context.Background()
			runs := 0
			err = redisstore.Read(store, ctx, func() error {
				if runs++; runs > 1 {
					return nil
				}
				if c, ok := client.(*redis.ClusterClient); ok { // the first run sets up connections
					return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return node.Ping(ctx).Err() })
				}
				return client.Ping(ctx).Err()
			})
			if want := map[string]int{"redis": 1, "redis-cluster": 2}[name]; err != nil || runs != want {
				t.Fatalf("read ran %d times (%v), want %d", runs, err, want)
			}
		})
	}
}

// nodeEpoch returns the key of prefix's epoch on a master and the identity
// it must hold, found by scanning the master.
func nodeEpoch(t *testing.T, node *redis.Client, prefix string) (key, id string) {
	t.Helper()
	ctx := context.Background()
	keys, err := node.Keys(ctx, prefix+"epoch*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("%s: epoch keys %v, %v", node.Options().Addr, keys, err)
	}
	info, err := node.Info(ctx, "server", "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for line := range strings.Lines(info) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[k] = v
		}
	}
	return keys[0], fields["run_id"] + ":" + fields["master_replid"]
}

// keySlot agrees with Redis Cluster's CLUSTER KEYSLOT.
func TestKeySlot(t *testing.T) {
	admin, _, _ := cachetest.NewRedisCluster(t)
	for _, k := range []string{"", "a", "kp:v1:t:all", "kp:epoch:{7}", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "ünïcode"} {
		want, err := admin.ClusterKeySlot(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := redisstore.KeySlot(k); int64(got) != want {
			t.Errorf("KeySlot(%q) = %d, want %d", k, got, want)
		}
	}
}

// Open refuses the options that would read from replicas.
func TestOpenRefusesReplicaReads(t *testing.T) {
	for _, url := range []string{
		"redis-cluster://127.0.0.1:1?read_only=true",
		"redis-cluster://127.0.0.1:1?route_by_latency=true",
		"redis-cluster://127.0.0.1:1?route_randomly=true",
		"redis-sentinel://127.0.0.1:1?master_name=m&replica_only=true",
		"redis-sentinel://127.0.0.1:1?master_name=m&route_randomly=true",
		"redis-sentinel://127.0.0.1:1?master_name=m&route_by_latency=true",
		"redis-sentinel://127.0.0.1:1?master_name=m&use_disconnected_replicas=true",
	} {
		if c, err := redisstore.Open(url, "kptest:"); err == nil || !strings.Contains(err.Error(), "replicas") {
			t.Errorf("Open(%s): %v", url, err)
			if c != nil {
				_ = c.Close()
			}
		}
	}
}
