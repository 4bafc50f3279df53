package db_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

// searchFixture are titles and descriptions whose case folding ASCII
// lower() gets wrong; searchCases are searches with the indexes of the
// fixtures each must find, the same on both dialects whatever the
// database's locale.
var (
	searchFixture = []struct{ title, desc string }{
		{"CAFÉ Corner Shoplot", "Near the market"},  // 0
		{"Homestay", "Breakfast at the café"},       // 1
		{"Decomposed cafe\u0301 row", ""},           // 2: e + combining acute
		{"Cafe without accent", ""},                 // 3
		{"Terrace", "No ÄRGER with the neighbours"}, // 4
		{"İSTANBUL Homestay", ""},                   // 5
		{"Bungalow", "Straße view"},                 // 6
		{"ΟΔΟΣ house", ""},                          // 7
		{"Sea", "View of the bay"},                  // 8
		{"Shop_lot 100%", "Line one\nline two"},     // 9
	}
	searchCases = []struct {
		search string
		want   []int
	}{
		{"café", []int{0, 1, 2}},
		{"CAFÉ", []int{0, 1, 2}},
		{"cafe\u0301", []int{0, 1, 2}},
		{"cafe", []int{3}},
		{"ärger", []int{4}},
		{"Ärger", []int{4}},
		{"İstanbul", []int{5}},
		{"i\u0307stanbul", []int{5}},
		{"istanbul", []int{5}},
		{"ISTANBUL", []int{5}},
		{"strasse", []int{6}},
		{"STRASSE", []int{6}},
		{"straße", []int{6}},
		{"οδος", []int{7}}, // final sigma folds like sigma
		{"sea", []int{8}},
		{"sea view", nil}, // never across title and description
		{"sea\nview", nil},
		{"one line", []int{9}}, // a line break folds to a space
		{"p_lot 100%", []int{9}},
		{"HOMESTAY", []int{1, 5}},
	}
)

// searchIDs returns the ids a search finds, in ascending order.
func searchIDs(t *testing.T, s *db.Store, search string) []int64 {
	t.Helper()
	page, err := s.FindPropertyIDs(context.Background(), db.PropertyFilter{Search: &search}, db.OrderNewest, db.Page{First: db.MaxFirst})
	if err != nil {
		t.Fatalf("search %q: %v", search, err)
	}
	slices.Sort(page.IDs)
	return page.IDs
}

// wantSearches checks searchCases against the fixture rows ids.
func wantSearches(t *testing.T, s *db.Store, ids []int64) {
	t.Helper()
	for _, c := range searchCases {
		var want []int64
		for _, i := range c.want {
			want = append(want, ids[i])
		}
		if got := searchIDs(t, s, c.search); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", c.search, got, want)
		}
	}
}

func mustSearchFixture(t *testing.T, s *db.Store) []int64 {
	t.Helper()
	var ids []int64
	for _, f := range searchFixture {
		ids = append(ids, mustProperty(t, s, db.PropertyInput{Title: f.title, Description: f.desc}).ID)
	}
	return ids
}

func TestSearchFoldsUnicode(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		ids := mustSearchFixture(t, s)
		wantSearches(t, s, ids)

		// An update refolds: the old text is no longer found, the new is.
		title, desc := "ÉTÉ Chalet", "Größe"
		if _, _, err := s.UpdateProperty(ctx, ids[0], db.PropertyUpdate{Title: &title, Description: &desc}); err != nil {
			t.Fatal(err)
		}
		for search, want := range map[string][]int64{"été": {ids[0]}, "GRÖSSE": {ids[0]}, "café": {ids[1], ids[2]}} {
			if got := searchIDs(t, s, search); !slices.Equal(got, want) {
				t.Errorf("after update, search %q = %v, want %v", search, got, want)
			}
		}
		props, err := s.FindPropertiesByIDs(ctx, ids[:1])
		if err != nil || len(props) != 1 || props[0].SearchText != "" {
			t.Fatalf("FindPropertiesByIDs read search_text: %+v, %v", props, err)
		}
	})
}

func TestFoldText(t *testing.T) {
	tests := map[string]string{
		"CAFÉ":          "café",
		"cafe\u0301":    "café",
		"Straße":        "strasse",
		"ΟΔΟΣ":          "οδοσ",
		"İ":             "i",
		"j\u0307\u0301": "j\u0301",
		"a\tb\nc\x7f":   "a b c ",
		"":              "",
	}
	for in, want := range tests {
		if got := db.FoldText(in); got != want {
			t.Errorf("FoldText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSeedSearchText: seeded rows carry their folded search text.
func TestSeedSearchText(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		if err := s.Seed(ctx, db.SeedOptions{Destinations: 5, Properties: 50, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		var rows []db.Property
		if err := s.DB.NewSelect().Model(&rows).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 50 {
			t.Fatalf("%d properties seeded", len(rows))
		}
		for _, p := range rows {
			if want := db.FoldText(p.Title) + "\n" + db.FoldText(p.Description); p.SearchText != want {
				t.Fatalf("property %d search_text %q, want %q", p.ID, p.SearchText, want)
			}
		}
	})
}

// TestMigrateSearchText upgrades a database whose properties predate
// search_text, and one whose search_text was left empty: Migrate fills it.
func TestMigrateSearchText(t *testing.T) {
	t.Parallel()
	const name = "20250701000001"
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		ids := mustSearchFixture(t, s)
		for _, undo := range []string{
			"ALTER TABLE properties DROP COLUMN search_text",
			"UPDATE properties SET search_text = ''",
		} {
			t.Run(undo, func(t *testing.T) {
				if _, err := s.DB.ExecContext(ctx, undo); err != nil {
					t.Fatal(err)
				}
				if _, err := s.DB.NewDelete().TableExpr("bun_migrations").Where("name = ?", name).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				if err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				wantSearches(t, s, ids)
			})
		}
	})
}
