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

// BenchmarkSearch reads the first page of text searches over the demo's
// 20 000 listings (no posts), as the API does without totalCount
// ("page"), with it ("count"), and the unindexed LIKE it replaced
// ("like", the page and its count). Searches go from rare to frequent,
// and a 2-character one no trigram serves.
func BenchmarkSearch(b *testing.B) {
	searches := []string{"sungai petani", "freehold", "garden, langkawi", "sq ft", "zzq no match", "ga"}
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			s, _ := dbtest.Open(b, dialect)
			demo := db.DemoSeed()
			demo.Posts = 0
			if err := s.Seed(ctx, demo); err != nil {
				b.Fatal(err)
			}
			// What autovacuum does after a bulk load on PostgreSQL: merge
			// the GIN index's pending list and gather statistics.
			settle := []string{"VACUUM ANALYZE properties"}
			if dialect == "sqlite" {
				settle = []string{"INSERT INTO properties_search (properties_search) VALUES ('optimize')", "ANALYZE"}
			}
			for _, q := range settle {
				if _, err := s.DB.ExecContext(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			for _, search := range searches {
				for _, mode := range []string{"page", "count", "like"} {
					b.Run(mode+"/"+search, func(b *testing.B) {
						a, err := db.NewPropertyArgs(&db.PropertyFilter{Search: &search}, db.Page{First: 20}, "")
						if err != nil {
							b.Fatal(err)
						}
						a.Count = mode == "count"
						pattern := "%" + db.EscapeLike(*a.Search) + "%"
						for b.Loop() {
							if mode == "like" {
								var ids []int64
								q := s.DB.NewSelect().TableExpr("properties AS p").Column("p.id").
									Where("p.search_text LIKE ? ESCAPE '!'", pattern)
								if err := q.ColumnExpr("(?) AS total", s.DB.NewSelect().TableExpr("properties AS p").ColumnExpr("COUNT(*)").
									Where("p.search_text LIKE ? ESCAPE '!'", pattern)).
									OrderExpr("p.created_at DESC, p.id DESC").Limit(21).Scan(ctx, &ids, new([]int64)); err != nil {
									b.Fatal(err)
								}
								continue
							}
							if _, err := s.FindPropertyIDsByArgs(ctx, a); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}
