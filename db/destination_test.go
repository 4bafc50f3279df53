package db_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kedahpulse/kedahpulse/db"
	"github.com/kedahpulse/kedahpulse/db/dbtest"
)

func TestCreateDestinationValidation(t *testing.T) {
	t.Parallel()
	valid := db.DestinationInput{Name: "Pantai Cenang", City: "Langkawi", Category: db.CategoryBeach}
	tests := []struct {
		name  string
		edit  func(in *db.DestinationInput)
		field string // "" when valid
	}{
		{"valid", func(in *db.DestinationInput) {}, ""},
		{"name of 200 characters", func(in *db.DestinationInput) { in.Name = strings.Repeat("é", 200) }, ""},
		{"poles and antimeridian", func(in *db.DestinationInput) { in.Latitude, in.Longitude = ptr(-90.0), ptr(180.0) }, ""},
		{"empty name", func(in *db.DestinationInput) { in.Name = "" }, "name"},
		{"blank name", func(in *db.DestinationInput) { in.Name = "   " }, "name"},
		{"name of 201 characters", func(in *db.DestinationInput) { in.Name = strings.Repeat("é", 201) }, "name"},
		{"slug with spaces", func(in *db.DestinationInput) { in.Slug = "pantai cenang" }, "slug"},
		{"slug in capitals", func(in *db.DestinationInput) { in.Slug = "Pantai-Cenang" }, "slug"},
		{"slug with double dash", func(in *db.DestinationInput) { in.Slug = "pantai--cenang" }, "slug"},
		{"slug ending in dash", func(in *db.DestinationInput) { in.Slug = "pantai-" }, "slug"},
		{"slug of 101 characters", func(in *db.DestinationInput) { in.Slug = strings.Repeat("a", 101) }, "slug"},
		{"empty city", func(in *db.DestinationInput) { in.City = "" }, "city"},
		{"city without letters", func(in *db.DestinationInput) { in.City = "!!!" }, "city"},
		{"city of 101 characters", func(in *db.DestinationInput) { in.City = strings.Repeat("a", 101) }, "city"},
		{"no category", func(in *db.DestinationInput) { in.Category = "" }, "category"},
		{"unknown category", func(in *db.DestinationInput) { in.Category = "CASTLE" }, "category"},
		{"description too long", func(in *db.DestinationInput) { in.Description = strings.Repeat("a", 10_001) }, "description"},
		{"latitude above 90", func(in *db.DestinationInput) { in.Latitude = ptr(90.5) }, "latitude"},
		{"latitude below -90", func(in *db.DestinationInput) { in.Latitude = ptr(-91.0) }, "latitude"},
		{"latitude NaN", func(in *db.DestinationInput) { in.Latitude = ptr(math.NaN()) }, "latitude"},
		{"longitude above 180", func(in *db.DestinationInput) { in.Longitude = ptr(180.1) }, "longitude"},
		{"longitude below -180", func(in *db.DestinationInput) { in.Longitude = ptr(-181.0) }, "longitude"},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := valid
				tt.edit(&in)
				before := count(t, s, "destinations")
				d, change, err := s.CreateDestination(ctx, in)
				if tt.field == "" {
					if err != nil {
						t.Fatal(err)
					}
					wantChange(t, s, change, db.DestinationTag(d.ID), db.TagDestinations)
					if got := count(t, s, "destinations"); got != before+1 {
						t.Fatalf("destinations = %d, want %d", got, before+1)
					}
					return
				}
				wantInputError(t, err, tt.field)
				if got := count(t, s, "destinations"); got != before {
					t.Fatalf("destinations = %d after a rejected create, want %d", got, before)
				}
			})
		}
	})
}

func TestCreateDestinationSlug(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		create := func(name, slug string) (*db.Destination, error) {
			d, _, err := s.CreateDestination(ctx, db.DestinationInput{Name: name, Slug: slug, City: "Alor Setar", Category: db.CategoryShopping})
			return d, err
		}
		for _, want := range []string{"pekan-rabu", "pekan-rabu-2", "pekan-rabu-3"} {
			d, err := create("Pékan  Rabu!", "")
			if err != nil {
				t.Fatal(err)
			}
			if d.Slug != want {
				t.Fatalf("slug = %q, want %q", d.Slug, want)
			}
		}
		d, err := create("Pekan Rabu", "pasar-rabu")
		if err != nil || d.Slug != "pasar-rabu" {
			t.Fatalf("explicit slug: %v, %v", d, err)
		}
		if _, err := create("Other", "pekan-rabu-2"); err == nil {
			t.Fatal("taken slug accepted")
		} else {
			wantInputError(t, err, "slug")
			if !strings.Contains(err.Error(), "already taken") {
				t.Fatalf("err = %v, want already taken", err)
			}
		}
		d, err = create("中文", "")
		if err != nil || d.Slug != "destination" {
			t.Fatalf("slug of a name without ASCII = %v, %v; want destination", d, err)
		}
		got, err := s.FindDestinationBySlug(ctx, "pekan-rabu-3")
		if err != nil || got.Name != "Pékan  Rabu!" || got.CitySlug != "alor-setar" {
			t.Fatalf("FindDestinationBySlug = %+v, %v", got, err)
		}
		if _, err := s.FindDestinationBySlug(ctx, "nowhere"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("FindDestinationBySlug(nowhere) err = %v, want ErrNotFound", err)
		}
	})
}

func TestUpdateDestination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		u    db.DestinationUpdate
		tags func(id int64) []string
	}{
		{"description only", db.DestinationUpdate{Description: ptr("Eagle Square")},
			func(id int64) []string { return []string{db.DestinationTag(id)} }},
		{"coordinates", db.DestinationUpdate{Latitude: ptr(6.31), Longitude: ptr(99.85)},
			func(id int64) []string { return []string{db.DestinationTag(id)} }},
		{"name", db.DestinationUpdate{Name: ptr("Dataran Helang")},
			func(id int64) []string { return []string{db.DestinationTag(id), db.TagDestinations} }},
		{"category", db.DestinationUpdate{Category: ptr(db.CategoryCulture)},
			func(id int64) []string { return []string{db.DestinationTag(id), db.TagDestinations} }},
		{"city", db.DestinationUpdate{City: ptr("Kuah")},
			func(id int64) []string {
				return []string{"city:kuah:analytics", "city:kuah:properties", "city:langkawi:analytics",
					"city:langkawi:properties", db.DestinationTag(id), db.TagDestinations}
			}},
		{"same values", db.DestinationUpdate{Name: ptr("Dataran Lang"), City: ptr("Langkawi")},
			func(int64) []string { return nil }},
		{"nothing", db.DestinationUpdate{}, func(int64) []string { return nil }},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := mustDestination(t, s, "Dataran Lang", "Langkawi", db.CategoryAttraction)
				clock.Add(time.Minute)
				got, change, err := s.UpdateDestination(ctx, d.ID, tt.u)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.tags(d.ID)
				wantChange(t, s, change, want...)
				if want == nil && !got.UpdatedAt.Equal(d.UpdatedAt) {
					t.Fatalf("UpdatedAt moved on a no-op update")
				}
				if want != nil && !got.UpdatedAt.Equal(clock.Now()) {
					t.Fatalf("UpdatedAt = %v, want %v", got.UpdatedAt, clock.Now())
				}
				stored, err := s.FindDestinationsByIDs(ctx, []int64{d.ID})
				if err != nil || len(stored) != 1 {
					t.Fatal(stored, err)
				}
				if stored[0].Name != got.Name || stored[0].City != got.City || stored[0].CitySlug != db.CitySlug(got.City) ||
					stored[0].Category != got.Category || stored[0].Description != got.Description {
					t.Fatalf("stored %+v, returned %+v", stored[0], got)
				}
			})
		}
		t.Run("invalid", func(t *testing.T) {
			d := mustDestination(t, s, "Gunung Raya", "Langkawi", db.CategoryNature)
			_, _, err := s.UpdateDestination(ctx, d.ID, db.DestinationUpdate{Name: ptr(""), City: ptr("Kuah")})
			wantInputError(t, err, "name")
			_, _, err = s.UpdateDestination(ctx, d.ID, db.DestinationUpdate{Longitude: ptr(200.0)})
			wantInputError(t, err, "longitude")
			_, _, err = s.UpdateDestination(ctx, d.ID, db.DestinationUpdate{Category: ptr(db.Category("X"))})
			wantInputError(t, err, "category")
		})
		t.Run("unknown id", func(t *testing.T) {
			_, _, err := s.UpdateDestination(ctx, 9999, db.DestinationUpdate{Name: ptr("x")})
			if !errors.Is(err, db.ErrNotFound) || err.Error() != "db: update destination 9999: not found" {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

func TestDeleteDestination(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		d := mustDestination(t, s, "Pantai Cenang", "Langkawi", db.CategoryBeach)
		other := mustDestination(t, s, "Zahir Mosque", "Alor Setar", db.CategoryCulture)
		p1 := mustProperty(t, s, db.PropertyInput{Title: "Chalet", Price: 100, DestinationID: &d.ID})
		p2 := mustProperty(t, s, db.PropertyInput{Title: "Villa", Price: 200, DestinationID: &d.ID})
		p3 := mustProperty(t, s, db.PropertyInput{Title: "Shoplot", Price: 300, DestinationID: &other.ID})
		posts := []db.PostInput{
			{Source: "t", ExternalID: "1", Text: "Pantai Cenang sunset", PostedAt: clock.Now().Add(-time.Hour)},
			{Source: "t", ExternalID: "2", Text: "Pantai Cenang again", PostedAt: clock.Now().Add(-50 * time.Hour)},
			{Source: "t", ExternalID: "3", Text: "Zahir Mosque at night", PostedAt: clock.Now().Add(-time.Hour)},
		}
		if _, _, err := s.IngestPosts(ctx, posts); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Hour)

		change, err := s.DeleteDestination(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{db.TagAnalytics, "city:langkawi:analytics", "city:langkawi:properties", db.DestinationTag(d.ID),
			db.DestinationAnalyticsTag(d.ID), db.DestinationPropertiesTag(d.ID), db.TagDestinations,
			db.PropertyTag(p1.ID), db.PropertyTag(p2.ID)}
		slices.Sort(want)
		wantChange(t, s, change, want...)

		props, err := s.FindPropertiesByIDs(ctx, []int64{p1.ID, p2.ID, p3.ID})
		if err != nil || len(props) != 3 {
			t.Fatal(props, err)
		}
		for _, p := range props {
			switch p.ID {
			case p3.ID:
				if p.DestinationID == nil || *p.DestinationID != other.ID || !p.UpdatedAt.Equal(p3.UpdatedAt) {
					t.Fatalf("property of another destination changed: %+v", p)
				}
			default:
				if p.DestinationID != nil || !p.UpdatedAt.Equal(clock.Now()) {
					t.Fatalf("property not detached: %+v", p)
				}
			}
		}
		if n := count(t, s, "posts"); n != 1 {
			t.Fatalf("posts = %d, want the other destination's 1", n)
		}
		if n := count(t, s, "post_rollups"); n != 1 {
			t.Fatalf("rollups = %d, want 1", n)
		}
		if got, err := s.FindDestinationsByIDs(ctx, []int64{d.ID}); err != nil || len(got) != 0 {
			t.Fatalf("deleted destination still found: %v %v", got, err)
		}
		if _, err := s.DeleteDestination(ctx, d.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("second delete err = %v, want ErrNotFound", err)
		}
	})
}

// TestCityChangeDuringWrite moves a destination to another city while a
// write whose tags depend on that city is paused inside its transaction,
// after it read the destination. Whichever of the two commits first, the
// write's tags must name the city the destination has when the write
// commits: were they the old city's after UpdateDestination committed, the
// new city's entries cached in between would never be invalidated.
func TestCityChangeDuringWrite(t *testing.T) {
	t.Parallel()
	const oldCity, newCity = "Langkawi", "Alor Setar"
	type write func(ctx context.Context) (db.Change, error)
	post := func(id *int64, text string) []db.PostInput {
		return []db.PostInput{{Source: "t", ExternalID: text, Text: text, PostedAt: dbtest.Epoch.Add(-time.Hour), DestinationID: id}}
	}
	tests := []struct {
		name, dest string
		// pauseAt begins the write's first statement after its destination
		// read: one that locks nothing UpdateDestination needs.
		pauseAt string
		tag     func(city string) string
		prepare func(t *testing.T, s *db.Store, d *db.Destination) write
	}{
		{"ingest by id", "Pantai Cenang", `INSERT INTO "posts"`, db.CityAnalyticsTag,
			func(t *testing.T, s *db.Store, d *db.Destination) write {
				return func(ctx context.Context) (db.Change, error) {
					_, c, err := s.IngestPosts(ctx, post(&d.ID, "by id"))
					return c, err
				}
			}},
		{"ingest matched", "Gunung Jerai", `INSERT INTO "posts"`, db.CityAnalyticsTag,
			func(t *testing.T, s *db.Store, d *db.Destination) write {
				return func(ctx context.Context) (db.Change, error) {
					_, c, err := s.IngestPosts(ctx, post(nil, "Sunrise on Gunung Jerai"))
					return c, err
				}
			}},
		{"create property", "Tasik Pedu", `INSERT INTO "properties"`, db.CityPropertiesTag,
			func(t *testing.T, s *db.Store, d *db.Destination) write {
				return func(ctx context.Context) (db.Change, error) {
					_, c, err := s.CreateProperty(ctx, db.PropertyInput{Title: "Chalet", Price: 100, Location: "Jalan 1", DestinationID: &d.ID})
					return c, err
				}
			}},
		{"update property onto destination", "Pulau Payar", `UPDATE "properties"`, db.CityPropertiesTag,
			func(t *testing.T, s *db.Store, d *db.Destination) write {
				p := mustProperty(t, s, db.PropertyInput{Title: "Villa", Price: 200})
				return func(ctx context.Context) (db.Change, error) {
					_, c, err := s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{DestinationID: &d.ID})
					return c, err
				}
			}},
		{"update property off destination", "Bukit Hijau", `UPDATE "properties"`, db.CityPropertiesTag,
			func(t *testing.T, s *db.Store, d *db.Destination) write {
				p := mustProperty(t, s, db.PropertyInput{Title: "Homestay", Price: 300, DestinationID: &d.ID})
				return func(ctx context.Context) (db.Change, error) {
					_, c, err := s.UpdateProperty(ctx, p.ID, db.PropertyUpdate{ClearDestination: true})
					return c, err
				}
			}},
		{"delete property", "Telaga Tujuh", `INSERT INTO "cache_outbox"`, db.CityPropertiesTag,
			func(t *testing.T, s *db.Store, d *db.Destination) write {
				p := mustProperty(t, s, db.PropertyInput{Title: "Shoplot", Price: 400, DestinationID: &d.ID})
				return func(ctx context.Context) (db.Change, error) { return s.DeleteProperty(ctx, p.ID) }
			}},
	}
	type result struct {
		change db.Change
		err    error
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		s.DB.AddQueryHook(pauseHook{})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				d := mustDestination(t, s, tt.dest, oldCity, db.CategoryNature)
				w := tt.prepare(t, s, d)
				paused, reached, release := pauseBefore(ctx, tt.pauseAt)
				defer release()
				wrote := make(chan result, 1)
				go func() {
					c, err := w(paused)
					wrote <- result{c, err}
				}()
				select {
				case <-reached:
				case r := <-wrote:
					t.Fatalf("the write did not pause before %s: %+v", tt.pauseAt, r)
				}
				updated := make(chan result, 1)
				go func() {
					_, c, err := s.UpdateDestination(ctx, d.ID, db.DestinationUpdate{City: ptr(newCity)})
					updated <- result{c, err}
				}()
				var upd result
				updateFirst := waitLockedOrDone(t, s, updated, &upd)
				release()
				wr := <-wrote
				if !updateFirst {
					upd = <-updated
				}
				if wr.err != nil || upd.err != nil {
					t.Fatalf("write: %v; update destination: %v", wr.err, upd.err)
				}
				city, order := oldCity, "after"
				if updateFirst {
					city, order = newCity, "before"
				}
				if !slices.Contains(wr.change.Tags, tt.tag(city)) {
					t.Fatalf("UpdateDestination committed %s the write, whose tags %q lack %q", order, wr.change.Tags, tt.tag(city))
				}
				if !slices.Contains(upd.change.Tags, tt.tag(newCity)) || !slices.Contains(upd.change.Tags, tt.tag(oldCity)) {
					t.Fatalf("UpdateDestination tags %q lack its cities", upd.change.Tags)
				}
			})
		}
	})
}

// TestDeleteDestinationDuringPropertyWrite deletes a destination while a
// write of one of its properties holds the property's row and is about to
// read (and on PostgreSQL share-lock) the destination. Both must succeed:
// DeleteDestination locks the properties it detaches before the
// destination, the order of property writes, so the two cannot deadlock.
func TestDeleteDestinationDuringPropertyWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(ctx context.Context, s *db.Store, id int64) error
	}{
		{"update property", func(ctx context.Context, s *db.Store, id int64) error {
			_, _, err := s.UpdateProperty(ctx, id, db.PropertyUpdate{ClearDestination: true})
			return err
		}},
		{"delete property", func(ctx context.Context, s *db.Store, id int64) error {
			_, err := s.DeleteProperty(ctx, id)
			return err
		}},
	}
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		s.DB.AddQueryHook(pauseHook{})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				d := mustDestination(t, s, "Pantai "+tt.name, "Langkawi", db.CategoryBeach)
				p := mustProperty(t, s, db.PropertyInput{Title: "Chalet", Price: 100, DestinationID: &d.ID})
				paused, reached, release := pauseBefore(ctx, `SELECT "destination".`)
				defer release()
				wrote := make(chan error, 1)
				go func() { wrote <- tt.write(paused, s, p.ID) }()
				select {
				case <-reached:
				case err := <-wrote:
					t.Fatalf("the write did not pause before reading the destination: %v", err)
				}
				deleted := make(chan error, 1)
				go func() {
					_, err := s.DeleteDestination(ctx, d.ID)
					deleted <- err
				}()
				var delErr error
				deleteFirst := waitLockedOrDone(t, s, deleted, &delErr)
				release()
				writeErr := <-wrote
				if !deleteFirst {
					delErr = <-deleted
				}
				if writeErr != nil || delErr != nil {
					t.Fatalf("property write: %v; delete destination: %v", writeErr, delErr)
				}
				if got, err := s.FindDestinationsByIDs(ctx, []int64{d.ID}); err != nil || len(got) != 0 {
					t.Fatalf("destination left: %v %v", got, err)
				}
			})
		}
	})
}

func TestFindDestinationIDs(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		type spec struct {
			name, city string
			cat        db.Category
		}
		specs := []spec{
			{"Tanjung Rhu", "Langkawi", db.CategoryBeach},
			{"Balai Besar", "Alor Setar", db.CategoryCulture},
			{"Pantai Merdeka", "Sungai Petani", db.CategoryBeach},
			{"Alor Setar Tower", "Alor Setar", db.CategoryAttraction},
			{"Pantai Cenang", "Langkawi", db.CategoryBeach},
			{"Zahir Mosque", "Alor Setar", db.CategoryCulture},
			{"Muzium Padi", "Alor  SETAR", db.CategoryCulture},
			{"Pantai Cenang", "Langkawi", db.CategoryBeach}, // same name: ordered by id
		}
		ids := map[string][]int64{}
		for _, sp := range specs {
			d := mustDestination(t, s, sp.name, sp.city, sp.cat)
			ids[sp.name] = append(ids[sp.name], d.ID)
		}
		byName := func(names ...string) []int64 {
			var out []int64
			for _, n := range names {
				out = append(out, ids[n]...)
			}
			return out
		}
		tests := []struct {
			name string
			f    db.DestinationFilter
			want []int64
		}{
			{"all", db.DestinationFilter{}, byName("Alor Setar Tower", "Balai Besar", "Muzium Padi", "Pantai Cenang",
				"Pantai Merdeka", "Tanjung Rhu", "Zahir Mosque")},
			{"city by slug", db.DestinationFilter{City: ptr("alor setar")}, byName("Alor Setar Tower", "Balai Besar", "Muzium Padi", "Zahir Mosque")},
			{"category", db.DestinationFilter{Category: ptr(db.CategoryBeach)}, byName("Pantai Cenang", "Pantai Merdeka", "Tanjung Rhu")},
			{"city and category", db.DestinationFilter{City: ptr("Alor-Setar"), Category: ptr(db.CategoryCulture)}, byName("Balai Besar", "Muzium Padi", "Zahir Mosque")},
			{"nothing", db.DestinationFilter{City: ptr("Kulim")}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, size := range []int{1, 2, 3, 100} {
					var got []int64
					after := ""
					for pages := 0; ; pages++ {
						page, err := s.FindDestinationIDs(ctx, tt.f, db.Page{First: size, After: after})
						if err != nil {
							t.Fatal(err)
						}
						if page.TotalCount != len(tt.want) || len(page.IDs) != len(page.Cursors) || len(page.IDs) > size {
							t.Fatalf("page %+v: total want %d", page, len(tt.want))
						}
						got = append(got, page.IDs...)
						if !page.HasNext {
							break
						}
						after = page.Cursors[len(page.Cursors)-1]
					}
					if !slices.Equal(got, tt.want) {
						t.Fatalf("size %d: ids = %v, want %v", size, got, tt.want)
					}
				}
				empty, err := s.FindDestinationIDs(ctx, tt.f, db.Page{First: 0})
				if err != nil || len(empty.IDs) != 0 || empty.TotalCount != len(tt.want) || empty.HasNext != (len(tt.want) > 0) {
					t.Fatalf("First 0: %+v, %v", empty, err)
				}
			})
		}
		t.Run("bad input", func(t *testing.T) {
			_, err := s.FindDestinationIDs(ctx, db.DestinationFilter{}, db.Page{First: 2, After: "%%%"})
			wantInputError(t, err, "after")
			mustProperty(t, s, db.PropertyInput{Title: "House", Price: 1})
			props, err := s.FindPropertyIDs(ctx, db.PropertyFilter{}, db.OrderNewest, db.Page{First: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.FindDestinationIDs(ctx, db.DestinationFilter{}, db.Page{First: 2, After: props.Cursors[0]})
			wantInputError(t, err, "after")
			_, err = s.FindDestinationIDs(ctx, db.DestinationFilter{Category: ptr(db.Category("CASTLE"))}, db.Page{First: 2})
			wantInputError(t, err, "category")
		})
	})
}

func TestFindDestinationsByIDs(t *testing.T) {
	t.Parallel()
	dbtest.EachStore(t, func(t *testing.T, s *db.Store, clock *dbtest.Clock) {
		ctx := context.Background()
		a := mustDestination(t, s, "Gunung Jerai", "Yan", db.CategoryNature)
		b := mustDestination(t, s, "Telaga Tujuh", "Langkawi", db.CategoryNature)
		qc := counter(s)
		got, err := s.FindDestinationsByIDs(ctx, []int64{b.ID, 999, a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if n := qc.Count(); n != 1 {
			t.Fatalf("statements = %d, want 1", n)
		}
		ids := []int64{got[0].ID, got[1].ID}
		slices.Sort(ids)
		if len(got) != 2 || !slices.Equal(ids, []int64{a.ID, b.ID}) {
			t.Fatalf("got %v", got)
		}
		all, err := s.ListDestinations(ctx)
		if err != nil || len(all) != 2 || all[0].ID != a.ID {
			t.Fatalf("ListDestinations = %v, %v", all, err)
		}
	})
}
