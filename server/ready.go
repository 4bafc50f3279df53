package main

import (
	"context"
	"encoding/json"
	"errors"
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
type readiness struct {
	log             *slog.Logger
	database, cache probe
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := map[string]string{"database": rd.database.check(ctx, rd.log), "cache": rd.cache.check(ctx, rd.log)}
	code := http.StatusOK
	if status["database"] != "ok" {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
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
	if errors.Is(ctx.Err(), context.Canceled) { // the client left: no news of the component
		return p.failed
	}
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
