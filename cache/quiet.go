package cache

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultRepeatInterval is how often a Cache logs the same fault when its
// Options do not say otherwise.
const DefaultRepeatInterval = 10 * time.Second

// quietKeys bounds the messages a quiet handler remembers; past it, those
// not seen for an interval are forgotten, then all of them.
const quietKeys = 1024

// QuietHandler returns a handler that passes records to h, except that a
// record at Warn or above whose level and message h was passed less than
// every ago (by the records' times) is only counted: the next one passed
// carries that count as the attribute "repeated". A store that fails on
// every request thus writes one line per message per interval, not one
// per request. Records below Warn pass untouched; handlers derived with
// WithAttrs and WithGroup share the counts.
func QuietHandler(h slog.Handler, every time.Duration) slog.Handler {
	return &quietHandler{next: h, every: every, seen: &quietSeen{last: map[quietKey]*quietEntry{}}}
}

type quietHandler struct {
	next  slog.Handler
	every time.Duration
	seen  *quietSeen
}

type quietKey struct {
	level slog.Level
	msg   string
}

type quietEntry struct {
	at       time.Time // when the last record passed
	repeated int64     // records counted since
}

type quietSeen struct {
	mu   sync.Mutex
	last map[quietKey]*quietEntry
}

func (q *quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return q.next.Enabled(ctx, l)
}

func (q *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return q.next.Handle(ctx, r)
	}
	repeated, pass := q.seen.admit(quietKey{r.Level, r.Message}, r.Time, q.every)
	if !pass {
		return nil
	}
	if repeated > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int64("repeated", repeated))
	}
	return q.next.Handle(ctx, r)
}

// admit reports whether a record of k at time at passes, and how many
// were counted since the last one that did.
func (s *quietSeen) admit(k quietKey, at time.Time, every time.Duration) (repeated int64, pass bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.last[k]
	if ok && at.Sub(e.at) < every {
		e.repeated++
		return 0, false
	}
	if !ok {
		s.forget(at, every)
		e = &quietEntry{}
		s.last[k] = e
	}
	repeated, e.at, e.repeated = e.repeated, at, 0
	return repeated, true
}

// forget makes room for a new message: it drops those not seen for an
// interval, then, if there are still too many, all of them.
func (s *quietSeen) forget(at time.Time, every time.Duration) {
	if len(s.last) < quietKeys {
		return
	}
	for k, e := range s.last {
		if at.Sub(e.at) >= every {
			delete(s.last, k)
		}
	}
	if len(s.last) >= quietKeys {
		clear(s.last)
	}
}

func (q *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietHandler{next: q.next.WithAttrs(attrs), every: q.every, seen: q.seen}
}

func (q *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{next: q.next.WithGroup(name), every: q.every, seen: q.seen}
}
