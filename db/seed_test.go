package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// fingerprint summarises a store's data: counts, sums and analytics.
func fingerprint(t *testing.T, s *db.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, table := range []string{"destinations", "properties", "posts", "post_rollups", "meta"} {
		fmt.Fprintf(&b, "%s=%d ", table, count(t, s, table))
	}
	var sums struct {
		Prices int64
		Dests  int64
	}
	if err := s.DB.NewRaw("SELECT COALESCE(SUM(price_cents), 0) AS prices, COUNT(destination_id) AS dests FROM properties").Scan(ctx, &sums); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "prices=%d attached=%d\n", sums.Prices, sums.Dests)
	dests, err := s.ListDestinations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dests {
		fmt.Fprintf(&b, "%d %s %s %s %s %.4f %.4f\n", d.ID, d.Slug, d.Name, d.City, d.Category, *d.Latitude, *d.Longitude)
	}
	for _, r := range db.TimeRanges {
		sum, err := s.Sentiment(ctx, nil, nil, r)
		if err != nil {
			t.Fatal(err)
		}
		top, err := s.TopDestinations(ctx, r, db.DestinationFilter{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		// Floats to 9 places: the dialects sum in different orders.
		fmt.Fprintf(&b, "%s %d/%d/%d %.9f top", r, sum.Positive, sum.Neutral, sum.Negative, sum.AverageScore)
		for _, d := range top {
			fmt.Fprintf(&b, " %d:%d:%d:%.9f", d.Rank, d.DestinationID, d.Mentions, d.AverageScore)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestSeed(t *testing.T) {
	t.Parallel()
	opts := db.SeedOptions{Destinations: 30, Properties: 200, Posts: 2000, Seed: 42}
	var prints []string
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		if ok, err := s.Seeded(ctx); err != nil || ok {
			t.Fatalf("Seeded before seeding = %v, %v", ok, err)
		}
		progress := map[string][2]int{}
		o := opts
		o.Progress = func(stage string, done, total int) { progress[stage] = [2]int{done, total} }
		if err := s.Seed(ctx, o); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Seeded(ctx); err != nil || !ok {
			t.Fatalf("Seeded after seeding = %v, %v", ok, err)
		}
		for stage, want := range map[string]int{"destinations": 30, "properties": 200, "posts": 2000} {
			if p := progress[stage]; p != [2]int{want, want} {
				t.Fatalf("progress %s = %v, want %d of %d", stage, p, want, want)
			}
		}
		if p := progress["rollups"]; p[0] == 0 || p[0] != p[1] || p[0] != count(t, s, "post_rollups") {
			t.Fatalf("progress rollups = %v", p)
		}
		first := fingerprint(t, s)
		if !strings.HasPrefix(first, "destinations=30 properties=200 posts=2000 ") {
			t.Fatalf("counts: %s", first[:80])
		}
		for _, name := range []string{"Langkawi Sky Bridge", "Pantai Cenang", "Zahir Mosque"} {
			if !strings.Contains(first, " "+name+" ") {
				t.Fatalf("seed lacks %s", name)
			}
		}

		// Seeding again is a no-op.
		if err := s.Seed(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if again := fingerprint(t, s); again != first {
			t.Fatalf("second Seed changed the data:\n%s\nvs\n%s", first, again)
		}

		// Another store seeded with the same options holds the same data.
		other, _ := dbtest.Open(t, s.Dialect())
		if err := other.Seed(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if second := fingerprint(t, other); second != first {
			t.Fatalf("seed is not deterministic:\n%s\nvs\n%s", first, second)
		}

		// Every seeded post names its destination, so the matcher finds it.
		dests, err := s.ListDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := db.NewMatcher(dests)
		var posts []*db.Post
		if err := s.DB.NewSelect().Model(&posts).Limit(300).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range posts {
			if id, ok := m.Match(p.Text); !ok || id != *p.DestinationID {
				t.Fatalf("post %q: matched %d, %v; stored destination %d", p.Text, id, ok, *p.DestinationID)
			}
			if p.PostedAt.After(dbtest.Epoch) || p.PostedAt.Before(dbtest.Epoch.AddDate(0, 0, -90)) {
				t.Fatalf("post at %v outside the 90 days before now", p.PostedAt)
			}
		}
		prints = append(prints, first)
	})
	if len(prints) == 2 && prints[0] != prints[1] {
		t.Errorf("SQLite and PostgreSQL seeds differ:\n%s\nvs\n%s", prints[0], prints[1])
	}
}

// TestSeedInvalidatesAll: entries cached while the database was empty (a
// destination read as null, a city with no properties) carry per-id and
// per-city tags, so the seed's outbox row names every entry; seeding again
// records nothing.
func TestSeedInvalidatesAll(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		opts := db.SeedOptions{Destinations: 3, Properties: 5, Posts: 10, Seed: 1}
		for range 2 {
			if err := s.Seed(ctx, opts); err != nil {
				t.Fatal(err)
			}
		}
		pending, err := s.PendingInvalidations(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for _, e := range pending {
			rows = append(rows, e.Tags)
		}
		if len(rows) != 1 || !equalTags(rows[0], []string{db.TagAll}) {
			t.Fatalf("outbox rows after seeding twice = %q, want one row of %q", rows, db.TagAll)
		}
	})
}
