package db

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/uptrace/bun"
)

// Cursor orders: the property orders plus the fixed orders of destination
// and post lists. A cursor carries its order so one from another list or
// order is rejected instead of silently paging wrongly.
const (
	orderDestinationName = "NAME"
	orderPostsNewest     = "POSTED"
)

// cursor is the keyset position of a row: its sort key (Int for times as
// unix microseconds and for cents, Str for names) and its id.
type cursor struct {
	Order string
	Int   int64
	Str   string
	ID    int64
}

// encodeCursor is base64url (unpadded) of: uvarint len(Order), Order,
// varint Int, varint ID, then Str to the end.
func encodeCursor(c cursor) string {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(c.Order)+len(c.Str)+1)
	b = binary.AppendUvarint(b, uint64(len(c.Order)))
	b = append(b, c.Order...)
	b = binary.AppendVarint(b, c.Int)
	b = binary.AppendVarint(b, c.ID)
	b = append(b, c.Str...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses s, which must be a cursor of order whose key is one
// a row can have. Anything else is an *InputError on field "after".
func decodeCursor(s, order string) (cursor, error) {
	bad := Invalid("after", "invalid cursor")
	if checkText("after", s, 1, MaxCursor) != nil {
		return cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return cursor{}, bad
	}
	b = b[k:]
	c := cursor{Order: string(b[:n])}
	b = b[n:]
	if c.Int, k = binary.Varint(b); k <= 0 {
		return cursor{}, bad
	}
	b = b[k:]
	if c.ID, k = binary.Varint(b); k <= 0 {
		return cursor{}, bad
	}
	c.Str = string(b[k:])
	if checkText("after", c.Str, 0, MaxName) != nil {
		return cursor{}, bad
	}
	if c.Order != order {
		return cursor{}, Invalid("after", "cursor is not from this list or order")
	}
	if !c.keyInRange() {
		return cursor{}, bad
	}
	return c, nil
}

// keyInRange reports whether c's Int key is one a row of its order can
// have: a time both dialects accept (PostgreSQL fails on years before 1)
// or a price.
func (c cursor) keyInRange() bool {
	switch c.Order {
	case string(OrderNewest), orderPostsNewest:
		return c.Int >= minTime.UnixMicro() && c.Int <= maxTime.UnixMicro()
	case string(OrderPriceAsc), string(OrderPriceDesc):
		return c.Int >= 0 && c.Int < int64(MaxMoney)
	}
	return true
}

// pageAfter decodes p.After when set; ok is false for the first page.
func pageAfter(p Page, order string) (c cursor, ok bool, err error) {
	if p.After == "" {
		return cursor{}, false, nil
	}
	c, err = decodeCursor(p.After, order)
	return c, err == nil, err
}

func microTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// totalOf returns the total carried by a page's first row, or runs
// countQuery (which selects the count) when the page is empty (past the
// end, or first is 0).
func totalOf[T any](ctx context.Context, rows []T, total func(int) int64, countQuery *bun.SelectQuery) (int, error) {
	if len(rows) > 0 {
		return int(total(0)), nil
	}
	var n int64
	err := countQuery.Scan(ctx, &n)
	return int(n), err
}
