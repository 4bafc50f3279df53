package graph

import (
	"github.com/kedahpulse/kedahpulse/db"
)

// Paging bounds shared by every connection.
const (
	defaultFirst = 20
	maxFirst     = db.MaxFirst
)

func pageSize(first *int, def int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 0 || *first > maxFirst {
		return 0, db.Invalid("first", "must be between 0 and %d, got %d", maxFirst, *first)
	}
	return *first, nil
}

func limitArg(limit *int, def int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || *limit > maxFirst {
		return 0, db.Invalid("limit", "must be between 1 and %d, got %d", maxFirst, *limit)
	}
	return *limit, nil
}

func rangeArg(r *db.TimeRange) db.TimeRange {
	if r == nil {
		return db.Last7Days
	}
	return *r
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cityArg validates and canonicalises a city filter: cities are matched by
// their slug, so "Alor Setar" and "alor  setar" are the same filter.
func cityArg(city *string) (*string, error) {
	if city == nil {
		return nil, nil
	}
	slug := db.CitySlug(*city)
	if slug == "" {
		return nil, db.Invalid("city", "must name a city")
	}
	return &slug, nil
}

// propertiesArgs are the canonical arguments of Query.properties: defaults
// applied, the city as its slug, the search folded as db folds it and
// trimmed (the search is case-insensitive, so it is folded as db folds it), prices as exact cents.
type propertiesArgs struct {
	DestinationID *int64           `json:"d,omitempty"`
	City          *string          `json:"c,omitempty"`
	MinPrice      *db.Money        `json:"min,omitempty"`
	MaxPrice      *db.Money        `json:"max,omitempty"`
	Search        *string          `json:"s,omitempty"`
	First         int              `json:"first"`
	After         string           `json:"after,omitempty"`
	Order         db.PropertyOrder `json:"order"`
}

func newPropertiesArgs(f *db.PropertyFilter, first *int, after *string, order *db.PropertyOrder) (propertiesArgs, error) {
	n, err := pageSize(first, defaultFirst)
	if err != nil {
		return propertiesArgs{}, err
	}
	a := propertiesArgs{First: n, After: str(after), Order: db.OrderNewest}
	if order != nil {
		a.Order = *order
	}
	if f == nil {
		return a, nil
	}
	a.DestinationID, a.MinPrice, a.MaxPrice = f.DestinationID, f.MinPrice, f.MaxPrice
	if a.City, err = cityArg(f.City); err != nil {
		return propertiesArgs{}, db.Invalid("filter.city", "must name a city")
	}
	for _, p := range []*db.Money{a.MinPrice, a.MaxPrice} {
		if p != nil && (*p < 0 || *p >= db.MaxMoney) {
			return propertiesArgs{}, db.Invalid("filter.price", "must be between 0 and 10^10")
		}
	}
	if f.Search != nil {
		s, err := db.Search(*f.Search)
		if err != nil {
			return propertiesArgs{}, err
		}
		if s != "" {
			a.Search = &s
		}
	}
	return a, nil
}

// filter is the db filter the canonical arguments describe.
func (a propertiesArgs) filter() db.PropertyFilter {
	return db.PropertyFilter{DestinationID: a.DestinationID, City: a.City, MinPrice: a.MinPrice, MaxPrice: a.MaxPrice, Search: a.Search}
}

// tags are the tags a property list depends on: every list depends on
// creates and deletes; lists filtered or ordered by price, by text, by
// destination or by city also depend on changes to those.
func (a propertiesArgs) tags() []string {
	tags := []string{db.TagProperties}
	if a.MinPrice != nil || a.MaxPrice != nil || a.Order == db.OrderPriceAsc || a.Order == db.OrderPriceDesc {
		tags = append(tags, db.TagPropertiesPrice)
	}
	if a.Search != nil {
		tags = append(tags, db.TagPropertiesText)
	}
	if a.DestinationID != nil {
		tags = append(tags, db.DestinationPropertiesTag(*a.DestinationID))
	}
	if a.City != nil {
		tags = append(tags, db.CityPropertiesTag(*a.City))
	}
	return tags
}

// analyticsArgs are the canonical arguments of the analytics root fields.
// End is the end of the range's window, so an entry never outlives the hour
// it describes.
type analyticsArgs struct {
	DestinationID *int64       `json:"d,omitempty"`
	City          *string      `json:"c,omitempty"`
	Category      *db.Category `json:"cat,omitempty"`
	Range         db.TimeRange `json:"r"`
	End           int64        `json:"end"`
	Limit         int          `json:"limit,omitempty"`
}

// tags are the analytics a figure depends on: one destination's, one
// city's, or everyone's; rankings also depend on which destinations exist
// and their names, cities and categories. (A destination that moves city
// bumps both cities' analytics tags, so a city's sums need no more.)
func (a analyticsArgs) tags(ranking bool) []string {
	var tags []string
	switch {
	case a.DestinationID != nil:
		tags = append(tags, db.DestinationAnalyticsTag(*a.DestinationID))
		if a.City != nil {
			tags = append(tags, db.CityAnalyticsTag(*a.City))
		}
	case a.City != nil:
		tags = append(tags, db.CityAnalyticsTag(*a.City))
	default:
		tags = append(tags, db.TagAnalytics)
	}
	if ranking {
		tags = append(tags, db.TagDestinations)
	}
	return tags
}
