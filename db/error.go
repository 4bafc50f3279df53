package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
)

// ErrNotFound is returned (wrapped) when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrCacheConflict is returned (wrapped) by JoinCache when another live
// process caches this database's data in a cache this one does not share,
// so that neither would see the other's invalidations.
var ErrCacheConflict = errors.New("another live process does not share this cache")

// InputError reports input that fails validation. Field names the offending
// input field as the API spells it ("price", "posts[3].text").
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Invalid returns an *InputError for field.
func Invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsUnavailable reports whether err means the database cannot serve the
// request now rather than a bad query or bad data, so that it may be
// retried later:
//
//   - it could not be reached: connection refused, reset, closed or timed
//     out;
//   - the request's deadline passed, for instance while it waited for a
//     pool connection (context.DeadlineExceeded);
//   - PostgreSQL is out of resources (SQLSTATE class 53: disk full, out of
//     memory, too many connections) or shutting down or starting up
//     (57P01, 57P02, 57P03);
//   - SQLite is busy or locked by another connection past its busy
//     timeout, or its disk is full (SQLITE_BUSY, SQLITE_LOCKED,
//     SQLITE_FULL).
//
// Driver errors are classified by their codes, never by their messages.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr) {
		return true
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		switch code := pgErr.Field('C'); code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		default:
			return strings.HasPrefix(code, "53") // insufficient_resources
		}
	}
	return sqliteUnavailable(err)
}
