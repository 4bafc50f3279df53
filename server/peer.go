package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache/redisstore"
	"github.com/kedahpulse/kedahpulse/db"
)

// Cache peers: every server process registers the cache it uses in the
// shared database, so that processes whose caches do not share
// invalidations (two in-process caches, or Redis with different prefixes
// or databases) cannot serve the same database: the second one refuses to
// start and says what to configure. The registration is also the
// process's lease on the cache (outbox.Lease, renewed by
// startBackground); one dropped while this process was stopped or cut off
// is taken again only if no conflicting process has joined meanwhile, and
// until then this process reads from the database.

// peerWait is how long a start waits for a conflicting peer to expire (it
// may be a process that crashed without leaving), beyond CACHE_LEASE.
var peerWait = time.Second

// memoryIdentity names this process's in-process cache, which it shares
// with no one.
func memoryIdentity() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s%s:%d", db.MemoryCachePrefix, host, os.Getpid())
}

// redisIdentity names the Redis cache rs really uses: the logical database
// of its opened client (whatever the URL's form: redis://…/1,
// redis-sentinel://…/1?master_name=m; a cluster has database 0 only) and
// its prefix. Not the address, which differs between processes that reach
// one Redis by different routes (a proxy, a DNS name); pointing processes
// at different Redis deployments is not detected.
func redisIdentity(rs *redisstore.Store) string {
	database := 0
	if c, ok := rs.Client().(*redis.Client); ok { // a single node, or Sentinel's failover client
		database = c.Options().DB
	}
	return "redis:db=" + strconv.Itoa(database) + ":prefix=" + rs.Prefix()
}

// joinCache registers this process as a peer. A conflict with a peer that
// may be a crashed process (its row lives until CACHE_LEASE has passed) is
// retried until that has passed; then the conflict is reported.
func (a *app) joinCache(ctx context.Context) error {
	deadline := time.Now().Add(a.cfg.Cache.Lease + peerWait)
	for {
		err := a.lease.Join(ctx)
		if !errors.Is(err, db.ErrCacheConflict) || time.Now().After(deadline) {
			if errors.Is(err, db.ErrCacheConflict) {
				return fmt.Errorf("%w\nEvery server process sharing DATABASE_URL must share its cache: set the same REDIS_URL (with the same database number) and CACHE_PREFIX on each (the in-process cache serves one process only)", err)
			}
			return err
		}
		a.log.Warn("another live process uses this database with another cache; waiting in case it has exited", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
