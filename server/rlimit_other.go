//go:build !unix

package main

// openFileLimit is unknown on this system.
func openFileLimit() (n uint64, ok bool) { return 0, false }
