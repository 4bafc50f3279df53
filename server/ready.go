package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// readiness answers /readyz. A dead database makes the server unready
// (503); a dead cache only degrades it (200), since every request is still
// answered from the database. The body names a state per component, never
// the error behind it: that names internal addresses and drivers, and goes
// to the log.
//
// /readyz is public: it answers from a result at most readyMaxAge old, so
// that a client polling it as fast as it can costs one database ping and
// one cache command a second, not one per request. Requests arriving while
// a check runs wait for it.
type readiness struct {
	log             *slog.Logger
	database, cache probe
	now             func() time.Time

	mu     sync.Mutex // held while a check runs
	status map[string]string
	taken  time.Time // when status was checked
	checks int       // checks run
}

// readyMaxAge is how old an answer of /readyz may be.
const readyMaxAge = time.Second

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := rd.result(r.Context())
	code := http.StatusOK
	if status["database"] != "ok" {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}

// result returns the last check's states if at most readyMaxAge old, or
// checks again. The check is the server's, not the client's: a client that
// leaves does not cut it short.
func (rd *readiness) result(ctx context.Context) map[string]string {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.status != nil && rd.now().Sub(rd.taken) < readyMaxAge {
		return rd.status
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	rd.status = map[string]string{"database": rd.database.check(ctx, rd.log), "cache": rd.cache.check(ctx, rd.log)}
	rd.taken = rd.now()
	rd.checks++
	return rd.status
}

// probe is one component of the readiness answer.
type probe struct {
	name   string // "database"
	failed string // its state when the ping fails: "down" or "degraded"
	ping   func(context.Context) error

	mu   sync.Mutex
	last string // the error of the last ping, "" if it succeeded
}

// check pings and returns "ok" or p.failed. It logs an error only when it
// differs from the last one, so that clients polling during an outage do
// not fill the log.
func (p *probe) check(ctx context.Context, log *slog.Logger) string {
	err := p.ping(ctx)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	p.mu.Lock()
	changed := msg != p.last
	p.last = msg
	p.mu.Unlock()
	switch {
	case err != nil && changed:
		log.Warn("readiness: "+p.name+" "+p.failed, "err", err)
	case err == nil && changed:
		log.Info("readiness: " + p.name + " ok again")
	}
	if err != nil {
		return p.failed
	}
	return "ok"
}
