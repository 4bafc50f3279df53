package graph

import (
	"context"
	"fmt"
	"math"
	"strings"
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
// After each dialect it logs the table to copy into prices (proposed).
//
//	go test -run '^$' -bench Prices -benchtime 20x -v ./graph/ | grep -A12 'proposed prices'
func BenchmarkPrices(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			measured := map[string]map[db.TimeRange]float64{}
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
						units := float64(used) / float64(CostUnit)
						if measured[rd.name] == nil {
							measured[rd.name] = map[db.TimeRange]float64{}
						}
						measured[rd.name][r] = max(measured[rd.name][r], units)
						b.ReportMetric(units, "units/op")
						b.ReportMetric(float64(used)/float64(time.Microsecond)/float64(max(rd.price(r), 1)), "us/price-unit")
					})
				}
			}
			b.Logf("proposed prices for %s:\n%s", dialect, proposed(measured))
		})
	}
}

// headroom is what the proposed prices add to the cost measured on an idle
// machine: a loaded one spends more CPU on the same read (last measured
// 1.5 to 3 times more with four busy processes beside it).
const headroom = 1.5

// proposed is the priceTable literal for the costs measured (read name ->
// window -> units): each price the measured cost times headroom, rounded
// up to two figures, never less over a longer window than over a shorter
// one; search is the dearest search measured, beyond list.
func proposed(measured map[string]map[db.TimeRange]float64) string {
	price := func(units float64) int {
		x := units * headroom
		step := 1.0
		for x/step >= 100 {
			step *= 10
		}
		return int(math.Ceil(x/step) * step)
	}
	var b strings.Builder
	for _, name := range []string{"ranking", "sentiment", "destSentiment", "destTrend", "posts"} {
		fmt.Fprintf(&b, "\t%s: byRange{", name)
		most := 0.0
		for i, r := range db.TimeRanges {
			most = max(most, measured[name][r])
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "db.%s: %d", rangeConst[r], price(most))
		}
		b.WriteString("},\n")
	}
	search := 0.0
	for name, m := range measured {
		if strings.HasPrefix(name, "search/") {
			search = max(search, m[db.Last24Hours])
		}
	}
	list := price(measured["list"][db.Last24Hours])
	fmt.Fprintf(&b, "\tlist: %d,\n\tsearch: %d,\n", list, max(price(search)-list, 0))
	return b.String()
}

// rangeConst names each window's constant in db, as the table spells it.
var rangeConst = map[db.TimeRange]string{
	db.Last24Hours: "Last24Hours", db.Last7Days: "Last7Days", db.Last30Days: "Last30Days", db.Last90Days: "Last90Days",
}

func TestProposedPrices(t *testing.T) {
	m := map[string]map[db.TimeRange]float64{
		"ranking":  {db.Last24Hours: 150, db.Last7Days: 266, db.Last30Days: 182, db.Last90Days: 151},
		"posts":    {db.Last24Hours: 0.5, db.Last7Days: 1, db.Last30Days: 99, db.Last90Days: 1968},
		"list":     {db.Last24Hours: 29.3},
		"search/a": {db.Last24Hours: 2981},
		"search/b": {db.Last24Hours: 909},
	}
	got := proposed(m)
	for _, want := range []string{
		"ranking: byRange{db.Last24Hours: 230, db.Last7Days: 400, db.Last30Days: 400, db.Last90Days: 400}",
		"posts: byRange{db.Last24Hours: 1, db.Last7Days: 2, db.Last30Days: 150, db.Last90Days: 3000}",
		"list: 44,", "search: 4456,",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("proposed prices lack %q:\n%s", want, got)
		}
	}
}
