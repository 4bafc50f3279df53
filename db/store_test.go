package db_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
			s := dbtest.OpenURL(t, url)
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
