package db_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"deadline", fmt.Errorf("db: find: %w", context.DeadlineExceeded), true},
		{"EOF", fmt.Errorf("db: find: %w", io.EOF), true},
		{"not found", fmt.Errorf("db: find: %w", db.ErrNotFound), false},
		{"input", db.Invalid("city", "bad"), false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := db.IsUnavailable(tt.err); got != tt.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestUnavailablePostgres raises real PostgreSQL errors by SQLSTATE: out of
// resources (class 53) and shutting down or starting up (57P01..57P03) are
// unavailable, a bad query or bad data is not.
func TestUnavailablePostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := dbtest.Open(t, "postgres")
	codes := []struct {
		sqlstate string
		want     bool
	}{
		{"53000", true}, // insufficient_resources
		{"53100", true}, // disk_full
		{"53200", true}, // out_of_memory
		{"53300", true}, // too_many_connections
		{"57P01", true}, // admin_shutdown
		{"57P02", true}, // crash_shutdown
		{"57P03", true}, // cannot_connect_now
		{"23505", false},
		{"22P02", false},
		{"42601", false},
		{"57014", false}, // query_canceled
		{"P0001", false},
	}
	for _, c := range codes {
		_, err := s.DB.ExecContext(ctx, "DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '"+c.sqlstate+"'; END $$")
		if err == nil || !strings.Contains(err.Error(), c.sqlstate) {
			t.Fatalf("RAISE %s: %v", c.sqlstate, err)
		}
		if got := db.IsUnavailable(fmt.Errorf("db: x: %w", err)); got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", err, got, c.want)
		}
	}

	t.Run("terminated session", func(t *testing.T) {
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var pid int
		if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.ExecContext(ctx, "SELECT pg_terminate_backend(?, 10000)", pid); err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(ctx, "SELECT 1")
		if err == nil || !db.IsUnavailable(err) {
			t.Fatalf("query on a terminated session: %v, want unavailable", err)
		}
	})

	t.Run("too many connections", func(t *testing.T) {
		// A role allowed no connection (superusers ignore the limits).
		var b [6]byte
		rand.Read(b[:])
		role := "kp_test_role_" + hex.EncodeToString(b[:])
		if _, err := s.DB.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT 0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := s.DB.ExecContext(context.Background(), "DROP ROLE "+role); err != nil {
				t.Error(err)
			}
		})
		u, err := url.Parse(dbtest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(role)
		_, err = db.Open(ctx, u.String())
		if err == nil || !strings.Contains(err.Error(), "53300") || !db.IsUnavailable(err) {
			t.Fatalf("Open as a role over its connection limit: %v, want unavailable 53300", err)
		}
	})
}

// TestUnavailableSQLite makes SQLite busy, locked and full for real.
func TestUnavailableSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "test.db")
	// One connection, so that a PRAGMA set on it holds for every query.
	s := openWith(t, dsn, db.PoolOptions{MaxOpenConns: 1})
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	in := db.DestinationInput{Name: "Pantai Cenang", City: "Langkawi", Category: db.CategoryBeach}

	t.Run("busy", func(t *testing.T) {
		holder, _ := dbtest.OpenURL(t, dsn)
		tx, err := holder.DB.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := s.DB.ExecContext(ctx, "PRAGMA busy_timeout = 20"); err != nil {
			t.Fatal(err)
		}
		defer s.DB.ExecContext(ctx, "PRAGMA busy_timeout = 5000")
		_, _, err = s.CreateDestination(ctx, in)
		if err == nil || !db.IsUnavailable(err) {
			t.Fatalf("write while another connection writes: %v, want unavailable", err)
		}
	})

	t.Run("locked", func(t *testing.T) {
		// Dropping a table that a statement of the same connection is still
		// reading is SQLITE_LOCKED.
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{"CREATE TABLE scratch (x INTEGER)", "INSERT INTO scratch VALUES (1), (2)"} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := conn.QueryContext(ctx, "SELECT x FROM scratch")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		rows.Next()
		_, err = conn.ExecContext(ctx, "DROP TABLE scratch")
		if err == nil || !db.IsUnavailable(err) {
			t.Fatalf("drop of a table being read: %v, want unavailable", err)
		}
	})

	t.Run("full", func(t *testing.T) {
		var pages int
		if err := s.DB.NewRaw("PRAGMA page_count").Scan(ctx, &pages); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+1)); err != nil {
			t.Fatal(err)
		}
		defer s.DB.ExecContext(ctx, "PRAGMA max_page_count = 1073741823")
		var err error
		for i := 0; err == nil; i++ {
			if i == 100 {
				t.Fatal("the database never filled")
			}
			_, _, err = s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Location: "Kuah",
				Description: strings.Repeat("x", db.MaxDescription)})
		}
		if !db.IsUnavailable(err) {
			t.Fatalf("write to a full database: %v, want unavailable", err)
		}
	})
}
