package graph

import (
	"fmt"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/limit"
)

// CostUnit is the server CPU one unit of cost stands for: the default cost
// limit, 5,000, is then 50 ms of CPU on a cold cache.
const CostUnit = 10 * time.Microsecond

// Pricing is what fields cost under the cost limit on a store of dialect
// (db.DialectSQLite or db.DialectPostgres): every field 1, list fields
// their children's cost times their page (from the table of coordinates),
// and the reads below their measured cold cost (prices).
func Pricing(dialect string) limit.Pricing {
	table, ok := prices[dialect]
	if !ok {
		table = prices[db.DialectPostgres]
	}
	return limit.Pricing{Pages: pages(), Surcharge: table.surcharge, Shared: table.shared}
}

// byRange is a read's price by analytics window.
type byRange map[db.TimeRange]int

// at is the price over r; a range not known yet (a variable before it is
// coerced) takes the cheapest, so that the check before coercion stays a
// lower bound.
func (b byRange) at(r db.TimeRange) int {
	if p, ok := b[r]; ok {
		return p
	}
	return b[db.Last24Hours]
}

// priceTable is what each priced read costs on a cold cache, in CostUnits.
type priceTable struct {
	ranking       byRange // a ranking of destinations (topDestinations, trends), read at the largest limit
	sentiment     byRange // sentimentSummary over every destination
	destSentiment byRange // one destination's sentiment, read in a batch
	destTrend     byRange // one destination's trend with its series, read in a batch
	posts         byRange // a page of posts with their count over the window
	list          int     // a page of properties or destinations with its count
	search        int     // a text search's page and count, beyond list
}

// prices are the cold costs BenchmarkPrices measured on the demo data
// (db.DemoSeed) on each database, process and backend CPU together, on a
// loaded 2-core machine, rounded to two figures. To recalibrate (after the
// SQL changes, or for other data), run it and copy its units/op column
// here; docs/configuration.md says how.
var prices = map[string]priceTable{
	db.DialectSQLite: {
		ranking:       byRange{db.Last24Hours: 810, db.Last7Days: 1700, db.Last30Days: 1700, db.Last90Days: 4200},
		sentiment:     byRange{db.Last24Hours: 250, db.Last7Days: 290, db.Last30Days: 590, db.Last90Days: 1500},
		destSentiment: byRange{db.Last24Hours: 32, db.Last7Days: 62, db.Last30Days: 62, db.Last90Days: 100},
		destTrend:     byRange{db.Last24Hours: 78, db.Last7Days: 100, db.Last30Days: 110, db.Last90Days: 110},
		posts:         byRange{db.Last24Hours: 110, db.Last7Days: 320, db.Last30Days: 1500, db.Last90Days: 4000},
		list:          63,
		search:        14_000, // "freehold", the most frequent word measured
	},
	db.DialectPostgres: {
		ranking:       byRange{db.Last24Hours: 1600, db.Last7Days: 1600, db.Last30Days: 2500, db.Last90Days: 2500},
		sentiment:     byRange{db.Last24Hours: 290, db.Last7Days: 1400, db.Last30Days: 1400, db.Last90Days: 2000},
		destSentiment: byRange{db.Last24Hours: 39, db.Last7Days: 39, db.Last30Days: 69, db.Last90Days: 69},
		destTrend:     byRange{db.Last24Hours: 46, db.Last7Days: 46, db.Last30Days: 97, db.Last90Days: 97},
		posts:         byRange{db.Last24Hours: 1900, db.Last7Days: 5100, db.Last30Days: 6100, db.Last90Days: 7900},
		list:          1100,
		search:        2500, // "langkawi", "freehold", "sq ft" alike
	},
}

// alone caps the price of one read: a read measured dearer than the whole
// budget (a frequent word's search, the posts of a long window on today's
// SQL) is priced at it, so that it passes alone, with a few fields around
// it, and never beside another.
const alone = 4_000

func pages() map[string]limit.Page {
	out := map[string]limit.Page{}
	for _, c := range append(coordinates[:len(coordinates):len(coordinates)], uncached...) {
		if c.page != nil {
			out[c.name] = limit.Page{Arg: c.page.arg, Default: c.page.def, Max: c.page.max}
		}
	}
	return out
}

// surcharge prices a field's own read from its arguments (see
// limit.Pricing): analytics by their window and by how many destinations
// they read, text search by its scan, lists by their count.
func (p priceTable) surcharge(coord string, args map[string]any) int {
	rng, _ := args["range"].(string)
	r := db.TimeRange(rng)
	price := 0
	switch coord {
	case queryTopDestinations.name:
		price = p.ranking.at(r)
	case queryTrends.name:
		price = p.ranking.at(r) + queryTrends.page.clamp(args["limit"])*(p.destTrend.at(r)+seriesPoints(r))
	case querySentimentSummary.name:
		price = p.sentiment.at(r)
	case destinationSentiment.name:
		price = p.destSentiment.at(r)
	case destinationTrend.name:
		price = p.destTrend.at(r) + seriesPoints(r)
	case queryPosts.name:
		price = p.posts.at(r)
	case queryDestinations.name:
		price = p.list
	case queryProperties.name:
		price = p.list
		if f, _ := args["filter"].(map[string]any); f != nil {
			if s, _ := f["search"].(string); s != "" {
				price += p.search
			}
		}
	}
	return min(price, alone)
}

// shared names the ranking a root field reads: topDestinations and trends
// of one window and filter read one ranking (at the largest limit), paid
// once per request.
func (p priceTable) shared(coord string, args map[string]any) (string, int) {
	if coord != queryTopDestinations.name && coord != queryTrends.name {
		return "", 0
	}
	rng, _ := args["range"].(string)
	if rng == "" {
		return "", 0 // not known yet: nothing is shared
	}
	city, _ := args["city"].(string)
	category, _ := args["category"].(string)
	return fmt.Sprintf("ranking|%s|%q|%s", rng, city, category), min(p.ranking.at(db.TimeRange(rng)), alone)
}

// seriesPoints is what a trend's series costs beyond its read: one unit a
// point, one point a day of r (Trend.series is not priced as a page: its
// points are not fetched one by one).
func seriesPoints(r db.TimeRange) int {
	switch r {
	case db.Last7Days:
		return 7
	case db.Last30Days:
		return 30
	case db.Last90Days:
		return 90
	}
	return 1
}

// clamp is the page v asks for as the resolver takes it, between 1 and
// max, 1 when it is not known yet.
func (p *page) clamp(v any) int {
	n, ok := limit.Int(v)
	if !ok {
		return 1
	}
	return min(max(n, 1), p.max)
}
