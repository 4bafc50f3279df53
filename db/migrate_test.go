package db_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, s, "bun_migrations"); n != db.MigrationCount() {
			t.Fatalf("bun_migrations rows = %d, want %d", n, db.MigrationCount())
		}
		if n := count(t, s, "bun_migration_locks"); n != 0 {
			t.Fatalf("migration lock left behind: %d rows", n)
		}
		if n := count(t, s, "destinations"); n != 1 {
			t.Fatalf("destinations = %d after migrating again", n)
		}
	})
}

// TestMigrateConcurrently runs Migrate from 3 goroutines, each with its own
// Store, on one fresh database.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			var url string
			if dialect == "sqlite" {
				url = "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
			} else {
				url = dbtest.PostgresURL(t)
			}
			stores := make([]*db.Store, 3)
			for i := range stores {
				stores[i], _ = dbtest.OpenURL(t, url)
			}
			errs := make([]error, len(stores))
			var wg sync.WaitGroup
			for i, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Migrate(context.Background())
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("store %d: %v", i, err)
				}
			}
			s := stores[0]
			if n := count(t, s, "bun_migrations"); n != db.MigrationCount() {
				t.Fatalf("bun_migrations rows = %d, want %d", n, db.MigrationCount())
			}
			mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		})
	}
}
