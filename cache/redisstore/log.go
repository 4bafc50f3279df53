package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Logger is go-redis's logger (pass it to redis.SetLogger) writing each
// of its lines to log as a Warn record, so they take the program's format
// (JSON lines under a JSON handler) instead of go-redis's own plain text
// on stderr. go-redis only logs faults (a dial that failed, a sentinel not
// answering), each of which a store call also reports.
type Logger struct{ log *slog.Logger }

// NewLogger returns a Logger writing to log.
func NewLogger(log *slog.Logger) Logger { return Logger{log: log} }

// Printf writes one line.
func (l Logger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	l.log.WarnContext(ctx, "redis: "+msg, "source", "go-redis")
}
