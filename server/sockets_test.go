//go:build linux

package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// serverConns counts the TCP connections this process holds open on the
// server side of addr (its accepted sockets).
func serverConns(t *testing.T, addr string) int {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range fds {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, _ := os.Readlink("/proc/self/fd/" + e.Name()); !strings.HasPrefix(link, "socket:") {
			continue
		}
		local, err := syscall.Getsockname(fd)
		if sa, ok := local.(*syscall.SockaddrInet4); err != nil || !ok || sa.Port != int(ap.Port()) || sa.Addr != ap.Addr().As4() {
			continue
		}
		if _, err := syscall.Getpeername(fd); err == nil { // not the listener
			n++
		}
	}
	return n
}

// socketsOn counts the TCP sockets process pid holds whose local address
// is addr, the listening socket excepted.
func socketsOn(t *testing.T, pid, addr string) int {
	t.Helper()
	n, err := countSockets(pid, addr)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countSockets(pid, addr string) (int, error) {
	host, port, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host).To4()
	p, _ := strconv.Atoi(port)
	// /proc/net/tcp writes an IPv4 address as its 32 bits in host order
	// (little endian here) and the port in big endian, both in hex.
	local := strings.ToUpper(hex.EncodeToString([]byte{ip[3], ip[2], ip[1], ip[0]}) + fmt.Sprintf(":%04X", p))
	tcp, err := os.ReadFile("/proc/" + pid + "/net/tcp")
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, line := range strings.Split(string(tcp), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == local && f[3] != "0A" { // 0A: LISTEN
			inodes["socket:["+f[9]+"]"] = true
		}
	}
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, fd := range fds {
		if link, err := os.Readlink("/proc/" + pid + "/fd/" + fd.Name()); err == nil && inodes[link] {
			n++
		}
	}
	return n, nil
}

func openFiles(t *testing.T, pid string) int {
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}
