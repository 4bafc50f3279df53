package db_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// TestClientText sends every string a client can give the db package, as
// a filter or to a write, with a NUL byte, invalid UTF-8, one character
// too many and 600 KB: each is an *InputError on its field before any SQL
// runs, never a database error. The longest valid value is accepted.
func TestClientText(t *testing.T) {
	t.Parallel()
	type call func(ctx context.Context, s *db.Store, v string) error
	// Each call gets its own destination, property or post, so that the
	// cases do not depend on each other.
	tests := []struct {
		field  string
		max    int
		cursor bool // a long valid value is no cursor: check only the bad ones
		call   call
	}{
		{"filter.search", db.MaxSearch, false, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindPropertyIDs(ctx, db.PropertyFilter{Search: &v}, "", db.Page{First: 1})
			return err
		}},
		{"filter.city", db.MaxCity, false, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindPropertyIDs(ctx, db.PropertyFilter{City: &v}, "", db.Page{First: 1})
			return err
		}},
		{"city", db.MaxCity, false, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindDestinationIDs(ctx, db.DestinationFilter{City: &v}, db.Page{First: 1})
			return err
		}},
		{"city", db.MaxCity, false, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.TopDestinations(ctx, db.Last7Days, db.DestinationFilter{City: &v}, 5)
			return err
		}},
		{"city", db.MaxCity, false, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.Sentiment(ctx, nil, &v, db.Last7Days)
			return err
		}},
		{"slug", db.MaxSlug, false, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindDestinationBySlug(ctx, v)
			return err
		}},
		{"after", db.MaxCursor, true, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindPropertyIDs(ctx, db.PropertyFilter{}, "", db.Page{First: 1, After: v})
			return err
		}},
		{"after", db.MaxCursor, true, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindDestinationIDs(ctx, db.DestinationFilter{}, db.Page{First: 1, After: v})
			return err
		}},
		{"after", db.MaxCursor, true, func(ctx context.Context, s *db.Store, v string) error {
			_, err := s.FindPosts(ctx, nil, db.Last7Days, db.Page{First: 1, After: v})
			return err
		}},
		{"posts[0].author", db.MaxAuthor, false, func(ctx context.Context, s *db.Store, v string) error {
			return ingestOne(ctx, s, func(in *db.PostInput) { in.Author = &v })
		}},
		{"posts[0].url", db.MaxURL, false, func(ctx context.Context, s *db.Store, v string) error {
			return ingestOne(ctx, s, func(in *db.PostInput) { in.URL = &v })
		}},
		{"posts[0].source", db.MaxSource, false, func(ctx context.Context, s *db.Store, v string) error {
			return ingestOne(ctx, s, func(in *db.PostInput) { in.Source = v })
		}},
		{"posts[0].externalId", db.MaxExternalID, false, func(ctx context.Context, s *db.Store, v string) error {
			return ingestOne(ctx, s, func(in *db.PostInput) { in.ExternalID = v })
		}},
		{"posts[0].text", db.MaxPostText, false, func(ctx context.Context, s *db.Store, v string) error {
			return ingestOne(ctx, s, func(in *db.PostInput) { in.Text = v })
		}},
		{"title", db.MaxTitle, false, func(ctx context.Context, s *db.Store, v string) error {
			_, _, err := s.CreateProperty(ctx, db.PropertyInput{Title: v, Location: "Kuah"})
			return err
		}},
		{"description", db.MaxDescription, false, func(ctx context.Context, s *db.Store, v string) error {
			_, _, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Description: v, Location: "Kuah"})
			return err
		}},
		{"location", db.MaxLocation, false, func(ctx context.Context, s *db.Store, v string) error {
			_, _, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Location: v})
			return err
		}},
		{"title", db.MaxTitle, false, func(ctx context.Context, s *db.Store, v string) error {
			p, _, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Location: "Kuah"})
			if err != nil {
				return err
			}
			_, _, err = s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{Title: &v, Description: &v, Location: &v})
			return err
		}},
		{"name", db.MaxName, false, func(ctx context.Context, s *db.Store, v string) error {
			_, _, err := s.CreateDestination(ctx, db.DestinationInput{Name: v, City: "Langkawi", Category: db.CategoryBeach})
			return err
		}},
		{"city", db.MaxCity, false, func(ctx context.Context, s *db.Store, v string) error {
			_, _, err := s.CreateDestination(ctx, db.DestinationInput{Name: "Pantai", City: v, Category: db.CategoryBeach})
			return err
		}},
		{"name", db.MaxName, false, func(ctx context.Context, s *db.Store, v string) error {
			d, _, err := s.CreateDestination(ctx, db.DestinationInput{Name: "Pantai", City: "Langkawi", Category: db.CategoryBeach})
			if err != nil {
				return err
			}
			_, _, err = s.UpdateDestination(ctx, d.ID, db.DestinationUpdate{Name: &v, Description: &v})
			return err
		}},
	}
	bad := []struct{ name, v string }{
		{"NUL", "Pantai\x00Cenang"},
		{"invalid UTF-8", "Pantai \xff\xfe Cenang"},
		{"600 KB", strings.Repeat("x", 600<<10)},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		for _, tt := range tests {
			t.Run(tt.field, func(t *testing.T) {
				for _, b := range bad {
					wantInputErrorOf(t, b.name, tt.call(ctx, s, b.v), tt.field)
				}
				// One character too many, in characters of 2 bytes.
				wantInputErrorOf(t, "too long", tt.call(ctx, s, strings.Repeat("é", tt.max)+"a"), tt.field)
				if tt.cursor {
					return
				}
				long := "Pantai Cenang " + strings.Repeat("é", tt.max-len("Pantai Cenang ")-1) + "x"
				if err := tt.call(ctx, s, long); err != nil && !errors.Is(err, db.ErrNotFound) {
					t.Fatalf("%d characters: %v", tt.max, err)
				}
			})
		}
	})
}

// wantInputErrorOf is wantInputError naming the case.
func wantInputErrorOf(t *testing.T, name string, err error, field string) {
	t.Helper()
	var in *db.InputError
	if !errors.As(err, &in) || in.Field != field {
		t.Fatalf("%s: err = %v, want an *InputError on %q", name, err, field)
	}
}

var ingested atomic.Int64

// ingestOne ingests one post to the store's first destination, edited by
// edit; each call has a new external id.
func ingestOne(ctx context.Context, s *db.Store, edit func(in *db.PostInput)) error {
	in := db.PostInput{Source: "twitter", ExternalID: fmt.Sprint(ingested.Add(1)), Text: "Pantai Cenang at dawn",
		PostedAt: dbtest.Epoch.Add(-time.Hour), DestinationID: ptr(int64(1))}
	edit(&in)
	_, _, err := s.IngestPosts(ctx, []db.PostInput{in})
	return err
}

// rawCursor builds a well-formed cursor with any key: base64url of uvarint
// len(order), order, varint key, varint id.
func rawCursor(order string, key, id int64) string {
	b := binary.AppendUvarint(nil, uint64(len(order)))
	b = append(b, order...)
	b = binary.AppendVarint(b, key)
	b = binary.AppendVarint(b, id)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestCursorKeyRange pages with well-formed cursors whose key no row can
// have: a time before year 1 or after 9999 (PostgreSQL fails on some), a
// price out of range. Each is an *InputError on "after"; the extremes of
// the range are accepted.
func TestCursorKeyRange(t *testing.T) {
	t.Parallel()
	minTime := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxTime := time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC).UnixMicro()
	type find func(ctx context.Context, s *db.Store, after string) error
	properties := func(order db.PropertyOrder) find {
		return func(ctx context.Context, s *db.Store, after string) error {
			_, err := s.FindPropertyIDs(ctx, db.PropertyFilter{}, order, db.Page{First: 1, After: after})
			return err
		}
	}
	posts := func(ctx context.Context, s *db.Store, after string) error {
		_, err := s.FindPosts(ctx, nil, db.Last7Days, db.Page{First: 1, After: after})
		return err
	}
	tests := []struct {
		name  string
		find  find
		order string
		key   int64
		ok    bool
	}{
		{"newest: year 1", properties(db.OrderNewest), "NEWEST", minTime, true},
		{"newest: year 9999", properties(db.OrderNewest), "NEWEST", maxTime, true},
		{"newest: year 0", properties(db.OrderNewest), "NEWEST", minTime - 1, false},
		{"newest: year 10000", properties(db.OrderNewest), "NEWEST", maxTime + 1, false},
		{"newest: min int64", properties(db.OrderNewest), "NEWEST", math.MinInt64, false},
		{"newest: max int64", properties(db.OrderNewest), "NEWEST", math.MaxInt64, false},
		{"posts: year 0", posts, "POSTED", minTime - 1, false},
		{"posts: min int64", posts, "POSTED", math.MinInt64, false},
		{"posts: year 9999", posts, "POSTED", maxTime, true},
		{"price: 0", properties(db.OrderPriceAsc), "PRICE_ASC", 0, true},
		{"price: negative", properties(db.OrderPriceAsc), "PRICE_ASC", -1, false},
		{"price: MaxMoney", properties(db.OrderPriceDesc), "PRICE_DESC", int64(db.MaxMoney), false},
		{"price: max int64", properties(db.OrderPriceDesc), "PRICE_DESC", math.MaxInt64, false},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		d := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		mustProperty(t, s, db.PropertyInput{Title: "Chalet", Price: 100})
		if _, _, err := s.IngestPosts(ctx, []db.PostInput{{Source: "x", ExternalID: "1", Text: "Pantai Cenang",
			PostedAt: dbtest.Epoch.Add(-time.Hour), DestinationID: &d.ID}}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.find(ctx, s, rawCursor(tt.order, tt.key, 1))
				if tt.ok {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantInputError(t, err, "after")
			})
		}
	})
}

// TestPageAndTimeBounds: a page larger than MaxFirst and a post dated
// outside years 1..9999 are input errors on both dialects.
func TestPageAndTimeBounds(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		d := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		for _, first := range []int{db.MaxFirst + 1, math.MaxInt} {
			_, err := s.FindPropertyIDs(ctx, db.PropertyFilter{}, "", db.Page{First: first})
			wantInputError(t, err, "first")
			_, err = s.FindDestinationIDs(ctx, db.DestinationFilter{}, db.Page{First: first})
			wantInputError(t, err, "first")
			_, err = s.FindPosts(ctx, nil, db.Last7Days, db.Page{First: first})
			wantInputError(t, err, "first")
		}
		if _, err := s.FindPosts(ctx, nil, db.Last7Days, db.Page{First: db.MaxFirst}); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(-400, 1, 1, 0, 0, 0, 0, time.UTC)} {
			_, _, err := s.IngestPosts(ctx, []db.PostInput{{Source: "x", ExternalID: "1", Text: "Pantai Cenang",
				PostedAt: at, DestinationID: &d.ID}})
			wantInputError(t, err, "posts[0].postedAt")
		}
		_, _, err := s.IngestPosts(ctx, []db.PostInput{{Source: "x", ExternalID: "1", Text: "Pantai Cenang",
			PostedAt: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), DestinationID: &d.ID}})
		if err != nil {
			t.Fatalf("a post of year 1: %v", err)
		}
	})
}
