package cache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache"
)

// jsonLines decodes every line of b as a JSON object.
func jsonLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// The same warning repeated within the interval is counted, not written;
// the next one written carries the count. Other messages, and anything
// below Warn, pass.
func TestQuietHandler(t *testing.T) {
	var buf bytes.Buffer
	h := cache.QuietHandler(slog.NewJSONHandler(&buf, nil), 10*time.Second)
	derived := h.WithAttrs([]slog.Attr{slog.String("component", "x")}) // shares the counts
	t0 := time.Unix(1_000_000, 0)
	emit := func(h slog.Handler, at time.Duration, level slog.Level, msg string) {
		if err := h.Handle(context.Background(), slog.NewRecord(t0.Add(at), level, msg, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 { // 100 failures over 9.9 s: one line
		emit(h, time.Duration(i)*99*time.Millisecond, slog.LevelWarn, "cache: read failed")
	}
	emit(derived, 5*time.Second, slog.LevelWarn, "cache: read failed")    // counted too
	emit(h, 5*time.Second, slog.LevelWarn, "cache: write failed")         // another message
	emit(h, 5*time.Second, slog.LevelInfo, "cache: read failed")          // below Warn
	emit(h, 6*time.Second, slog.LevelInfo, "cache: read failed")          // below Warn
	emit(derived, 10*time.Second, slog.LevelWarn, "cache: read failed")   // the interval passed
	emit(h, 10500*time.Millisecond, slog.LevelWarn, "cache: read failed") // counted
	emit(h, 20*time.Second, slog.LevelError, "cache: read failed")        // another level
	lines := jsonLines(t, &buf)
	type line struct {
		msg, level string
		repeated   float64
	}
	var got []line
	for _, l := range lines {
		r, _ := l["repeated"].(float64)
		got = append(got, line{l["msg"].(string), l["level"].(string), r})
	}
	want := []line{
		{"cache: read failed", "WARN", 0},
		{"cache: write failed", "WARN", 0},
		{"cache: read failed", "INFO", 0},
		{"cache: read failed", "INFO", 0},
		{"cache: read failed", "WARN", 100}, // 99 + the derived handler's
		{"cache: read failed", "ERROR", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if lines[4]["component"] != "x" {
		t.Errorf("the derived handler's attributes are lost: %v", lines[4])
	}
}

// A store failing on every call makes a Cache write one line per message
// per RepeatInterval, with the count, however many requests fail.
func TestRepeatedFaultsAreCounted(t *testing.T) {
	var buf bytes.Buffer
	c := cache.New(failing(), cache.Options{Timeout: -1, BreakerThreshold: 3, Logger: slog.New(slog.NewJSONHandler(&buf, nil)), RepeatInterval: time.Hour})
	ctx := context.Background()
	fill := func(_ context.Context, misses []int) ([][]byte, error) { return make([][]byte, len(misses)), nil }
	for range 200 {
		if _, err := c.Load(ctx, "Query.x", time.Minute, []cache.Lookup{{Key: "k", Tags: []string{"t"}}}, fill); err != nil {
			t.Fatal(err)
		}
	}
	lines := jsonLines(t, &buf)
	if len(lines) != 1 || lines[0]["msg"] != "cache: read failed; loading from source" {
		t.Fatalf("200 failed reads wrote %d lines, want 1: %v", len(lines), lines)
	}
}
