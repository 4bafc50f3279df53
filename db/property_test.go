package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestCreatePropertyValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(in *db.PropertyInput, dest int64)
		field string // "" when valid
	}{
		{"valid", func(in *db.PropertyInput, dest int64) {}, ""},
		{"with destination", func(in *db.PropertyInput, dest int64) { in.DestinationID = &dest }, ""},
		{"title of 200 characters", func(in *db.PropertyInput, _ int64) { in.Title = strings.Repeat("ü", 200) }, ""},
		{"title padded", func(in *db.PropertyInput, _ int64) { in.Title = "  " + strings.Repeat("a", 200) + "  " }, ""},
		{"free", func(in *db.PropertyInput, _ int64) { in.Price = 0 }, ""},
		{"most expensive", func(in *db.PropertyInput, _ int64) { in.Price = db.MaxMoney - 1 }, ""},
		{"description of 10 000", func(in *db.PropertyInput, _ int64) { in.Description = strings.Repeat("d", 10_000) }, ""},
		{"empty title", func(in *db.PropertyInput, _ int64) { in.Title = "" }, "title"},
		{"blank title", func(in *db.PropertyInput, _ int64) { in.Title = " \t " }, "title"},
		{"title of 201 characters", func(in *db.PropertyInput, _ int64) { in.Title = strings.Repeat("ü", 201) }, "title"},
		{"description too long", func(in *db.PropertyInput, _ int64) { in.Description = strings.Repeat("d", 10_001) }, "description"},
		{"empty location", func(in *db.PropertyInput, _ int64) { in.Location = "" }, "location"},
		{"location of 201 characters", func(in *db.PropertyInput, _ int64) { in.Location = strings.Repeat("l", 201) }, "location"},
		{"negative price", func(in *db.PropertyInput, _ int64) { in.Price = -1 }, "price"},
		{"price at MaxMoney", func(in *db.PropertyInput, _ int64) { in.Price = db.MaxMoney }, "price"},
		{"unknown destination", func(in *db.PropertyInput, dest int64) { in.DestinationID = ptr(dest + 1000) }, "destinationId"},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		dest := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := db.PropertyInput{Title: "Chalet by the beach", Description: "Sea view.", Price: 45_000_050, Location: "Jalan Pantai Cenang, Langkawi"}
				tt.edit(&in, dest.ID)
				before, outbox := count(t, s, "properties"), count(t, s, "cache_outbox")
				p, _, err := s.CreateProperty(ctx, in)
				if tt.field == "" {
					if err != nil {
						t.Fatal(err)
					}
					got, err := s.FindPropertiesByIDs(ctx, []int64{p.ID})
					if err != nil || len(got) != 1 {
						t.Fatal(got, err)
					}
					if got[0].Title != strings.TrimSpace(in.Title) || got[0].Price != in.Price || !got[0].CreatedAt.Equal(dbtest.Epoch) {
						t.Fatalf("stored %+v from %+v", got[0], in)
					}
					return
				}
				wantInputError(t, err, tt.field)
				if count(t, s, "properties") != before || count(t, s, "cache_outbox") != outbox {
					t.Fatal("a rejected create wrote rows")
				}
			})
		}
	})
}

func TestPropertyChanges(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		a := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		b := mustDestination(t, s, "Zahir Mosque", "Alor Setar", db.CategoryCulture)

		p, change, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Price: 100, Location: "Cenang", DestinationID: &a.ID})
		if err != nil {
			t.Fatal(err)
		}
		wantChange(t, s, change, "city:langkawi:properties", db.DestinationPropertiesTag(a.ID), db.TagProperties, db.PropertyTag(p.ID))
		loose, change, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Lot", Price: 100, Location: "Kedah"})
		if err != nil {
			t.Fatal(err)
		}
		wantChange(t, s, change, db.TagProperties, db.PropertyTag(loose.ID))

		pt := db.PropertyTag(p.ID)
		updates := []struct {
			name string
			u    db.PropertyUpdate
			tags []string
		}{
			{"description only", db.PropertyUpdate{Description: ptr("Renovated.")}, []string{db.TagPropertiesText, pt}},
			{"title only", db.PropertyUpdate{Title: ptr("Chalet Indah")}, []string{db.TagPropertiesText, pt}},
			{"price only", db.PropertyUpdate{Price: ptr(db.Money(250_000_00))}, []string{db.TagPropertiesPrice, pt}},
			{"location only", db.PropertyUpdate{Location: ptr("Jalan Teluk Baru")}, []string{pt}},
			{"price and title", db.PropertyUpdate{Price: ptr(db.Money(1)), Title: ptr("Chalet")}, []string{db.TagPropertiesPrice, db.TagPropertiesText, pt}},
			{"same values", db.PropertyUpdate{Price: ptr(db.Money(1)), Title: ptr(" Chalet "), DestinationID: &a.ID}, nil},
			{"nothing", db.PropertyUpdate{}, nil},
			{"move destination", db.PropertyUpdate{DestinationID: &b.ID}, []string{"city:alor-setar:properties", "city:langkawi:properties",
				db.DestinationPropertiesTag(a.ID), db.DestinationPropertiesTag(b.ID), pt}},
			{"clear destination", db.PropertyUpdate{ClearDestination: true}, []string{"city:alor-setar:properties", db.DestinationPropertiesTag(b.ID), pt}},
			{"set destination", db.PropertyUpdate{DestinationID: &a.ID}, []string{"city:langkawi:properties", db.DestinationPropertiesTag(a.ID), pt}},
		}
		for _, tt := range updates {
			t.Run(tt.name, func(t *testing.T) {
				before, err := s.FindPropertiesByIDs(ctx, []int64{p.ID})
				if err != nil {
					t.Fatal(err)
				}
				clock.Add(time.Second)
				got, change, err := s.UpdateProperty(ctx, p.ID, tt.u)
				if err != nil {
					t.Fatal(err)
				}
				wantChange(t, s, change, tt.tags...)
				wantUpdated := before[0].UpdatedAt
				if tt.tags != nil {
					wantUpdated = clock.Now()
				}
				if !got.UpdatedAt.Equal(wantUpdated) {
					t.Fatalf("UpdatedAt = %v, want %v", got.UpdatedAt, wantUpdated)
				}
				after, err := s.FindPropertiesByIDs(ctx, []int64{p.ID})
				if err != nil {
					t.Fatal(err)
				}
				if show(after[0]) != show(got) {
					t.Fatalf("stored %s, returned %s", show(after[0]), show(got))
				}
			})
		}
		t.Run("invalid update writes nothing", func(t *testing.T) {
			outbox := count(t, s, "cache_outbox")
			_, _, err := s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{Title: ptr("New"), DestinationID: ptr(int64(999))})
			wantInputError(t, err, "destinationId")
			_, _, err = s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{Price: ptr(db.Money(-5))})
			wantInputError(t, err, "price")
			_, _, err = s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{Location: ptr("")})
			wantInputError(t, err, "location")
			_, _, err = s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{DestinationID: &a.ID, ClearDestination: true})
			wantInputError(t, err, "destinationId")
			got, _ := s.FindPropertiesByIDs(ctx, []int64{p.ID})
			if got[0].Title != "Chalet" || count(t, s, "cache_outbox") != outbox {
				t.Fatalf("rejected update wrote: %+v", got[0])
			}
		})
		t.Run("unknown id", func(t *testing.T) {
			_, _, err := s.UpdateProperty(ctx, 999, db.PropertyUpdate{Title: ptr("x")})
			if !errors.Is(err, db.ErrNotFound) || err.Error() != "db: update property 999: not found" {
				t.Fatalf("update err = %v", err)
			}
			if _, err := s.DeleteProperty(ctx, 999); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("delete err = %v", err)
			}
		})
		t.Run("delete", func(t *testing.T) {
			change, err := s.DeleteProperty(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantChange(t, s, change, "city:langkawi:properties", db.DestinationPropertiesTag(a.ID), db.TagProperties, pt)
			change, err = s.DeleteProperty(ctx, loose.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantChange(t, s, change, db.TagProperties, db.PropertyTag(loose.ID))
			if got, err := s.FindPropertiesByIDs(ctx, []int64{p.ID, loose.ID}); err != nil || len(got) != 0 {
				t.Fatalf("deleted properties found: %v %v", got, err)
			}
		})
	})
}

func TestFindPropertyIDsFilters(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		lgk := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		lgk2 := mustDestination(t, s, "Tanjung Rhu", "Langkawi", db.CategoryBeach)
		aor := mustDestination(t, s, "Zahir Mosque", "Alor Setar", db.CategoryCulture)
		type spec struct {
			title, desc string
			price       db.Money
			dest        *int64
		}
		specs := []spec{
			{"Sea View Chalet", "Garden and pool", 30_000_000, &lgk.ID},
			{"Beach House", "Walk to the GARDEN", 90_000_000, &lgk2.ID},
			{"Terrace House", "100% financing", 25_000_050, &aor.ID},
			{"Shop_lot", "Corner unit", 25_000_050, &aor.ID},
			{"Paddy Land", "Near the garden city", 8_000_000, nil},
			{"Condo", "Pool, gym", 45_000_000, &lgk.ID},
		}
		ids := make([]int64, len(specs))
		for i, sp := range specs {
			ids[i] = mustProperty(t, s, db.PropertyInput{Title: sp.title, Description: sp.desc, Price: sp.price, DestinationID: sp.dest}).ID
			clock.Add(1500 * time.Microsecond)
		}
		pick := func(idx ...int) []int64 {
			var out []int64
			for _, i := range idx {
				out = append(out, ids[i])
			}
			return out
		}
		tests := []struct {
			name  string
			f     db.PropertyFilter
			order db.PropertyOrder
			want  []int64
		}{
			{"newest", db.PropertyFilter{}, db.OrderNewest, pick(5, 4, 3, 2, 1, 0)},
			{"default order is newest", db.PropertyFilter{}, "", pick(5, 4, 3, 2, 1, 0)},
			{"price ascending, ties by id", db.PropertyFilter{}, db.OrderPriceAsc, pick(4, 2, 3, 0, 5, 1)},
			{"price descending, ties by id desc", db.PropertyFilter{}, db.OrderPriceDesc, pick(1, 5, 0, 3, 2, 4)},
			{"destination", db.PropertyFilter{DestinationID: &lgk.ID}, db.OrderNewest, pick(5, 0)},
			{"city by slug", db.PropertyFilter{City: ptr("LANGKAWI ")}, db.OrderPriceAsc, pick(0, 5, 1)},
			{"city and destination", db.PropertyFilter{City: ptr("Alor Setar"), DestinationID: &lgk.ID}, db.OrderNewest, nil},
			{"min price inclusive", db.PropertyFilter{MinPrice: ptr(db.Money(30_000_000))}, db.OrderPriceAsc, pick(0, 5, 1)},
			{"max price inclusive", db.PropertyFilter{MaxPrice: ptr(db.Money(25_000_050))}, db.OrderPriceAsc, pick(4, 2, 3)},
			{"price range", db.PropertyFilter{MinPrice: ptr(db.Money(25_000_051)), MaxPrice: ptr(db.Money(45_000_000))}, db.OrderPriceAsc, pick(0, 5)},
			{"max price above every price", db.PropertyFilter{MaxPrice: ptr(db.Money(99_999_999))}, db.OrderNewest, pick(5, 4, 3, 2, 1, 0)},
			{"max price at the highest", db.PropertyFilter{MaxPrice: ptr(db.Money(90_000_000))}, db.OrderPriceAsc, pick(4, 2, 3, 0, 5, 1)},
			{"max price below the highest", db.PropertyFilter{MaxPrice: ptr(db.Money(89_999_999))}, db.OrderPriceAsc, pick(4, 2, 3, 0, 5)},
			{"max price below every price", db.PropertyFilter{MaxPrice: ptr(db.Money(7_999_999))}, db.OrderPriceAsc, nil},
			{"min price at the lowest", db.PropertyFilter{MinPrice: ptr(db.Money(8_000_000))}, db.OrderPriceDesc, pick(1, 5, 0, 3, 2, 4)},
			{"min price above the lowest", db.PropertyFilter{MinPrice: ptr(db.Money(8_000_001))}, db.OrderPriceDesc, pick(1, 5, 0, 3, 2)},
			{"price range around every price", db.PropertyFilter{MinPrice: ptr(db.Money(1)), MaxPrice: ptr(db.Money(90_000_000))}, db.OrderNewest, pick(5, 4, 3, 2, 1, 0)},
			{"price range open below only", db.PropertyFilter{MinPrice: ptr(db.Money(1)), MaxPrice: ptr(db.Money(30_000_000))}, db.OrderPriceAsc, pick(4, 2, 3, 0)},
			{"max price above every price in a city", db.PropertyFilter{City: ptr("langkawi"), MaxPrice: ptr(db.Money(99_999_999))}, db.OrderPriceAsc, pick(0, 5, 1)},
			{"max price above every price with a search", db.PropertyFilter{Search: ptr("garden"), MaxPrice: ptr(db.Money(99_999_999))}, db.OrderNewest, pick(4, 1, 0)},
			{"search any case in title or description", db.PropertyFilter{Search: ptr("Garden")}, db.OrderNewest, pick(4, 1, 0)},
			{"search title", db.PropertyFilter{Search: ptr("house")}, db.OrderNewest, pick(2, 1)},
			{"search percent is literal", db.PropertyFilter{Search: ptr("0%")}, db.OrderNewest, pick(2)},
			{"search underscore is literal", db.PropertyFilter{Search: ptr("p_l")}, db.OrderNewest, pick(3)},
			{"search bang is literal", db.PropertyFilter{Search: ptr("!")}, db.OrderNewest, nil},
			{"blank search is no filter", db.PropertyFilter{Search: ptr("  ")}, db.OrderNewest, pick(5, 4, 3, 2, 1, 0)},
			{"search and city", db.PropertyFilter{Search: ptr("pool"), City: ptr("langkawi")}, db.OrderPriceDesc, pick(5, 0)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, size := range []int{1, 4, 100} {
					got := allPropertyIDs(t, s, tt.f, tt.order, size, len(tt.want))
					if !slices.Equal(got, tt.want) {
						t.Fatalf("size %d: ids = %v, want %v", size, got, tt.want)
					}
				}
				empty, err := s.FindPropertyIDs(ctx, tt.f, tt.order, db.Page{First: 0})
				if err != nil || len(empty.IDs) != 0 || empty.TotalCount != len(tt.want) || empty.HasNext != (len(tt.want) > 0) {
					t.Fatalf("First 0: %+v, %v", empty, err)
				}
			})
		}
		t.Run("bad input", func(t *testing.T) {
			_, err := s.FindPropertyIDs(ctx, db.PropertyFilter{}, "CHEAPEST", db.Page{First: 1})
			wantInputError(t, err, "orderBy")
			page, err := s.FindPropertyIDs(ctx, db.PropertyFilter{}, db.OrderPriceAsc, db.Page{First: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.FindPropertyIDs(ctx, db.PropertyFilter{}, db.OrderPriceDesc, db.Page{First: 1, After: page.Cursors[0]})
			wantInputError(t, err, "after")
			_, err = s.FindPropertyIDs(ctx, db.PropertyFilter{}, db.OrderPriceAsc, db.Page{First: 1, After: "not a cursor"})
			wantInputError(t, err, "after")
			_, err = s.FindPropertyIDs(ctx, db.PropertyFilter{}, db.OrderPriceAsc, db.Page{First: -1})
			wantInputError(t, err, "first")
		})
	})
}

// allPropertyIDs pages through a property list size ids at a time.
func allPropertyIDs(t *testing.T, s *db.Store, f db.PropertyFilter, order db.PropertyOrder, size, total int) []int64 {
	t.Helper()
	var got []int64
	after := ""
	for {
		page, err := s.FindPropertyIDs(context.Background(), f, order, db.Page{First: size, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != total || len(page.IDs) != len(page.Cursors) || len(page.IDs) > size {
			t.Fatalf("page %+v, want total %d", page, total)
		}
		got = append(got, page.IDs...)
		if !page.HasNext {
			return got
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// TestPropertyCursorStability inserts rows between page fetches: every row
// present from the start is seen exactly once, in order.
func TestPropertyCursorStability(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		for _, order := range []db.PropertyOrder{db.OrderNewest, db.OrderPriceAsc, db.OrderPriceDesc} {
			t.Run(string(order), func(t *testing.T) {
				search := ptr("stability " + string(order))
				type row struct {
					id      int64
					price   db.Money
					created time.Time
				}
				var original []row
				n := 0
				add := func() row {
					n++
					// Prices repeat and times advance by odd microsecond steps,
					// so ties and sub-second keys are both exercised.
					p := mustProperty(t, s, db.PropertyInput{Title: fmt.Sprintf("%s #%d", *search, n), Price: db.Money((n * 7919) % 5 * 1_000_001)})
					clock.Add(1234567 * time.Nanosecond)
					return row{p.ID, p.Price, p.CreatedAt}
				}
				for range 12 {
					original = append(original, add())
				}
				seen := map[int64]int{}
				var got []row
				after := ""
				for pages := 0; ; pages++ {
					page, err := s.FindPropertyIDs(ctx, db.PropertyFilter{Search: search}, order, db.Page{First: 4, After: after})
					if err != nil {
						t.Fatal(err)
					}
					props, err := s.FindPropertiesByIDs(ctx, page.IDs)
					if err != nil {
						t.Fatal(err)
					}
					byID := map[int64]*db.Property{}
					for _, p := range props {
						byID[p.ID] = p
					}
					for _, id := range page.IDs {
						seen[id]++
						got = append(got, row{id, byID[id].Price, byID[id].CreatedAt})
					}
					if !page.HasNext {
						break
					}
					after = page.Cursors[len(page.Cursors)-1]
					for range 3 { // newer rows, some cheaper and some dearer
						add()
					}
				}
				for _, r := range original {
					if seen[r.id] != 1 {
						t.Fatalf("row %d seen %d times", r.id, seen[r.id])
					}
				}
				for id, k := range seen {
					if k != 1 {
						t.Fatalf("row %d seen %d times", id, k)
					}
				}
				less := func(a, b row) bool {
					switch order {
					case db.OrderNewest:
						return a.created.After(b.created) || a.created.Equal(b.created) && a.id > b.id
					case db.OrderPriceAsc:
						return a.price < b.price || a.price == b.price && a.id < b.id
					}
					return a.price > b.price || a.price == b.price && a.id > b.id
				}
				if !sort.SliceIsSorted(got, func(i, j int) bool { return less(got[i], got[j]) }) {
					t.Fatalf("rows out of order: %v", got)
				}
			})
		}
	})
}

func TestFindPropertyIDsByDestinations(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		a := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		b := mustDestination(t, s, "Zahir Mosque", "Alor Setar", db.CategoryCulture)
		c := mustDestination(t, s, "Gunung Jerai", "Yan", db.CategoryNature)
		var aIDs []int64
		for i := range 5 {
			aIDs = append(aIDs, mustProperty(t, s, db.PropertyInput{Title: fmt.Sprint("A", i), DestinationID: &a.ID}).ID)
			if i != 2 { // two rows share a created_at: the higher id is newer
				clock.Add(time.Millisecond)
			}
		}
		bID := mustProperty(t, s, db.PropertyInput{Title: "B", DestinationID: &b.ID}).ID
		mustProperty(t, s, db.PropertyInput{Title: "loose"})

		qc := counter(s)
		got, err := s.FindPropertyIDsByDestinations(ctx, []int64{a.ID, b.ID, c.ID, 999}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n := qc.Count(); n != 1 {
			t.Fatalf("statements = %d, want 1", n)
		}
		want := map[int64][]int64{a.ID: {aIDs[4], aIDs[3], aIDs[2]}, b.ID: {bID}, c.ID: {}, 999: {}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for id, ids := range got {
			if ids == nil {
				t.Fatalf("destination %d: nil slice, want empty", id)
			}
		}
	})
}

func TestFindPropertiesByIDs(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		p := mustProperty(t, s, db.PropertyInput{Title: "Bungalow", Price: 2_999_999_99})
		qc := counter(s)
		got, err := s.FindPropertiesByIDs(ctx, []int64{p.ID, p.ID + 1})
		if err != nil {
			t.Fatal(err)
		}
		if n := qc.Count(); n != 1 {
			t.Fatalf("statements = %d, want 1", n)
		}
		if len(got) != 1 || got[0].Price.String() != "2999999.99" || got[0].Title != "Bungalow" {
			t.Fatalf("got %+v", got)
		}
	})
}

// TestPropertyCountOfOpenBound: a price bound that excludes no listing (the
// highest price or above) leaves the count of a page to SQLite's count of
// an index's pages (the Count opcode), not a step per listing it keeps.
func TestPropertyCountOfOpenBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := dbtest.Open(t, "sqlite")
	mustProperty(t, s, db.PropertyInput{Title: "Chalet", Description: "Sea view", Price: 30_000_000})
	var stmt lastStatement
	s.DB.AddQueryHook(&stmt)
	for _, f := range []db.PropertyFilter{{MaxPrice: ptr(db.Money(99_999_999))}, {MinPrice: ptr(db.Money(0))}} {
		page, err := s.FindPropertyIDs(ctx, f, db.OrderNewest, db.Page{First: 5})
		if err != nil || page.TotalCount != 1 {
			t.Fatal(page, err)
		}
		query := stmt.query // the page's one statement
		rows, err := s.DB.QueryContext(ctx, "EXPLAIN "+query)
		if err != nil {
			t.Fatal(err)
		}
		var opcodes []string
		for rows.Next() {
			var addr, p1, p2, p3, p5 int64
			var opcode string
			var p4, comment any
			if err := rows.Scan(&addr, &opcode, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			opcodes = append(opcodes, opcode)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if !slices.Contains(opcodes, "Count") {
			t.Errorf("%+v: no Count opcode in %s: %v", f, query, opcodes)
		}
	}
}

// lastStatement is a bun.QueryHook keeping the text of the last statement.
type lastStatement struct{ query string }

func (h *lastStatement) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (h *lastStatement) AfterQuery(_ context.Context, e *bun.QueryEvent) { h.query = e.Query }
