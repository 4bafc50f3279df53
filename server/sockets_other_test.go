//go:build !linux

package main

import "testing"

func serverConns(t *testing.T, addr string) int {
	t.Skip("counting a process's sockets is written for Linux")
	return 0
}
