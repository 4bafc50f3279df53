package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// StartScrapeRun records a RUNNING scrape run started now.
func (s *Store) StartScrapeRun(ctx context.Context) (*ScrapeRun, error) {
	run := &ScrapeRun{StartedAt: s.now(), Status: RunRunning, InvalidatedTags: []string{}}
	if _, err := s.DB.NewInsert().Model(run).Exec(ctx); err != nil {
		return nil, fmt.Errorf("db: start scrape run: %w", err)
	}
	return run, nil
}

// FinishScrapeRun writes run's status, counts, error and invalidated tags,
// and its FinishedAt (now when nil). A run still RUNNING (or without a
// status) is finished as FAILED when it has an Error, else SUCCEEDED.
func (s *Store) FinishScrapeRun(ctx context.Context, run *ScrapeRun) error {
	if run == nil {
		return errors.New("db: finish scrape run: nil run")
	}
	switch run.Status {
	case RunSucceeded, RunFailed:
	case "", RunRunning:
		run.Status = RunSucceeded
		if run.Error != nil {
			run.Status = RunFailed
		}
	default:
		return Invalid("status", "unknown scrape run status %q", run.Status)
	}
	if run.FinishedAt == nil {
		now := s.now()
		run.FinishedAt = &now
	}
	if run.InvalidatedTags == nil {
		run.InvalidatedTags = []string{}
	}
	res, err := s.DB.NewUpdate().Model(run).
		Column("finished_at", "status", "posts_fetched", "posts_stored", "invalidated_tags", "error").
		WherePK().Exec(ctx)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("db: finish scrape run %d: %w", run.ID, err)
	}
	return nil
}

// FindScrapeRuns returns the last scrape runs, newest first.
func (s *Store) FindScrapeRuns(ctx context.Context, last int) ([]*ScrapeRun, error) {
	runs := []*ScrapeRun{}
	if last <= 0 {
		return runs, nil
	}
	if err := s.DB.NewSelect().Model(&runs).OrderExpr("started_at DESC, id DESC").Limit(int64(last)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: find scrape runs: %w", err)
	}
	return runs, nil
}

// affectedOne turns an UPDATE or DELETE that matched no row into ErrNotFound.
func affectedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
