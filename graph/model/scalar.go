package model

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/kedahpulse/kedahpulse/db"
)

// MarshalID writes an int64 id as a GraphQL ID string.
func MarshalID(id int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.Quote(strconv.FormatInt(id, 10))) })
}

// numberText returns the exact text of a string or number input value.
// JSON numbers arrive as json.Number and keep their text; literals in the
// query arrive as int64 or float64, formatted back to their shortest exact
// text.
func numberText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// UnmarshalID accepts a positive decimal id as a string or an integer.
func UnmarshalID(v any) (int64, error) {
	s, ok := numberText(v)
	if !ok {
		return 0, db.Invalid("", "invalid ID %v: want a positive integer", v)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, db.Invalid("", "invalid ID %q: want a positive integer", s)
	}
	return id, nil
}

// MarshalDecimal writes money as a string with two decimals.
func MarshalDecimal(m db.Money) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.Quote(m.String())) })
}

// UnmarshalDecimal accepts "250000.5", 250000.5 or 250000 with at most two
// decimals.
func UnmarshalDecimal(v any) (db.Money, error) {
	s, ok := numberText(v)
	if !ok {
		return 0, db.Invalid("", "invalid Decimal %v: want a string or number", v)
	}
	m, err := db.ParseMoney(s)
	if err != nil {
		return 0, db.Invalid("", "%s", err.Error())
	}
	return m, nil
}

// MarshalTime writes t in UTC as RFC 3339 (with fractional seconds only when
// present).
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime accepts an RFC 3339 string.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, db.Invalid("", "invalid Time %v: want an RFC 3339 string", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, db.Invalid("", "invalid Time %q: want RFC 3339, e.g. 2026-01-02T15:04:05Z", s)
	}
	return t.UTC(), nil
}

// IngestResult answers ingestPosts.
type IngestResult struct {
	Received        int      `json:"received"`
	Stored          int      `json:"stored"`
	Duplicates      int      `json:"duplicates"`
	InvalidatedTags []string `json:"invalidatedTags"`
}
