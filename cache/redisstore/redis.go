package redisstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
)

// Store is a cache.Store on Redis 7.0 or later: a single node, Sentinel
// or Cluster, through the redis.UniversalClient it owns. Every method sends
// one pipeline of single-key commands, so a cluster client splits it by
// slot without CROSSSLOT errors. Keys live under the store's prefix:
// entries at prefix+"e:"+key, tag versions at prefix+"t:"+tag, the shared
// counters in the hash prefix+"stats", the invalidation log at
// prefix+"{log}head" and prefix+"{log}records" (one hash tag, so a script
// writes both), and the epoch (epoch.go) at prefix+"epoch" (on a cluster,
// prefix+"epoch:{n}" on each master). Every new connection of its client
// runs the epoch check before its first command.
type Store struct {
	client redis.UniversalClient
	prefix string
	log    []string // logKeys(prefix): head, records
	hook   *connectHook
}

var (
	_ cache.Store          = (*Store)(nil)
	_ cache.SharedCounters = (*Store)(nil)
	_ cache.Inspector      = (*Store)(nil)
)

// statsTTL is how long the shared counters survive without any AddCounters.
const statsTTL = 30 * 24 * time.Hour

// Client returns the store's client, for other keys of the same Redis
// under the store's prefix (a lock, for example). Its connections run the
// epoch check too. Close the store, not the client.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Prefix returns the store's key prefix.
func (s *Store) Prefix() string { return s.prefix }

// read runs fn, a read of entries or tag versions. On a cluster, a read
// spans nodes: if a connection was set up while it ran, that connection's
// check may have given AllTag a new version after the read had read it on
// another node, so the read is run again (within ctx).
func (s *Store) read(ctx context.Context, fn func() error) error {
	if s.hook.cluster == nil {
		return fn()
	}
	for {
		seen := s.hook.checked.Load()
		if err := fn(); err != nil || s.hook.checked.Load() == seen {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("redisstore: read: connections kept opening: %w", err)
		}
	}
}

func (s *Store) entryKey(key string) string { return s.prefix + "e:" + key }
func (s *Store) tagKey(tag string) string   { return s.prefix + "t:" + tag }
func (s *Store) statsKey() string           { return s.prefix + "stats" }

// logKeys are the invalidation log's keys under prefix: a hash of its id
// and count, and a sorted set of its records scored by number. They share
// a hash tag, so the scripts writing both work on a cluster.
func logKeys(prefix string) (head, records string) {
	return prefix + "{log}head", prefix + "{log}records"
}

// tagTTLSeconds is cache.TagTTL as the EX argument.
var tagTTLSeconds = int64(cache.TagTTL / time.Second)

// Get sends one pipeline: the log's head (observeScript), then PTTL and
// GET for every key, then for every tag SET tag <fresh> NX GET EX
// cache.TagTTL, which returns the existing version or nil when ours was
// stored. A node runs a pipeline's commands in order, so the head is read
// before the versions; a cluster splits a pipeline by node and runs the
// parts in no order, so there the head is read first, in a round trip of
// its own, and only when keys are read (tags alone need no stamp).
func (s *Store) Get(ctx context.Context, keys, tags []string) (got cache.Got, err error) {
	if len(keys) == 0 && len(tags) == 0 {
		return cache.Got{Versions: map[string]string{}}, nil
	}
	err = s.read(ctx, func() (err error) {
		got, err = s.get(ctx, keys, tags)
		if isNoScript(err) { // a restarted or failed-over node: load it, once
			if err = observeScript.Load(ctx, s.client).Err(); err == nil {
				got, err = s.get(ctx, keys, tags)
			}
		}
		return err
	})
	return got, full(err)
}

func (s *Store) get(ctx context.Context, keys, tags []string) (cache.Got, error) {
	var got cache.Got
	pipe := s.client.Pipeline()
	var head *redis.Cmd
	if len(keys) > 0 {
		if s.hook.cluster != nil {
			_, ch, err := s.observe(ctx, "", cache.Stamp{})
			if err != nil {
				return got, err
			}
			got.Stamp = ch.Now
		} else {
			head = s.headCmd(ctx, pipe)
		}
	}
	gets := make([]*redis.StringCmd, len(keys))
	pttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		// PTTL first: a value set in between is newer and lives longer
		// than the TTL read, so the TTL returned never overstates it.
		pttls[i] = pipe.PTTL(ctx, s.entryKey(k))
		gets[i] = pipe.Get(ctx, s.entryKey(k))
	}
	fresh := make([]string, len(tags))
	sets := make([]*redis.Cmd, len(tags))
	for i, t := range tags {
		fresh[i] = cache.NewVersion()
		sets[i] = pipe.Do(ctx, "set", s.tagKey(t), fresh[i], "nx", "get", "ex", tagTTLSeconds)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		if head != nil && isNoScript(head.Err()) {
			return got, head.Err()
		}
		return got, fmt.Errorf("redisstore: get: %w", err)
	}
	if head != nil {
		ch, err := changes(head, cache.Stamp{})
		if err != nil {
			return got, err
		}
		got.Stamp = ch.Now
	}
	got.Values, got.TTLs = make([][]byte, len(keys)), make([]time.Duration, len(keys))
	for i, cmd := range gets {
		b, err := cmd.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return got, fmt.Errorf("redisstore: get: %w", err)
		default:
			got.Values[i] = b
		}
		if d, err := pttls[i].Result(); err == nil && d > 0 {
			got.TTLs[i] = d
		}
	}
	got.Versions = make(map[string]string, len(tags))
	for i, cmd := range sets {
		v, err := cmd.Text()
		switch {
		case errors.Is(err, redis.Nil):
			got.Versions[tags[i]] = fresh[i]
		case err != nil:
			return got, fmt.Errorf("redisstore: get tag: %w", err)
		default:
			got.Versions[tags[i]] = v
		}
	}
	return got, nil
}

// Versions sends one pipeline of GETs; absent tags are left out.
func (s *Store) Versions(ctx context.Context, tags []string) (versions map[string]string, err error) {
	if len(tags) == 0 {
		return map[string]string{}, nil
	}
	err = s.read(ctx, func() (err error) {
		versions, err = s.versions(ctx, tags)
		return err
	})
	return versions, full(err)
}

func (s *Store) versions(ctx context.Context, tags []string) (map[string]string, error) {
	versions := make(map[string]string, len(tags))
	pipe := s.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(tags))
	for i, t := range tags {
		cmds[i] = pipe.Get(ctx, s.tagKey(t))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: versions: %w", err)
	}
	for i, cmd := range cmds {
		v, err := cmd.Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, fmt.Errorf("redisstore: versions: %w", err)
		default:
			versions[tags[i]] = v
		}
	}
	return versions, nil
}

// Set sends one pipeline of SET key value PX ttl.
func (s *Store) Set(ctx context.Context, items []cache.Item) error {
	if len(items) == 0 {
		return nil
	}
	for _, it := range items {
		if it.TTL <= 0 {
			return fmt.Errorf("redisstore: set %q: ttl %v must be positive", it.Key, it.TTL)
		}
	}
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, it := range items {
			pipe.Do(ctx, "set", s.entryKey(it.Key), it.Value, "px", it.TTL.Milliseconds())
		}
		return nil
	})
	if err != nil {
		return full(fmt.Errorf("redisstore: set: %w", err))
	}
	return nil
}

// Bump sends one pipeline of SET tag <fresh> EX cache.TagTTL, then, once every
// version is set (on a cluster they live on several masters), appends the
// record with appendScript.
func (s *Store) Bump(ctx context.Context, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, t := range tags {
			pipe.Do(ctx, "set", s.tagKey(t), cache.NewVersion(), "ex", tagTTLSeconds)
		}
		return nil
	})
	if err != nil {
		return full(fmt.Errorf("redisstore: bump: %w", err))
	}
	err = appendScript.Run(ctx, s.client, s.log,
		cache.NewVersion(), cache.EncodeRecord(tags), cache.LogCapacity, cache.TagTTL.Milliseconds()).Err()
	if err != nil {
		return full(fmt.Errorf("redisstore: bump: log: %w", err))
	}
	return nil
}

// appendScript appends a record (ARGV[2]) to the log at KEYS (head,
// records), starting a new log with id ARGV[1] when there is none, keeps
// the last ARGV[3] records, and lets both keys live ARGV[4] ms more. A
// scripts's shebang without flags makes a replica refuse it.
var appendScript = redis.NewScript(`#!lua
if redis.call('HSETNX', KEYS[1], 'id', ARGV[1]) == 1 then redis.call('DEL', KEYS[2]) end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('ZADD', KEYS[2], n, n .. ' ' .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return n
`)

// observeScript reads the log at KEYS (head, records): it returns its id
// and count, then, when ARGV[2] is its id and ARGV[3] at most ARGV[4]
// records behind, those records (or, when ARGV[3] is -1, its last ARGV[4]
// records). A log not started yet is started with id
// ARGV[1] (living ARGV[5] ms). One command: a hit on a copy kept in
// process costs this alone.
var observeScript = redis.NewScript(`#!lua
local h = redis.call('HMGET', KEYS[1], 'id', 'n')
if not h[1] then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'id', ARGV[1], 'n', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {ARGV[1], 0}
end
local n = tonumber(h[2])
local out = {h[1], n}
if ARGV[3] == '-1' then
  for _, r in ipairs(redis.call('ZRANGE', KEYS[2], -tonumber(ARGV[4]), -1)) do
    out[#out + 1] = r
  end
elseif h[1] == ARGV[2] then
  local d = n - tonumber(ARGV[3])
  if d > 0 and d <= tonumber(ARGV[4]) then
    for _, r in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[3], n)) do
      out[#out + 1] = r
    end
  end
end
return out
`)

// Observe reads the log with observeScript, in a pipeline after GET of the
// entry when key is given.
func (s *Store) Observe(ctx context.Context, key string, since cache.Stamp) (raw []byte, ch cache.Changes, err error) {
	err = s.read(ctx, func() (err error) {
		raw, ch, err = s.observe(ctx, key, since)
		if isNoScript(err) { // a restarted or failed-over node: load it, once
			if err = observeScript.Load(ctx, s.client).Err(); err == nil {
				raw, ch, err = s.observe(ctx, key, since)
			}
		}
		return err
	})
	if err != nil {
		return nil, cache.Changes{}, full(fmt.Errorf("redisstore: observe: %w", err))
	}
	return raw, ch, nil
}

// full marks an OOM answer (maxmemory reached under a noeviction policy:
// Redis refuses every command that may write, tag reads included) as
// cache.ErrFull: Redis is up, so the breaker must not open for it.
func full(err error) error {
	if redis.HasErrorPrefix(err, "OOM") {
		return fmt.Errorf("%w: %w", cache.ErrFull, err)
	}
	return err
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

func (s *Store) observe(ctx context.Context, key string, since cache.Stamp) ([]byte, cache.Changes, error) {
	var log *redis.Cmd
	var get *redis.StringCmd
	if key == "" {
		log = observeScript.Run(ctx, s.client, s.log, s.observeArgs(since)...)
	} else {
		pipe := s.client.Pipeline()
		get = pipe.Get(ctx, s.entryKey(key))
		log = observeScript.EvalSha(ctx, pipe, s.log, s.observeArgs(since)...)
		_, _ = pipe.Exec(ctx) // each command's error is read below
	}
	var raw []byte
	if get != nil {
		b, err := get.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, cache.Changes{}, err
		default:
			raw = b
		}
	}
	ch, err := changes(log, since)
	return raw, ch, err
}

// headCmd queues in pipe the read of the log's head alone.
func (s *Store) headCmd(ctx context.Context, pipe redis.Pipeliner) *redis.Cmd {
	return observeScript.EvalSha(ctx, pipe, s.log, s.observeArgs(cache.Stamp{})...)
}

func (s *Store) observeArgs(since cache.Stamp) []any {
	return []any{cache.NewVersion(), since.Log, since.N, cache.MaxChanges, cache.TagTTL.Milliseconds()}
}

// changes reads observeScript's answer to a read since since.
func changes(log *redis.Cmd, since cache.Stamp) (cache.Changes, error) {
	v, err := log.Slice()
	if err != nil {
		return cache.Changes{}, err
	}
	if len(v) < 2 {
		return cache.Changes{}, errors.New("malformed log")
	}
	id, _ := v[0].(string)
	n, _ := v[1].(int64)
	ch := cache.Changes{Now: cache.Stamp{Log: id, N: n}}
	if since == cache.TailStamp {
		for _, m := range v[2:] {
			s, _ := m.(string)
			if r, ok := cache.ParseRecord(s); ok {
				ch.Tail = append(ch.Tail, r)
			}
		}
		return ch, nil
	}
	if d := n - since.N; since.Log == id && d >= 0 && d <= cache.MaxChanges && int64(len(v)-2) == d {
		ch.Complete = true
		for _, r := range v[2:] {
			m, _ := r.(string)
			rec, _ := cache.ParseRecord(m)
			ch.Tags = append(ch.Tags, rec.Tags...)
		}
	}
	return ch, nil
}

// AddCounters sends one pipeline: HINCRBY per counter, then EXPIRE on the
// hash so counters of an abandoned prefix go away.
func (s *Store) AddCounters(ctx context.Context, deltas map[string]int64) error {
	if len(deltas) == 0 {
		return nil
	}
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for name, d := range deltas {
			pipe.HIncrBy(ctx, s.statsKey(), name, d)
		}
		pipe.Expire(ctx, s.statsKey(), statsTTL)
		return nil
	})
	if err != nil {
		return full(fmt.Errorf("redisstore: add counters: %w", err))
	}
	return nil
}

// Counters reads the shared counters with HGETALL.
func (s *Store) Counters(ctx context.Context) (map[string]int64, error) {
	m, err := s.client.HGetAll(ctx, s.statsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: counters: %w", err)
	}
	counters := make(map[string]int64, len(m))
	for k, v := range m {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redisstore: counter %q: %w", k, err)
		}
		counters[k] = n
	}
	return counters, nil
}

// Keys returns DBSIZE: every key of the Redis database, not only this
// prefix's (a cluster client sums the masters). Counting only the prefix
// would need SCAN, which a request path must not run.
func (s *Store) Keys(ctx context.Context) (int64, error) {
	n, err := s.client.DBSize(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: dbsize: %w", err)
	}
	return n, nil
}

// Info reads INFO stats, memory and clients (on a cluster, of one node).
func (s *Store) Info(ctx context.Context) (*cache.Info, error) {
	text, err := s.client.Info(ctx, "stats", "memory", "clients").Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: info: %w", err)
	}
	return parseInfo(text), nil
}

// parseInfo picks the figures Info reports out of INFO text; missing or
// malformed fields are left at zero.
func parseInfo(text string) *cache.Info {
	info := &cache.Info{}
	fields := map[string]*int64{
		"keyspace_hits":     &info.KeyspaceHits,
		"keyspace_misses":   &info.KeyspaceMisses,
		"used_memory":       &info.UsedMemoryBytes,
		"connected_clients": &info.ConnectedClients,
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if p, want := fields[name]; ok && want {
			if n, err := strconv.ParseInt(value, 10, 64); err == nil {
				*p = n
			}
		}
	}
	return info
}

// Ping checks the connection.
//
// On a cluster it pings every master, so that each has run the epoch check
// of a connection before the store writes an entry anywhere: a master first
// met later (its epoch not yet recorded under the prefix) would clear
// every entry written meanwhile.
func (s *Store) Ping(ctx context.Context) error {
	var err error
	if c, ok := s.client.(*redis.ClusterClient); ok {
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return node.Ping(ctx).Err()
		})
	} else {
		err = s.client.Ping(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the client.
func (s *Store) Close() error { return s.client.Close() }

// Open returns a Store under prefix (for example "kp:v1:"; change the
// version part when the entry format changes) on the Redis at url:
//
//	redis://[user:pass@]host:port/db, rediss://...      a single node
//	redis-cluster://host:port?addr=host2:port2&addr=...  a cluster (rediss-cluster:// for TLS)
//	redis-sentinel://host:port?master_name=mymaster&addr=host2:port2  Sentinel (rediss-sentinel:// for TLS)
//
// Query parameters are go-redis's option names in snake case (dial_timeout,
// max_retries, ...). Redis is not contacted; call Ping to check it.
//
// Every command's context bounds it: its socket reads and writes, its
// retries, the wait for a pooled connection and the set-up of a new one
// (go-redis dials in the background, each attempt within dial_timeout, and
// hands the connection to whichever caller still wants it). So the Cache's
// Options.Timeout bounds each store call; read_timeout and write_timeout
// (default 5s) only bound calls without a deadline.
//
// Every new connection runs the epoch check (epoch.go) for prefix before
// its first command (so the Redis user needs INFO and GETEX, and on a
// cluster CLUSTER NODES), and refuses to serve if the node is a replica;
// the options that read from replicas are refused.
func Open(rawURL, prefix string) (*Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("redisstore: url %q: missing scheme", RedactURL(rawURL))
	}
	fail := func(err error) (*Store, error) {
		return nil, fmt.Errorf("redisstore: url %q: %w", RedactURL(rawURL), err)
	}
	h := &connectHook{prefix: prefix}
	var client redis.UniversalClient
	switch scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return fail(err)
		}
		o.ContextTimeoutEnabled, o.OnConnect = true, h.onConnect
		client = redis.NewClient(o)
	case "redis-cluster", "rediss-cluster":
		o, err := redis.ParseClusterURL(strings.TrimSuffix(scheme, "-cluster") + "://" + rest)
		if err != nil {
			return fail(err)
		}
		if o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
			return fail(errReplicaReads)
		}
		h.cluster = o
		o.ContextTimeoutEnabled, o.OnConnect = true, h.onConnect
		client = redis.NewClusterClient(o)
	case "redis-sentinel", "rediss-sentinel":
		o, err := redis.ParseFailoverURL(strings.TrimSuffix(scheme, "-sentinel") + "://" + rest)
		if err != nil {
			return fail(err)
		}
		if o.MasterName == "" {
			return fail(errors.New("master_name is required for sentinel"))
		}
		if o.ReplicaOnly || o.UseDisconnectedReplicas || o.RouteByLatency || o.RouteRandomly {
			return fail(errReplicaReads)
		}
		o.ContextTimeoutEnabled, o.OnConnect = true, h.onConnect
		client = redis.NewFailoverClient(o)
	default:
		return nil, fmt.Errorf("redisstore: url %q: unknown scheme %q", RedactURL(rawURL), scheme)
	}
	head, records := logKeys(prefix)
	return &Store{client: client, prefix: prefix, log: []string{head, records}, hook: h}, nil
}

// errReplicaReads refuses the options that send reads to replicas, which
// lag their master: a replica could serve an entry its master has already
// invalidated.
var errReplicaReads = errors.New("reads from replicas (read_only, replica_only, route_by_latency, route_randomly, use_disconnected_replicas) would serve invalidated entries")

// RedactURL hides a password in a Redis URL, so it can go into an error
// or a log.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
