package db

import (
	"time"

	"github.com/uptrace/bun"
)

// Category is a destination's kind; its values are the GraphQL enum's.
type Category string

const (
	CategoryAttraction Category = "ATTRACTION"
	CategoryNature     Category = "NATURE"
	CategoryBeach      Category = "BEACH"
	CategoryIsland     Category = "ISLAND"
	CategoryCulture    Category = "CULTURE"
	CategoryFood       Category = "FOOD"
	CategoryShopping   Category = "SHOPPING"
	CategoryEvent      Category = "EVENT"
	CategoryStay       Category = "STAY"
)

// Categories lists every Category in schema order.
var Categories = []Category{CategoryAttraction, CategoryNature, CategoryBeach, CategoryIsland,
	CategoryCulture, CategoryFood, CategoryShopping, CategoryEvent, CategoryStay}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool {
	for _, v := range Categories {
		if c == v {
			return true
		}
	}
	return false
}

// SentimentLabel classifies a post's sentiment score.
type SentimentLabel string

const (
	Positive SentimentLabel = "POSITIVE"
	Neutral  SentimentLabel = "NEUTRAL"
	Negative SentimentLabel = "NEGATIVE"
)

// PropertyOrder orders property lists.
type PropertyOrder string

const (
	OrderNewest    PropertyOrder = "NEWEST"
	OrderPriceAsc  PropertyOrder = "PRICE_ASC"
	OrderPriceDesc PropertyOrder = "PRICE_DESC"
)

// Destination is a place people post about: an attraction, a beach, a stay.
type Destination struct {
	bun.BaseModel `bun:"table:destinations"`

	ID          int64    `bun:",pk,autoincrement"`
	Slug        string   `bun:",notnull,unique"`
	Name        string   `bun:",notnull"`
	City        string   `bun:",notnull"`
	CitySlug    string   `bun:",notnull"` // CitySlug(City), kept in step with City; city filters compare it, not City
	Category    Category `bun:",notnull"`
	Description string   `bun:",notnull"`
	Latitude    *float64
	Longitude   *float64
	CreatedAt   time.Time `bun:",notnull"`
	UpdatedAt   time.Time `bun:",notnull"`
}

// Property is a listing (a house, a homestay, a plot) with an exact price.
type Property struct {
	bun.BaseModel `bun:"table:properties"`

	ID            int64  `bun:",pk,autoincrement"`
	Title         string `bun:",notnull"`
	Description   string `bun:",notnull"`
	Price         Money  `bun:"price_cents,notnull"`
	Location      string `bun:",notnull"`
	DestinationID *int64
	CreatedAt     time.Time `bun:",notnull"`
	UpdatedAt     time.Time `bun:",notnull"`
	// SearchText is FoldText(Title) + "\n" + FoldText(Description), the
	// column text search reads. BeforeAppendModel sets it on every insert
	// and update; reads for clients leave it out.
	SearchText string `bun:",notnull" json:"-"`
}

// Post is one social-media post or review about a destination, scored once
// at ingest. Posts are immutable.
type Post struct {
	bun.BaseModel `bun:"table:posts"`

	ID             int64  `bun:",pk,autoincrement"`
	Source         string `bun:",notnull"`
	ExternalID     string `bun:",notnull"`
	Author         *string
	Text           string `bun:",notnull"`
	URL            *string
	PostedAt       time.Time      `bun:",notnull"`
	SentimentScore float64        `bun:",notnull"`
	SentimentLabel SentimentLabel `bun:",notnull"`
	DestinationID  *int64
	CreatedAt      time.Time `bun:",notnull"`
}

// ScrapeRun records one run of the feed scraper.
type ScrapeRun struct {
	bun.BaseModel `bun:"table:scrape_runs"`

	ID              int64     `bun:",pk,autoincrement"`
	StartedAt       time.Time `bun:",notnull"`
	FinishedAt      *time.Time
	Status          string   `bun:",notnull"` // RUNNING, SUCCEEDED, FAILED
	PostsFetched    int      `bun:",notnull"`
	PostsStored     int      `bun:",notnull"`
	InvalidatedTags []string `bun:",type:text,json_use_number"` // stored as JSON text on both dialects
	Error           *string
}

// Scrape run statuses.
const (
	RunRunning   = "RUNNING"
	RunSucceeded = "SUCCEEDED"
	RunFailed    = "FAILED"
)

// SentimentSummary counts posts by label over a TimeRange.
type SentimentSummary struct {
	Range        TimeRange
	Positive     int
	Neutral      int
	Negative     int
	Total        int
	AverageScore float64 // 0 when Total is 0
}

// TrendPoint is one UTC day of a Trend's series.
type TrendPoint struct {
	Date         time.Time
	Mentions     int
	AverageScore float64
}

// Trend describes one destination's mentions over a TimeRange compared with
// the range before it.
type Trend struct {
	DestinationID    int64
	Range            TimeRange
	Mentions         int
	PreviousMentions int
	Growth           float64 // (Mentions - PreviousMentions) / max(PreviousMentions, 1)
	AverageScore     float64
	Series           []TrendPoint // one point per UTC day touched by the range, oldest first
}

// DestinationRank is one row of topDestinations.
type DestinationRank struct {
	Rank          int
	DestinationID int64
	Mentions      int
	AverageScore  float64
}

// Change is what a committed write affects: the cache tags to invalidate and
// the outbox row that records them durably until they are delivered.
type Change struct {
	Tags     []string
	OutboxID int64
}

// PropertyInput creates a property. The API binds CreatePropertyInput to
// it (gqlgen.yml), as it binds the other inputs below.
type PropertyInput struct {
	Title         string
	Description   string
	Price         Money
	Location      string
	DestinationID *int64
}

// PropertyUpdate changes the non-nil fields of a property. ClearDestination
// detaches the property from its destination (UpdatePropertyInput's
// clearDestination).
type PropertyUpdate struct {
	Title         *string
	Description   *string
	Price         *Money
	Location      *string
	DestinationID *int64
	// ClearDestination detaches the property; it excludes DestinationID.
	ClearDestination bool
}

// DestinationInput creates a destination. An empty Slug is generated from Name.
type DestinationInput struct {
	Name        string
	Slug        string
	City        string
	Category    Category
	Description string
	Latitude    *float64
	Longitude   *float64
}

// DestinationUpdate changes the non-nil fields of a destination.
type DestinationUpdate struct {
	Name        *string
	City        *string
	Category    *Category
	Description *string
	Latitude    *float64
	Longitude   *float64
}

// PostInput is one post to ingest. With DestinationID nil the destination is
// matched from Text (see Matcher).
type PostInput struct {
	Source        string
	ExternalID    string
	Author        *string
	Text          string
	URL           *string
	PostedAt      time.Time
	DestinationID *int64
}

// IngestResult counts what IngestPosts did.
type IngestResult struct {
	Received   int
	Stored     int
	Duplicates int
}

// PropertyFilter narrows property lists. City matches the city of the
// property's destination, compared by CitySlug. Search is a case-insensitive
// substring of title or description, compared after FoldText.
type PropertyFilter struct {
	DestinationID *int64
	City          *string
	MinPrice      *Money
	MaxPrice      *Money
	Search        *string
}

// DestinationFilter narrows destination lists and rankings.
type DestinationFilter struct {
	City     *string
	Category *Category
}

// Page asks for First rows after the opaque cursor After ("" for the start).
type Page struct {
	First int
	After string
}

// IDPage is one page of a list: the row ids in order, each row's cursor,
// whether more rows follow, and the count of all rows matching the filter.
type IDPage struct {
	IDs        []int64
	Cursors    []string
	HasNext    bool
	TotalCount int
}

// PostPage is one page of posts.
type PostPage struct {
	Posts      []*Post
	Cursors    []string
	HasNext    bool
	TotalCount int
}

// OutboxEntry is a recorded invalidation not yet known to be delivered.
type OutboxEntry struct {
	bun.BaseModel `bun:"table:cache_outbox"`

	ID        int64     `bun:",pk,autoincrement"`
	Tags      []string  `bun:",type:text,notnull"` // JSON text
	CreatedAt time.Time `bun:",notnull"`
}

// Peer is a process that caches this database's data, registered by
// JoinCache and kept live by Heartbeat until ExpiresAt, by the database's
// clock: its lease on the cache. Identity names its cache.
type Peer struct {
	bun.BaseModel `bun:"table:cache_peers"`

	ID          string    `bun:",pk"` // random, one per JoinCache
	Identity    string    `bun:",notnull"`
	JoinedAt    time.Time `bun:",notnull"`
	HeartbeatAt time.Time `bun:",notnull"`
	ExpiresAt   time.Time `bun:",notnull"`
}
