package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

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
	const name, index = "20250701000001", "20261201000002"
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		ids := mustSearchFixture(t, s)
		for _, undo := range []string{
			"ALTER TABLE properties DROP COLUMN search_text",
			"UPDATE properties SET search_text = ''",
		} {
			t.Run(undo, func(t *testing.T) {
				// Such a database has no search index either (on SQLite its
				// triggers would forbid dropping the column).
				dropSearchIndex(t, s)
				if _, err := s.DB.ExecContext(ctx, undo); err != nil {
					t.Fatal(err)
				}
				if _, err := s.DB.NewDelete().TableExpr("bun_migrations").Where("name IN (?)", bun.In([]string{name, index})).Exec(ctx); err != nil {
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

// dropSearchIndex undoes migrateSearchIndex's objects, as if the database
// predated them.
func dropSearchIndex(t *testing.T, s *db.Store) {
	t.Helper()
	stmts := []string{"DROP INDEX IF EXISTS properties_search_text_trgm_idx"}
	if s.DB.Dialect().Name() != dialect.PG {
		stmts = []string{
			"DROP TRIGGER IF EXISTS properties_search_insert",
			"DROP TRIGGER IF EXISTS properties_search_delete",
			"DROP TRIGGER IF EXISTS properties_search_update",
			"DROP TABLE IF EXISTS properties_search",
		}
	}
	for _, q := range stmts {
		if _, err := s.DB.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// searchQueries are the searches the indexed path is compared with LIKE
// on: accents, case, 1-2 characters (no trigram), LIKE's special
// characters, an FTS5 quote, and long ones (added from the seeded text).
var searchQueries = []string{
	"a", "é", "ß", "e ", "ca", "CA", "  x ", "%", "_", "!", `"`, `a"b`, "ab%", "caf", "CAFÉ", "cafe\u0301", "strasse",
	"straße", "İstanbul", "οδος", "homestay", "p_lot 100%", "one line", "sea view", "no such text anywhere at all",
}

// likeIDs is the search as it was before the index: LIKE over the folded
// text, newest first.
func likeIDs(t *testing.T, s *db.Store, search string) []int64 {
	t.Helper()
	text, err := db.Search(search)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := s.DB.NewSelect().TableExpr("properties AS p").Column("p.id").
		Where("p.search_text LIKE ? ESCAPE '!'", "%"+db.EscapeLike(text)+"%").
		OrderExpr("p.created_at DESC, p.id DESC").Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}

// allSearchIDs reads every page of a search, newest first, and the total.
func allSearchIDs(t *testing.T, s *db.Store, search string, first int) ([]int64, int) {
	t.Helper()
	var ids []int64
	total := -1
	for after := ""; ; {
		page, err := s.FindPropertyIDs(context.Background(), db.PropertyFilter{Search: &search}, db.OrderNewest, db.Page{First: first, After: after})
		if err != nil {
			t.Fatalf("search %q: %v", search, err)
		}
		if total >= 0 && page.TotalCount != total {
			t.Fatalf("search %q: total %d then %d", search, total, page.TotalCount)
		}
		total = page.TotalCount
		ids = append(ids, page.IDs...)
		if !page.HasNext {
			return ids, total
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// TestSearchIndexAnswersLikeLike: the indexed search, and the ordered
// scan it turns to for a search with many candidates, find exactly what
// LIKE over the folded text finds, in the same order, on a seeded set with
// the Unicode fixture, after inserts, updates and deletes (the index is
// kept by triggers on SQLite).
func TestSearchIndexAnswersLikeLike(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		if err := s.Seed(ctx, db.SeedOptions{Destinations: 5, Properties: 300, Seed: 11}); err != nil {
			t.Fatal(err)
		}
		ids := mustSearchFixture(t, s)
		title, desc := "Sea view Café", "Größe"
		if _, _, err := s.UpdateProperty(ctx, ids[8], db.PropertyUpdate{Title: &title, Description: &desc}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteProperty(ctx, ids[3]); err != nil {
			t.Fatal(err)
		}
		var texts []string
		if err := s.DB.NewSelect().TableExpr("properties").Column("search_text").OrderExpr("id").Limit(3).Scan(ctx, &texts); err != nil {
			t.Fatal(err)
		}
		queries := slices.Clone(searchQueries)
		for _, text := range texts {
			r := []rune(text)
			queries = append(queries, string(r[:min(len(r), 60)]), string(r[3:min(len(r), 12)]))
		}
		queries = append(queries, "sea view café", "grösse", "cafe", "sq ft", "freehold", "ing")
		found, common := 0, 0
		for _, q := range queries {
			want := likeIDs(t, s, q)
			// Pages of 37 read every search's candidates through the
			// index; pages of 1 scan in order for a search with more than
			// 40 candidates (see db.CandidatesPerRow).
			for _, first := range []int{37, 1} {
				got, total := allSearchIDs(t, s, q, first)
				if !slices.Equal(got, want) || total != len(want) {
					t.Errorf("search %q by %d: %d ids (total %d), LIKE finds %d:\n got %v\nwant %v", q, first, len(got), total, len(want), got, want)
				}
			}
			if len(want) > 0 {
				found++
			}
			if len([]rune(q)) >= 3 && len(want) > db.CandidatesPerRow*2 {
				common++
			}
		}
		if found < len(queries)/2 || common < 3 {
			t.Fatalf("%d of %d searches find anything, %d of them scan in order: the comparison is too weak", found, len(queries), common)
		}
	})
}

// TestSearchUsesIndex: a search of 3 or more characters is answered
// through the trigram index (SQLite: the FTS5 table; PostgreSQL: the
// pg_trgm index serves the escaped LIKE), and a shorter one keeps LIKE.
func TestSearchUsesIndex(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		mustSearchFixture(t, s)
		if s.DB.Dialect().Name() == dialect.PG {
			err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					return err
				}
				var plan []string
				if err := tx.NewRaw("EXPLAIN SELECT id FROM properties WHERE search_text LIKE ? ESCAPE '!'", "%caf!_é%").Scan(ctx, &plan); err != nil {
					return err
				}
				if !strings.Contains(strings.Join(plan, "\n"), "properties_search_text_trgm_idx") {
					t.Errorf("plan does not use the trigram index:\n%s", strings.Join(plan, "\n"))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		sqlLog := &lastQuery{}
		s.DB.AddQueryHook(sqlLog)
		for search, indexed := range map[string]bool{"café": true, "homestay breakfast": true, "ca": false, "é": false} {
			searchIDs(t, s, search)
			var plan []struct {
				ID, Parent, Notused int
				Detail              string
			}
			if err := s.DB.NewRaw("EXPLAIN QUERY PLAN "+sqlLog.query).Scan(ctx, &plan); err != nil {
				t.Fatal(err)
			}
			var details []string
			for _, p := range plan {
				details = append(details, p.Detail)
			}
			if got := strings.Contains(strings.Join(details, "\n"), "properties_search"); got != indexed {
				t.Errorf("search %q: uses the FTS5 index %v, want %v:\n%s", search, got, indexed, strings.Join(details, "\n"))
			}
		}
	})
}

// lastQuery remembers the last statement a bun.DB ran.
type lastQuery struct{ query string }

func (h *lastQuery) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (h *lastQuery) AfterQuery(_ context.Context, e *bun.QueryEvent)                    { h.query = e.Query }

// TestSearchCountsOnlyWhenAsked: a page read without its count is one
// statement with no COUNT, even when it is empty; with Count it carries the
// total.
func TestSearchCountsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		mustSearchFixture(t, s)
		sqlLog := &lastQuery{}
		s.DB.AddQueryHook(sqlLog)
		n := counter(s)
		for search, total := range map[string]int{"café": 3, "nowhere": 0, "é": 3} {
			for _, count := range []bool{false, true} {
				a, err := db.NewPropertyArgs(&db.PropertyFilter{Search: &search}, db.Page{First: 2}, "")
				if err != nil {
					t.Fatal(err)
				}
				a.Count = count
				n.Reset()
				page, err := s.FindPropertyIDsByArgs(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				counted := strings.Contains(sqlLog.query, "COUNT(")
				if !count && (n.Count() != 1 || counted || page.TotalCount != 0) {
					t.Errorf("search %q without count: %d statements, last counts %v, total %d", search, n.Count(), counted, page.TotalCount)
				}
				if count && page.TotalCount != total {
					t.Errorf("search %q with count: total %d, want %d", search, page.TotalCount, total)
				}
			}
		}
	})
}
