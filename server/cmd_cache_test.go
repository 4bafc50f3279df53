package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// The cache commands talk to the running server in one style: a table (or
// a sentence) for people by default, the API's JSON with --json.
func TestCacheCommandOutput(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	env := map[string]string{"ADMIN_TOKEN": "tok", "ADDR": strings.TrimPrefix(base, "http://")}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		args []string
		want string
		json bool
	}{
		{[]string{"cache", "status"}, "hit ratio", false},
		{[]string{"cache", "status", "--json"}, `"cacheStats"`, true},
		{[]string{"cache", "invalidate", "properties", "analytics"}, "invalidated 2 tags: properties analytics", false},
		{[]string{"cache", "invalidate", "--json", "properties"}, `"invalidateCache"`, true},
		{[]string{"cache", "clear"}, "cleared the cache", false},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), c.args, getenv, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !strings.Contains(out.String(), c.want) || json.Valid(out.Bytes()) != c.json {
			t.Errorf("%v: %q", c.args, out.String())
		}
	}
}
