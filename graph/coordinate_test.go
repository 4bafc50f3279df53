package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
)

// The cache keys of the cached coordinates are pinned: a key that changes
// spelling orphans every entry cached under the old one at deploy.
func TestCacheKeysArePinned(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	r := &Resolver{Now: func() time.Time { return now }}
	dest, city, search, first, after := int64(3), " Alor  SETAR ", "  Sea VIEW ", 5, "abc"
	minP, maxP := db.Money(1000), db.Money(250000)
	order := db.OrderPriceAsc
	week, cat := db.Last30Days, db.CategoryBeach
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	props, err := newPropertiesArgs(&db.PropertyFilter{DestinationID: &dest, City: &city, MinPrice: &minP, MaxPrice: &maxP, Search: &search}, &first, &after, &order)
	must(err)
	plain, err := newPropertiesArgs(nil, nil, nil, nil)
	must(err)
	figures, err := r.newAnalyticsArgs(&dest, &city, nil, &week)
	must(err)
	ranking, err := r.rankingArgs(nil, nil, &city, &cat)
	must(err)
	posts, err := r.newAnalyticsArgs(&dest, nil, nil, nil)
	must(err)
	for _, c := range []struct{ got, want string }{
		{cacheKey(coordQueryProperties, 0, props), `Query.properties|0|{"d":3,"c":"alor-setar","min":1000,"max":250000,"s":"sea view","first":5,"after":"abc","order":"PRICE_ASC"}`},
		{cacheKey(coordQueryProperties, 0, plain), `Query.properties|0|{"first":20,"order":"NEWEST"}`},
		{cacheKey(coordQuerySentimentSummary, 0, figures), `Query.sentimentSummary|0|{"d":3,"c":"alor-setar","r":"LAST_30_DAYS","end":1714982400}`},
		{cacheKey(coordQueryTopDestinations, 0, ranking), `Query.topDestinations|0|{"c":"alor-setar","cat":"BEACH","r":"LAST_7_DAYS","end":1714982400,"limit":10}`},
		{cacheKey(coordQueryPosts, 0, postsArgs{analyticsArgs: posts, First: 20}), `Query.posts|0|{"d":3,"r":"LAST_7_DAYS","end":1714982400,"first":20}`},
		{cacheKey(coordQueryDestinations, 0, destinationsArgs{City: props.City, First: 20}), `Query.destinations|0|{"c":"alor-setar","first":20}`},
		{cacheKey(coordQueryDestination, 0, struct{ Slug string }{"pantai-cenang"}), `Query.destination|0|{"Slug":"pantai-cenang"}`},
		{r.analyticsLookup(coordDestinationTrend)(rangeKey{DestinationID: 3, Range: db.Last7Days}).Key, `Destination.trend|3|{"Range":"LAST_7_DAYS","End":1714982400}`},
		{cacheKey(coordDestinationProperties, 3, struct{ First int }{10}), `Destination.properties|3|{"First":10}`},
		{cacheKey(coordProperty, 7, nil), `Property|7`},
	} {
		if c.got != c.want {
			t.Errorf("key\n got %s\nwant %s", c.got, c.want)
		}
	}
	for _, c := range []struct{ got, want []string }{
		{props.tags(), []string{"properties", "properties:price", "properties:text", "destination:3:properties", "city:alor-setar:properties"}},
		{plain.tags(), []string{"properties"}},
		{figures.tags(false), []string{"destination:3:analytics", "city:alor-setar:analytics"}},
		{ranking.tags(true), []string{"city:alor-setar:analytics", "destinations"}},
		{posts.tags(false), []string{"destination:3:analytics"}},
	} {
		if strings.Join(c.got, " ") != strings.Join(c.want, " ") {
			t.Errorf("tags %q, want %q", c.got, c.want)
		}
	}
}
