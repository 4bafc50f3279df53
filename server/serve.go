package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kedahpulse/kedahpulse/server/alert"
)

// maxHeaderBytes bounds a request's line and headers; a GraphQL query sent
// by GET is in the line, and stays far below it.
const maxHeaderBytes = 64 << 10

// serve runs the server until ctx is done, then shuts down in order: the
// scraper's cron (waiting for a running job), the HTTP server (letting
// in-flight requests finish), the outbox relay (one last delivery), the
// cache counters, and the database. listening, if set, is told the bound
// address.
func serve(ctx context.Context, cfg config, log *slog.Logger, listening func(net.Addr)) error {
	if cfg.HTTP.AdminToken == "" {
		cfg.HTTP.AdminToken = newAdminToken()
		log.Warn("ADMIN_TOKEN not set; generated one for this run (send it as 'Authorization: Bearer <token>')", "admin_token", cfg.HTTP.AdminToken)
	} else {
		log.Info("admin token from ADMIN_TOKEN (not logged; with docker compose it is the ADMIN_TOKEN of .env)")
	}
	a, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.seedIfAsked(ctx); err != nil {
		return err
	}
	if err := a.joinCache(ctx); err != nil {
		return err
	}
	defer a.lease.Release(context.WithoutCancel(ctx))
	// Take the lease: writes whose invalidation a previous process could
	// not deliver (Redis down, or killed between commit and invalidation)
	// are in the outbox, and are delivered first. Until that succeeds
	// (Renew logs why not), reads are served from the database.
	a.lease.Renew(ctx, a.outbox)

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("ADDR %s: %w", cfg.HTTP.Addr, err)
	}
	// Every connection costs a file descriptor, whatever the client: the
	// limit closes silent and idle ones for new ones, and the timeouts close
	// those that stay silent, idle or dribble.
	limit := newConnLimit(cfg.HTTP.MaxConnections, cfg.HTTP.ConnectionGrace, a.registry)
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         limit.track,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.board.Close) // ends the dashboard's event streams
	srv.RegisterOnShutdown(a.live.Close)  // ends the live queries' streams
	if cfg.HTTP.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.HTTP.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	wg := a.startBackground(bg)
	stopCron, err := a.scraper.Start(cfg.Scrape.Schedule)
	if err != nil {
		stopBG()
		return err
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(limit.listen(ln)) }()
	backend := "memory"
	switch {
	case a.cacheDown:
		backend = "redis-unreachable" // not a healthy cache=redis: the WARN above says why
	case a.redis != nil:
		backend = "redis"
	}
	log.Info("Kedah Pulse is up; open the Playground", "url", "http://"+ln.Addr().String()+"/",
		"database", a.store.Dialect(), "cache", backend, "scrape_schedule", cfg.Scrape.Schedule, "feeds", len(cfg.Scrape.Feeds), "limits", cfg.GraphQL.Limits.WithDefaults().String())
	if listening != nil {
		listening(ln.Addr())
	}

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := stopCron(shutdown); err != nil {
		log.Warn("scraper did not stop cleanly", "err", err)
	}
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	stopBG()
	wg.Wait()
	if n, err := a.outbox.Drain(shutdown); err != nil {
		log.Warn("pending invalidations stay in the outbox for the next start", "err", err)
	} else if n > 0 {
		log.Info("delivered pending invalidations", "rows", n)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// startBackground starts the work that runs beside the HTTP server until
// bg is done: the cache's counters, the outbox relay, the cache lease,
// the dashboard's sampler, the alerts, and the CDN purger and the warmer
// when they are on.
func (a *app) startBackground(bg context.Context) *sync.WaitGroup {
	wg := new(sync.WaitGroup)
	wg.Go(func() { a.cache.Run(bg) })
	wg.Go(func() { a.outbox.Run(bg, 2*time.Second) })
	wg.Go(func() { a.lease.Run(bg, a.outbox, a.cfg.Cache.Lease/5) })
	wg.Go(func() { a.board.Run(bg) })
	alerts := alert.New(a.cfg.Alert, a.registry, a.log, time.Now)
	wg.Go(func() { alerts.Run(bg) })
	if a.purger != nil {
		wg.Go(func() { a.purger.run(bg) })
	}
	if a.warmer != nil {
		wg.Go(func() { a.warmer.Run(bg) })
	}
	wg.Go(func() { a.live.Run(bg) })
	return wg
}

// newAdminToken is a random token for a server started without
// ADMIN_TOKEN.
func newAdminToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
