package redisstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
)

// The epoch check. Redis can lose writes it acknowledged: a restart from an
// older RDB or AOF, or the promotion of a replica that missed them, brings
// old tag versions back, and the entries they validate. Either changes the
// node's identity (INFO run_id, master_replid), and neither leaves the
// store a connection opened before it: a restart breaks them, and the
// store keeps none to replicas. So each new connection, before its first
// command, compares its node's identity with the one recorded on the node
// under the store's prefix (the epoch); if it is missing or differs, it
// gives cache.AllTag, which every entry carries, a new version, starts a
// new invalidation log, then records the identity.
//
// The invariant (no value served after its invalidation returned) then
// holds on a single node whatever its persistence, behind Sentinel (whose
// client drops its connections to a demoted master) and on Redis Cluster
// (each master keeps its own epoch, and a read spanning masters runs again
// if a connection was checked meanwhile, see Store.read). It does not hold
// for reads from replicas (Open refuses the options for them, and the
// check refuses connections to replicas), for a connection left open
// through its node's demotion and re-promotion (a cluster failover and
// failback within the pool's idle time), or while two masters take writes
// at once (a partition).

// epochTTL is how long an epoch key lives without a new connection
// refreshing it. Losing it costs one Clear.
const epochTTL = statsTTL

// connectHook is the OnConnect of a Store's client: it runs the epoch
// check for the store's prefix.
type connectHook struct {
	prefix  string
	cluster *redis.ClusterOptions // nil unless the client is a cluster's

	mu     sync.Mutex
	clears map[string]*clearing // by epoch key: the last clear

	// checked counts connections whose check passed; a read spanning
	// nodes compares it before and after (see Store.read).
	checked atomic.Uint64
}

// onConnect checks a new connection before go-redis hands it out.
func (h *connectHook) onConnect(ctx context.Context, cn *redis.Conn) error {
	return h.check(ctx, cn)
}

// pipeliner is a connection, or a client bound to one node.
type pipeliner interface {
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

// errReplica refuses connections to replicas: they may be promoted under
// an open connection (and they lag their master anyway).
var errReplica = errors.New("redisstore: node is a replica; the cache reads only from masters")

// check runs the epoch check on cn, a connection to one node.
// It never uses the client it checks a connection for: on a cluster, that
// client may be setting up connections, and running their checks, to find
// the node it needs.
func (h *connectHook) check(ctx context.Context, cn pipeliner) error {
	ctx = context.WithValue(ctx, checkKey{}, true)
	// Who the node is (and on a cluster, which slots it serves).
	var info, nodes, epoch *redis.StringCmd
	key := h.prefix + "epoch"
	_, err := cn.Pipelined(ctx, func(p redis.Pipeliner) error {
		info = p.Info(ctx, "server", "replication")
		if h.cluster != nil {
			nodes = p.ClusterNodes(ctx)
			return nil
		}
		epoch = p.GetEx(ctx, key, epochTTL)
		return nil
	})
	node, ierr := parseNode(info)
	switch {
	case ierr != nil:
		return fmt.Errorf("redisstore: epoch check: %w", ierr)
	case node.sentinel: // a Sentinel, not a data node: nothing to check
		return nil
	case node.replica:
		return errReplica
	case err != nil && !errors.Is(err, redis.Nil):
		return fmt.Errorf("redisstore: epoch check: %w", err)
	}
	var topo *topology
	if h.cluster != nil {
		// The epoch, at a key in a slot this node serves.
		if topo, err = parseTopology(nodes.Val()); err != nil {
			return fmt.Errorf("redisstore: epoch check: %w", err)
		}
		if key = epochKey(h.prefix, topo.mine); key != "" {
			_, err = cn.Pipelined(ctx, func(p redis.Pipeliner) error {
				epoch = p.GetEx(ctx, key, epochTTL)
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("redisstore: epoch check: %w", err)
			}
		}
	}
	if key != "" && epoch.Val() != node.id {
		if err := h.settle(ctx, cn, topo, h.prefix, key, node.id); err != nil {
			return err
		}
	}
	h.checked.Add(1)
	return nil
}

// clearing is a clear for one node identity, shared by the connections
// that find that node's epoch out of date at the same time: one clears, the
// others wait for it, so a cold pool clears once.
type clearing struct {
	id   string
	done chan struct{}
	err  error // set before done is closed
}

// settle clears prefix's entries and records id as the node's epoch under
// key, unless this process has already cleared for id (the node cannot
// have lost writes since: that would have changed its identity), in which
// case it only records the epoch again.
func (h *connectHook) settle(ctx context.Context, cn pipeliner, topo *topology, prefix, key, id string) error {
	for {
		h.mu.Lock()
		cl := h.clears[key]
		if cl == nil || cl.id != id || failed(cl) {
			cl = &clearing{id: id, done: make(chan struct{})}
			if h.clears == nil {
				h.clears = make(map[string]*clearing)
			}
			h.clears[key] = cl
			h.mu.Unlock()
			cl.err = h.clear(ctx, cn, topo, prefix, key, id)
			close(cl.done)
			return cl.err
		}
		h.mu.Unlock()
		select {
		case <-cl.done: // cleared before, and the epoch key was lost since
			return record(ctx, cn, key, id)
		default:
		}
		select {
		case <-cl.done:
			if cl.err == nil {
				return nil // and it recorded the epoch
			}
			// it failed: clear ourselves
		case <-ctx.Done():
			return fmt.Errorf("redisstore: epoch check: %w", ctx.Err())
		}
	}
}

func failed(cl *clearing) bool {
	select {
	case <-cl.done:
		return cl.err != nil
	default:
		return false
	}
}

// clear gives cache.AllTag a new version, drops the node's invalidation log
// (when it holds it), then records id as the node's epoch.
// On a cluster, cache.AllTag's version may live on another master: it is bumped
// there through a connection of its own.
func (h *connectHook) clear(ctx context.Context, cn pipeliner, topo *topology, prefix, key, id string) error {
	all := prefix + "t:" + cache.AllTag
	var err error
	if slot := keySlot(all); topo == nil || topo.mine.has(slot) {
		_, err = cn.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, all, cache.NewVersion(), cache.TagTTL)
			return nil
		})
	} else {
		err = h.bumpAt(ctx, topo.owner(slot), all)
	}
	if err != nil {
		return fmt.Errorf("redisstore: epoch check: clear: %w", err)
	}
	// The node's invalidation log, if it holds it, may be an old one: start
	// a new log, so no stamp of it validates anything.
	if head, records := logKeys(prefix); topo == nil || topo.mine.has(keySlot(head)) {
		_, err = cn.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, head, records)
			return nil
		})
		if err != nil {
			return fmt.Errorf("redisstore: epoch check: clear log: %w", err)
		}
	}
	return record(ctx, cn, key, id)
}

// bumpAt gives the tag at key a new version on the cluster master at addr.
func (h *connectHook) bumpAt(ctx context.Context, addr, key string) error {
	if addr == "" {
		return errors.New("no master serves the all tag's slot")
	}
	o := h.cluster
	c := redis.NewClient(&redis.Options{
		Addr: addr, Dialer: o.Dialer, TLSConfig: o.TLSConfig, Protocol: o.Protocol,
		Username: o.Username, Password: o.Password,
		CredentialsProvider: o.CredentialsProvider, CredentialsProviderContext: o.CredentialsProviderContext,
		DialTimeout: o.DialTimeout, ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: 1,
	})
	defer c.Close()
	return c.Set(ctx, key, cache.NewVersion(), cache.TagTTL).Err()
}

func record(ctx context.Context, cn pipeliner, key, id string) error {
	if _, err := cn.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, id, epochTTL)
		return nil
	}); err != nil {
		return fmt.Errorf("redisstore: epoch check: record epoch: %w", err)
	}
	return nil
}

// checkKey marks the context of an epoch check's commands.
type checkKey struct{}

// IsEpochCheck reports whether ctx is that of the commands a new connection
// runs for the epoch check before its first use, so that tests counting
// round trips can leave them out, as they leave out HELLO.
func IsEpochCheck(ctx context.Context) bool {
	v, _ := ctx.Value(checkKey{}).(bool)
	return v
}

// nodeInfo is what the check reads from INFO.
type nodeInfo struct {
	id       string // run_id:master_replid
	replica  bool
	sentinel bool
}

func parseNode(info *redis.StringCmd) (nodeInfo, error) {
	text, err := info.Result()
	if err != nil {
		return nodeInfo{}, err
	}
	fields := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if name, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			fields[name] = value
		}
	}
	n := nodeInfo{
		replica:  fields["role"] == "slave",
		sentinel: fields["redis_mode"] == "sentinel",
	}
	if !n.sentinel && (fields["run_id"] == "" || fields["master_replid"] == "") {
		return nodeInfo{}, errors.New("INFO lacks run_id or master_replid")
	}
	n.id = fields["run_id"] + ":" + fields["master_replid"]
	return n, nil
}

// slotSet is the hash slots a cluster node serves.
type slotSet [16384 / 64]uint64

func (s *slotSet) has(slot int) bool { return s[slot/64]&(1<<(slot%64)) != 0 }

// topology is what a check reads from CLUSTER NODES: the slots of the node
// answering ("myself") and every master's address and slots. Slots being
// imported or migrated ("[...]") are left out.
type topology struct {
	mine    *slotSet
	masters map[string]*slotSet // by address
}

func parseTopology(nodes string) (*topology, error) {
	t := &topology{masters: make(map[string]*slotSet)}
	for line := range strings.Lines(nodes) {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		flags := "," + f[2] + ","
		if !strings.Contains(flags, ",master,") {
			continue
		}
		s := &slotSet{}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			lo, hi, isRange := strings.Cut(r, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a < 0 || b >= 16384 || a > b {
				return nil, fmt.Errorf("CLUSTER NODES: bad slot range %q", r)
			}
			for slot := a; slot <= b; slot++ {
				s[slot/64] |= 1 << (slot % 64)
			}
		}
		addr, _, _ := strings.Cut(f[1], "@") // ip:port@cport[,hostname]
		t.masters[addr] = s
		if strings.Contains(flags, ",myself,") {
			t.mine = s
		}
	}
	if t.mine == nil {
		return nil, errors.New("CLUSTER NODES: no master line for this node")
	}
	return t, nil
}

// owner returns the address of the master serving slot, or "".
func (t *topology) owner(slot int) string {
	for addr, s := range t.masters {
		if s.has(slot) {
			return addr
		}
	}
	return ""
}

// epochKey returns the key of prefix's epoch on a cluster node serving
// owned: the first of prefix+"epoch:{0}", prefix+"epoch:{1}", ... in a slot
// the node serves, the same in every process. "" if there is none (the node
// serves no slot, so it holds none of the store's keys).
func epochKey(prefix string, owned *slotSet) string {
	for n := range 1 << 17 { // ~3 tries when a node serves a third of the slots
		k := prefix + "epoch:{" + strconv.Itoa(n) + "}"
		if owned.has(keySlot(k)) {
			return k
		}
	}
	return ""
}

// keySlot is Redis Cluster's hash slot of key: CRC16 (XMODEM) of its hash
// tag, or of the whole key if it has none, modulo 16384.
func keySlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc % 16384)
}
