package db

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The cache-tag vocabulary. Every cached entry carries the tags its content
// depends on (the read side, below: the Tags methods of the canonical
// arguments in args.go); every write names the tags it changes (the write
// side: the Change each write returns). This file is the only place that
// spells a tag. Tags match [a-z0-9:._-]+ so they can be written
// into cache entry headers unescaped.
const (
	// TagProperties guards every property list's membership, order and count
	// against creates and deletes.
	TagProperties = "properties"
	// TagPropertiesPrice guards property lists filtered or ordered by price.
	TagPropertiesPrice = "properties:price"
	// TagPropertiesText guards property lists filtered by a search string.
	TagPropertiesText = "properties:text"
	// TagDestinations guards destination lists and anything whose membership
	// depends on a destination's name, city or category.
	TagDestinations = "destinations"
	// TagAnalytics guards global analytics (all destinations).
	TagAnalytics = "analytics"
	// TagAll names every cached entry. A write that rewrites data in bulk
	// (the seed) records it, since entries cached before it, such as a
	// destination read as null from an empty database, carry per-id and
	// per-city tags it cannot enumerate. It must equal the cache's AllTag,
	// which every entry carries implicitly; a test in cache asserts
	// that the two match.
	TagAll = "all"
)

// PropertyTag names one property row.
func PropertyTag(id int64) string { return idTag("property:", id, "") }

// DestinationTag names one destination row.
func DestinationTag(id int64) string { return idTag("destination:", id, "") }

// DestinationPropertiesTag guards lists of the properties of one destination.
func DestinationPropertiesTag(id int64) string { return idTag("destination:", id, ":properties") }

// DestinationAnalyticsTag guards the sentiment, trends and posts of one destination.
func DestinationAnalyticsTag(id int64) string { return idTag("destination:", id, ":analytics") }

// idTag is prefix, id and suffix in one allocation (tags are built per
// entity on every read).
func idTag(prefix string, id int64, suffix string) string {
	var buf [64]byte
	b := append(buf[:0], prefix...)
	b = strconv.AppendInt(b, id, 10)
	return string(append(b, suffix...))
}

// IsAnalyticsTag reports whether tag guards analytics: TagAnalytics,
// DestinationAnalyticsTag or CityAnalyticsTag.
func IsAnalyticsTag(tag string) bool {
	return tag == TagAnalytics || strings.HasSuffix(tag, ":"+TagAnalytics)
}

// CityPropertiesTag guards property lists filtered by city.
func CityPropertiesTag(city string) string { return "city:" + CitySlug(city) + ":properties" }

// CityAnalyticsTag guards analytics filtered by city.
func CityAnalyticsTag(city string) string { return "city:" + CitySlug(city) + ":analytics" }

// Read side: the tags a cached read depends on.

// Tags are the tags a property list depends on: every list depends on
// creates and deletes; lists filtered or ordered by price, by text, by
// destination or by city also depend on changes to those.
func (a PropertyArgs) Tags() []string {
	tags := []string{TagProperties}
	if a.MinPrice != nil || a.MaxPrice != nil || a.Order == OrderPriceAsc || a.Order == OrderPriceDesc {
		tags = append(tags, TagPropertiesPrice)
	}
	if a.Search != nil {
		tags = append(tags, TagPropertiesText)
	}
	if a.DestinationID != nil {
		tags = append(tags, DestinationPropertiesTag(*a.DestinationID))
	}
	if a.City != nil {
		tags = append(tags, CityPropertiesTag(*a.City))
	}
	return tags
}

// Tags are the tags a destination list depends on: which destinations
// exist, and their names, cities and categories.
func (DestinationArgs) Tags() []string { return []string{TagDestinations} }

// Tags are the tags a slug lookup depends on: which destinations exist.
func (SlugArgs) Tags() []string { return []string{TagDestinations} }

// Tags are the tags an analytics figure (and a page of posts) depends on:
// one destination's analytics, one city's, or everyone's. (A destination
// that moves city bumps both cities' analytics tags, so a city's sums need
// no more.)
func (a AnalyticsArgs) Tags() []string {
	switch {
	case a.DestinationID != nil && a.City != nil:
		return []string{DestinationAnalyticsTag(*a.DestinationID), CityAnalyticsTag(*a.City)}
	case a.DestinationID != nil:
		return []string{DestinationAnalyticsTag(*a.DestinationID)}
	case a.City != nil:
		return []string{CityAnalyticsTag(*a.City)}
	default:
		return []string{TagAnalytics}
	}
}

// RankingTags are the tags a ranking of destinations depends on: its
// figures' tags, and which destinations exist and their names, cities and
// categories.
func (a AnalyticsArgs) RankingTags() []string { return append(a.Tags(), TagDestinations) }

// PropertyTags are the tags of one property row.
func PropertyTags(id int64) []string { return []string{PropertyTag(id)} }

// DestinationTags are the tags of one destination row.
func DestinationTags(id int64) []string { return []string{DestinationTag(id)} }

// DestinationPropertiesTags are the tags of one destination's newest
// properties.
func DestinationPropertiesTags(id int64) []string { return []string{DestinationPropertiesTag(id)} }

// DestinationAnalyticsTags are the tags of one destination's sentiment and
// trend.
func DestinationAnalyticsTags(id int64) []string { return []string{DestinationAnalyticsTag(id)} }

// CitySlug folds a city name to the form used in tags and filters: accents
// removed, lower case, runs of other characters turned into one '-'.
// "Alor Setar" and "alor  SETAR" give the same slug.
func CitySlug(city string) string { return Slugify(city) }

// Slugify lower-cases s, strips accents and joins its words with '-'.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	return b.String()
}

// ValidTag reports whether s is a well-formed tag.
func ValidTag(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(":._-", r)) {
			return false
		}
	}
	return true
}
