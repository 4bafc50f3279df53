package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/graph/limit"
)

// The cache keys of the cached coordinates are pinned: a key that changes
// spelling orphans every entry cached under the old one at deploy.
func TestCacheKeysArePinned(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	ctx := context.Background()
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
	props, err := propertyArgs(&db.PropertyFilter{DestinationID: &dest, City: &city, MinPrice: &minP, MaxPrice: &maxP, Search: &search}, &first, &after, &order)
	must(err)
	plain, err := propertyArgs(nil, nil, nil, nil)
	must(err)
	counted := plain
	counted.Count = true
	figures, err := r.analyticsArgs(ctx, &dest, &city, nil, &week)
	must(err)
	ranking, _, err := r.rankingArgs(ctx, rankingLimit, nil, nil, &city, &cat)
	must(err)
	dests, err := db.NewDestinationArgs(&city, nil, db.Page{First: 20})
	must(err)
	posts, err := r.analyticsArgs(ctx, &dest, nil, nil, nil)
	must(err)
	for _, c := range []struct{ got, want string }{
		{cacheKey(queryProperties.name, 0, props), `Query.properties|0|{"d":3,"c":"alor-setar","min":1000,"max":250000,"s":"sea view","first":5,"after":"abc","order":"PRICE_ASC"}`},
		{cacheKey(queryProperties.name, 0, plain), `Query.properties|0|{"first":20,"order":"NEWEST"}`},
		{cacheKey(queryProperties.name, 0, counted), `Query.properties|0|{"first":20,"order":"NEWEST","count":true}`},
		{cacheKey(querySentimentSummary.name, 0, figures), `Query.sentimentSummary|0|{"d":3,"c":"alor-setar","r":"LAST_30_DAYS","end":1714982400}`},
		// A ranking's key has no limit: every limit reads one entry.
		{cacheKey(queryTopDestinations.name, 0, ranking), `Query.topDestinations|0|{"c":"alor-setar","cat":"BEACH","r":"LAST_7_DAYS","end":1714982400}`},
		{cacheKey(queryTrends.name, 0, ranking), `Query.trends|0|{"c":"alor-setar","cat":"BEACH","r":"LAST_7_DAYS","end":1714982400}`},
		{cacheKey(queryPosts.name, 0, db.PostArgs{AnalyticsArgs: posts, First: 20}), `Query.posts|0|{"d":3,"r":"LAST_7_DAYS","end":1714982400,"first":20}`},
		{cacheKey(queryDestinations.name, 0, dests), `Query.destinations|0|{"c":"alor-setar","first":20}`},
		{cacheKey(queryDestination.name, 0, db.SlugArgs{Slug: "pantai-cenang"}), `Query.destination|0|{"Slug":"pantai-cenang"}`},
		{lookup(destinationTrend, r.rangeKey(ctx, &db.Destination{ID: 3}, nil)), `Destination.trend|3|{"Range":"LAST_7_DAYS","End":1714982400}`},
		{lookup(destinationProperties, destPropsKey{DestinationID: 3, First: 10}), `Destination.properties|3|{"First":10}`},
		{lookup(entityProperty, 7), `Property|7`},
	} {
		if c.got != c.want {
			t.Errorf("key\n got %s\nwant %s", c.got, c.want)
		}
	}
	for _, c := range []struct{ got, want []string }{
		{props.Tags(), []string{"properties", "properties:price", "properties:text", "destination:3:properties", "city:alor-setar:properties"}},
		{plain.Tags(), []string{"properties"}},
		{figures.Tags(), []string{"destination:3:analytics", "city:alor-setar:analytics"}},
		{ranking.RankingTags(), []string{"city:alor-setar:analytics", "destinations"}},
		{posts.Tags(), []string{"destination:3:analytics"}},
	} {
		if strings.Join(c.got, " ") != strings.Join(c.want, " ") {
			t.Errorf("tags %q, want %q", c.got, c.want)
		}
	}
}

// lookup is the key a batched coordinate reads k under.
func lookup[K comparable, V any](c *batched[K, V], k K) string { return c.lookup(k).Key }

// A batched coordinate's kept lookups are the ones it would build, for
// keys that share a slot and evict each other too.
func TestLookupMemo(t *testing.T) {
	for round := range 2 {
		for id := int64(1); id <= 3*lookupSlots; id += 7 {
			got := entityProperty.lookup(id)
			want := fmt.Sprintf("Property|%d all property:%d", id, id) // the entry's tag set (cache.NewLookup)
			if s := got.Key + " " + strings.Join(got.Tags, " "); s != want {
				t.Fatalf("round %d: lookup(%d) = %s, want %s", round, id, s, want)
			}
		}
	}
}

// Equal arguments give equal keys, whatever their spelling; different
// arguments give different keys.
func FuzzPropertiesKey(f *testing.F) {
	f.Add(int64(3), "Alor Setar", int64(1000), int64(250000), "Sea View", 20, "", 0)
	f.Add(int64(0), "", int64(-1), int64(-1), "", 0, "abc", 2)
	f.Fuzz(func(t *testing.T, dest int64, city string, minP, maxP int64, search string, first int, after string, order int) {
		orders := []db.PropertyOrder{db.OrderNewest, db.OrderPriceAsc, db.OrderPriceDesc}
		o := orders[(order%3+3)%3]
		build := func(city, search string, minP, maxP int64, first int) (db.PropertyArgs, error) {
			var fl db.PropertyFilter
			if dest > 0 {
				fl.DestinationID = &dest
			}
			if city != "" {
				fl.City = &city
			}
			if minP >= 0 {
				m := db.Money(minP)
				fl.MinPrice = &m
			}
			if maxP >= 0 {
				m := db.Money(maxP)
				fl.MaxPrice = &m
			}
			if search != "" {
				fl.Search = &search
			}
			return propertyArgs(&fl, &first, &after, &o)
		}
		a, err := build(city, search, minP, maxP, first)
		if err != nil {
			return // invalid arguments never reach the cache
		}
		key := cacheKey(queryProperties.name, 0, a)
		if len(key) > 200 {
			t.Fatalf("a key of %d bytes: %.100s", len(key), key)
		}
		// The same arguments spelled differently: city case and spacing, search case and padding.
		b, err := build("  "+strings.ToUpper(city)+" ", " "+strings.ToUpper(search)+"  ", minP, maxP, first)
		if err == nil && strings.ToLower(strings.ToUpper(search)) == strings.ToLower(search) &&
			db.CitySlug(strings.ToUpper(city)) == db.CitySlug(city) {
			if cacheKey(queryProperties.name, 0, b) != key {
				t.Fatalf("equal arguments, different keys:\n%s\n%s", key, cacheKey(queryProperties.name, 0, b))
			}
		}
		// Different arguments: another page size.
		other := (first + 1) % (db.MaxFirst + 1)
		if c, err := build(city, search, minP, maxP, other); err == nil && other != first {
			if cacheKey(queryProperties.name, 0, c) == key {
				t.Fatalf("first %d and %d share the key %s", first, other, key)
			}
		}
	})
}

// The cost limiter's pages, derived from the table, are the pages the
// schema documents.
func TestPricingPages(t *testing.T) {
	want := map[string]limit.Page{
		"Query.properties":       {Arg: "first", Default: 20, Max: 100},
		"Query.destinations":     {Arg: "first", Default: 20, Max: 100},
		"Query.posts":            {Arg: "first", Default: 20, Max: 100},
		"Query.topDestinations":  {Arg: "limit", Default: 10, Max: 100},
		"Query.trends":           {Arg: "limit", Default: 10, Max: 100},
		"Query.scrapeRuns":       {Arg: "last", Default: 10, Max: 100},
		"Destination.properties": {Arg: "first", Default: 10, Max: 100},
	}
	if got := Pricing(db.DialectSQLite).Pages; !reflect.DeepEqual(got, want) {
		t.Errorf("pages %v, want %v", got, want)
	}
}
