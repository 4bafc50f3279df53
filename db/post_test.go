package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestIngestValidation(t *testing.T) {
	t.Parallel()
	good := func(i int) db.PostInput {
		return db.PostInput{Source: "twitter", ExternalID: fmt.Sprint("v", i), Text: "Sunset at Pantai Cenang",
			PostedAt: dbtest.Epoch.Add(-time.Hour)}
	}
	tests := []struct {
		name  string
		bad   func(p *db.PostInput)
		field string // "" when valid
	}{
		{"valid", func(p *db.PostInput) {}, ""},
		{"posted 5 minutes ahead", func(p *db.PostInput) { p.PostedAt = dbtest.Epoch.Add(5 * time.Minute) }, ""},
		{"text of 10 000 characters", func(p *db.PostInput) { p.Text = "Pantai Cenang " + strings.Repeat("ä", 10_000-14) }, ""},
		{"no source", func(p *db.PostInput) { p.Source = "" }, "posts[1].source"},
		{"source of 101", func(p *db.PostInput) { p.Source = strings.Repeat("s", 101) }, "posts[1].source"},
		{"no external id", func(p *db.PostInput) { p.ExternalID = " " }, "posts[1].externalId"},
		{"external id of 201", func(p *db.PostInput) { p.ExternalID = strings.Repeat("e", 201) }, "posts[1].externalId"},
		{"no text", func(p *db.PostInput) { p.Text = "" }, "posts[1].text"},
		{"text of 10 001", func(p *db.PostInput) { p.Text = "Pantai Cenang " + strings.Repeat("ä", 10_001-14) }, "posts[1].text"},
		{"posted in the future", func(p *db.PostInput) { p.PostedAt = dbtest.Epoch.Add(5*time.Minute + time.Second) }, "posts[1].postedAt"},
		{"no posted time", func(p *db.PostInput) { p.PostedAt = time.Time{} }, "posts[1].postedAt"},
		{"unknown destination", func(p *db.PostInput) { p.DestinationID = ptr(int64(999)) }, "posts[1].destinationId"},
		{"no destination named", func(p *db.PostInput) { p.Text = "Lovely day at the beach" }, "posts[1].destinationId"},
		{"partial word", func(p *db.PostInput) { p.Text = "Pantai Cenangan is lovely" }, "posts[1].destinationId"},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				batch := []db.PostInput{good(3 * i), good(3*i + 1), good(3*i + 2)}
				tt.bad(&batch[1])
				posts, rollups, outbox := count(t, s, "posts"), count(t, s, "post_rollups"), count(t, s, "cache_outbox")
				res, _, err := s.IngestPosts(ctx, batch)
				if tt.field == "" {
					if err != nil || res.Stored != 3 {
						t.Fatalf("res %+v, err %v", res, err)
					}
					return
				}
				wantInputError(t, err, tt.field)
				if count(t, s, "posts") != posts || count(t, s, "post_rollups") != rollups || count(t, s, "cache_outbox") != outbox {
					t.Fatal("a rejected batch wrote rows")
				}
			})
		}
		t.Run("too many", func(t *testing.T) {
			batch := make([]db.PostInput, db.MaxIngestBatch+1)
			for i := range batch {
				batch[i] = good(10_000 + i)
			}
			_, _, err := s.IngestPosts(ctx, batch)
			wantInputError(t, err, "posts")
		})
		t.Run("empty", func(t *testing.T) {
			res, change, err := s.IngestPosts(ctx, nil)
			if err != nil || res != (db.IngestResult{}) {
				t.Fatal(res, err)
			}
			wantChange(t, s, change)
		})
	})
}

func TestIngestPosts(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		now := dbtest.Epoch
		cenang := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		tengah := mustDestination(t, s, "Pantai Tengah", "Langkawi", db.CategoryBeach)
		zahir := mustDestination(t, s, "Zahir Mosque", "Alor Setar", db.CategoryCulture)
		mustDestination(t, s, "Gunung Jerai", "Yan", db.CategoryNature)
		batch := []db.PostInput{
			{Source: "twitter", ExternalID: "1", Text: "Sunset at PANTAI CENANG, amazing!", PostedAt: now.Add(-time.Hour)},
			{Source: "twitter", ExternalID: "2", Text: "Crowded at pantai tengah", PostedAt: now.Add(-2 * time.Hour)},
			{Source: "instagram", ExternalID: "1", Text: "no name here", DestinationID: &zahir.ID, PostedAt: now.Add(-3 * time.Hour),
				Author: ptr("@aina"), URL: ptr("https://instagram.example/p/1")},
			{Source: "twitter", ExternalID: "1", Text: "repeat of the first, at Pantai Tengah", PostedAt: now.Add(-time.Hour)},
		}
		res, change, err := s.IngestPosts(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res != (db.IngestResult{Received: 4, Stored: 3, Duplicates: 1}) {
			t.Fatalf("first ingest: %+v", res)
		}
		wantChange(t, s, change, db.TagAnalytics, "city:alor-setar:analytics", "city:langkawi:analytics",
			db.DestinationAnalyticsTag(cenang.ID), db.DestinationAnalyticsTag(tengah.ID), db.DestinationAnalyticsTag(zahir.ID))

		page, err := s.FindPosts(ctx, nil, db.Last24Hours, db.Page{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 3 || len(page.Posts) != 3 {
			t.Fatalf("posts page %+v", page)
		}
		wantDest := []int64{cenang.ID, tengah.ID, zahir.ID} // newest first
		for i, p := range page.Posts {
			if p.DestinationID == nil || *p.DestinationID != wantDest[i] {
				t.Fatalf("post %d (%q) destination %v, want %d", i, p.Text, p.DestinationID, wantDest[i])
			}
			if p.SentimentLabel != db.Positive && p.SentimentLabel != db.Neutral && p.SentimentLabel != db.Negative {
				t.Fatalf("label %q", p.SentimentLabel)
			}
		}
		if p := page.Posts[2]; *p.Author != "@aina" || *p.URL != "https://instagram.example/p/1" || !p.CreatedAt.Equal(now) {
			t.Fatalf("post fields %+v", p)
		}
		if page.Posts[0].Text != batch[0].Text {
			t.Fatalf("the first of repeated posts must win, got %q", page.Posts[0].Text)
		}

		rollups := count(t, s, "post_rollups")
		outbox := count(t, s, "cache_outbox")
		res, change, err = s.IngestPosts(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res != (db.IngestResult{Received: 4, Stored: 0, Duplicates: 4}) {
			t.Fatalf("second ingest: %+v", res)
		}
		wantChange(t, s, change)
		if count(t, s, "posts") != 3 || count(t, s, "post_rollups") != rollups || count(t, s, "cache_outbox") != outbox {
			t.Fatal("a second ingest of the same batch wrote rows")
		}
		sum, err := s.Sentiment(ctx, nil, nil, db.Last24Hours)
		if err != nil || sum.Total != 3 {
			t.Fatalf("sentiment after duplicates: %+v, %v", sum, err)
		}

		// A batch of old and new posts stores only the new ones.
		res, change, err = s.IngestPosts(ctx, append(batch, db.PostInput{Source: "google", ExternalID: "9",
			Text: "Gunung Jerai is cool", PostedAt: now.Add(-time.Minute)}))
		if err != nil || res != (db.IngestResult{Received: 5, Stored: 1, Duplicates: 4}) {
			t.Fatalf("mixed ingest: %+v, %v", res, err)
		}
		if len(change.Tags) != 3 || change.Tags[0] != db.TagAnalytics || change.Tags[1] != "city:yan:analytics" {
			t.Fatalf("mixed ingest tags %q", change.Tags)
		}
	})
}

func TestFindPosts(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		a := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		b := mustDestination(t, s, "Zahir Mosque", "Alor Setar", db.CategoryCulture)
		n := 0
		ingest := func(dest int64, postedAt time.Time) {
			n++
			_, _, err := s.IngestPosts(ctx, []db.PostInput{{Source: "t", ExternalID: fmt.Sprint(n), Text: fmt.Sprint("post ", n),
				PostedAt: postedAt, DestinationID: &dest}})
			if err != nil {
				t.Fatal(err)
			}
		}
		now := clock.Now()
		start, _ := db.Last24Hours.Window(now)
		ingest(a.ID, start.Add(-time.Microsecond)) // just before the window
		ingest(a.ID, start)                        // its first instant
		for i := range 10 {
			ingest(a.ID, now.Add(-time.Duration(i)*time.Hour-time.Duration(i%3)*time.Microsecond))
			ingest(b.ID, now.Add(-time.Duration(i)*time.Hour))
		}
		ingest(a.ID, now.Add(-5*time.Hour)) // the same time as another post of a

		first, err := s.FindPosts(ctx, &a.ID, db.Last24Hours, db.Page{First: 100})
		if err != nil || len(first.Posts) != 12 || first.TotalCount != 12 {
			t.Fatalf("posts of a in the window: %d, %v", len(first.Posts), err)
		}
		var seen []*db.Post
		after := ""
		for {
			page, err := s.FindPosts(ctx, &a.ID, db.Last24Hours, db.Page{First: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalCount < 12 || len(page.Cursors) != len(page.Posts) {
				t.Fatalf("page %+v", page)
			}
			seen = append(seen, page.Posts...)
			if !page.HasNext {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
			ingest(a.ID, clock.Now())                 // newer than the cursor: not on later pages
			ingest(a.ID, start.Add(time.Microsecond)) // older: on a later page
		}
		ids := map[int64]bool{}
		for i, p := range seen {
			if ids[p.ID] {
				t.Fatalf("post %d repeated", p.ID)
			}
			ids[p.ID] = true
			if *p.DestinationID != a.ID || p.PostedAt.Before(start) {
				t.Fatalf("post %+v outside the filter", p)
			}
			if i > 0 && (p.PostedAt.After(seen[i-1].PostedAt) || p.PostedAt.Equal(seen[i-1].PostedAt) && p.ID > seen[i-1].ID) {
				t.Fatalf("posts out of order at %d", i)
			}
		}
		for _, p := range first.Posts {
			if !ids[p.ID] {
				t.Fatalf("post %d skipped", p.ID)
			}
		}

		all, err := s.FindPosts(ctx, nil, db.Last7Days, db.Page{First: 0})
		if err != nil || all.TotalCount != n || !all.HasNext || len(all.Posts) != 0 {
			t.Fatalf("First 0 over all: %+v, %v (want total %d)", all, err, n)
		}
		_, err = s.FindPosts(ctx, nil, "LAST_YEAR", db.Page{First: 1})
		wantInputError(t, err, "range")
		_, err = s.FindPosts(ctx, nil, db.Last7Days, db.Page{First: 1, After: "AAAA"})
		wantInputError(t, err, "after")
	})
}

// A read computes its windows at the instant its context carries, not at
// the store's clock: a request's cache keys and its SQL agree even when the
// clock passes an hour boundary between them.
func TestWindowsUseTheRequestsInstant(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		d := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		instant := clock.Now()
		_, _, err := s.IngestPosts(ctx, []db.PostInput{{Source: "t", ExternalID: "1", Text: "lovely beach",
			PostedAt: instant.Add(-time.Hour), DestinationID: &d.ID}})
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(48 * time.Hour) // the store's clock moves on; the request's instant does not
		at := db.AtInstant(ctx, instant)

		page, err := s.FindPosts(at, &d.ID, db.Last24Hours, db.Page{First: 10})
		if err != nil || page.TotalCount != 1 {
			t.Fatalf("FindPosts at the request's instant: %+v, %v; want the post", page, err)
		}
		sum, err := s.Sentiment(at, &d.ID, nil, db.Last24Hours)
		if err != nil || sum.Total != 1 {
			t.Fatalf("Sentiment at the request's instant: %+v, %v; want 1 post", sum, err)
		}
		top, err := s.TopDestinations(at, db.Last24Hours, db.DestinationFilter{}, 5)
		if err != nil || len(top) != 1 || top[0].Mentions != 1 {
			t.Fatalf("TopDestinations at the request's instant: %+v, %v", top, err)
		}
		trends, err := s.TrendsByDestinations(at, []int64{d.ID}, db.Last24Hours)
		if err != nil || trends[d.ID].Mentions != 1 {
			t.Fatalf("TrendsByDestinations at the request's instant: %+v, %v", trends[d.ID], err)
		}
		if page, err := s.FindPosts(ctx, &d.ID, db.Last24Hours, db.Page{First: 10}); err != nil || page.TotalCount != 0 {
			t.Fatalf("FindPosts at the store's clock, 48 h later: %+v, %v; want none", page, err)
		}
	})
}
