package main

import (
	"io"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

// newLogger is the program's logger: LOG_LEVEL and LOG_FORMAT on w.
func newLogger(c logConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// routeRedisLog sends go-redis's own log lines through the program's
// logger (so LOG_FORMAT=json gives JSON lines only), at most one line per
// message per LOG_REPEAT_INTERVAL. go-redis's logger is global: main sets
// it once, before any client exists (tests running serve in process keep
// go-redis's default). With an invalid log configuration it does nothing:
// run reports the error.
func routeRedisLog(getenv func(string) string, w io.Writer) {
	c, err := loadLog(getenv)
	if err != nil {
		return
	}
	h := newLogger(c, w).Handler()
	if c.RepeatInterval > 0 {
		h = cache.QuietHandler(h, c.RepeatInterval)
	}
	redis.SetLogger(redisstore.NewLogger(slog.New(h)))
}
