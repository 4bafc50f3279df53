package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// scrape with no SCRAPE_FEEDS says that nothing is configured, instead of
// a bare SUCCEEDED that looks like a run that found nothing new.
func TestScrapeSaysWhenNoFeedIsConfigured(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db"), "SEED": "none"}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"scrape"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no feeds configured") || !strings.Contains(out.String(), "SCRAPE_FEEDS") {
		t.Errorf("scrape with no feeds: %q", out.String())
	}
}

// One tag is a tag.
func TestCacheInvalidateCountsInEnglish(t *testing.T) {
	base := startServer(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")})
	env := map[string]string{"ADMIN_TOKEN": "tok", "ADDR": strings.TrimPrefix(base, "http://")}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"cache", "invalidate", "properties"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "invalidated 1 tag: properties" {
		t.Errorf("got %q, want %q", got, "invalidated 1 tag: properties")
	}
}
