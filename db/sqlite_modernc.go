//go:build !cgosqlite && ((darwin && amd64) || (darwin && arm64) || (linux && 386) || (linux && amd64) || (linux && arm) || (linux && arm64) || (windows && amd64))

package db

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteUnavailable reports whether err is SQLite's SQLITE_BUSY,
// SQLITE_LOCKED or SQLITE_FULL, extended codes included. This file's build
// constraint is sqliteshim's for choosing modernc.org/sqlite; where it
// chooses mattn/go-sqlite3 instead, sqlite_mattn.go classifies.
func sqliteUnavailable(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL:
		return true
	}
	return false
}
