package dbtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// CPU measures the CPU a benchmark's reads cost: this process's (user and
// system) and, on a local PostgreSQL, its one backend's, read from /proc.
type CPU struct {
	pid int // the PostgreSQL backend, 0 on SQLite or a remote server
}

// NewCPU limits s to one connection, so that every statement runs on the
// backend it measures.
func NewCPU(tb testing.TB, s *db.Store) *CPU {
	tb.Helper()
	s.DB.SetMaxOpenConns(1)
	c := &CPU{}
	if s.Dialect() == db.DialectPostgres {
		if err := s.DB.NewRaw("SELECT pg_backend_pid()").Scan(context.Background(), &c.pid); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// Process is the CPU this process has used.
func (c *CPU) Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Backend is the CPU the PostgreSQL backend has used (0 when it is not
// on this machine, or on SQLite), at the kernel's 10 ms granularity.
func (c *CPU) Backend() time.Duration {
	if c.pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64) // fields 14 and 15 of stat
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// Demo opens a store of dialect holding the demo data (db.DemoSeed), as
// the cold-read benchmarks measure it: on PostgreSQL vacuumed and analysed,
// as autovacuum leaves a bulk load (until then an index-only scan visits
// the table's rows too, about twice the backend's CPU for a trend), limited
// to one connection, with the CPU its reads cost and its destinations in id
// order.
func Demo(tb testing.TB, dialect string) (*db.Store, *CPU, []*db.Destination) {
	tb.Helper()
	ctx := context.Background()
	s, _ := Open(tb, dialect)
	if err := s.Seed(ctx, db.DemoSeed()); err != nil {
		tb.Fatal(err)
	}
	if s.Dialect() == db.DialectPostgres {
		if _, err := s.DB.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			tb.Fatal(err)
		}
	}
	cpu := NewCPU(tb, s)
	dests, err := s.ListDestinations(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return s, cpu, dests
}
