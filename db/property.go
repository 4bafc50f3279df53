package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// FindPropertiesByIDs returns the properties with the given ids in one
// statement, in no particular order; missing ids are left out.
func (s *Store) FindPropertiesByIDs(ctx context.Context, ids []int64) ([]*Property, error) {
	props := []*Property{}
	if len(ids) == 0 {
		return props, nil
	}
	err := s.DB.NewSelect().Model(&props).ExcludeColumn("search_text").Where("id IN (?)", bun.In(ids)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: find properties: %w", err)
	}
	return props, nil
}

// FindPropertyIDs returns a page of the ids of the properties matching f in
// order (NEWEST when empty), paged by keyset cursor, with their count.
func (s *Store) FindPropertyIDs(ctx context.Context, f PropertyFilter, order PropertyOrder, p Page) (*IDPage, error) {
	return s.findPropertyIDs(ctx, f, order, p, true)
}

// FindPropertyIDsByArgs returns the page a describes; its TotalCount is
// counted only when a.Count is set (0 otherwise), since counting the
// matches of a search costs more than reading its first page.
func (s *Store) FindPropertyIDsByArgs(ctx context.Context, a PropertyArgs) (*IDPage, error) {
	return s.findPropertyIDs(ctx, a.Filter(), a.Order, a.Page(), a.Count)
}

func (s *Store) findPropertyIDs(ctx context.Context, f PropertyFilter, order PropertyOrder, p Page, count bool) (*IDPage, error) {
	if order == "" {
		order = OrderNewest
	}
	var keyCol, cmp, dir string
	switch order {
	case OrderNewest:
		keyCol, cmp, dir = "p.created_at", "<", "DESC"
	case OrderPriceAsc:
		keyCol, cmp, dir = "p.price_cents", ">", "ASC"
	case OrderPriceDesc:
		keyCol, cmp, dir = "p.price_cents", "<", "DESC"
	default:
		return nil, Invalid("orderBy", "unknown order %q", order)
	}
	if err := checkFirst(p.First); err != nil {
		return nil, err
	}
	after, hasAfter, err := pageAfter(p, string(order))
	if err != nil {
		return nil, err
	}
	if err := checkCityFilter("filter.city", f.City); err != nil {
		return nil, err
	}
	search, err := s.searchOf(f.Search)
	if err != nil {
		return nil, err
	}
	// where selects from "properties AS p" the rows matching f, finding
	// the matches of a search through its index when indexed.
	where := func(q *bun.SelectQuery, f PropertyFilter, indexed bool) *bun.SelectQuery {
		q = q.TableExpr("properties AS p")
		if f.DestinationID != nil {
			q = q.Where("p.destination_id = ?", *f.DestinationID)
		}
		if f.City != nil {
			q = q.Where("p.destination_id IN (SELECT d.id FROM destinations AS d WHERE d.city_slug = ?)", CitySlug(*f.City))
		}
		if f.MinPrice != nil {
			q = q.Where("p.price_cents >= ?", int64(*f.MinPrice))
		}
		if f.MaxPrice != nil {
			q = q.Where("p.price_cents <= ?", int64(*f.MaxPrice))
		}
		return search.where(q, indexed)
	}
	filter := func(q *bun.SelectQuery, indexed bool) *bun.SelectQuery { return where(q, f, indexed) }
	// page selects the page's rows in order, without their limit.
	page := func(indexed bool) *bun.SelectQuery {
		q := filter(s.DB.NewSelect(), indexed).Column("p.id", "p.created_at", "p.price_cents").
			OrderExpr(keyCol + " " + dir + ", p.id " + dir)
		if hasAfter {
			var key any = after.Int
			if order == OrderNewest {
				key = microTime(after.Int)
			}
			q = q.Where("("+keyCol+", p.id) "+cmp+" (?, ?)", key, after.ID)
		}
		return q
	}
	var rows []struct {
		ID         int64
		CreatedAt  time.Time
		PriceCents int64
		Total      int64
	}
	limit := int64(p.First) + 1
	var q *bun.SelectQuery
	if search.phrase == "" {
		q = page(true).Limit(limit)
	} else {
		q = search.split(s.DB, page, limit).
			Column("p.id", "p.created_at", "p.price_cents").OrderExpr(keyCol + " " + dir + ", p.id " + dir)
	}
	var total *bun.SelectQuery
	if count {
		// The total rides along as a scalar subquery, so a page is one statement.
		total = propertyCount(s.DB, f, func(q *bun.SelectQuery, f PropertyFilter) *bun.SelectQuery { return where(q, f, true) })
		q = q.ColumnExpr("(?) AS total", total)
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("db: find properties: %w", err)
	}
	out := &IDPage{IDs: []int64{}, Cursors: []string{}}
	if count {
		if out.TotalCount, err = totalOf(ctx, rows, func(i int) int64 { return rows[i].Total }, total); err != nil {
			return nil, fmt.Errorf("db: find properties: %w", err)
		}
	}
	for i, r := range rows {
		if i == p.First {
			out.HasNext = true
			break
		}
		c := cursor{Order: string(order), Int: r.PriceCents, ID: r.ID}
		if order == OrderNewest {
			c.Int = r.CreatedAt.UnixMicro()
		}
		out.IDs = append(out.IDs, r.ID)
		out.Cursors = append(out.Cursors, encodeCursor(c))
	}
	return out, nil
}

// propertyCount selects the number of properties matching f, where(q, f)
// selecting them. A price bound that excludes no listing (a maxPrice at or
// above the highest price, a minPrice at or below the lowest: MAX and MIN
// read one end of the price index) is left out of the count, which then
// costs no step per listing it keeps: with no other condition SQLite
// counts the pages of an index rather than its entries. Both branches
// count the same rows.
func propertyCount(db bun.IDB, f PropertyFilter, where func(*bun.SelectQuery, PropertyFilter) *bun.SelectQuery) *bun.SelectQuery {
	counted := where(db.NewSelect(), f).ColumnExpr("COUNT(*)")
	if f.MinPrice == nil && f.MaxPrice == nil {
		return counted
	}
	var open []string
	var args []any
	if f.MinPrice != nil {
		open = append(open, "? <= (SELECT MIN(price_cents) FROM properties)")
		args = append(args, int64(*f.MinPrice))
	}
	if f.MaxPrice != nil {
		open = append(open, "? >= (SELECT MAX(price_cents) FROM properties)")
		args = append(args, int64(*f.MaxPrice))
	}
	unbounded := f
	unbounded.MinPrice, unbounded.MaxPrice = nil, nil
	args = append(args, where(db.NewSelect(), unbounded).ColumnExpr("COUNT(*)"), counted)
	return db.NewSelect().ColumnExpr("CASE WHEN "+strings.Join(open, " AND ")+" THEN (?) ELSE (?) END", args...)
}

// FindPropertyIDsByDestinations returns, in one statement, the ids of at
// most first properties of each destination, newest first. Every requested
// id is a key of the result.
func (s *Store) FindPropertyIDsByDestinations(ctx context.Context, destIDs []int64, first int) (map[int64][]int64, error) {
	out := make(map[int64][]int64, len(destIDs))
	for _, id := range destIDs {
		out[id] = []int64{}
	}
	if len(destIDs) == 0 || first <= 0 {
		return out, nil
	}
	var rows []struct {
		ID            int64
		DestinationID int64
	}
	err := s.DB.NewRaw(`SELECT id, destination_id FROM (
	SELECT p.id, p.destination_id,
		ROW_NUMBER() OVER (PARTITION BY p.destination_id ORDER BY p.created_at DESC, p.id DESC) AS rn
	FROM properties AS p
	WHERE p.destination_id IN (?)
) AS ranked
WHERE rn <= ?
ORDER BY destination_id, rn`, bun.In(destIDs), first).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: find properties by destinations: %w", err)
	}
	for _, r := range rows {
		out[r.DestinationID] = append(out[r.DestinationID], r.ID)
	}
	return out, nil
}

// Search checks a client's search text and returns it as the search
// compares it: trimmed and folded (FoldText); "" when it is blank. The API
// keys its cache on this form, so searches that fold alike share an entry.
func Search(s string) (string, error) {
	s, err := text("filter.search", s, 0, MaxSearch)
	if err != nil {
		return "", err
	}
	return FoldText(s), nil
}

// search is the condition a search adds to a query of "properties AS p"
// (none when pattern is ""). A match is a substring of search_text
// (escaped LIKE, '!' its escape character), on both dialects. The trigram
// indexes of migrateSearchIndex only narrow the rows LIKE checks:
// PostgreSQL's planner uses its pg_trgm index for the LIKE itself; on
// SQLite the FTS5 trigram table is asked for the ids whose text holds the
// search as a phrase of trigrams (phrase), which every substring of 3 or
// more characters is. A shorter search has no trigram and keeps the plain
// LIKE, whose scan in the page's order stops at the page's end.
type search struct {
	pattern string
	phrase  string // the FTS5 phrase on SQLite; "" when no FTS5 index serves the search
}

// searchOf checks a search and returns its condition.
func (s *Store) searchOf(text *string) (search, error) {
	if text == nil {
		return search{}, nil
	}
	folded, err := Search(*text)
	if err != nil || folded == "" {
		return search{}, err
	}
	out := search{pattern: "%" + escapeLike(folded) + "%"}
	if !s.isPG() && utf8.RuneCountInString(folded) >= 3 {
		out.phrase = ftsPhrase(folded)
	}
	return out, nil
}

// where adds the condition to q, through the FTS5 index when indexed.
func (c search) where(q *bun.SelectQuery, indexed bool) *bun.SelectQuery {
	if c.pattern == "" {
		return q
	}
	if indexed && c.phrase != "" {
		q = q.Where("p.id IN (SELECT rowid FROM properties_search WHERE properties_search MATCH ?)", c.phrase)
	}
	return q.Where("p.search_text LIKE ? ESCAPE '!'", c.pattern)
}

// candidatesPerRow bounds the FTS5 candidates a page may check per row it
// returns: a search with fewer candidates reads them all through the index
// and sorts them; one with more is common enough that the scan in the
// page's order finds a page within about candidatesPerRow times its rows
// per candidate.
const candidatesPerRow = 20

// split selects, as p, the first limit rows of page: through the index
// when the search has at most candidatesPerRow·limit candidates, by the
// ordered scan otherwise. Both run in one statement: a probe asks once (a
// CTE used twice is materialised) whether a candidate lies beyond the
// bound, and each branch's LIMIT is 0 unless it is the one chosen, so the
// other stops before reading a row. The caller orders p again (only one
// branch returns rows, in order).
func (c search) split(idb bun.IDB, page func(indexed bool) *bun.SelectQuery, limit int64) *bun.SelectQuery {
	probe := idb.NewSelect().ColumnExpr("EXISTS (SELECT 1 FROM properties_search WHERE properties_search MATCH ? LIMIT 1 OFFSET ?) AS common",
		c.phrase, candidatesPerRow*limit)
	return idb.NewSelect().With("search_probe", probe).TableExpr(
		"(SELECT * FROM (? LIMIT CASE WHEN (SELECT common FROM search_probe) THEN 0 ELSE ? END)"+
			" UNION ALL SELECT * FROM (? LIMIT CASE WHEN (SELECT common FROM search_probe) THEN ? ELSE 0 END)) AS p",
		page(true), limit, page(false), limit)
}

// ftsPhrase quotes text as one FTS5 phrase (a double quote doubled).
func ftsPhrase(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
}

// FoldText is the case folding of text search, applied alike to the text
// stored in search_text and to every search, in Go so that both dialects
// answer the same whatever the database's locale: Unicode full case
// folding of the canonical decomposition, recomposed (NFC). "CAFÉ", "Café"
// and "cafe\u0301" fold to "café", "STRASSE" and "straße" to "strasse".
// A dot above an i or j is dropped (they are dotted already), so that
// "İSTANBUL" folds to "istanbul". Control characters (tabs, line breaks)
// fold to spaces, so no search can span the line break searchText puts
// between a title and a description.
func FoldText(s string) string {
	folded := cases.Fold().String(norm.NFD.String(s))
	folded = softDotted.Replace(folded)
	return norm.NFC.String(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, folded))
}

// softDotted drops the combining dot above (U+0307) after i and j.
var softDotted = strings.NewReplacer("i\u0307", "i", "j\u0307", "j")

// searchText is what the search_text column holds for a property.
func searchText(title, description string) string {
	return FoldText(title) + "\n" + FoldText(description)
}

type propertyFields struct {
	Title, Description, Location string
}

func checkPropertyText(title, description, location *string) (propertyFields, error) {
	var f propertyFields
	var err error
	if title != nil {
		if f.Title, err = text("title", *title, 1, MaxTitle); err != nil {
			return f, err
		}
	}
	if description != nil {
		if f.Description, err = text("description", *description, 0, MaxDescription); err != nil {
			return f, err
		}
	}
	if location != nil {
		if f.Location, err = text("location", *location, 1, MaxLocation); err != nil {
			return f, err
		}
	}
	return f, nil
}

// CreateProperty validates in and inserts a property.
func (s *Store) CreateProperty(ctx context.Context, in PropertyInput) (*Property, Change, error) {
	f, err := checkPropertyText(&in.Title, &in.Description, &in.Location)
	if err != nil {
		return nil, Change{}, err
	}
	if err := checkPrice("price", in.Price); err != nil {
		return nil, Change{}, err
	}
	p := &Property{Title: f.Title, Description: f.Description, Location: f.Location, Price: in.Price,
		DestinationID: in.DestinationID}
	var change Change
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		tags := tagSet{}
		if p.DestinationID != nil {
			dests, err := s.shareDestinations(ctx, tx, []int64{*p.DestinationID})
			if err != nil {
				return err
			}
			d := dests[*p.DestinationID]
			if d == nil {
				return Invalid("destinationId", "destination %d does not exist", *p.DestinationID)
			}
			tags.add(DestinationPropertiesTag(d.ID), CityPropertiesTag(d.City))
		}
		p.CreatedAt = s.now()
		p.UpdatedAt = p.CreatedAt
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return err
		}
		tags.add(PropertyTag(p.ID), TagProperties)
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return nil, Change{}, wrapWrite("create property", err)
	}
	return p, change, nil
}

// UpdateProperty changes the non-nil fields of property id.
func (s *Store) UpdateProperty(ctx context.Context, id int64, u PropertyUpdate) (*Property, Change, error) {
	f, err := checkPropertyText(u.Title, u.Description, u.Location)
	if err != nil {
		return nil, Change{}, err
	}
	if u.Price != nil {
		if err := checkPrice("price", *u.Price); err != nil {
			return nil, Change{}, err
		}
	}
	if u.ClearDestination && u.DestinationID != nil {
		return nil, Change{}, Invalid("destinationId", "cannot both set and clear the destination")
	}
	var p *Property
	var change Change
	err = s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		old, err := s.lockProperty(ctx, tx, id)
		if err != nil {
			return err
		}
		next := *old
		if u.Title != nil {
			next.Title = f.Title
		}
		if u.Description != nil {
			next.Description = f.Description
		}
		if u.Location != nil {
			next.Location = f.Location
		}
		if u.Price != nil {
			next.Price = *u.Price
		}
		if u.DestinationID != nil {
			next.DestinationID = u.DestinationID
		}
		if u.ClearDestination {
			next.DestinationID = nil
		}
		tags := tagSet{}
		if next.Price != old.Price {
			tags.add(TagPropertiesPrice)
		}
		if next.Title != old.Title || next.Description != old.Description {
			tags.add(TagPropertiesText)
		}
		if !equalIDPtr(next.DestinationID, old.DestinationID) {
			var ids []int64
			for _, did := range []*int64{old.DestinationID, next.DestinationID} {
				if did != nil {
					ids = append(ids, *did)
				}
			}
			dests, err := s.shareDestinations(ctx, tx, ids)
			if err != nil {
				return err
			}
			if next.DestinationID != nil && dests[*next.DestinationID] == nil {
				return Invalid("destinationId", "destination %d does not exist", *next.DestinationID)
			}
			// The old destination cannot be missing: DeleteDestination
			// locks this property's row, which we hold, before its own.
			for _, d := range dests {
				tags.add(DestinationPropertiesTag(d.ID), CityPropertiesTag(d.City))
			}
		}
		if len(tags) == 0 && next.Location == old.Location {
			p = old
			return nil // nothing changes: no write, no tags
		}
		tags.add(PropertyTag(id))
		next.UpdatedAt = s.now()
		p = &next
		if _, err := tx.NewUpdate().Model(p).
			Column("title", "description", "search_text", "price_cents", "location", "destination_id", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return err
		}
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return nil, Change{}, wrapWrite(fmt.Sprintf("update property %d", id), err)
	}
	return p, change, nil
}

// DeleteProperty deletes property id.
func (s *Store) DeleteProperty(ctx context.Context, id int64) (Change, error) {
	var change Change
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		old, err := s.lockProperty(ctx, tx, id)
		if err != nil {
			return err
		}
		tags := tagSet{}
		tags.add(PropertyTag(id), TagProperties)
		if old.DestinationID != nil {
			dests, err := s.shareDestinations(ctx, tx, []int64{*old.DestinationID})
			if err != nil {
				return err
			}
			// Its destination cannot be missing: DeleteDestination locks
			// this property's row, which we hold, before its own.
			for _, d := range dests {
				tags.add(DestinationPropertiesTag(d.ID), CityPropertiesTag(d.City))
			}
		}
		if _, err := tx.NewDelete().Model(old).WherePK().Exec(ctx); err != nil {
			return err
		}
		change, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return Change{}, wrapWrite(fmt.Sprintf("delete property %d", id), err)
	}
	return change, nil
}

// lockProperty reads property id for update inside tx.
func (s *Store) lockProperty(ctx context.Context, tx bun.Tx, id int64) (*Property, error) {
	p := new(Property)
	err := s.forUpdate(tx.NewSelect().Model(p).Where("id = ?", id)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return p, err
}
