package graph_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// fixture is a small data set: destinations in two cities, properties
// spread over them, and posts naming them.
type fixture struct {
	dests []*db.Destination // 0, 1: Langkawi; 2: Alor Setar
	props []*db.Property
}

func newFixture(t testing.TB, e *env, properties int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{}
	for _, d := range []db.DestinationInput{
		{Name: "Pantai Cenang", City: "Langkawi", Category: db.CategoryBeach, Description: "Long sandy beach."},
		{Name: "Gunung Raya", City: "Langkawi", Category: db.CategoryNature, Description: "Highest peak of Langkawi."},
		{Name: "Pekan Rabu", City: "Alor Setar", Category: db.CategoryShopping, Description: "Old market."},
	} {
		dest, _, err := e.store.CreateDestination(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		f.dests = append(f.dests, dest)
	}
	for i := range properties {
		e.clock.Add(time.Second)
		d := f.dests[i%len(f.dests)].ID
		p, _, err := e.store.CreateProperty(ctx, db.PropertyInput{
			Title: "Homestay " + strconv.Itoa(i), Description: fmt.Sprintf("Listing number %d", i),
			Price: db.Money(10_000_00 + i*100), Location: "Kedah", DestinationID: &d,
		})
		if err != nil {
			t.Fatal(err)
		}
		f.props = append(f.props, p)
	}
	var posts []db.PostInput
	for i := range 30 {
		d := f.dests[i%len(f.dests)]
		text := []string{"Sangat cantik, best gila!", "Teruk, kotor dan mahal.", "Ferry leaves at 9am."}[i%3]
		posts = append(posts, db.PostInput{Source: "test", ExternalID: "p" + strconv.Itoa(i), Text: d.Name + ": " + text,
			PostedAt: e.clock.Now().Add(-time.Duration(i) * 3 * time.Hour)})
	}
	if _, _, err := e.store.IngestPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	return f
}

func ids(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, id(x.(map[string]any)["id"]))
	}
	return out
}

func sid(n int64) string { return strconv.FormatInt(n, 10) }

func dbPropertyTitle(title string) db.PropertyUpdate { return db.PropertyUpdate{Title: &title} }
