package graph

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// BenchmarkPrices calibrates prices: it measures each priced read's cold
// cost (every call goes to the database, as a cache miss does) on the demo
// data (db.DemoSeed), on both databases, and reports it in CostUnits
// ("units/op", what the price should be) beside the CPU per unit of its
// price today ("us/price-unit": at most CostUnit, 10, when the price is
// honest). On PostgreSQL the backend's CPU is added to the process's. A
// per-destination read is measured on a batch of 10 and divided by 10.
//
//	go test -run '^$' -bench Prices -benchtime 5x ./graph/
func BenchmarkPrices(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			s, cpu, dests := dbtest.Demo(b, dialect)
			table := prices[s.Dialect()]
			ten := make([]int64, 10)
			for i := range ten {
				ten[i] = dests[i].ID
			}
			type read struct {
				name  string
				price func(db.TimeRange) int
				per   int // values read by one call
				fn    func(db.TimeRange) error
			}
			at := func(p byRange) func(db.TimeRange) int { return p.at }
			flat := func(p int) func(db.TimeRange) int { return func(db.TimeRange) int { return p } }
			reads := []read{
				{"ranking", at(table.ranking), 1, func(r db.TimeRange) error {
					a, err := db.NewAnalyticsArgs(nil, nil, nil, r, s.Now())
					if err == nil {
						_, err = ranking(ctx, s, a)
					}
					return err
				}},
				{"sentiment", at(table.sentiment), 1, func(r db.TimeRange) error { _, err := s.Sentiment(ctx, nil, nil, r); return err }},
				{"destSentiment", at(table.destSentiment), 10, func(r db.TimeRange) error {
					_, err := s.SentimentByDestinations(ctx, ten, r)
					return err
				}},
				{"destTrend", at(table.destTrend), 10, func(r db.TimeRange) error {
					_, err := s.TrendsByDestinations(ctx, ten, r)
					return err
				}},
				{"posts", at(table.posts), 1, func(r db.TimeRange) error {
					_, err := s.FindPosts(ctx, nil, r, db.Page{First: 20})
					return err
				}},
			}
			for _, search := range []string{"", "langkawi", "freehold", "sq ft", "zzq no match", "ga"} {
				name, price := "list", flat(table.list)
				if search != "" {
					name, price = "search/"+search, flat(table.list+table.search)
				}
				reads = append(reads, read{name, price, 1, func(db.TimeRange) error {
					f := &db.PropertyFilter{}
					if search != "" {
						f.Search = &search
					}
					a, err := db.NewPropertyArgs(f, db.Page{First: 20}, "")
					if err != nil {
						return err
					}
					a.Count = true
					_, err = s.FindPropertyIDsByArgs(ctx, a)
					return err
				}})
			}
			for _, rd := range reads {
				ranges := db.TimeRanges
				if rd.name == "list" || len(rd.name) > 6 && rd.name[:6] == "search" {
					ranges = ranges[:1]
				}
				for _, r := range ranges {
					b.Run(fmt.Sprintf("%s/%s", rd.name, r), func(b *testing.B) {
						proc, pg := cpu.Process(), cpu.Backend()
						for b.Loop() {
							if err := rd.fn(r); err != nil {
								b.Fatal(err)
							}
						}
						used := (cpu.Process() - proc + cpu.Backend() - pg) / time.Duration(b.N*rd.per)
						b.ReportMetric(float64(used)/float64(CostUnit), "units/op")
						b.ReportMetric(float64(used)/float64(time.Microsecond)/float64(max(rd.price(r), 1)), "us/price-unit")
					})
				}
			}
		})
	}
}
