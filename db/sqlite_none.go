//go:build !cgo && (cgosqlite || !((darwin && amd64) || (darwin && arm64) || (linux && 386) || (linux && amd64) || (linux && arm) || (linux && arm64) || (windows && amd64)))

package db

// sqliteUnavailable reports false: sqliteshim has no SQLite driver for
// this build (see sqlite_modernc.go), so there are no SQLite errors.
func sqliteUnavailable(error) bool { return false }
