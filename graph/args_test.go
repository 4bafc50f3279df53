package graph

import (
	"strings"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
)

// Equal arguments give equal keys, whatever their spelling; different
// arguments give different keys.
func FuzzPropertiesKey(f *testing.F) {
	f.Add(int64(3), "Alor Setar", int64(1000), int64(250000), "Sea View", 20, "", 0)
	f.Add(int64(0), "", int64(-1), int64(-1), "", 0, "abc", 2)
	f.Fuzz(func(t *testing.T, dest int64, city string, minP, maxP int64, search string, first int, after string, order int) {
		orders := []db.PropertyOrder{db.OrderNewest, db.OrderPriceAsc, db.OrderPriceDesc}
		o := orders[(order%3+3)%3]
		build := func(city, search string, minP, maxP int64, first int) (propertiesArgs, error) {
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
			return newPropertiesArgs(&fl, &first, &after, &o)
		}
		a, err := build(city, search, minP, maxP, first)
		if err != nil {
			return // invalid arguments never reach the cache
		}
		key := cacheKey(coordQueryProperties, 0, a)
		if len(key) > 200 {
			t.Fatalf("a key of %d bytes: %.100s", len(key), key)
		}
		// The same arguments spelled differently: city case and spacing, search case and padding.
		b, err := build("  "+strings.ToUpper(city)+" ", " "+strings.ToUpper(search)+"  ", minP, maxP, first)
		if err == nil && strings.ToLower(strings.ToUpper(search)) == strings.ToLower(search) &&
			db.CitySlug(strings.ToUpper(city)) == db.CitySlug(city) {
			if cacheKey(coordQueryProperties, 0, b) != key {
				t.Fatalf("equal arguments, different keys:\n%s\n%s", key, cacheKey(coordQueryProperties, 0, b))
			}
		}
		// Different arguments: another page size.
		other := (first + 1) % (maxFirst + 1)
		if c, err := build(city, search, minP, maxP, other); err == nil && other != first {
			if cacheKey(coordQueryProperties, 0, c) == key {
				t.Fatalf("first %d and %d share the key %s", first, other, key)
			}
		}
	})
}
