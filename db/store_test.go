package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, url, dialect string
		file               string // created on disk, when not ""
	}{
		{"sqlite memory", "sqlite::memory:", db.DialectSQLite, ""},
		{"sqlite prefix", "sqlite:" + filepath.Join(dir, "a", "b", "kp.db"), db.DialectSQLite, filepath.Join(dir, "a", "b", "kp.db")},
		{"sqlite file URI", "file:" + filepath.Join(dir, "c", "kp.db") + "?cache=private", db.DialectSQLite, filepath.Join(dir, "c", "kp.db")},
		{"plain path", filepath.Join(dir, "d", "e", "kp.db"), db.DialectSQLite, filepath.Join(dir, "d", "e", "kp.db")},
		{"postgres", "", db.DialectPostgres, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			url := tt.url
			if tt.dialect == db.DialectPostgres {
				url = dbtest.PostgresURL(t)
			}
			s, _ := dbtest.OpenURL(t, url)
			if s.Dialect() != tt.dialect {
				t.Fatalf("Dialect() = %q, want %q", s.Dialect(), tt.dialect)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			// Many statements on a memory database must see one database.
			for range 3 {
				mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
			}
			if all, err := s.ListDestinations(ctx); err != nil || len(all) != 3 {
				t.Fatalf("ListDestinations = %d, %v", len(all), err)
			}
			if tt.file != "" {
				if _, err := os.Stat(tt.file); err != nil {
					t.Fatal(err)
				}
			}
			if s.Dialect() == db.DialectSQLite {
				var fk, busy int
				var journal string
				if err := s.DB.NewRaw("PRAGMA foreign_keys").Scan(ctx, &fk); err != nil || fk != 1 {
					t.Fatalf("foreign_keys = %d, %v", fk, err)
				}
				if err := s.DB.NewRaw("PRAGMA busy_timeout").Scan(ctx, &busy); err != nil || busy != 5000 {
					t.Fatalf("busy_timeout = %d, %v", busy, err)
				}
				if err := s.DB.NewRaw("PRAGMA journal_mode").Scan(ctx, &journal); err != nil ||
					(tt.file != "" && journal != "wal") {
					t.Fatalf("journal_mode = %q, %v", journal, err)
				}
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		if _, err := db.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable"); err == nil {
			t.Fatal("Open of a closed port succeeded")
		}
	})
}

// openWith opens url with pool and closes it when t ends.
func openWith(t *testing.T, url string, pool db.PoolOptions) *db.Store {
	t.Helper()
	s, err := db.OpenWith(context.Background(), url, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenWithPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name     string
		url      string // "" for a fresh PostgreSQL database
		pool     db.PoolOptions
		wantOpen int
	}{
		{"postgres default", "", db.DefaultPool, 16},
		{"postgres capped", "", db.PoolOptions{MaxOpenConns: 3}, 3},
		{"sqlite file default", filepath.Join(dir, "a.db"), db.DefaultPool, 8},
		{"sqlite file capped", filepath.Join(dir, "b.db"), db.PoolOptions{MaxOpenConns: 2, ConnMaxLifetime: time.Minute}, 2},
		{"sqlite memory keeps one", "sqlite::memory:", db.PoolOptions{MaxOpenConns: 4}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if url == "" {
				url = dbtest.PostgresURL(t)
			}
			s := openWith(t, url, tt.pool)
			if got := s.DB.Stats().MaxOpenConnections; got != tt.wantOpen {
				t.Fatalf("MaxOpenConnections = %d, want %d", got, tt.wantOpen)
			}
		})
	}
	t.Run("Open is OpenWith DefaultPool", func(t *testing.T) {
		s, _ := dbtest.OpenURL(t, filepath.Join(dir, "c.db"))
		if got := s.DB.Stats().MaxOpenConnections; got != 8 {
			t.Fatalf("MaxOpenConnections = %d, want 8", got)
		}
	})
	t.Run("negative", func(t *testing.T) {
		if _, err := db.OpenWith(context.Background(), filepath.Join(dir, "d.db"), db.PoolOptions{MaxOpenConns: -1}); err == nil {
			t.Fatal("OpenWith accepted MaxOpenConns -1")
		}
	})
}

// TestPoolCap runs 6 queries at once on a pool of 2 PostgreSQL
// connections, each blocked on an advisory lock another session holds: the
// server never sees more than 2 connections of the pool, and a query whose
// deadline passes while it waits for a connection fails as unavailable.
func TestPoolCap(t *testing.T) {
	t.Parallel()
	const queries, capped, app = 6, 2, "kp_pool_test"
	ctx := context.Background()
	url := dbtest.PostgresURL(t)
	s := openWith(t, url+"&application_name="+app, db.PoolOptions{MaxOpenConns: capped})
	holderStore, _ := dbtest.OpenURL(t, url)
	holder, err := holderStore.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock(42)"); err != nil {
		t.Fatal(err)
	}
	unlocked := false
	unlock := func() {
		if !unlocked {
			unlocked = true
			if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock(42)"); err != nil {
				t.Error(err)
			}
		}
	}
	defer unlock()

	// server counts the pool's sessions and those of them waiting for the lock.
	maxSeen := 0
	server := func() (sessions, blocked int) {
		t.Helper()
		err := holder.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock')
			FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?`, app).Scan(&sessions, &blocked)
		if err != nil {
			t.Fatal(err)
		}
		maxSeen = max(maxSeen, sessions)
		return sessions, blocked
	}

	errs := make(chan error, queries)
	for range queries {
		go func() {
			_, err := s.DB.ExecContext(ctx, "SELECT pg_advisory_xact_lock_shared(42)")
			errs <- err
		}()
	}
	// Wait until the pool is full and every other query waits for it.
	for i := 0; ; i++ {
		sessions, blocked := server()
		if sessions > capped {
			t.Fatalf("%d sessions of a pool of %d", sessions, capped)
		}
		if blocked == capped && s.DB.Stats().WaitCount >= queries-capped {
			break
		}
		if i == 3000 {
			t.Fatalf("pool never filled: %d blocked, stats %+v", blocked, s.DB.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = s.FindDestinationBySlug(short, "pantai-cenang")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !db.IsUnavailable(err) {
		t.Fatalf("query waiting for a connection past its deadline: %v, want unavailable", err)
	}

	unlock()
	for range queries {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		server()
	}
	if maxSeen != capped {
		t.Fatalf("at most %d sessions of the pool seen, want %d", maxSeen, capped)
	}
}
