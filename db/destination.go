package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// FindDestinationsByIDs returns the destinations with the given ids in one
// statement, in no particular order; missing ids are left out.
func (s *Store) FindDestinationsByIDs(ctx context.Context, ids []int64) ([]*Destination, error) {
	dests := []*Destination{}
	if len(ids) == 0 {
		return dests, nil
	}
	if err := s.DB.NewSelect().Model(&dests).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: find destinations: %w", err)
	}
	return dests, nil
}

// FindDestinationBySlug returns the destination with slug or ErrNotFound.
func (s *Store) FindDestinationBySlug(ctx context.Context, slug string) (*Destination, error) {
	if err := checkText("slug", slug, 0, MaxSlug); err != nil {
		return nil, err
	}
	d := new(Destination)
	err := s.DB.NewSelect().Model(d).Where("slug = ?", slug).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: find destination %q: %w", slug, err)
	}
	return d, nil
}

// ListDestinations returns every destination ordered by id.
func (s *Store) ListDestinations(ctx context.Context) ([]*Destination, error) {
	dests, err := listDestinations(ctx, s.DB)
	if err != nil {
		return nil, fmt.Errorf("db: list destinations: %w", err)
	}
	return dests, nil
}

func listDestinations(ctx context.Context, idb bun.IDB) ([]*Destination, error) {
	dests := []*Destination{}
	err := idb.NewSelect().Model(&dests).Order("id").Scan(ctx)
	return dests, err
}

// FindDestinationIDs returns a page of destination ids ordered by name, id.
func (s *Store) FindDestinationIDs(ctx context.Context, f DestinationFilter, p Page) (*IDPage, error) {
	if err := checkFirst(p.First); err != nil {
		return nil, err
	}
	if err := checkDestinationFilter(f); err != nil {
		return nil, err
	}
	after, hasAfter, err := pageAfter(p, orderDestinationName)
	if err != nil {
		return nil, err
	}
	filter := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.TableExpr("destinations AS d")
		if f.City != nil {
			q = q.Where("d.city_slug = ?", CitySlug(*f.City))
		}
		if f.Category != nil {
			q = q.Where("d.category = ?", *f.Category)
		}
		return q
	}
	var rows []struct {
		ID    int64
		Name  string
		Total int64
	}
	// The total rides along as a scalar subquery, so a page is one statement.
	count := filter(s.DB.NewSelect()).ColumnExpr("COUNT(*)")
	q := filter(s.DB.NewSelect()).Column("d.id", "d.name").
		ColumnExpr("(?) AS total", count).
		OrderExpr("d.name ASC, d.id ASC").Limit(int64(p.First) + 1)
	if hasAfter {
		q = q.Where("(d.name, d.id) > (?, ?)", after.Str, after.ID)
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("db: find destinations: %w", err)
	}
	total, err := totalOf(ctx, rows, func(i int) int64 { return rows[i].Total }, count)
	if err != nil {
		return nil, fmt.Errorf("db: find destinations: %w", err)
	}
	page := &IDPage{IDs: []int64{}, Cursors: []string{}, TotalCount: total}
	for i, r := range rows {
		if i == p.First {
			page.HasNext = true
			break
		}
		page.IDs = append(page.IDs, r.ID)
		page.Cursors = append(page.Cursors, encodeCursor(cursor{Order: orderDestinationName, Str: r.Name, ID: r.ID}))
	}
	return page, nil
}

// CreateDestination validates in and inserts a destination. An empty slug
// is generated from the name, suffixed -2, -3... when taken.
func (s *Store) CreateDestination(ctx context.Context, in DestinationInput) (*Destination, Change, error) {
	d, err := newDestination(in)
	if err != nil {
		return nil, Change{}, err
	}
	var change Change
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if d.Slug == "" {
			if d.Slug, err = freeSlug(ctx, tx, Slugify(d.Name)); err != nil {
				return err
			}
		} else if taken, err := tx.NewSelect().Model((*Destination)(nil)).Where("slug = ?", d.Slug).Exists(ctx); err != nil {
			return err
		} else if taken {
			return Invalid("slug", "already taken")
		}
		d.CreatedAt = s.now()
		d.UpdatedAt = d.CreatedAt
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return Invalid("slug", "already taken")
			}
			return err
		}
		tags := tagSet{}
		tags.add(DestinationTag(d.ID), TagDestinations)
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return nil, Change{}, wrapWrite("create destination", err)
	}
	return d, change, nil
}

func newDestination(in DestinationInput) (*Destination, error) {
	d := &Destination{Category: in.Category, Latitude: in.Latitude, Longitude: in.Longitude}
	var err error
	if d.Name, err = text("name", in.Name, 1, MaxName); err != nil {
		return nil, err
	}
	if d.Slug = strings.TrimSpace(in.Slug); d.Slug != "" {
		if len(d.Slug) > MaxSlug {
			return nil, Invalid("slug", "must be at most %d characters", MaxSlug)
		}
		if !slugRE.MatchString(d.Slug) {
			return nil, Invalid("slug", "must be lower-case letters and digits joined by single dashes")
		}
	}
	if d.City, err = checkCity(in.City); err != nil {
		return nil, err
	}
	d.CitySlug = CitySlug(d.City)
	if err := checkCategory("category", d.Category); err != nil {
		return nil, err
	}
	if d.Description, err = text("description", in.Description, 0, MaxDescription); err != nil {
		return nil, err
	}
	if err := checkCoord("latitude", d.Latitude, 90); err != nil {
		return nil, err
	}
	if err := checkCoord("longitude", d.Longitude, 180); err != nil {
		return nil, err
	}
	return d, nil
}

// checkDestinationFilter checks the city and category of f.
func checkDestinationFilter(f DestinationFilter) error {
	if err := checkCityFilter("city", f.City); err != nil {
		return err
	}
	if f.Category != nil {
		return checkCategory("category", *f.Category)
	}
	return nil
}

func checkCity(city string) (string, error) {
	city, err := text("city", city, 1, MaxCity)
	if err != nil {
		return "", err
	}
	if CitySlug(city) == "" {
		return "", Invalid("city", "must contain a letter or digit")
	}
	return city, nil
}

// freeSlug returns base, or base-2, base-3... whichever is free first.
func freeSlug(ctx context.Context, idb bun.IDB, base string) (string, error) {
	const room = len("-99999")
	if len(base) > MaxSlug-room {
		base = strings.TrimRight(base[:MaxSlug-room], "-")
	}
	if base == "" {
		base = "destination"
	}
	var taken []string
	err := idb.NewSelect().Model((*Destination)(nil)).Column("slug").
		Where("slug = ? OR slug LIKE ?", base, base+"-%").Scan(ctx, &taken)
	if err != nil {
		return "", err
	}
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	slug := base
	for n := 2; used[slug]; n++ {
		slug = base + "-" + strconv.Itoa(n)
	}
	return slug, nil
}

// UpdateDestination changes the non-nil fields of destination id.
func (s *Store) UpdateDestination(ctx context.Context, id int64, u DestinationUpdate) (*Destination, Change, error) {
	var change Change
	var d *Destination
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		old, err := s.lockDestination(ctx, tx, id)
		if err != nil {
			return err
		}
		next := *old
		var err2 error
		if u.Name != nil {
			if next.Name, err2 = text("name", *u.Name, 1, MaxName); err2 != nil {
				return err2
			}
		}
		if u.City != nil {
			if next.City, err2 = checkCity(*u.City); err2 != nil {
				return err2
			}
			next.CitySlug = CitySlug(next.City)
		}
		if u.Category != nil {
			if err := checkCategory("category", *u.Category); err != nil {
				return err
			}
			next.Category = *u.Category
		}
		if u.Description != nil {
			if next.Description, err2 = text("description", *u.Description, 0, MaxDescription); err2 != nil {
				return err2
			}
		}
		if u.Latitude != nil {
			if err := checkCoord("latitude", u.Latitude, 90); err != nil {
				return err
			}
			next.Latitude = u.Latitude
		}
		if u.Longitude != nil {
			if err := checkCoord("longitude", u.Longitude, 180); err != nil {
				return err
			}
			next.Longitude = u.Longitude
		}
		d = &next
		tags := tagSet{}
		listed := next.Name != old.Name || next.City != old.City || next.Category != old.Category
		if !listed && next.Description == old.Description &&
			equalFloatPtr(next.Latitude, old.Latitude) && equalFloatPtr(next.Longitude, old.Longitude) {
			d = old
			return nil // nothing changes: no write, no tags
		}
		tags.add(DestinationTag(id))
		if listed {
			tags.add(TagDestinations)
		}
		if next.City != old.City {
			tags.add(CityPropertiesTag(old.City), CityAnalyticsTag(old.City),
				CityPropertiesTag(next.City), CityAnalyticsTag(next.City))
		}
		next.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(d).
			Column("name", "city", "city_slug", "category", "description", "latitude", "longitude", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return err
		}
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return nil, Change{}, wrapWrite(fmt.Sprintf("update destination %d", id), err)
	}
	return d, change, nil
}

// DeleteDestination deletes destination id with its posts and rollups. Its
// properties stay, detached (destination_id NULL, updated_at bumped).
func (s *Store) DeleteDestination(ctx context.Context, id int64) (Change, error) {
	var change Change
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The attached properties are locked before the destination, the
		// order of property writes (their row, then shareDestinations), so
		// that the two cannot deadlock. SQLite serialises writes anyway.
		if s.isPG() {
			var attached []int64
			if err := tx.NewSelect().Model((*Property)(nil)).Column("id").Where("destination_id = ?", id).
				Order("id").For("UPDATE").Scan(ctx, &attached); err != nil {
				return fmt.Errorf("lock properties: %w", err)
			}
		}
		d, err := s.lockDestination(ctx, tx, id)
		if err != nil {
			return err
		}
		var detached []int64
		if err := tx.NewUpdate().Model((*Property)(nil)).
			Set("destination_id = NULL").Set("updated_at = ?", s.now()).
			Where("destination_id = ?", id).Returning("id").Scan(ctx, &detached); err != nil {
			return fmt.Errorf("detach properties: %w", err)
		}
		for _, m := range []any{(*postRollup)(nil), (*dailyRollup)(nil), (*spanRollup)(nil), (*seriesRollup)(nil), (*Post)(nil)} {
			if _, err := tx.NewDelete().Model(m).Where("destination_id = ?", id).Exec(ctx); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model(d).WherePK().Exec(ctx); err != nil {
			return err
		}
		tags := tagSet{}
		tags.add(DestinationTag(id), TagDestinations, DestinationPropertiesTag(id), DestinationAnalyticsTag(id),
			CityPropertiesTag(d.City), CityAnalyticsTag(d.City), TagAnalytics)
		for _, p := range detached {
			tags.add(PropertyTag(p))
		}
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return Change{}, wrapWrite(fmt.Sprintf("delete destination %d", id), err)
	}
	return change, nil
}

// lockDestination reads destination id for a write, locking its row on
// PostgreSQL; ErrNotFound when it does not exist.
func (s *Store) lockDestination(ctx context.Context, idb bun.IDB, id int64) (*Destination, error) {
	d := new(Destination)
	err := s.forUpdate(idb.NewSelect().Model(d).Where("id = ?", id)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return d, err
}

// shareDestinations reads the destinations with ids whose fields decide a
// write's tags (a post's or a property's city), keyed by id; missing ids
// are left out. On PostgreSQL the rows stay locked FOR SHARE until the
// write's transaction ends, so an UpdateDestination or DeleteDestination of
// one of them waits for the write to commit, or the write reads the row as
// they committed it: either way the write's tags name the city the
// destination has when the write commits. Rows are locked in id order.
func (s *Store) shareDestinations(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]*Destination, error) {
	byID := make(map[int64]*Destination, len(ids))
	if len(ids) == 0 {
		return byID, nil
	}
	dests := []*Destination{}
	if err := s.forShare(idb.NewSelect().Model(&dests).Where("id IN (?)", bun.In(ids)).Order("id")).Scan(ctx); err != nil {
		return nil, fmt.Errorf("share destinations: %w", err)
	}
	for _, d := range dests {
		byID[d.ID] = d
	}
	return byID, nil
}

// wrapWrite prefixes err with the write's name, leaving an *InputError as
// it is so the API reports the field.
func wrapWrite(op string, err error) error {
	var in *InputError
	if errors.As(err, &in) {
		return err
	}
	return fmt.Errorf("db: %s: %w", op, err)
}
