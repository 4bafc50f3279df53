//go:build cgo && (cgosqlite || !((darwin && amd64) || (darwin && arm64) || (linux && 386) || (linux && amd64) || (linux && arm) || (linux && arm64) || (windows && amd64)))

package db

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// sqliteUnavailable reports whether err is SQLite's SQLITE_BUSY,
// SQLITE_LOCKED or SQLITE_FULL. This file's build constraint is
// sqliteshim's for choosing mattn/go-sqlite3 (see sqlite_modernc.go).
func sqliteUnavailable(err error) bool {
	var e sqlite3.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrFull:
		return true
	}
	return false
}
