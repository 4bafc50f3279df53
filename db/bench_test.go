package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// BenchmarkIngest ingests batches of 1000 new posts, half of them matched
// to a destination by name, and reports statements per batch.
func BenchmarkIngest(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			s, _ := dbtest.Open(b, dialect)
			var dests []*db.Destination
			for i := range 50 {
				d, _, err := s.CreateDestination(ctx, db.DestinationInput{Name: fmt.Sprint("Homestay Kampung ", i),
					City: []string{"Langkawi", "Alor Setar", "Yan"}[i%3], Category: db.CategoryStay})
				if err != nil {
					b.Fatal(err)
				}
				dests = append(dests, d)
			}
			qc := counter(s)
			n := 0
			for b.Loop() {
				batch := make([]db.PostInput, 1000)
				for i := range batch {
					n++
					d := dests[n%len(dests)]
					batch[i] = db.PostInput{Source: "bench", ExternalID: fmt.Sprint(n), PostedAt: dbtest.Epoch.Add(-time.Duration(n) * time.Minute),
						Text: fmt.Sprintf("Lovely stay at %s, clean rooms and friendly hosts #%d", d.Name, n)}
					if i%2 == 0 {
						batch[i].DestinationID = &d.ID
					}
				}
				res, _, err := s.IngestPosts(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				if res.Stored != len(batch) {
					b.Fatalf("stored %d of %d", res.Stored, len(batch))
				}
			}
			b.ReportMetric(float64(qc.Count())/float64(b.N), "stmts/op")
		})
	}
}
