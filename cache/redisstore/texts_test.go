package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/cache/cachetest"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

func textHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Persisted texts stay within their budget whatever a client registers:
// 5,000 texts of 1 KB into a 64 KiB budget leave two keys holding at most
// 64 KiB, the most recent texts and a text in use, and nothing else of
// the prefix is touched.
func TestTextsStayWithinBudget(t *testing.T) {
	const budget = 64 << 10
	s := cachetest.NewRedisStore(t)
	ctx := context.Background()
	texts := redisstore.NewTexts(s, redisstore.TextOptions{MaxBytes: budget, TTL: time.Hour})
	before, err := cachetest.ScanPrefix(ctx, s.Client(), s.Prefix())
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 1000)
	const used = "query Used { __typename }"
	texts.Add(ctx, textHash(used), used)
	var last string
	for i := range 5000 {
		last = "# " + pad + "\nquery J" + strconv.Itoa(i) + " { __typename }"
		texts.Add(ctx, textHash(last), last)
		if i%20 == 0 {
			if _, ok := texts.Get(ctx, textHash(used)); !ok {
				t.Fatalf("after %d texts: the text in use was evicted", i)
			}
		}
	}
	held, err := texts.Bytes(ctx)
	if err != nil || held > budget || held < budget/2 {
		t.Errorf("texts hold %d bytes (%v); want at most the budget %d, and most of it", held, err, budget)
	}
	keys, err := cachetest.ScanPrefix(ctx, s.Client(), s.Prefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(before)+2 {
		t.Errorf("keys %v; want the %d before and two of texts", keys, len(before))
	}
	n, _ := s.Client().HLen(ctx, s.Prefix()+"{apq}texts").Result()
	members, _ := s.Client().ZCard(ctx, s.Prefix()+"{apq}used").Result()
	if perText := int64(len(last) + 64 + 96); n-1 > budget/perText || members != n-1 {
		t.Errorf("%d texts (%d in the use order); want at most %d", n-1, members, budget/perText)
	}
	if got, ok := texts.Get(ctx, textHash(last)); !ok || got != last {
		t.Errorf("the last text: %q, %v", got, ok)
	}
	if _, ok := texts.Get(ctx, textHash("# "+pad+"\nquery J0 { __typename }")); ok {
		t.Error("the first junk text is still kept")
	}
}

// A text unused for the TTL is gone; each use keeps it for another TTL.
func TestTextsExpireUnused(t *testing.T) {
	s := cachetest.NewRedisStore(t)
	ctx := context.Background()
	texts := redisstore.NewTexts(s, redisstore.TextOptions{MaxBytes: 1 << 20, TTL: time.Hour})
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	redisstore.SetTextsClock(texts, func() time.Time { return now })
	const text = "{ __typename }"
	texts.Add(ctx, textHash(text), text)
	now = now.Add(50 * time.Minute)
	if _, ok := texts.Get(ctx, textHash(text)); !ok {
		t.Fatal("a text used within the TTL is gone")
	}
	now = now.Add(50 * time.Minute) // 100 min after the add, 50 after the use
	if _, ok := texts.Get(ctx, textHash(text)); !ok {
		t.Fatal("a use did not refresh the text")
	}
	now = now.Add(time.Hour + time.Millisecond)
	if _, ok := texts.Get(ctx, textHash(text)); ok {
		t.Error("a text unused for the TTL is still answered")
	}
}
