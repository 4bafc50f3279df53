package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The server wires warming: after an ingest, a round replays the hot
// summary (one log line), and the next request is a hit with the new post.
func TestServerWarmsAfterIngest(t *testing.T) {
	log := &syncBuffer{}
	base := startServerLog(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "kp.db")}, log)
	post(t, base, "tok", `mutation { createDestination(input: {name: "Pantai Cenang", city: "Langkawi", category: BEACH, description: "Beach"}) { id } }`, nil)
	summary := `{ sentimentSummary { total } }`
	for range 3 {
		post(t, base, "", summary, nil)
	}
	ingest := fmt.Sprintf(`mutation { ingestPosts(posts: [{source: "t", externalId: "1", text: "Best gila!", postedAt: %q, destinationId: "1"}]) { stored } }`,
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	post(t, base, "tok", ingest, nil)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "cache warmed"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warming round logged:\n%s", log.String())
		}
	}
	if line := log.String(); !strings.Contains(line, "replayed=1") || !strings.Contains(line, "failed=0") {
		t.Errorf("round log: %s", line)
	}
	out, resp := send(t, base, "", summary, nil)
	if resp.Header.Get("X-Cache") != "HIT" || !strings.Contains(fmt.Sprint(out), "total:1") {
		t.Errorf("after the ingest: %v, X-Cache %q; want the new total from a warmed entry", out, resp.Header.Get("X-Cache"))
	}
}
