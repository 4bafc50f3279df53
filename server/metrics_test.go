package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Made-up methods, whatever their number, add no series to /metrics: the
// labels come from a fixed set.
func TestMetricsLabelsAreBounded(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	do := func(method string) {
		req, _ := http.NewRequest(method, base+"/graphql?query={__typename}", nil)
		req.Header.Set("X-Cache", "PLANTED")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, m := range []string{"GET", "POST", "OPTIONS", "HEAD", "BREW"} {
		do(m)
	}
	before := series(t, base)
	for i := range 100 {
		do(fmt.Sprintf("MADE-UP-%d", i))
	}
	after := series(t, base)
	for s := range after {
		if !before[s] {
			t.Errorf("new series: %s", s)
		}
	}
	t.Logf("%d series before, %d after 100 made-up methods", len(before), len(after))
}

// series reads the names and labels of every sample in /metrics.
func series(t *testing.T, base string) map[string]bool {
	t.Helper()
	s := map[string]bool{}
	for _, line := range strings.Split(getBody(t, base+"/metrics"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s[line[:strings.LastIndexByte(line, ' ')]] = true
	}
	return s
}

func TestMetricLabels(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "HEAD": "HEAD", "get": "other", "PROPFIND": "other", "": "other"} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{200: "200", 431: "431", 299: "2xx", 599: "5xx", 0: "other", 1000: "other"} {
		if got := codeLabel(in); got != want {
			t.Errorf("codeLabel(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"HIT": "HIT", "MISS": "MISS", "": "", "hit": "", "STALE": ""} {
		if got := cacheLabel(in); got != want {
			t.Errorf("cacheLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// metric reads one unlabelled sample from /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(getBody(t, base+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
