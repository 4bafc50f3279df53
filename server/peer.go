package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// Cache peers: every server process registers the cache it uses in the
// shared database, so that processes whose caches do not share
// invalidations (two in-process caches, or Redis with different prefixes
// or servers) cannot serve the same database: the second one refuses to
// start and says what to configure.
const (
	peerTTL       = 15 * time.Second // a peer that has not beaten for this long is gone
	peerHeartbeat = 5 * time.Second
)

// peerWait is how long a start waits for a conflicting peer to expire (it
// may be a process that crashed without leaving).
var peerWait = peerTTL + time.Second

// cacheIdentity names the cache of cfg: processes share invalidations
// when their identities are equal. For Redis that is the logical database
// and CACHE_PREFIX, not the address, which differs between processes that
// reach one Redis by different routes (a proxy, a DNS name); pointing
// processes at different Redis deployments is not detected.
func cacheIdentity(cfg config) string {
	if cfg.Cache.RedisURL == "" {
		host, _ := os.Hostname()
		return fmt.Sprintf("%s%s:%d", db.MemoryCachePrefix, host, os.Getpid())
	}
	database := "0"
	if u, err := url.Parse(cfg.Cache.RedisURL); err == nil && !strings.HasPrefix(u.Scheme, "redis-") {
		if n := strings.Trim(u.Path, "/"); n != "" {
			database = n
		}
	}
	return "redis:db=" + database + ":prefix=" + cfg.Cache.Prefix
}

// joinCache registers this process as a peer. A conflict with a peer that
// may be a crashed process (its row lives until peerTTL) is retried until
// that has passed; then the conflict is reported.
func (a *app) joinCache(ctx context.Context) (db.Peer, error) {
	identity := cacheIdentity(a.cfg)
	deadline := time.Now().Add(peerWait)
	for {
		p, err := a.store.JoinCache(ctx, identity, peerTTL)
		if !errors.Is(err, db.ErrCacheConflict) || time.Now().After(deadline) {
			if errors.Is(err, db.ErrCacheConflict) {
				return p, fmt.Errorf("%w\nEvery server process sharing DATABASE_URL must share its cache: set the same REDIS_URL and CACHE_PREFIX on each (the in-process cache serves one process only)", err)
			}
			return p, err
		}
		a.log.Warn("another live process uses this database with another cache; waiting in case it has exited", "err", err)
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// heartbeat keeps p live until ctx is done.
func (a *app) heartbeat(ctx context.Context, p db.Peer) {
	t := time.NewTicker(peerHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.store.Heartbeat(ctx, p); err != nil && ctx.Err() == nil {
				a.log.Warn("cache peer heartbeat failed", "err", err)
			}
		}
	}
}
