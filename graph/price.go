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
// (db.DemoSeed) on each database, process and backend CPU together, as it
// proposes them: the larger of two runs on an idle 2-core machine (5 and
// 20 calls a read), times headroom (1.5, for a loaded machine), rounded
// up to two figures, never less over a longer window. To recalibrate
// (after the SQL changes, or for other data), run it and copy the table it
// logs here; docs/configuration.md says how.
var prices = map[string]priceTable{
	db.DialectSQLite: {
		ranking:       byRange{db.Last24Hours: 170, db.Last7Days: 210, db.Last30Days: 350, db.Last90Days: 350},
		sentiment:     byRange{db.Last24Hours: 71, db.Last7Days: 120, db.Last30Days: 190, db.Last90Days: 190},
		destSentiment: byRange{db.Last24Hours: 8, db.Last7Days: 8, db.Last30Days: 10, db.Last90Days: 10},
		destTrend:     byRange{db.Last24Hours: 4, db.Last7Days: 6, db.Last30Days: 6, db.Last90Days: 6},
		posts:         byRange{db.Last24Hours: 76, db.Last7Days: 230, db.Last30Days: 940, db.Last90Days: 2500},
		list:          32,
		search:        2780, // "freehold", the most frequent word measured
	},
	db.DialectPostgres: {
		ranking:       byRange{db.Last24Hours: 450, db.Last7Days: 450, db.Last30Days: 450, db.Last90Days: 570},
		sentiment:     byRange{db.Last24Hours: 110, db.Last7Days: 110, db.Last30Days: 330, db.Last90Days: 330},
		destSentiment: byRange{db.Last24Hours: 14, db.Last7Days: 20, db.Last30Days: 20, db.Last90Days: 21},
		destTrend:     byRange{db.Last24Hours: 64, db.Last7Days: 64, db.Last30Days: 64, db.Last90Days: 64},
		posts:         byRange{db.Last24Hours: 150, db.Last7Days: 370, db.Last30Days: 990, db.Last90Days: 3700},
		list:          340,
		search:        1320, // "ga", a two-letter search, the dearest measured
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
