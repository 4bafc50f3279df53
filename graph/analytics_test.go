package graph_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// A ranking is one cache entry per window, city and category, whatever
// the limit: once read at any limit, every other limit costs no SQL, and
// each is a prefix of the longest.
func TestRankingLimitsShareOneEntry(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		var posts []db.PostInput
		for i := range 12 {
			d, _, err := e.store.CreateDestination(t.Context(), db.DestinationInput{Name: fmt.Sprint("Pantai ", i), City: "Langkawi", Category: db.CategoryBeach})
			if err != nil {
				t.Fatal(err)
			}
			for j := range i + 1 {
				posts = append(posts, db.PostInput{Source: "t", ExternalID: fmt.Sprint(i, "-", j), Text: "lovely beach",
					PostedAt: e.clock.Now().Add(-time.Duration(j) * time.Hour), DestinationID: &d.ID})
			}
		}
		if _, _, err := e.store.IngestPosts(t.Context(), posts); err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"topDestinations", "trends"} {
			query := func(limit int) string {
				return fmt.Sprintf(`{ %s(limit: %d, range: LAST_90_DAYS, category: BEACH) { mentions destination { id } } }`, field, limit)
			}
			all := path(e.ok(query(100), nil, false), field).([]any)
			if len(all) != 12 {
				t.Fatalf("%s: %d destinations, want 12", field, len(all))
			}
			for limit := 1; limit <= 100; limit++ {
				var got []any
				if sql, _ := e.counts(func() { got = path(e.ok(query(limit), nil, false), field).([]any) }); sql != 0 {
					t.Fatalf("%s(limit: %d) cost %d SQL statements, want 0", field, limit, sql)
				}
				if want := all[:min(limit, len(all))]; jsonString(got) != jsonString(want) {
					t.Fatalf("%s(limit: %d) = %s, want %s", field, limit, jsonString(got), jsonString(want))
				}
			}
		}
	}, noResponseCache)
}
