package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/robfig/cron/v3"
)

// Start runs s on schedule, a standard five-field cron spec or a
// descriptor such as "@hourly" or "@every 15m" (SCRAPE_SCHEDULE); "" or
// "off" schedules nothing and returns a stop that does nothing. Each tick
// runs with Config.Timeout under a context that stop cancels; a tick that
// fires while the previous one still runs is skipped, and a panic in one is
// logged and recovered.
//
// stop cancels the run in progress, if any (it is recorded FAILED with the
// posts it stored so far), waits for it to end and stops the scheduler. It
// returns ctx's error if ctx ends first.
func (s *Scraper) Start(schedule string) (stop func(ctx context.Context) error, err error) {
	schedule = strings.TrimSpace(schedule)
	if schedule == "" || strings.EqualFold(schedule, "off") {
		return func(context.Context) error { return nil }, nil
	}
	if _, err := cron.ParseStandard(schedule); err != nil {
		return nil, fmt.Errorf("scrape: SCRAPE_SCHEDULE %q is not a cron schedule (want e.g. \"*/15 * * * *\", \"@hourly\" or \"off\"): %w", schedule, err)
	}
	logger := cronLogger{s.log}
	c := cron.New(cron.WithLogger(logger), cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	base, cancel := context.WithCancel(context.Background())
	if _, err := c.AddFunc(schedule, func() { s.runTick(base) }); err != nil {
		cancel()
		return nil, fmt.Errorf("scrape: SCRAPE_SCHEDULE %q: %w", schedule, err)
	}
	c.Start()
	s.log.Info("scrape scheduled", "schedule", schedule, "feeds", len(s.cfg.Feeds), "locked", s.locker != nil)
	return func(ctx context.Context) error {
		cancel()
		select {
		case <-c.Stop().Done():
			return nil
		case <-ctx.Done():
			return fmt.Errorf("scrape: stop: %w", ctx.Err())
		}
	}, nil
}

// runTick is the cron job: one tick, bounded by Config.Timeout, logged.
func (s *Scraper) runTick(base context.Context) {
	ctx, cancel := context.WithTimeout(base, s.cfg.Timeout)
	defer cancel()
	at := s.now()
	_, err := s.tick(ctx, at)
	switch {
	case err == nil:
	case errors.Is(err, errTickClaimed), errors.Is(err, errInProgress), errors.Is(err, ErrBusy):
		s.log.InfoContext(ctx, "scrape tick skipped", "tick", at, "reason", err)
	default:
		s.log.ErrorContext(ctx, "scrape tick failed", "tick", at, "err", err)
	}
}

// cronLogger adapts slog to cron.Logger. cron's routine messages (start,
// schedule, wake, run, stop) are debug; its skips are info.
type cronLogger struct{ log *slog.Logger }

var _ cron.Logger = cronLogger{}

func (l cronLogger) Info(msg string, keysAndValues ...any) {
	level := slog.LevelDebug
	if msg == "skip" {
		level = slog.LevelInfo
	}
	l.log.Log(context.Background(), level, "cron: "+msg, keysAndValues...)
}

func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.log.Error("cron: "+msg, append(keysAndValues, "err", err)...)
}
