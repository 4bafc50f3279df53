//go:build linux

package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A server process whose Redis is down from the start, logging JSON: every
// line it writes is a JSON object (go-redis's own lines included), a WARN
// names the unreachable cache, the start line does not say cache=redis,
// and a fault repeated on every request and every counter flush is logged
// once per LOG_REPEAT_INTERVAL (here longer than the test), not once each.
func TestFaultLogOfAnUnreachableCache(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	p := runProcess(t, serverBinary(t), map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "REDIS_URL": "redis://" + down + "/0",
		"LOG_FORMAT": "json", "LOG_REPEAT_INTERVAL": "1h", "REQUEST_TIMEOUT": "2s",
	})
	c := newClient(p.addr)
	const reads = 40
	for range reads {
		c.must(t, `{ destinations { edges { node { name } } } }`, nil, false)
	}
	time.Sleep(3 * time.Second) // three counter flushes fail; go-redis redials
	if err := p.interrupt(t); err != nil {
		t.Fatalf("server process: %v", err)
	}

	perMessage := map[string]int{}
	var unreachable, start map[string]any
	for _, l := range p.lines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not a JSON line under LOG_FORMAT=json: %q", l)
			continue
		}
		msg, _ := m["msg"].(string)
		if m["level"] == "WARN" || m["level"] == "ERROR" {
			perMessage[msg]++
		}
		switch {
		case strings.HasPrefix(msg, "cache unreachable at start"):
			unreachable = m
		case m["url"] != nil:
			start = m
		}
	}
	if u, _ := unreachable["redis_url"].(string); !strings.Contains(u, down) {
		t.Errorf("no start-up WARN naming the cache at %s: %v", down, unreachable)
	}
	if start == nil || start["cache"] == "redis" {
		t.Errorf("the start line claims a working cache: %v", start)
	}
	faults := 0
	for msg, n := range perMessage {
		if strings.HasPrefix(msg, "cache:") || strings.HasPrefix(msg, "redis:") {
			faults += n
			if n > 1 {
				t.Errorf("%q logged %d times within one LOG_REPEAT_INTERVAL", msg, n)
			}
		}
	}
	t.Logf("%d reads with Redis down: WARN/ERROR lines by message: %v", reads, perMessage)
	if faults == 0 {
		t.Error("no cache fault was logged at all")
	}
}
