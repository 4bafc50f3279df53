package db

import "time"

// The canonical arguments of the cached reads. Each constructor applies
// defaults, checks and normalises a client's arguments once (a city as its
// slug, a search as Search returns it), so that arguments that read the same
// rows are equal values. Their JSON encoding is the read's cache key: a
// field's JSON name is part of every key and must not change. The tags each
// read depends on are their Tags methods, in tag.go.

// PropertyArgs are the canonical arguments of a property list.
type PropertyArgs struct {
	DestinationID *int64        `json:"d,omitempty"`
	City          *string       `json:"c,omitempty"`
	MinPrice      *Money        `json:"min,omitempty"`
	MaxPrice      *Money        `json:"max,omitempty"`
	Search        *string       `json:"s,omitempty"`
	First         int           `json:"first"`
	After         string        `json:"after,omitempty"`
	Order         PropertyOrder `json:"order"`
	// Count asks for the page's TotalCount. It is part of the key, so a
	// page read without its count never answers a query that selects it.
	Count bool `json:"count,omitempty"`
}

// NewPropertyArgs canonicalises a property list's filter (nil for none),
// page and order ("" for OrderNewest).
func NewPropertyArgs(f *PropertyFilter, p Page, order PropertyOrder) (PropertyArgs, error) {
	a := PropertyArgs{First: p.First, After: p.After, Order: order}
	if a.Order == "" {
		a.Order = OrderNewest
	}
	if f == nil {
		return a, nil
	}
	a.DestinationID, a.MinPrice, a.MaxPrice = f.DestinationID, f.MinPrice, f.MaxPrice
	var err error
	if a.City, err = citySlugArg("filter.city", f.City); err != nil {
		return PropertyArgs{}, err
	}
	for _, p := range []*Money{a.MinPrice, a.MaxPrice} {
		if p != nil && (*p < 0 || *p >= MaxMoney) {
			return PropertyArgs{}, Invalid("filter.price", "must be between 0 and 10^10")
		}
	}
	if f.Search != nil {
		s, err := Search(*f.Search)
		if err != nil {
			return PropertyArgs{}, err
		}
		if s != "" {
			a.Search = &s
		}
	}
	return a, nil
}

// Filter is the filter a describes.
func (a PropertyArgs) Filter() PropertyFilter {
	return PropertyFilter{DestinationID: a.DestinationID, City: a.City, MinPrice: a.MinPrice, MaxPrice: a.MaxPrice, Search: a.Search}
}

// Page is the page a asks for.
func (a PropertyArgs) Page() Page { return Page{First: a.First, After: a.After} }

// DestinationArgs are the canonical arguments of a destination list.
type DestinationArgs struct {
	City     *string   `json:"c,omitempty"`
	Category *Category `json:"cat,omitempty"`
	First    int       `json:"first"`
	After    string    `json:"after,omitempty"`
}

// NewDestinationArgs canonicalises a destination list's filter and page.
func NewDestinationArgs(city *string, category *Category, p Page) (DestinationArgs, error) {
	a := DestinationArgs{Category: category, First: p.First, After: p.After}
	var err error
	if a.City, err = citySlugArg("city", city); err != nil {
		return DestinationArgs{}, err
	}
	return a, nil
}

// Filter is the filter a describes.
func (a DestinationArgs) Filter() DestinationFilter {
	return DestinationFilter{City: a.City, Category: a.Category}
}

// Page is the page a asks for.
func (a DestinationArgs) Page() Page { return Page{First: a.First, After: a.After} }

// SlugArgs ask for a destination by its slug (slugs never change).
type SlugArgs struct{ Slug string }

// AnalyticsArgs are the canonical arguments of an analytics figure or
// ranking. End is the end of the range's window at the request's instant,
// so an entry never outlives the hour it describes. A ranking's limit is
// not among them: a ranking is read once at its largest limit and a
// smaller limit is a prefix of it.
type AnalyticsArgs struct {
	DestinationID *int64    `json:"d,omitempty"`
	City          *string   `json:"c,omitempty"`
	Category      *Category `json:"cat,omitempty"`
	Range         TimeRange `json:"r"`
	End           int64     `json:"end"`
}

// NewAnalyticsArgs canonicalises the arguments of an analytics field read
// at now.
func NewAnalyticsArgs(destinationID *int64, city *string, category *Category, r TimeRange, now time.Time) (AnalyticsArgs, error) {
	a := AnalyticsArgs{DestinationID: destinationID, Category: category, Range: r, End: WindowEnd(r, now)}
	var err error
	if a.City, err = citySlugArg("city", city); err != nil {
		return AnalyticsArgs{}, err
	}
	return a, nil
}

// Filter is the destination filter of a ranking.
func (a AnalyticsArgs) Filter() DestinationFilter {
	return DestinationFilter{City: a.City, Category: a.Category}
}

// PostArgs are the canonical arguments of a page of posts.
type PostArgs struct {
	AnalyticsArgs
	First int    `json:"first"`
	After string `json:"after,omitempty"`
}

// Page is the page a asks for.
func (a PostArgs) Page() Page { return Page{First: a.First, After: a.After} }

// WindowEnd is the end of r's window at now, in Unix seconds: the instant
// a cached analytics entry is keyed by.
func WindowEnd(r TimeRange, now time.Time) int64 {
	_, end := r.Window(now)
	return end.Unix()
}

// citySlugArg canonicalises a city filter: cities are matched by their
// slug, so "Alor Setar" and "alor  setar" are the same filter.
func citySlugArg(field string, city *string) (*string, error) {
	if err := checkCityFilter(field, city); err != nil || city == nil {
		return nil, err // the text as sent: its slug would hide a NUL byte
	}
	slug := CitySlug(*city)
	if slug == "" {
		return nil, Invalid(field, "must name a city")
	}
	return &slug, nil
}
