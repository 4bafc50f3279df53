// Package dbtest opens migrated db.Stores for tests on every dialect: a
// fresh SQLite file in the test's temporary directory and a fresh
// PostgreSQL database dropped when the test ends. It imports only db and
// the standard library's testing; tests of any package may use it.
//
// PostgreSQL's server comes from TEST_DATABASE_URL (default
// "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"). When it
// cannot be reached the test is skipped, unless CI=true, where it fails.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is empty.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Epoch is the time every store's clock starts at: a Sunday mid-morning,
// not on an hour, in UTC.
var Epoch = time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

// Dialects are the dialects EachStore runs on, as subtest names.
var Dialects = []string{"sqlite", "postgres"}

// EachStore runs fn as the subtests "sqlite" and "postgres", each with a
// freshly migrated, empty store and the Clock at Epoch that drives its Now.
func EachStore(t *testing.T, fn func(t *testing.T, s *db.Store, clock *Clock)) {
	t.Helper()
	for _, dialect := range Dialects {
		t.Run(dialect, func(t *testing.T) {
			s, clock := Open(t, dialect)
			fn(t, s, clock)
		})
	}
}

// Open returns a migrated empty store of dialect ("sqlite" or "postgres"),
// closed (and for PostgreSQL dropped) when tb ends, and the Clock at Epoch
// that drives its Now.
func Open(tb testing.TB, dialect string) (*db.Store, *Clock) {
	tb.Helper()
	var dsn string
	switch dialect {
	case "sqlite":
		dsn = filepath.Join(tb.TempDir(), "test.db")
	case "postgres", "pg":
		dsn = PostgresURL(tb)
	default:
		tb.Fatalf("dbtest: unknown dialect %q", dialect)
	}
	s, clock := OpenURL(tb, dsn)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return s, clock
}

// OpenURL opens the database at dsn without migrating it, with a Clock at
// Epoch driving its Now, and closes it when tb ends.
func OpenURL(tb testing.TB, dsn string) (*db.Store, *Clock) {
	tb.Helper()
	s, err := db.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	c := NewClock(Epoch)
	s.Now = c.Now
	urls.Store(s, dsn)
	tb.Cleanup(func() { urls.Delete(s) })
	return s, c
}

// Reopen returns another store on the database of s, as a second process
// would open it, with a Clock of its own at Epoch; it is closed when tb
// ends. s must have been opened here, on PostgreSQL or a SQLite file.
func Reopen(tb testing.TB, s *db.Store) (*db.Store, *Clock) {
	tb.Helper()
	dsn, ok := urls.Load(s)
	if !ok {
		tb.Fatal("dbtest: store not opened by dbtest")
	}
	return OpenURL(tb, dsn.(string))
}

// PostgresURL creates an empty database on the test server and returns its
// URL; the database is dropped when tb ends.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("dbtest: TEST_DATABASE_URL: %v", err)
	}
	// A loaded machine can make CREATE DATABASE slow: be patient.
	q := u.Query()
	if q.Get("read_timeout") == "" {
		q.Set("read_timeout", "2m")
		u.RawQuery = q.Encode()
	}
	admin, err := db.Open(ctx, u.String())
	if err != nil {
		msg := fmt.Sprintf("dbtest: PostgreSQL unreachable at %s (set TEST_DATABASE_URL): %v", u.Redacted(), err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "kp_test_" + hex.EncodeToString(b[:])
	// Registered first, so that a CREATE that fails on our side but
	// succeeds on the server's leaves nothing behind.
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.DB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			// Before PostgreSQL 13: end the sessions, then drop.
			admin.DB.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", name)
			if _, err := admin.DB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
				tb.Errorf("dbtest: drop database %s: %v", name, err)
			}
		}
	})
	if _, err := admin.DB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Clock is a settable clock for Store.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// urls maps each store opened here to the DSN it was opened with, for
// Reopen.
var urls sync.Map // *db.Store -> string
