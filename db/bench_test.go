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

// BenchmarkAnalyticsCold measures every analytics field on the demo data
// (db.DemoSeed) as a cold field cache would read it: each call goes to the
// database. Names are field/variant/range. It reports the CPU per call of
// this process (cpu-ms/op: all of SQLite's work, and the server's share
// on PostgreSQL) and, on a local PostgreSQL, of its backend (pg-cpu-ms/op,
// one connection, in steps of 10 ms / b.N). The "hourly" variants are the
// reference reads of hourly rollups alone (db/analytics_ref_test.go), for
// ratios measured in the same run. trends reads its ranking, then the
// trends of its first limit destinations, as Query.trends does.
//
//	go test ./db -run '^$' -bench AnalyticsCold -benchtime 20x
func BenchmarkAnalyticsCold(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			s, cpu, dests := dbtest.Demo(b, dialect)
			ids := func(n int) []int64 {
				out := make([]int64, 0, n)
				for _, d := range dests[:min(n, len(dests))] {
					out = append(out, d.ID)
				}
				return out
			}
			city, cat := dests[0].City, dests[0].Category
			trends := func(r db.TimeRange, f db.DestinationFilter, limit int) error {
				ranks, err := s.TopDestinations(ctx, r, f, db.MaxFirst)
				if err != nil {
					return err
				}
				top := make([]int64, 0, limit)
				for _, rk := range ranks[:min(limit, len(ranks))] {
					top = append(top, rk.DestinationID)
				}
				_, err = s.TrendsByDestinations(ctx, top, r)
				return err
			}
			type read struct {
				name string
				fn   func(r db.TimeRange) error
			}
			reads := []read{
				{"topDestinations/all", func(r db.TimeRange) error {
					_, err := s.TopDestinations(ctx, r, db.DestinationFilter{}, db.MaxFirst)
					return err
				}},
				{"topDestinations/all/hourly", func(r db.TimeRange) error {
					_, err := s.HourlyTopDestinations(ctx, r, db.DestinationFilter{}, db.MaxFirst)
					return err
				}},
				{"topDestinations/city", func(r db.TimeRange) error {
					_, err := s.TopDestinations(ctx, r, db.DestinationFilter{City: &city}, db.MaxFirst)
					return err
				}},
				{"topDestinations/category", func(r db.TimeRange) error {
					_, err := s.TopDestinations(ctx, r, db.DestinationFilter{Category: &cat}, db.MaxFirst)
					return err
				}},
				{"trends/category/10", func(r db.TimeRange) error { return trends(r, db.DestinationFilter{Category: &cat}, 10) }},
				{"trends/category/100", func(r db.TimeRange) error { return trends(r, db.DestinationFilter{Category: &cat}, 100) }},
				{"trends/all/10", func(r db.TimeRange) error { return trends(r, db.DestinationFilter{}, 10) }},
				{"trends/all/100", func(r db.TimeRange) error { return trends(r, db.DestinationFilter{}, 100) }},
				{"sentimentSummary/all", func(r db.TimeRange) error { _, err := s.Sentiment(ctx, nil, nil, r); return err }},
				{"sentimentSummary/all/hourly", func(r db.TimeRange) error { _, err := s.HourlySentiment(ctx, nil, nil, r); return err }},
				{"sentimentSummary/city", func(r db.TimeRange) error { _, err := s.Sentiment(ctx, nil, &city, r); return err }},
				{"sentimentSummary/destination", func(r db.TimeRange) error { _, err := s.Sentiment(ctx, &dests[0].ID, nil, r); return err }},
				{"destination.sentiment/10", func(r db.TimeRange) error { _, err := s.SentimentByDestinations(ctx, ids(10), r); return err }},
				{"destination.sentiment/100", func(r db.TimeRange) error { _, err := s.SentimentByDestinations(ctx, ids(100), r); return err }},
				{"destination.trend/10", func(r db.TimeRange) error { _, err := s.TrendsByDestinations(ctx, ids(10), r); return err }},
				{"destination.trend/10/hourly", func(r db.TimeRange) error {
					_, err := s.HourlyTrendsByDestinations(ctx, ids(10), r)
					return err
				}},
			}
			for _, rd := range reads {
				for _, r := range db.TimeRanges {
					b.Run(rd.name+"/"+string(r), func(b *testing.B) {
						proc, pg := cpu.Process(), cpu.Backend()
						for b.Loop() {
							if err := rd.fn(r); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(cpu.Process()-proc)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
						if dialect == "postgres" {
							b.ReportMetric(float64(cpu.Backend()-pg)/float64(time.Millisecond)/float64(b.N), "pg-cpu-ms/op")
						}
					})
				}
			}
		})
	}
}
